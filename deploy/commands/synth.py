"""`chorus synth`: one synthetic LA in all three kinds of source, and connector files to read them.

The case-management database is written first; the health (FHIR) and education
(school export) files are written from the same children, so one child has the
same NHS number, UPN and date of birth everywhere. Everything is synthetic and
deterministic for a seed.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import yaml

SOURCES = ("case_management", "health", "education")
LA_CODE = "999"  # a fictitious LA number: no real authority has it


def add_parser(sub: Any) -> None:
    synth = sub.add_parser(
        "synth",
        help="write a synthetic LA: a case-management database, FHIR files and school files",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    synth.add_argument(
        "--out",
        type=Path,
        default=Path(".chorus/synth"),
        help="directory to write into (default .chorus/synth)",
    )
    synth.add_argument(
        "--children", type=int, default=1000, help="number of children (default 1000)"
    )
    synth.add_argument(
        "--seed", type=int, default=1, help="random seed; the same seed gives the same LA"
    )
    synth.add_argument(
        "--care-leavers",
        type=int,
        default=None,
        help="care leavers aged 17-21 beside the children (default: 0.45%% of --children, "
        "the national rate); a small LA needs more for care leaver cells large enough to publish",
    )
    synth.add_argument(
        "--sources",
        default=",".join(SOURCES),
        help=f"comma-separated sources to write (default {','.join(SOURCES)})",
    )
    synth.add_argument("--overwrite", action="store_true", help="replace what is already there")


def connector_configs(out: Path, sources: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """A connector configuration per source, pointing at what `synth` wrote."""
    out = out.resolve()
    state = str(out / "connectors")
    configs: dict[str, dict[str, Any]] = {}
    if "case_management" in sources:
        configs["case_management"] = {
            "connector": "case_management",
            "name": "synth-lcs",
            "source_url": f"sqlite:///{out / 'case_management.db'}",
            "source_system": "LIQUIDLOGIC_LCS",
            "tables": "all",
            "mode": "snapshot",
            "la_code": LA_CODE,
            "state_dir": state,
        }
    if "health" in sources:
        configs["health"] = {
            "connector": "health_fhir",
            "name": "synth-health",
            "source": "folder",
            "folder": str(out / "health"),
            "settle_s": 0.0,
            "la_code": LA_CODE,
            "state_dir": state,
        }
    if "education" in sources:
        configs["education"] = {
            "connector": "education_files",
            "name": "synth-schools",
            "inbox": str(out / "education"),
            "settle_s": 0.0,
            "move_processed": False,
            "la_code": LA_CODE,
            "state_dir": state,
        }
    return configs


def run(args: argparse.Namespace) -> int:
    from deploy.commands.common import UserError
    from deploy.synth.case_management import SynthOptions, write_case_management_db

    sources = tuple(s.strip() for s in args.sources.split(",") if s.strip())
    unknown = sorted(set(sources) - set(SOURCES))
    if unknown or not sources:
        raise UserError(f"--sources: unknown {', '.join(unknown) or '(none)'}; use {SOURCES}")
    if set(sources) - {"case_management"} and "case_management" not in sources:
        db = args.out / "case_management.db"
        if not db.exists():
            raise UserError("health and education files are written from the case-management db")
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    db_url = f"sqlite:///{out / 'case_management.db'}"
    if "case_management" in sources:
        started = time.monotonic()
        summary = write_case_management_db(
            db_url,
            SynthOptions(
                children=args.children,
                seed=args.seed,
                la_code=LA_CODE,
                care_leavers=args.care_leavers,
            ),
            overwrite=args.overwrite,
        )
        print(f"case management: {summary.rows} in {time.monotonic() - started:.1f}s")
    if "health" in sources:
        from deploy.synth.health import write_health_files

        health = write_health_files(
            db_url, _fresh(out / "health", args.overwrite), args.seed, LA_CODE
        )
        print(
            f"health: {len(health.files)} FHIR files, {sum(health.events.values())} events, "
            f"{len(health.bad)} bad records in {health.seconds:.1f}s"
        )
    if "education" in sources:
        from deploy.synth.education import write_education_files

        education = write_education_files(
            db_url, _fresh(out / "education", args.overwrite), args.seed, LA_CODE
        )
        print(
            f"education: {education.files} files from {education.schools} schools, "
            f"{sum(education.events.values())} records, "
            f"{sum(education.rejected.values())} bad in {education.seconds:.1f}s"
        )
    for name, config in connector_configs(out, sources).items():
        path = out / f"{name}.connector.yaml"
        path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        print(f"connector configuration: {path} (chorus connector run {path})")
    return 0


def _fresh(folder: Path, overwrite: bool) -> Path:
    from deploy.commands.common import UserError

    if folder.exists() and any(folder.iterdir()):
        if not overwrite:
            raise UserError(f"{folder} is not empty; use --overwrite to replace it")
        import shutil

        shutil.rmtree(folder)
    return folder
