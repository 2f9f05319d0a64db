"""Reads the case-management database (SQLAlchemy); knows nothing of Kafka.

Referrals are read in (last_updated, referral_id) order after a high-water
mark, so a batch boundary inside a run of equal timestamps loses nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, create_engine, func, or_, select
from sqlalchemy.engine import Engine

from connectors.case_management import ssd

UPN_TYPE = "Unique Pupil Number"


@dataclass(frozen=True)
class HighWaterMark:
    last_updated: dt.datetime
    key: str

    def to_json(self) -> dict[str, str]:
        return {"last_updated": self.last_updated.isoformat(), "key": self.key}

    @classmethod
    def from_json(cls, doc: dict[str, Any] | None) -> HighWaterMark | None:
        if not doc:
            return None
        return cls(dt.datetime.fromisoformat(doc["last_updated"]), doc["key"])


def _after(mark: HighWaterMark):
    """Rows strictly after the mark in (last_updated, key) order."""
    ref = ssd.cin_episodes
    return or_(
        ref.c.last_updated > mark.last_updated,
        and_(ref.c.last_updated == mark.last_updated, ref.c.cine_referral_id > mark.key),
    )


class CaseManagementClient:
    def __init__(self, url: str) -> None:
        self.engine: Engine = create_engine(url, pool_pre_ping=True)

    def check(self) -> None:
        """Raise when the database is unreachable or lacks the SSD tables."""
        with self.engine.connect() as conn:
            conn.execute(select(func.count()).select_from(ssd.cin_episodes)).scalar_one()

    def _referral_query(self, after: HighWaterMark | None, limit: int):
        ref, per, link = ssd.cin_episodes, ssd.person, ssd.linked_identifiers
        upn = (
            select(func.max(link.c.link_identifier_value))
            .where(link.c.link_person_id == ref.c.cine_person_id)
            .where(link.c.link_identifier_type == UPN_TYPE)
            .scalar_subquery()
        )
        q = (
            select(ref, per.c.pers_common_child_id.label("nhs_number"), upn.label("upn"))
            .select_from(ref.outerjoin(per, per.c.pers_person_id == ref.c.cine_person_id))
            .order_by(ref.c.last_updated, ref.c.cine_referral_id)
            .limit(limit)
        )
        if after is not None:
            q = q.where(_after(after))
        return q

    def referrals_after(self, after: HighWaterMark | None, limit: int) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(self._referral_query(after, limit))]

    def count_referrals_after(self, after: HighWaterMark | None) -> int:
        ref = ssd.cin_episodes
        q = select(func.count()).select_from(ref)
        if after is not None:
            q = q.where(_after(after))
        with self.engine.connect() as conn:
            return int(conn.execute(q).scalar_one())
