"""Avro single-object encoding, as the Avro specification defines it.

Every Chorus message value is ``C3 01`` + the 8-byte little-endian CRC-64-AVRO
fingerprint of the writer schema's parsing canonical form + the Avro binary
body. Readers look the fingerprint up in the catalogue and, when the writer
schema is an older version of the event type, resolve it to the newest one.
fastavro provides the body encoding and fingerprints but not the single-object
framing, which is these few lines.
"""

from __future__ import annotations

import io
from typing import Any

import fastavro

from schemas.catalogue import Catalogue, EventSchema, default_catalogue
from schemas.errors import DecodeError, UnknownSchemaError

MAGIC = b"\xc3\x01"
HEADER_LEN = 10


class Codec:
    def __init__(self, catalogue: Catalogue | None = None) -> None:
        self.catalogue = catalogue or default_catalogue()

    def encode(self, event_type: str, record: dict[str, Any]) -> bytes:
        schema = self.catalogue.latest(event_type)
        return self.encode_with(schema, record)

    @staticmethod
    def encode_with(schema: EventSchema, record: dict[str, Any]) -> bytes:
        buf = io.BytesIO()
        buf.write(MAGIC)
        buf.write(schema.fingerprint)
        fastavro.schemaless_writer(buf, schema.parsed, record)
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
        writer = self.writer_schema(data)
        latest = self.catalogue.latest(writer.event_type)
        reader = None if latest.fingerprint == writer.fingerprint else latest.parsed
        buf = io.BytesIO(data)
        buf.seek(HEADER_LEN)
        try:
            record = fastavro.schemaless_reader(buf, writer.parsed, reader)
        except Exception as exc:  # fastavro raises many types on malformed bodies
            raise DecodeError(
                "avro.body", f"Avro body does not match its schema ({type(exc).__name__})"
            ) from None
        if buf.tell() != len(data):
            raise DecodeError("avro.trailing_bytes", "message has bytes after the Avro body")
        return latest, record
