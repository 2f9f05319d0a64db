"""One enforcement point: nothing but the gatekeeper writes a share topic (chorus.share.*).

Two checks:

1. statically, over the code base (schemas, connectors, streams, deploy): a module that
   uses a share topic's name (written out, or returned by a function that gives one,
   followed through variables and calls) and sends messages is the gatekeeper, or a
   reviewed reader listed below with what it sends to; connectors never use one;
2. on the real stack, after events of every type have gone through a worker: every
   message on every share topic carries the gatekeeper's headers and has a ledger entry
   (SHARED) with the same event id, recipient, purpose, topic and policy revision; and
   every SHARED ledger entry has its message. The one share topic that carries no
   event, strategic reporting's subject_withdrawn, holds only the gatekeeper's
   withdrawals, each naming the preference event (decided, in the ledger) it follows.
"""

from __future__ import annotations

import ast
import copy
from collections import Counter

import pytest
import yaml
from kafka import KafkaAdminClient, KafkaProducer

from schemas import topics
from schemas.codec import Codec
from schemas.examples import case_management, consent, education, envelope, health, voice
from schemas.identifiers import synthetic_nhs_number, synthetic_upn
from streams.gatekeeper import withdrawals
from streams.gatekeeper.sharing import DECIDED_BY
from tests.integration.harness import REPO

pytestmark = pytest.mark.integration
PACKAGES = ("schemas", "connectors", "streams", "deploy")
GATEKEEPER = "streams/gatekeeper/agent.py"
SEND_METHODS = {"send", "send_soon", "send_and_wait", "send_batch", "produce", "publish"}
# Modules that name share topics AND send messages, reviewed: what they send, to where.
READERS_THAT_SEND = {
    "streams/aggregates/machinery.py": "reads strategic reporting share topics; sends only to "
    "chorus.agg.* topics",
    "streams/aggregates/intake.py": "reads strategic reporting share topics; sends only to "
    "its own contributions and cell keys changelogs and the chorus.dlq.aggregate topic",
    "streams/aggregates/rebuild.py": "re-reads strategic reporting share topics to recompute an "
    "aggregate; sends only to chorus.agg.*",
}


def called_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call):
        func = node.func
        return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    return None


def not_topic_names(tree: ast.AST) -> set[int]:
    """Strings that are not topic names: docstrings, and Avro namespaces (chorus.share.<domain>)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "namespace":
                    out |= {id(n) for n in ast.walk(value)}
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    return out


def names_share(node: ast.AST, namers: set[str], skip: set[int]) -> bool:
    """A share topic's name written out, or a call to a function that gives one."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
        return "chorus.share" in node.value
    return called_name(node) in namers


def sends(node: ast.AST) -> bool:
    return called_name(node) in SEND_METHODS and isinstance(node.func, ast.Attribute)


def functions(tree: ast.AST):
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def own_nodes(f: ast.AST) -> list[ast.AST]:
    """The nodes of a function outside the functions defined in it."""
    nested = {
        id(n)
        for g in ast.walk(f)
        if g is not f and isinstance(g, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        for n in ast.walk(g)
    }
    return [n for n in ast.walk(f) if id(n) not in nested]


def tainted_names(f: ast.AST, namers: set[str], skip: set[int]) -> set[str]:
    """Variables of `f` holding a share topic name (assigned one, or one appended to them)."""
    tainted: set[str] = set()
    while True:
        before = len(tainted)
        for node in ast.walk(f):
            value, targets = None, []
            if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
                value = node.value
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            elif isinstance(node, ast.Call) and called_name(node) in ("append", "extend", "add"):
                value, targets = node, [node.func.value]
            if value is not None and carries(value, namers, skip, tainted):
                for target in targets:
                    tainted |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
        if len(tainted) == before:
            return tainted


def carries(node: ast.AST, namers: set[str], skip: set[int], tainted: set[str]) -> bool:
    return any(
        names_share(n, namers, skip) or (isinstance(n, ast.Name) and n.id in tainted)
        for n in ast.walk(node)
    )


def scan(sources: dict[str, str]) -> dict[str, bool]:
    """module -> whether it also sends messages, for every module using a share topic name.

    A function that returns a share topic name (written out, from such a function, or
    from a variable holding one) gives one wherever it is called; followed by name
    until nothing changes.
    """
    trees = {m: ast.parse(text) for m, text in sources.items()}
    skips = {m: not_topic_names(t) for m, t in trees.items()}
    namers = {"share_topic"}
    while True:
        more = set()
        for m, tree in trees.items():
            for f in functions(tree):
                tainted = tainted_names(f, namers, skips[m])
                returns = [n.value for n in own_nodes(f) if isinstance(n, ast.Return) and n.value]
                if any(carries(r, namers, skips[m], tainted) for r in returns):
                    more.add(f.name)
        if more <= namers:
            break
        namers |= more
    return {
        m: any(sends(n) for n in ast.walk(tree))
        for m, tree in trees.items()
        if any(names_share(n, namers, skips[m]) for n in ast.walk(tree))
    }


def code_base() -> dict[str, str]:
    return {
        str(path.relative_to(REPO)): path.read_text(encoding="utf-8")
        for package in PACKAGES
        for path in sorted((REPO / package).rglob("*.py"))
    }


def test_no_code_but_the_gatekeeper_writes_a_share_topic():
    found = scan(code_base())
    assert found.get(GATEKEEPER) is True, "the scan no longer sees the gatekeeper write"
    assert not [m for m in found if m.startswith("connectors/")], "connectors name share topics"
    writers = {m for m, sends_too in found.items() if sends_too and m != GATEKEEPER}
    assert writers <= set(READERS_THAT_SEND), (
        f"{sorted(writers - set(READERS_THAT_SEND))} name a share topic and send messages. Only "
        "the gatekeeper may write share topics: if this code only reads them, add it to "
        "READERS_THAT_SEND with what it sends to, after checking that"
    )


def test_the_scan_would_catch_a_second_writer_however_it_gets_the_name():
    found = scan(
        {
            "a.py": "def name(prefix):\n    return topics.share_topic('research', 'x', prefix)\n",
            "b.py": "def leak(p):\n    p.send(name(''), b'x')\n",
            "c.py": "def fine(p):\n    p.send('chorus.ledger', b'x')\n",
            "d.py": "P = 'chorus.share.research.referral'\ndef leak(p):\n    p.produce(P, b'x')\n",
        }
    )
    assert found == {"a.py": False, "b.py": True, "d.py": True}


# --- on the real stack --------------------------------------------------------------------


def every_example() -> list[tuple[str, bytes]]:
    """One event of every type, about three children known to every system."""
    codec = Codec()
    examples = {
        **case_management.EXAMPLES,
        **consent.EXAMPLES,
        **education.EXAMPLES,
        **health.EXAMPLES,
        **voice.EXAMPLES,
    }
    out = []
    for i, (event_type, example) in enumerate(sorted(examples.items())):
        child = i % 3
        record = copy.deepcopy(example)
        old = record["envelope"]
        ids = {
            "la_child_id": f"C{900 + child:07d}" if old["subject"].get("la_child_id") else None,
            "nhs_number": synthetic_nhs_number(9000 + child)
            if old["subject"].get("nhs_number")
            else None,
            "upn": synthetic_upn("999", 2001, 20, 90 + child)
            if old["subject"].get("upn")
            else None,
        }
        record["envelope"] = envelope(
            event_type,
            key=f"EP-{i}",
            when=old["event_time"],
            entity=old["source_record"]["entity"],
            **ids,
        )
        out.append((event_type, codec.encode(event_type, record)))
    return out


def open_objection_to_voice_in_reports() -> tuple[str, bytes]:
    """A competent child's standing objection to their views being used in strategic reports."""
    event_type = "consent.sharing_preference_recorded"
    record = copy.deepcopy(consent.SHARING_PREFERENCE_RECORDED)
    record["envelope"] = envelope(
        event_type,
        key="EP-OBJECTION",
        entity="sharing_preferences",
        la_child_id=f"C{903:07d}",  # a fourth child, whom no other event is about
        nhs_number=synthetic_nhs_number(9003),
        upn=synthetic_upn("999", 2001, 20, 93),
    )
    record["preference_id"] = "EP-OBJECTION"
    record["effective_to"] = None
    return event_type, Codec().encode(event_type, record)


def strategic_voice_event_types() -> set[str]:
    """The event types holding views that strategic reporting receives (policy data)."""
    data = REPO / "policies" / "data"
    purposes = yaml.safe_load((data / "purposes.yaml").read_text(encoding="utf-8"))["purposes"]
    categories = yaml.safe_load((data / "categories.yaml").read_text(encoding="utf-8"))
    return {
        et
        for et in purposes["strategic_reporting"]["events"]
        if "voice" in categories["categories"][et]
    }


def test_every_shared_message_came_from_the_gatekeeper_with_its_ledger_entry(namespace, tmp_path):
    events = [*every_example(), open_objection_to_voice_in_reports()]
    producer = KafkaProducer(bootstrap_servers=namespace.stack.bootstrap, acks="all")
    for event_type, value in events:
        domain, name = event_type.split(".", 1)
        producer.send(topics.source_topic(domain, name, namespace.prefix), value=value)
    producer.flush()
    producer.close()
    namespace.start_worker("it-one-gate", tmp_path / "worker.log")
    ledger_topic = topics.ledger_topic(namespace.prefix)
    codec = Codec()

    def decided() -> list[dict] | None:
        entries = namespace.decoded(ledger_topic)
        return entries if len({e["event_id"] for e in entries}) == len(events) else None

    entries = namespace.poll(decided, 150, "a decision about every event")
    subscriptions = {(e["recipient"], e["purpose"]) for e in entries}

    def all_decided() -> list[dict] | None:
        entries = namespace.decoded(ledger_topic)
        return entries if len(entries) >= len(events) * len(subscriptions) else None

    entries = namespace.poll(all_decided, 60, "every subscription decided")
    ledger = {(e["event_id"], e["recipient"], e["purpose"]): e for e in entries}
    shared = {k for k, e in ledger.items() if e["outcome"] == "SHARED"}
    assert len({k[2] for k in shared}) >= 3, "too few purposes shared to prove much"

    admin = KafkaAdminClient(bootstrap_servers=namespace.stack.bootstrap)
    try:
        share_topics = [
            t for t in admin.list_topics() if t.startswith(f"{namespace.prefix}chorus.share.")
        ]
    finally:
        admin.close()
    withdrawn_topic = withdrawals.withdrawn_topic(namespace.prefix)
    withdrawn = namespace.read_all(withdrawn_topic)
    assert len(withdrawn) == 1, "the objection was not passed on to strategic reporting"
    for m in withdrawn:
        headers = dict(m.headers)
        assert headers.get("chorus-decided-by") == DECIDED_BY, f"{withdrawn_topic}@{m.offset}"
        assert headers["chorus-purpose"] == b"strategic_reporting"
        event_id = headers["chorus-event-id"].decode()
        decided_about = {e["event_type"] for k, e in ledger.items() if k[0] == event_id}
        assert decided_about == {"consent.sharing_preference_recorded"}
        schema, message = codec.decode(m.value)
        assert schema.event_type == "platform.subject_withdrawn"
        assert m.key == message["person_pseudonym"].encode()
        assert set(message["event_types"]) == strategic_voice_event_types()
    seen: Counter = Counter()
    for topic in share_topics:
        if topic == withdrawn_topic:
            continue
        for m in namespace.read_all(topic):
            headers = dict(m.headers)
            assert headers.get("chorus-decided-by") == DECIDED_BY, f"{topic}@{m.offset}"
            key = tuple(
                headers[h].decode()
                for h in ("chorus-event-id", "chorus-recipient", "chorus-purpose")
            )
            entry = ledger.get(key)
            assert entry is not None and entry["outcome"] == "SHARED", f"{topic}@{m.offset}"
            assert entry["share_topic"] == topic
            assert headers["chorus-policy-revision"].decode() == entry["policy_revision"]
            share = codec.decode(m.value)[1]["share"]
            assert (share["event_id"], share["recipient"], share["purpose"]) == key
            seen[key] += 1
    assert set(seen) == shared  # and every SHARED decision has its message
