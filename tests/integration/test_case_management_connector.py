"""The case-management connector on the real Kafka: every SSD table of a synthetic LA,
on SQLite and on a real PostgreSQL server, in snapshot, incremental and change-table
modes, and across a kill -9 of the connector process.

The oracle is the database itself: rows per table (with the conditions that make a
row an event) minus the rows the synthesiser made bad on purpose, which must be in
chorus.dlq.connector with their table, key and rule.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import signal
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError
from sqlalchemy import create_engine, func, select, update

from connectors import registry
from connectors.case_management import ssd, voice_mapping
from connectors.case_management.changes import install as install_change_triggers
from connectors.common.runner import ConnectorRunner
from deploy.synth.case_management import (
    SynthOptions,
    SynthSummary,
    copy_database,
    write_case_management_db,
)
from schemas import topics
from schemas.catalogue import default_catalogue
from tests.integration.harness import REPO, Namespace, poll
from tests.integration.postgres_fixture import postgres_url  # noqa: F401 - a fixture

pytestmark = pytest.mark.integration

CHILDREN = 1500
EVENT_TYPES = [
    t
    for t in default_catalogue().event_types()
    if t.split(".")[0] in ("case_management", "voice", "consent")
]


# --------------------------------------------------------------------------- helpers


def source_topic(ns: Namespace, event_type: str) -> str:
    domain, event = event_type.split(".", 1)
    return topics.source_topic(domain, event, ns.prefix)


def create_source_topics(ns: Namespace) -> None:
    """schemas.topics lists only the referral topic today; the rest are made here."""
    admin = KafkaAdminClient(bootstrap_servers=ns.stack.bootstrap)
    names = [source_topic(ns, t) for t in EVENT_TYPES]
    try:
        for name in names:
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics([NewTopic(name, 4, 1)])

        def led() -> bool:  # every partition has a leader, so the first sends are not retried
            found = admin.describe_topics(names)
            return all(p["leader_id"] >= 0 for t in found for p in t["partitions"]) and len(
                found
            ) == len(names)

        poll(led, 30, "partition leaders")
    finally:
        admin.close()


def runner(ns: Namespace, url: str, state: Path, **settings: Any) -> ConnectorRunner:
    raw = {
        "connector": "case_management",
        "name": "lcs-it",
        "source_url": url,
        "source_system": "LIQUIDLOGIC_LCS",
        "la_code": "999",
        "kafka_bootstrap": ns.stack.bootstrap,
        "state_dir": str(state),
        "topic_prefix": ns.prefix,
        "tables": "all",
        **settings,
    }
    return ConnectorRunner(registry.parse(raw))


def published(ns: Namespace) -> dict[str, list[dict[str, Any]]]:
    """Every event on the source topics, decoded, by event type."""
    return {t: ns.decoded(source_topic(ns, t)) for t in EVENT_TYPES}


def unique_ids(events: dict[str, list[dict[str, Any]]]) -> Counter[str]:
    return Counter({t: len({e["envelope"]["event_id"] for e in evs}) for t, evs in events.items()})


def _count(conn, table, *where) -> int:
    return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def _voice_forms(conn, bad_forms: set[str]) -> Counter[str]:
    """Statements per form and speaker, and Voice Notes, as the voice mapping file says."""
    mapping = voice_mapping.load()
    forms: dict[str, dict[str, Any]] = defaultdict(dict)
    kinds: dict[str, str] = {}
    for form, kind, question, answer in conn.execute(
        select(
            ssd.form_answers.c.foan_form_id,
            ssd.form_answers.c.foan_form_type,
            ssd.form_answers.c.foan_question_code,
            ssd.form_answers.c.foan_answer,
        )
    ):
        forms[form][question] = answer
        kinds[form] = kind
    out: Counter[str] = Counter()
    for form, answers in forms.items():
        spec = mapping.spec(kinds[form])
        if spec is None or form in bad_forms:
            continue
        if spec.event == voice_mapping.VOICE_NOTE:
            out[spec.event] += any(q in answers for q in spec.questions)
            continue
        for role in spec.authors:
            out[spec.event] += any(
                (answers.get(q.code) or "").strip()
                for q in spec.questions.values()
                if q.author == role
            )
    return out


def expected_events(url: str, bad: tuple[tuple[str, str, str], ...]) -> Counter[str]:
    """Events per type the database should give: its rows, less the bad ones."""
    rejected: dict[str, set[str]] = defaultdict(set)
    for table, key, _ in bad:
        rejected[table].add(key)

    def rows(table, *where) -> int:
        with engine.connect() as conn:
            keys = {
                str(k)
                for k in conn.execute(select(table.primary_key.columns[0]).where(*where)).scalars()
            }
        return len(keys - rejected[table.name])

    engine = create_engine(url)
    try:
        cm = "case_management."
        out = Counter(
            {
                cm + "person_registered": rows(ssd.person),
                cm + "identifier_linked": rows(ssd.linked_identifiers),
                cm + "contact": rows(ssd.contacts),
                cm + "referral": rows(ssd.cin_episodes),
                cm + "assessment": rows(ssd.cin_assessments),
                cm + "s47_enquiry": rows(ssd.s47_enquiry),
                cm + "initial_cp_conference": rows(ssd.initial_cp_conference),
                cm + "cin_plan": rows(ssd.cin_plans),
                cm + "cp_plan_started": rows(ssd.cp_plans),
                cm + "cp_plan_ended": rows(
                    ssd.cp_plans, ssd.cp_plans.c.cppl_cp_plan_end_date.is_not(None)
                ),
                cm + "cp_plan_reviewed": rows(
                    ssd.cp_reviews, ssd.cp_reviews.c.cppr_cp_review_date.is_not(None)
                ),
                cm + "cla_episode": rows(ssd.cla_episodes),
                cm + "cla_placement": rows(ssd.cla_placement),
                cm + "cla_review": rows(ssd.cla_reviews),
                cm + "missing_episode": rows(ssd.missing),
                cm + "care_leaver_contact": rows(
                    ssd.care_leavers,
                    ssd.care_leavers.c.clea_care_leaver_latest_contact.is_not(None),
                ),
                cm + "pathway_plan_reviewed": rows(ssd.pathway_plan_reviews),
                cm + "early_help_episode_started": rows(ssd.early_help_episodes),
                cm + "early_help_episode_ended": rows(
                    ssd.early_help_episodes,
                    ssd.early_help_episodes.c.earl_episode_end_date.is_not(None),
                ),
                cm + "early_help_outcome_evidenced": rows(ssd.early_help_outcomes),
                "consent.sharing_preference_recorded": rows(ssd.sharing_preferences),
            }
        )
        with engine.connect() as conn:
            out.update(_voice_forms(conn, rejected["ssd_form_answers"]))
    finally:
        engine.dispose()
    return +out


def letters(ns: Namespace) -> list[dict[str, Any]]:
    return ns.decoded(topics.dlq_topic("connector", ns.prefix))


def check_dead_letters(ns: Namespace, summary: SynthSummary) -> None:
    found = letters(ns)
    assert {(d["source"]["entity"], d["source"]["key"], d["rule"]) for d in found} == set(
        summary.bad
    )
    for d in found:
        assert d["payload"]  # the source row, kept for a replay once fixed
        assert d["field"]
        assert not re.search(r"\b999\d{7}\b", d["reason"])  # no NHS number in the reason


@pytest.fixture(scope="module")
def la(tmp_path_factory) -> tuple[str, SynthSummary]:
    path = tmp_path_factory.mktemp("la") / "cm.db"
    url = f"sqlite:///{path}"
    return url, write_case_management_db(url, SynthOptions(children=CHILDREN, seed=11))


# --------------------------------------------------------------------------- tests


def test_every_table_is_published_once_per_row_and_bad_rows_are_dead_lettered(
    namespace, tmp_path, la
):
    url, summary = la
    assert summary.bad, "the synthetic LA should hold some bad rows"
    create_source_topics(namespace)
    run = runner(namespace, url, tmp_path / "state", mode="snapshot")
    stats = run.run(until_idle=True)
    run.close()
    expected = expected_events(url, summary.bad)
    assert unique_ids(published(namespace)) == expected
    assert stats.published == sum(expected.values())  # a snapshot publishes each form once
    assert stats.dead_lettered == len(summary.bad)
    check_dead_letters(namespace, summary)
    assert run.position()["phase"] == "incremental"


def test_after_the_snapshot_only_changed_rows_are_published(namespace, tmp_path, la):
    url, _ = la
    db = Path(url.removeprefix("sqlite:///"))
    copy = tmp_path / "cm.db"
    copy.write_bytes(db.read_bytes())
    url = f"sqlite:///{copy}"
    create_source_topics(namespace)
    state = tmp_path / "state"
    first = runner(namespace, url, state, mode="snapshot")
    first.run(until_idle=True)
    first.close()
    events = published(namespace)
    before = {t: len(evs) for t, evs in events.items()}
    ended_before = {e["cp_plan_id"] for e in events["case_management.cp_plan_ended"]}
    engine = create_engine(url)
    later = dt.datetime(2026, 4, 2, 10, 0)
    plans = ssd.cp_plans
    with engine.begin() as conn:
        open_plans = list(
            conn.execute(
                select(plans.c.cppl_cp_plan_id, plans.c.cppl_cp_plan_start_date)
                .where(plans.c.cppl_cp_plan_end_date.is_(None))
                .order_by(plans.c.cppl_cp_plan_id)
                .limit(2)
            )
        )
        for key, started in open_plans:
            conn.execute(
                update(plans)
                .where(plans.c.cppl_cp_plan_id == key)
                .values(cppl_cp_plan_end_date=started + dt.timedelta(days=200), last_updated=later)
            )
    engine.dispose()
    second = runner(namespace, url, state, mode="snapshot")  # the position says incremental
    stats = second.run(until_idle=True)
    second.close()
    after = published(namespace)
    assert stats.read == len(open_plans)
    grown = {t: len(evs) - before[t] for t, evs in after.items() if len(evs) != before[t]}
    assert grown == {
        "case_management.cp_plan_started": len(open_plans),
        "case_management.cp_plan_ended": len(open_plans),
    }
    ended = {e["cp_plan_id"] for e in after["case_management.cp_plan_ended"]}
    assert ended - ended_before == {key for key, _ in open_plans}


def _delete_some(url: str) -> dict[str, str]:
    """Delete one referral and one assessment; their keys by table."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            referral = conn.execute(
                select(ssd.cin_episodes.c.cine_referral_id)
                .order_by(ssd.cin_episodes.c.cine_referral_id)
                .limit(1)
            ).scalar_one()
            assessment = conn.execute(
                select(ssd.cin_assessments.c.cina_assessment_id)
                .order_by(ssd.cin_assessments.c.cina_assessment_id)
                .limit(1)
            ).scalar_one()
            conn.execute(
                ssd.cin_episodes.delete().where(ssd.cin_episodes.c.cine_referral_id == referral)
            )
            conn.execute(
                ssd.cin_assessments.delete().where(
                    ssd.cin_assessments.c.cina_assessment_id == assessment
                )
            )
    finally:
        engine.dispose()
    return {"case_management.referral": referral, "case_management.assessment": assessment}


def check_change_table_mode(ns: Namespace, url: str, state: Path) -> None:
    """Snapshot in changes mode, then deletions become PURGE events of their event types."""
    engine = create_engine(url)
    install_change_triggers(engine, ssd.metadata.sorted_tables)
    engine.dispose()
    create_source_topics(ns)
    first = runner(ns, url, state, mode="changes")
    first.run(until_idle=True)
    first.close()
    assert first.position()["phase"] == "changes"
    deleted = _delete_some(url)
    second = runner(ns, url, state, mode="changes")
    stats = second.run(until_idle=True)
    second.close()
    assert stats.read == 2
    for event_type, key in deleted.items():
        purges = [
            e
            for e in ns.decoded(source_topic(ns, event_type))
            if e["envelope"]["operation"] == "PURGE"
        ]
        assert [e["envelope"]["source_record"]["key"] for e in purges] == [key]
        assert purges[0]["envelope"]["subject"]["la_child_id"]
        assert purges[0]["envelope"]["source_record"]["version"].startswith("deleted@")


def test_a_deletion_in_the_change_table_becomes_a_purge_event(namespace, tmp_path):
    url = f"sqlite:///{tmp_path / 'cm.db'}"
    write_case_management_db(url, SynthOptions(children=300, seed=5))
    check_change_table_mode(namespace, url, tmp_path / "state")


def test_the_same_on_postgresql(namespace, tmp_path, la, postgres_url):  # noqa: F811
    url, summary = la
    copy_database(url, postgres_url)
    create_source_topics(namespace)
    run = runner(namespace, postgres_url, tmp_path / "state", mode="snapshot")
    assert run.connector.check_source() == []
    run.run(until_idle=True)
    run.close()
    assert unique_ids(published(namespace)) == expected_events(postgres_url, summary.bad)
    check_dead_letters(namespace, summary)


def test_change_table_mode_on_postgresql(stack, tmp_path, postgres_url):  # noqa: F811
    ns = stack.namespace()
    small = f"sqlite:///{tmp_path / 'small.db'}"
    write_case_management_db(small, SynthOptions(children=300, seed=5))
    copy_database(small, postgres_url)
    check_change_table_mode(ns, postgres_url, tmp_path / "state")


def test_a_killed_connector_process_loses_nothing_when_restarted(namespace, tmp_path, la):
    url, summary = la
    create_source_topics(namespace)
    state = tmp_path / "state"
    config = tmp_path / "connector.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "connector": "case_management",
                "name": "lcs-kill",
                "source_url": url,
                "la_code": "999",
                "tables": "all",
                "mode": "incremental",
                "batch_size": 300,
                "state_dir": str(state),
            }
        )
    )
    chorus = [sys.executable, "-m", "deploy", "connector", "run", str(config), "--until-idle"]
    env = namespace.env()
    log = (tmp_path / "run1.log").open("wb")
    proc = subprocess.Popen(chorus, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    position = state / "lcs-kill.position.json"
    namespace.poll(lambda: position.exists() and position.stat().st_size > 0, 120, "a position")
    namespace.poll(
        lambda: sum(
            len(namespace.read_all(source_topic(namespace, t), 200)) for t in EVENT_TYPES[:3]
        ),
        60,
        "some events",
    )
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    again = subprocess.run(chorus, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    events = published(namespace)
    assert unique_ids(events) == expected_events(url, summary.bad)  # none missing, none extra
    offsets = sum(len(v) for v in events.values())
    assert offsets >= sum(unique_ids(events).values())  # duplicates by offset are allowed
