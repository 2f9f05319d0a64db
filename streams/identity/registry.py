"""Linking identifiers into one internal person key (pure logic over two key-value stores).

A child is known to social care by an LA child id (and often an NHS number), to
health by an NHS number and to school by a UPN. Every identifier is held only
as a keyed token (HMAC), never as its value. Each person record holds at most
one token of each kind (LA child id, NHS number, UPN); former UPNs are aliases.

On each event the identifiers it carries are looked up:

- none known: a new person, keyed from the first token;
- all known ones lead to one person: the event belongs to that person, and the
  identifiers not yet linked are linked to it, unless the person already holds
  a different identifier of that kind: that is a CONFLICT finding, and the
  new identifier is not linked (never a silent merge);
- they lead to several persons: when no two of them hold different identifiers
  of one kind, they are one child seen by two systems first apart: they are
  merged into the person found through the strongest identifier (LA child id,
  then NHS number, then UPN) and a MERGE finding records it. Otherwise it is a
  CONFLICT: nothing is merged and the event goes with the strongest identifier.

Dates of birth are compared across source systems (as tokens): two sources
giving one person different dates is a CONFLICT finding; a source correcting
its own is not.
"""

from __future__ import annotations

import uuid
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any

#: Kinds of identifier a person holds at most one of, strongest first.
SINGLE_KINDS = ("la", "nhs", "upn")
ALIAS_KINDS = ("former_upn",)
LABELS = {
    "la": "LA child id",
    "nhs": "NHS number",
    "upn": "UPN",
    "former_upn": "former UPN",
}
FIELDS = {
    "la": "subject.la_child_id",
    "nhs": "subject.nhs_number",
    "upn": "subject.upn",
    "former_upn": "value",
}
PERSON_NAMESPACE = uuid.UUID("0b7f3f5e-2a61-4f0c-8d0a-3c5e1d9b6a42")
MAX_MERGE_CHAIN = 32


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str  # CONFLICT, MERGE or NOTICE
    field: str | None
    reason: str
    other_person: str | None = None


@dataclass
class Resolution:
    person_key: str | None
    findings: list[Finding] = field(default_factory=list)


def new_person_key(token: str) -> str:
    return f"p-{uuid.uuid5(PERSON_NAMESPACE, token).hex}"


class IdentityRegistry:
    """`links`: token -> person key. `persons`: person key -> its record (a JSON-able dict).

    Both may be faust tables: every change is written back by assignment.
    """

    def __init__(
        self, links: MutableMapping[str, str], persons: MutableMapping[str, dict[str, Any]]
    ) -> None:
        self.links = links
        self.persons = persons

    def canonical(self, key: str | None) -> str | None:
        for _ in range(MAX_MERGE_CHAIN):
            if key is None:
                return None
            record = self.persons.get(key)
            if not record or not record.get("merged_into"):
                return key
            key = record["merged_into"]
        return key

    def _record(self, key: str) -> dict[str, Any]:
        record = self.persons.get(key)
        return dict(record) if record else {"ids": {}, "dob": {}, "merged_into": None}

    def resolve(
        self,
        tokens: dict[str, str],
        *,
        source: str = "",
        dob_token: str | None = None,
    ) -> Resolution:
        """The person these tokens belong to, linking what is new; findings on the way."""
        ordered = [(k, tokens[k]) for k in (*SINGLE_KINDS, *ALIAS_KINDS) if tokens.get(k)]
        if not ordered:
            return Resolution(None)
        found: dict[str, str] = {}
        for kind, token in ordered:
            person = self.canonical(self.links.get(token))
            if person is not None:
                found.setdefault(person, kind)
        findings: list[Finding] = []
        if not found:
            person = new_person_key(ordered[0][1])
            self.persons[person] = self._record(person)
        else:
            people = list(found)  # in order of the strongest identifier that found them
            person = people[0]
            if len(people) > 1:
                findings.extend(self._merge_or_conflict(person, people[1:], tokens))
        findings.extend(self._link(person, ordered))
        if dob_token is not None:
            findings.extend(self._date_of_birth(person, source, dob_token))
        return Resolution(person, findings)

    def _held(self, person: str) -> dict[str, str]:
        return dict(self._record(person)["ids"])

    def _merge_or_conflict(
        self, keep: str, others: list[str], tokens: dict[str, str]
    ) -> list[Finding]:
        findings: list[Finding] = []
        for other in others:
            clash = self._clashes(keep, other, tokens)
            if clash:
                kind = clash[0]
                findings.append(
                    Finding(
                        f"identity.conflicting_{kind}",
                        "CONFLICT",
                        FIELDS[kind],
                        "the event's identifiers belong to two person records that hold "
                        f"different {LABELS[kind]}s; nothing was merged and the event was linked "
                        "by its strongest identifier. Check both source records and correct the "
                        "wrong one.",
                        other,
                    )
                )
                continue
            self._absorb(keep, other)
            findings.append(
                Finding(
                    "identity.persons_merged",
                    "MERGE",
                    None,
                    "two person records were found to be one child (first seen apart by different "
                    "systems) and were merged; review the link if it looks wrong.",
                    other,
                )
            )
        return findings

    def _clashes(self, keep: str, other: str, tokens: dict[str, str]) -> list[str]:
        """Kinds for which the two persons and the event hold more than one identifier."""
        held = (self._held(keep), self._held(other), tokens)
        return [k for k in SINGLE_KINDS if len({h[k] for h in held if h.get(k)}) > 1]

    def _absorb(self, keep: str, other: str) -> None:
        kept, gone = self._record(keep), self._record(other)
        ids = dict(kept["ids"])
        for kind, token in gone["ids"].items():
            ids.setdefault(kind, token)
            self.links[token] = keep
        dob = {**gone.get("dob", {}), **kept.get("dob", {})}
        self.persons[keep] = {**kept, "ids": ids, "dob": dob}
        self.persons[other] = {**gone, "merged_into": keep}

    def _link(self, person: str, ordered: list[tuple[str, str]]) -> list[Finding]:
        findings: list[Finding] = []
        record = self._record(person)
        ids = dict(record["ids"])
        for kind, token in ordered:
            owner = self.canonical(self.links.get(token))
            if owner == person:
                continue
            if owner is not None:
                continue  # held by another person: reported by _merge_or_conflict
            if kind in SINGLE_KINDS and ids.get(kind) not in (None, token):
                findings.append(
                    Finding(
                        f"identity.conflicting_{kind}",
                        "CONFLICT",
                        FIELDS[kind],
                        f"the event gives a {LABELS[kind]} different from the one already linked "
                        f"to this child; it was not linked. Check the source record.",
                    )
                )
                continue
            self.links[token] = person
            if kind in SINGLE_KINDS:
                ids[kind] = token
        self.persons[person] = {**record, "ids": ids}
        return findings

    def _date_of_birth(self, person: str, source: str, dob_token: str) -> list[Finding]:
        record = self._record(person)
        dobs = dict(record.get("dob") or {})
        others = {s for s, t in dobs.items() if s != source and t != dob_token}
        dobs[source] = dob_token
        self.persons[person] = {**record, "dob": dobs}
        if not others:
            return []
        return [
            Finding(
                "identity.date_of_birth_differs",
                "CONFLICT",
                "dob",
                f"{len(others) + 1} source systems give this child different dates of birth; "
                "check which is right and correct the others.",
            )
        ]
