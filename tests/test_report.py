"""The Snakemake report: every caption is valid reStructuredText shown verbatim, and the report of a finished smoke
run, opened in headless Chromium, shows every figure and claim map as a loaded image and the claims page as a table
with a row per claim."""
from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest
from docutils.core import publish_parts

from attndyn.claims import read_claims
from attndyn.workflow import Plan, rst_text
from workflow_helpers import SMOKE, snakemake

REPO = Path(__file__).resolve().parents[1]


def rst_problems(text: str) -> bool:
    """Whether docutils reports anything (an info, warning or error) rendering `text`."""
    parts = publish_parts(text, writer="html",
                          settings_overrides={"report_level": 1, "halt_level": 5, "warning_stream": False})
    return "system-message" in parts["body"]


def test_every_figure_caption_names_its_claims_and_the_values_it_depends_on(default_config):
    """Each study lists every figure it can plan in FIGURE_NOTES, and every key there is a key of its config."""
    from attndyn.studies import get_study

    plan = Plan(default_config)
    for study, sp in plan.studies.items():
        notes = get_study(study)._module("captions").FIGURE_NOTES
        assert set(sp.figures) <= set(notes), (study, sorted(set(sp.figures) - set(notes)))
        for figure in sp.figures:
            caption = plan.caption(study, figure)
            assert "Supports claim rows: " in caption or "Supports no claim row" in caption, (study, figure)
            assert "Depends on" in caption, (study, figure)
    cited = {m for study, sp in plan.studies.items() for f in sp.figures
             for m in re.findall(r"docs/papers/\w+\.md", plan.caption(study, f))}
    assert cited and all((REPO / path).is_file() for path in cited), cited


@pytest.mark.parametrize("config_name", ["default_config", "smoke_config"])
def test_every_caption_renders_verbatim_in_the_report(config_name, request):
    plan = Plan(request.getfixturevalue(config_name))
    captions = [plan.caption(study, figure) for study, sp in plan.studies.items() for figure in sp.figures]
    captions += [plan.map_caption(study, name) for study, sp in plan.studies.items() for name in sp.settings.maps]
    assert len(captions) > 30
    bad = [c[:120] for c in captions if rst_problems(rst_text(c))]
    assert not bad, bad
    assert any(rst_problems(c) for c in captions)          # the check can fail: raw captions hold rst markup


def browser():
    """A headless Chromium driven by Selenium (Debian's chromium + chromium-driver), or skip (fail under CI)."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
    except ImportError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"selenium unavailable: {exc}")
    binary, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (binary and driver):
        if os.environ.get("CI"):
            raise RuntimeError("chromium and chromium-driver are not installed (tests/ci_setup.sh installs them)")
        pytest.skip("chromium / chromedriver not installed")
    options = Options()
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1400,1000"):
        options.add_argument(arg)
    options.binary_location = binary
    return webdriver.Chrome(options=options, service=Service(driver))


def _show(driver, path: str, content: str) -> None:
    """Open one result in the report's own viewer (what a click on it in the sidebar does)."""
    driver.execute_script("app.setView({content: arguments[1], contentPath: results[arguments[0]].data_uri, "
                          "resultPath: arguments[0]})", path, content)


def _loaded_width(driver, path: str, timeout: float = 10.0) -> int:
    """naturalWidth of the shown image of `path` once it has loaded (0 if it never does)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        width = driver.execute_script(
            "const i = Array.from(document.images).find(i => i.src === results[arguments[0]].data_uri);"
            "return i && i.complete ? i.naturalWidth : -1;", path)
        if width >= 0:
            return width
        time.sleep(0.1)
    return 0


@pytest.mark.slow
def test_the_report_opens_in_a_browser_with_every_figure_and_the_claims(smoke_run, smoke_config):
    driver = browser()
    snakemake(smoke_run, *SMOKE, "--report", "report.html")
    plan = Plan(smoke_config)
    expected = {p for study in plan.studies for p in plan.figure_paths(study) if p.endswith(".png")}
    expected |= {p for study in plan.studies for p in plan.map_paths(study, "results", "png")}
    try:
        driver.get((smoke_run / "report.html").as_uri())
        assert "System Message" not in driver.page_source
        shown = set(driver.execute_script("return Object.keys(results)"))
        assert expected <= shown, sorted(expected - shown)
        for path in sorted(expected):
            _show(driver, path, "img")
            assert _loaded_width(driver, path) > 200, path
        rows = read_claims(smoke_run / "results" / "claims.csv")
        _show(driver, "results/claims.html", "html")
        driver.switch_to.frame(driver.find_element("tag name", "iframe"))
        assert len(driver.find_elements("css selector", "tbody tr")) == len(rows)
        assert "System Message" not in driver.page_source
        driver.switch_to.default_content()
        driver.save_screenshot(str(smoke_run / "report_claims.png"))
    finally:
        driver.quit()
