"""A withdrawn consent, and an objection to strategic use, on the real stack.

A young person (17) consented to research, and has a child protection plan open.
Their events go out to research, strategic reporting and safeguarding. Then they
withdraw the consent and object to strategic use of their information, from a
time T. From then on:

- research (which relies on consent) and strategic reporting (which honours
  objections) receive nothing more about them: the ledger says NOT_SHARED with
  the wishes reason, and the share topics do not hold the events;
- safeguarding (which neither relies on consent nor stops for objections) still
  receives every event, as does the statutory return;
- what was shared before T stays shared (the ledger's SHARED entries and the
  messages are still there);
- the gatekeeper tells strategic reporting (chorus.share.strategic_reporting.
  subject_withdrawn, keyed by their pseudonym) and their contribution leaves the
  aggregates' cells, while another child's stays.

Events that arrive after T but are dated before it are not shared either: the
gatekeeper decides when it shares, and after T there is no consent to share on.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from kafka import KafkaProducer

from schemas import topics
from schemas.codec import Codec
from schemas.examples import case_management, consent, envelope, health
from schemas.identifiers import synthetic_nhs_number, synthetic_upn
from streams.gatekeeper import withdrawals
from tests.integration.harness import Namespace
from tests.integration.test_aggregates import live_members

pytestmark = pytest.mark.integration
codec = Codec()
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
T = NOW - dt.timedelta(minutes=2)  # when the withdrawal and the objection take effect
RESEARCH, STRATEGIC, SAFEGUARDING = "research", "strategic_reporting", "safeguarding"
EXAMPLES = {**case_management.EXAMPLES, **consent.EXAMPLES, **health.EXAMPLES}
WORKER = "it-withdraw"
FACT_EVENTS = ("referral", "development_review_completed", "cp_plan_reviewed")


def child(i: int) -> dict[str, str]:
    return {
        "la_child_id": f"C{7700 + i:07d}",
        "nhs_number": synthetic_nhs_number(7700 + i),
        "upn": synthetic_upn("999", 2009, 20, 770 + i),
    }


def event(event_type: str, key: str, ids: dict, when: dt.datetime, **fields: Any) -> dict:
    record = copy.deepcopy(EXAMPLES[event_type])
    record["envelope"] = envelope(
        event_type, key=key, when=when, recorded=fields.pop("recorded", None), **ids
    )
    record.update(fields)
    return record


def preference(key: str, ids: dict, recorded: dt.datetime, **fields: Any) -> dict:
    base = {
        "preference_id": key,
        "expressed_by": "YOUNG_PERSON",
        "child_age_years": 17,
        "competence_assessed": "NOT_ASSESSED",
        "scope": {"purpose": None, "recipient": None, "data_category": None},
        "decision": "ALLOW",
        "effective_from": NOW - dt.timedelta(days=3),
        "effective_to": None,
        "withdrawn": False,
        "withdrawn_at": None,
        "override": None,
        "national_data_opt_out": None,
    }
    base.update(fields)
    when = base["effective_from"]
    return event("consent.sharing_preference_recorded", key, ids, when, recorded=recorded, **base)


def facts(ids: dict, tag: str, when: dt.datetime) -> list[dict]:
    """A referral, a 2-year review and a child protection plan review, dated `when`."""
    return [
        event("case_management.referral", f"R-{tag}", ids, when, referral_id=f"R-{tag}"),
        event("health.development_review_completed", f"H-{tag}", ids, when),
        event("case_management.cp_plan_reviewed", f"CPR-{tag}", ids, when),
    ]


def publish(ns: Namespace, records: list[dict]) -> set[str]:
    producer = KafkaProducer(bootstrap_servers=ns.stack.bootstrap, acks="all")
    try:
        for record in records:
            event_type = record["envelope"]["event_type"]
            domain, name = event_type.split(".", 1)
            value = codec.encode(event_type, record)
            producer.send(topics.source_topic(domain, name, ns.prefix), key=b"k", value=value)
        producer.flush()
    finally:
        producer.close()
    return {r["envelope"]["event_id"] for r in records}


def ledger(ns: Namespace) -> dict[tuple[str, str, str], dict]:
    entries = ns.decoded(topics.ledger_topic(ns.prefix))
    return {(e["event_id"], e["recipient"], e["purpose"]): e for e in entries}


def wait_decided(ns: Namespace, ids: set[str]) -> dict[tuple[str, str, str], dict]:
    def done():
        entries = ledger(ns)
        return entries if ids <= {k[0] for k in entries} else None

    return ns.poll(done, 180, "the ledger to decide every event")


def shared_ids(ns: Namespace, purpose: str) -> set[str]:
    """Event ids of every message on the purpose's share topics of the facts' event types."""
    out = set()
    for name in FACT_EVENTS:
        topic = topics.share_topic(purpose, name, ns.prefix)
        for m in ns.read_all(topic):
            out.add(codec.decode(m.value)[1]["share"]["event_id"])
    return out


def outcomes(entries: dict, event_ids: set[str], purpose: str) -> set[str]:
    return {e["outcome"] for k, e in entries.items() if k[0] in event_ids and k[2] == purpose}


def reasons(entries: dict, event_ids: set[str], purpose: str) -> set[str]:
    return {e["reason"] for k, e in entries.items() if k[0] in event_ids and k[2] == purpose}


def members_of(ns: Namespace, pseudonym: str, aggregate: str = "referrals_by_source") -> int:
    cells = live_members(ns, WORKER, aggregate)
    return sum(1 for ms in cells.values() for m in ms if m.startswith(pseudonym[:16]))


def test_a_withdrawn_consent_and_an_objection_stop_sharing_from_their_time_on(
    namespace: Namespace, tmp_path
):
    ns = namespace
    yp, other = child(1), child(2)
    ns.start_worker(WORKER, tmp_path / "worker.log")
    registered = [
        event("case_management.person_registered", f"P{i}", ids, NOW - dt.timedelta(days=9))
        for i, ids in ((1, yp), (2, other))
    ]
    consented = preference("SP-YP", yp, NOW - dt.timedelta(days=3))
    plan = event("case_management.cp_plan_started", "CP-YP", yp, NOW - dt.timedelta(days=8))
    wait_decided(ns, publish(ns, [*registered, consented, plan]))
    before = publish(ns, facts(yp, "before", T - dt.timedelta(days=5)))
    control = publish(ns, facts(other, "other", T - dt.timedelta(days=5)))
    entries = wait_decided(ns, before | control)
    # Before T: shared for research (with consent), strategic reporting and safeguarding.
    for purpose in (RESEARCH, STRATEGIC, SAFEGUARDING):
        assert "SHARED" in outcomes(entries, before, purpose), purpose
    assert outcomes(entries, control, RESEARCH) == {"NOT_SHARED"}  # no consent, no research
    strategic = {
        m["share"]["person_pseudonym"]
        for name in ("referral",)
        for m in ns.decoded(topics.share_topic(STRATEGIC, name, ns.prefix))
    }
    assert len(strategic) == 2
    yp_psd = next(
        m["share"]["person_pseudonym"]
        for m in ns.decoded(topics.share_topic(STRATEGIC, "referral", ns.prefix))
        if m["share"]["event_id"] in before
    )
    other_psd = (strategic - {yp_psd}).pop()
    ns.poll(lambda: members_of(ns, yp_psd) > 0 or None, 120, "the young person counted")

    # T: the consent withdrawn (a new version of the same preference), and an objection.
    withdrawn = preference("SP-YP", yp, NOW, withdrawn=True, withdrawn_at=T)
    objection = preference(
        "SP-YP-OBJ",
        yp,
        NOW,
        decision="OBJECT",
        effective_from=T,
        scope={"purpose": STRATEGIC, "recipient": None, "data_category": None},
    )
    wait_decided(ns, publish(ns, [withdrawn, objection]))
    after = publish(ns, facts(yp, "after", NOW))
    late = publish(ns, facts(yp, "late", T - dt.timedelta(days=2)))  # dated before T
    entries = wait_decided(ns, after | late)

    for ids in (after, late):
        assert outcomes(entries, ids, RESEARCH) == {"NOT_SHARED"}
        assert all("relies on consent" in r for r in reasons(entries, ids, RESEARCH))
        assert outcomes(entries, ids, STRATEGIC) == {"NOT_SHARED"}
        assert all("objects to this sharing" in r for r in reasons(entries, ids, STRATEGIC))
        assert "SHARED" in outcomes(entries, ids, SAFEGUARDING)
        assert "SHARED" in outcomes(entries, ids, "statutory_return")
    # What went before T stays as it was decided.
    assert "SHARED" in outcomes(entries, before, RESEARCH)
    research, reporting = shared_ids(ns, RESEARCH), shared_ids(ns, STRATEGIC)
    assert before & research and before & reporting
    assert not (after | late) & research
    assert not (after | late) & reporting
    safeguarded = {
        k[0] for k, e in entries.items() if k[2] == SAFEGUARDING and e["outcome"] == "SHARED"
    }
    assert safeguarded & after and safeguarded & late  # the 2-year reviews
    assert safeguarded & (after | late) <= shared_ids(ns, SAFEGUARDING)

    # The gatekeeper told strategic reporting; the young person leaves the cells.
    said = ns.read_all(withdrawals.withdrawn_topic(ns.prefix))
    assert said, "no subject_withdrawn message"
    last = codec.decode(said[-1].value)[1]
    assert said[-1].key == yp_psd.encode() and last["person_pseudonym"] == yp_psd
    assert last["event_types"] == ["*"]
    assert {m.key for m in said} == {yp_psd.encode()}
    ns.poll(lambda: members_of(ns, yp_psd) == 0 or None, 120, "the young person leaving cells")
    assert members_of(ns, other_psd) > 0
