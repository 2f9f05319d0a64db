"""The IG case table (policies/cases/*.yaml) against the real OPA server.

Each case is one test, named by the case's name, so a failure says which case and
how the decision differed. OPA is at http://127.0.0.1:8181 unless CHORUS_OPA_URL
says otherwise; a server that does not answer fails the tests (never skips).
"""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path

import pytest

from deploy.commands.policy import CaseResult, evaluate_cases, load_cases

pytestmark = pytest.mark.integration
CASES = load_cases()


@pytest.fixture(scope="module")
def results() -> dict[str, CaseResult]:
    url = os.environ.get("CHORUS_OPA_URL") or "http://127.0.0.1:8181"
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=5) as response:
            assert response.status == 200
    except Exception as exc:  # any failure to answer is the same failure here
        pytest.fail(f"OPA at {url} does not answer ({exc}); start it with `chorus stack up`")
    return {r.case.name: r for r in evaluate_cases(CASES, url)}


def test_there_are_at_least_30_cases():
    assert len(CASES) >= 30


@pytest.mark.parametrize("name", [c.name for c in CASES])
def test_case(results, name):
    result = results[name]
    assert result.passed, f"{result.case.file}: {name}: " + "; ".join(result.problems)


def _opa_url() -> str:
    return os.environ.get("CHORUS_OPA_URL") or "http://127.0.0.1:8181"


def _parser():
    import argparse

    from deploy.commands import policy

    parser = argparse.ArgumentParser(prog="chorus")
    policy.add_parser(parser.add_subparsers(dest="command"))
    return parser


def test_policy_test_command_passes(results, capsys):
    from deploy.commands import policy
    from deploy.local.opa import binary_path

    cache = Path(os.environ.get("CHORUS_CACHE") or "~/.cache/chorus").expanduser()
    args = _parser().parse_args(["policy", "test"])
    assert policy.run(args, _opa_url(), binary_path(cache)) == 0
    out = capsys.readouterr().out
    assert "opa coverage:" in out and f"{len(CASES)} passed, 0 failed" in out


def test_policy_test_command_fails_on_a_failing_case(results, tmp_path, capsys):
    from deploy.commands import policy

    (tmp_path / "broken.yaml").write_text(
        "broken:\n"
        "  - name: referrals are wrongly expected to be denied\n"
        "    input: {event_type: case_management.referral, purpose: strategic_reporting,"
        " recipient: la_performance_team}\n"
        "    expect: {allow: false}\n",
        encoding="utf-8",
    )
    args = _parser().parse_args(["policy", "test", "--cases", str(tmp_path)])
    assert policy.run(args, _opa_url(), None) == 1
    out = capsys.readouterr().out
    assert "FAIL referrals are wrongly expected to be denied" in out


def test_explain_says_what_happens_to_each_field_without_its_values(results, tmp_path, capsys):
    from deploy.commands import policy
    from schemas.examples.voice import STATEMENT_RECORDED

    event = tmp_path / "statement.json"
    event.write_text(json.dumps(STATEMENT_RECORDED, default=str), encoding="utf-8")
    subject = tmp_path / "subject.json"
    subject.write_text(json.dumps({"safeguarding_concern": False}), encoding="utf-8")
    args = _parser().parse_args(
        [
            "policy",
            "explain",
            "--event",
            str(event),
            "--recipient",
            "la_performance_team",
            "--purpose",
            "strategic_reporting",
            "--date",
            "2026-06-01",
            "--subject",
            str(subject),
        ]
    )
    assert policy.run(args, _opa_url(), None) == 0
    out = capsys.readouterr().out
    assert out.startswith("ALLOWED")
    assert "isa_strategic_reporting" in out and "public task" in out
    assert "expressed_at" in out and "generalised to the month" in out
    assert "statement_id" in out and "replaced by a pseudonym" in out
    assert "items[].score" in out and "kept with items" in out
    assert "own words are withheld" in out
    for value in (
        STATEMENT_RECORDED["text"],
        STATEMENT_RECORDED["statement_id"],
        "9990000018",
        "C0000001",
        "accommodation",
        "2025-05",
    ):
        assert value not in out
