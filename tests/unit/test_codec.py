import copy

import fastavro
import pytest
from fastavro.schema import to_parsing_canonical_form

from schemas.catalogue import Catalogue, default_catalogue, make_event_schema
from schemas.codec import MAGIC, MAX_MESSAGE_BYTES, MAX_TEXT_CHARS, Codec, EncodeError
from schemas.errors import ContractError, DecodeError, UnknownSchemaError
from schemas.examples.health import EXAMPLES as HEALTH
from schemas.examples.voice import EXAMPLES as VOICE
from tests.examples import referral

PC = "health.parent_comment_recorded"

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


# --------------------------------------------------------------------------- bad input


def _referral_bytes(**changes) -> bytes:
    return Codec().encode("case_management.referral", {**referral(), **changes})


def _rule_and_field(data) -> tuple[str, str | None]:
    with pytest.raises(DecodeError) as err:
        Codec().decode(data)
    return err.value.rule, err.value.field


def test_text_that_is_not_utf8_is_rejected_with_its_field():
    data = _referral_bytes(team="Tzz9").replace(b"Tzz9", b"T\xff\xfe9")
    assert _rule_and_field(data) == ("avro.non_utf8_text", "team")


def test_a_nested_field_is_named_by_its_path():
    data = _referral_bytes().replace(b"ssd_cin_episodes", b"ssd_cin_episode\xc0")
    assert _rule_and_field(data) == ("avro.non_utf8_text", "envelope.source_record.entity")


def test_a_field_in_an_array_is_named_with_its_index():
    event_type = "voice.voice_note_recorded"
    data = Codec().encode(event_type, VOICE[event_type]).replace(b"grandad", b"gr\xffndad")
    assert _rule_and_field(data) == ("avro.non_utf8_text", "items[1].text")


def test_text_longer_than_the_limit_is_rejected_with_its_field_and_not_its_value():
    event_type = "voice.statement_recorded"
    record = copy.deepcopy(VOICE[event_type])
    record["text"] = ("Zebra crossing secret " * 5_000)[: MAX_TEXT_CHARS + 1]
    with pytest.raises(DecodeError) as err:
        Codec().decode(Codec().encode(event_type, record))
    assert (err.value.rule, err.value.field) == ("text.oversized", "text")
    assert "Zebra" not in str(err.value)
    record["text"] = record["text"][:MAX_TEXT_CHARS]
    assert Codec().decode(Codec().encode(event_type, record))[1]["text"] == record["text"]


def test_a_field_may_declare_a_larger_max_length():
    schema = make_event_schema(
        {
            "type": "record",
            "name": "test.Long",
            "event_type": "test.long",
            "fields": [
                {"name": "body", "type": "string", "maxLength": 2 * MAX_TEXT_CHARS},
                {"name": "note", "type": "string"},
            ],
        }
    )
    codec = Codec(Catalogue([schema]))
    fits = {"body": "b" * (2 * MAX_TEXT_CHARS), "note": "n" * MAX_TEXT_CHARS}
    assert codec.decode(codec.encode("test.long", fits))[1] == fits
    with pytest.raises(DecodeError) as err:
        codec.decode(codec.encode("test.long", {**fits, "note": fits["note"] + "n"}))
    assert (err.value.rule, err.value.field) == ("text.oversized", "note")


def test_a_message_over_the_size_limit_is_rejected_before_it_is_read():
    data = _referral_bytes()
    assert _rule_and_field(data + b"\x00" * (MAX_MESSAGE_BYTES - len(data) + 1)) == (
        "avro.oversized_message",
        None,
    )


def test_a_body_cut_inside_its_last_short_string_is_rejected():
    data = _referral_bytes()  # ends with team, "T01"
    assert _rule_and_field(data[:-2])[0] == "avro.body"


def test_a_union_index_out_of_range_is_rejected_with_its_field():
    data = _referral_bytes()
    assert data.endswith(b"\x02\x06T01")
    assert _rule_and_field(data[:-5] + b"\x04\x06T01") == ("avro.body", "team")


def test_an_enum_index_out_of_range_is_rejected_with_its_field():
    written = Codec().encode(PC, {**HEALTH[PC], "mode": "WRITTEN"})
    spoken = Codec().encode(PC, {**HEALTH[PC], "mode": "SPOKEN"})
    (at,) = [i for i, (a, b) in enumerate(zip(written, spoken, strict=True)) if a != b]
    assert _rule_and_field(written[:at] + b"\x7e" + written[at + 1 :]) == ("avro.body", "mode")


def test_bytearray_and_memoryview_input_is_read():
    data = _referral_bytes()
    expected = Codec().decode(data)[1]
    assert Codec().decode(bytearray(data))[1] == expected
    assert Codec().decode(memoryview(data))[1] == expected


# --------------------------------------------------------------------------- encoding errors


@pytest.mark.parametrize(
    "changes,field",
    [
        ({"referral_id": 12345678}, "referral_id"),
        ({"referral_source": "RS_SECRET_99"}, "referral_source"),
        ({"referral_date": "2025-13-45-secret"}, "referral_date"),
        ({"envelope": {**referral()["envelope"], "la_code": 9876543}}, "envelope.la_code"),
    ],
)
def test_a_record_that_does_not_fit_raises_a_clear_error_without_the_value(changes, field):
    with pytest.raises(EncodeError) as err:
        Codec().encode("case_management.referral", {**referral(), **changes})
    assert isinstance(err.value, ValueError) and isinstance(err.value, ContractError)
    assert (err.value.rule, err.value.field) == ("avro.encode", field)
    for value in changes.values():
        assert str(value) not in str(err.value)
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_a_missing_required_field_is_named():
    record = referral()
    del record["referral_id"]
    with pytest.raises(EncodeError) as err:
        Codec().encode("case_management.referral", record)
    assert (err.value.rule, err.value.field) == ("avro.encode", "referral_id")


def test_text_that_cannot_be_utf8_is_not_encoded():
    with pytest.raises(EncodeError) as err:
        Codec().encode("case_management.referral", {**referral(), "team": "T\ud800secret"})
    assert (err.value.rule, err.value.field) == ("avro.non_utf8_text", "team")
    assert "secret" not in str(err.value)


def test_encode_with_is_still_a_static_method():
    schema = default_catalogue().latest("case_management.referral")
    assert Codec.encode_with(schema, referral()) == _referral_bytes()


def test_a_time_beyond_the_calendar_is_a_body_error_with_its_field():
    envelope = {**referral()["envelope"], "event_time": 2**62}  # encoded by fastavro, as given
    data = Codec().encode("case_management.referral", {**referral(), "envelope": envelope})
    assert _rule_and_field(data) == ("avro.body", "envelope.event_time")
