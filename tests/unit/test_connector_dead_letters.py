"""Connector dead letters are logged once per table, rule and field in a batch, without keys."""

import logging

from connectors.common.base import Coordinates, Rejected
from connectors.common.dead_letters import log_dead_letters
from schemas.errors import ContractError


def rejected(key: str, rule: str, column: str) -> Rejected:
    return Rejected(Coordinates("ssd_person", key, "v1"), ContractError(rule, "why", column), b"")


def test_a_batch_of_dead_letters_is_one_line_per_rule_with_its_count(caplog):
    batch = [rejected(f"K{i:07d}", "nhs_number.check", "nhs_number") for i in range(5)]
    batch.append(rejected("K9999999", "upn.check", "upn"))
    with caplog.at_level(logging.WARNING, logger="connectors.common.dead_letters"):
        log_dead_letters("lcs", batch)
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "lcs: dead-lettered 5 record(s) of ssd_person rule=nhs_number.check field=nhs_number",
        "lcs: dead-lettered 1 record(s) of ssd_person rule=upn.check field=upn",
    ]
    assert not any(f"K{i:07d}" in line for line in lines for i in range(5))


def test_no_dead_letters_no_log(caplog):
    with caplog.at_level(logging.WARNING, logger="connectors.common.dead_letters"):
        log_dead_letters("lcs", [])
    assert caplog.records == []
