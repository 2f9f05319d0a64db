"""FHIR R4 resources as the connector reads them: parsed, checked, and indexed by reference.

Each resource is validated with the ``fhir.resources`` R4B models (pydantic):
a well-kept library that checks every element's type, cardinality, date and
instant syntax and rejects unknown elements. It is the costly part of the
connector (about 2,000-3,500 review resources a second on one core), which is
fast enough: an LA's daily feed is tens of reviews, and two years of a
200,000-child LA (190,000 resources) take one to two minutes. Resources that
are plainly not ours are skipped before validation. R4B differs from R4 in
none of the elements read here. A Bundle is
unwrapped by hand (resourceType, entry[].resource, entry[].fullUrl) so that one
bad entry is rejected alone instead of failing the whole Bundle.

Errors name the rule and the element path, never the value: pydantic's own
message quotes the input, so only its error type and location are kept.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from fhir.resources.R4B.communication import Communication
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from pydantic import ValidationError

from connectors.health import codes
from schemas.errors import ContractError

MODELS: dict[str, Any] = {
    "Patient": Patient,
    "Encounter": Encounter,
    "Observation": Observation,
    "QuestionnaireResponse": QuestionnaireResponse,
    "Communication": Communication,
}


@dataclass
class Entry:
    """One resource of a file or a search page, parsed; `error` when it is not valid FHIR."""

    index: int  # NDJSON line number (from 1), Bundle entry index (from 0), or page order
    raw: Any  # the JSON value as read (a dict for a resource)
    resource_type: str | None = None
    resource: Any = None  # the fhir.resources model, when valid
    full_url: str | None = None
    error: ContractError | None = None
    match: bool = True  # False for resources a server search added with _include/_revinclude
    keys: tuple[str, ...] = field(default_factory=tuple)

    @property
    def key(self) -> str:
        """The resource's own reference key ("Encounter/abc"), or its fullUrl."""
        return self.keys[0] if self.keys else f"#{self.index}"

    @property
    def resource_id(self) -> str | None:
        return self.raw.get("id") if isinstance(self.raw, dict) else None

    @property
    def skipped(self) -> bool:
        """A resource of a type the connector does not read (Organization, RelatedPerson, ...)."""
        return self.error is None and self.resource is None

    def payload(self) -> bytes:
        """The entry as JSON bytes, for the restricted payload of a dead letter."""
        return json.dumps(self.raw, sort_keys=True, default=str).encode()


def parse(
    index: int,
    raw: Any,
    full_url: str | None = None,
    match: bool = True,
    text: bytes | None = None,
) -> Entry:
    """An entry from its JSON value; `text`, the same JSON as read, saves serialising it again."""
    entry = Entry(index, raw, full_url=full_url, match=match)
    if not isinstance(raw, dict):
        entry.error = ContractError("fhir.json", "the entry is not a JSON object", "entry")
        return entry
    rtype = raw.get("resourceType")
    entry.resource_type = rtype if isinstance(rtype, str) else None
    rid = raw.get("id")
    keys = [f"{rtype}/{rid}"] if isinstance(rid, str) and entry.resource_type else []
    if full_url:
        keys.append(full_url)
        if entry.resource_type and isinstance(rid, str):
            keys.append(full_url.rsplit("/_history/", 1)[0])
    entry.keys = tuple(dict.fromkeys(keys))
    model = MODELS.get(entry.resource_type or "")
    if model is not None and not _maybe_ours(raw):
        return entry  # an Observation or Communication coded in nobody's system of ours: skipped
    if entry.resource_type is None:
        entry.error = ContractError("fhir.resource_type", "the entry has no resourceType", "entry")
    elif model is not None:
        try:
            # From JSON text: pydantic-core then validates about twice as fast as from a dict.
            entry.resource = model.model_validate_json(text or json.dumps(raw))
        except ValidationError as exc:
            entry.error = structure_error(entry.resource_type, exc)
    return entry


_OUR_CODINGS = {"Observation": "code", "Communication": "category"}


def _maybe_ours(raw: dict[str, Any]) -> bool:
    """False only for a well-formed Observation or Communication whose codes are all foreign.

    Checked before validation, which is the costly part, so a feed full of other
    Observations (weights, immunisations) is skipped cheaply.
    """
    element = _OUR_CODINGS.get(raw.get("resourceType", ""))
    if element is None:
        return True
    value = raw.get(element)
    concepts = value if isinstance(value, list) else [value]
    systems = []
    for concept in concepts:
        codings = concept.get("coding") if isinstance(concept, dict) else None
        if not isinstance(codings, list):
            return True  # malformed: let validation say why
        systems += [c.get("system") if isinstance(c, dict) else None for c in codings]
    return any(
        not isinstance(s, str) or s.startswith(codes.LOCAL) or s in codes.FOREIGN_SYSTEMS
        for s in systems
    )


def structure_error(resource_type: str, exc: ValidationError) -> ContractError:
    """A ContractError naming the first invalid element and pydantic's error type, not the value."""
    first = exc.errors(include_input=False, include_url=False, include_context=False)[0]
    path = ".".join(str(p) for p in first["loc"] if not isinstance(p, int)) or "resource"
    return ContractError(
        "fhir.structure",
        f"{resource_type}.{path} is not valid FHIR R4 ({first['type']}); fix it at the source",
        f"{resource_type}.{path}",
    )


def unwrap(index_base: int, doc: Any) -> Iterator[tuple[int, Any, str | None]]:
    """(index, resource, fullUrl) for a Bundle's entries, or the document itself."""
    if isinstance(doc, dict) and doc.get("resourceType") == "Bundle":
        entries = doc.get("entry") or []
        if not isinstance(entries, list):
            raise ContractError("fhir.bundle", "Bundle.entry is not a list", "Bundle.entry")
        for i, item in enumerate(entries):
            if isinstance(item, dict):
                url = item.get("fullUrl")
                yield index_base + i, item.get("resource"), url if isinstance(url, str) else None
            else:
                yield index_base + i, item, None
    else:
        yield index_base, doc, None


class Index:
    """The entries of one file or one search result, found by any of their reference keys."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self.entries = list(entries)
        self._by_key: dict[str, Entry] = {}
        for e in self.entries:
            for k in e.keys:
                self._by_key.setdefault(k, e)

    def get(self, reference: str | None) -> Entry | None:
        if not reference:
            return None
        return self._by_key.get(reference) or self._by_key.get(reference.split("/_history/")[0])

    def canonical(self, reference: str) -> str:
        """The reference as the referenced entry's own key, so two spellings group together."""
        found = self.get(reference)
        return found.key if found is not None else reference


# --------------------------------------------------------------------------- element helpers


def codings(value: Any) -> Iterator[tuple[str | None, str | None]]:
    """(system, code) of every coding of a CodeableConcept, a list of them, or a Coding."""
    if value is None:
        return
    if isinstance(value, list):
        for v in value:
            yield from codings(v)
        return
    if hasattr(value, "coding"):
        for c in value.coding or []:
            yield c.system, c.code
    elif hasattr(value, "code"):
        yield value.system, value.code


def code_in(value: Any, system: str) -> str | None:
    """The first code from `system`, or None."""
    return next((c for s, c in codings(value) if s == system), None)


def ref_type(reference: str | None, index: Index) -> str | None:
    """The resource type a reference points at: from the index, or from "Type/id"."""
    if not reference:
        return None
    found = index.get(reference)
    if found is not None:
        return found.resource_type
    parts = reference.split("/")
    return parts[-2] if len(parts) >= 2 and parts[-2][:1].isupper() else None


def ref_id(reference: str | None) -> str | None:
    if not reference:
        return None
    return reference.split("/_history/")[0].rstrip("/").rsplit("/", 1)[-1].removeprefix("urn:uuid:")


def instant(value: Any) -> dt.datetime | None:
    """A date or dateTime element as an aware datetime (a date means its midnight UTC)."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    return None  # a partial date ("2024" or "2024-05") says too little


def full_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return None


def last_updated(entry: Entry) -> dt.datetime | None:
    meta = getattr(entry.resource, "meta", None)
    return instant(meta.lastUpdated) if meta is not None and meta.lastUpdated else None


def content_version(entries: Iterable[Entry]) -> str:
    """A short hash of the resources behind an event, without their meta: same content, same id."""
    h = hashlib.sha256()
    for e in sorted(entries, key=lambda x: x.key):
        raw = {k: v for k, v in e.raw.items() if k != "meta"} if isinstance(e.raw, dict) else e.raw
        h.update(json.dumps(raw, sort_keys=True, separators=(",", ":"), default=str).encode())
    return h.hexdigest()[:16]
