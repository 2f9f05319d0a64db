"""The export shapes the connector knows: CSV headers and XML record elements.

CSV: one export type per file, recognised by its header (column names compared
without case, spaces or underscores). XML: the root element says the family
(``Message`` for DfE COLLECT-style returns, ``CTfile`` for a common transfer
file) and each record element (``PupilOnRoll``, ``Child``, ``Pupil``) is turned
into the same flat records as the CSV columns, one per event it carries.
README.md ("What it reads") documents every column and element.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element

from connectors.education import codes
from connectors.education.mapping import ATTENDANCE, EHCP, EXCLUSION, EYFSP, FSM, SEN
from schemas.errors import ContractError

_PERSON = ("LA", "Estab", "Surname", "Forename", "DOB", "Sex", "Postcode")


@dataclass(frozen=True)
class CsvExport:
    name: str
    event_type: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


CSV_EXPORTS: tuple[CsvExport, ...] = (
    CsvExport(
        "eyfsp",
        EYFSP,
        ("URN", "AcademicYear", "UPN", *codes.ELGS),
        (*_PERSON, "GLD", "AssessmentDate"),
    ),
    CsvExport(
        "attendance",
        ATTENDANCE,
        (
            "URN",
            "AcademicYear",
            "Term",
            "UPN",
            "SessionsPossible",
            "SessionsAuthorised",
            "SessionsUnauthorised",
        ),
        (*_PERSON, "SessionsByCode", "TermEndDate"),
    ),
    CsvExport(
        "exclusions",
        EXCLUSION,
        ("URN", "UPN", "Category", "StartDate", "Reason1"),
        (*_PERSON, "ExclusionID", "Sessions", "Reason2", "Reason3"),
    ),
    CsvExport(
        "sen",
        SEN,
        ("UPN", "EffectiveDate", "SENProvision"),
        (*_PERSON, "URN", "SENNeed1", "SENNeed2"),
    ),
    CsvExport(
        "ehcp",
        EHCP,
        ("RequestID", "UPN", "Milestone", "MilestoneDate"),
        (*_PERSON, "RequestDate", "Exception", "CeasedReason"),
    ),
    CsvExport(
        "fsm",
        FSM,
        ("UPN", "FSMStartDate"),
        (*_PERSON, "URN", "FSMEndDate", "Eligible", "UKCountry"),
    ),
)


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


@dataclass(frozen=True)
class HeaderMatch:
    export: CsvExport | None
    columns: list[str | None]  # canonical name per position, None for columns we do not read
    problem: ContractError | None


def match_header(header: list[str]) -> HeaderMatch:
    """The export type a CSV header belongs to, or a problem naming the missing columns."""
    present = {_norm(h) for h in header}
    best: tuple[tuple[bool, float, int], CsvExport] | None = None
    for i, export in enumerate(CSV_EXPORTS):
        have = sum(_norm(c) in present for c in export.required)
        complete = have == len(export.required)
        # A complete match wins; among those the most specific; else the largest share.
        key = (complete, len(export.required) if complete else have / len(export.required), -i)
        if best is None or key > best[0]:
            best = (key, export)
    assert best is not None
    (complete, _, _), export = best
    if complete:
        names = {_norm(c): c for c in export.columns}
        return HeaderMatch(export, [names.get(_norm(h)) for h in header], None)
    missing = [c for c in export.required if _norm(c) not in present]
    if len(missing) == len(export.required):
        reason = (
            "the header matches no known export type ("
            + ", ".join(e.name for e in CSV_EXPORTS)
            + ")"
        )
    else:
        reason = (
            f"the header does not match a known export type; nearest is '{export.name}', "
            f"missing columns: {', '.join(missing)}"
        )
    return HeaderMatch(None, [], ContractError("file.header", reason, "header"))


# --------------------------------------------------------------------------- XML

#: A part of one XML record: (part name, event type, flat record or the problem found).
Part = tuple[str, str, "dict[str, Any] | ContractError"]
Context = dict[str, str]


def leaf(elem: Element, path: str) -> str | None:
    found = elem.find(path)
    if found is None or found.text is None:
        return None
    return found.text.strip() or None


def _collection_year(value: str | None, where: str) -> str:
    """A collection year (the summer the academic year ends, e.g. 2025) as YYYY/YY."""
    if value is None or not value.isdigit() or len(value) != 4:
        raise ContractError("academic_year.format", f"{where} must be a 4-digit year", where)
    year = int(value)
    return f"{year - 1}/{year % 100:02d}"


def _results(pairs: list[tuple[str | None, str | None]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for elg, result in pairs:
        key = (elg or "").upper()
        if key not in codes.ELGS or key in out:
            raise ContractError(
                "eyfsp.elg", "an ELG result names no early learning goal, or one twice", "ELG"
            )
        out[key] = result
    return out


def census_pupil(pupil: Element, ctx: Context) -> tuple[dict[str, Any], list[Part]]:
    """``Message/Pupils/PupilOnRoll`` of a school-census-like return (Collection SC)."""
    base = {
        "UPN": leaf(pupil, "UPN"),
        "URN": ctx.get("Source/URN"),
        "LA": ctx.get("Source/LEA"),
        "Estab": ctx.get("Source/Estab"),
    }
    parts: list[Part] = []
    if pupil.find("SENprovision") is not None:
        needs = [
            (leaf(n, "SENtype"), leaf(n, "SENtypeRank")) for n in pupil.iterfind("SENneeds/SENneed")
        ]
        parts.append(
            (
                "sen",
                SEN,
                {
                    **base,
                    "EffectiveDate": leaf(pupil, "SENprovisionStartDate")
                    or ctx.get("CollectionDetails/ReferenceDate"),
                    "SENProvision": leaf(pupil, "SENprovision"),
                    "Needs": needs,
                },
            )
        )
    for i, period in enumerate(pupil.iterfind("FSMperiods/FSMperiod"), 1):
        parts.append(
            (
                f"fsm{i}",
                FSM,
                {
                    **base,
                    "FSMStartDate": leaf(period, "FSMstartDate"),
                    "FSMEndDate": leaf(period, "FSMendDate"),
                    "UKCountry": leaf(period, "UKcountry"),
                },
            )
        )
    for i, term in enumerate(pupil.iterfind("Attendance/TermlySessions"), 1):
        parts.append(
            (
                f"attendance{i}",
                ATTENDANCE,
                {
                    **base,
                    "AcademicYear": leaf(term, "AcademicYear"),
                    "Term": leaf(term, "Term"),
                    "SessionsPossible": leaf(term, "SessionsPossible"),
                    "SessionsAuthorised": leaf(term, "SessionsAuthorised"),
                    "SessionsUnauthorised": leaf(term, "SessionsUnauthorised"),
                    "SessionsByCode": [
                        (leaf(s, "AttendanceReason"), leaf(s, "AttendanceSessions"))
                        for s in term.iterfind("Sessions")
                    ],
                },
            )
        )
    for i, exc in enumerate(pupil.iterfind("Exclusions/TermlyExclusion"), 1):
        parts.append(
            (
                f"exclusion{i}",
                EXCLUSION,
                {
                    **base,
                    "ExclusionID": leaf(exc, "ExclusionID"),
                    "Category": leaf(exc, "Category"),
                    "StartDate": leaf(exc, "StartDate"),
                    "Sessions": leaf(exc, "Sessions"),
                    "Reasons": [r.text.strip() for r in exc.iterfind("Reason") if r.text],
                },
            )
        )
    return base, parts


def eyfsp_child(child: Element, ctx: Context) -> tuple[dict[str, Any], list[Part]]:
    """``Message/Establishment/Children/Child`` of an EYFSP-return-like file (Collection EYFSP)."""
    base = {
        "UPN": leaf(child, "UPN"),
        "URN": ctx.get("URN"),
        "LA": ctx.get("LEA"),
        "Estab": ctx.get("Estab"),
    }
    try:
        record = {
            **base,
            "AcademicYear": _collection_year(
                ctx.get("CollectionDetails/Year"), "CollectionDetails/Year"
            ),
            **_results(
                [
                    (leaf(r, "ELG"), leaf(r, "Result"))
                    for r in child.iterfind("ELGresults/ELGresult")
                ]
            ),
        }
    except ContractError as err:
        return base, [("eyfsp", EYFSP, err)]
    return base, [("eyfsp", EYFSP, record)]


def ctf_pupil(pupil: Element, ctx: Context) -> tuple[dict[str, Any], list[Part]]:
    """``CTfile/CTFpupilData/Pupil`` of a common transfer file: EYFSP, SEN and FSM history."""
    base = {
        "UPN": leaf(pupil, "UPN"),
        "URN": ctx.get("SourceSchool/URN"),
        "LA": ctx.get("SourceSchool/LEA"),
        "Estab": ctx.get("SourceSchool/Estab"),
    }
    parts: list[Part] = []
    fsp = [
        sa
        for ks in pupil.iterfind("StageAssessments/KeyStage")
        if (leaf(ks, "Stage") or "").upper() == "FSP"
        for sa in ks.iterfind("StageAssessment")
    ]
    if fsp:
        try:
            record: dict[str, Any] | ContractError = {
                **base,
                "AcademicYear": _collection_year(leaf(fsp[0], "Year"), "StageAssessment/Year"),
                "AssessmentDate": leaf(fsp[0], "ResultDate"),
                **_results([(leaf(sa, "Component"), leaf(sa, "Result")) for sa in fsp]),
            }
        except ContractError as err:
            record = err
        parts.append(("eyfsp", EYFSP, record))
    sens = sorted(pupil.iterfind("SENhistory/SEN"), key=lambda e: leaf(e, "StartDate") or "")
    if sens:
        needs = [
            (leaf(n, "SENtype"), leaf(n, "SENtypeRank"))
            for n in pupil.iterfind("SENhistory/SENneeds/SENneed")
        ]
        parts.append(
            (
                "sen",
                SEN,
                {
                    **base,
                    "EffectiveDate": leaf(sens[-1], "StartDate"),
                    "SENProvision": leaf(sens[-1], "SENprovision"),
                    "Needs": needs,
                },
            )
        )
    for i, inst in enumerate(pupil.iterfind("FSMhistory/FSMinstance"), 1):
        parts.append(
            (
                f"fsm{i}",
                FSM,
                {
                    **base,
                    "FSMStartDate": leaf(inst, "FSMstartDate"),
                    "FSMEndDate": leaf(inst, "FSMendDate"),
                    "UKCountry": leaf(inst, "UKcountry"),
                },
            )
        )
    return base, parts


Shape = Callable[[Element, Context], "tuple[dict[str, Any], list[Part]]"]

#: root element -> {record element -> shape}.
XML_SHAPES: dict[str, dict[str, Shape]] = {
    "Message": {"PupilOnRoll": census_pupil, "Child": eyfsp_child},
    "CTfile": {"Pupil": ctf_pupil},
}
