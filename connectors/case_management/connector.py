"""The case-management (SQL) connector: SSD-shaped tables read after a high-water mark.

It reads rows in (last_updated, key) order after the stored mark and maps each
to an event; a row that breaks a rule becomes a rejection with its table, key
and rule. Publishing, dead-lettering, positions and retries are the runner's
(`connectors.common.runner`).
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy.exc import SQLAlchemyError

from connectors.case_management import mapping
from connectors.case_management.client import CaseManagementClient, HighWaterMark
from connectors.common.base import (
    Batch,
    Connector,
    Coordinates,
    Mapped,
    Rejected,
    SourceUnavailable,
)
from connectors.common.dead_letters import json_payload
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


class CaseManagementConnector(Connector):
    kind = "case_management"
    description = "A case-management database in the Standard Safeguarding Dataset shape (SQL)."
    SETTINGS: ClassVar = (
        Setting("source_url", str, "SQLAlchemy URL of the case-management database (SSD shape)."),
        Setting("source_system", str, "Kind of source system.", "OTHER", one_of(SOURCE_SYSTEMS)),
    )

    def __init__(self, settings: dict[str, Any]) -> None:
        super().__init__(settings)
        self.client = CaseManagementClient(settings["source_url"])

    def _map(self, row: dict[str, Any]) -> Mapped | Rejected:
        try:
            event = mapping.referral_event(
                row,
                source_instance=self.name,
                source_system=self.settings["source_system"],
                la_code=self.settings["la_code"],
            )
        except ContractError as err:
            version = row.get("last_updated")
            return Rejected(
                Coordinates(
                    mapping.ENTITY,
                    str(row.get("cine_referral_id")),
                    version.isoformat() if version else "",
                ),
                err,
                json_payload(row),
                event_type=mapping.EVENT_TYPE,
            )
        key = event["envelope"]["subject"]["la_child_id"]
        return Mapped(mapping.EVENT_TYPE, event, key.encode() if key else None)

    def read(self, position: dict[str, Any] | None, limit: int) -> Batch | None:
        try:
            rows = self.client.referrals_after(HighWaterMark.from_json(position), limit)
        except SQLAlchemyError as exc:
            raise SourceUnavailable(type(exc).__name__) from None
        if not rows:
            return None
        last = rows[-1]
        mark = HighWaterMark(last["last_updated"], str(last["cine_referral_id"]))
        return Batch([self._map(r) for r in rows], mark.to_json(), len(rows))

    def lag(self, position: dict[str, Any] | None) -> int:
        try:
            return self.client.count_referrals_after(HighWaterMark.from_json(position))
        except SQLAlchemyError as exc:
            raise SourceUnavailable(type(exc).__name__) from None

    def check_source(self) -> list[str]:
        try:
            self.client.check()
        except SQLAlchemyError as exc:
            return [f"source database is not readable as an SSD database ({type(exc).__name__})"]
        return []

    def close(self) -> None:
        self.client.engine.dispose()
