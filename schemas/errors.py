"""Errors raised when data does not meet the contract.

Each carries a stable ``rule`` id and, where there is one, the ``field``; the
message says what was wrong without quoting the value, because values are
personal data. Dead-letter records are built from these attributes.
"""

from __future__ import annotations


class ContractError(Exception):
    """Data broke a rule of the contract."""

    def __init__(self, rule: str, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.rule = rule
        self.reason = reason
        self.field = field


class DecodeError(ContractError):
    """Bytes could not be read as a Chorus event."""


class UnknownSchemaError(DecodeError):
    """The fingerprint names no schema in the catalogue."""
