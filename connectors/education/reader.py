"""Streams the records of one export file, CSV or XML, with the line each starts on.

Both readers yield `SourceRecord`s numbered from 0 (the index a position stores)
and end with at most one `FileProblem` when the rest of the file cannot be read
(a header of no known export type, malformed XML, an undecodable byte). XML from
outside is parsed with defusedxml, which refuses entity declarations and
external references; the file is read in chunks and every record element is
dropped from the tree once handed on, so memory stays flat however large it is.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, TreeBuilder, tostring

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser, ParseError

from connectors.education.formats import XML_SHAPES, Context, Part, match_header
from schemas.errors import ContractError

CHUNK = 64 * 1024


@dataclass
class SourceRecord:
    """One row or record element: what it maps to, and its raw form for the dead-letter payload."""

    index: int
    line: int
    base: dict[str, Any] | None  # pupil-level fields of an XML record, checked before its parts
    parts: list[Part]
    raw: Callable[[], bytes]
    raw_format: str


@dataclass
class FileProblem:
    """The rest of the file cannot be read; one dead letter for it."""

    index: int
    line: int
    error: ContractError
    payload: bytes = b""
    payload_format: str = "bytes"


Item = SourceRecord | FileProblem


def records(path: Path, encoding: str = "utf-8-sig") -> Iterator[Item]:
    if path.suffix.lower() == ".xml":
        return xml_records(path)
    return csv_records(path, encoding)


# --------------------------------------------------------------------------- CSV


def _json(header: list[str], row: list[str]) -> Callable[[], bytes]:
    return lambda: json.dumps(dict(zip(header, row, strict=False)), sort_keys=True).encode()


def _unreadable(index: int, line: int, exc: Exception) -> FileProblem:
    if isinstance(exc, UnicodeDecodeError):
        error = ContractError(
            "file.encoding",
            "the file is not in the configured csv_encoding; re-export it as UTF-8 "
            "or set csv_encoding",
            "file",
        )
    else:
        error = ContractError("file.csv_format", "the file is not well-formed CSV", "file")
    return FileProblem(index, line, error)


def csv_records(path: Path, encoding: str = "utf-8-sig") -> Iterator[Item]:
    with open(path, newline="", encoding=encoding) as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader, None)
        except (UnicodeDecodeError, csv.Error) as exc:
            yield _unreadable(0, 1, exc)
            return
        if header is None:
            return
        match = match_header(header)
        if match.export is None:
            assert match.problem is not None
            yield FileProblem(0, 1, match.problem, ",".join(header).encode(), "csv")
            return
        event_type, index, last = match.export.event_type, 0, reader.line_num
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except (UnicodeDecodeError, csv.Error) as exc:
                yield _unreadable(index, last + 1, exc)
                return
            line, last = last + 1, reader.line_num
            if not any(cell.strip() for cell in row):
                continue  # blank lines are not records
            fields: dict[str, Any] | ContractError
            if len(row) != len(header):
                fields = ContractError(
                    "csv.row_shape",
                    f"the row has {len(row)} fields where the header has {len(header)}",
                    "row",
                )
            else:
                fields = {
                    name: value for name, value in zip(match.columns, row, strict=True) if name
                }
            yield SourceRecord(
                index, line, None, [("", event_type, fields)], _json(header, row), "json"
            )
            index += 1


# --------------------------------------------------------------------------- XML


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _flatten(elem: Element, prefix: str = "") -> Context:
    out: Context = {}
    for child in elem:
        path = f"{prefix}{child.tag}"
        if len(child):
            out.update(_flatten(child, path + "/"))
        elif child.text and child.text.strip():
            out.setdefault(path, child.text.strip())
    return out


class _Builder(TreeBuilder):
    """Builds the tree, handing on each record element with its start line and context."""

    def __init__(self) -> None:
        super().__init__()
        self.line: Callable[[], int] = lambda: 0
        self.root: str | None = None
        self.shapes: dict[str, Any] = {}
        self.open: list[Element] = []
        self.header: Context = {}
        self.starts: list[int] = []
        self.done: list[tuple[int, str, Element, Context]] = []

    def start(self, tag: str, attrs: dict[str, str]) -> Element:  # type: ignore[override]
        tag = _local(tag)
        if self.root is None:
            self.root, self.shapes = tag, XML_SHAPES.get(tag, {})
        elem = super().start(tag, attrs)
        self.open.append(elem)
        if tag in self.shapes:
            self.starts.append(self.line())
        return elem

    def end(self, tag: str) -> Element:  # type: ignore[override]
        tag = _local(tag)
        elem = super().end(tag)
        self.open.pop()
        if tag in self.shapes and self.starts:
            context = dict(self.header)
            for ancestor in self.open:
                for child in ancestor:
                    if not len(child) and child.text and child.text.strip():
                        context.setdefault(child.tag, child.text.strip())
            self.done.append((self.starts.pop(), tag, elem, context))
            if self.open:
                self.open[-1].remove(elem)  # keep memory flat
        elif tag == "Header" and len(self.open) == 1:
            self.header = _flatten(elem)
        return elem


def xml_records(path: Path) -> Iterator[Item]:
    builder = _Builder()
    parser = DefusedXMLParser(target=builder)
    builder.line = lambda: parser.parser.CurrentLineNumber
    index = 0
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(CHUNK)
            problem: FileProblem | None = None
            try:
                if chunk:
                    parser.feed(chunk)
                else:
                    parser.close()
            except ParseError as exc:
                line = exc.position[0] if getattr(exc, "position", None) else 0
                problem = FileProblem(
                    index,
                    line,
                    ContractError(
                        "file.xml_malformed",
                        f"the XML is not well-formed (line {line}); the rest of the file is "
                        "not read",
                        "file",
                    ),
                )
            except DefusedXmlException:
                problem = FileProblem(
                    index,
                    parser.parser.CurrentLineNumber,
                    ContractError(
                        "file.xml_forbidden",
                        "the XML declares entities or external references, which are refused",
                        "file",
                    ),
                )
            for line, tag, elem, context in builder.done:
                base, parts = builder.shapes[tag](elem, context)
                yield SourceRecord(index, line, base, parts, _xml(elem), "xml")
                index += 1
            builder.done.clear()
            if builder.root is not None and not builder.shapes:
                yield FileProblem(
                    index,
                    1,
                    ContractError(
                        "file.xml_shape",
                        "the root element is not one of " + ", ".join(XML_SHAPES),
                        "root",
                    ),
                )
                return
            if problem is not None:
                yield problem
                return
            if not chunk:
                return


def _xml(elem: Element) -> Callable[[], bytes]:
    return lambda: tostring(elem, encoding="utf-8")
