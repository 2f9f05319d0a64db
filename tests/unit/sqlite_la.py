"""A synthetic case-management database on SQLite: written once per module, copied per test."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from deploy.synth.case_management import SynthOptions, write_case_management_db


def write_template(tmp_path_factory: Any, children: int, seed: int) -> Path:
    path = tmp_path_factory.mktemp("la") / "cm.db"
    write_case_management_db(f"sqlite:///{path}", SynthOptions(children=children, seed=seed))
    return path


def fresh_copy(template: Path, tmp_path: Path) -> str:
    """A URL of the test's own copy of the template (tests may change it)."""
    copy = tmp_path / "cm.db"
    shutil.copy(template, copy)
    return f"sqlite:///{copy}"
