"""The sharing policy's data (policies/data/*.yaml) fits the event contract in schemas/avro.

Every transform names a field that exists and suits its Avro type, every event type
has its data categories and is received by some purpose, purposes that must not
identify a child never receive what identifies one, and every (purpose, event type)
pair's shared form, built from the synthetic example, encodes with its share schema.
"""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from schemas.catalogue import default_catalogue
from schemas.codec import Codec
from schemas.examples import case_management, consent, education, health, voice
from schemas.share import share_event_type
from streams.gatekeeper.sharing import shared_event
from streams.policy_client import Decision
from streams.pseudonyms import Pseudonymiser
from streams.transforms import TRANSFORMS, parse_path

DATA = Path(__file__).resolve().parents[2] / "policies" / "data"
DATE_TYPES = {"date", "timestamp-millis", "timestamp-micros"}
CATEGORIES = {
    "social_care",
    "early_help",
    "voice",
    "health",
    "confidential_health",
    "education",
    "consent",
    "special_category",
}
NOT_IDENTIFYING = ("strategic_reporting", "research")
FREE_TEXT = ("redact", "scrub")  # transforms of free text; withheld without consent to quotes
EXAMPLES = {
    **case_management.EXAMPLES,
    **consent.EXAMPLES,
    **education.EXAMPLES,
    **health.EXAMPLES,
    **voice.EXAMPLES,
}


def load(name: str) -> dict[str, Any]:
    return yaml.safe_load((DATA / f"{name}.yaml").read_text(encoding="utf-8"))[name]


PURPOSES = load("purposes")
RECIPIENTS = load("recipients")
AGREEMENTS = load("agreements")
EVENT_CATEGORIES = load("categories")
SOURCE_EVENT_TYPES = sorted(
    et for et in default_catalogue().event_types() if not et.startswith(("share.", "platform."))
)
LISTED = [
    (purpose, event_type, path, transform)
    for purpose, p in PURPOSES.items()
    for event_type, fields in p["events"].items()
    for path, transform in fields.items()
]


# --- resolving a field path in a schema ---------------------------------------------------


def _named_types(node: Any, named: dict[str, dict]) -> None:
    if isinstance(node, list):
        for branch in node:
            _named_types(branch, named)
    elif isinstance(node, dict):
        if node.get("type") in ("record", "enum", "fixed"):
            named[node["name"]] = node
            for f in node.get("fields", []):
                _named_types(f["type"], named)
        elif node.get("type") == "array":
            _named_types(node["items"], named)
        elif node.get("type") == "map":
            _named_types(node["values"], named)


def _branches(t: Any, named: dict[str, dict]) -> list[Any]:
    """The non-null branches of a type, with named references resolved."""
    out = []
    for branch in t if isinstance(t, list) else [t]:
        if branch == "null":
            continue
        if isinstance(branch, str) and branch in named:
            branch = named[branch]
        out.append(branch)
    return out


def _nullable(t: Any) -> bool:
    return isinstance(t, list) and "null" in t


def schema_field(event_type: str, path: str) -> tuple[dict[str, Any], dict[str, dict]]:
    """The Avro field at `path` in `event_type` (and the named types); KeyError when none."""
    schema = default_catalogue().latest(event_type).schema
    named: dict[str, dict] = {}
    _named_types(schema, named)
    fields = schema["fields"]
    segments = parse_path(path)
    for i, (name, each) in enumerate(segments):
        match = [f for f in fields if f["name"] == name]
        if not match:
            raise KeyError(f"{event_type} has no field '{path}'")
        if i == len(segments) - 1:
            return match[0], named
        inner = _branches(match[0]["type"], named)
        if each:
            inner = [b for b in inner if isinstance(b, dict) and b.get("type") == "array"]
            inner = _branches(inner[0]["items"], named) if inner else []
        records = [b for b in inner if isinstance(b, dict) and b.get("type") == "record"]
        if not records:
            raise KeyError(f"'{path}' in {event_type}: '{name}' is not a record or list of records")
        fields = records[0]["fields"]
    raise KeyError(path)


def field_type(event_type: str, path: str) -> tuple[Any, dict[str, dict]]:
    f, named = schema_field(event_type, path)
    return f["type"], named


def _kinds(t: Any, named: dict[str, dict]) -> set[str]:
    """Short names of a type's non-null branches: string, int, date, record, enum, ..."""
    kinds = set()
    for b in _branches(t, named):
        if isinstance(b, dict):
            kinds.add(b.get("logicalType") if b.get("logicalType") in DATE_TYPES else b["type"])
        else:
            kinds.add(b)
    return kinds


# --- the transforms fit the contract ------------------------------------------------------


@pytest.mark.parametrize("purpose,event_type,path,transform", LISTED)
def test_every_transform_fits_its_fields_avro_type(purpose, event_type, path, transform):
    where = f"purposes.yaml {purpose} {event_type} {path}: {transform}"
    assert transform in TRANSFORMS, f"{where}: not a transform ({sorted(TRANSFORMS)})"
    try:
        t, named = field_type(event_type, path)
    except KeyError as exc:
        pytest.fail(f"{where}: {exc}")
    kinds = _kinds(t, named)
    nested = "." in path
    if transform in ("month", "year"):
        assert kinds <= DATE_TYPES, f"{where}: month/year only on dates and timestamps"
        assert not nested, f"{where}: a nested date keeps its type when shared; use keep or drop"
    elif transform == "district":
        assert kinds == {"string"} and "postcode" in path, f"{where}: district only on postcodes"
    elif transform == "age_band":
        assert kinds == {"int"} and not nested, f"{where}: age_band only on top-level ints"
        shared = default_catalogue().latest(share_event_type(event_type)).schema["fields"]
        shared_type = next(f["type"] for f in shared if f["name"] == path)
        assert "string" in shared_type, f"{where}: the shared schema keeps an int here, not a band"
    elif transform in ("pseudonymise", "redact", "scrub"):
        assert kinds == {"string"}, f"{where}: {transform} only on strings"
    elif transform == "drop" and nested:
        assert _nullable(t), f"{where}: the nested field is not nullable; use redact instead"


@pytest.mark.parametrize("purpose,event_type,path,transform", [x for x in LISTED if "." in x[2]])
def test_nested_transforms_sit_inside_a_kept_parent(purpose, event_type, path, transform):
    parent = path.split(".")[0].removesuffix("[]")
    assert PURPOSES[purpose]["events"][event_type].get(parent) == "keep", (
        f"purposes.yaml {purpose} {event_type}: list '{parent}: keep' for '{path}'"
    )


@pytest.mark.parametrize(
    "purpose,event_type",
    [(p, et) for p, purpose in PURPOSES.items() for et in purpose["events"]],
)
def test_every_shared_form_encodes_with_its_share_schema(purpose, event_type):
    """The example event, shared for `purpose` (also with its free text withheld), encodes."""
    transforms = PURPOSES[purpose]["events"][event_type]
    codec = Codec()
    pseudonymiser = Pseudonymiser(b"k" * 32)
    withheld = {k: "drop" if v in FREE_TEXT else v for k, v in transforms.items()}
    for variant in (transforms, withheld):
        decision = Decision(
            True, ("ok",), dict(variant), "basis", frozenset({"pseudonymise_subject"}), "isa", "r"
        )
        record = copy.deepcopy(EXAMPLES[event_type])
        shared, _, _ = shared_event(record, decision, "r", purpose, pseudonymiser, "999:C1")
        codec.encode(share_event_type(event_type), shared)


# --- coverage of the contract -------------------------------------------------------------


def test_there_are_32_source_event_types():
    assert len(SOURCE_EVENT_TYPES) == 32


def test_every_event_type_has_known_categories():
    assert sorted(EVENT_CATEGORIES) == SOURCE_EVENT_TYPES
    for event_type, cats in EVENT_CATEGORIES.items():
        assert cats and set(cats) <= CATEGORIES, f"categories.yaml {event_type}: {cats}"


def test_every_event_type_is_received_by_some_purpose():
    received = {et for p in PURPOSES.values() for et in p["events"]}
    assert sorted(set(SOURCE_EVENT_TYPES) - received) == []
    assert sorted(received - set(SOURCE_EVENT_TYPES)) == []


def test_health_events_from_nhs_care_are_confidential_health():
    for event_type, cats in EVENT_CATEGORIES.items():
        if event_type.startswith("health."):
            assert "confidential_health" in cats, event_type


def test_events_carrying_voice_consent_are_voice():
    for event_type in SOURCE_EVENT_TYPES:
        names = {f["name"] for f in default_catalogue().latest(event_type).schema["fields"]}
        if "consent_for_reports" in names:
            assert "voice" in EVENT_CATEGORIES[event_type], event_type


# --- the purposes ---------------------------------------------------------------------------


def test_the_six_purposes_and_their_flags():
    flags = {
        p: (
            v["individual_care"],
            v["relies_on_consent"],
            v["honours_objections"],
            v["release_identifiers"],
        )
        for p, v in PURPOSES.items()
    }
    assert flags == {
        "direct_care": (True, False, True, True),
        "safeguarding": (True, False, False, True),
        "early_help_triage": (True, True, True, False),
        "statutory_return": (False, False, False, False),
        "strategic_reporting": (False, False, True, False),
        "research": (False, True, True, False),
    }
    assert [p for p, v in PURPOSES.items() if v.get("requires_safeguarding_concern")] == [
        "safeguarding"
    ]


@pytest.mark.parametrize("purpose", sorted(PURPOSES))
def test_every_purpose_says_its_basis_condition_and_retention(purpose):
    p = PURPOSES[purpose]
    for key in ("title", "description", "lawful_basis", "special_category_condition", "retention"):
        assert isinstance(p.get(key), str) and p[key].strip(), f"{purpose}: {key}"
    assert "Art. 6" in p["lawful_basis"]
    assert "DPA 2018 Sch. 1" in p["special_category_condition"]


def _doc(event_type: str, path: str) -> str:
    return schema_field(event_type, path)[0].get("doc", "")


@pytest.mark.parametrize(
    "purpose,event_type,path,transform",
    [x for x in LISTED if not PURPOSES[x[0]]["release_identifiers"]],
)
def test_purposes_without_identifiers_never_receive_restricted_fields_as_they_are(
    purpose, event_type, path, transform
):
    doc = _doc(event_type, path)
    if "Restricted free text" in doc:
        if not PURPOSES[purpose]["individual_care"]:
            assert transform in (*FREE_TEXT, "drop"), f"{purpose} {event_type} {path}: free text"
    elif "Restricted" in doc and "." not in path:
        assert transform in ("district", "drop"), f"{purpose} {event_type} {path}: restricted"


@pytest.mark.parametrize("purpose", NOT_IDENTIFYING)
def test_reporting_and_research_never_get_identifying_details(purpose):
    events = PURPOSES[purpose]["events"]
    assert "case_management.identifier_linked" not in events
    for event_type, fields in events.items():
        for path, transform in fields.items():
            kinds = _kinds(*field_type(event_type, path))
            if path in ("forename", "surname"):
                pytest.fail(f"{purpose} {event_type}: names are never shared")
            if path in ("dob", "expected_dob"):
                assert transform in ("month", "year"), f"{purpose} {event_type} {path}"
            if "postcode" in path:
                assert transform in ("district", "drop"), f"{purpose} {event_type} {path}"
            if kinds & DATE_TYPES and transform == "keep":
                pytest.fail(f"{purpose} {event_type} {path}: dates go to the month or year")
            if path.endswith("_id") and transform == "keep":
                pytest.fail(f"{purpose} {event_type} {path}: ids are pseudonymised")


def test_strategic_reporting_keeps_the_referral_transforms_the_flow_relies_on():
    assert PURPOSES["strategic_reporting"]["events"]["case_management.referral"] == {
        "referral_id": "pseudonymise",
        "referral_date": "month",
        "referral_source": "keep",
        "primary_need": "keep",
        "referral_nfa": "keep",
        "outcome": "keep",
        "close_date": "month",
        "close_reason": "keep",
    }


# --- recipients and agreements --------------------------------------------------------------


def test_recipients_subscribe_to_registered_purposes():
    for name in (
        "health_visiting_team",
        "school_oakfield_primary",
        "early_help_hub",
        "children_social_care",
        "la_performance_team",
        "dfe",
        "university_research_unit",
    ):
        assert name in RECIPIENTS
    for name, r in RECIPIENTS.items():
        assert r.get("organisation"), name
        assert r["subscriptions"] and set(r["subscriptions"]) <= set(PURPOSES), name


@pytest.mark.parametrize("agreement", sorted(AGREEMENTS))
def test_agreements_name_known_parties_purposes_and_events(agreement):
    a = AGREEMENTS[agreement]
    assert set(a["parties"]) <= set(RECIPIENTS), agreement
    assert set(a["purposes"]) <= set(PURPOSES), agreement
    for key in ("title", "lawful_basis"):
        assert a.get(key), f"{agreement}: {key}"
    dates = [dt.date.fromisoformat(a[k]) for k in ("valid_from", "review_date", "expires")]
    assert dates[0] <= dates[2], f"{agreement}: expires before it starts"
    for event_type in a["event_types"]:
        assert any(event_type in PURPOSES[p]["events"] for p in a["purposes"]), (
            f"{agreement}: no purpose of the agreement receives {event_type}"
        )
        for party in a["parties"]:
            assert set(a["purposes"]) & set(RECIPIENTS[party]["subscriptions"]), (
                f"{agreement}: {party} subscribes to none of its purposes"
            )


def test_every_subscription_has_an_agreement():
    for name, r in RECIPIENTS.items():
        for purpose in r["subscriptions"]:
            assert any(
                name in a["parties"] and purpose in a["purposes"] for a in AGREEMENTS.values()
            ), f"{name} subscribes to {purpose} without any agreement"


def test_one_agreement_expired_on_31_march_2025_and_alone_covered_its_pair():
    expired = [k for k, a in AGREEMENTS.items() if a["expires"] == "2025-03-31"]
    assert expired
    alone = []
    for key in expired:
        a = AGREEMENTS[key]
        for party in a["parties"]:
            for purpose in a["purposes"]:
                others = [
                    k
                    for k, b in AGREEMENTS.items()
                    if k != key and party in b["parties"] and purpose in b["purposes"]
                ]
                if not others:
                    alone.append((party, purpose))
    assert alone, "no recipient/purpose pair is covered only by an expired agreement"


def _nested_restricted(event_type: str, path: str) -> list[str]:
    """Paths of restricted fields inside the record (or list of records) at `path`."""
    f, named = schema_field(event_type, path)
    out = []
    for b in _branches(f["type"], named):
        each = isinstance(b, dict) and b.get("type") == "array"
        inner = _branches(b["items"], named) if each else [b]
        for r in inner:
            if isinstance(r, dict) and r.get("type") == "record":
                for child in r["fields"]:
                    child_path = f"{path}{'[]' if each else ''}.{child['name']}"
                    if "Restricted" in child.get("doc", ""):
                        out.append(child_path)
                    out += _nested_restricted(event_type, child_path)
    return out


@pytest.mark.parametrize(
    "purpose,event_type,path,transform",
    [x for x in LISTED if not PURPOSES[x[0]]["individual_care"] and x[3] == "keep"],
)
def test_restricted_fields_inside_a_kept_record_are_named_outside_individual_care(
    purpose, event_type, path, transform
):
    fields = PURPOSES[purpose]["events"][event_type]
    for inner in _nested_restricted(event_type, path):
        assert fields.get(inner) in (*FREE_TEXT, "drop"), (
            f"purposes.yaml {purpose} {event_type}: '{path}: keep' would release '{inner}'; "
            f"list '{inner}: redact', scrub or drop"
        )


# --- the IG case table ------------------------------------------------------------------------


def test_every_case_file_parses_and_every_case_names_known_things():
    from deploy.commands.policy import load_cases, load_policy_data, validate_case

    cases = load_cases()
    data = load_policy_data()
    problems = {
        f"{c.file}: {c.name}": p for c in cases if (p := validate_case(c, data, SOURCE_EVENT_TYPES))
    }
    assert problems == {}
    assert len(cases) >= 30


def test_a_misspelt_case_fails_clearly(tmp_path):
    from deploy.commands.common import UserError
    from deploy.commands.policy import Case, load_cases, load_policy_data, validate_case

    data = load_policy_data()
    typo = Case(
        "typo",
        "t.yaml",
        {
            "event_type": "case_management.referal",
            "purpose": "strategic_reportng",
            "recipient": "la_performance_team",
            "subjects": {},
        },
        {"allow": True, "transform": {}},
    )
    problems = " | ".join(validate_case(typo, data, SOURCE_EVENT_TYPES))
    assert "event type 'case_management.referal' is not in schemas/avro" in problems
    assert "purpose 'strategic_reportng' is not in policies/data/purposes.yaml" in problems
    assert "input has an unknown key 'subjects'" in problems
    assert "expect has an unknown key 'transform'" in problems

    (tmp_path / "mine.yaml").write_text("others:\n  - name: x\n", encoding="utf-8")
    with pytest.raises(UserError, match="must hold one key, 'mine'"):
        load_cases(tmp_path)


def test_only_a_persons_own_words_for_strategic_reporting_are_scrubbed():
    """scrub keeps the words: listed only where the policy asks for consent to quotes first."""
    scrubbed = {(p, et, path) for p, et, path, t in LISTED if t == "scrub"}
    assert scrubbed == {
        ("strategic_reporting", "voice.statement_recorded", "text"),
        ("strategic_reporting", "voice.voice_note_recorded", "items[].text"),
    }
    for _, event_type, _ in scrubbed:
        assert "voice" in EVENT_CATEGORIES[event_type]
