"""What the aggregates' intake leaves undecoded: only what every reader takes raw."""

from __future__ import annotations

import dataclasses

from streams.aggregates import information_map as im
from streams.aggregates import registry
from streams.aggregates.intake import raw_fields

LISTS = ("fields_transformed", "fields_withheld")


def test_the_ledgers_field_lists_are_left_raw_for_the_information_map():
    assert raw_fields(registry.AGGREGATES) == {"platform.ledger_entry": LISTS}


def test_a_field_is_left_raw_only_if_every_aggregate_reading_it_takes_it_raw():
    decodes_all = dataclasses.replace(im.SPEC, name="another_map", raw_fields={})
    assert raw_fields([im.SPEC, decodes_all]) == {}
    one = dataclasses.replace(im.SPEC, raw_fields={"platform.ledger_entry": LISTS[1:]})
    assert raw_fields([im.SPEC, one]) == {"platform.ledger_entry": LISTS[1:]}
    assert raw_fields([s for s in registry.AGGREGATES if not s.from_ledger]) == {}
