"""The change table change-table mode follows, and the triggers that fill it.

``chorus_changes`` holds one row per insert, update or delete of an SSD row, in
commit order of its sequence number: ``(chg_seq, chg_table, chg_key, chg_op,
chg_row_image, chg_changed_at)``, ``chg_op`` being I, U or D. For a delete the
trigger also stores the deleted row as JSON (``chg_row_image``): the connector
needs it to say *which child* a deleted record was about, and publishes it as a
PURGE event of the record's event type(s).

:func:`install` creates the table and a trigger per SSD table, on SQLite and on
PostgreSQL; an LA on another database writes the equivalent triggers (the README
shows the PostgreSQL ones). The connector only reads this table.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, text
from sqlalchemy.engine import Engine

metadata = MetaData()

CHANGE_TABLE = "chorus_changes"

change_table = Table(
    CHANGE_TABLE,
    metadata,
    Column("chg_seq", Integer, primary_key=True, autoincrement=True),
    Column("chg_table", String(64), nullable=False),
    Column("chg_key", String(100), nullable=False),
    Column("chg_op", String(1), nullable=False, doc="I insert, U update, D delete"),
    Column("chg_row_image", Text, doc="the deleted row as JSON (deletes only)"),
    Column("chg_changed_at", DateTime, nullable=False),
    sqlite_autoincrement=True,  # never reuse a sequence number
)

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION chorus_capture_change() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    INSERT INTO chorus_changes (chg_table, chg_key, chg_op, chg_row_image, chg_changed_at)
    VALUES (TG_TABLE_NAME, to_jsonb(OLD) ->> TG_ARGV[0], 'D', to_jsonb(OLD)::text,
            now() AT TIME ZONE 'UTC');
    RETURN OLD;
  END IF;
  INSERT INTO chorus_changes (chg_table, chg_key, chg_op, chg_changed_at)
  VALUES (TG_TABLE_NAME, to_jsonb(NEW) ->> TG_ARGV[0], left(TG_OP, 1), now() AT TIME ZONE 'UTC');
  RETURN NEW;
END $$ LANGUAGE plpgsql
"""


def _sqlite_triggers(table: Table) -> list[str]:
    key = next(iter(table.primary_key.columns)).name
    image = ", ".join(f"'{c.name}', OLD.{c.name}" for c in table.columns)
    stamp = "strftime('%Y-%m-%d %H:%M:%S', 'now')"
    out = []
    for op, when, ref, row_image in (
        ("I", "INSERT", "NEW", "NULL"),
        ("U", "UPDATE", "NEW", "NULL"),
        ("D", "DELETE", "OLD", f"json_object({image})"),
    ):
        out.append(
            f"CREATE TRIGGER IF NOT EXISTS chorus_{table.name}_{op.lower()} AFTER {when} "
            f"ON {table.name} BEGIN INSERT INTO {CHANGE_TABLE} "
            "(chg_table, chg_key, chg_op, chg_row_image, chg_changed_at) "
            f"VALUES ('{table.name}', {ref}.{key}, '{op}', {row_image}, {stamp}); END"
        )
    return out


def _postgres_triggers(table: Table) -> list[str]:
    key = next(iter(table.primary_key.columns)).name
    name = f"chorus_changes_{table.name}"
    return [
        f"DROP TRIGGER IF EXISTS {name} ON {table.name}",
        f"CREATE TRIGGER {name} AFTER INSERT OR UPDATE OR DELETE ON {table.name} "
        f"FOR EACH ROW EXECUTE FUNCTION chorus_capture_change('{key}')",
    ]


def install(engine: Engine, tables: Iterable[Table]) -> None:
    """Create the change table and a capturing trigger on each table (SQLite or PostgreSQL)."""
    dialect = engine.dialect.name
    if dialect not in ("sqlite", "postgresql"):
        raise ValueError(f"no change triggers for {dialect}; write them as the README shows")
    with engine.begin() as conn:
        metadata.create_all(conn)
        if dialect == "postgresql":
            conn.execute(text(_PG_FUNCTION))
        for table in tables:
            make = _sqlite_triggers if dialect == "sqlite" else _postgres_triggers
            for statement in make(table):
                conn.execute(text(statement))
