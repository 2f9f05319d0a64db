"""Avro single-object encoding, as the Avro specification defines it.

Every Chorus message value is ``C3 01`` + the 8-byte little-endian CRC-64-AVRO
fingerprint of the writer schema's parsing canonical form + the Avro binary
body. Readers look the fingerprint up in the catalogue and, when the writer
schema is an older version of the event type, resolve it to the newest one.

The body is written and read by code generated once per schema
(``schemas.compiled``), because fastavro's per-value union validation held the
codec to about 25,000 records/s where Chorus needs 100,000. fastavro stays the
reference and the fallback: for schemas the generator does not handle, for
values the generated encoder does not take as they are, and for schema
resolution (an older writer version read as the newest), after the generated
reader of the writer schema has checked the bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import struct
from collections.abc import Callable, Mapping
from typing import Any

import fastavro

from schemas.catalogue import Catalogue, EventSchema, default_catalogue
from schemas.compiled import ONE, SLEN, Unsupported, generate
from schemas.errors import ContractError, DecodeError, UnknownSchemaError

log = logging.getLogger(__name__)

MAGIC = b"\xc3\x01"
HEADER_LEN = 10
#: The largest message value read, in bytes (Kafka's default message.max.bytes is about this).
MAX_MESSAGE_BYTES = 1_048_576
#: The longest string read, in characters, unless the field declares a larger "maxLength".
#: A guard against hostile input, not a business rule, so it sits above every validator's
#: own limit (restricted free text is 20,000 characters, reported by the validators as
#: ``text.length``): text a little over that must still decode for them to report it.
MAX_TEXT_CHARS = 100_000


class EncodeError(ContractError, ValueError):
    """A record does not fit its schema (a ValueError too, as fastavro's own errors were)."""


class Codec:
    """Encodes and decodes Chorus events; remembers what the catalogue gave it for each event
    type and writer fingerprint, so a catalogue must not change once a codec is using it."""

    def __init__(
        self, catalogue: Catalogue | None = None, raw: Mapping[str, tuple[str, ...]] | None = None
    ) -> None:
        """``raw``: per event type, top-level fields that ``decode`` returns as a
        :class:`RawField` (when the message was written with the newest schema), for a
        reader that only compares them; see schemas.compiled."""
        self.catalogue = catalogue or default_catalogue()
        self.raw = {event_type: tuple(names) for event_type, names in (raw or {}).items()}
        self._encoders: dict[str, Callable[[Any], bytes]] = {}
        self._readers: dict[bytes, tuple[EventSchema, EventSchema, Compiled | None]] = {}

    def encode(self, event_type: str, record: dict[str, Any]) -> bytes:
        encoder = self._encoders.get(event_type)
        if encoder is not None:
            try:
                return encoder(record)
            except Exception:  # encode_with says why, or has fastavro encode it
                pass
        schema = self.catalogue.latest(event_type)
        plan = compiled(schema)
        if plan is not None:
            self._encoders[event_type] = plan.encode
        return self.encode_with(schema, record)

    @staticmethod
    def encode_with(schema: EventSchema, record: dict[str, Any]) -> bytes:
        plan = compiled(schema)
        field = None
        if plan is not None:
            try:
                return plan.encode(record)
            except UnicodeEncodeError as exc:
                field = plan.failure(exc)[0]
                raise EncodeError(
                    "avro.non_utf8_text",
                    f"{field or 'a text field'} is not valid UTF-8 (it holds a lone surrogate)",
                    field,
                ) from None
            except Exception as exc:  # a value the generated code does not take: fastavro judges
                field = plan.failure(exc)[0]
        buf = io.BytesIO()
        buf.write(MAGIC)
        buf.write(schema.fingerprint)
        try:
            fastavro.schemaless_writer(buf, schema.parsed, record)
        except Exception as exc:  # fastavro's messages quote the value, so they are not kept
            at = f" at {field}" if field else ""
            raise EncodeError(
                "avro.encode",
                f"record does not fit the {schema.name} schema{at} ({type(exc).__name__})",
                field,
            ) from None
        return buf.getvalue()

    def writer_schema(self, data: bytes) -> EventSchema:
        if len(data) < HEADER_LEN or data[:2] != MAGIC:
            raise DecodeError(
                "avro.single_object_header",
                "message is not Avro single-object encoded (no C3 01 marker)",
            )
        schema = self.catalogue.by_fingerprint(bytes(data[2:HEADER_LEN]))
        if schema is None:
            raise UnknownSchemaError(
                "avro.unknown_fingerprint",
                "writer schema fingerprint is not in the catalogue; deploy the newer schemas first",
            )
        return schema

    def decode(self, data: bytes) -> tuple[EventSchema, dict[str, Any]]:
        if len(data) > MAX_MESSAGE_BYTES:
            raise DecodeError(
                "avro.oversized_message",
                f"message is {len(data):,} bytes, more than the {MAX_MESSAGE_BYTES:,} allowed",
            )
        if data.__class__ is not bytes:
            data = bytes(data)
        known = self._readers.get(data[:HEADER_LEN])
        if known is None:
            writer = self.writer_schema(data)
            latest = self.catalogue.latest(writer.event_type)
            raw = self.raw.get(writer.event_type, ()) if latest is writer else ()
            known = (writer, latest, compiled(writer, raw))
            self._readers[data[:HEADER_LEN]] = known
        writer, latest, plan = known
        if plan is None:
            record, end = _fastavro_decode(data, writer, None)
        else:
            try:
                record, end = plan.decode(data, HEADER_LEN)
            except Exception as exc:
                field, local = plan.failure(exc)
                if local.get("pos", 0) > len(data):  # a string cut short by the end
                    exc = EOFError()
                raise _decode_error(exc, field) from None
        if end != len(data):
            if end > len(data):
                raise DecodeError("avro.body", "Avro body does not match its schema (EOFError)")
            raise DecodeError("avro.trailing_bytes", "message has bytes after the Avro body")
        if latest is not writer and latest.fingerprint != writer.fingerprint:
            record, _ = _fastavro_decode(data, writer, latest)
        return latest, record


def _decode_error(exc: Exception, field: str | None) -> DecodeError:
    where = field or "a text field"
    if isinstance(exc, TextTooLong):
        return DecodeError(
            "text.oversized", f"{where} is longer than {exc.limit:,} characters", field
        )
    if isinstance(exc, UnicodeDecodeError):
        return DecodeError("avro.non_utf8_text", f"{where} is not valid UTF-8 text", field)
    return DecodeError(
        "avro.body", f"Avro body does not match its schema ({type(exc).__name__})", field
    )


def _fastavro_decode(
    data: bytes, writer: EventSchema, reader: EventSchema | None
) -> tuple[dict[str, Any], int]:
    buf = io.BytesIO(data)
    buf.seek(HEADER_LEN)
    try:
        record = fastavro.schemaless_reader(buf, writer.parsed, reader and reader.parsed)
    except Exception as exc:  # fastavro raises many types on malformed bodies
        raise _decode_error(exc, None) from None
    return record, buf.tell()


# --------------------------------------------------------------------------- generated code
# What the code from schemas.compiled runs with: Avro binary primitives, written by hand
# because fastavro's per-value union validation is what made the codec slow (see there).

_COMPILED: dict[tuple[int, tuple[str, ...]], tuple[EventSchema, Compiled | None]] = {}


def compiled(schema: EventSchema, raw: tuple[str, ...] = ()) -> Compiled | None:
    """The generated encoder/decoder of a schema, built on first use; None: use fastavro.
    With ``raw``, its decoder leaves those top-level fields raw (RawField)."""
    entry = _COMPILED.get((id(schema), raw))
    if entry is None:
        plan: Compiled | None = None
        try:
            plan = Compiled(schema.parsed, MAGIC + schema.fingerprint, schema.name, raw)
        except Unsupported as why:
            log.debug("%s is encoded by fastavro (%s)", schema.name, why)
        except Exception:  # a generator bug must cost speed, not messages
            log.exception("could not compile %s; it is encoded by fastavro", schema.name)
        entry = _COMPILED[(id(schema), raw)] = (schema, plan)  # the schema is kept: its id too
    return entry[1]


class Compiled:
    """The generated encoder and decoder of one schema, and where in them a failure was."""

    def __init__(self, schema: dict, header: bytes, label: str, raw: tuple[str, ...] = ()) -> None:
        gen = generate(schema, MAX_TEXT_CHARS, raw)
        self.filename = f"<chorus avro {label}>"
        self.paths = gen.paths
        self.source = gen.source
        namespace = {**RUNTIME, **gen.constants, "_HDR": header}
        exec(compile(gen.source, self.filename, "exec"), namespace)
        #: a record's single-object encoding: ``header`` + the Avro body
        self.encode: Callable[[Any], bytes] = namespace["encode"]
        #: ``(record, position after it)`` of the body at ``pos``; the position is past the
        #: end of data if the body was cut short (strings under 64 bytes are sliced unchecked)
        #: (with ``raw``, the fields named in it are RawField)
        self.decode: Callable[[bytes, int], tuple[Any, int]] = namespace[
            "decode_projected" if raw else "decode"
        ]

    def failure(self, exc: BaseException) -> tuple[str | None, dict[str, Any]]:
        """The field (a dotted path with array indexes) the generated code failed at, and
        the generated function's local variables then (``{}`` if it was not in it)."""
        tb, found = exc.__traceback__, None
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == self.filename:
                found = tb
            tb = tb.tb_next
        if found is None:
            return None, {}
        local = found.tb_frame.f_locals
        values = {k: len(v) if isinstance(v, list) else v for k, v in local.items()}
        try:
            return self.paths.get(found.tb_lineno, "").format_map(values) or None, local
        except (KeyError, ValueError, IndexError):
            return None, local


class RawField:
    """A field a projected decode left in its Avro bytes (Codec's ``raw``). Equal to, and
    hashed as, another RawField of the same bytes; ``value()`` decodes it."""

    __slots__ = ("data", "_read", "name")

    def __init__(self, data: bytes, read: Callable[[bytes, int], tuple[Any, int]], name: str):
        self.data, self._read, self.name = data, read, name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RawField) and self.data == other.data

    def __hash__(self) -> int:
        return hash(self.data)

    def __repr__(self) -> str:  # never the bytes: they may hold an event's values
        return f"RawField({self.name}, {len(self.data)} bytes)"

    def value(self) -> Any:
        """The field decoded; DecodeError (naming the field) if its text is not UTF-8, or
        too long, which the projected decode did not check."""
        try:
            value, end = self._read(self.data, 0)
        except Exception as exc:
            raise _decode_error(exc, self.name) from None
        if end != len(self.data):
            raise DecodeError("avro.body", f"{self.name} does not match its schema", self.name)
        return value


class Mismatch(Exception):
    """A value the generated encoder does not take as it is: fastavro judges it."""


class TextTooLong(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_LONG, _INT = (-(1 << 63), (1 << 63) - 1), (-(1 << 31), (1 << 31) - 1)
_F, _D = struct.Struct("<f"), struct.Struct("<d")


def _uvar(n: int) -> bytes:
    """The varint of n >= 0 (the six-byte case is every millisecond time of 1971-2248)."""
    if n < 0x4000:
        return ONE[n] if n < 128 else bytes((n & 127 | 128, n >> 7))
    if 0x800000000 <= n < 0x40000000000:
        return bytes((n & 127 | 128, n >> 7 & 127 | 128, n >> 14 & 127 | 128,
                      n >> 21 & 127 | 128, n >> 28 & 127 | 128, n >> 35))  # fmt: skip
    out = bytearray()
    while n > 127:
        out.append(n & 127 | 128)
        n >>= 7
    out.append(n)
    return bytes(out)


def _long(n: Any, bounds: tuple[int, int] = _LONG) -> bytes:
    if n.__class__ is not int or not bounds[0] <= n <= bounds[1]:
        raise Mismatch  # a bool, a float or out of range: fastavro's to judge
    return _uvar((n << 1) ^ (n >> 63))


def _ts(v: Any, unit: dt.timedelta) -> bytes:
    if v.__class__ is not dt.datetime or v.tzinfo is None:
        raise Mismatch  # fastavro takes a naive datetime as local time: leave that to it
    n = (v - _EPOCH) // unit  # as fastavro: whole units, rounded down
    return _uvar((n << 1) ^ (n >> 63))


def _rlong(data: bytes, pos: int) -> tuple[int, int]:
    b = data[pos]
    if b < 128:
        return (b >> 1) ^ -(b & 1), pos + 1
    c = data[pos + 1]
    if c < 128:  # two bytes: lengths and counts of 64-8191
        n = b - 128 | c << 7
        return (n >> 1) ^ -(n & 1), pos + 2
    n, shift, pos = b - 128 | (c - 128) << 7, 14, pos + 2
    while shift < 70:
        b = data[pos]
        pos += 1
        n |= (b & 127) << shift
        if b < 128:
            return (n >> 1) ^ -(n & 1), pos
        shift += 7
    raise ValueError("varint longer than 10 bytes")


def _rtime(data: bytes, pos: int, unit: dt.timedelta) -> tuple[dt.datetime, int]:
    """A time not of six bytes (those are read inline)."""
    n, pos = _rlong(data, pos)
    return _EPOCH + unit * n, pos


def _rblock(data: bytes, pos: int) -> tuple[int, int]:
    """A block's item count (a negative count is followed by the block's size in bytes)."""
    n, pos = _rlong(data, pos)
    if n < 0:
        n = -n
        _, pos = _rlong(data, pos)
    if n > len(data):  # every item but a null takes a byte: a bound for hostile counts
        raise ValueError("block count larger than the message")
    return n, pos


def _rbytes(data: bytes, pos: int, limit: int | None = None) -> tuple[Any, int]:
    """Bytes, or with a limit a string, of a length not in one byte (64 bytes or more, or bad)."""
    n, pos = _rlong(data, pos)
    end = pos + n
    if n < 0 or end > len(data):
        raise EOFError("length beyond the message")
    if limit is None:
        return data[pos:end], end
    text = data[pos:end].decode()
    if len(text) > limit:
        raise TextTooLong(limit)
    return text, end


RUNTIME: dict[str, Any] = {
    **{f.__name__: f for f in (_long, _ts, _rlong, _rtime, _rblock, _rbytes)},
    **{"_Raw": RawField},
    **{"Mismatch": Mismatch, "TextTooLong": TextTooLong, "_INT": _INT, "_enc": str.encode},
    **{"_SLEN": SLEN, "_EPOCH": _EPOCH, "_date": dt.date, "_fromordinal": dt.date.fromordinal},
    **{"_MS": dt.timedelta(milliseconds=1), "_US": dt.timedelta(microseconds=1)},
    **{"_ZZ": tuple((b >> 1) ^ -(b & 1) if b < 128 else None for b in range(256))},
    **{"_DAYS": dt.date(1970, 1, 1).toordinal(), "_packf": _F.pack, "_packd": _D.pack},
    **{"_unpackf": _F.unpack_from, "_unpackd": _D.unpack_from},
}
