"""The health connector: FHIR R4 (UK Core) from a delivery folder or a FHIR server (glue only).

Folder mode remembers every file it has finished by name, size and sha256, and
for the file it is in, the last entry published, so a restart neither repeats
nor skips anything. Server mode remembers, per search, the ``_lastUpdated`` of
the newest resource published, and moves it only past a timestamp whose every
resource it has read. Mapping is in ``mapping.py``; publishing, dead-lettering
and storing the position are the runner's (``connectors.common.runner``).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from connectors.common.base import (
    Batch,
    Connector,
    Coordinates,
    Mapped,
    Rejected,
    SourceUnavailable,
)
from connectors.health import codes, config, mapping
from connectors.health.fhir import Entry, Index, parse
from connectors.health.folder import FolderSource, SourceFile
from connectors.health.server import FhirServer, ServerError

log = logging.getLogger(__name__)

#: The searches of server mode: (position name, resource type, parameters).
SEARCHES: tuple[tuple[str, str, list[tuple[str, str]]], ...] = (
    (
        "reviews",
        "Encounter",
        [
            ("type", f"{codes.ENCOUNTER_TYPE_SYSTEM}|{codes.REVIEW_ENCOUNTER}"),
            ("_include", "Encounter:subject"),
            ("_revinclude", "Observation:encounter"),
            ("_revinclude", "QuestionnaireResponse:encounter"),
        ],
    ),
    (
        "communications",
        "Communication",
        [
            (
                "category",
                f"{codes.CATEGORY_SYSTEM}|{codes.PARENT_COMMENT},"
                f"{codes.CATEGORY_SYSTEM}|{codes.CPIS_NOTIFICATION}",
            ),
            ("_include", "Communication:subject"),
            ("_include", "Communication:encounter"),
        ],
    ),
)


class FhirConnector(Connector):
    kind = "health_fhir"
    description = (
        "FHIR R4 (UK Core) health visiting records and CP-IS notifications, "
        "from a delivery folder or a FHIR server."
    )
    SETTINGS: ClassVar = config.SETTINGS

    def __init__(self, settings: dict[str, Any], environ: Mapping[str, str] | None = None) -> None:
        super().__init__(settings)
        config.check(settings)
        self.ctx = mapping.Context(self.name, settings["source_system"], settings["la_code"])
        self.mode: str = settings["source"]
        self._cache: tuple[tuple[str, str], list[mapping.Outcome], list[int]] | None = None
        self._counts: dict[tuple[str, int, int], int] = {}
        self.folder = FolderSource(
            Path(settings["folder"]), settings["settle_s"], settings["require_done_marker"]
        )
        self.server: FhirServer | None = None
        if self.mode == "server":
            # The entry point passes no environment to connectors yet; this is the one read.
            auth = config.auth_header(settings, os.environ if environ is None else environ)
            self.server = FhirServer(
                settings["base_url"], auth, settings["request_timeout_s"], settings["ca_file"]
            )

    # ------------------------------------------------------------------ the Connector interface

    def read(self, position: dict[str, Any] | None, limit: int) -> Batch | None:
        if self.mode == "server":
            return self._read_server(position, limit)
        return self._read_folder(position, limit)

    def lag(self, position: dict[str, Any] | None) -> int:
        return self._lag_server(position) if self.mode == "server" else self._lag_folder(position)

    def check_source(self) -> list[str]:
        if self.server is not None:
            return self.server.check()
        return self.folder.problems()

    # ------------------------------------------------------------------ folder mode

    def _ready(self) -> list[SourceFile]:
        problems = self.folder.problems()
        if problems:
            raise SourceUnavailable(problems[0])
        try:
            return self.folder.ready()
        except OSError as exc:
            raise SourceUnavailable(f"folder cannot be listed ({type(exc).__name__})") from None

    def _next_file(self, done: dict[str, Any], ready: list[SourceFile]) -> dict[str, Any] | None:
        for f in ready:
            seen = done.get(f.name)
            if seen and seen["size"] == f.size and seen["mtime_ns"] == f.mtime_ns:
                continue
            sha = self.folder.sha256(f.path)
            if seen and seen["size"] == f.size and seen["sha256"] == sha:
                continue  # touched, not changed
            return {
                "name": f.name,
                "size": f.size,
                "mtime_ns": f.mtime_ns,
                "sha256": sha,
                "after": [-1, -1],
            }
        return None

    def _units(self, current: dict[str, Any]) -> tuple[list[mapping.Outcome], list[int]]:
        key = (current["name"], current["sha256"])
        if self._cache is None or self._cache[0] != key:
            entries = self.folder.entries(self.folder.folder / current["name"])
            outcomes = mapping.map_entries(Index(entries), self.ctx)
            self._cache = (key, outcomes, [e.index for e in entries])
        return self._cache[1], self._cache[2]

    def _still_there(self, current: dict[str, Any], notes: list[str]) -> dict[str, Any] | None:
        """The file in progress, unless it went away or changed (said in the notes and the log)."""
        path = self.folder.folder / current["name"]
        try:
            st = path.stat()
        except FileNotFoundError:
            notes.append(
                f"{current['name']} disappeared while being read; the rest of it is skipped"
            )
            return None
        if st.st_size == current["size"] and st.st_mtime_ns == current["mtime_ns"]:
            return current
        sha = self.folder.sha256(path)
        if sha == current["sha256"]:
            return {**current, "mtime_ns": st.st_mtime_ns}
        notes.append(f"{current['name']} changed while being read; reading it again from the start")
        return {
            "name": current["name"],
            "size": st.st_size,
            "mtime_ns": st.st_mtime_ns,
            "sha256": sha,
            "after": [-1, -1],
        }

    def _read_folder(self, position: dict[str, Any] | None, limit: int) -> Batch | None:
        """Up to `limit` events and rejections, from the file in progress and then the next ones."""
        pos = position if position and position.get("source") == "folder" else {}
        done: dict[str, Any] = dict(pos.get("done") or {})
        notes: list[str] = []
        ready = self._ready()
        current = pos.get("current")
        if current is not None:
            current = self._still_there(current, notes)
        items: list[Mapped | Rejected] = []
        read, moved = 0, bool(notes)
        while len(items) < limit:
            current = current or self._next_file(done, ready)
            if current is None:
                break
            moved = True
            outcomes, indices = self._units(current)
            after = tuple(current["after"])
            pending = [o for o in outcomes if o.order > after]
            take = pending[: limit - len(items)]
            finished = len(take) == len(pending)
            upto = None if finished else take[-1].order[0]
            read += sum(1 for i in indices if i > after[0] and (upto is None or i <= upto))
            items += [self._folder_item(o, current) for o in take]
            if finished:
                done[current["name"]] = {k: current[k] for k in ("size", "mtime_ns", "sha256")}
                current = None
            else:
                current = {**current, "after": list(take[-1].order)}
        for note in notes:  # file names and what happened: no personal data
            log.warning("%s: %s", self.name, note)
        if not moved:
            return None
        return Batch(items, {"source": "folder", "done": done, "current": current}, read, notes)

    def _folder_item(self, o: mapping.Outcome, current: dict[str, Any]) -> Mapped | Rejected:
        if o.record is not None:
            return Mapped(o.event_type or "", o.record, o.key)
        entry = o.entry
        where = Coordinates(
            current["name"], str(entry.index if entry else 0), current["sha256"][:16]
        )
        payload = entry.payload() if entry else b""
        return Rejected(where, o.error, payload, "json", o.event_type)

    def _lag_folder(self, position: dict[str, Any] | None) -> int:
        pos = position if position and position.get("source") == "folder" else {}
        done = pos.get("done") or {}
        current = pos.get("current")
        total = 0
        for f in self._ready():
            seen = done.get(f.name)
            if seen and seen["size"] == f.size and seen["mtime_ns"] == f.mtime_ns:
                continue
            if current and current["name"] == f.name:
                _, indices = self._units(current)
                total += sum(1 for i in indices if i > current["after"][0])
                continue
            key = (f.name, f.size, f.mtime_ns)
            if key not in self._counts:
                self._counts[key] = self.folder.count(f.path)
            total += self._counts[key]
        return total

    # ------------------------------------------------------------------ server mode

    def _search(
        self, resource_type: str, params: list[tuple[str, str]], mark: str | None, limit: int
    ):
        """Matches and included resources after `mark`, cut at a complete timestamp."""
        assert self.server is not None
        query = [
            *params,
            ("_sort", "_lastUpdated"),
            ("_count", str(min(self.settings["page_size"], limit))),
        ]
        if mark:
            query.append(("_lastUpdated", f"gt{mark}"))
        rows: list[tuple[Any, str | None, bool, str | None]] = []
        more = False
        for page in self.server.search(resource_type, query):
            for item in page.get("entry") or []:
                if not isinstance(item, dict):
                    continue
                res = item.get("resource")
                is_match = (item.get("search") or {}).get("mode", "match") == "match"
                stamp = (
                    (res.get("meta") or {}).get("lastUpdated") if isinstance(res, dict) else None
                )
                rows.append(
                    (res, item.get("fullUrl"), is_match, stamp if isinstance(stamp, str) else None)
                )
            stamps = {_instant(r[3]) for r in rows if r[2] and r[3]}
            more = any(
                link.get("relation") == "next"
                for link in page.get("link") or []
                if isinstance(link, dict)
            )
            if sum(1 for r in rows if r[2]) >= limit and len(stamps) > 1:
                break
        matches = [r for r in rows if r[2]]
        if not matches:
            return None
        stamped = [r for r in matches if r[3]]
        cut = max((_instant(r[3]) for r in stamped), default=None) if more else None
        kept = [
            r for r in rows if not (r[2] and r[3] and cut is not None and _instant(r[3]) >= cut)
        ]
        included = [r for r in kept if r[2] and r[3]]
        new_mark = max(included, key=lambda r: _instant(r[3]))[3] if included else mark
        entries = [parse(i, r[0], r[1], r[2]) for i, r in enumerate(kept)]
        return entries, new_mark

    def _read_server(self, position: dict[str, Any] | None, limit: int) -> Batch | None:
        marks: dict[str, Any] = dict((position or {}).get("marks") or {})
        for name, resource_type, params in SEARCHES:
            try:
                found = self._search(resource_type, params, marks.get(name), limit)
            except ServerError as exc:
                raise SourceUnavailable(str(exc)) from None
            if found is None:
                continue
            entries, marks[name] = found
            outcomes = mapping.map_entries(Index(entries), self.ctx)
            items = [self._server_item(o) for o in outcomes]
            read = sum(1 for e in entries if e.match)
            return Batch(items, {"source": "server", "marks": marks}, read)
        return None

    @staticmethod
    def _server_item(o: mapping.Outcome) -> Mapped | Rejected:
        if o.record is not None:
            return Mapped(o.event_type or "", o.record, o.key)
        entry: Entry | None = o.entry
        meta = entry.raw.get("meta") if entry and isinstance(entry.raw, dict) else None
        version = (meta or {}).get("versionId") or (meta or {}).get("lastUpdated") or ""
        where = Coordinates(
            (entry.resource_type if entry else None) or "Bundle",
            (entry.resource_id or entry.key) if entry else "",
            str(version),
        )
        return Rejected(where, o.error, entry.payload() if entry else b"", "json", o.event_type)

    def _lag_server(self, position: dict[str, Any] | None) -> int:
        assert self.server is not None
        marks = (position or {}).get("marks") or {}
        total = 0
        for name, resource_type, params in SEARCHES:
            query = [p for p in params if not p[0].startswith("_")]
            if marks.get(name):
                query.append(("_lastUpdated", f"gt{marks[name]}"))
            try:
                total += self.server.count(resource_type, query)
            except ServerError as exc:
                raise SourceUnavailable(str(exc)) from None
        return total


def _instant(text: str | None) -> dt.datetime:
    value = dt.datetime.fromisoformat(text) if text else dt.datetime.min
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
