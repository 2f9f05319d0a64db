"""The generated encoders and decoders (schemas.compiled) against fastavro, the reference.

Every example event and random records of every schema in the catalogue are encoded
by both and must give the same bytes, and decoded by both and must give the same
record; synthetic schemas cover the Avro types the tree does not use yet.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import random
from decimal import Decimal
from typing import Any

import fastavro
import pytest
from fastavro.utils import generate_many

from schemas.catalogue import Catalogue, EventSchema, default_catalogue, make_event_schema
from schemas.codec import HEADER_LEN, MAGIC, Codec, compiled
from schemas.errors import DecodeError
from schemas.examples.case_management import EXAMPLES as CASE_MANAGEMENT
from schemas.examples.consent import EXAMPLES as CONSENT
from schemas.examples.education import EXAMPLES as EDUCATION
from schemas.examples.health import EXAMPLES as HEALTH
from schemas.examples.voice import EXAMPLES as VOICE
from tests.examples import referral

EXAMPLES = {**CASE_MANAGEMENT, **CONSENT, **EDUCATION, **HEALTH, **VOICE}
CATALOGUE = default_catalogue()
SCHEMAS = sorted(CATALOGUE, key=lambda s: (s.event_type, s.version, s.fingerprint))


def reference_encode(schema: EventSchema, record: dict[str, Any]) -> bytes:
    buf = io.BytesIO()
    buf.write(MAGIC + schema.fingerprint)
    fastavro.schemaless_writer(buf, schema.parsed, record)
    return buf.getvalue()


def reference_decode(schema: EventSchema, data: bytes, reader: EventSchema | None = None) -> Any:
    buf = io.BytesIO(data[HEADER_LEN:])
    record = fastavro.schemaless_reader(buf, schema.parsed, reader and reader.parsed)
    assert buf.tell() == len(data) - HEADER_LEN
    return record


def assert_same_as_fastavro(schema: EventSchema, record: dict[str, Any]) -> None:
    """The generated code itself (not its fastavro fallback) matches fastavro both ways."""
    plan = compiled(schema)
    assert plan is not None, f"{schema.name} is not compiled"
    expected = reference_encode(schema, record)
    data = plan.encode(copy.deepcopy(record))
    assert data == expected
    back, end = plan.decode(data, HEADER_LEN)
    assert end == len(data)
    assert typed(back) == typed(reference_decode(schema, data))


def typed(value: Any) -> Any:
    """A value with the types of everything in it (True == 1, and aware datetimes are equal
    whatever their zone, so == alone would not tell a wrong type or zone)."""
    if isinstance(value, dict):
        return {k: typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [typed(v) for v in value]
    if isinstance(value, dt.datetime):
        return (dt.datetime, value, value.tzinfo)
    return (type(value), value)


def random_records(schema: EventSchema, count: int, seed: int) -> list[dict[str, Any]]:
    """fastavro's random records, written and read back by fastavro: the values a reader gets
    (aware datetimes, dates), with every union branch and enum symbol in time."""
    state = random.getstate()
    random.seed(seed)
    try:
        raw = list(generate_many(schema.parsed, count))
    finally:
        random.setstate(state)
    return [reference_decode(schema, reference_encode(schema, r)) for r in raw]


# --------------------------------------------------------------------------- the catalogue


def test_every_schema_in_the_catalogue_is_compiled():
    assert [s.name for s in SCHEMAS if compiled(s) is None] == []


@pytest.mark.parametrize("event_type", sorted(EXAMPLES))
def test_every_example_encodes_and_decodes_as_fastavro_does(event_type):
    assert_same_as_fastavro(CATALOGUE.latest(event_type), EXAMPLES[event_type])


def test_the_benchmark_referral_encodes_and_decodes_as_fastavro_does():
    assert_same_as_fastavro(CATALOGUE.latest("case_management.referral"), referral())
    no_outcome = {**referral(), "outcome": None}
    assert_same_as_fastavro(CATALOGUE.latest("case_management.referral"), no_outcome)


@pytest.mark.parametrize(
    "schema", SCHEMAS, ids=[f"{s.event_type}-v{s.version}-{s.fingerprint.hex()}" for s in SCHEMAS]
)
def test_random_records_of_every_schema_encode_and_decode_as_fastavro_does(schema):
    for record in random_records(schema, 25, seed=int.from_bytes(schema.fingerprint[:4])):
        assert_same_as_fastavro(schema, record)


def test_examples_with_every_optional_field_null_match_fastavro():
    def nulled(node: Any, schema: Any) -> Any:
        if isinstance(node, dict) and isinstance(schema, dict) and "fields" in schema:
            out = {}
            for f in schema["fields"]:
                t = f["type"]
                if isinstance(t, list) and "null" in t:
                    out[f["name"]] = None
                else:
                    out[f["name"]] = nulled(node.get(f["name"]), t)
            return out
        return node

    for event_type, record in EXAMPLES.items():
        schema = CATALOGUE.latest(event_type)
        assert_same_as_fastavro(schema, nulled(record, schema.parsed))


# --------------------------------------------------------------------------- resolution


def _referral_v2() -> tuple[EventSchema, EventSchema]:
    v1 = CATALOGUE.latest("case_management.referral")
    doc = copy.deepcopy(v1.schema)
    doc["schema_version"] = 2
    doc["fields"].append(
        {"name": "worker_role", "type": ["null", "string"], "default": None, "doc": "Role."}
    )
    return v1, make_event_schema(doc)


def test_an_older_writer_is_read_into_the_latest_schema_as_fastavro_resolves_it():
    v1, v2 = _referral_v2()
    old_bytes = Codec(Catalogue([v1])).encode("case_management.referral", referral())
    schema, record = Codec(Catalogue([v2], [v1])).decode(old_bytes)
    assert schema is v2
    assert record == reference_decode(v1, old_bytes, v2)
    assert record["worker_role"] is None and record["referral_source"] == "RS_2A"


def test_an_older_writer_gets_the_compiled_checks_before_resolution():
    v1, v2 = _referral_v2()
    old_bytes = Codec(Catalogue([v1])).encode(
        "case_management.referral", {**referral(), "team": "Tzz9"}
    )
    broken = old_bytes.replace(b"Tzz9", b"T\xff\xfe9")
    with pytest.raises(DecodeError) as err:
        Codec(Catalogue([v2], [v1])).decode(broken)
    assert (err.value.rule, err.value.field) == ("avro.non_utf8_text", "team")


# --------------------------------------------------------------------------- synthetic schemas

ITEM = {
    "type": "record",
    "name": "test.Item",
    "fields": [
        {"name": "text", "type": ["null", "string"], "default": None},
        {"name": "score", "type": ["null", "int"], "default": None},
    ],
}
FIELDS = [
    {"name": "b", "type": "boolean"},
    {"name": "i", "type": "int"},
    {"name": "l", "type": "long"},
    {"name": "f", "type": "float"},
    {"name": "d", "type": "double"},
    {"name": "raw", "type": "bytes"},
    {"name": "s", "type": "string"},
    {"name": "fx", "type": {"type": "fixed", "name": "test.Four", "size": 4}},
    {"name": "e", "type": {"type": "enum", "name": "test.E", "symbols": ["A", "B", "C"]}},
    {"name": "e2", "type": "test.E"},
    {"name": "day", "type": {"type": "int", "logicalType": "date"}},
    {"name": "ms", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "us", "type": {"type": "long", "logicalType": "timestamp-micros"}},
    {"name": "odd", "type": {"type": "long", "logicalType": "not-a-known-type"}},
    {"name": "tags", "type": {"type": "array", "items": "string"}},
    {"name": "counts", "type": {"type": "map", "values": "long"}},
    {"name": "items", "type": {"type": "array", "items": ITEM}},
    {"name": "last", "type": ["test.Item", "null"]},
    {"name": "when", "type": ["null", {"type": "int", "logicalType": "date"}], "default": None},
    {"name": "nothing", "type": "null"},
    {"name": "fallback", "type": "string", "default": "none given"},
]
MANY = [f"S{n}" for n in range(65)]
GENERAL_UNION = {"name": "multi", "type": ["null", "string", "long", "test.Item"]}


def synthetic(*extra: dict, name: str = "test.Sink") -> EventSchema:
    fields = [*FIELDS, *extra]
    return make_event_schema(
        {"type": "record", "name": name, "event_type": "t.s", "fields": fields}
    )


def sink_record(**changes: Any) -> dict[str, Any]:
    cet = dt.timezone(dt.timedelta(hours=1))
    record = {
        "b": True,
        "i": -(2**31),
        "l": 2**63 - 1,
        "f": 1.5,
        "d": -2.25e300,
        "raw": bytes(range(200)),
        "s": "déjà vu, naïve café " * 5,
        "fx": b"\x00\x01\x02\x03",
        "e": "C",
        "e2": "A",
        "day": dt.date(1969, 12, 31),
        "ms": dt.datetime(1965, 7, 1, 23, 59, 59, 999999, tzinfo=cet),
        "us": dt.datetime(2262, 1, 1, 0, 0, 0, 1, tzinfo=dt.UTC),
        "odd": -7,
        "tags": ["a", "", "z" * 70] * 30,
        "counts": {f"k{n}": n * 1_000_003 for n in range(70)},
        "items": [{"text": "one", "score": 1}, {"text": None, "score": None}, {}],
        "last": {"text": "x"},
        "nothing": None,
    }
    record.update(changes)
    return record


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"b": False, "i": 0, "l": -1, "tags": [], "counts": {}, "items": [], "last": None},
        {"day": dt.date(2025, 3, 14), "when": dt.date(1, 1, 1), "s": "", "raw": b""},
        {"ms": dt.datetime(2025, 3, 14, 9, 30, 0, 123456, tzinfo=dt.UTC), "f": 0.1},
        {"i": 2**31 - 1, "l": -(2**63), "e": "B", "fallback": "given"},
    ],
)
def test_every_avro_type_matches_fastavro(changes):
    assert_same_as_fastavro(synthetic(), sink_record(**changes))


@pytest.mark.parametrize("value", [None, "text", 12, {"text": "item", "score": 3}])
def test_unions_of_more_than_two_branches_decode_compiled_and_encode_by_fastavro(value):
    schema = synthetic(GENERAL_UNION)
    record = sink_record(multi=value)
    data = Codec(Catalogue([schema])).encode("t.s", record)
    assert data == reference_encode(schema, record)
    assert compiled(schema).decode(data, HEADER_LEN) == (reference_decode(schema, data), len(data))


@pytest.mark.parametrize(
    "changes",
    [
        {"d": 3},  # an int for a double: fastavro takes it
        {"ms": dt.datetime(2025, 3, 14, 9, 30)},  # naive: fastavro takes it as local time
        {"day": 20161},  # the days themselves
        {"b": 1},
    ],
)
def test_values_the_compiled_encoder_declines_are_encoded_by_fastavro(changes):
    schema = synthetic()
    record = sink_record(**changes)
    assert Codec(Catalogue([schema])).encode("t.s", record) == reference_encode(schema, record)


@pytest.mark.parametrize(
    "field,value",
    [
        (
            {
                "name": "amount",
                "type": {"type": "bytes", "logicalType": "decimal", "precision": 4, "scale": 1},
            },
            Decimal("12.5"),
        ),
        ({"name": "many", "type": {"type": "enum", "name": "test.Many", "symbols": MANY}}, "S64"),
        ({"name": "next", "type": ["null", "test.Sink"], "default": None}, sink_record()),
    ],
    ids=["decimal", "enum-of-65", "recursive"],
)
def test_schemas_the_generator_does_not_handle_go_to_fastavro(field, value):
    schema = synthetic(field)
    assert compiled(schema) is None
    codec = Codec(Catalogue([schema]))
    record = sink_record(**{field["name"]: value})
    data = codec.encode("t.s", record)
    assert data == reference_encode(schema, record)
    assert codec.decode(data)[1] == reference_decode(schema, data)


@pytest.mark.parametrize("ms", [0, 1, -1, 2**35, 2**41 - 1, 2**41, -(2**41), 2**47])
def test_a_time_at_the_end_of_a_message_reads_whatever_its_length(ms):
    millis = {"type": "long", "logicalType": "timestamp-millis"}
    schema = make_event_schema(
        {
            "type": "record",
            "name": "t.T",
            "event_type": "t.t",
            "fields": [{"name": "at", "type": millis}],
        }
    )
    record = reference_decode(schema, reference_encode(schema, {"at": ms}))
    assert_same_as_fastavro(schema, record)
