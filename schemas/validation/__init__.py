"""Contract rules Avro cannot express, one module per domain.

Each module ``schemas.validation.<domain>`` has ``validate(event_type, record)``,
raising :class:`schemas.errors.ContractError` (rule, reason, field; never the
value). Add a domain by writing its module and naming it in ``DOMAINS``.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

__all__ = ["DOMAINS", "VALIDATORS", "validate"]

DOMAINS: tuple[str, ...] = ("case_management", "voice", "consent", "health", "education")

Validator = Callable[[str, dict[str, Any]], None]

#: Domain prefix of the event type (``case_management`` in ``case_management.referral``)
#: to that domain's validate function.
VALIDATORS: dict[str, Validator] = {
    domain: import_module(f"{__name__}.{domain}").validate for domain in DOMAINS
}


def validate(event_type: str, record: dict[str, Any]) -> None:
    """Check ``record`` against its domain's rules; a domain with no module has none to check."""
    validator = VALIDATORS.get(event_type.split(".", 1)[0])
    if validator is not None:
        validator(event_type, record)
