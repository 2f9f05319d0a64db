"""The case-management (SQL) connector: SSD-shaped tables to Chorus events.

It reads the tables it is configured for (``tables``) in one of three modes
(``mode``; see :mod:`connectors.case_management.reader`), maps each row with its
table's mapping (:mod:`connectors.case_management.mappings`) and hands the
events, or a rejection naming the table, key and rule, to the runner, which
publishes, dead-letters and stores the position (`connectors.common.runner`).
"""

from __future__ import annotations

import json
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ClassVar

from sqlalchemy.exc import SQLAlchemyError

from connectors.case_management import ssd, voice_mapping
from connectors.case_management.changes import change_table
from connectors.case_management.client import CaseManagementClient
from connectors.case_management.mappings import TABLE_NAMES, Source, TableMapping, all_mappings
from connectors.case_management.mappings.base import version_of
from connectors.case_management.reader import MODES, Reader, Work
from connectors.common.base import (
    Batch,
    Connector,
    Coordinates,
    Mapped,
    Rejected,
    SourceUnavailable,
)
from connectors.common.dead_letters import json_payload
from connectors.common.events import event_id, utc
from connectors.common.settings import Setting, one_of
from schemas.errors import ContractError

SOURCE_SYSTEMS = (
    "LIQUIDLOGIC_LCS",
    "LIQUIDLOGIC_EHM",
    "MOSAIC",
    "ECLIPSE",
    "CAREDIRECTOR",
    "AZEUS",
    "OTHER",
)
ALL = "all"


def table_names(value: str) -> list[str]:
    """The ``tables`` setting as table names, in reading order."""
    wanted = {t.strip() for t in value.split(",") if t.strip()}
    return list(TABLE_NAMES) if ALL in wanted else [t for t in TABLE_NAMES if t in wanted]


def _check_tables(value: str) -> str | None:
    names = [t.strip() for t in value.split(",") if t.strip()]
    unknown = [n for n in names if n != ALL and n not in TABLE_NAMES]
    if not names:
        return "name at least one table, or all"
    if unknown:
        return f"unknown table(s) {', '.join(unknown)}; known: all, {', '.join(TABLE_NAMES)}"
    return None


class CaseManagementConnector(Connector):
    kind = "case_management"
    description = "A case-management database in the Standard Safeguarding Dataset shape (SQL)."
    SETTINGS: ClassVar = (
        Setting("source_url", str, "SQLAlchemy URL of the case-management database (SSD shape)."),
        Setting("source_system", str, "Kind of source system.", "OTHER", one_of(SOURCE_SYSTEMS)),
        Setting(
            "tables",
            str,
            "SSD tables to publish, comma-separated, or 'all' (default: referrals only).",
            "ssd_cin_episodes",
            _check_tables,
        ),
        Setting(
            "mode",
            str,
            "incremental (by last_updated), snapshot (every row once, then incremental) "
            "or changes (snapshot, then the chorus_changes table; deletions become PURGE).",
            "incremental",
            one_of(MODES),
        ),
        Setting(
            "voice_mapping",
            str,
            "YAML file saying which form answers carry voice (empty: the shipped example).",
            "",
        ),
    )

    def __init__(self, settings: dict[str, Any]) -> None:
        super().__init__(settings)
        self.voice = voice_mapping.load(settings.get("voice_mapping") or None)
        wanted = set(table_names(settings.get("tables") or "ssd_cin_episodes"))
        self.mappings: tuple[TableMapping, ...] = tuple(
            m for m in all_mappings(self.voice) if m.name in wanted
        )
        self.source = Source(self.name, settings["source_system"], settings["la_code"])
        self.client = CaseManagementClient(settings["source_url"])
        self.reader = Reader(self.client, self.mappings, settings.get("mode") or "incremental")
        self._prefetch = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{self.name}-read")
        self._ahead: tuple[tuple[str, int], Future] | None = None

    # ----------------------------------------------------------------- mapping

    def map_work(self, work: Work) -> list[Mapped | Rejected]:
        out: list[Mapped | Rejected] = []
        m = work.mapping
        for row in work.rows:
            try:
                if row.get("_missing_image"):
                    raise ContractError(
                        "purge.row_image_missing",
                        "the change table holds no image of the deleted row, so its child is "
                        "unknown; add chg_row_image to the trigger (see the README)",
                        "chg_row_image",
                    )
                events = m.to_events(row, self.source)
            except ContractError as err:
                out.append(self._rejected(m, row, err, work))
                continue
            except Exception as exc:  # a row no rule foresaw: dead-letter it, carry on
                err = ContractError(
                    "mapping.unexpected",
                    f"the row could not be mapped ({type(exc).__name__}); see the payload",
                    None,
                )
                out.append(self._rejected(m, row, err, work))
                continue
            for event_type, record in events:
                if work.operation == "PURGE":
                    self._purge(record, work)
                child = record["envelope"]["subject"]["la_child_id"]
                out.append(Mapped(event_type, record, child.encode() if child else None))
        return out

    def _rejected(self, m: TableMapping, row: dict, err: ContractError, work: Work) -> Rejected:
        key = row.get(m.group) if m.group else row.get(m.key)
        try:
            version = version_of(row)
        except (KeyError, TypeError):
            version = ""
        if work.operation == "PURGE":
            version = f"deleted@{work.seq}"
        payload = row.get("answers") if m.group else {c.name: row.get(c.name) for c in m.table.c}
        return Rejected(
            Coordinates(m.name, str(key), version),
            err,
            json_payload(payload),
            event_type=m.event_types[0],
        )

    def _purge(self, record: dict, work: Work) -> None:
        """An event for a deleted row: PURGE, versioned by the change's sequence number."""
        env = record["envelope"]
        variant = env["source_record"]["version"].partition("#")[2]
        version = f"deleted@{work.seq}" + (f"#{variant}" if variant else "")
        src = env["source_record"]
        src["version"] = version
        env["event_id"] = event_id(self.name, src["entity"], src["key"], version)
        env["operation"] = "PURGE"
        if work.changed_at is not None:
            env["recorded_time"] = utc(work.changed_at)

    # ----------------------------------------------------------------- Connector

    def _read_now(self, position: dict[str, Any] | None, limit: int) -> Batch | None:
        try:
            found = self.reader.read(position, limit)
            if found is None:
                return None
            works, new_position, read = found
            items = [item for work in works for item in self.map_work(work)]
        except SQLAlchemyError as exc:
            raise SourceUnavailable(type(exc).__name__) from None
        return Batch(items, new_position, read)

    def read(self, position: dict[str, Any] | None, limit: int) -> Batch | None:
        """The batch after ``position``; the one after it is read meanwhile.

        While the runner encodes and publishes a batch (mostly waiting for Kafka's
        acknowledgements), a thread reads and maps the next one from the position that
        batch leads to. It is used only if the runner then asks for exactly that
        position (it does unless publishing failed); either way it is a read of the
        source from that position, so nothing is skipped or published early.
        """
        wanted = (json.dumps(position, sort_keys=True, default=str), limit)
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead[0] == wanted:
            batch = ahead[1].result()
        else:
            batch = self._read_now(position, limit)
        if batch is not None:
            following = (json.dumps(batch.position, sort_keys=True, default=str), limit)
            self._ahead = (following, self._prefetch.submit(self._read_now, batch.position, limit))
        return batch

    def lag(self, position: dict[str, Any] | None) -> int:
        try:
            return self.reader.lag(position)
        except SQLAlchemyError as exc:
            raise SourceUnavailable(type(exc).__name__) from None

    def check_source(self) -> list[str]:
        tables = {m.table.name: m.table for m in self.mappings}
        for m in self.mappings:
            tables.update((lk.table.name, lk.table) for lk in m.lookups)
        if self.mappings:  # every subject's NHS number and UPN
            tables[ssd.person.name] = ssd.person
            tables[ssd.linked_identifiers.name] = ssd.linked_identifiers
        if self.settings.get("mode") == "changes":
            tables[change_table.name] = change_table
        try:
            missing = self.client.missing(tables.values())
        except SQLAlchemyError as exc:
            return [f"source database is not readable ({type(exc).__name__})"]
        return [f"source database is not an SSD database as configured: {p}" for p in missing]

    def close(self) -> None:
        self._prefetch.shutdown(wait=True, cancel_futures=True)
        self._ahead = None
        self.client.engine.dispose()
