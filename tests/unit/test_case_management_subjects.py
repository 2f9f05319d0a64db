"""Each event's subject comes from its person's row and linked UPNs, read once per batch."""

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, insert, select

from connectors import registry
from connectors.case_management import ssd
from connectors.case_management.client import UPN_TYPE
from connectors.common.base import Mapped
from schemas.identifiers import synthetic_upn
from tests.unit.sqlite_la import fresh_copy, write_template

LATER = dt.datetime(2026, 4, 2, 10, 0)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return write_template(tmp_path_factory, children=120, seed=9)


@pytest.fixture
def url(template, tmp_path) -> str:
    return fresh_copy(template, tmp_path)


def contacts(url: str) -> list[Mapped]:
    raw = {"connector": "case_management", "name": "t", "source_url": url, "la_code": "999"}
    conn = registry.parse({**raw, "tables": "ssd_contacts", "mode": "snapshot"})
    items, position = [], None
    while (batch := conn.read(position, 97)) is not None:
        items += batch.items
        position = batch.position
    conn.close()
    return [i for i in items if isinstance(i, Mapped)]


def expected_subjects(url: str) -> dict[str, tuple[str | None, str | None]]:
    """Person id -> (NHS number, greatest UPN), straight from the database."""
    engine = create_engine(url)
    p, link = ssd.person, ssd.linked_identifiers
    with engine.connect() as c:
        nhs = dict(c.execute(select(p.c.pers_person_id, p.c.pers_common_child_id)).all())
        upns = dict(
            c.execute(
                select(link.c.link_person_id, func.max(link.c.link_identifier_value))
                .where(link.c.link_identifier_type == UPN_TYPE)
                .where(link.c.link_identifier_value != "")
                .group_by(link.c.link_person_id)
            ).all()
        )
    engine.dispose()
    return {pid: ((n or "").replace(" ", "") or None, upns.get(pid)) for pid, n in nhs.items()}


def test_every_event_carries_its_persons_nhs_number_and_upn(url):
    events = contacts(url)
    expected = expected_subjects(url)
    with_upn = 0
    assert len(events) > 100
    for e in events:
        s = e.record["envelope"]["subject"]
        assert (s["nhs_number"], s["upn"]) == expected[s["la_child_id"]]
        with_upn += s["upn"] is not None
    assert 0 < with_upn < len(events)  # children with a UPN and without one were both read


def test_a_person_with_two_upns_is_published_with_the_greater(url):
    engine = create_engine(url)
    with engine.begin() as c:
        person = c.execute(select(ssd.contacts.c.cont_person_id).limit(1)).scalar_one()
        top = c.execute(select(func.max(ssd.linked_identifiers.c.link_table_id))).scalar_one()
        low, high = synthetic_upn("999", 10, 20, 1), synthetic_upn("999", 9999, 99, 999)
        for i, value in enumerate((high, low)):
            c.execute(
                insert(ssd.linked_identifiers).values(
                    link_table_id=top + 1 + i,
                    link_person_id=person,
                    link_identifier_type=UPN_TYPE,
                    link_identifier_value=value,
                    last_updated=LATER,
                )
            )
    engine.dispose()
    mine = [e for e in contacts(url) if e.record["envelope"]["subject"]["la_child_id"] == person]
    assert mine
    expected = expected_subjects(url)[person][1]
    assert expected is not None and expected >= high
    assert {e.record["envelope"]["subject"]["upn"] for e in mine} == {expected}
