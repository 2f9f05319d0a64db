"""The connector's reading modes on a SQLite database, without Kafka."""

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import create_engine, insert, select, update

from connectors import registry
from connectors.case_management import ssd
from connectors.case_management.changes import change_table, install
from connectors.common.base import Mapped, Rejected
from connectors.common.settings import ConfigError
from tests.unit.sqlite_la import fresh_copy, write_template

LATER = dt.datetime(2026, 4, 2, 10, 0)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return write_template(tmp_path_factory, children=250, seed=4)


@pytest.fixture
def url(template, tmp_path) -> str:
    return fresh_copy(template, tmp_path)


def connector(url, **settings):
    raw = {"connector": "case_management", "name": "t", "source_url": url, "la_code": "999"}
    return registry.parse({**raw, "tables": "all", **settings})


def drain(conn, position=None, limit=137):
    """Read until idle: the items, the final position, and how many records were read."""
    items, read = [], 0
    while (batch := conn.read(position, limit)) is not None:
        items += batch.items
        position, read = batch.position, read + batch.read
    return items, position, read


def ids(items):
    return Counter(i.record["envelope"]["event_id"] for i in items if isinstance(i, Mapped))


def test_a_snapshot_reads_each_row_once_then_follows_last_updated(url):
    conn = connector(url, mode="snapshot")
    items, position, read = drain(conn)
    engine = create_engine(url)
    with engine.connect() as c:
        rows = sum(
            len(c.execute(select(t.primary_key.columns[0])).all())
            for t in ssd.metadata.sorted_tables
            if t.name in {m.name for m in conn.mappings}
        )
    assert read == rows  # every row of every table once (forms are read whole)
    assert max(ids(items).values()) == 1  # and every event once
    assert position["phase"] == "incremental" and position["snapshot"] is None
    assert conn.read(position, 137) is None
    assert conn.lag(position) == 0


def test_rows_sharing_a_last_updated_second_are_split_by_key_and_none_is_lost(url):
    engine = create_engine(url)
    with engine.begin() as c:
        for n in range(5):
            c.execute(
                insert(ssd.cin_episodes).values(
                    cine_referral_id=f"RTIE{n}",
                    cine_person_id="C0000001",
                    cine_referral_date=dt.date(2026, 4, 1),
                    cine_referral_source_code="6",
                    last_updated=LATER,
                )
            )
    conn = connector(url, tables="ssd_cin_episodes")
    _, position, _ = drain(conn, limit=1000)
    seen = []
    with engine.begin() as c:
        c.execute(
            update(ssd.cin_episodes)
            .where(ssd.cin_episodes.c.cine_referral_id.like("RTIE%"))
            .values(last_updated=LATER + dt.timedelta(hours=1))
        )
    while (batch := conn.read(position, 2)) is not None:
        seen += [i.record["referral_id"] for i in batch.items]
        position = batch.position
    assert seen == [f"RTIE{n}" for n in range(5)]


def test_the_referral_only_position_of_earlier_versions_is_continued(url):
    conn = connector(url, tables="ssd_cin_episodes")
    engine = create_engine(url)
    with engine.connect() as c:
        rows = c.execute(
            select(ssd.cin_episodes.c.last_updated, ssd.cin_episodes.c.cine_referral_id).order_by(
                ssd.cin_episodes.c.last_updated, ssd.cin_episodes.c.cine_referral_id
            )
        ).all()
    middle = rows[len(rows) // 2]
    legacy = {"last_updated": middle[0].isoformat(), "key": middle[1]}
    items, position, read = drain(conn, legacy)
    assert read == len(rows) - len(rows) // 2 - 1
    assert position["format"] == 2


def test_a_change_to_a_versioned_lookup_republishes_the_row_it_belongs_to(url):
    conn = connector(url, tables="ssd_person")
    _, position, _ = drain(conn)
    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(
            insert(ssd.disability).values(
                disa_table_id=999_999,
                disa_person_id="C0000007",
                disa_disability_code="AUT",
                last_updated=LATER,
            )
        )
    items, _, read = drain(conn, position)
    [event] = [i.record for i in items]
    assert read == 1
    assert event["envelope"]["source_record"]["key"] == "C0000007"
    assert "AUT" in event["disabilities"]
    assert event["envelope"]["source_record"]["version"] == LATER.isoformat()


def test_incremental_mode_cannot_see_a_deletion(url):
    conn = connector(url, tables="ssd_cin_episodes")
    _, position, _ = drain(conn)
    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(
            ssd.cin_episodes.delete().where(ssd.cin_episodes.c.cine_referral_id == "R0000001")
        )
    assert conn.read(position, 100) is None


def _plan_with_an_end(url) -> str:
    """A child protection plan that has ended (ending one if none has)."""
    plans = ssd.cp_plans
    engine = create_engine(url)
    with engine.begin() as c:
        key, started = c.execute(
            select(plans.c.cppl_cp_plan_id, plans.c.cppl_cp_plan_start_date)
            .order_by(plans.c.cppl_cp_plan_id)
            .limit(1)
        ).one()
        c.execute(
            update(plans)
            .where(plans.c.cppl_cp_plan_id == key)
            .values(cppl_cp_plan_end_date=started + dt.timedelta(days=100))
        )
    return key


def test_in_change_table_mode_a_deletion_purges_each_event_type_of_its_row(url):
    plan = _plan_with_an_end(url)
    engine = create_engine(url)
    install(engine, ssd.metadata.sorted_tables)
    conn = connector(url, mode="changes")
    before, position, _ = drain(conn)
    assert position["phase"] == "changes"
    with engine.begin() as c:
        c.execute(ssd.cp_plans.delete().where(ssd.cp_plans.c.cppl_cp_plan_id == plan))
        c.execute(
            update(ssd.cin_episodes)
            .where(ssd.cin_episodes.c.cine_referral_id == "R0000002")
            .values(cine_referral_team="T9", last_updated=LATER)
        )
    items, _, read = drain(conn, position)
    assert read == 2
    purges = [i for i in items if i.record["envelope"]["operation"] == "PURGE"]
    assert sorted(i.event_type for i in purges) == [
        "case_management.cp_plan_ended",
        "case_management.cp_plan_started",
    ]
    envelopes = [i.record["envelope"] for i in purges]
    assert {e["source_record"]["key"] for e in envelopes} == {plan}
    assert all(e["source_record"]["version"].startswith("deleted@") for e in envelopes)
    assert len({e["event_id"] for e in envelopes}) == 2
    assert not set(ids(purges)) & set(ids(before))
    [upsert] = [i for i in items if i.record["envelope"]["operation"] == "UPSERT"]
    assert upsert.record["team"] == "T9"


def test_a_deletion_recorded_without_its_row_is_dead_lettered(url):
    engine = create_engine(url)
    install(engine, [ssd.cin_episodes])
    conn = connector(url, mode="changes", tables="ssd_cin_episodes")
    _, position, _ = drain(conn)
    with engine.begin() as c:
        c.execute(
            insert(change_table).values(
                chg_table="ssd_cin_episodes", chg_key="R0000003", chg_op="D", chg_changed_at=LATER
            )
        )
    [item], _, _ = drain(conn, position)
    assert isinstance(item, Rejected)
    assert (item.error.rule, item.coordinates.key) == ("purge.row_image_missing", "R0000003")


def test_a_form_is_republished_when_one_answer_goes_and_purged_when_all_go(url):
    engine = create_engine(url)
    install(engine, [ssd.form_answers])
    conn = connector(url, mode="changes", tables="ssd_form_answers")
    _, position, _ = drain(conn)
    fa = ssd.form_answers
    with engine.connect() as c:
        form, n = c.execute(
            select(fa.c.foan_form_id, fa.c.foan_answer_id)
            .where(fa.c.foan_form_type == "EH_VOICE_NOTE")
            .where(fa.c.foan_question_code == "VNWorries")
            .limit(1)
        ).one()
    with engine.begin() as c:
        c.execute(fa.delete().where(fa.c.foan_answer_id == n))
    items, position, _ = drain(conn, position)
    [again] = [i.record for i in items]
    assert again["envelope"]["operation"] == "UPSERT"
    assert "WORRIES" not in [item["item_code"] for item in again["items"]]
    with engine.begin() as c:
        c.execute(fa.delete().where(fa.c.foan_form_id == form))
    items, _, _ = drain(conn, position)
    assert [i.record["envelope"]["operation"] for i in items] == ["PURGE"]
    assert items[0].record["voice_note_id"] == form


def test_settings_name_unknown_tables_and_modes():
    with pytest.raises(ConfigError) as err:
        connector("sqlite://", tables="ssd_person, ssd_pets", mode="sometimes")
    text = str(err.value)
    assert "unknown table(s) ssd_pets" in text
    assert "'mode' = 'sometimes'" in text


def test_check_reports_what_the_database_lacks(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    problems = connector(url, tables="ssd_cin_episodes,ssd_cp_plans", mode="changes").check_source()
    text = "\n".join(problems)
    for name in ("ssd_cin_episodes", "ssd_cp_plans", "ssd_person", "chorus_changes"):
        assert f"table {name} is missing" in text


def test_rows_where_reads_only_the_columns_asked_for_with_dates_parsed(url):
    conn = connector(url)
    client = conn.client
    with client.connect() as c:
        everyone = client.rows_where(c, ssd.person, "pers_person_id", [None])
        assert everyone == []
        ids = [r[0] for r in c.execute(select(ssd.person.c.pers_person_id).limit(20))]
        full = client.rows_where(c, ssd.person, "pers_person_id", ids)
        some = client.rows_where(
            c, ssd.person, "pers_person_id", ids, ("pers_person_id", "pers_dob")
        )
    assert len(some) == len(full) == len(ids)
    assert all(set(r) == {"pers_person_id", "pers_dob"} for r in some)
    by_id = {r["pers_person_id"]: r for r in full}
    for r in some:
        assert r["pers_dob"] == by_id[r["pers_person_id"]]["pers_dob"]
        assert r["pers_dob"] is None or isinstance(r["pers_dob"], dt.date)
    conn.close()
