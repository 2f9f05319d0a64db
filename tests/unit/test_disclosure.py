"""Disclosure control: suppression, secondary suppression, cell key perturbation, rates, means."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from pathlib import Path

import pytest
import yaml

from streams import disclosure as sdc
from streams.aggregates.publication import ALL, Count, Mean, Rate, Summary, Table, publish_table

REPO = Path(__file__).resolve().parents[2]
RULES = sdc.Rules()
EXACT = sdc.Rules(round_to=1, methods={}, default_method="rounding")  # no rounding at all


def policy_doc() -> dict:
    """What OPA answers for data.chorus.disclosure.rules, from the shipped policy data."""
    data = yaml.safe_load((REPO / "policies/data/disclosure.yaml").read_text())["disclosure"]
    return {**data, "problems": []}


def summary(members: dict[str, dict[str, float]], keys: dict[str, int]) -> Summary:
    s = Summary()
    for m, values in members.items():
        s.add_member(values, keys[m])
    return s


def rk(rng: random.Random) -> int:
    return rng.getrandbits(64)


# --- the rules come from policy data ---------------------------------------------------------


def test_shipped_policy_data_gives_usable_rules():
    rules = sdc.Rules.from_policy(policy_doc(), revision="r1")
    assert rules.suppress_at_or_below == 7 and rules.round_to == 5
    assert rules.method_for("referrals_by_source") == "rounding"
    assert rules.method_for("care_leavers") == "cell_key"
    assert rules.revision == "r1"
    assert "counts from 1 to 7 suppressed" in rules.text("cell_key")
    assert "minimum and maximum never published" in rules.text("rounding")


def test_problems_reported_by_the_policy_stop_publication():
    doc = {**policy_doc(), "problems": ["disclosure.round_to must be 1 or more"]}
    with pytest.raises(sdc.DisclosureError, match="round_to"):
        sdc.Rules.from_policy(doc)


@pytest.mark.parametrize(
    "change,why",
    [
        ({"round_to": 0}, "round_to"),
        ({"min_denominator": 5}, "min_denominator"),
        ({"perturbation": {"count_table": [{"value": 1, "probability": 1.0}]}}, "mean 0"),
        ({"perturbation": {"count_table": [{"value": 0, "probability": 0.5}]}}, "add up to 1"),
        ({"perturbation": {"default_method": "noise"}}, "method"),
    ],
)
def test_unsafe_rules_are_refused_whatever_the_policy_says(change, why):
    with pytest.raises(sdc.DisclosureError, match=why):
        sdc.Rules.from_policy({**policy_doc(), **change})


def test_missing_threshold_is_refused():
    doc = policy_doc()
    del doc["suppress_at_or_below"]
    with pytest.raises(sdc.DisclosureError):
        sdc.Rules.from_policy(doc)


# --- primary suppression, rounding, perturbation -----------------------------------------------


@pytest.mark.parametrize(
    "n,members,suppressed",
    [(0, 0, False), (1, 1, True), (7, 7, True), (8, 8, False), (30, 3, True), (30, 8, False)],
)
def test_small_counts_and_counts_of_few_children_are_suppressed(n, members, suppressed):
    assert sdc.primary_suppressed(n, members, RULES) is suppressed


def test_a_published_count_is_never_zero_and_a_true_zero_stays_zero():
    rng = random.Random(1)
    assert sdc.published_count(0, rk(rng), RULES, "cell_key") == 0.0
    for n in range(8, 40):
        for _ in range(50):
            shown = sdc.published_count(n, rk(rng), RULES, "cell_key")
            assert shown >= RULES.round_to and shown % RULES.round_to == 0
            assert abs(shown - n) <= 2 + RULES.round_to / 2


def test_the_same_records_always_give_the_same_perturbation_in_any_order():
    rng = random.Random(2)
    keys = [rk(rng) for _ in range(25)]
    shuffled = keys[::-1]
    assert sdc.cell_key(keys) == sdc.cell_key(shuffled)
    a = sdc.published_count(25, sdc.cell_key(keys), RULES, "cell_key")
    assert a == sdc.published_count(25, sdc.cell_key(shuffled), RULES, "cell_key")


def test_perturbations_follow_the_fixed_table():
    rng = random.Random(3)
    seen = Counter(sdc.perturbation(rk(rng), RULES) for _ in range(20000))
    assert set(seen) == {-2, -1, 0, 1, 2}
    for value, probability in RULES.perturbation:
        assert abs(seen[value] / 20000 - probability) < 0.02


def test_rounding_method_is_plain_rounding_half_up():
    assert [sdc.published_count(n, 123, RULES, "rounding") for n in (8, 12, 13, 102)] == [
        10.0,
        10.0,
        15.0,
        100.0,
    ]


def test_the_first_rules_still_publish_a_lone_count():
    legacy = {"suppress_at_or_below": 7, "round_to": 5}
    assert sdc.publish_count("referrals", 3, legacy)["status"] == "SUPPRESSED"
    assert sdc.publish_count("referrals", 13, legacy)["value"] == 15.0
    assert sdc.rules_text(legacy)[0] == "counts from 1 to 7 suppressed"


# --- rates, means, forbidden measures ----------------------------------------------------------

TABLE = Table(
    name="t",
    dims=("area",),
    measures=(
        Count("children", "n"),
        Count("eet", "eet"),
        Rate("eet_rate", "eet", "children"),
        Mean("mean_rating", "sum", "children", 0, 10),
    ),
)


def cell(n: int, eet: int, rating: float, seed: int = 0) -> Summary:
    rng = random.Random(seed)
    members = {f"m{i}": {"n": 1, "eet": int(i < eet), "sum": rating} for i in range(n)}
    return summary(members, {m: rk(rng) for m in members})


def measures(published: dict, dims=("A",)) -> dict[str, dict]:
    return {m["name"]: m for m in published[dims]["measures"]}


def test_rates_and_means_need_the_minimum_denominator():
    out = measures(publish_table(TABLE, {("A",): cell(15, 10, 5)}, RULES, "cell_key"))
    assert out["children"]["status"] == "PUBLISHED"
    assert out["eet_rate"]["suppression"] == sdc.SMALL_DENOMINATOR
    assert out["mean_rating"]["suppression"] == sdc.SMALL_DENOMINATOR


def test_a_rate_whose_complement_is_small_is_suppressed_with_a_count():
    # 3 of 40 not in EET would follow from 40 and 37: one of them goes too
    out = measures(publish_table(TABLE, {("A",): cell(40, 37, 5)}, RULES, "cell_key"))
    assert out["eet_rate"]["status"] == "SUPPRESSED"
    assert {out["children"]["status"], out["eet"]["status"]} == {"PUBLISHED", "SUPPRESSED"}


def test_rates_and_means_are_published_over_large_cells():
    out = measures(publish_table(TABLE, {("A",): cell(60, 30, 6.5)}, RULES, "cell_key"))
    assert 40 <= out["eet_rate"]["value"] <= 60
    assert 6.0 <= out["mean_rating"]["value"] <= 7.0
    assert out["mean_rating"]["denominator"] == "children"
    assert out["eet_rate"]["kind"] == "RATE" and out["mean_rating"]["kind"] == "MEAN"


def test_minimum_and_maximum_are_never_published():
    rules = sdc.Rules(forbidden_measures=frozenset({"min", "max", "mean"}))
    out = measures(publish_table(TABLE, {("A",): cell(60, 30, 6.5)}, rules, "cell_key"))
    assert out["mean_rating"]["suppression"] == sdc.NOT_PUBLISHABLE
    assert not hasattr(sdc, "published_min") and not hasattr(sdc, "published_max")


# --- secondary suppression -----------------------------------------------------------------------

GRID = Table(
    name="grid",
    dims=("area", "group"),
    margins=("area", "group"),
    measures=(Count("children", "n"),),
)


def grid(counts: dict[tuple[str, str], int]) -> dict[tuple, Summary]:
    """Cells and their totals, as the engine builds them (each member also in the totals)."""
    rng = random.Random(5)
    cells: dict[tuple, dict[str, dict]] = {}
    i = 0
    for (area, group), n in counts.items():
        for _ in range(n):
            i += 1
            for key in ((area, group), (ALL, group), (area, ALL), (ALL, ALL)):
                cells.setdefault(key, {})[f"c{i}"] = {"n": 1}
    keys: dict[str, int] = {}
    out = {}
    for dims, members in cells.items():
        for m in members:
            keys.setdefault(m, rk(rng))
        out[dims] = summary(members, keys)
    return out


COUNTS = {
    ("X", "a"): 3,  # primary suppressed
    ("X", "b"): 20,
    ("Y", "a"): 15,
    ("Y", "b"): 30,
    ("Z", "a"): 12,
    ("Z", "b"): 25,
}


def shown(published: dict) -> dict[tuple, float | None]:
    return {dims: c["measures"][0]["value"] for dims, c in published.items()}


def test_without_secondary_suppression_the_small_cell_follows_from_the_margins():
    values = shown(publish_table(GRID, grid(COUNTS), EXACT, "rounding"))
    # the naive table: only the primary suppression
    assert values[("X", "a")] is None
    published_row = [values[("X", "b")], values[("X", ALL)]]
    assert None in published_row  # secondary suppression hid one of them...
    # ...whereas with only the primary, X total minus X b would give it away:
    assert COUNTS[("X", "a")] == 23 - 20


def test_a_suppressed_value_cannot_be_derived_from_the_published_margins():
    published = publish_table(GRID, grid(COUNTS), EXACT, "rounding")
    values = shown(published)
    unknown = [d for d, v in values.items() if v is None]
    assert ("X", "a") in unknown and len(unknown) >= 4
    reasons = {d: c["measures"][0]["suppression"] for d, c in published.items()}
    assert reasons[("X", "a")] == sdc.SMALL_COUNT
    assert sdc.SECONDARY in reasons.values()
    # Another table, with a different value in the small cell, has exactly the same
    # published figures: the subscriber cannot tell which one is true.
    areas, groups = ("X", "Y", "Z"), ("a", "b")
    truth = {(a, g): n for (a, g), n in COUNTS.items()}
    for a in areas:
        truth[(a, ALL)] = sum(COUNTS[(a, g)] for g in groups)
    for g in groups:
        truth[(ALL, g)] = sum(COUNTS[(a, g)] for a in areas)
    truth[(ALL, ALL)] = sum(COUNTS.values())
    assert all(values[d] is None or values[d] == truth[d] for d in values)
    alternatives = []
    for step in itertools.product((-1, 0, 1), repeat=len(unknown)):
        v = dict(values)
        v.update({d: truth[d] + s for d, s in zip(unknown, step, strict=True)})
        rows_ok = all(v[(a, ALL)] == sum(v[(a, g)] for g in groups) for a in (*areas, ALL))
        cols_ok = all(v[(ALL, g)] == sum(v[(a, g)] for a in areas) for g in (*groups, ALL))
        if rows_ok and cols_ok and min(v.values()) >= 0 and v[("X", "a")] != truth[("X", "a")]:
            alternatives.append(v[("X", "a")])
    assert alternatives


def test_no_relation_is_left_with_exactly_one_suppressed_value():
    rng = random.Random(7)
    for _ in range(30):
        counts = {
            (a, g): rng.choice((0, 1, 2, 5, 9, 14, 30))
            for a in ("X", "Y", "Z", "W")
            for g in ("a", "b", "c")
        }
        values = shown(publish_table(GRID, grid(counts), EXACT, "rounding"))
        for a in ("X", "Y", "Z", "W", ALL):
            line = [values.get((a, g)) for g in ("a", "b", "c", ALL) if (a, g) in values]
            assert line.count(None) != 1
        for g in ("a", "b", "c", ALL):
            line = [values.get((a, g)) for a in ("X", "Y", "Z", "W", ALL) if (a, g) in values]
            assert line.count(None) != 1


def test_a_distribution_never_gives_away_its_one_small_band():
    table = Table(
        name="bands",
        dims=("area",),
        measures=(
            Count("rated", "n"),
            Count("low", "low", band_of="rated"),
            Count("mid", "mid", band_of="rated"),
            Count("high", "high", band_of="rated"),
        ),
    )
    members = {
        f"m{i}": {"n": 1, ("low" if i < 3 else "mid" if i < 20 else "high"): 1} for i in range(45)
    }
    rng = random.Random(9)
    out = measures(
        publish_table(
            table, {("A",): summary(members, {m: rk(rng) for m in members})}, EXACT, "rounding"
        )
    )
    statuses = [out[n]["status"] for n in ("rated", "low", "mid", "high")]
    assert out["low"]["suppression"] == sdc.SMALL_COUNT
    assert statuses.count("SUPPRESSED") >= 2


def test_secondary_suppression_prefers_the_smallest_part_and_is_deterministic():
    values = {"t": 50, "a": 3, "b": 9, "c": 38}
    suppressed = {"a"}
    chosen = sdc.secondary_suppression(values, suppressed, [sdc.Line("t", ("a", "b", "c"))])
    assert chosen == {"b"}


# --- differencing: consecutive publications do not reveal one child ----------------------------


def test_one_child_joining_a_cell_rarely_shows_and_never_shows_as_one():
    rng = random.Random(11)
    unchanged = shown_up = shown_down = 0
    draws = 0
    for _ in range(200):
        n = rng.randint(15, 60)
        base = sdc.cell_key(rk(rng) for _ in range(n))
        before = sdc.published_count(n, base, RULES, "cell_key")
        for _ in range(20):  # the new child's secret record key
            after = sdc.published_count(n + 1, base + rk(rng), RULES, "cell_key")
            draws += 1
            assert after - before != 1
            unchanged += after == before
            shown_up += after > before
            shown_down += after < before
    assert unchanged / draws > 0.5  # most of the time nothing visible happens
    assert shown_down > 0.05 * draws  # and a child joining can look like one leaving
    assert shown_up > 0.05 * draws


def test_a_childs_rating_cannot_be_read_from_the_change_in_a_mean():
    rng = random.Random(12)
    changes = {0: [], 10: []}
    for _ in range(300):
        n = rng.randint(20, 40)
        ratings = [rng.randint(0, 10) for _ in range(n)]
        base = sdc.cell_key(rk(rng) for _ in range(n))
        before = sdc.published_mean(sum(ratings), n, base, 0, 10, RULES, "cell_key")
        key = base + rk(rng)
        for rating in changes:
            after = sdc.published_mean(sum(ratings) + rating, n + 1, key, 0, 10, RULES, "cell_key")
            changes[rating].append(after - before)
    # a child rating 10 often lowers the published mean, one rating 0 often raises it
    assert sum(c < 0 for c in changes[10]) > 0.2 * len(changes[10])
    assert sum(c > 0 for c in changes[0]) > 0.2 * len(changes[0])
