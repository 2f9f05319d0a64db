import fastavro
import pytest
from fastavro.schema import to_parsing_canonical_form

from schemas.catalogue import default_catalogue, make_event_schema
from schemas.codec import MAGIC, Codec
from schemas.errors import DecodeError, UnknownSchemaError
from tests.examples import referral

# CRC-64-AVRO fingerprints published with the Avro specification (share/test/data/schema-tests.txt)
SPEC_FINGERPRINTS = {
    '"null"': 7195948357588979594,
    '"boolean"': -6970731678124411036,
    '"int"': 8247732601305521295,
}


@pytest.mark.parametrize("schema,expected", SPEC_FINGERPRINTS.items())
def test_fingerprint_matches_avro_specification(schema, expected):
    import json

    s = make_event_schema.__globals__["fingerprint"](
        to_parsing_canonical_form(fastavro.parse_schema(json.loads(schema))), "CRC-64-AVRO"
    )
    assert int.from_bytes(bytes.fromhex(s), "little", signed=True) == expected


def test_every_event_schema_has_a_distinct_fingerprint():
    fps = [s.fingerprint for s in default_catalogue()]
    assert len(fps) == len(set(fps))


def test_referral_round_trips_with_single_object_header():
    codec = Codec()
    event = referral()
    data = codec.encode("case_management.referral", event)
    assert data[:2] == MAGIC
    assert data[2:10] == default_catalogue().latest("case_management.referral").fingerprint
    schema, back = codec.decode(data)
    assert schema.event_type == "case_management.referral"
    assert back["referral_source"] == "RS_2A"
    assert back["envelope"]["subject"]["nhs_number"] == event["envelope"]["subject"]["nhs_number"]


def test_foreign_bytes_are_rejected_with_rule():
    with pytest.raises(DecodeError) as err:
        Codec().decode(b'{"json": "not avro"}')
    assert err.value.rule == "avro.single_object_header"


def test_unknown_fingerprint_is_rejected():
    with pytest.raises(UnknownSchemaError):
        Codec().decode(MAGIC + b"\x00" * 8 + b"\x02")


def test_truncated_body_is_rejected():
    data = Codec().encode("case_management.referral", referral())
    with pytest.raises(DecodeError) as err:
        Codec().decode(data[:-5])
    assert err.value.rule == "avro.body"


def test_trailing_bytes_are_rejected():
    data = Codec().encode("case_management.referral", referral())
    with pytest.raises(DecodeError) as err:
        Codec().decode(data + b"\x00")
    assert err.value.rule == "avro.trailing_bytes"


def test_every_field_of_every_schema_has_a_doc():
    missing = []
    for s in default_catalogue():
        stack = [s.schema]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                if node.get("type") in ("record", "error"):
                    for f in node["fields"]:
                        if not f.get("doc"):
                            missing.append(f"{node['name']}.{f['name']}")
                        stack.append(f["type"])
                else:
                    stack.extend(v for k, v in node.items() if k in ("items", "values", "type"))
            elif isinstance(node, list):
                stack.extend(node)
    assert missing == []
