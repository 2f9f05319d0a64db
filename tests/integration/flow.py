"""Building blocks of the referral flow tests: a synthetic LA, a connector, expected cells."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import create_engine

from connectors import registry
from connectors.case_management import ssd
from connectors.common.runner import ConnectorRunner
from deploy.synth.case_management import SynthOptions, write_case_management_db
from tests.integration.harness import REPO, Namespace

DISCLOSURE = yaml.safe_load((REPO / "policies/data/disclosure.yaml").read_text())["disclosure"]


def synthetic_la(path: Path, children: int, seed: int) -> str:
    url = f"sqlite:///{path}"
    write_case_management_db(url, SynthOptions(children=children, seed=seed))
    return url


def connector(ns: Namespace, url: str, state: Path, batch_size: int = 2000) -> ConnectorRunner:
    conn = registry.parse(
        {
            "connector": "case_management",
            "name": "lcs-it",
            "source_url": url,
            "source_system": "LIQUIDLOGIC_LCS",
            "la_code": "999",
            "kafka_bootstrap": ns.stack.bootstrap,
            "state_dir": str(state),
            "topic_prefix": ns.prefix,
            "batch_size": batch_size,
        }
    )
    return ConnectorRunner(conn)


def insert_bad_referrals(url: str) -> list[str]:
    """Rows a real extract can hold that break the contract; returns their keys."""
    now = dt.datetime(2026, 3, 31, 23, 0)
    bad = [
        ("BAD1", {"cine_referral_source_code": "ZZ"}),
        ("BAD2", {"cine_cin_primary_need_code": "N12"}),
        (
            "BAD3",
            {"cine_referral_date": dt.date(2025, 5, 1), "cine_close_date": dt.date(2025, 1, 1)},
        ),
    ]
    engine = create_engine(url)
    with engine.begin() as conn:
        for i, (key, fields) in enumerate(bad):
            row = {
                "cine_referral_id": key,
                "cine_person_id": "C9999990",
                "cine_referral_date": dt.date(2025, 5, 1),
                "cine_referral_source_code": "6",
                "last_updated": now + dt.timedelta(minutes=i),
            }
            row.update(fields)
            conn.execute(ssd.cin_episodes.insert(), row)
    return [k for k, _ in bad]


def rounded(n: int, base: int) -> int:
    return base * ((2 * n + base) // (2 * base))


def source_counts(db: Path, exclude: tuple[str, ...] = ()) -> Counter[str]:
    """Referrals per month and source, computed directly from the source database."""
    con = sqlite3.connect(db)
    rows = con.execute(
        "select cine_referral_id, cine_referral_date, cine_referral_source_code"
        " from ssd_cin_episodes"
    ).fetchall()
    con.close()
    return Counter(f"{d[:7]}|{s}" for key, d, s in rows if key not in exclude)


def expected_cells(counts: Counter[str]) -> dict[str, tuple[Any, str]]:
    """The cells a subscriber should see for those counts, after the disclosure rules."""
    out = {}
    for key, n in counts.items():
        if 0 < n <= DISCLOSURE["suppress_at_or_below"]:
            out[key] = (None, "SUPPRESSED")
        else:
            out[key] = (float(rounded(n, DISCLOSURE["round_to"])), "PUBLISHED")
    return out


def published(cells: dict[str, dict[str, Any]]) -> dict[str, tuple[Any, str]]:
    return {k: (c["measures"][0]["value"], c["measures"][0]["status"]) for k, c in cells.items()}
