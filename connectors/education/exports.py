"""Writes export files in the shapes this connector reads (CSV, census-like, EYFSP and CTF XML).

For synthetic data (`deploy.synth.education`) and tests: what is written here
is what README.md documents and `formats` reads back. A record is a flat dict
keyed by the CSV column names; ``SessionsByCode`` is a dict of register code ->
sessions. An XML pupil is a dict with ``base`` (UPN, names, DOB, sex) and lists
of records by kind: ``eyfsp``, ``attendance``, ``exclusions``, ``sen``, ``fsm``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from connectors.education.codes import ELGS
from connectors.education.formats import CSV_EXPORTS

Pupil = dict[str, Any]
#: How a school delivers its exports (see README, "Files a school sends").
STYLES = ("csv", "census+eyfsp", "census+ctf")
CENSUS_TERMS = ("AUT", "SPR", "SUM")
_BY_NAME = {e.name: e for e in CSV_EXPORTS}
_ORDER = (
    "/", "\\", "L", "K", "B", "D", "P", "V", "W", "C", "C1", "C2", "J1", "M", "R", "S", "T", "E",
    "I", "Q", "Y1", "Y2", "Y3", "Y4", "Y5", "Y6", "Y7", "G", "N", "O", "U",
)  # fmt: skip
_RANK = {c: i for i, c in enumerate(_ORDER)}
Node = list[tuple[str, Any]]  # (element, text or a Node); None and "" are left out


def _codes(by_code: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(by_code.items(), key=lambda kv: (_RANK.get(kv[0], 99), kv[0]))


def write_csv(path: Path, kind: str, rows: Iterable[dict[str, Any]]) -> int:
    """A CSV export of ``kind`` (eyfsp, attendance, exclusions, sen, ehcp, fsm); returns rows."""
    columns = [c for c in _BY_NAME[kind].columns if c not in ("Postcode", "GLD")]
    n = 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(columns)
        for row in rows:
            by_code = row.get("SessionsByCode")
            if isinstance(by_code, dict):
                row = {**row, "SessionsByCode": ";".join(f"{c}:{k}" for c, k in _codes(by_code))}
            out.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
            n += 1
    return n


def xml(tag: str, content: Any) -> str:
    """``<tag>content</tag>``; content is text or a Node (nested elements)."""
    if content is None or content == "" or content == []:
        return ""
    if isinstance(content, list):
        return f"<{tag}>" + "".join(xml(t, c) for t, c in content) + f"</{tag}>"
    return f"<{tag}>{escape(str(content))}</{tag}>"


def fields(rec: dict[str, Any], spec: str) -> Node:
    """Elements from columns: 'Term FSMstartDate=FSMStartDate' (element=column if they differ)."""
    return [(tag, rec.get(col or tag)) for tag, _, col in (i.partition("=") for i in spec.split())]


_PERSON = "UPN Surname Forename DOB Sex"
_FSM = "FSMstartDate=FSMStartDate FSMendDate=FSMEndDate UKcountry=UKCountry"
_TERMLY = "AcademicYear Term SessionsPossible SessionsAuthorised SessionsUnauthorised"


def _needs(sen: dict[str, Any]) -> Node:
    pairs = ((sen.get("SENNeed1"), 1), (sen.get("SENNeed2"), 2))
    return [("SENneed", [("SENtype", t), ("SENtypeRank", r)]) for t, r in pairs if t]


def _census_pupil(p: Pupil) -> str:
    node = fields(p["base"], _PERSON)
    for sen in p.get("sen", []):
        node += fields(sen, "SENprovision=SENProvision SENprovisionStartDate=EffectiveDate")
        node.append(("SENneeds", _needs(sen)))
    node.append(("FSMperiods", [("FSMperiod", fields(f, _FSM)) for f in p.get("fsm", [])]))
    sessions = [
        ("TermlySessions", fields(a, _TERMLY) + [
            ("Sessions", [("AttendanceReason", c), ("AttendanceSessions", k)])
            for c, k in _codes(a["SessionsByCode"])
        ])
        for a in p.get("attendance", [])
    ]  # fmt: skip
    node.append(("Attendance", sessions))
    exclusions = [
        ("TermlyExclusion", fields(x, "ExclusionID") + [
            ("Category", {"SUSP": "FIXD"}.get(x["Category"], x["Category"]))
        ] + fields(x, "StartDate Sessions Reason=Reason1 Reason=Reason2 Reason=Reason3"))
        for x in p.get("exclusions", [])
    ]  # fmt: skip
    node.append(("Exclusions", exclusions))
    return xml("PupilOnRoll", node) + "\n"


def _header(collection: str, year: int, where: dict[str, str], term: str | None, day: str) -> str:
    details = [("Collection", collection), ("Term", term), ("Year", year), ("ReferenceDate", day)]
    source = [("SourceLevel", "S"), ("LEA", where["la"]), ("Estab", where["estab"])]
    source += [("URN", where["urn"]), ("SoftwareCode", "CHORUS-SYNTH"), ("Release", "1")]
    return xml("Header", [("CollectionDetails", details), ("Source", source)]) + "\n"


def _write(path: Path, head: str, items: Iterable[str], tail: str) -> int:
    n = 0
    with open(path, "w", encoding="utf-8") as fh:
        fh.write('<?xml version="1.0" encoding="UTF-8"?>\n' + head)
        for item in items:
            fh.write(item)
            n += 1
        fh.write(tail)
    return n


def write_census_xml(
    path: Path, *, la: str, estab: str, urn: str, year: int, term: str, reference_date: str,
    pupils: Iterable[Pupil],
) -> int:  # fmt: skip
    """A school-census-like return (Collection SC) for one school and census term."""
    where = {"la": la, "estab": estab, "urn": urn}
    head = "<Message>" + _header("SC", year, where, term, reference_date) + "<Pupils>\n"
    return _write(path, head, map(_census_pupil, pupils), "</Pupils>\n</Message>\n")


def _child(p: Pupil) -> Iterable[str]:
    for rec in p.get("eyfsp", []):
        results = [("ELGresult", [("ELG", elg), ("Result", rec.get(elg))]) for elg in ELGS]
        yield xml("Child", fields(p["base"], _PERSON) + [("ELGresults", results)]) + "\n"


def write_eyfsp_xml(
    path: Path, *, la: str, estab: str, urn: str, year: int, pupils: Iterable[Pupil]
) -> int:
    """An EYFSP-return-like file (Collection EYFSP) for one school; year is the summer's year."""
    where = {"la": la, "estab": estab, "urn": urn}
    head = "<Message>" + _header("EYFSP", year, where, None, f"{year}-06-30")
    head += f"<Establishment><LEA>{la}</LEA><Estab>{estab}</Estab><URN>{urn}</URN>\n<Children>\n"
    items = (c for p in pupils for c in _child(p))
    return _write(path, head, items, "</Children>\n</Establishment>\n</Message>\n")


def _ctf_pupil(p: Pupil) -> str:
    node = fields(p["base"], _PERSON)
    node.append(("FSMhistory", [("FSMinstance", fields(f, _FSM)) for f in p.get("fsm", [])]))
    for sen in p.get("sen", []):
        entry = fields(sen, "StartDate=EffectiveDate SENprovision=SENProvision")
        node.append(("SENhistory", [("SEN", entry), ("SENneeds", _needs(sen))]))
    for rec in p.get("eyfsp", []):
        year = int(rec["AcademicYear"][:4]) + 1
        assessments = [
            ("StageAssessment", [
                ("Locale", "ENG"), ("Year", year), ("Subject", "FSP"), ("Method", "TA"),
                ("Component", elg), ("Result", rec.get(elg)),
                ("ResultDate", rec.get("AssessmentDate")),
            ])
            for elg in ELGS
        ]  # fmt: skip
        node.append(("StageAssessments", [("KeyStage", [("Stage", "FSP"), *assessments])]))
    return xml("Pupil", node) + "\n"


def write_ctf_xml(
    path: Path, *, la: str, estab: str, urn: str, year: int, pupils: Iterable[Pupil]
) -> int:
    """A common transfer file from one school to its LA (EYFSP, SEN and FSM history)."""
    school = [("LEA", la), ("Estab", estab), ("URN", urn), ("AcademicYear", year - 1)]
    header = [
        ("DocumentName", "Common Transfer File"), ("CTFversion", "25.0"),
        ("DateTime", f"{year}-07-20T17:00:00"), ("DocumentQualifier", "full"),
        ("SourceSchool", school), ("DestSchool", [("LEA", la), ("Estab", "LLLL")]),
    ]  # fmt: skip
    head = "<CTfile>" + xml("Header", header) + "\n<CTFpupilData>\n"
    return _write(path, head, map(_ctf_pupil, pupils), "</CTFpupilData>\n</CTfile>\n")


def term_of(day: str) -> str:
    """The census term a YYYY-MM-DD date falls in (read from the text: faulty dates too)."""
    month, mday = int(day[5:7]), int(day[8:10])
    return "AUT" if month >= 8 else "SPR" if (month, mday) < (4, 21) else "SUM"


def _census_day(term: str, year: int) -> str:
    return {"AUT": f"{year - 1}-10-03", "SPR": f"{year}-01-16", "SUM": f"{year}-05-15"}[term]


def write_school(
    out: Path, *, la: str, estab: str, urn: str, year: int, style: str, pupils: list[Pupil]
) -> list[Path]:
    """One school's files for the academic year ending in ``year``, in one of STYLES.

    csv: ``URN_YYYY_<kind>.csv`` (attendance per term: ``URN_YYYY_attendance_AUT.csv``);
    census+eyfsp: ``URN_YYYY_census_<term>.xml`` (SEN and FSM in the autumn one) and
    ``URN_YYYY_eyfsp.xml``; census+ctf: census files with attendance and exclusions only,
    and ``URN_YYYY_ctf.xml`` with EYFSP, SEN and FSM.
    """
    stem, where = f"{urn}_{year - 1}{year % 100:02d}", {"la": la, "estab": estab, "urn": urn}
    written: list[Path] = []
    if style == "csv":
        for kind in ("eyfsp", "attendance", "exclusions", "sen", "fsm"):
            rows = [rec for p in pupils for rec in p.get(kind, [])]
            groups = [("", rows)]
            if kind == "attendance":
                groups = [(f"_{t}", [r for r in rows if r["Term"] == t]) for t in CENSUS_TERMS]
            for suffix, recs in groups:
                if recs:
                    written.append(out / f"{stem}_{kind}{suffix}.csv")
                    write_csv(written[-1], kind, recs)
        return written
    for term in CENSUS_TERMS:
        census = []
        for p in pupils:
            rec = {
                "base": p["base"],
                "attendance": [a for a in p.get("attendance", []) if a["Term"] == term],
                "exclusions": [
                    x for x in p.get("exclusions", []) if term_of(x["StartDate"]) == term
                ],
            }
            if style == "census+eyfsp" and term == "AUT":
                rec.update(sen=p.get("sen", []), fsm=p.get("fsm", []))
            census.append(rec)
        written.append(out / f"{stem}_census_{term}.xml")
        census_year = year - 1 if term == "AUT" else year
        write_census_xml(
            written[-1],
            year=census_year,
            term=term,
            reference_date=_census_day(term, year),
            pupils=census,
            **where,
        )
    if style == "census+eyfsp":
        kids = [p for p in pupils if p.get("eyfsp")]
        if kids:
            written.append(out / f"{stem}_eyfsp.xml")
            write_eyfsp_xml(written[-1], year=year, pupils=kids, **where)
        return written
    ctf = [p for p in pupils if any(p.get(k) for k in ("eyfsp", "sen", "fsm"))]
    if ctf:
        written.append(out / f"{stem}_ctf.xml")
        write_ctf_xml(written[-1], year=year, pupils=ctf, **where)
    return written
