"""`chorus policy test`: OPA's own tests of policies/ (with coverage), then the case table.

The case table (policies/cases/, read by deploy/commands/policy.py) is decided by the
running OPA server and compared with what each case expects.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from deploy.commands.common import UserError
from deploy.commands.policy import (
    EXIT_FAILED,
    EXIT_OK,
    MIN_COVERAGE,
    POLICIES_DIR,
    evaluate_cases,
    load_cases,
    load_policy_data,
    validate_case,
)


@dataclass
class OpaTestReport:
    passed: int
    failed: list[str]
    coverage: float
    output: str

    @property
    def ok(self) -> bool:
        return not self.failed and self.coverage >= MIN_COVERAGE


def opa_test(opa_binary: Path, policies: Path = POLICIES_DIR) -> OpaTestReport:
    """`opa test --coverage` on policies/: the tests that ran, those that failed, coverage %."""
    if not opa_binary.exists():
        raise UserError(f"OPA is not installed at {opa_binary}; run `chorus stack install` first")
    verbose = subprocess.run(
        [str(opa_binary), "test", str(policies), "--format=json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    try:
        results = json.loads(verbose.stdout or "[]")
    except json.JSONDecodeError:
        return OpaTestReport(0, ["(opa could not load the policies)"], 0.0, verbose.stderr)
    failed = [f"{r['package']}.{r['name']}" for r in results if r.get("fail") or r.get("error")]
    passed = len(results) - len(failed)
    cov = subprocess.run(
        [str(opa_binary), "test", str(policies), "--coverage", "--format=json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    try:
        coverage = float(json.loads(cov.stdout).get("coverage", 0.0))
    except (json.JSONDecodeError, AttributeError):
        coverage = 0.0
    return OpaTestReport(passed, failed, coverage, verbose.stderr)


def run_test(cases_dir: Path, opa_url: str, opa_binary: Path | None) -> int:
    ok = True
    if opa_binary is None:
        print("policy: OPA binary not found; run `chorus stack install`")
        ok = False
    else:
        report = opa_test(opa_binary)
        status = "PASS" if not report.failed else "FAIL"
        print(f"opa test: {status} {report.passed} passed, {len(report.failed)} failed")
        for name in report.failed:
            print(f"  FAIL {name}")
        if report.output.strip() and report.failed:
            print(report.output.strip()[-2000:])
        enough = "ok" if report.coverage >= MIN_COVERAGE else f"below {MIN_COVERAGE:.0f}%"
        print(f"opa coverage: {report.coverage:.1f}% ({enough})")
        ok = ok and report.ok
    cases = load_cases(cases_dir)
    data = load_policy_data()
    from schemas.catalogue import default_catalogue

    event_types = default_catalogue().event_types()
    invalid = {c.name: validate_case(c, data, event_types) for c in cases}
    for name, problems in invalid.items():
        for p in problems:
            print(f"  INVALID {name}: {p}")
    results = evaluate_cases([c for c in cases if not invalid[c.name]], opa_url)
    failed = [r for r in results if not r.passed]
    for r in failed:
        print(f"  FAIL {r.case.name} ({r.case.file})")
        for p in r.problems:
            print(f"       {p}")
    n_invalid = sum(1 for p in invalid.values() if p)
    print(
        f"cases: {len(results) - len(failed)} passed, {len(failed)} failed, "
        f"{n_invalid} invalid, of {len(cases)} in {cases_dir}"
    )
    ok = ok and not failed and not n_invalid
    print("policy: all passed" if ok else "policy: FAILED")
    return EXIT_OK if ok else EXIT_FAILED
