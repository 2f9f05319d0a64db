"""`chorus dashboard` in a real headless Chromium, on a synthetic LA flowing through the stack.

The LA comes from `chorus synth` (three sources) and is published by `chorus connector run`
into a fresh topic namespace, where a worker links, shares and aggregates it: everything the
page shows went through the gatekeeper. A few hundred children would hold only one or two
care leavers at the national rate, far from the 20 young people a cell needs before it may
carry statements, so the LA is written with `--care-leavers`. Screenshots are written to
$CHORUS_HOME/screenshots/ (git-ignored) and their paths printed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from deploy.local import chromium
from schemas import topics
from tests.integration.harness import REPO, Namespace, free_port, http_get, poll

pytestmark = pytest.mark.integration
CHILDREN = 300
SEED = 3
CARE_LEAVERS = 80
STATEMENTS_MIN_CELL = 20  # policies/data/disclosure.yaml: statements.min_cell


@pytest.fixture(scope="module")
def browser_programs() -> chromium.Chromium:
    try:
        return chromium.ensure()
    except chromium.ChromiumError as exc:
        pytest.fail(str(exc))


@pytest.fixture
def browser(browser_programs: chromium.Chromium):
    options = Options()
    options.binary_location = str(browser_programs.browser)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(arg)
    options.add_argument("--window-size=1280,1600")
    driver = webdriver.Chrome(service=Service(str(browser_programs.driver)), options=options)
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


@pytest.fixture
def screenshots(request) -> Path:
    home = Path(os.environ.get("CHORUS_HOME") or REPO / ".chorus")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = (home / "screenshots" / f"dashboard-{stamp}").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def chorus(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "deploy", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return result.stdout


def start_dashboard(ns: Namespace, log: Path, port: int) -> None:
    ns.start_chorus(log, "dashboard", "--port", str(port))


def shot(driver: webdriver.Chrome, folder: Path, name: str) -> None:
    path = folder / f"{name}.png"
    driver.save_screenshot(str(path))
    print(f"dashboard screenshot: {path}")


def cell_count(driver: webdriver.Chrome) -> int:
    return int(driver.find_element(By.ID, "cell-count").get_attribute("data-count") or 0)


def view_of(driver: webdriver.Chrome, aggregate: str, table: str) -> dict[str, Any]:
    views = driver.execute_script("return VIEWS;")
    return next(v for v in views if v["aggregate"] == aggregate and v["table"] == table)


def show_figure(driver, cell: dict[str, Any], measure: str):
    """Choose the cell's filter values in its chart and return the figure of the measure."""
    view = view_of(driver, cell["aggregate"], cell["table"])
    for dim in view["filters"]:
        wanted = cell["dimensions"][dim]
        poll(
            lambda d=dim, w=wanted: _select(driver, f"{view['id']}-{d}", w),
            30,
            f"the {dim} filter of {view['id']}",
        )
    cid = f"{cell['aggregate']}/{cell['cell_key']}"
    selector = f'g.figure[data-cell-id="{cid}"][data-measure="{measure}"]'
    figure = poll(
        lambda: next(iter(driver.find_elements(By.CSS_SELECTOR, selector)), None),
        30,
        f"the figure of {measure} in {view['id']}",
    )
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", figure)
    return figure


def _select(driver, select_id: str, value: str) -> bool:
    try:
        element = driver.find_element(By.ID, select_id)
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
        Select(element).select_by_value(value)
        return element.get_attribute("value") == value
    except WebDriverException as exc:
        options = driver.execute_script(
            "const s = document.getElementById(arguments[0]);"
            "return s ? [...s.options].map((o) => o.value) : null;",
            select_id,
        )
        print(f"cannot choose a value of {select_id}: {type(exc).__name__}; options {options}")
        return False


def hover(driver, figure) -> Any:
    ActionChains(driver).move_to_element(figure).perform()
    tip = driver.find_element(By.ID, "tooltip")
    poll(lambda: tip.is_displayed(), 10, "the tooltip")
    return tip


T = TypeVar("T")


def through_redraws(check: Callable[[], T]) -> Callable[[], T | None]:
    """``check`` for poll(), None when an element it used was drawn again meanwhile (the
    page redraws a chart whenever a publication changes its cells)."""

    def checked() -> T | None:
        try:
            return check()
        except StaleElementReferenceException:
            return None

    return checked


def series_measures(driver) -> set[tuple[str, str, str]]:
    views = driver.execute_script("return VIEWS;")
    return {(v["aggregate"], v["table"], s["measure"]) for v in views for s in v["series"]}


def test_dashboard_shows_live_cells_statements_and_suppression(
    stack, namespace, tmp_path, browser, screenshots
):
    env = namespace.env(CHORUS_HOME=str(tmp_path))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    start_dashboard(namespace, tmp_path / "dashboard.log", port)
    namespace.poll(lambda: http_get(f"{base}/health")[0] == 200, 60, "the dashboard's /health")

    browser.get(base)
    poll(
        lambda: browser.find_element(By.ID, "connection").get_attribute("data-state") == "live",
        20,
        "the page to connect to /events",
    )
    assert cell_count(browser) == 0  # a fresh namespace: nothing published yet
    shot(browser, screenshots, "1-connected-empty")

    out = tmp_path / "la"
    chorus(
        env,
        "synth",
        "--out",
        str(out),
        "--children",
        str(CHILDREN),
        "--seed",
        str(SEED),
        "--care-leavers",
        str(CARE_LEAVERS),
    )
    namespace.start_worker("dashboard", tmp_path / "worker.log")
    for cfg in sorted(out.glob("*.connector.yaml")):
        published = chorus(env, "connector", "run", str(cfg), "--until-idle", timeout=300)
        assert int(re.search(r"published (\d+)", published).group(1)) > 0, cfg.name

    namespace.poll(lambda: cell_count(browser) > 0, 120, "cells to arrive in the page")
    shot(browser, screenshots, "2-cells-arriving")
    last = browser.find_element(By.ID, "last-published")
    assert last.get_attribute("datetime") and last.text != "none yet"

    # A care leaver score whose cell carries statements: hover it and read them.
    def statement_cell() -> dict[str, Any] | None:
        for cell in namespace.latest_cells("care_leavers").values():
            m = {x["name"]: x for x in cell["measures"]}
            if cell["statements"] and m["young_person_mean_rating"]["status"] == "PUBLISHED":
                return cell
        return None

    cell = namespace.poll(statement_cell, 120, "a care leaver cell published with statements")
    young_people = next(m for m in cell["measures"] if m["name"] == "young_people")
    assert young_people["value"] >= STATEMENTS_MIN_CELL - 5  # a count after rounding

    def statements_on_hover() -> bool:
        current = namespace.latest_cells("care_leavers")[cell["cell_key"]]
        figure = show_figure(browser, current, "young_person_mean_rating")
        tip = hover(browser, figure)
        shown = [q.text for q in tip.find_elements(By.CSS_SELECTOR, "blockquote.statement")]
        expected = [s["text"] for s in current["statements"]]
        return bool(shown) and all(shown) and shown == expected

    namespace.poll(through_redraws(statements_on_hover), 60, "the cell's statements on hover")
    shot(browser, screenshots, "3-care-leaver-statement-on-hover")

    # A suppressed value: shown as suppressed, with its reason on hover, never as zero.
    wanted = series_measures(browser)

    def suppressed_figure() -> tuple[dict[str, Any], dict[str, Any]] | None:
        for aggregate in topics.AGGREGATES:
            for c in namespace.latest_cells(aggregate).values():
                for m in c["measures"]:
                    if m["status"] == "SUPPRESSED" and (aggregate, c["table"], m["name"]) in wanted:
                        return c, m
        return None

    cell, measure = namespace.poll(suppressed_figure, 60, "a suppressed value in a chart")

    def suppressed_on_hover() -> tuple[str | None, str, str | None, str]:
        figure = show_figure(browser, cell, measure["name"])
        shown = figure.find_element(By.CSS_SELECTOR, "text.value").text
        reason = hover(browser, figure).find_element(By.CSS_SELECTOR, ".tip-suppressed")
        status = figure.get_attribute("data-status")
        return status, shown, reason.get_attribute("data-reason"), reason.text

    status, shown, why, reason_text = namespace.poll(
        through_redraws(suppressed_on_hover), 60, "the suppressed value and its reason"
    )
    assert status == "SUPPRESSED" and shown == "suppressed"
    assert why == measure["suppression"]
    assert reason_text.startswith("Suppressed: ")
    shot(browser, screenshots, "4-suppressed-value-on-hover")

    # The metrics count this page as a subscriber and the suppressed cells it shows.
    status, body = http_get(f"{base}/metrics")
    assert status == 200
    metrics = body.decode()
    assert re.search(r"^chorus_dashboard_subscribers [1-9]", metrics, re.M)
    suppressed = re.findall(
        r"^chorus_dashboard_suppressed_cells_shown\{[^}]*\} (\S+)", metrics, re.M
    )
    assert sum(float(v) for v in suppressed) > 0
    health = json.loads(http_get(f"{base}/health")[1])
    assert health["status"] == "ok" and health["cells"] > 0
    print(f"dashboard screenshots in {screenshots} ({time.strftime('%H:%M:%S')})")
