"""Folder mode without Kafka: complete files only, each once, resumable mid-file."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from connectors.common.base import Mapped, Rejected, SourceUnavailable
from connectors.common.settings import COMMON_SETTINGS, ConfigError, load_settings
from connectors.health import examples as fx
from connectors.health.connector import FhirConnector
from connectors.health.folder import FolderSource

AREAS = {d: (45.0, "ABOVE") for d in fx.c.ASQ3_DOMAINS}


def connector(folder: Path, **extra: Any) -> FhirConnector:
    raw = {"connector": "health_fhir", "name": "hv-folder", "la_code": "999", "folder": str(folder),
           "settle_s": 0, **extra}  # fmt: skip
    return FhirConnector(load_settings(COMMON_SETTINGS + FhirConnector.SETTINGS, raw, "test"))


def review_lines(tag: str, nhs: str = "9990000018") -> list[dict[str, Any]]:
    pid, eid, when = f"p{tag}", f"e{tag}", "2025-02-10T10:00:00Z"
    res = [fx.patient(pid, "2022-11-15", nhs), fx.review_encounter(eid, pid, when)]
    res += fx.review_observations(eid, pid, when, fx.Results("I27", AREAS))
    return res + [fx.parent_comment(f"c{tag}", pid, eid, when, "Synthetic words.")]


def write_ndjson(path: Path, resources: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in resources), encoding="utf-8")


def drain(conn: FhirConnector, position: dict[str, Any] | None, limit: int):
    items: list[Mapped | Rejected] = []
    while (batch := conn.read(position, limit)) is not None:
        items += batch.items
        position = json.loads(json.dumps(batch.position))
    return items, position


def ids(items: list[Mapped | Rejected]) -> list[str]:
    return [i.record["envelope"]["event_id"] for i in items if isinstance(i, Mapped)]


def test_a_file_is_read_once_even_by_a_new_connector(tmp_path):
    write_ndjson(tmp_path / "a.ndjson", review_lines("1") + review_lines("2"))
    items, position = drain(connector(tmp_path), None, limit=100)
    assert len(ids(items)) == 4
    assert connector(tmp_path).read(position, 100) is None
    assert connector(tmp_path).lag(position) == 0
    os.utime(tmp_path / "a.ndjson")  # touched, not changed
    assert connector(tmp_path).read(position, 100) is None


def test_a_restart_mid_file_publishes_each_event_once(tmp_path):
    write_ndjson(tmp_path / "a.ndjson", [r for t in "123" for r in review_lines(t)])
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"resource": r} for r in review_lines("4")]}  # fmt: skip
    (tmp_path / "b.json").write_text(json.dumps(bundle))
    everything = ids(drain(connector(tmp_path), None, limit=100)[0])
    seen: list[str] = []
    position = None
    while True:  # a new connector (a restart) for every batch of two
        batch = connector(tmp_path).read(position, 2)
        if batch is None:
            break
        seen += ids(batch.items)
        position = json.loads(json.dumps(batch.position))
    assert sorted(seen) == sorted(everything) and len(set(seen)) == 8


def test_a_changed_file_is_read_again_and_unchanged_entries_keep_their_ids(tmp_path):
    path = tmp_path / "a.ndjson"
    write_ndjson(path, review_lines("1"))
    first, position = drain(connector(tmp_path), None, limit=100)
    write_ndjson(path, review_lines("1") + review_lines("2"))
    again, _ = drain(connector(tmp_path), position, limit=100)
    assert set(ids(first)) < set(ids(again)) and len(ids(again)) == 4


def test_bad_entries_are_rejected_with_file_and_line_and_the_rest_flows(tmp_path):
    lines = review_lines("1") + review_lines("2", nhs="9990000019")
    text = "".join(json.dumps(r) + "\n" for r in lines) + "{not json\n"
    (tmp_path / "a.ndjson").write_text(text)
    items, _ = drain(connector(tmp_path), None, limit=100)
    rejected = [
        (i.coordinates.entity, i.coordinates.key, i.error.rule)
        for i in items
        if isinstance(i, Rejected)
    ]
    second_patient = len(review_lines("1")) + 1
    assert rejected == [
        ("a.ndjson", str(second_patient), "nhs_number.check"),
        ("a.ndjson", str(second_patient), "nhs_number.check"),  # the review and the comment
        ("a.ndjson", str(len(lines) + 1), "fhir.json"),
    ]
    assert len(ids(items)) == 2


def test_only_settled_or_marked_json_files_are_ready(tmp_path):
    for name in ("a.ndjson", "b.json", "c.ndjson.part", ".d.ndjson", "e.txt"):
        (tmp_path / name).write_text("{}")
    old = time.time() - 120
    os.utime(tmp_path / "a.ndjson", (old, old))
    source = FolderSource(tmp_path, settle_s=60, require_marker=False)
    assert [f.name for f in source.ready()] == ["a.ndjson"]
    (tmp_path / "b.json.done").touch()
    assert [f.name for f in source.ready()] == ["a.ndjson", "b.json"]
    marked_only = FolderSource(tmp_path, settle_s=60, require_marker=True)
    assert [f.name for f in marked_only.ready()] == ["b.json"]


def test_lag_counts_entries_not_yet_read(tmp_path):
    write_ndjson(tmp_path / "a.ndjson", review_lines("1"))
    write_ndjson(tmp_path / "b.ndjson", review_lines("2"))
    conn = connector(tmp_path)
    assert conn.lag(None) == 2 * len(review_lines("1"))
    batch = conn.read(None, 1)
    assert conn.lag(batch.position) == 2 * len(review_lines("1")) - 2  # patient and encounter


def test_missing_folder_is_reported_and_unavailable(tmp_path):
    conn = connector(tmp_path / "nowhere")
    assert "does not exist" in conn.check_source()[0]
    with pytest.raises(SourceUnavailable):
        conn.read(None, 10)


def test_settings_need_a_folder_or_a_base_url():
    declared = COMMON_SETTINGS + FhirConnector.SETTINGS
    with pytest.raises(ConfigError, match="'folder' is required"):
        FhirConnector(
            load_settings(
                declared, {"connector": "health_fhir", "name": "x", "la_code": "999"}, "t"
            )
        )
    raw = {"connector": "health_fhir", "name": "x", "la_code": "999", "source": "server"}
    with pytest.raises(ConfigError, match="'base_url' is required"):
        FhirConnector(load_settings(declared, raw, "t"))
    assert all(s.description for s in FhirConnector.SETTINGS)


def test_credential_file_is_read_and_its_content_never_reported(tmp_path):
    secret = tmp_path / "token"
    secret.write_text("Bearer synthetic-secret\n")
    raw = {"connector": "health_fhir", "name": "x", "la_code": "999", "source": "server",
           "base_url": "http://127.0.0.1:9/fhir", "auth_header_file": str(secret)}  # fmt: skip
    conn = FhirConnector(load_settings(COMMON_SETTINGS + FhirConnector.SETTINGS, raw, "t"))
    assert conn.server.auth == ("Authorization", "Bearer synthetic-secret")
    problems = conn.check_source()
    assert problems and "synthetic-secret" not in " ".join(problems)
