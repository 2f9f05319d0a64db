"""The SQL sink: latest cell per key, one transaction per batch, replays change nothing."""

from __future__ import annotations

import argparse
import datetime as dt
import io
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from deploy.commands import agg
from deploy.commands.common import UserError
from deploy.environment import Environment
from schemas.codec import Codec
from streams.aggregates import sql_sink as sink

CODEC = Codec()
T = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)


def cell(key="2025-03|6", value=10.0, status="PUBLISHED", statements=()):
    return {
        "aggregate": "referrals_by_source",
        "cell_key": key,
        "dimensions": {"month": key[:7], "referral_source": key[8:]},
        "measures": [
            {
                "name": "referrals",
                "value": value,
                "status": status,
                "note": None,
                "kind": "COUNT",
                "suppression": None if status == "PUBLISHED" else "SMALL_COUNT",
                "denominator": None,
                "unit": "referrals",
            }
        ],
        "publication": {
            "sequence": 1,
            "published_at": T,
            "rules": ["counts from 1 to 7 suppressed"],
            "policy_revision": "r1",
            "method": "rounding",
            "parameters": {"round_to": 5.0},
        },
        "table": "referrals_by_source",
        "statements": [{"text": s, "author_role": "YOUNG_PERSON"} for s in statements],
        "annotations": {},
    }


def message(c, offset, value=True):
    return SimpleNamespace(
        topic="chorus.agg.referrals_by_source",
        partition=0,
        offset=offset,
        key=c["cell_key"].encode(),
        value=CODEC.encode("platform.aggregate_cell", c) if value else None,
    )


@pytest.fixture
def db(tmp_path):
    return sink.open_database(f"sqlite:///{tmp_path / 'agg.db'}")


def measures(db):
    with db.connect() as conn:
        return {
            (r.cell_key, r.measure): (r.value, r.status) for r in conn.execute(select(sink.MEASURE))
        }


def test_the_latest_cell_per_key_is_kept(db):
    stats = sink.SinkStats()
    sink.write_batch(db, [message(cell(value=10.0), 1), message(cell(value=15.0), 2)], CODEC, stats)
    assert measures(db) == {("2025-03|6", "referrals"): (15.0, "PUBLISHED")}
    with db.connect() as conn:
        row = conn.execute(select(sink.CELL)).one()
        dims = {r.dimension: r.value for r in conn.execute(select(sink.DIMENSION))}
    assert row.method == "rounding" and row.kafka_offset == 2
    assert dims == {"month": "2025-03", "referral_source": "6"}


def test_a_replayed_batch_changes_nothing(db):
    stats = sink.SinkStats()
    sink.write_batch(db, [message(cell(value=15.0), 5)], CODEC, stats)
    sink.write_batch(db, [message(cell(value=10.0), 4), message(cell(value=15.0), 5)], CODEC, stats)
    assert measures(db) == {("2025-03|6", "referrals"): (15.0, "PUBLISHED")}
    assert stats.skipped == 1


def test_suppressed_values_are_null_and_statements_are_rows(db):
    stats = sink.SinkStats()
    sink.write_batch(db, [message(cell(value=None, status="SUPPRESSED"), 1)], CODEC, stats)
    assert measures(db) == {("2025-03|6", "referrals"): (None, "SUPPRESSED")}
    sink.write_batch(db, [message(cell(statements=["[redacted]"]), 2)], CODEC, stats)
    with db.connect() as conn:
        assert [r.text for r in conn.execute(select(sink.STATEMENT))] == ["[redacted]"]


def test_a_tombstone_removes_the_cell(db):
    stats = sink.SinkStats()
    sink.write_batch(db, [message(cell(), 1)], CODEC, stats)
    sink.write_batch(db, [message(cell(), 2, value=False)], CODEC, stats)
    assert measures(db) == {} and stats.deleted == 1


# --- the `chorus agg` command ----------------------------------------------------------------


def parse(*argv):
    p = argparse.ArgumentParser(prog="chorus")
    agg.add_parser(p.add_subparsers(dest="command"))
    return p.parse_args(argv)


def test_agg_command_parses_rebuild_and_sink():
    args = parse("agg", "rebuild", "care_leavers", "--dry-run", "--reset-app", "chorus-streams")
    assert (args.action, args.name, args.dry_run, args.reset_app) == (
        "rebuild",
        "care_leavers",
        True,
        "chorus-streams",
    )
    args = parse("agg", "sink", "--url", "sqlite:///x.db", "--until-idle", "5")
    assert args.url == "sqlite:///x.db" and args.until_idle == 5.0


def test_an_unknown_aggregate_is_one_clear_line():
    with pytest.raises(UserError, match="no aggregate named 'nope'"):
        agg.run(parse("agg", "rebuild", "nope"), Environment({}))
    with pytest.raises(UserError, match="--aggregates: unknown nope"):
        agg.run(parse("agg", "sink", "--aggregates", "nope"), Environment({}))


def test_agg_list_names_every_aggregate_and_table():
    out = io.StringIO()
    agg._list(out)
    text = out.getvalue()
    for name in ("care_leavers", "early_help_voice", "information_map", "domain_ratings"):
        assert name in text


def test_tail_format_shows_rates_means_and_suppression():
    c = cell()
    c["measures"].append({**c["measures"][0], "name": "rate", "kind": "RATE", "value": 40.0})
    c["measures"].append({**c["measures"][0], "name": "m", "status": "SUPPRESSED", "value": None})
    line = agg.format_cell(c)
    assert "referrals=10" in line and "rate=40%" in line and "m=suppressed" in line
