"""The ledger in SQL: every sharing decision from chorus.ledger, and what it says about a child.

- ``table.py``: the SQL table (portable types: SQLite by default, PostgreSQL too) and an
  insert that ignores a decision already stored (idempotent on the natural key);
- ``sink.py``: a plain Kafka consumer that writes each batch in one transaction and
  commits its offsets only after the transaction has committed;
- ``person.py``: finding a child's entries from an identifier (through the identity
  register), and saying in plain English where the child's information went and why.
"""
