"""Finding one child's ledger entries from an identifier, without ever storing the identifier.

The ledger holds only its own pseudonym of the child's internal person key
(``subject_ref``). From an NHS number, a UPN or an LA code and LA child id:

1. the identifier becomes the identity processor's token for it
   (``Pseudonymiser(key).pseudonym("identity", kind, value)``, streams/identity/tokens.py);
2. the identity register (the faust table changelogs ``<app id>-identity-links-changelog``
   and ``-identity-persons-changelog``) maps the token to a person key; person records
   merged into one another (first seen apart by two systems) count as the same child;
3. each person key becomes the ledger's pseudonym ``pseudonym("ledger", "person", key)``.

A ledger pseudonym (32 hex characters) can also be given as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from schemas.identifiers import nhs_number_error, upn_error
from schemas.kafka_security import UNAUTHENTICATED, KafkaSecurity
from streams import changelogs
from streams.identity.tokens import IDENTITY_PURPOSE
from streams.pseudonyms import Pseudonymiser

LEDGER_PURPOSE = "ledger"  # the gatekeeper's key for subject_ref (streams/gatekeeper/agent.py)
MAX_MERGE_CHAIN = 32
_PSEUDONYM = re.compile(r"^[0-9a-f]{32}$")
_LA_ID = re.compile(r"^(?P<la>\d{3})[:/ ](?P<id>\S+)$")


class IdentifierError(ValueError):
    """The text is not an identifier Chorus knows; the message says what is accepted."""


@dataclass(frozen=True)
class Identifier:
    kinds: tuple[str, ...]  # the identity register's kinds to look it up as
    value: str
    label: str  # what to print: the kind and only the last characters

    @property
    def is_pseudonym(self) -> bool:
        return self.kinds == ("ledger",)


def _masked(value: str, shown: int = 3) -> str:
    return "*" * max(0, len(value) - shown) + value[-shown:]


def parse_identifier(text: str) -> Identifier:
    """An NHS number, UPN, 'LA code:LA child id' or ledger pseudonym, recognised by its shape."""
    raw = text.strip()
    compact = raw.replace(" ", "")
    if _PSEUDONYM.match(raw.lower()):
        return Identifier(("ledger",), raw.lower(), f"ledger pseudonym {raw[:8].lower()}…")
    if compact.isdigit() and len(compact) == 10:
        problem = nhs_number_error(compact)
        if problem:
            raise IdentifierError(f"that is not a valid NHS number ({problem})")
        return Identifier(("nhs",), compact, f"NHS number {_masked(compact)}")
    if len(compact) == 13 and compact[0].isalpha():
        upn = compact.upper()
        problem = upn_error(upn)
        if problem:
            raise IdentifierError(f"that is not a valid UPN ({problem})")
        return Identifier(("upn", "former_upn"), upn, f"UPN {_masked(upn)}")
    match = _LA_ID.match(raw)
    if match:
        value = f"{match['la']}:{match['id']}"
        return Identifier(("la",), value, f"LA {match['la']} child id {_masked(match['id'])}")
    raise IdentifierError(
        "give an NHS number (10 digits), a UPN (a letter and 12 characters), an LA code and "
        "LA child id as 999:C0000001, or a ledger pseudonym (32 hexadecimal characters)"
    )


def read_table(
    bootstrap: str,
    topic: str,
    timeout_ms: int = 2000,
    security: KafkaSecurity = UNAUTHENTICATED,
) -> dict[str, Any] | None:
    """A faust table's contents from its changelog (JSON keys and values); None if no topic."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        **security.kafka_python(),
    )
    try:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            return None
        parts = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        end = consumer.end_offsets(parts)
        state: dict[str, Any] = {}
        while any(consumer.position(tp) < end[tp] for tp in parts):
            for batch in consumer.poll(timeout_ms=timeout_ms).values():
                changelogs.replay(state, batch)
        return state
    finally:
        consumer.close()


@dataclass(frozen=True)
class Register:
    """The identity register as the changelogs hold it: token -> person, person -> record."""

    links: dict[str, str]
    persons: dict[str, dict[str, Any]]

    def canonical(self, key: str | None) -> str | None:
        for _ in range(MAX_MERGE_CHAIN):
            record = self.persons.get(key) if key else None
            if not record or not record.get("merged_into"):
                return key
            key = record["merged_into"]
        return key

    def same_child(self, key: str) -> set[str]:
        """`key` and every person record merged into the same child."""
        root = self.canonical(key)
        return {k for k in self.persons if self.canonical(k) == root} | {key}


def load_register(
    bootstrap: str, identity_app_id: str, security: KafkaSecurity = UNAUTHENTICATED
) -> Register:
    links = read_table(bootstrap, f"{identity_app_id}-identity-links-changelog", security=security)
    if links is None:
        raise LookupError(
            f"no identity register for app id '{identity_app_id}' (no topic "
            f"{identity_app_id}-identity-links-changelog); give the identity worker's "
            "--app-id with --identity-app-id"
        )
    persons_topic = f"{identity_app_id}-identity-persons-changelog"
    persons = read_table(bootstrap, persons_topic, security=security) or {}
    return Register(links, persons)


def person_keys(register: Register, pseudonymiser: Pseudonymiser, ident: Identifier) -> set[str]:
    """The internal person keys of the child this identifier names (empty: not known)."""
    found: set[str] = set()
    for kind in ident.kinds:
        token = pseudonymiser.pseudonym(IDENTITY_PURPOSE, kind, ident.value)
        key = register.links.get(token)
        if key:
            found |= register.same_child(key)
    return found


def ledger_refs(pseudonymiser: Pseudonymiser, keys: Iterable[str]) -> set[str]:
    return {pseudonymiser.pseudonym(LEDGER_PURPOSE, "person", k) for k in keys}
