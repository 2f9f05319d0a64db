"""The information map (Oldham's mapping of early years information, Practices 3 and 4).

Oldham found 41 types of information collected, 28 used for strategic
priorities and 13 that never reach strategic reporting (observation notes,
records in children's files, records of children's voice). This aggregate
computes that map live from the ledger (``chorus.ledger``): every sharing
decision, with the fields released (and how) and withheld, and the policy's
reason. The ledger holds metadata only, never the events' values.

An *information type* is an event type and a category of its fields:
identifiers, dates, location, details (codes, flags, figures), the person's own
words (free text), their views and scores (voice items, ratings, participation
codes, concerns raised), and their wishes about sharing (consents and
preferences). The last three carry voice.

- ``collected``: per information type, how many events carried it, how many of
  them reached strategic reporting; annotated with whether it ever does and,
  when not always, the most common policy reason it did not.
- ``received``: per information type and purpose, how many events that purpose
  received it in (released, pseudonymised, generalised or redacted; not when
  withheld).

Each event is one member, so a re-decided or replayed event replaces its
earlier decisions and never counts twice.
"""

from __future__ import annotations

import operator
from collections.abc import Hashable, Iterable, Mapping
from functools import cache
from typing import Any

from schemas.codec import RawField
from streams.aggregates.engine import AggregateSpec, Contribution, Facts
from streams.aggregates.publication import Count, Rate, Summary, Table

STRATEGIC = "strategic_reporting"
VOICE_CATEGORIES = {"own_words", "views_and_scores", "wishes_about_sharing"}
EMBEDDED_VOICE = {  # voice carried inside events that are not voice events
    "case_management.pathway_plan_reviewed": {"domains"},
    "case_management.cla_review": {"participation"},
    "case_management.cp_plan_reviewed": {"participation"},
    "health.development_review_completed": {"parent_concerns", "concern_raised_by"},
}
VOICE_EVENTS = {"voice.statement_recorded", "voice.voice_note_recorded"}
LOCATION = {"postcode", "home_postcode", "placement_postcode", "school_urn", "setting_urn", "urn"}
NOT_LISTED = f"not among the fields '{STRATEGIC}' may receive (policies/data/purposes.yaml)"
NO_QUOTES = "free text withheld: the person did not agree to verbatim quotes"
REASON = "r:"
LEDGER_ENTRY = "platform.ledger_entry"


def _annotate(s: Summary) -> dict[str, str]:
    n, reached = s.value("n"), s.value("sr")
    out = {"reaches_strategic_reporting": "never" if not reached else "sometimes"}
    if reached >= n:
        out["reaches_strategic_reporting"] = "always"
    reasons = {k[len(REASON) :]: v for k, v in s.sums.items() if k.startswith(REASON)}
    if reasons:
        out["reason_not_in_strategic_reporting"] = max(reasons, key=lambda r: (reasons[r], r))
    return out


COLLECTED = Table(
    name="collected",
    dims=("event_type", "category", "voice_bearing"),
    margins=("event_type",),
    annotate=_annotate,
    measures=(
        Count("events_collected", "n", unit="events"),
        Count("events_to_strategic_reporting", "sr", unit="events"),
        Rate("strategic_reporting_rate", "events_to_strategic_reporting", "events_collected"),
    ),
)

RECEIVED = Table(
    name="received",
    dims=("event_type", "category", "voice_bearing", "purpose"),
    margins=("event_type",),
    measures=(Count("events_received", "n", unit="events"),),
)


@cache
def _fields(event_type: str) -> dict[str, dict[str, Any]]:
    from schemas.catalogue import default_catalogue

    try:
        schema = default_catalogue().latest(event_type).schema
    except KeyError:
        return {}
    return {f["name"]: f for f in schema["fields"]}


def _is_date(t: Any) -> bool:
    branches = t if isinstance(t, list) else [t]
    return any(isinstance(b, dict) and b.get("logicalType") for b in branches)


@cache
def category(event_type: str, path: str) -> str:
    """The category of a field (``text``, ``items[].text``) of an event type."""
    top = path.split(".", 1)[0].removesuffix("[]")
    leaf = path.rsplit(".", 1)[-1]
    spec = _fields(event_type).get(top, {})
    doc = spec.get("doc", "")
    if leaf == "text" or doc.startswith("Restricted free text"):
        return "own_words"
    if top == "consent_for_reports" or event_type.startswith("consent."):
        return "wishes_about_sharing"
    if top in LOCATION:
        return "location"
    if top.endswith("_id") or top in ("forename", "surname", "identifiers"):
        return "identifiers"
    if _is_date(spec.get("type")):
        return "dates"
    if top in EMBEDDED_VOICE.get(event_type, ()) or (
        event_type in VOICE_EVENTS or event_type == "health.parent_comment_recorded"
    ):
        return "views_and_scores"
    return "details"


FIELD_AND_TRANSFORM = operator.itemgetter("field", "transform")
SETS_KEPT = 4096  # distinct field lists per event type; forgotten all at once when full


@cache
def _known_sets(event_type: str) -> dict[tuple, tuple[list[str], list[str]]]:
    return {}


def _collected_and_released(
    event_type: str, transformed: Any, withheld: Any
) -> tuple[list[str], list[str]]:
    """The categories of the fields a ledger entry names, and of those released, sorted
    (lists shared by every fact made from them: nothing changes a fact). Worked
    out once per list of fields: an entry names every field of its event, the entries of
    an event type and purpose mostly name the same ones, and the ledger is the largest
    input of the aggregates. The lists come decoded, or as RawField from the intake,
    which then need not decode them: the lists are compared as their Avro bytes."""
    key = (_hashable(transformed), _hashable(withheld))
    known = _known_sets(event_type)
    found = known.get(key)
    if found is None:
        if len(known) >= SETS_KEPT:
            known.clear()
        pairs = list(map(FIELD_AND_TRANSFORM, _decoded(transformed)))
        withheld = _decoded(withheld)
        collected = {category(event_type, f) for f, _ in pairs}
        collected.update(category(event_type, f) for f in withheld)
        released = {category(event_type, f) for f, t in pairs if t != "drop"}
        found = known[key] = (sorted(collected), sorted(released))
    return found


def _hashable(items: Any) -> Hashable:
    if items.__class__ is RawField:
        return items
    return tuple(i if isinstance(i, str) else FIELD_AND_TRANSFORM(i) for i in items or ())


def _decoded(items: Any) -> list[Any]:
    return items.value() if items.__class__ is RawField else list(items or ())


def voice(cat: str) -> str:
    return "yes" if cat in VOICE_CATEGORIES else "no"


def fact(name: str, entry: Mapping[str, Any]) -> dict[str, Any] | None:
    et = entry["event_type"]
    collected, released = _collected_and_released(
        et, entry.get("fields_transformed"), entry.get("fields_withheld")
    )
    out: dict[str, Any] = {"et": et, "p": entry["purpose"], "rel": released, "col": collected}
    if entry["purpose"] == STRATEGIC:
        out["why"] = {c: _reason(entry, c) for c in collected if c not in released}
    return out


def _reason(entry: Mapping[str, Any], cat: str) -> str:
    reason = entry.get("reason") or ""
    if entry["outcome"] == "NOT_SHARED":
        return reason.split("; ", 1)[0] or "not shared"
    if cat == "own_words" and "verbatim" in reason:
        return NO_QUOTES
    return NOT_LISTED


def shape(facts: Facts) -> Hashable:
    """All that cells() reads: an event's entries differ only in their ids and times, and
    most events of a type are shared alike."""
    return tuple(
        (f["et"], f["p"], tuple(f["rel"]), tuple(f["col"]), tuple(f.get("why", {}).items()))
        for f in facts.values()
    )


def cells(facts: Facts) -> Iterable[Contribution]:
    entries = list(facts.values())
    if not entries:
        return
    et = entries[0]["et"]
    collected = sorted({c for f in entries for c in f["col"]})
    by_purpose: dict[str, set[str]] = {}
    for f in entries:
        by_purpose.setdefault(f["p"], set()).update(f["rel"])
    strategic = [f for f in entries if f["p"] == STRATEGIC]
    for cat in collected:
        values: dict[str, Any] = {"n": 1, "sr": int(cat in by_purpose.get(STRATEGIC, ()))}
        if not values["sr"] and strategic:
            values[REASON + strategic[0]["why"].get(cat, NOT_LISTED)] = 1
        yield COLLECTED.name, (et, cat, voice(cat)), None, values
    for purpose, cats in sorted(by_purpose.items()):
        for cat in sorted(cats):
            yield RECEIVED.name, (et, cat, voice(cat), purpose), None, {"n": 1}


SPEC = AggregateSpec(
    name="information_map",
    events=("ledger",),
    tables=(COLLECTED, RECEIVED),
    fact=fact,
    cells=cells,
    shape=shape,
    withdrawals=False,
    raw_fields={LEDGER_ENTRY: ("fields_transformed", "fields_withheld")},
    doc="What information is collected, which purposes receive it, and what never reaches "
    "strategic reporting, with the policy's reason; computed from the ledger.",
)
