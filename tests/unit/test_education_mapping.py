"""Education records -> events: good rows map and fit; bad rows name rule and column."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from connectors.education import mapping
from connectors.education.formats import match_header
from schemas.codec import Codec
from schemas.errors import ContractError
from schemas.validation.education import validate

UPN = "W820200124001"  # valid check letter, fictitious school
ROWS: dict[str, dict[str, Any]] = {
    mapping.EYFSP: {
        "URN": "199901",
        "Estab": "2001",
        "AcademicYear": "2024/25",
        "UPN": UPN,
        **{f"ELG{n:02d}": "2" for n in range(1, 18)},
    },
    mapping.ATTENDANCE: {
        "URN": "199901",
        "AcademicYear": "2024/25",
        "Term": "AUT",
        "UPN": UPN,
        "SessionsPossible": "142",
        "SessionsAuthorised": "10",
        "SessionsUnauthorised": "6",
        "SessionsByCode": "/:63;\\:61;L:2;I:8;M:2;O:4;G:2",
    },
    mapping.EXCLUSION: {
        "URN": "199901",
        "UPN": UPN,
        "Category": "SUSP",
        "StartDate": "20/01/2025",
        "Sessions": "4",
        "Reason1": "DB",
        "Reason2": "VA",
    },
    mapping.SEN: {
        "UPN": UPN,
        "EffectiveDate": "2024-11-04",
        "SENProvision": "K",
        "SENNeed1": "SLCN",
        "SENNeed2": "SEMH",
    },
    mapping.EHCP: {
        "RequestID": "EHCR0000031",
        "UPN": UPN,
        "Milestone": "PLAN_ISSUED",
        "MilestoneDate": "2025-01-13",
        "RequestDate": "2024-09-02",
        "Exception": "N",
    },
    mapping.FSM: {"UPN": UPN, "FSMStartDate": "2024-11-04", "FSMEndDate": ""},
}


def event(event_type: str, **changes: Any) -> dict[str, Any]:
    body = mapping.MAPPERS[event_type]({**ROWS[event_type], **changes})
    envelope = {
        "event_id": "00000000-0000-5000-8000-000000000000",
        "event_type": event_type,
        "schema_version": 1,
        "event_time": dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
        "recorded_time": dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
        "source_system": "SIMS",
        "source_instance": "sims-test",
        "la_code": "999",
        "subject": {"upn": body.upn},
        "source_record": {"entity": "f.csv", "key": "2", "version": "abc"},
        "operation": "UPSERT",
        "sensitivity": "IDENTIFIABLE",
    }
    return {"envelope": envelope, **body.fields}


@pytest.mark.parametrize("event_type", mapping.EVENT_TYPES)
def test_a_good_row_maps_to_an_event_that_passes_validation_and_encodes(event_type):
    record = event(event_type)
    validate(event_type, record)
    codec = Codec()
    assert codec.decode(codec.encode(event_type, record))[1]["envelope"]["subject"]["upn"] == UPN


def test_gld_is_true_only_when_the_twelve_goals_are_expected():
    assert event(mapping.EYFSP)["gld"] is True
    assert event(mapping.EYFSP, ELG17="1")["gld"] is True  # not a GLD goal
    assert event(mapping.EYFSP, ELG10="1")["gld"] is False
    assert event(mapping.EYFSP, ELG03="A")["gld"] is False
    with pytest.raises(ContractError) as err:
        event(mapping.EYFSP, GLD="Y", ELG10="1")
    assert err.value.rule == "eyfsp.gld"


def test_attendance_names_symbol_codes_and_derives_persistent_absence():
    record = event(mapping.ATTENDANCE)
    assert record["by_code"]["PRESENT_AM"] == 63 and record["by_code"]["PRESENT_PM"] == 61
    assert record["term"] == "AUTUMN" and record["persistent_absence_10"] is True
    assert record["severe_absence_50"] is False
    low = event(mapping.ATTENDANCE, SessionsAuthorised="2", SessionsUnauthorised="0",
                SessionsByCode="/:70;\\:70;I:2")  # fmt: skip
    assert low["persistent_absence_10"] is False


def test_ehcp_plan_issued_within_twenty_weeks_is_derived_from_the_dates():
    assert event(mapping.EHCP)["within_20_weeks"] is True
    late = event(mapping.EHCP, MilestoneDate="2025-03-13")
    assert late["within_20_weeks"] is False
    review = event(mapping.EHCP, Milestone="ANNUAL_REVIEW", Exception="")
    assert review["within_20_weeks"] is None and review["exception"] is None


def test_a_derived_exclusion_id_does_not_show_the_upn():
    record = event(mapping.EXCLUSION)
    assert record["exclusion_id"].startswith("EXC-") and UPN not in record["exclusion_id"]
    assert record["start_date"] == dt.date(2025, 1, 20) and record["reasons"] == ["DB", "VA"]


BAD = [
    (mapping.EYFSP, {"UPN": "X820200124001"}, "upn.check", "UPN"),
    (mapping.EYFSP, {"ELG05": "3"}, "eyfsp.judgement", "ELG05"),
    (mapping.EYFSP, {"ELG05": ""}, "required.missing", "ELG05"),
    (mapping.EYFSP, {"AcademicYear": "2024/26"}, "academic_year.format", "AcademicYear"),
    (mapping.EYFSP, {"URN": "19990"}, "urn.format", "URN"),
    (
        mapping.ATTENDANCE,
        {"SessionsByCode": "/:63;\\:61;H:8;M:2;O:4;G:2;L:2"},
        "attendance.code",
        "SessionsByCode",
    ),  # fmt: skip
    (
        mapping.ATTENDANCE,
        {"SessionsByCode": "/:63;\\:61;L:2;I:9;M:2;O:4;G:2"},
        "attendance.code_totals",
        "SessionsByCode",
    ),  # fmt: skip
    (
        mapping.ATTENDANCE,
        {"SessionsAuthorised": "140"},
        "attendance.counts",
        "SessionsUnauthorised",
    ),  # fmt: skip
    (mapping.ATTENDANCE, {"SessionsPossible": "-1"}, "number.format", "SessionsPossible"),
    (mapping.ATTENDANCE, {"Term": "WINTER"}, "term.code_list", "Term"),
    (mapping.EXCLUSION, {"StartDate": "2025-02-30"}, "date.format", "StartDate"),
    (mapping.EXCLUSION, {"Reason1": "ZZ"}, "exclusion.reason", "Reason1"),
    (mapping.EXCLUSION, {"Category": "LUNCH"}, "exclusion.category", "Category"),
    (mapping.EXCLUSION, {"Sessions": "0"}, "exclusion.sessions", "Sessions"),
    (mapping.SEN, {"SENNeed1": "XYZ"}, "sen.need_type", "SENNeed1"),
    (mapping.SEN, {"SENProvision": "N"}, "sen.needs", "SENNeed1"),
    (
        mapping.SEN,
        {"SENProvision": "E", "SENNeed1": "NSA", "SENNeed2": ""},
        "sen.need_type",
        "SENNeed1",
    ),  # fmt: skip
    (mapping.EHCP, {"Milestone": "PLAN_APPROVED"}, "ehcp.milestone", "Milestone"),
    (mapping.EHCP, {"RequestDate": "2025-02-01"}, "dates.order", "RequestDate"),
    (
        mapping.EHCP,
        {"Milestone": "PLAN_CEASED", "Exception": ""},
        "ehcp.ceased_reason",
        "CeasedReason",
    ),  # fmt: skip
    (mapping.FSM, {"FSMEndDate": "2024-01-01"}, "dates.order", "FSMEndDate"),
    (mapping.FSM, {"FSMStartDate": "31/02/2024"}, "date.format", "FSMStartDate"),
]


@pytest.mark.parametrize("event_type,changes,rule,column", BAD)
def test_a_bad_row_names_rule_and_column_but_never_the_value(event_type, changes, rule, column):
    with pytest.raises(ContractError) as err:
        event(event_type, **changes)
    assert (err.value.rule, err.value.field) == (rule, column)
    message = f"{err.value} {err.value.reason}"
    # identifiers, dates, counts and the offending values; code names the rule cites may show
    values = [str(v) for v in {**ROWS[event_type], **changes}.values()]
    shown = [v for v in values if any(c.isdigit() for c in v) and len(v) > 2]
    shown += [str(v) for v in changes.values() if len(str(v)) > 3 and v != "PLAN_CEASED"]
    for value in shown:
        assert value not in message


@pytest.mark.parametrize(
    "header,export",
    [
        (list(ROWS[mapping.ATTENDANCE]), "attendance"),
        (["upn", "fsm start date", "FSM_END_DATE"], "fsm"),
        (list(ROWS[mapping.EYFSP]) + ["Surname", "Whatever"], "eyfsp"),
    ],
)
def test_a_header_is_recognised_without_case_spaces_or_underscores(header, export):
    match = match_header(header)
    assert match.export is not None and match.export.name == export


def test_a_header_of_no_known_export_names_the_missing_columns():
    header = [c for c in ROWS[mapping.ATTENDANCE] if c != "SessionsPossible"]
    problem = match_header(header).problem
    assert problem is not None and problem.rule == "file.header"
    assert "'attendance'" in problem.reason and "SessionsPossible" in problem.reason
    none = match_header(["name", "address"]).problem
    assert none is not None and "matches no known export type" in none.reason
