"""The bad-input corpus, offline: each case breaks exactly the rule it names, and no other.

The same cases go through the real stack in tests/integration/test_bad_input.py; this
fast check makes a wrong case fail in a second rather than after a worker run.
"""

from __future__ import annotations

import re

import pytest

from schemas.codec import Codec
from schemas.errors import ContractError
from schemas.validation import validate
from streams.identity.agent import source_event
from tests.integration.bad_input_corpus import CASES, GOOD, BadInput

codec = Codec()
ALL_PERSONAL = sorted({v for case in CASES for v in case.personal})


def outcome(payload: bytes) -> tuple[ContractError | None, str | None]:
    """What the identity stage does with the bytes: the error it dead-letters, or None."""
    try:
        schema, record = codec.decode(payload)
        source_event(schema.event_type)
        validate(schema.event_type, record)
    except ContractError as err:
        return err, None
    return None, schema.event_type


def params(cases: tuple[BadInput, ...]) -> list:
    return [
        pytest.param(
            c,
            id=c.kind,
            marks=[pytest.mark.xfail(strict=True, reason=c.gap)] if c.gap else [],
        )
        for c in cases
    ]


def test_the_corpus_has_at_least_30_kinds_of_bad_input():
    assert len(CASES) >= 30
    assert len({c.kind for c in CASES}) == len(CASES)
    assert len({c.payload for c in CASES}) == len(CASES)
    assert len({c.rule for c in CASES}) >= 30  # kinds, not one rule over and over


def test_case_names_are_plain_and_free_of_personal_data():
    for c in CASES:
        assert re.fullmatch(r"[a-z0-9_]+", c.kind)
        assert not any(v in c.kind for v in ALL_PERSONAL)


@pytest.mark.parametrize("case", params(CASES))
def test_case_breaks_its_rule_at_its_field(case: BadInput):
    err, passed = outcome(case.payload)
    assert err is not None, f"no rule broken: {passed} passed"
    assert (err.rule, err.field) == (case.rule, case.field)


@pytest.mark.parametrize("case", [c for c in CASES if c.base is not None], ids=lambda c: c.kind)
def test_the_event_a_case_was_made_from_is_valid(case: BadInput):
    err, event_type = outcome(case.base)
    assert err is None, f"the base event already breaks {err.rule} at {err.field}"
    assert event_type == case.event_type


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.kind)
def test_personal_values_are_in_the_bytes_and_not_in_the_error(case: BadInput):
    for value in case.personal:
        assert value.encode() in case.payload, "a personal value the search would never find"
    err, _ = outcome(case.payload)
    if err is None:
        return  # a gap case: reported by the test above
    said = f"{err.rule}|{err.field}|{err.reason}|{err}"
    assert not any(v in said for v in ALL_PERSONAL)


def test_most_cases_carry_personal_values():
    carrying = [c for c in CASES if c.personal]
    assert len(carrying) >= len(CASES) - 4  # only the bare framing cases carry none


def test_good_events_are_valid_and_distinct():
    assert len({g.event_id for g in GOOD}) == len(GOOD)
    assert len({g.event_type for g in GOOD}) >= 8
    for g in GOOD:
        err, event_type = outcome(g.payload)
        assert err is None, f"{g.event_type}: {err.rule} at {err.field}"
        assert event_type == g.event_type
