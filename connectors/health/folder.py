"""Folder mode: which delivered files are complete, and their entries (no Kafka here).

A file is read when its name ends in ``.json`` or ``.ndjson`` (not hidden) and it
is complete: ``<name>.done`` exists beside it, or (unless ``require_done_marker``)
it has not changed for ``settle_s`` seconds. Senders that write slowly or in
bursts should write under another name (``x.ndjson.part``) and rename, or write
the marker last. A ``.json`` file holds a Bundle (its entries are numbered from
0, as FHIRPath numbers ``Bundle.entry``) or one resource (entry 0); an ``.ndjson``
file holds one resource per line (numbered from line 1; blank lines skipped).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from connectors.health import fhir
from connectors.health.fhir import Entry
from schemas.errors import ContractError

SUFFIXES = (".json", ".ndjson")
MARKER = ".done"


@dataclass(frozen=True)
class SourceFile:
    name: str
    path: Path
    size: int
    mtime_ns: int


class FolderSource:
    def __init__(
        self,
        folder: Path,
        settle_s: float,
        require_marker: bool,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.folder = folder
        self.settle_s = settle_s
        self.require_marker = require_marker
        self.clock = clock

    def problems(self) -> list[str]:
        if not self.folder.is_dir():
            return [f"folder {self.folder} does not exist or is not a folder"]
        if not os.access(self.folder, os.R_OK | os.X_OK):
            return [f"folder {self.folder} is not readable"]
        return []

    def ready(self) -> list[SourceFile]:
        """Complete files, by name. Raises OSError when the folder cannot be listed."""
        now = self.clock()
        out: list[SourceFile] = []
        with os.scandir(self.folder) as it:
            names = {d.name: d for d in it if d.is_file()}
        for name, d in names.items():
            if name.startswith(".") or not name.endswith(SUFFIXES):
                continue
            st = d.stat()
            marked = name + MARKER in names
            settled = not self.require_marker and now - st.st_mtime >= self.settle_s
            if marked or settled:
                out.append(SourceFile(name, Path(d.path), st.st_size, st.st_mtime_ns))
        return sorted(out, key=lambda f: f.name)

    @staticmethod
    def sha256(path: Path) -> str:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest()

    @staticmethod
    def entries(path: Path) -> list[Entry]:
        """Every entry of a file, parsed; an unreadable document is one entry with its error."""
        data = path.read_bytes()
        if path.name.endswith(".ndjson"):
            out = []
            for number, line in enumerate(data.splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    raw = json.loads(line)
                except ValueError:
                    bad = Entry(number, {"line": line.decode("utf-8", "replace")})
                    bad.error = ContractError("fhir.json", "the line is not JSON", "line")
                    out.append(bad)
                    continue
                out.append(fhir.parse(number, raw, text=line))
            return out
        try:
            doc = json.loads(data)
            return [fhir.parse(i, raw, url) for i, raw, url in fhir.unwrap(0, doc)]
        except (ValueError, ContractError) as exc:
            bad = Entry(0, {"file": path.name})
            bad.error = (
                exc
                if isinstance(exc, ContractError)
                else ContractError("fhir.json", "the file is not JSON", "file")
            )
            return [bad]

    @staticmethod
    def count(path: Path) -> int:
        """How many entries a file holds (for the lag), without validating them."""
        data = path.read_bytes()
        if path.name.endswith(".ndjson"):
            return sum(1 for line in data.splitlines() if line.strip())
        try:
            doc = json.loads(data)
        except ValueError:
            return 1
        if isinstance(doc, dict) and doc.get("resourceType") == "Bundle":
            return len(doc.get("entry") or [])
        return 1
