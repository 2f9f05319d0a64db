"""A corpus of bad input for the first stream stage, one named case per KIND of bad input.

Each case is the bytes a producer could put on a ``chorus.source.*`` topic: either
broken framing, or well-formed Avro from a producer that skipped validation. It
names the rule (exact id) and field its dead letter must carry, and the personal
values it holds (identifiers, names, free text), so that tests can check none of
them leaks into a dead letter's rule/field/reason or into the worker's log.

Every value is synthetic and distinctive, so searching for it means something:

- LA child ids ``ZQLC0000``-``ZQLC0999`` (no real LA uses the prefix);
- NHS numbers from the synthetic 999 range (``schemas.identifiers``), from index
  434,300 up: ``9994...``;
- UPNs of fictitious LA 999, establishment 4343, allocated in 2026;
- names and free text built around the invented surname ``Quillfeather<n>``.

``GOOD`` events are the same examples with valid values, to interleave with the bad.

A case with ``gap`` set expects what the contract should say, and the codec or the
validators do not (yet); one with ``stack_gap`` is judged right offline but is not
dead-lettered as it should be on the stack. The tests mark such a case as a strict
expected failure, so it is noticed the day the gap is closed.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass
from typing import Any

from schemas import topics
from schemas.codec import HEADER_LEN, MAGIC, MAX_MESSAGE_BYTES, MAX_TEXT_CHARS, Codec
from schemas.examples import envelope
from schemas.examples.case_management import EXAMPLES as CASE_MANAGEMENT
from schemas.examples.consent import EXAMPLES as CONSENT
from schemas.examples.education import EXAMPLES as EDUCATION
from schemas.examples.health import EXAMPLES as HEALTH
from schemas.examples.voice import EXAMPLES as VOICE
from schemas.identifiers import synthetic_nhs_number, synthetic_upn
from schemas.validation.voice import MAX_TEXT_CHARS as MAX_RESTRICTED_TEXT

__all__ = ["CASES", "GOOD", "BadInput", "GoodEvent", "source_topic"]

EXAMPLES: dict[str, dict[str, Any]] = {
    **CASE_MANAGEMENT,
    **CONSENT,
    **EDUCATION,
    **HEALTH,
    **VOICE,
}
SURNAME = "Quillfeather"
BAD_SOURCE = "it-bad-input"
GOOD_SOURCE = "it-good-input"
codec = Codec()


@dataclass(frozen=True)
class BadInput:
    """One kind of bad input, as it is put on a source topic."""

    kind: str  # the case's name (test id): never personal data
    event_type: str  # the source topic it goes on is this event type's
    payload: bytes
    rule: str  # the dead letter's rule, exactly
    field: str | None  # the dead letter's field, exactly
    personal: tuple[str, ...]  # values that must never appear in a reason, field, rule or log
    _: KW_ONLY
    gap: str | None = None  # why the codec/validators do not give rule and field (yet)
    #: why the stream stage does not dead-letter it as it should, though the codec and
    #: validators give the rule (a gap of the stack, not of the contract)
    stack_gap: str | None = None
    #: the valid event the case was made from, where there is one: the unit test checks it
    #: passes, so the case's own change is what breaks the rule
    base: bytes | None = None


@dataclass(frozen=True)
class GoodEvent:
    event_type: str
    event_id: str
    payload: bytes


def source_topic(event_type: str, prefix: str = "") -> str:
    domain, event = event_type.split(".", 1)
    return topics.source_topic(domain, event, prefix)


# --------------------------------------------------------------------------- synthetic values


def ids(n: int) -> dict[str, str]:
    """The distinctive (valid) identifiers of case ``n``."""
    return {
        "la_child_id": f"ZQLC{n:04d}",
        "nhs_number": synthetic_nhs_number(434_300 + 7 * n),
        "upn": synthetic_upn("999", 4343, 26, n),
    }


def marker(n: int) -> str:
    return f"{SURNAME}{n:03d}"


def story(n: int) -> str:
    """Free text about a child, with case ``n``'s marker in it."""
    return (
        f"Zephyrine {marker(n)} told us she is scared when her stepdad Borislav shouts "
        f"at night and wants to stay at Larkspur Road with her nan."
    )


def invalid_nhs(n: int) -> str:
    """Case ``n``'s NHS number with a wrong check digit (still 10 digits)."""
    good = ids(n)["nhs_number"]
    return good[:9] + str((int(good[9]) + 1) % 10)


def invalid_upn(n: int) -> str:
    """Case ``n``'s UPN with a wrong check letter."""
    good = ids(n)["upn"]
    return ("B" if good[0] == "A" else "A") + good[1:]


def _plant_text(record: dict[str, Any], text: str, name: str) -> None:
    """Put the invented name and text in the record's free-text fields."""
    if isinstance(record.get("text"), str):
        record["text"] = text
    for item in record.get("items") or []:
        if isinstance(item, dict) and isinstance(item.get("text"), str):
            item["text"] = text
    if "forename" in record:
        record["forename"], record["surname"] = "Zephyrine", name


_MARKER = re.compile(SURNAME + r"[0-9]{3}")


def personal_values(rec: dict[str, Any]) -> list[str]:
    """The personal values a record holds: its subject's identifiers, and every text with an
    invented name in it (and the name alone, which a search finds in part of a text too)."""
    subject = rec["envelope"]["subject"]
    out = [subject[k] for k in ("la_child_id", "nhs_number", "upn") if subject.get(k)]
    texts = [rec.get("text"), rec.get("surname")]
    texts += [i.get("text") for i in rec.get("items") or [] if isinstance(i, dict)]
    for text in texts:
        if isinstance(text, str) and _MARKER.search(text):
            out.append(text if len(text) <= 500 else text[:80])
            out += _MARKER.findall(text)
    return list(dict.fromkeys(out))


def record(
    event_type: str, n: int, *, source: str = BAD_SOURCE, key: str | None = None, **subject: Any
) -> dict[str, Any]:
    """A deep copy of the example of ``event_type`` with case ``n``'s identifiers and text.

    ``subject`` overrides the identifiers (None leaves one out).
    """
    rec = copy.deepcopy(EXAMPLES[event_type])
    old = rec["envelope"]
    who = {**ids(n), **subject}
    rec["envelope"] = envelope(
        event_type,
        key=key or f"BAD{n:03d}",
        when=old["event_time"],
        recorded=old["recorded_time"],
        entity=old["source_record"]["entity"],
        source_system=old["source_system"],
        source_instance=source,
        correlation_id=old["correlation_id"],
        **who,
    )
    if event_type == "case_management.identifier_linked":
        rec["value"] = who["nhs_number"]
    _plant_text(rec, story(n), marker(n))
    return rec


# --------------------------------------------------------------------------- the cases

Builder = Callable[[int], BadInput]
_BUILDERS: list[tuple[str, Builder]] = []


def case(kind: str) -> Callable[[Builder], Builder]:
    def register(fn: Builder) -> Builder:
        _BUILDERS.append((kind, fn))
        return fn

    return register


def avro_case(
    kind: str,
    event_type: str,
    rule: str,
    field: str | None,
    change: Callable[[dict[str, Any], int], list[str] | None],
    *,
    gap: str | None = None,
    **subject: Any,
) -> None:
    """A case of well-formed Avro: the example, changed by ``change(record, n)``, which
    returns the personal values it planted outside the subject and the text fields."""

    def build(n: int) -> BadInput:
        rec = record(event_type, n, **subject)
        base = None if subject else codec.encode(event_type, rec)
        personal = change(rec, n) or []
        personal = tuple(dict.fromkeys(personal + personal_values(rec)))
        payload = codec.encode(event_type, rec)
        return BadInput(kind, event_type, payload, rule, field, personal, gap=gap, base=base)

    case(kind)(build)


def _set(path: str, value: Any) -> Callable[[dict[str, Any], int], None]:
    """A change setting ``record[a][b]...`` (dotted path, integer parts index lists)."""

    def change(rec: dict[str, Any], n: int) -> None:
        *parents, last = path.split(".")
        node: Any = rec
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[int(last) if last.isdigit() else last] = value

    return change


def _encoded(event_type: str, n: int) -> tuple[bytes, list[str]]:
    rec = record(event_type, n)
    return codec.encode(event_type, rec), personal_values(rec)


CM, PC, SR = (
    "case_management.referral",
    "health.parent_comment_recorded",
    "voice.statement_recorded",
)

# ---- framing: bytes that are not a Chorus event, or not all of one


@case("framing_empty_message")
def _(n: int) -> BadInput:
    return BadInput("framing_empty_message", CM, b"", "avro.single_object_header", None, ())


@case("framing_foreign_json")
def _(n: int) -> BadInput:
    who = ids(n)
    doc = {"child": f"Zephyrine {marker(n)}", **who, "note": story(n)}
    payload = json.dumps(doc).encode()
    personal = (*who.values(), marker(n), story(n))
    return BadInput(
        "framing_foreign_json", CM, payload, "avro.single_object_header", None, personal
    )


@case("framing_magic_only")
def _(n: int) -> BadInput:
    return BadInput("framing_magic_only", CM, MAGIC, "avro.single_object_header", None, ())


@case("framing_short_header")
def _(n: int) -> BadInput:
    payload = MAGIC + codec.catalogue.latest(CM).fingerprint[:5]
    return BadInput("framing_short_header", CM, payload, "avro.single_object_header", None, ())


@case("framing_wrong_format_version")
def _(n: int) -> BadInput:
    good, personal = _encoded(CM, n)
    payload = b"\xc3\x02" + good[2:]  # single-object format version 2 does not exist
    return BadInput(
        "framing_wrong_format_version",
        CM,
        payload,
        "avro.single_object_header",
        None,
        tuple(personal),
        base=good,
    )


@case("framing_unknown_fingerprint")
def _(n: int) -> BadInput:
    good, personal = _encoded(CM, n)
    payload = MAGIC + bytes.fromhex("5a514c45414b4650") + good[HEADER_LEN:]
    assert codec.catalogue.by_fingerprint(payload[2:HEADER_LEN]) is None
    return BadInput(
        "framing_unknown_fingerprint",
        CM,
        payload,
        "avro.unknown_fingerprint",
        None,
        tuple(personal),
        base=good,
    )


@case("framing_header_without_body")
def _(n: int) -> BadInput:
    payload = MAGIC + codec.catalogue.latest(CM).fingerprint
    # the body runs out at once, in its first field
    return BadInput(
        "framing_header_without_body", CM, payload, "avro.body", "envelope.event_id", ()
    )


def _cut_in_text(kind: str, text: str, field: str, gap: str | None = None) -> None:
    @case(kind)
    def _(n: int) -> BadInput:
        rec = record(PC, n)
        rec["text"] = text.format(marker=marker(n))
        good = codec.encode(PC, rec)
        cut = good.index(b"@@CUT@@")
        kept = rec["text"][: rec["text"].index("@@CUT@@")]  # what is left of the text
        personal = (*ids(n).values(), kept, marker(n))
        return BadInput(kind, PC, good[:cut], "avro.body", field, personal, gap=gap, base=good)


# a text of 64 bytes or more, cut in the middle: the body ends inside it
_cut_in_text(
    "framing_truncated_in_long_text",
    "{marker} said she wants her nan to know how she feels at home @@CUT@@ and at school.",
    "text",
)
# a text under 64 bytes, cut in the middle: the body ends inside it too
_cut_in_text(
    "framing_truncated_in_short_text",
    "{marker} says @@CUT@@ no",
    "text",
    gap=(
        "the compiled reader takes a string under 64 bytes without a length check, so a body "
        "cut inside one fails at the next field read (here language), and the dead letter "
        "names that field instead of text"
    ),
)


@case("framing_trailing_bytes")
def _(n: int) -> BadInput:
    good, personal = _encoded(CM, n)
    payload = good + marker(n).encode()
    return BadInput(
        "framing_trailing_bytes",
        CM,
        payload,
        "avro.trailing_bytes",
        None,
        (*personal, marker(n)),
        base=good,
    )


@case("framing_non_utf8_text")
def _(n: int) -> BadInput:
    rec = record(PC, n)
    rec["text"] = f"{marker(n)} wrote @@@@ about her brother's bruises and the smell of drink."
    good = codec.encode(PC, rec)
    personal = (*ids(n).values(), marker(n), "about her brother's bruises")
    payload = good.replace(b"@@@@", b"\xff\xfe\xc0\xaf", 1)  # same length: framing intact
    return BadInput(
        "framing_non_utf8_text",
        PC,
        payload,
        "avro.non_utf8_text",
        "text",
        personal,
        base=good,
    )


@case("framing_enum_index_out_of_range")
def _(n: int) -> BadInput:
    rec = record(PC, n)
    personal = personal_values(rec)
    written = codec.encode(PC, {**rec, "mode": "WRITTEN"})
    spoken = codec.encode(PC, {**rec, "mode": "SPOKEN"})
    (at,) = [i for i, (a, b) in enumerate(zip(written, spoken, strict=True)) if a != b]
    payload = written[:at] + b"\x7e" + written[at + 1 :]  # symbol 63: no such mode
    return BadInput(
        "framing_enum_index_out_of_range",
        PC,
        payload,
        "avro.body",
        "mode",
        tuple(personal),
        base=written,
    )


@case("framing_oversized_text")
def _(n: int) -> BadInput:
    rec = record(SR, n)
    base = codec.encode(SR, rec)
    body = f"{marker(n)} said: " + "I am not safe at home. " * (MAX_TEXT_CHARS // 23 + 10)
    rec["text"] = body[: MAX_TEXT_CHARS + 1]
    payload = codec.encode(SR, rec)
    return BadInput(
        "framing_oversized_text",
        SR,
        payload,
        "text.oversized",
        "text",
        tuple(personal_values(rec)),
        base=base,
    )


@case("framing_oversized_message")
def _(n: int) -> BadInput:
    good, personal = _encoded(CM, n)
    padding = (marker(n) + " ").encode() * (MAX_MESSAGE_BYTES // 10)
    payload = good + padding[: MAX_MESSAGE_BYTES + 1 - len(good)]
    assert len(payload) == MAX_MESSAGE_BYTES + 1
    return BadInput(
        "framing_oversized_message",
        CM,
        payload,
        "avro.oversized_message",
        None,
        (*personal, marker(n)),
        base=good,
    )


# ---- wrong type


def _claims_to_be_a_contact(rec: dict[str, Any], n: int) -> None:
    rec["envelope"]["event_type"] = "case_management.contact"


avro_case(
    "wrong_type_envelope_disagrees_with_schema",
    CM,
    "envelope.event_type",
    "envelope.event_type",
    _claims_to_be_a_contact,
)


@case("wrong_type_platform_event_on_source_topic")
def _(n: int) -> BadInput:
    # a known schema, but not a source event: a dead letter replayed onto a source topic
    good, personal = _encoded(CM, n)
    letter = {
        "stage": "connector",
        "rule": "dates.order",
        "field": "close_date",
        "reason": "close_date is before referral_date",
        "event_type": CM,
        "event_id": None,
        "source": None,
        "kafka": {"topic": "chorus.source.case_management.referral", "partition": 0, "offset": n},
        "failed_at": dt.datetime(2025, 3, 15, 9, 30, tzinfo=dt.UTC),
        "payload_format": "avro-single-object",
        "payload": good,
    }
    payload = codec.encode("platform.dead_letter", letter)
    return BadInput(
        "wrong_type_platform_event_on_source_topic",
        CM,
        payload,
        "validation.unknown_event_type",
        "envelope.event_type",
        tuple(personal),
    )


# ---- unknown codes

CLA_EP, CLA_PL = "case_management.cla_episode", "case_management.cla_placement"
avro_case(
    "code_placement_type_withdrawn_on_start_date",
    CLA_PL,
    "placement_type.code_set_date",
    "placement_type",
    _set("placement_type", "P2"),  # independent living: withdrawn 27 October 2023; start 2024
)
avro_case(
    "code_placement_type_before_introduced",
    CLA_PL,
    "placement_type.code_set_date",
    "placement_type",
    lambda rec, n: rec.update(
        placement_type="K3", start_date=dt.date(2023, 9, 1), placement_provider="PR4"
    ),  # supported accommodation: in force from 28 October 2023
)
avro_case(
    "code_placement_type_unknown",
    CLA_EP,
    "placement_type.code_set",
    "placement_type",
    _set("placement_type", "U9"),
)
avro_case(
    "code_reason_ceased_withdrawn_on_end_date",
    CLA_EP,
    "reason_episode_ceased.code_set_date",
    "reason_episode_ceased",
    _set("reason_episode_ceased", "E43"),  # split into E45/E46 from 2018; ceased 2025
)
avro_case(
    "code_category_of_need_not_for_cla",
    CLA_EP,
    "category_of_need.code_list",
    "category_of_need",
    _set("category_of_need", "N9"),
)


def _attendance_code_pre_2024(rec: dict[str, Any], n: int) -> None:
    rec["by_code"]["H"] = rec["by_code"].pop("I")  # H (holiday) is not a 2024 code


avro_case(
    "code_attendance_not_in_2024_regulations",
    "education.attendance_summarised",
    "education.attendance_code",
    "by_code",
    _attendance_code_pre_2024,
)


def _free_text_item_code(rec: dict[str, Any], n: int) -> list[str]:
    hidden = f"{marker(n)} FELT NOBODY LISTENED"
    rec["items"][2]["item_code"] = hidden
    return [hidden]


avro_case(
    "code_voice_item_code_holds_free_text",
    SR,
    "voice.item_code",
    "items[2].item_code",
    _free_text_item_code,
)


def _theme_not_snake_case(rec: dict[str, Any], n: int) -> list[str]:
    theme = f"Accommodation-{marker(n)}"
    rec["themes"][1] = theme
    return [theme]


avro_case(
    "code_voice_theme_not_snake_case",
    SR,
    "voice.theme_code",
    "themes[1]",
    _theme_not_snake_case,
)
avro_case(
    "code_exclusion_reason_lower_case",
    "education.suspension_or_exclusion",
    "education.exclusion_reason",
    "reasons[0]",
    _set("reasons", ["db"]),
)
avro_case(
    "code_ods_site_code_malformed",
    "health.unscheduled_care_attendance_notified",
    "health.ods_code",
    "ods_site_code",
    _set("ods_site_code", "rzz 01"),
)


def _scope_free_text(rec: dict[str, Any], n: int) -> list[str]:
    text = f"only to {marker(n)}'s aunt"
    rec["scope"]["recipient"] = text
    return [text]


avro_case(
    "code_consent_scope_holds_free_text",
    "consent.sharing_preference_recorded",
    "consent.scope_code",
    "scope.recipient",
    _scope_free_text,
)
avro_case(
    "code_gender_not_two_digits",
    "case_management.person_registered",
    "gender.code",
    "gender",
    _set("gender", "3"),
)

# ---- identifiers


def _subject(field: str, value: Callable[[int], str]) -> Callable[[dict[str, Any], int], list]:
    def change(rec: dict[str, Any], n: int) -> list[str]:
        rec["envelope"]["subject"][field] = value(n)
        return [value(n)]

    return change


avro_case(
    "identifier_nhs_number_fails_mod11",
    CM,
    "nhs_number.check",
    "envelope.subject.nhs_number",
    _subject("nhs_number", invalid_nhs),
)
avro_case(
    "identifier_nhs_number_with_spaces",
    "health.development_review_completed",
    "nhs_number.check",
    "envelope.subject.nhs_number",
    _subject(
        "nhs_number",
        lambda n: " ".join(
            (ids(n)["nhs_number"][:3], ids(n)["nhs_number"][3:6], ids(n)["nhs_number"][6:])
        ),
    ),
)
avro_case(
    "identifier_upn_wrong_check_letter",
    "education.eyfsp_assessed",
    "upn.check",
    "envelope.subject.upn",
    _subject("upn", invalid_upn),
)
avro_case(
    "identifier_upn_forbidden_letter",
    "education.fsm_eligibility_changed",
    "upn.check",
    "envelope.subject.upn",
    _subject("upn", lambda n: "I" + ids(n)["upn"][1:]),
)
avro_case(
    "identifier_la_child_id_format",
    "case_management.contact",
    "la_child_id.format",
    "envelope.subject.la_child_id",
    _subject("la_child_id", lambda n: f"ZQ-LC/{n:04d}"),
)


def _linked_invalid_value(rec: dict[str, Any], n: int) -> list[str]:
    rec["value"] = invalid_nhs(n)
    rec["check_passed"] = True
    return [invalid_nhs(n)]


avro_case(
    "identifier_linked_check_passed_disagrees",
    "case_management.identifier_linked",
    "identifier.check_passed",
    "check_passed",
    _linked_invalid_value,
)
avro_case(
    "identifier_cpis_without_nhs_number",
    "health.unscheduled_care_attendance_notified",
    "nhs_number.required",
    "envelope.subject.nhs_number",
    lambda rec, n: None,
    nhs_number=None,
)

# ---- impossible dates

avro_case(
    "dates_placement_ends_before_it_starts",
    CLA_PL,
    "dates.order",
    "end_date",
    _set("end_date", dt.date(2024, 10, 1)),
)
avro_case(
    "dates_missing_episode_ends_before_it_starts",
    "case_management.missing_episode",
    "dates.order",
    "end_time",
    _set("end_time", dt.datetime(2025, 2, 14, 20, 0, tzinfo=dt.UTC)),
)
DR = "health.development_review_completed"
avro_case(
    "dates_review_before_birth", DR, "health.review_age", "age_months", _set("age_months", -3)
)
avro_case("dates_review_age_too_old", DR, "health.review_age", "age_months", _set("age_months", 60))
avro_case(
    "dates_consent_ends_before_it_starts",
    "consent.sharing_preference_recorded",
    "consent.effective_period",
    "effective_to",
    _set("effective_to", dt.datetime(2025, 1, 1, tzinfo=dt.UTC)),
)
avro_case(
    "dates_ehcp_request_after_milestone",
    "education.ehcp_milestone",
    "education.ehcp_dates",
    "request_date",
    _set("request_date", dt.date(2025, 2, 1)),
)
avro_case(
    "dates_fsm_ends_before_it_starts",
    "education.fsm_eligibility_changed",
    "education.fsm_period",
    "end_date",
    _set("end_date", dt.date(2024, 9, 1)),
)
avro_case(
    "dates_academic_year_not_consecutive",
    "education.eyfsp_assessed",
    "education.academic_year",
    "academic_year",
    _set("academic_year", "2024/26"),
)

# ---- out-of-range scores

avro_case(
    "score_asq3_above_maximum",
    DR,
    "health.asq3_score",
    "communication.score",
    _set("communication.score", 61.0),
)
avro_case(
    "score_asq3_not_a_number",
    DR,
    "health.asq3_score",
    "fine_motor.score",
    _set("fine_motor.score", float("nan")),
)
avro_case(
    "score_pathway_rating_above_ten",
    "case_management.pathway_plan_reviewed",
    "rating.range",
    "domains[1].adviser_rating",
    _set("domains.1.adviser_rating", 11),
)
avro_case(
    "score_voice_outside_item_scale",
    SR,
    "voice.score_scale",
    "items[0].score",
    _set("items.0.score", 12),
)
avro_case(
    "score_placement_distance_out_of_range",
    CLA_PL,
    "distance_miles.range",
    "distance_miles",
    _set("distance_miles", 1200.0),
)

# ---- inconsistent fields

avro_case(
    "inconsistent_gld_with_elg_emerging",
    "education.eyfsp_assessed",
    "education.gld",
    "gld",
    _set("gld", True),
)
avro_case(
    "inconsistent_asq3_zone_with_score",
    DR,
    "health.asq3_zone",
    "communication.zone",
    _set("communication.score", 20.0),  # under the 24-27 month cut-off, yet zone ABOVE
)
avro_case(
    "inconsistent_cancelled_review_with_participation",
    "case_management.cla_review",
    "cla_review.cancelled_with_participation",
    "participation",
    _set("cancelled", True),
)
avro_case(
    "inconsistent_withdrawn_without_time",
    "consent.sharing_preference_recorded",
    "consent.withdrawn_at",
    "withdrawn_at",
    _set("withdrawn", True),
)


def _override_without_reference(rec: dict[str, Any], n: int) -> None:
    rec["override"] = {
        "reason_code": "LEGAL_DUTY",
        "legal_reference": None,
        "recorded_by_role": "team_manager",
        "recorded_at": dt.datetime(2025, 6, 4, 9, 0, tzinfo=dt.UTC),
    }


avro_case(
    "inconsistent_override_without_legal_reference",
    "consent.sharing_preference_recorded",
    "consent.override_reason",
    "override.legal_reference",
    _override_without_reference,
)
avro_case(
    "inconsistent_persistent_absence_flag",
    "education.attendance_summarised",
    "education.persistent_absence",
    "persistent_absence_10",
    _set("persistent_absence_10", False),
)
avro_case(
    "inconsistent_return_interview_accepted_not_offered",
    "case_management.missing_episode",
    "return_interview.accepted_not_offered",
    "rhi_accepted",
    _set("rhi_offered", "N"),
)
avro_case(
    "inconsistent_no_disability_with_another",
    "case_management.person_registered",
    "disabilities.none_exclusive",
    "disabilities",
    _set("disabilities", ["NONE", "AUT"]),
)
avro_case(
    "inconsistent_no_sen_with_needs",
    "education.sen_status_changed",
    "education.sen_needs",
    "needs",
    _set("sen_provision", "N"),
)
avro_case(
    "inconsistent_provider_for_temporary_move",
    CLA_PL,
    "placement_provider.not_applicable",
    "placement_provider",
    _set("placement_type", "T1"),
)

# ---- duplicates


def _repeat_need(rec: dict[str, Any], n: int) -> None:
    rec["family_needs"].append(rec["family_needs"][0])


avro_case(
    "duplicate_family_need",
    "case_management.early_help_episode_started",
    "array.duplicate",
    "family_needs",
    _repeat_need,
)
avro_case(
    "duplicate_pathway_plan_domain",
    "case_management.pathway_plan_reviewed",
    "pathway_plan.domain_duplicate",
    "domains[1].domain",
    _set("domains.1.domain", "ACCOMMODATION"),
)
avro_case(
    "duplicate_parent_concern",
    DR,
    "health.parent_concerns",
    "parent_concerns",
    _set("parent_concerns", ["TALKING", "TALKING"]),
)
avro_case(
    "duplicate_voice_note_prompt",
    "voice.voice_note_recorded",
    "voice.voice_note_item_repeated",
    "items[1].item_code",
    _set("items.1.item_code", "WHAT_MATTERS_TO_US"),
)


def _elg_twice(rec: dict[str, Any], n: int) -> None:
    rec["elg_outcomes"][16] = {"elg": "ELG01", "outcome": "EXPECTED"}


avro_case(
    "duplicate_early_learning_goal",
    "education.eyfsp_assessed",
    "education.elg_complete",
    "elg_outcomes",
    _elg_twice,
)

# ---- free text and other shapes

avro_case(
    "text_required_but_blank",
    PC,
    "text.required",
    "text",
    _set("text", " \n\t "),
)


def _control_character(rec: dict[str, Any], n: int) -> list[str]:
    text = f"{marker(n)} hid\x00this\x1b[31m in the note"
    rec["text"] = text
    return [text, f"{marker(n)} hid"]


avro_case("text_control_character", PC, "text.control_character", "text", _control_character)


def _too_long(rec: dict[str, Any], n: int) -> list[str]:
    rec["text"] = (f"{marker(n)} " + "we need help with the rent. " * 800)[
        : MAX_RESTRICTED_TEXT + 1
    ]
    return [marker(n)]


avro_case("text_longer_than_restricted_limit", SR, "text.length", "text", _too_long)
avro_case(
    "text_language_tag_malformed",
    "voice.voice_note_recorded",
    "language.tag",
    "language",
    _set("language", "English (UK)"),
)
avro_case(
    "text_voice_note_by_practitioner",
    "voice.voice_note_recorded",
    "voice.voice_note_author",
    "author_role",
    _set("author_role", "PRACTITIONER"),
)
avro_case(
    "consent_child_age_out_of_range",
    "consent.sharing_preference_recorded",
    "consent.child_age",
    "child_age_years",
    _set("child_age_years", 31),
)
avro_case(
    "education_school_urn_malformed",
    "education.suspension_or_exclusion",
    "education.urn",
    "school_urn",
    _set("school_urn", "19990"),
)
avro_case(
    "education_suspension_too_long",
    "education.suspension_or_exclusion",
    "education.exclusion_sessions",
    "sessions",
    _set("sessions", 91),
)

CASES: tuple[BadInput, ...] = tuple(build(n) for n, (_, build) in enumerate(_BUILDERS, start=1))
assert [c.kind for c in CASES] == [kind for kind, _ in _BUILDERS], "a builder mislabels its case"
assert len({c.kind for c in CASES}) == len(CASES), "two cases share a kind"


# --------------------------------------------------------------------------- good events

GOOD_TYPES = (
    "case_management.referral",
    "case_management.person_registered",
    "case_management.cla_placement",
    "health.development_review_completed",
    "health.parent_comment_recorded",
    "education.attendance_summarised",
    "education.eyfsp_assessed",
    "voice.statement_recorded",
    "voice.voice_note_recorded",
    "consent.sharing_preference_recorded",
)


def _good(i: int) -> GoodEvent:
    event_type = GOOD_TYPES[i % len(GOOD_TYPES)]
    rec = record(event_type, 500 + i, source=GOOD_SOURCE, key=f"GOOD{i:03d}")
    return GoodEvent(event_type, rec["envelope"]["event_id"], codec.encode(event_type, rec))


#: Valid events, one to put after each bad one (and a few more).
GOOD: tuple[GoodEvent, ...] = tuple(_good(i) for i in range(len(CASES) + 4))
