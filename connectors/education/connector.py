"""The education files connector: school census, EYFSP, attendance, SEN, FSM and EHCP exports.

It watches a drop folder and reads each complete file once, record by record,
mapping every record to ``education.*`` events (or a rejection naming the file,
the line and the rule). The position says which files are done (by sha256, with
name and size) and, for the file in progress, how many records are covered, so a
restart resumes mid-file and a file dropped again with the same content is
skipped. Publishing, dead-lettering, storing the position after every ack and
retrying are the runner's (`connectors.common.runner`).
"""

from __future__ import annotations

import codecs
import logging
from itertools import islice
from pathlib import Path
from typing import Any, ClassVar

from connectors.common.base import Batch, Connector, Coordinates, Mapped, Rejected
from connectors.common.events import envelope
from connectors.common.settings import Setting, one_of
from connectors.education import codes, mapping
from connectors.education.inbox import DropFile, Inbox
from connectors.education.reader import FileProblem, Item, SourceRecord, records
from schemas.errors import ContractError
from schemas.validation.education import validate

log = logging.getLogger(__name__)
SCHEMA_VERSION = 1
POSITION_VERSION = 1


def _not_negative(value: float) -> str | None:
    return None if value >= 0 else "must be 0 or more"


def _encoding(value: str) -> str | None:
    try:
        codecs.lookup(value)
    except LookupError:
        return "is not a text encoding Python knows (for example utf-8-sig or cp1252)"
    return None


class _Cursor:
    """An open file being read, so consecutive batches do not re-parse it from the start."""

    def __init__(self, f: DropFile, start: int, encoding: str) -> None:
        self.file = f
        self.index = start
        self._records = records(f.path, encoding)
        self._it = islice(self._records, start, None)
        self._peeked: Item | None = None

    def take(self, n: int) -> tuple[list[Item], bool]:
        """Up to n records, and whether the file has no more."""
        out: list[Item] = [] if self._peeked is None else [self._peeked]
        out.extend(islice(self._it, n - len(out)))
        self._peeked = next(self._it, None)
        self.index += len(out)
        return out, self._peeked is None

    def close(self) -> None:
        close = getattr(self._records, "close", None)
        if close is not None:
            close()


class EducationFilesConnector(Connector):
    kind = "education_files"
    description = (
        "School census, EYFSP, attendance, exclusion, SEN, EHCP and FSM export files "
        "(CSV or XML) dropped in a folder."
    )
    SETTINGS: ClassVar = (
        Setting("inbox", str, "Drop folder the export files arrive in."),
        Setting(
            "ready_when",
            str,
            "When a file is complete: 'settled' (unchanged for settle_s seconds) or 'marker' "
            "(a NAME.done file exists).",
            "settled",
            one_of(("settled", "marker")),
        ),
        Setting(
            "settle_s",
            float,
            "With ready_when: settled, seconds a file must be unmodified before it is read.",
            60.0,
            _not_negative,
        ),
        Setting("move_processed", bool, "Move each processed file to processed_dir.", True),
        Setting(
            "processed_dir",
            str,
            "Where processed files go; relative paths are inside the inbox.",
            "processed",
        ),
        Setting("csv_encoding", str, "Text encoding of CSV files.", "utf-8-sig", _encoding),
        Setting(
            "source_system",
            str,
            "The system that writes the files (school MIS or LA SEND system).",
            "OTHER",
            one_of(codes.SOURCE_SYSTEMS),
        ),
    )

    def __init__(self, settings: dict[str, Any]) -> None:
        super().__init__(settings)
        folder = Path(settings["inbox"])
        processed = Path(settings["processed_dir"])
        self.move = bool(settings["move_processed"])
        self.inbox = Inbox(
            folder,
            ready_when=settings["ready_when"],
            settle_s=settings["settle_s"],
            processed=(processed if processed.is_absolute() else folder / processed)
            if self.move
            else None,
        )
        self.encoding: str = settings["csv_encoding"]
        self._cursor: _Cursor | None = None
        self._counts: dict[str, int] = {}

    # -- position

    @staticmethod
    def _state(position: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any] | None]:
        position = position or {}
        return dict(position.get("done") or {}), position.get("current")

    def _pending(self, done: dict[str, Any]) -> list[DropFile]:
        pending = []
        for f in self.inbox.ready_files():
            if f.sha256 not in done:
                pending.append(f)
                continue
            # Done by a stored (so acknowledged) position: tidy it away, or skip it.
            if self.move and self.inbox.move_processed(f):
                log.info("%s: moved processed file %s", self.name, f.name)
        return pending

    # -- reading

    def read(self, position: dict[str, Any] | None, limit: int) -> Batch | None:
        done, current = self._state(position)
        pending = self._pending(done)
        if not pending:
            return None
        resume = current and next((f for f in pending if f.sha256 == current["sha256"]), None)
        f = resume or pending[0]
        start = int(current["index"]) if resume and current else 0
        rejected = int(current.get("rejected", 0)) if resume and current else 0
        cursor = self._cursor_for(f, start)
        batch, finished = cursor.take(limit)
        items: list[Mapped | Rejected] = []
        for rec in batch:
            items.extend(self._items(f, rec))
        rejected += sum(isinstance(i, Rejected) for i in items)
        summary = {"name": f.name, "size": f.size, "sha256": f.sha256}
        if finished:
            done[f.sha256] = {**summary, "records": cursor.index, "rejected": rejected}
            self._close_cursor()
            state = {"version": POSITION_VERSION, "done": done, "current": None}
        else:
            now = {**summary, "index": cursor.index, "rejected": rejected}
            state = {"version": POSITION_VERSION, "done": done, "current": now}
        return Batch(items, state, len(batch))

    def _cursor_for(self, f: DropFile, start: int) -> _Cursor:
        c = self._cursor
        if c is None or c.file.sha256 != f.sha256 or c.index != start:
            self._close_cursor()
            self._cursor = c = _Cursor(f, start, self.encoding)
        return c

    def _close_cursor(self) -> None:
        if self._cursor is not None:
            self._cursor.close()
            self._cursor = None

    def _items(self, f: DropFile, rec: Item) -> list[Mapped | Rejected]:
        if isinstance(rec, FileProblem):
            return [
                Rejected(
                    Coordinates(f.name, str(rec.line), f.version),
                    rec.error,
                    rec.payload,
                    rec.payload_format,
                )
            ]
        if rec.base is not None:  # an XML pupil: one rejection when its UPN is bad
            try:
                mapping.upn(rec.base)
            except ContractError as err:
                return [self._rejected(f, rec, str(rec.line), err, None)]
        out: list[Mapped | Rejected] = []
        for part, event_type, fields in rec.parts:
            key = f"{rec.line}#{part}" if part else str(rec.line)
            try:
                if isinstance(fields, ContractError):
                    raise fields
                body = mapping.MAPPERS[event_type](fields)
                event = self._event(body, f, key)
                validate(event_type, event)
            except ContractError as err:
                out.append(self._rejected(f, rec, key, err, event_type))
                continue
            out.append(Mapped(event_type, event, body.upn.encode()))
        return out

    @staticmethod
    def _rejected(
        f: DropFile, rec: SourceRecord, key: str, err: ContractError, event_type: str | None
    ) -> Rejected:
        return Rejected(
            Coordinates(f.name, key, f.version), err, rec.raw(), rec.raw_format, event_type
        )

    def _event(self, body: mapping.Body, f: DropFile, key: str) -> dict[str, Any]:
        env = envelope(
            event_type=body.event_type,
            schema_version=SCHEMA_VERSION,
            source_system=self.settings["source_system"],
            source_instance=self.name,
            la_code=self.settings["la_code"],
            entity=f.name,
            key=key,
            version=f.version,
            event_time=body.event_date,
            recorded_time=f.recorded,
            subject={"upn": body.upn},
        )
        return {"envelope": env, **body.fields}

    # -- monitoring

    def _records_in(self, f: DropFile) -> int:
        if f.sha256 not in self._counts:
            self._counts[f.sha256] = sum(1 for _ in records(f.path, self.encoding))
        return self._counts[f.sha256]

    def lag(self, position: dict[str, Any] | None) -> int:
        """Records in complete files not yet published (files still being written excluded)."""
        done, current = self._state(position)
        total = 0
        for f in self.inbox.ready_files():
            if f.sha256 in done:
                continue
            total += self._records_in(f)
            if current and current.get("sha256") == f.sha256:
                total -= int(current.get("index", 0))
        return max(total, 0)

    def check_source(self) -> list[str]:
        return self.inbox.problems(self.move)

    def close(self) -> None:
        self._close_cursor()
