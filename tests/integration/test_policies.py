"""The Rego policies pass OPA's own tests, strict checks and formatting, with the coverage IG needs.

Uses the OPA binary `chorus stack up` builds (cached); a missing binary fails the test.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from deploy.local.opa import binary_path

POLICIES = Path(__file__).resolve().parents[2] / "policies"
MIN_COVERAGE = 90.0


@pytest.fixture(scope="module")
def opa() -> Path:
    cache = Path(os.environ.get("CHORUS_CACHE") or "~/.cache/chorus").expanduser()
    path = binary_path(cache)
    if not path.exists():
        pytest.fail(f"OPA is not built at {path}; run `chorus stack up` or `chorus stack install`")
    return path


def run(opa: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(opa), *args], capture_output=True, text=True, timeout=120)


def test_policy_tests_pass_with_enough_coverage(opa):
    result = run(opa, "test", str(POLICIES), "--coverage", "--format=json")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert report["coverage"] >= MIN_COVERAGE, {
        f: c.get("coverage") for f, c in report["files"].items()
    }


def test_policies_pass_strict_check(opa):
    result = run(opa, "check", "--strict", str(POLICIES))
    assert result.returncode == 0, result.stderr


def test_policies_are_formatted(opa):
    result = run(opa, "fmt", "--list", str(POLICIES))
    assert result.stdout.strip() == "", f"run `opa fmt -w policies`: {result.stdout}"


def test_every_rule_has_a_metadata_block(opa):
    """Every rule an IG officer reads carries a METADATA block (title, description, ...)."""
    inspected = json.loads(run(opa, "inspect", "-a", "--format", "json", str(POLICIES)).stdout)
    annotated = {
        ".".join(str(p["value"]) for p in a["path"]).removeprefix("data.")
        for a in inspected.get("annotations", [])
        if a["annotations"].get("scope") == "rule"
    }
    rules = set()
    for rego in POLICIES.rglob("*.rego"):
        if rego.name.endswith("_test.rego"):
            continue
        parsed = json.loads(run(opa, "parse", "--format", "json", str(rego)).stdout)
        package = ".".join(str(p["value"]) for p in parsed["package"]["path"][1:])
        for rule in parsed["rules"]:
            rules.add(f"{package}.{rule['head']['ref'][0]['value']}")
    assert rules, "no rules found"
    assert sorted(rules - annotated) == []


def test_every_rule_definition_says_title_description_legal_basis_and_on_failure(opa):
    """IG officers read each rule: what it is, its basis in law, and what happens if it fails."""
    missing = []
    for rego in POLICIES.rglob("*.rego"):
        if rego.name.endswith("_test.rego"):
            continue
        parsed = json.loads(
            run(opa, "parse", "--format", "json", "--json-include", "locations", str(rego)).stdout
        )
        for rule in parsed["rules"]:
            name = rule["head"]["ref"][0]["value"]
            notes = [a for a in rule.get("annotations", []) if a.get("scope") == "rule"]
            custom = notes[0].get("custom", {}) if notes else {}
            if not (
                notes
                and notes[0].get("title")
                and notes[0].get("description")
                and custom.get("legal_basis")
                and custom.get("on_failure")
            ):
                missing.append(f"{rego.relative_to(POLICIES)}:{rule['location']['row']} {name}")
    assert missing == []
