"""`chorus policy test|explain|impact|push`: the sharing policy, for IG officers.

- ``test`` runs OPA's own tests of policies/ (with coverage) and the YAML case
  table in policies/cases/ against the running OPA server (deploy/commands/policy_suite.py).
- ``explain`` says, in plain English, what the policy decides for one event,
  recipient and purpose: allowed or not, why, under which agreement, and what
  happens to every field. It never prints the event's values
  (deploy/commands/policy_explain.py).
- ``impact`` replays recent source events through the current and a candidate policy
  folder and reports what would change (deploy/commands/policy_impact.py).
- ``push`` builds a bundle of a policy folder and loads it into the running OPA, so
  running workers pick up its revision without a restart (deploy/commands/policy_push.py).

The case table: each file in policies/cases/ holds one list of cases under a key
equal to the file's name (OPA loads every YAML file under policies/ as data, and
distinct keys keep the files from clashing). A case is::

    - name: a parent's objection stops strategic reporting
      input:                      # the decision input; defaults fill the rest
        event_type: case_management.referral
        purpose: strategic_reporting
        recipient: la_performance_team
        subject:
          preferences:
            - {expressed_by: PARENT_CARER, decision: OBJECT}
      expect:
        allow: false
        reason_contains: "objects"          # or a list; each must be in some reason
        transforms: {referral_date: month}  # optional subset; "withheld" = not released
        obligations: [pseudonymise_subject] # optional subset
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from deploy.commands.common import REPO_ROOT, UserError

POLICIES_DIR = REPO_ROOT / "policies"
CASES_DIR = POLICIES_DIR / "cases"
DATA_DIR = POLICIES_DIR / "data"
DEFAULT_DATE = "2026-06-01"  # the day a case is decided on unless it says otherwise
MIN_COVERAGE = 90.0
EXIT_OK, EXIT_FAILED = 0, 1
WITHHELD = "withheld"

INPUT_KEYS = {"event_type", "purpose", "recipient", "date", "voice_consent", "subject"}
SUBJECT_KEYS = {"preferences", "safeguarding_concern", "national_data_opt_out"}
EXPECT_KEYS = {"allow", "reason_contains", "transforms", "obligations"}
PREFERENCE_DEFAULTS: dict[str, Any] = {
    "child_age_years": None,
    "competence_assessed": "NOT_ASSESSED",
    "purpose": None,
    "recipient": None,
    "data_category": None,
    "override": None,
}
HOLDERS = {"CHILD", "YOUNG_PERSON", "PARENT_CARER", "OTHER_WITH_PR"}
COMPETENCE = {"GILLICK_COMPETENT", "NOT_COMPETENT", "NOT_ASSESSED"}
DECISIONS = {"ALLOW", "OBJECT"}
OVERRIDE_REASONS = {"SIGNIFICANT_HARM", "LEGAL_DUTY", "OTHER"}
TRANSFORMS = {
    "keep",
    "pseudonymise",
    "month",
    "year",
    "district",
    "age_band",
    "redact",
    "scrub",
    "drop",
}


# --- the case table ---------------------------------------------------------------------


@dataclass
class Case:
    name: str
    file: str
    input: dict[str, Any]
    expect: dict[str, Any]


@dataclass
class CaseResult:
    case: Case
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


def load_cases(directory: Path = CASES_DIR) -> list[Case]:
    """Every case in `directory`, in file and list order; raises UserError naming each problem."""
    problems: list[str] = []
    cases: list[Case] = []
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise UserError(f"no case files (*.yaml) in {directory}")
    for path in files:
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            problems.append(f"{path.name}: not valid YAML: {exc}")
            continue
        if not isinstance(doc, dict) or set(doc) != {path.stem}:
            problems.append(
                f"{path.name}: must hold one key, '{path.stem}' (the file's name), "
                "with the list of cases under it"
            )
            continue
        entries = doc[path.stem]
        if not isinstance(entries, list):
            problems.append(f"{path.name}: '{path.stem}' must be a list of cases")
            continue
        for i, entry in enumerate(entries, 1):
            where = f"{path.name} case {i}"
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                problems.append(f"{where}: every case needs a name")
                continue
            if not isinstance(entry.get("input"), dict) or not isinstance(
                entry.get("expect"), dict
            ):
                problems.append(f"{where} '{entry['name']}': needs an input and an expect")
                continue
            cases.append(Case(entry["name"], path.name, entry["input"], entry["expect"]))
    names = [c.name for c in cases]
    problems += [
        f"case name '{n}' is used twice" for n in sorted({n for n in names if names.count(n) > 1})
    ]
    if problems:
        raise UserError("policy cases: " + "; ".join(problems))
    return cases


def expand_input(short: dict[str, Any]) -> dict[str, Any]:
    """A case's input with the defaults filled in: the full decision input."""
    out = {
        "event_type": short.get("event_type"),
        "purpose": short.get("purpose"),
        "recipient": short.get("recipient"),
        "date": str(short.get("date") or DEFAULT_DATE),
        "voice_consent": None,
    }
    if short.get("voice_consent") is not None:
        consent = short["voice_consent"]
        out["voice_consent"] = {
            "strategic_reporting": bool(consent.get("strategic_reporting", False)),
            "verbatim_quotes": bool(consent.get("verbatim_quotes", False)),
        }
    if short.get("subject") is not None:
        subject = short["subject"]
        out["subject"] = {
            "preferences": [{**PREFERENCE_DEFAULTS, **p} for p in subject.get("preferences") or []],
            "safeguarding_concern": bool(subject.get("safeguarding_concern", False)),
            "national_data_opt_out": bool(subject.get("national_data_opt_out", False)),
        }
    return out


def load_policy_data(directory: Path = DATA_DIR) -> dict[str, Any]:
    """purposes, recipients, agreements and categories, as the policy reads them."""
    data: dict[str, Any] = {}
    for name in ("purposes", "recipients", "agreements", "categories"):
        doc = yaml.safe_load((directory / f"{name}.yaml").read_text(encoding="utf-8"))
        data[name] = doc[name]
    return data


def validate_case(case: Case, data: dict[str, Any], event_types: Iterable[str]) -> list[str]:
    """What is wrong with a case (unknown names, misspelt keys), so a typo fails clearly.

    A case may name an unregistered purpose or recipient only to show that it
    is denied: it must then expect allow false and a 'not registered' reason.
    """
    problems: list[str] = []
    say = problems.append
    i, e = case.input, case.expect
    for key in sorted(set(i) - INPUT_KEYS):
        say(f"input has an unknown key '{key}' (known: {', '.join(sorted(INPUT_KEYS))})")
    for key in sorted(set(e) - EXPECT_KEYS):
        say(f"expect has an unknown key '{key}' (known: {', '.join(sorted(EXPECT_KEYS))})")
    if not isinstance(e.get("allow"), bool):
        say("expect.allow must be true or false")
    reasons = e.get("reason_contains", [])
    denial_of_unknown = e.get("allow") is False and any(
        "not registered" in r for r in ([reasons] if isinstance(reasons, str) else reasons)
    )
    if i.get("event_type") not in set(event_types):
        say(f"event type '{i.get('event_type')}' is not in schemas/avro")
    if i.get("purpose") not in data["purposes"] and not denial_of_unknown:
        say(f"purpose '{i.get('purpose')}' is not in policies/data/purposes.yaml")
    if i.get("recipient") not in data["recipients"] and not denial_of_unknown:
        say(f"recipient '{i.get('recipient')}' is not in policies/data/recipients.yaml")
    if "date" in i:
        try:
            dt.date.fromisoformat(str(i["date"]))
        except ValueError:
            say(f"date '{i['date']}' is not YYYY-MM-DD (quote it in YAML)")
    consent = i.get("voice_consent")
    if consent is not None and (
        not isinstance(consent, dict) or set(consent) - {"strategic_reporting", "verbatim_quotes"}
    ):
        say("voice_consent may only say strategic_reporting and verbatim_quotes")
    subject = i.get("subject")
    if subject is not None:
        if not isinstance(subject, dict):
            say("subject must be a mapping")
        else:
            for key in sorted(set(subject) - SUBJECT_KEYS):
                say(f"subject has an unknown key '{key}'")
            for n, pref in enumerate(subject.get("preferences") or [], 1):
                problems += [f"preference {n}: {p}" for p in _preference_problems(pref, data)]
    for path, transform in (e.get("transforms") or {}).items():
        if transform not in TRANSFORMS | {WITHHELD}:
            say(f"expected transform '{transform}' for '{path}' is not a transform")
    return problems


def _preference_problems(pref: Any, data: dict[str, Any]) -> list[str]:
    if not isinstance(pref, dict):
        return ["must be a mapping"]
    problems = []
    known = set(PREFERENCE_DEFAULTS) | {"expressed_by", "decision"}
    problems += [f"unknown key '{k}'" for k in sorted(set(pref) - known)]
    if pref.get("expressed_by") not in HOLDERS:
        problems.append(f"expressed_by must be one of {', '.join(sorted(HOLDERS))}")
    if pref.get("decision") not in DECISIONS:
        problems.append("decision must be ALLOW or OBJECT")
    if pref.get("competence_assessed", "NOT_ASSESSED") not in COMPETENCE:
        problems.append(f"competence_assessed must be one of {', '.join(sorted(COMPETENCE))}")
    if pref.get("purpose") not in (None, *data["purposes"]):
        problems.append(f"purpose '{pref['purpose']}' is not in purposes.yaml")
    if pref.get("recipient") not in (None, *data["recipients"]):
        problems.append(f"recipient '{pref['recipient']}' is not in recipients.yaml")
    categories = {c for cats in data["categories"].values() for c in cats}
    category = pref.get("data_category")
    if category is not None and category not in categories | set(data["categories"]):
        problems.append(f"data_category '{category}' is not a category or event type")
    override = pref.get("override")
    if override is not None and (
        not isinstance(override, dict) or override.get("reason_code") not in OVERRIDE_REASONS
    ):
        problems.append(
            f"override.reason_code must be one of {', '.join(sorted(OVERRIDE_REASONS))}"
        )
    return problems


def check_decision(decision: Any, expect: dict[str, Any]) -> list[str]:
    """How a decision differs from what a case expects (empty when it matches)."""
    problems = []
    if decision.allow != expect.get("allow"):
        problems.append(
            f"expected {'allowed' if expect.get('allow') else 'denied'}, "
            f"got {'allowed' if decision.allow else 'denied'}"
        )
    wanted = expect.get("reason_contains") or []
    for text in [wanted] if isinstance(wanted, str) else wanted:
        if not any(text in r for r in decision.reasons):
            problems.append(f"no reason contains '{text}'")
    for path, transform in (expect.get("transforms") or {}).items():
        got = decision.transforms.get(path)
        if transform == WITHHELD:
            if got not in (None, "drop"):
                problems.append(f"expected '{path}' withheld, got '{got}'")
        elif got != transform:
            problems.append(f"expected '{path}' {transform}, got {got or 'withheld'}")
    for obligation in expect.get("obligations") or []:
        if obligation not in decision.obligations:
            problems.append(f"obligation '{obligation}' missing")
    if problems:
        problems.append("reasons given: " + " | ".join(decision.reasons))
    return problems


async def _evaluate(cases: list[Case], opa_url: str) -> list[CaseResult]:
    from streams.policy_client import PolicyClient

    client = PolicyClient(opa_url)
    try:
        results = []
        for case in cases:
            decision = await client.decide(expand_input(case.input))
            results.append(CaseResult(case, check_decision(decision, case.expect)))
        return results
    finally:
        await client.close()


def evaluate_cases(cases: list[Case], opa_url: str) -> list[CaseResult]:
    """Ask the OPA server at `opa_url` for each case's decision and compare."""
    return asyncio.run(_evaluate(cases, opa_url))


# --- the command --------------------------------------------------------------------------


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add `policy test` and `policy explain` to the `chorus` command's subparsers."""
    policy = subparsers.add_parser(
        "policy", help="test the sharing policy, or explain one of its decisions"
    )
    psub = policy.add_subparsers(dest="action", required=True, metavar="ACTION")
    test = psub.add_parser(
        "test",
        help=f"run OPA's policy tests (coverage at least {MIN_COVERAGE:.0f}%%) and the "
        "case table in policies/cases against the running OPA",
    )
    test.add_argument(
        "--cases",
        type=Path,
        default=CASES_DIR,
        help="folder of case files (default policies/cases)",
    )
    ex = psub.add_parser(
        "explain", help="say in plain English what the policy decides for one event"
    )
    ex.add_argument(
        "--event", type=Path, required=True, help="a source event as JSON, with its envelope"
    )
    ex.add_argument(
        "--recipient", required=True, help="recipient key (policies/data/recipients.yaml)"
    )
    ex.add_argument("--purpose", required=True, help="purpose key (policies/data/purposes.yaml)")
    ex.add_argument("--date", default=None, help="decision day YYYY-MM-DD (default: today)")
    ex.add_argument(
        "--subject",
        type=Path,
        default=None,
        help="JSON: {preferences: [...], safeguarding_concern, national_data_opt_out}",
    )
    imp = psub.add_parser(
        "impact",
        help="replay recent source events through the current and a candidate policy folder "
        "and report what would change, per recipient, purpose and field",
    )
    imp.add_argument("--candidate", type=Path, required=True, help="the candidate policy folder")
    imp.add_argument(
        "--current-dir",
        type=Path,
        default=None,
        help="compare with this policy folder (in a scratch OPA) instead of the running OPA",
    )
    imp.add_argument(
        "--last", type=int, default=1000, help="replay the last N events of each source topic"
    )
    imp.add_argument("--since", default=None, help="replay events since this ISO time instead")
    imp.add_argument("--date", default=None, help="decision day YYYY-MM-DD (default: today)")
    imp.add_argument(
        "--app-id",
        default="chorus-streams",
        help="app id of the gatekeeper worker, whose state holds each child's wishes",
    )
    imp.add_argument(
        "--identity-app-id",
        default="chorus-streams",
        help="app id of the identity worker, whose register links identifiers to children",
    )
    imp.add_argument("--bootstrap", default=None, help="Kafka (default: the environment's)")
    imp.add_argument("--topic-prefix", default=None, help="topic prefix (default: the env's)")
    imp.add_argument("--show-ids", type=int, default=10, help="event ids listed per change")
    imp.add_argument("--json", action="store_true", help="print the report as JSON")
    push = psub.add_parser(
        "push",
        help="build an OPA bundle of a policy folder and load it into the running OPA "
        "(workers pick up the new revision without a restart)",
    )
    push.add_argument(
        "--dir", type=Path, default=POLICIES_DIR, help="policy folder (default policies/)"
    )
    push.add_argument(
        "--bundle-dir",
        type=Path,
        default=Path(".chorus/bundles"),
        help="where the built bundles are kept (default .chorus/bundles)",
    )
    return policy


def run(args: argparse.Namespace, opa_url: str, opa_binary: Path | None, env: Any = None) -> int:
    """Run `chorus policy <action>`; returns the exit code.

    `env` (the Environment) lets `impact` read Kafka's address, the topic prefix and the
    pseudonymisation key (for each child's wishes) from the environment.
    """
    if args.action == "test":
        from deploy.commands.policy_suite import run_test

        return run_test(args.cases, opa_url, opa_binary)
    if args.action == "impact":
        from deploy.commands.policy_impact import run_impact

        return run_impact(args, opa_url, opa_binary, env)
    if args.action == "push":
        from deploy.commands.policy_push import run_push

        if opa_binary is None or not opa_binary.exists():
            raise UserError("OPA is not installed; run `chorus stack install` first")
        return run_push(opa_url, opa_binary, args.dir, args.bundle_dir)
    from deploy.commands.policy_explain import run_explain

    return run_explain(args, opa_url)
