import json
import shutil
from pathlib import Path

import pytest

from schemas.catalogue import AVRO_DIR, build_catalogue
from schemas.codec import Codec
from schemas.dictionary import DICTIONARY_PATH, render
from schemas.evolution import LOCK_PATH, check, incompatibilities, load_lock, release, write_lock
from tests.examples import referral


def record(*fields):
    return {"type": "record", "name": "x.R", "fields": list(fields)}


ENUM = {"type": "enum", "name": "x.E", "symbols": ["A", "B"]}


@pytest.mark.parametrize(
    "new,old",
    [
        (
            record({"name": "a", "type": "int"}, {"name": "b", "type": "string", "default": ""}),
            record({"name": "a", "type": "int"}),
        ),
        (record({"name": "a", "type": "long"}), record({"name": "a", "type": "int"})),
        (
            record({"name": "a", "type": ["null", "int"], "default": None}),
            record({"name": "a", "type": "int"}),
        ),
        (
            record({"name": "a", "type": {**ENUM, "symbols": ["A", "B", "C"]}}),
            record({"name": "a", "type": ENUM}),
        ),
        (
            record({"name": "a", "type": "int"}),
            record({"name": "a", "type": "int"}, {"name": "gone", "type": "string"}),
        ),
    ],
    ids=[
        "field-added-with-default",
        "int-promoted-to-long",
        "made-optional",
        "enum-symbol-added",
        "field-removed",
    ],
)
def test_compatible_changes_are_accepted(new, old):
    assert incompatibilities(new, old) == []


@pytest.mark.parametrize(
    "new,old,why",
    [
        (
            record({"name": "a", "type": "int"}, {"name": "b", "type": "string"}),
            record({"name": "a", "type": "int"}),
            "new field without a default",
        ),
        (
            record({"name": "a", "type": "int"}),
            record({"name": "a", "type": "string"}),
            "type changed",
        ),
        (
            record({"name": "a", "type": {**ENUM, "symbols": ["A"]}}),
            record({"name": "a", "type": ENUM}),
            "enum symbols removed",
        ),
        (
            record({"name": "a", "type": "int"}),
            record({"name": "a", "type": ["null", "int"]}),
            "union branch null can no longer be read",
        ),
    ],
    ids=["field-added-without-default", "type-changed", "enum-symbol-removed", "made-required"],
)
def test_breaking_changes_are_reported(new, old, why):
    problems = incompatibilities(new, old)
    assert problems and why in problems[0]


def _tree_with_changed_referral(tmp_path: Path, new_field: dict, version: int) -> Path:
    tree = tmp_path / "avro"
    shutil.copytree(AVRO_DIR, tree)
    path = tree / "case_management" / "referral.avsc"
    doc = json.loads(path.read_text())
    doc["fields"].append(new_field)
    doc["schema_version"] = version
    path.write_text(json.dumps(doc))
    return tree


def test_events_written_with_a_released_version_are_read_by_the_new_one(tmp_path):
    lock_path = tmp_path / "lock.json"
    old_catalogue = build_catalogue(AVRO_DIR, lock_path)
    lock = {}
    release(old_catalogue, lock)
    write_lock(lock, lock_path)
    old_bytes = Codec(old_catalogue).encode("case_management.referral", referral())
    field = {"name": "worker_role", "type": ["null", "string"], "default": None, "doc": "Role."}
    new_catalogue = build_catalogue(_tree_with_changed_referral(tmp_path, field, 2), lock_path)
    schema, event = Codec(new_catalogue).decode(old_bytes)
    assert schema.version == 2
    assert event["worker_role"] is None and event["referral_source"] == "RS_2A"
    assert check(new_catalogue, load_lock(lock_path)) == [
        "case_management.referral: v2 not released yet; run `chorus schemas lock`",
        "share.case_management.referral: v2 not released yet; run `chorus schemas lock`",
    ]


def test_an_incompatible_change_fails_the_check(tmp_path):
    lock_path = tmp_path / "lock.json"
    lock = {}
    release(build_catalogue(AVRO_DIR, lock_path), lock)
    write_lock(lock, lock_path)
    field = {"name": "worker_role", "type": "string", "doc": "Role."}
    new_catalogue = build_catalogue(_tree_with_changed_referral(tmp_path, field, 1), lock_path)
    problems = check(new_catalogue, load_lock(lock_path))
    assert any("schema_version is still 1" in p for p in problems)
    assert any("worker_role: new field without a default" in p for p in problems)


def test_committed_schemas_are_released_and_compatible():
    assert check(build_catalogue(), load_lock(LOCK_PATH)) == []


def test_committed_dictionary_is_current():
    assert DICTIONARY_PATH.read_text(encoding="utf-8") == render(build_catalogue()), (
        "run `chorus schemas dictionary`"
    )
