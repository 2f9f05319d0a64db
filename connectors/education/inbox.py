"""The drop folder: which files are complete, what they hold (size + sha256), where they go after.

A file is *ready* when its sender has finished writing it:

* ``ready_when: settled`` - it has not been modified for ``settle_s`` seconds;
* ``ready_when: marker`` - a marker file of the same name plus ``.done`` exists
  (``census.xml`` is read once ``census.xml.done`` appears), whatever its age.

Hidden files, names ending ``.tmp``/``.part``/``.partial``/``.filepart`` and any
extension other than ``.csv``/``.xml`` are never read. No Kafka here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from connectors.common.base import SourceUnavailable

log = logging.getLogger(__name__)
EXTENSIONS = frozenset({".csv", ".xml"})
PARTIAL = (".tmp", ".part", ".partial", ".filepart", ".crdownload")
MARKER = ".done"


@dataclass(frozen=True)
class DropFile:
    path: Path
    size: int
    mtime_ns: int
    sha256: str

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def version(self) -> str:
        """The content's short hash: part of every event id of the file."""
        return self.sha256[:16]

    @property
    def recorded(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.mtime_ns / 1e9, dt.UTC)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


class Inbox:
    def __init__(
        self,
        folder: Path,
        *,
        ready_when: str,
        settle_s: float,
        processed: Path | None,
    ) -> None:
        self.folder = folder
        self.ready_when = ready_when
        self.settle_s = settle_s
        self.processed = processed
        self._hashes: dict[tuple[str, int, int], str] = {}

    def _candidates(self) -> list[os.DirEntry[str]]:
        try:
            entries = list(os.scandir(self.folder))
        except OSError as exc:
            raise SourceUnavailable(f"drop folder not readable ({type(exc).__name__})") from None
        out = []
        for entry in entries:
            name = entry.name
            if name.startswith((".", "~")) or name.lower().endswith(PARTIAL):
                continue
            if Path(name).suffix.lower() not in EXTENSIONS or not entry.is_file():
                continue
            out.append(entry)
        return out

    def _ready(self, entry: os.DirEntry[str], mtime_ns: int) -> bool:
        if self.ready_when == "marker":
            return os.path.exists(entry.path + MARKER)
        return time.time() - mtime_ns / 1e9 >= self.settle_s

    def ready_files(self) -> list[DropFile]:
        """Complete files, oldest first (then by name), each with its size and sha256."""
        files = []
        for entry in self._candidates():
            try:
                st = entry.stat()
                if not self._ready(entry, st.st_mtime_ns):
                    continue
                key = (entry.name, st.st_size, st.st_mtime_ns)
                if key not in self._hashes:
                    self._hashes[key] = sha256_of(Path(entry.path))
            except FileNotFoundError:
                continue  # moved away meanwhile
            except OSError as exc:  # one unreadable file must not hold up the others
                log.warning(
                    "drop file %s skipped: not readable (%s)", entry.name, type(exc).__name__
                )
                continue
            files.append(DropFile(Path(entry.path), st.st_size, st.st_mtime_ns, self._hashes[key]))
        files.sort(key=lambda f: (f.mtime_ns, f.name))
        return files

    def not_ready(self) -> int:
        """How many files are still being written (or wait for their marker)."""
        n = 0
        for entry in self._candidates():
            try:
                n += not self._ready(entry, entry.stat().st_mtime_ns)
            except FileNotFoundError:
                continue
        return n

    def move_processed(self, f: DropFile) -> Path | None:
        """Move a processed file (and its marker) to the processed folder; never overwrite."""
        if self.processed is None:
            return None
        self.processed.mkdir(parents=True, exist_ok=True)
        target = self.processed / f.name
        if target.exists():
            target = self.processed / f"{f.path.stem}.{f.version}{f.path.suffix}"
        try:
            shutil.move(str(f.path), target)
            marker = Path(str(f.path) + MARKER)
            if marker.exists():
                shutil.move(str(marker), Path(str(target) + MARKER))
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("processed file %s not moved (%s)", f.name, type(exc).__name__)
            return None
        return target

    def problems(self, move: bool) -> list[str]:
        if not self.folder.is_dir():
            return [f"drop folder {self.folder} does not exist or is not a folder"]
        if not os.access(self.folder, os.R_OK | os.X_OK):
            return [f"drop folder {self.folder} is not readable by this user"]
        if move and not os.access(self.folder, os.W_OK):
            return [
                f"drop folder {self.folder} is not writable, so processed files cannot be moved; "
                "grant write access or set move_processed: false"
            ]
        return []
