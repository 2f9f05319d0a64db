"""Fields a projected decode leaves raw (Codec's ``raw``, schemas.compiled): the same values
once decoded, compared by their bytes, and bad bytes still reported, naming the field."""

from __future__ import annotations

import datetime as dt

import pytest

from schemas.catalogue import Catalogue
from schemas.codec import Codec, RawField
from schemas.errors import DecodeError
from streams.aggregates import synthetic as synthetic_la
from tests.unit.test_codec_compiled import FIELDS, sink_record, synthetic

SCHEMA = synthetic()
CATALOGUE = Catalogue([SCHEMA])
FULL = Codec(CATALOGUE)
NAMES = [f["name"] for f in FIELDS]


def projected(*names: str) -> Codec:
    return Codec(CATALOGUE, raw={"t.s": names})


def decoded(record: dict) -> dict:
    return {k: v.value() if isinstance(v, RawField) else v for k, v in record.items()}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"b": False, "tags": [], "counts": {}, "items": [], "last": None, "when": dt.date.today()},
    ],
)
def test_a_field_of_any_type_left_raw_decodes_to_the_same_value(name, changes):
    data = FULL.encode("t.s", sink_record(**changes))
    _, record = projected(name).decode(data)
    assert isinstance(record[name], RawField)
    assert [k for k, v in record.items() if isinstance(v, RawField)] == [name]
    assert decoded(record) == FULL.decode(data)[1]


def test_every_field_left_raw_at_once():
    data = FULL.encode("t.s", sink_record())
    _, record = projected(*NAMES).decode(data)
    assert all(isinstance(v, RawField) for v in record.values())
    assert decoded(record) == FULL.decode(data)[1]


def test_raw_fields_are_equal_when_their_bytes_are():
    codec = projected("tags", "s")
    one = codec.decode(FULL.encode("t.s", sink_record(tags=["qx-1", "b"])))[1]
    same = codec.decode(FULL.encode("t.s", sink_record(tags=["qx-1", "b"], i=5)))[1]
    other = codec.decode(FULL.encode("t.s", sink_record(tags=["qx-1", "c"])))[1]
    assert one["tags"] == same["tags"] and hash(one["tags"]) == hash(same["tags"])
    assert one["tags"] != other["tags"] and one["s"] == other["s"]
    assert {one["tags"], same["tags"], other["tags"]} == {one["tags"], other["tags"]}
    assert "qx-1" not in repr(one["tags"]), "the repr never shows the bytes"


def test_text_in_a_raw_field_that_is_not_utf8_is_reported_when_read():
    data = bytearray(FULL.encode("t.s", sink_record(tags=["ok", "fine"])))
    at = data.index(b"fine")
    data[at] = 0xFF
    _, record = projected("tags").decode(bytes(data))  # not decoded, so not checked yet
    with pytest.raises(DecodeError) as err:
        record["tags"].value()
    assert (err.value.rule, err.value.field) == ("avro.non_utf8_text", "tags")
    with pytest.raises(DecodeError):  # the full decode reports it at once
        FULL.decode(bytes(data))


@pytest.mark.parametrize("cut", [1, 5, 40])
def test_a_message_cut_short_in_or_after_a_raw_field_is_rejected(cut):
    data = FULL.encode("t.s", sink_record())
    with pytest.raises(DecodeError) as err:
        projected("items", "last", "fallback").decode(data[:-cut])
    assert err.value.rule.startswith("avro.")


def test_structure_is_still_checked_in_a_raw_field():
    """An enum symbol or union branch that does not exist fails the projected decode."""
    data = bytearray(FULL.encode("t.s", sink_record(e="C")))
    other = FULL.encode("t.s", sink_record(e="A"))  # the enum's byte: the only one that differs
    at = next(i for i, (a, b) in enumerate(zip(data, other, strict=True)) if a != b)
    data[at] = 2 * 7  # symbol 7 of 3
    with pytest.raises(DecodeError) as err:
        projected("e").decode(bytes(data))
    assert (err.value.rule, err.value.field) == ("avro.body", "e")
    data = bytearray(FULL.encode("t.s", sink_record(when=None, fallback="x")))
    assert data[-3:] == b"\x00\x02x"  # "when": null branch; "nothing"; "fallback": "x"
    data[-3] = 2 * 5  # branch 5 of 2
    with pytest.raises(DecodeError) as err:
        projected("when").decode(bytes(data))
    assert (err.value.rule, err.value.field) == ("avro.body", "when")


def test_a_field_that_cannot_be_left_raw_is_decoded():
    data = FULL.encode("t.s", sink_record())
    _, record = projected("not_a_field").decode(data)
    assert record == FULL.decode(data)[1]


def test_ledger_entries_with_their_field_lists_raw_decode_as_in_full():
    events = synthetic_la.Synth(seed=3).population(30)
    full = Codec()
    codec = Codec(raw={"platform.ledger_entry": ("fields_transformed", "fields_withheld")})
    n = 0
    for _, entry in synthetic_la.ledger_entries(events[:40]):
        data = full.encode("platform.ledger_entry", entry)
        _, record = codec.decode(data)
        assert isinstance(record["fields_withheld"], RawField)
        assert decoded(record) == full.decode(data)[1]
        n += 1
    assert n >= 40
