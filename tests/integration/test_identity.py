"""Identity linkage on the real stack: three systems' events about one child get one person key.

Social care's person records (LA child id, NHS number, UPN) arrive first, as from
the LA's master index; health events (NHS number only) and school events (UPN
only) follow. A conflicting NHS number and a differing date of birth become
data-quality findings, and two records first seen apart are merged, visibly.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections import defaultdict

import pytest
from kafka import KafkaProducer

from schemas import topics
from schemas.codec import Codec
from schemas.examples import envelope
from schemas.examples.case_management import EXAMPLES as CASE_MANAGEMENT
from schemas.examples.education import EXAMPLES as EDUCATION
from schemas.examples.health import EXAMPLES as HEALTH
from schemas.identifiers import synthetic_nhs_number, synthetic_upn

CHILDREN = 6
codec = Codec()


def child(i: int) -> dict[str, str]:
    return {
        "la_child_id": f"C{i:07d}",
        "nhs_number": synthetic_nhs_number(1000 + i),
        "upn": synthetic_upn("999", 2001, 20, i),
    }


def event(examples: dict, event_type: str, key: str, source: str = "lcs-it", **ids) -> bytes:
    record = copy.deepcopy(examples[event_type])
    subject = {"la_child_id": None, "nhs_number": None, "upn": None, **ids}
    record["envelope"] = envelope(event_type, key=key, source_instance=source, **subject)
    return codec.encode(event_type, record)


def person_registered(i: int, source: str = "lcs-it", dob: dt.date | None = None, **ids) -> bytes:
    et = "case_management.person_registered"
    record = copy.deepcopy(CASE_MANAGEMENT[et])
    record["envelope"] = envelope(et, key=f"P{i}-{source}", source_instance=source, **ids)
    record["dob"] = dob or dt.date(2022, 1, 1) + dt.timedelta(days=i)
    return codec.encode(et, record)


def send(stack, ns, messages: list[tuple[str, bytes]]) -> None:
    producer = KafkaProducer(bootstrap_servers=stack.bootstrap, acks="all")
    for event_type, value in messages:
        domain, name = event_type.split(".", 1)
        producer.send(topics.source_topic(domain, name, ns.prefix), key=b"k", value=value)
    producer.flush()
    producer.close()


def linked(ns) -> list:
    return ns.read_all(topics.linked_topic(ns.prefix))


@pytest.fixture(scope="module")
def linkage(stack, tmp_path_factory):
    ns = stack.namespace()
    tmp = tmp_path_factory.mktemp("identity")
    try:
        ns.start_worker("it-identity", tmp / "worker.log")
        pr = "case_management.person_registered"
        first = [(pr, person_registered(i, **child(i))) for i in range(1, CHILDREN + 1)]
        send(stack, ns, first)
        ns.poll(lambda: len(linked(ns)) >= len(first) or None, 120, "person records linked")
        dr, ey = "health.development_review_completed", "education.eyfsp_assessed"
        c1 = child(1)
        later = [
            (dr, event(HEALTH, dr, f"H{i}", "health-it", nhs_number=child(i)["nhs_number"]))
            for i in range(1, CHILDREN + 1)
        ] + [
            (ey, event(EDUCATION, ey, f"E{i}", "school-it", upn=child(i)["upn"]))
            for i in range(1, CHILDREN + 1)
        ]
        # a second NHS number for child 1's LA id, and another source's date of birth for child 2
        other_nhs = synthetic_nhs_number(5000)
        later.append((pr, person_registered(1, "ehm-it", **{**c1, "nhs_number": other_nhs})))
        later.append((pr, person_registered(2, "ehm-it", dt.date(2019, 5, 5), **child(2))))
        send(stack, ns, later)
        total = len(first) + len(later)
        ns.poll(lambda: len(linked(ns)) >= total or None, 120, "every event linked")
        # child 7 is seen by health and by school apart before social care links them
        c7 = child(7)
        send(stack, ns, [(dr, event(HEALTH, dr, "H7", "health-it", nhs_number=c7["nhs_number"]))])
        send(stack, ns, [(ey, event(EDUCATION, ey, "E7", "school-it", upn=c7["upn"]))])
        ns.poll(lambda: len(linked(ns)) >= total + 2 or None, 120, "child 7 seen apart")
        send(stack, ns, [(pr, person_registered(7, **c7))])
        ns.poll(lambda: len(linked(ns)) >= total + 3 or None, 120, "child 7 linked")
        ns.poll(
            lambda: len(ns.read_all(topics.quality_topic(ns.prefix))) >= 3 or None, 60, "findings"
        )
        yield ns
    finally:
        ns.stop_processes()
        ns.delete_topics()


def by_source_key(ns) -> dict[str, set[str]]:
    """Source record key -> the person keys its events went out with."""
    keys: dict[str, set[str]] = defaultdict(set)
    for m in linked(ns):
        _, record = codec.decode(m.value)
        headers = dict(m.headers)
        keys[record["envelope"]["source_record"]["key"]].add(headers["chorus-person-key"].decode())
    return keys


def test_events_from_three_systems_about_one_child_share_one_person_key(linkage):
    keys = by_source_key(linkage)
    people = set()
    for i in range(1, CHILDREN + 1):
        person = keys[f"P{i}-lcs-it"]
        assert len(person) == 1
        assert keys[f"H{i}"] == person, f"health event of child {i}"
        assert keys[f"E{i}"] == person, f"school event of child {i}"
        people |= person
    assert len(people) == CHILDREN  # and different children stay apart


def test_conflicts_become_findings_never_silent_merges(linkage):
    findings = linkage.decoded(topics.quality_topic(linkage.prefix))
    rules = {(f["rule"], f["severity"]) for f in findings}
    assert ("identity.conflicting_nhs", "CONFLICT") in rules
    assert ("identity.date_of_birth_differs", "CONFLICT") in rules
    assert ("identity.persons_merged", "MERGE") in rules
    conflict = next(f for f in findings if f["rule"] == "identity.conflicting_nhs")
    assert conflict["source"]["key"] == "P1-ehm-it" and conflict["field"] == "subject.nhs_number"
    keys = by_source_key(linkage)
    assert keys["P1-ehm-it"] == keys["P1-lcs-it"]  # the LA child id still finds the child
    text = repr(findings).encode()
    for i in range(1, 8):
        for value in child(i).values():
            assert value.encode() not in text
    assert synthetic_nhs_number(5000).encode() not in text


def test_records_first_seen_apart_are_merged_into_the_person_social_care_knows(linkage):
    keys = by_source_key(linkage)
    merged = next(
        f
        for f in linkage.decoded(topics.quality_topic(linkage.prefix))
        if f["rule"] == "identity.persons_merged"
    )
    assert merged["person_ref"] != merged["other_person_ref"]
    assert len(keys["P7-lcs-it"]) == 1 and keys["P7-lcs-it"] == keys["H7"]
    assert keys["E7"] != keys["H7"]  # it went out before anything linked it: recorded as a merge
