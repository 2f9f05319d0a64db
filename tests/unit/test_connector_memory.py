"""A batch is freed as soon as it is published, and the collector runs less while connectors run."""

import gc
import weakref

from connectors.case_management.mappings.base import flags
from connectors.common.base import Coordinates, Rejected
from schemas.errors import ContractError
from schemas.garbage import GC_YOUNG_THRESHOLD, fewer_collections


def _batch_with_a_rejection() -> weakref.ref:
    """Build a batch as map_work does (the rejection made in the frame holding the batch)."""
    out: list[Rejected] = []
    try:
        raise ContractError("code_list", "a column is not in its code list", "col")
    except ContractError as err:
        out.append(Rejected(Coordinates("ssd_contacts", "k1"), err, b"{}"))
    return weakref.ref(out[0])


def test_a_rejection_keeps_no_traceback_so_its_batch_needs_no_collection():
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        gone = _batch_with_a_rejection()
        assert gone() is None  # freed by reference counting alone: no cycle through the frame
    finally:
        if was_enabled:
            gc.enable()


def test_a_rejection_keeps_its_rule_reason_and_field():
    try:
        raise ContractError("nhs_number.check", "NHS number fails the mod-11 check", "nhs_number")
    except ContractError as err:
        rejected = Rejected(Coordinates("ssd_person", "k2"), err, b"{}")
    error = rejected.error
    assert (error.rule, error.reason, error.field) == (
        "nhs_number.check",
        "NHS number fails the mod-11 check",
        "nhs_number",
    )
    assert error.__traceback__ is None and error.__context__ is None


def test_fewer_collections_while_runners_run_and_the_setting_restored_after():
    before = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold()[0] == GC_YOUNG_THRESHOLD
        assert gc.get_threshold()[1:] == before[1:]
        assert gc.get_freeze_count() > 0
        with fewer_collections():  # a second runner in another thread
            assert gc.get_threshold()[0] == GC_YOUNG_THRESHOLD
        assert gc.get_threshold()[0] == GC_YOUNG_THRESHOLD  # the first still runs
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_flags_read_once_are_handed_out_as_copies():
    names = {"NFA_FLAG": "nfa", "ADVICE_FLAG": "advice"}
    text = '{"NFA_FLAG": "Y", "ADVICE_FLAG": "N"}'
    first = flags(text, "outcome_json", names)
    assert first == {"nfa": True, "advice": False}
    first["nfa"] = None  # a record changed after mapping does not change the next one
    second = flags(text, "outcome_json", names)
    assert second == {"nfa": True, "advice": False}
    assert second is not first
    other = flags(text, "outcome_json", {"NFA_FLAG": "no_further_action"})
    assert other == {"no_further_action": True}


def test_a_bad_flags_text_is_rejected_every_time():
    names = {"NFA_FLAG": "nfa"}
    for _ in range(2):
        try:
            flags('{"NFA_FLAG": "maybe"}', "outcome_json", names)
        except ContractError as err:
            assert (err.rule, err.field) == ("yes_no.value", "outcome_json")
        else:
            raise AssertionError("a bad Y/N value was accepted")
