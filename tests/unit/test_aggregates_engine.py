"""The aggregate engine: facts, withdrawals, contributions, the cell store, publications."""

from __future__ import annotations

import datetime as dt
import random

from streams import disclosure as sdc
from streams.aggregates import cellstore, engine, synthetic
from streams.aggregates.publication import ALL, Count, Summary, Table
from streams.aggregates.referrals_by_source import SPEC as REFERRALS
from streams.aggregates.registry import AGGREGATES, BY_NAME
from streams.pseudonyms import Pseudonymiser

P = Pseudonymiser(b"unit-test-key-unit-test-key-0123")
T0 = dt.datetime(2025, 3, 14, tzinfo=dt.UTC)


def key(spec):
    return lambda m: engine.record_key(P, spec.name, m)


def shared(event_type, person, record, op="UPSERT", when=T0, **fields):
    return {
        "share": {
            "event_id": f"{record}-{op}-{when.isoformat()}",
            "event_type": event_type,
            "event_time": when,
            "la_code": "999",
            "operation": op,
            "purpose": "strategic_reporting",
            "recipient": "r",
            "policy_revision": "p",
            "person_pseudonym": person,
            "record_pseudonym": record,
            "identifiers": None,
        },
        **fields,
    }


def referral(person, record, month="2025-03", source="RS_6", op="UPSERT"):
    return shared(
        "case_management.referral",
        person,
        record,
        op=op,
        referral_date=month,
        referral_source=source,
    )


def run(spec, messages):
    return cellstore.recompute(spec, [(m["share"]["event_type"], m) for m in messages], key(spec))


def test_a_replayed_event_counts_once():
    a = referral("p" * 32, "r" * 32)
    assert run(REFERRALS, [a, a, a]).counts() == {"2025-03|6": 1}


def test_an_updated_record_moves_its_one_contribution():
    store = run(
        REFERRALS, [referral("p" * 32, "r" * 32), referral("p" * 32, "r" * 32, source="RS_1A")]
    )
    assert {k: v for k, v in store.counts().items() if v} == {"2025-03|1A": 1}


def test_a_purge_removes_the_record():
    first = referral("p" * 32, "r" * 32)
    gone = referral("p" * 32, "r" * 32, op="PURGE")
    assert not any(run(REFERRALS, [first, gone]).counts().values())


def test_two_records_of_one_child_are_two_members():
    store = run(REFERRALS, [referral("p" * 32, "a" * 32), referral("p" * 32, "b" * 32)])
    assert store.counts() == {"2025-03|6": 2}


def withdrawal(person, types, when=T0, records=()):
    return {
        "person_pseudonym": person,
        "event_types": list(types),
        "effective_at": when,
        "policy_revision": "p",
        "record_pseudonyms": list(records),
    }


def test_a_withdrawal_drops_the_childs_facts_and_later_events_of_those_types():
    person = "p" * 32
    state = engine.apply(REFERRALS, None, "referral", referral(person, "a" * 32))
    state = engine.apply(
        REFERRALS, state, "subject_withdrawn", withdrawal(person, ["case_management.referral"])
    )
    assert state["f"] == {}
    state = engine.apply(REFERRALS, state, "referral", referral(person, "b" * 32))
    assert state["f"] == {}
    assert engine.contributions(REFERRALS, person, state) == {}


def test_a_withdrawal_of_other_types_keeps_the_facts():
    person = "p" * 32
    state = engine.apply(REFERRALS, None, "referral", referral(person, "a" * 32))
    state = engine.apply(
        REFERRALS, state, "subject_withdrawn", withdrawal(person, ["voice.statement_recorded"])
    )
    assert len(state["f"]) == 1


def test_everything_or_single_records_can_be_withdrawn():
    person = "p" * 32
    state = engine.apply(REFERRALS, None, "referral", referral(person, "a" * 32))
    state = engine.apply(REFERRALS, state, "referral", referral(person, "b" * 32))
    one = engine.apply(
        REFERRALS,
        state,
        "subject_withdrawn",
        withdrawal(person, ["case_management.referral"], records=["a" * 32]),
    )
    assert [k[:1] for k in one["f"]] == ["b"]
    everything = engine.apply(REFERRALS, state, "subject_withdrawn", withdrawal(person, ["*"]))
    assert everything["f"] == {}


def test_an_older_withdrawal_message_does_not_replace_a_newer_one():
    person = "p" * 32
    new = engine.apply(REFERRALS, None, "subject_withdrawn", withdrawal(person, ["*"], when=T0))
    old = engine.apply(
        REFERRALS, new, "subject_withdrawn", withdrawal(person, [], when=T0 - dt.timedelta(days=1))
    )
    assert old["w"]["types"] == ["*"]
    lifted = engine.apply(
        REFERRALS, new, "subject_withdrawn", withdrawal(person, [], when=T0 + dt.timedelta(days=1))
    )
    assert "w" not in lifted


def test_the_cell_store_replaces_a_subjects_contributions_exactly_and_idempotently():
    spec = REFERRALS
    store = cellstore.CellStore(spec, key(spec))
    a = {"2025-03|6": {"s1:r1": {"referrals": 1}}}
    b = {"2025-04|6": {"s1:r1": {"referrals": 1}}}
    assert store.replace("s1", a) == {"2025-03|6"}
    assert store.replace("s1", a) == set()  # a replayed delta changes nothing
    store.replace("s2", {"2025-03|6": {"s2:r9": {"referrals": 1}}})
    store.replace("s1", b)
    assert store.counts() == {"2025-03|6": 1, "2025-04|6": 1}
    store.replace("s1", {})
    assert store.counts() == {"2025-03|6": 1, "2025-04|6": 0}  # emptied: published as zero


def test_summaries_kept_up_to_date_equal_summaries_made_afresh():
    """Members coming and going between publications (a subject's contributions replaced,
    emptied) leave every cell's summary as one computed from its members."""
    events = synthetic.Synth(seed=8).population(300)
    events += list(synthetic.ledger_entries(events[:400]))
    rng = random.Random(3)
    for spec in AGGREGATES:
        states: dict = {}
        store = cellstore.CellStore(spec, key(spec))
        mine = [(et, r) for et, r in events if engine.reads(spec, et)]
        for n, (et, record) in enumerate(mine):
            subject = engine.subject_of(spec, record)
            states[subject] = engine.apply(
                spec, states.get(subject), engine.decoded_name(et), record
            )
            new = engine.contributions(spec, subject, states[subject])
            if rng.random() < 0.05:
                new = {}  # the subject leaves every cell
            store.replace(subject, new)
            if n % 97 == 0:
                store.summaries()  # a publication between changes
        kept = store.summaries()
        afresh = cellstore.CellStore(spec, key(spec))
        afresh.load(store.cells)
        afresh.reconcile(store.subjects)
        assert set(kept) == set(afresh.cells)
        fresh = afresh.summaries()
        record_key = key(spec)
        for cell, members in afresh.cells.items():
            assert as_published(kept[cell]) == as_published(fresh[cell]), (spec.name, cell)
            direct = Summary()  # member by member, as the store's docstring defines it
            for member, values in members.items():
                direct.add_member(values, record_key(member))
            assert as_published(kept[cell]) == as_published(direct), (spec.name, cell)


def as_published(s: Summary) -> tuple:
    """A summary as publication reads it: statements in their own order (by key)."""
    return s.sums, s.members, s.keys, sorted(s.statements, key=lambda st: (st["k"], st["t"]))


def test_a_store_rebuilt_from_its_cell_keys_and_contributions_behaves_the_same():
    events = synthetic.Synth(seed=4).population(300)
    for spec in AGGREGATES:
        if spec.from_ledger:
            continue
        store = cellstore.recompute(spec, events, key(spec))
        again = cellstore.CellStore(spec, key(spec))
        again.load(store.cells)
        assert again.reconcile(store.subjects) == set()  # every cell was known
        assert again.subjects == store.subjects and again.cells == store.cells
        rules = sdc.Rules()
        assert cellstore.published_cells(
            spec, again.summaries(), rules
        ) == cellstore.published_cells(spec, store.summaries(), rules)


def test_cells_do_not_depend_on_the_order_of_topics():
    events = synthetic.Synth(seed=6).population(300)
    by_topic: dict[str, list] = {}
    for et, rec in events:
        by_topic.setdefault(et, []).append((et, rec))
    rng = random.Random(1)
    for _ in range(3):
        order = list(by_topic)
        rng.shuffle(order)
        reordered = [e for t in order for e in by_topic[t]]
        for spec in AGGREGATES:
            if spec.from_ledger:
                continue
            assert (
                cellstore.recompute(spec, reordered, key(spec)).cells
                == cellstore.recompute(spec, events, key(spec)).cells
            )


def test_margins_hold_each_member_once():
    spec = BY_NAME["care_leavers"]
    events = synthetic.Synth(seed=8).population(200)
    store = cellstore.recompute(spec, events, key(spec))
    counts = store.counts()
    for k, n in counts.items():
        table, dims = cellstore.split_cell_key(spec, k)
        if table.name == "contact_outcomes" and dims[1] == ALL and dims[2] == ALL:
            parts = [
                v
                for kk, v in counts.items()
                if kk.startswith(f"contact_outcomes|{dims[0]}|") and ALL not in kk.split("|")[2:]
            ]
            assert n == sum(parts)


def test_the_publisher_sends_only_changed_cells_and_every_cell_carries_the_rules():
    spec = REFERRALS
    store = run(spec, [referral("p" * 32, f"{i:016x}" * 2) for i in range(12)])
    publisher = cellstore.Publisher(spec)
    rules = sdc.Rules(revision="rev1", methods={"referrals_by_source": "rounding"})
    first = publisher.changed(store, rules, T0)
    assert [c["cell_key"] for c in first] == ["2025-03|6"]
    pub = first[0]["publication"]
    assert pub["policy_revision"] == "rev1" and pub["method"] == "rounding"
    assert "counts from 1 to 7 suppressed" in pub["rules"]
    assert pub["parameters"]["suppress_at_or_below"] == 7
    assert publisher.changed(store, rules, T0) == []


# --- differencing through the whole pipeline -------------------------------------------------


AREAS = Table(name="by_area", dims=("area",), margins=("area",), measures=(Count("children", "n"),))


def area_spec():
    def fact(name, record):
        return {"a": record["area"]}

    def cells(facts):
        for f in facts.values():
            yield "by_area", (f["a"],), None, {"n": 1}

    return engine.AggregateSpec("by_area", ("thing",), (AREAS,), fact, cells)


def test_a_subscriber_comparing_publications_cannot_tell_which_cell_one_child_joined():
    spec = area_spec()
    rng = random.Random(21)
    base = []
    for _ in range(60):
        child = f"{rng.getrandbits(128):032x}"
        base.append(shared("x.thing", child, child, area=rng.choice(("A", "B"))))
    rules = sdc.Rules()
    before = cellstore.published_cells(spec, run(spec, base).summaries(), rules)
    same = visible = 0
    for _ in range(200):
        child = f"{rng.getrandbits(128):032x}"
        after = {
            area: cellstore.published_cells(
                spec,
                run(spec, [*base, shared("x.thing", child, child, area=area)]).summaries(),
                rules,
            )
            for area in ("A", "B")
        }
        # the total moves identically whichever cell the child joined
        assert after["A"]["by_area|ALL"] == after["B"]["by_area|ALL"]
        same += after["A"] == after["B"]
        visible += after["A"] != before
    assert same / 200 > 0.4  # the same publication whichever area the child is in
    assert visible < 200


def test_a_cell_a_subject_left_stays_known_after_a_reload():
    spec = BY_NAME["care_leavers"]
    a, b, c = (f"contact_outcomes|2025-H1|ZZ1|{age}" for age in ("17-18", "19-21", "ALL"))
    store = cellstore.CellStore(spec, key(spec))
    assert store.replace("s1", {a: {"s1": {"n": 1}}, b: {"s1": {"n": 1}}}) == {a, b}
    made = store.replace("s1", {a: {"s1": {"n": 1}}, c: {"s1": {"n": 2}}})
    assert made == {c}  # the cells made: their keys are what the stream writes down
    assert store.members() == {a: {"s1": {"n": 1}}, c: {"s1": {"n": 2}}}
    assert store.cells[b] == {}  # the cell it left stays known, and shows zero
    again = cellstore.CellStore(spec, key(spec))
    again.load([a, b, c])
    assert again.reconcile(store.subjects) == set()
    assert again.subjects == store.subjects and set(again.summaries()) == {a, b, c}
    assert again.summaries()[b].value("n") == 0


def test_reconciling_a_store_puts_the_contributions_back_and_returns_the_cells_it_made():
    spec = BY_NAME["care_leavers"]
    a, b = (f"contact_outcomes|2025-H1|ZZ1|{age}" for age in ("17-18", "19-21"))
    store = cellstore.CellStore(spec, key(spec))
    store.load([a])  # b's key was never written down: a crash before its write
    wanted = {"s1": {a: {"s1": {"n": 1}}}, "s3": {b: {"s3": {"n": 2}}}, "s4": {}}
    assert store.reconcile(wanted) == {b}
    assert store.members() == {a: {"s1": {"n": 1}}, b: {"s3": {"n": 2}}}
    assert store.reconcile(wanted) == set()
    assert store.reconcile({"s1": wanted["s1"]}) == set()  # s3 is gone: b stays, empty
    assert store.counts() == {a: 1, b: 0}


def test_reconciling_step_by_step_does_what_reconcile_does_in_one():
    """The intake restores a step at a time (so Kafka heartbeats go on between steps)."""
    spec = BY_NAME["care_leavers"]
    cells = [f"contact_outcomes|2025-H1|ZZ{n % 3}|17-18" for n in range(7)]
    wanted = {f"s{n}": {cells[n]: {f"s{n}": {"n": n}}} for n in range(7)}
    whole = cellstore.CellStore(spec, key(spec))
    whole.replace("gone", {cells[0]: {"gone": {"n": 5}}})
    stepped = cellstore.CellStore(spec, key(spec))
    stepped.replace("gone", {cells[0]: {"gone": {"n": 5}}})
    made = whole.reconcile(wanted)
    steps = list(stepped.reconciling(wanted, every=2))
    assert len(steps) == 4  # after 2, 4 and 6 of the 7 subjects wanted, then the rest
    assert set().union(*steps) == made and made == set(cells) - {cells[0]}
    assert stepped.subjects == whole.subjects and "gone" not in stepped.subjects
    assert {k: s.value("n") for k, s in stepped.summaries().items()} == {
        k: s.value("n") for k, s in whole.summaries().items()
    }


def test_a_cells_keys_name_it_and_each_margin_total_it_counts_in():
    table = Table("t", ("a", "b", "c"), (Count("n", "n"),), margins=("a", "c"))
    expected = ("t|x|y|z", "t|ALL|y|z", "t|x|y|ALL", "t|ALL|y|ALL")
    assert table.cell_keys(("x", "y", "z")) == expected
    assert table.cell_keys(("x", "y", "z")) == expected  # the remembered answer is the same
    assert table.cell_keys(("q", "y", "z"))[0] == "t|q|y|z"
    assert Table("t", ("a", "b", "c"), (Count("n", "n"),), margins=("a", "c")) == table


def test_steps_in_any_batches_fill_the_cells_as_a_batch_recomputation_and_replays_change_nothing():
    events = synthetic.Synth(seed=12).population(200)
    events += list(synthetic.ledger_entries(events[:150]))
    rng = random.Random(5)
    for spec in AGGREGATES:
        mine = [
            (i, engine.decoded_name(et), rec, 0)
            for i, (et, rec) in enumerate(events)
            if engine.reads(spec, et)
        ]
        states: dict = {}
        store = cellstore.CellStore(spec, key(spec))
        at = 0
        while at < len(mine):
            size = rng.randint(1, 60)
            done = engine.step(spec, states.get, mine[at : at + size])
            assert set(done.changed) == set(done.writes)
            for subject, (_, state) in done.writes.items():
                states[subject] = state
                store.replace(subject, done.changed[subject])
            at += size
        expected = cellstore.recompute(spec, events, key(spec))
        assert mine and store.members() == expected.members(), spec.name
        replay = engine.step(spec, states.get, mine[len(mine) // 2 :])  # from a commit on
        assert not replay.writes and not replay.changed, spec.name
