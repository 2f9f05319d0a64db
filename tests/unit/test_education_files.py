"""The drop folder, the XML shapes and the position, without Kafka."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from connectors.common.base import Mapped, Rejected
from connectors.common.settings import COMMON_SETTINGS, load_settings
from connectors.education.connector import EducationFilesConnector
from connectors.education.exports import (
    write_census_xml,
    write_csv,
    write_ctf_xml,
    write_eyfsp_xml,
)
from connectors.education.faults import bad_upn
from connectors.education.reader import FileProblem, SourceRecord, records
from schemas.identifiers import synthetic_upn

UPNS = [synthetic_upn("999", 2001, 19, n) for n in range(1, 31)]
WHERE = {"la": "999", "estab": "2001", "urn": "120019"}
OLD = 1_000_000_000  # a modification time long settled


def attendance(upn: str, term: str = "AUT") -> dict[str, Any]:
    return {"URN": "120019", "AcademicYear": "2024/25", "Term": term, "UPN": upn,
            "SessionsPossible": 140, "SessionsAuthorised": 6, "SessionsUnauthorised": 2,
            "SessionsByCode": {"/": 66, "\\": 66, "I": 6, "O": 2}}  # fmt: skip


def pupil(upn: str, **kinds: list[dict[str, Any]]) -> dict[str, Any]:
    return {"base": {"UPN": upn, "Surname": "O'Brien & Sons", "DOB": "2019-10-02"}, **kinds}


def eyfsp(upn: str, result: str = "2") -> dict[str, Any]:
    return {"UPN": upn, "AcademicYear": "2024/25", **{f"ELG{n:02d}": result for n in range(1, 18)}}


def connector(inbox: Path, state: Path, **raw: Any) -> EducationFilesConnector:
    settings = {"connector": "education_files", "name": "edu-test", "la_code": "999",
                "inbox": str(inbox), "state_dir": str(state), **raw}  # fmt: skip
    declared = COMMON_SETTINGS + EducationFilesConnector.SETTINGS
    return EducationFilesConnector(load_settings(declared, settings, "test"))


def drain(conn: EducationFilesConnector, position: Any = None, limit: int = 1000):
    items: list[Mapped | Rejected] = []
    while (batch := conn.read(position, limit)) is not None:
        items.extend(batch.items)
        position = batch.position
    return items, position


def settle(*paths: Path) -> None:
    for p in paths:
        os.utime(p, (OLD, OLD))


def test_census_xml_records_carry_line_numbers_and_one_part_per_event(tmp_path):
    path = tmp_path / "census.xml"
    pupils = [pupil(UPNS[0], attendance=[attendance(UPNS[0])],
                    fsm=[{"FSMStartDate": "2024-09-01", "UKCountry": "ENG"}],
                    sen=[{"EffectiveDate": "2024-09-01", "SENProvision": "K", "SENNeed1": "SLCN"}],
                    exclusions=[{"Category": "SUSP", "StartDate": "2024-11-05", "Sessions": "2",
                                 "Reason1": "DB"}]),
              pupil(UPNS[1], attendance=[attendance(UPNS[1])])]  # fmt: skip
    write_census_xml(path, year=2024, term="AUT", reference_date="2024-10-03", pupils=pupils,
                     **WHERE)  # fmt: skip
    recs = list(records(path))
    assert [type(r) for r in recs] == [SourceRecord, SourceRecord]
    first = recs[0]
    assert isinstance(first, SourceRecord) and first.line == 4 and recs[1].line == 5
    assert [(name, etype.split(".")[1]) for name, etype, _ in first.parts] == [
        ("sen", "sen_status_changed"),
        ("fsm1", "fsm_eligibility_changed"),
        ("attendance1", "attendance_summarised"),
        ("exclusion1", "suspension_or_exclusion"),
    ]
    fields = first.parts[2][2]
    assert isinstance(fields, dict) and fields["URN"] == "120019"
    assert dict(fields["SessionsByCode"])["\\"] == "66"


@pytest.mark.parametrize("writer", [write_eyfsp_xml, write_ctf_xml])
def test_eyfsp_and_ctf_xml_give_the_seventeen_goals(tmp_path, writer):
    path = tmp_path / "eyfsp.xml"
    writer(path, year=2025, pupils=[pupil(UPNS[0], eyfsp=[eyfsp(UPNS[0], "1")])], **WHERE)
    (rec,) = list(records(path))
    assert isinstance(rec, SourceRecord)
    (name, event_type, fields) = rec.parts[0]
    assert event_type == "education.eyfsp_assessed" and isinstance(fields, dict)
    assert fields["AcademicYear"] == "2024/25" and fields["ELG17"] == "1"


def test_malformed_xml_yields_the_records_before_it_then_one_problem(tmp_path):
    path = tmp_path / "census.xml"
    pupils = [pupil(u, attendance=[attendance(u)]) for u in UPNS[:3]]
    write_census_xml(path, year=2024, term="AUT", reference_date="2024-10-03", pupils=pupils,
                     **WHERE)  # fmt: skip
    text = path.read_text().replace("</PupilOnRoll>\n<PupilOnRoll>", "</PupilOnRoll>\n<Pupil", 2)
    path.write_text(text.replace("<Pupil<UPN>", "<Pupil <UPN>", 1))
    recs = list(records(path))
    assert isinstance(recs[0], SourceRecord)
    assert isinstance(recs[-1], FileProblem) and recs[-1].error.rule == "file.xml_malformed"


@pytest.mark.parametrize(
    "text,rule",
    [
        ('<!DOCTYPE m [<!ENTITY x "boom">]><Message>&x;</Message>', "file.xml_forbidden"),
        ("<Spreadsheet><Row/></Spreadsheet>", "file.xml_shape"),
    ],
)
def test_entities_and_unknown_roots_are_refused(tmp_path, text, rule):
    path = tmp_path / "x.xml"
    path.write_text(text)
    (problem,) = list(records(path))
    assert isinstance(problem, FileProblem) and problem.error.rule == rule


def test_a_restarted_connector_resumes_mid_file_and_publishes_each_record_once(tmp_path):
    inbox = tmp_path / "in"
    inbox.mkdir()
    write_csv(inbox / "att.csv", "attendance", [attendance(u) for u in UPNS])
    settle(inbox / "att.csv")
    first = connector(inbox, tmp_path / "s")
    batch = first.read(None, 7)
    assert batch is not None and batch.position["current"]["index"] == 7
    first.close()
    rest, position = drain(connector(inbox, tmp_path / "s"), batch.position, 5)
    ids = [i.record["envelope"]["event_id"] for i in batch.items + rest if isinstance(i, Mapped)]
    assert len(ids) == len(set(ids)) == len(UPNS)
    assert position["current"] is None and list(position["done"].values())[0]["records"] == 30
    assert (inbox / "processed" / "att.csv").exists()  # moved once the position said done
    assert connector(inbox, tmp_path / "s").read(position, 5) is None


def test_a_file_still_being_written_is_not_read_until_it_settles(tmp_path):
    inbox = tmp_path / "in"
    inbox.mkdir()
    path = inbox / "att.csv"
    write_csv(path, "attendance", [attendance(u) for u in UPNS[:5]])
    conn = connector(inbox, tmp_path / "s", settle_s=30.0)
    assert conn.read(None, 100) is None and conn.lag(None) == 0
    settle(path)
    items, _ = drain(conn)
    assert len(items) == 5


def test_with_a_marker_a_file_is_read_only_once_its_done_file_exists(tmp_path):
    inbox = tmp_path / "in"
    inbox.mkdir()
    write_csv(inbox / "att.csv", "attendance", [attendance(u) for u in UPNS[:5]])
    settle(inbox / "att.csv")
    conn = connector(inbox, tmp_path / "s", ready_when="marker")
    assert conn.read(None, 100) is None
    (inbox / "att.csv.done").touch()
    items, position = drain(conn)
    assert len(items) == 5 and conn.read(position, 100) is None
    assert (inbox / "processed" / "att.csv.done").exists()


def test_the_same_content_dropped_again_is_not_read_again(tmp_path):
    inbox = tmp_path / "in"
    inbox.mkdir()
    write_csv(inbox / "a.csv", "attendance", [attendance(u) for u in UPNS[:3]])
    settle(inbox / "a.csv")
    conn = connector(inbox, tmp_path / "s", move_processed=False)
    items, position = drain(conn)
    assert len(items) == 3
    (inbox / "copy.csv").write_bytes((inbox / "a.csv").read_bytes())
    settle(inbox / "copy.csv")
    assert conn.read(position, 100) is None and conn.lag(position) == 0


def test_bad_rows_are_rejected_with_file_and_line_while_good_rows_flow(tmp_path):
    inbox = tmp_path / "in"
    inbox.mkdir()
    rows = [attendance(u) for u in UPNS[:4]]
    rows[1]["UPN"] = bad_upn(rows[1]["UPN"])
    rows[2]["Term"] = "WINTER"
    write_csv(inbox / "a.csv", "attendance", rows)
    header = "URN,AcademicYear,Term,UPN,SessionsAuthorised,SessionsUnauthorised\n"
    (inbox / "b.csv").write_text(header + "\n".join(f"1,2024/25,AUT,{u},1,0" for u in UPNS[:3]))
    settle(inbox / "a.csv", inbox / "b.csv")
    items, _ = drain(connector(inbox, tmp_path / "s"))
    rejected = [(i.coordinates.entity, i.coordinates.key, i.error.rule) for i in items
                if isinstance(i, Rejected)]  # fmt: skip
    assert sum(isinstance(i, Mapped) for i in items) == 2
    assert sorted(rejected) == [
        ("a.csv", "3", "upn.check"),
        ("a.csv", "4", "term.code_list"),
        ("b.csv", "1", "file.header"),
    ]
    header = next(i for i in items if isinstance(i, Rejected) and i.error.rule == "file.header")
    assert "SessionsPossible" in header.error.reason and UPNS[0].encode() not in header.payload


def test_an_xml_pupil_with_a_bad_upn_is_one_rejection(tmp_path):
    inbox = tmp_path / "in"
    inbox.mkdir()
    bad = bad_upn(UPNS[0])
    pupils = [pupil(bad, attendance=[attendance(bad)], fsm=[{"FSMStartDate": "2024-09-01"}]),
              pupil(UPNS[1], attendance=[attendance(UPNS[1])])]  # fmt: skip
    write_census_xml(inbox / "c.xml", year=2024, term="AUT", reference_date="2024-10-03",
                     pupils=pupils, **WHERE)  # fmt: skip
    settle(inbox / "c.xml")
    conn = connector(inbox, tmp_path / "s")
    assert conn.lag(None) == 2
    items, _ = drain(conn)
    (rejected,) = [i for i in items if isinstance(i, Rejected)]
    assert rejected.error.rule == "upn.check" and rejected.coordinates.key == "4"
    assert bad not in rejected.error.reason and rejected.payload_format == "xml"
    (mapped,) = [i for i in items if isinstance(i, Mapped)]
    assert mapped.record["envelope"]["source_record"]["key"] == "5#attendance1"


def test_check_source_reports_a_missing_folder(tmp_path):
    problems = connector(tmp_path / "nowhere", tmp_path / "s").check_source()
    assert problems and "does not exist" in problems[0]
