"""Headless Chromium and its WebDriver for the dashboard's browser test.

The browser and the driver come from the Debian packages ``chromium`` and
``chromium-driver`` (one version, built together). When either program is
missing and we run as root, they are installed with ``apt-get`` (after one
``apt-get update``); otherwise :class:`ChromiumError` says which command to run.

    .venv/bin/python -m deploy.local.chromium ensure
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PACKAGES = ("chromium", "chromium-driver")
BROWSER_NAMES = ("chromium", "chromium-browser")
DRIVER_NAMES = ("chromedriver",)
INSTALL_HINT = "sudo apt-get update && sudo apt-get install -y chromium chromium-driver"


class ChromiumError(Exception):
    """Chromium or chromedriver is missing and could not be installed here."""


@dataclass(frozen=True)
class Chromium:
    """Where the browser and its driver are."""

    browser: Path
    driver: Path


def find() -> Chromium | None:
    """The installed browser and driver, or None when either is missing."""
    browser = _which(BROWSER_NAMES)
    driver = _which(DRIVER_NAMES)
    if browser is None or driver is None:
        return None
    return Chromium(browser=browser, driver=driver)


def _which(names: tuple[str, ...]) -> Path | None:
    for name in names:
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


def ensure(log: Callable[[str], None] = print) -> Chromium:
    """The browser and driver; installs the Debian packages first when missing and root."""
    found = find()
    if found is not None:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise ChromiumError(
            "Chromium and chromedriver are needed for the browser test and are not installed; "
            f"install them with: {INSTALL_HINT}"
        )
    log(f"chromium: installing the Debian packages {' '.join(PACKAGES)} (apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "--no-install-recommends", *PACKAGES],
    ):
        result = subprocess.run(argv, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            tail = "\n".join((result.stdout + result.stderr).splitlines()[-10:])
            raise ChromiumError(f"{' '.join(argv)} failed (exit {result.returncode}):\n{tail}")
    found = find()
    if found is None:
        raise ChromiumError(
            f"apt-get installed {' '.join(PACKAGES)} but chromium or chromedriver is not on PATH"
        )
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Find (and, as root, install) headless Chromium and chromedriver."
    )
    parser.add_argument(
        "action",
        choices=("ensure", "status"),
        help="ensure: install when missing; status: only report (exit 3 when missing)",
    )
    args = parser.parse_args(argv)
    if args.action == "status":
        found = find()
        if found is None:
            print(f"chromium: not installed ({INSTALL_HINT})")
            return 3
    else:
        try:
            found = ensure()
        except ChromiumError as exc:
            print(f"chromium: {exc}", file=sys.stderr)
            return 2
    print(f"chromium: browser {found.browser}, driver {found.driver}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
