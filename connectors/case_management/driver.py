"""Bulk reads through the database driver itself (SQLite and PostgreSQL), for the client.

A batch reads tens of thousands of rows; building SQLAlchemy's Row objects and then
dicts cost about as much as the queries (measured), so the bulk reads go to the
driver's cursor and come back as plain tuples, turned into row dicts by a function
generated once per table and column list. Table and column names come from
``ssd.py``, never from input; values are always bound parameters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Date, DateTime, Table
from sqlalchemy.engine import Connection

Row = dict[str, Any]
#: Values per IN (...) list; SQLite's limit on bound parameters is 32,766.
CHUNK = 5000


def dicts(conn: Connection, query: Any) -> list[Row]:
    """The rows of ``query`` as dicts (zip over fetchall: several times faster than mappings)."""
    result = conn.execute(query)
    keys = list(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result.fetchall()]


def select_all(conn: Connection, table: Table, columns: Sequence[str] | None = None) -> str:
    quote = conn.dialect.identifier_preparer.quote
    names = columns or [c.name for c in table.columns]
    return f"SELECT {', '.join(quote(n) for n in names)} FROM {quote(table.name)}"


def driver_tuples(conn: Connection, sql: str, params: Any) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` as the driver's tuples (see :func:`driver_rows`)."""
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql, params)
        return cursor.fetchall()
    finally:
        cursor.close()


def driver_rows(
    conn: Connection, table: Table, sql: str, params: Any, columns: Sequence[str] | None = None
) -> list[Row]:
    """Rows of ``sql`` (selecting ``columns`` of ``table``, by default all) through the driver.

    Used on SQLite and PostgreSQL for the bulk reads of a batch: building SQLAlchemy's
    Row objects and then dicts cost about as much as the query itself (measured), and a
    batch of plain tuples is all a mapping needs. Table and column names come from
    ``ssd.py``, never from input; values are always bound parameters. SQLite hands back
    dates as the ISO text SQLAlchemy stored, so they are parsed here.
    """
    names = tuple(columns or [c.name for c in table.columns])
    build = row_builder(table, names, conn.dialect.name == "sqlite")
    return list(map(build, driver_tuples(conn, sql, params)))


def sqlite_converters(table: Table) -> dict[str, Callable[[str], Any]]:
    """SQLite hands dates and times back as the ISO text SQLAlchemy stored them as."""
    out: dict[str, Callable[[str], Any]] = {}
    for c in table.columns:
        if isinstance(c.type, DateTime):
            out[c.name] = dt.datetime.fromisoformat
        elif isinstance(c.type, Date):
            out[c.name] = dt.date.fromisoformat
    return out


@lru_cache(maxsize=256)
def row_builder(
    table: Table, names: tuple[str, ...], parse_dates: bool
) -> Callable[[tuple[Any, ...]], Row]:
    """A function turning one driver tuple of ``names`` into a row dict, dates parsed.

    Generated once per table and column list: one dict display per row, with the
    date columns parsed inline, took half the time of ``dict(zip(...))`` followed by a
    pass per date column (measured). Names come from ``ssd.py`` and enter the
    generated code as string literals (``repr``), never as code.
    """
    parsers = sqlite_converters(table) if parse_dates else {}
    scope: dict[str, Any] = {}
    items = []
    for i, name in enumerate(names):
        if name in parsers:
            scope[f"_parse{i}"] = parsers[name]
            items.append(f"{name!r}: None if r[{i}] is None else _parse{i}(r[{i}])")
        else:
            items.append(f"{name!r}: r[{i}]")
    source = f"def build(r):\n    return {{{', '.join(items)}}}\n"
    exec(compile(source, f"<row builder {table.name}>", "exec"), scope)
    return scope["build"]


def chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(values), CHUNK):
        yield values[i : i + CHUNK]
