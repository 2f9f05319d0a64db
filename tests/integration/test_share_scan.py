"""No share topic for strategic reporting or research holds anything that identifies a child.

A whole synthetic LA (`chorus synth`: the case-management database, the health
visiting FHIR files and the school files, for the same children) goes through
its three connectors into a fresh namespace; a few families' consent to the
research study is recorded in the case-management system first, so research
receives something. A worker links and decides every event. Then every
message of every chorus.share.strategic_reporting.* and chorus.share.research.*
topic is decoded and every string, number and date in it (and its raw bytes, key
and headers) is searched for every child's NHS number, UPN, LA child id, first
name, surname, full date of birth and full postcode, taken from the sources
themselves. The children's own statements are shared to strategic reporting
scrubbed, so the markers the scrubbing leaves must be there too.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from kafka import KafkaConsumer, TopicPartition
from sqlalchemy import create_engine, insert, select

from connectors import registry
from connectors.case_management import ssd
from connectors.common.runner import ConnectorRunner
from deploy.topic_plan import planned_topics
from schemas import topics
from schemas.codec import Codec
from tests.integration.harness import REPO, Namespace

pytestmark = pytest.mark.integration
CHILDREN, SEED = 300, 11
PURPOSES = ("strategic_reporting", "research")
RECIPIENTS = yaml.safe_load((REPO / "policies/data/recipients.yaml").read_text())["recipients"]
UPN_SHAPE = re.compile(r"\b[A-Z][0-9]{11}[0-9A-Z]\b")
# The shapes an identifier, postcode or date can take inside a longer text (each apart,
# so that one shape does not hide another that overlaps it).
TOKEN_SHAPES = tuple(
    re.compile(shape)
    for shape in (
        r"[A-Za-z0-9]+",
        r"\d{3}[ -]\d{3}[ -]\d{4}",
        r"[A-Za-z]{1,2}\d[A-Za-z\d]? \d[A-Za-z]{2}",
        r"\d{1,2}[/.-]\d{1,2}[/.-]\d{4}|\d{4}-\d{2}-\d{2}",
        r"\d{1,2} [A-Za-z]+ \d{4}|[A-Za-z]+ \d{1,2}, \d{4}",
    )
)
WORDS = re.compile(r"[A-Za-z]+")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")  # fmt: skip


@dataclass
class Identifying:
    """Everything that identifies the synthetic children, as the sources hold it."""

    exact: set[str] = field(default_factory=set)  # identifiers, postcodes, dates of birth
    names: set[str] = field(default_factory=set)  # matched as whole words
    dates: set[dt.date] = field(default_factory=set)

    def add_dob(self, dob: dt.date) -> None:
        self.dates.add(dob)
        month = MONTHS[dob.month - 1]
        self.exact |= {
            dob.isoformat(),
            dob.strftime("%d/%m/%Y"),
            dob.strftime("%d-%m-%Y"),
            dob.strftime("%d.%m.%Y"),
            dob.strftime("%Y%m%d"),
            f"{dob.day} {month} {dob.year}",
            f"{dob.day} {month[:3]} {dob.year}",
            f"{month} {dob.day}, {dob.year}",
        }

    def add_postcode(self, postcode: str) -> None:
        compact = postcode.replace(" ", "").upper()
        self.exact |= {postcode.upper(), compact, f"{compact[:-3]} {compact[-3:]}"}


def from_sources(out: Path) -> Identifying:
    ids = Identifying()
    engine = create_engine(f"sqlite:///{out / 'case_management.db'}")
    with engine.connect() as conn:
        for row in conn.execute(select(ssd.person)):
            ids.exact.add(row.pers_person_id)
            ids.names |= {row.pers_forename, row.pers_surname}
            if row.pers_dob:
                ids.add_dob(row.pers_dob)
        for row in conn.execute(select(ssd.linked_identifiers)):
            ids.exact.add(row.link_identifier_value)
            if row.link_identifier_type == "NHS Number":
                v = row.link_identifier_value
                ids.exact |= {f"{v[:3]} {v[3:6]} {v[6:]}", f"{v[:3]}-{v[3:6]}-{v[6:]}"}
        for row in conn.execute(select(ssd.address)):
            if row.addr_address_postcode:
                ids.add_postcode(row.addr_address_postcode)
    engine.dispose()
    for path in (out / "education").iterdir():  # every UPN in the school files, former ones too
        ids.exact |= set(UPN_SHAPE.findall(path.read_text(encoding="utf-8", errors="replace")))
    for path in (out / "health").iterdir():
        lines = path.read_text(encoding="utf-8").splitlines()
        docs = [json.loads(x) for x in lines if x.strip()] if path.suffix == ".ndjson" else []
        if path.suffix == ".json":
            docs = [json.loads("\n".join(lines))]
        for node in walk(docs):
            if isinstance(node, dict) and str(node.get("system", "")).endswith("nhs-number"):
                ids.exact.add(str(node["value"]))
            if isinstance(node, dict) and "family" in node:
                ids.names |= {node["family"], *node.get("given", [])}
    ids.names.discard("")
    return ids


def walk(value: Any) -> Iterator[Any]:
    yield value
    if isinstance(value, dict):
        for v in value.values():
            yield from walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v)


def record_research_consent(db: Path, every: int = 3) -> int:
    """Consent to the research study for every `every`th child, recorded by a parent."""
    engine = create_engine(f"sqlite:///{db}")
    start = dt.datetime(2024, 1, 1)
    with engine.begin() as conn:
        people = [r.pers_person_id for r in conn.execute(select(ssd.person.c.pers_person_id))]
        rows = [
            {
                "shpr_preference_id": f"RESEARCH-{i}",
                "shpr_person_id": person,
                "shpr_expressed_by": "PARENT_CARER",
                "shpr_competence_assessed": "NOT_ASSESSED",
                "shpr_purpose": "research",
                "shpr_decision": "ALLOW",
                "shpr_effective_from": start,
                "last_updated": start,
            }
            for i, person in enumerate(people[::every])
        ]
        conn.execute(insert(ssd.sharing_preferences), rows)
    engine.dispose()
    return len(rows)


def count(ns: Namespace, topic: str) -> int:
    """How many messages `topic` holds (its end offsets; nothing is deleted in a test)."""
    consumer = KafkaConsumer(bootstrap_servers=ns.stack.bootstrap, group_id=None)
    try:
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
        return sum(consumer.end_offsets(parts).values()) if parts else 0
    finally:
        consumer.close()


def run_connectors(ns: Namespace, out: Path) -> int:
    published = 0
    for source in ("case_management", "health", "education"):
        raw = yaml.safe_load((out / f"{source}.connector.yaml").read_text(encoding="utf-8"))
        raw.update(kafka_bootstrap=ns.stack.bootstrap, topic_prefix=ns.prefix)
        runner = ConnectorRunner(registry.parse(raw))
        try:
            published += runner.run(until_idle=True).published
        finally:
            runner.close()
    return published


@dataclass
class Scan:
    messages: Counter[str] = field(default_factory=Counter)  # per topic
    found: list[str] = field(default_factory=list)  # where, never what
    pseudonyms: dict[str, dict[str, str]] = field(default_factory=dict)  # purpose -> event -> psd
    texts: list[str] = field(default_factory=list)


def identifying(text: str, ids: Identifying, exact: set[str], names: bool = True) -> bool:
    """Whether `text` holds a child's identifier, postcode or date of birth (or a name)."""
    if any(t.upper() in exact for shape in TOKEN_SHAPES for t in shape.findall(text)):
        return True
    return names and any(w in ids.names for w in WORDS.findall(text))


def scan_topic(ns: Namespace, topic: str, purpose: str, ids: Identifying, scan: Scan) -> None:
    codec = Codec()
    exact = {x.upper() for x in ids.exact}
    for m in ns.read_all(topic):
        where = f"{topic}@{m.partition}:{m.offset}"
        scan.messages[topic] += 1
        # Names are looked for in the decoded strings: binary numbers can spell short words.
        if identifying(m.value.decode("latin-1"), ids, exact, names=False):
            scan.found.append(f"{where} raw bytes")
        text = b" ".join([m.key or b"", *(v for _, v in m.headers)]).decode("utf-8")
        if identifying(text, ids, exact):
            scan.found.append(f"{where} key or headers")
        schema, record = codec.decode(m.value)
        for value in walk(record):
            if isinstance(value, str):
                if identifying(value, ids, exact):
                    scan.found.append(f"{where} a string")
            elif isinstance(value, int) and not isinstance(value, bool):
                if str(value) in ids.exact:
                    scan.found.append(f"{where} a number")
            elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
                scan.found += [f"{where} a date"] if value in ids.dates else []
        share = record.get("share")
        if share and share.get("person_pseudonym"):
            scan.pseudonyms.setdefault(purpose, {})[share["event_id"]] = share["person_pseudonym"]
        if schema.event_type.startswith("share.voice."):
            scan.texts += [v for v in (record.get("text"),) if v]
            scan.texts += [i["text"] for i in record.get("items") or [] if i.get("text")]


def test_no_share_topic_for_reporting_or_research_holds_identifying_details(
    namespace: Namespace, tmp_path: Path
):
    ns, out = namespace, tmp_path / "la"
    subprocess.run(
        [sys.executable, "-m", "deploy", "synth", "--children", str(CHILDREN),
         "--seed", str(SEED), "--out", str(out)],
        cwd=REPO, check=True, capture_output=True,
    )  # fmt: skip
    consented = record_research_consent(out / "case_management.db")
    ids = from_sources(out)
    assert len(ids.names) > 50 and len(ids.dates) > CHILDREN // 2 and consented > 50
    exact = {x.upper() for x in ids.exact}
    for planted in sorted(ids.exact)[:: max(1, len(ids.exact) // 40)] + sorted(ids.names)[:5]:
        assert identifying(f"said {planted}, then", ids, exact)  # the scan can fail
    published = run_connectors(ns, out)
    assert published > 1000
    ns.start_worker("it-scan", tmp_path / "worker.log")

    subscriptions = sum(len(r["subscriptions"]) for r in RECIPIENTS.values())
    gatekeeper_dlq = topics.dlq_topic("gatekeeper", ns.prefix)

    def decided() -> bool:
        linked = count(ns, topics.linked_topic(ns.prefix))
        if linked + count(ns, topics.dlq_topic("identity", ns.prefix)) < published:
            return False  # the identity agent is still linking
        undecidable = count(ns, gatekeeper_dlq)
        ledger = count(ns, topics.ledger_topic(ns.prefix))
        return ledger >= (linked - undecidable) * subscriptions

    ns.poll(decided, 600, "the ledger to decide every linked event")
    linked = count(ns, topics.linked_topic(ns.prefix))
    assert linked > published * 0.9  # the identity agent passed (nearly) every event on

    scan = Scan()
    for spec in planned_topics(ns.prefix):
        for purpose in PURPOSES:
            if spec.name.startswith(topics.share_topic(purpose, "", ns.prefix)):
                scan_topic(ns, spec.name, purpose, ids, scan)
    assert not scan.found, f"identifying details in {len(scan.found)} places: {scan.found[:20]}"

    # The scan saw enough to mean something: both purposes, several event types each.
    for purpose, least in (("strategic_reporting", 8), ("research", 3)):
        per_type = {t: n for t, n in scan.messages.items() if f".share.{purpose}." in t and n >= 10}
        assert len(per_type) >= least, f"{purpose}: too few event types shared ({per_type})"
    assert sum(scan.messages.values()) > 1000

    # Each purpose has its own pseudonyms: the same event, the same child, another value.
    strategic, research = scan.pseudonyms["strategic_reporting"], scan.pseudonyms["research"]
    both = set(strategic) & set(research)
    assert len(both) > 50
    assert all(strategic[e] != research[e] for e in both)
    assert not set(strategic.values()) & set(research.values())

    # The children's own words reach strategic reporting scrubbed, not as a marker only.
    assert any("[phone]" in t for t in scan.texts), "no scrubbed phone number in a statement"
    assert any("[name]" in t for t in scan.texts), "no scrubbed name in a statement"
    assert any(re.search(r"\b[a-z]{4,}\b", t) for t in scan.texts if t != "[redacted]")
