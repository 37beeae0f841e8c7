"""Browser tests of the targets page and Priority 2 through a real internal server, in chromium.

Each page is opened by its URL in a fresh session (fixtures from tests/e2e/conftest.py: the
server is started by the launcher ``python -m csp_data.ui.serve`` on 127.0.0.1, chromium is
Debian's, and every request to another host is aborted and recorded). Checked: no exception box,
every Vega chart really renders (an svg or canvas inside ``.vega-embed``), and each chart has its
accessible name. Streamlit puts the chart's description on the ``.vega-embed`` container itself
(``role="graphics-document"``, ``aria-roledescription="visualization"``, ``aria-label`` = the
description), so that is the attribute asserted, and it must be the same text the page shows
under the chart as "Chart description: ...". The targets CSV is downloaded as a user gets it.
"""

from __future__ import annotations

import csv
import re
import tomllib

import pytest

from csp_data.config import REPO_ROOT

from .conftest import EXCEPTION, MAIN_H1, assert_offline, load

pytestmark = pytest.mark.e2e

CHART = "[data-testid=stMain] .vega-embed"
CAPTION = "[data-testid=stMain] [data-testid=stCaptionContainer]"
DESCRIPTION = "Chart description: "
PLAN = tomllib.loads((REPO_ROOT / "data" / "plan" / "E09000030.toml").read_text(encoding="utf-8"))


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def chart_report(page) -> list[dict]:
    """Every chart container: its ARIA attributes and whether Vega drew into it."""
    page.wait_for_function(
        """sel => { const c = document.querySelectorAll(sel);
                    return c.length > 0 && Array.from(c).every(e => e.querySelector('svg, canvas')); }""",
        arg=CHART,
    )
    return page.eval_on_selector_all(
        CHART,
        """els => els.map(e => {
        const g = e.querySelector('svg, canvas');
        return {label: e.getAttribute('aria-label'), role: e.getAttribute('role'),
                roledescription: e.getAttribute('aria-roledescription'),
                drawn: g ? g.tagName.toLowerCase() : null,
                width: g ? g.getBoundingClientRect().width : 0, height: g ? g.getBoundingClientRect().height : 0}; })""",
    )


def assert_charts_render_with_descriptions(page, minimum: int) -> list[dict]:
    charts = chart_report(page)
    assert len(charts) >= minimum, f"expected at least {minimum} charts, found {len(charts)}"
    for n, c in enumerate(charts, 1):
        assert c["drawn"] in ("svg", "canvas"), f"chart {n} was not drawn: {c}"
        assert c["width"] > 0 and c["height"] > 0, f"chart {n} has no size: {c}"
        assert c["role"] == "graphics-document" and c["roledescription"] == "visualization", c
        assert c["label"] and len(c["label"].strip()) > 20, f"chart {n} has no accessible description: {c}"
    shown = [
        squash(t)[len(DESCRIPTION) :]
        for t in page.locator(CAPTION).all_inner_texts()
        if squash(t).startswith(DESCRIPTION)
    ]
    assert [squash(c["label"]) for c in charts] == shown, "each chart's aria-label is its visible description"
    return charts


def assert_no_exception(page, server) -> None:
    boxes = page.locator(EXCEPTION)
    assert boxes.count() == 0, f"{boxes.all_inner_texts()}\n--- server log ---\n{server.log()[-4000:]}"


def test_targets_page_charts_and_csv(internal_server, app_page):
    load(app_page, f"{internal_server.url}/targets")
    assert_no_exception(app_page, internal_server)
    headings = [h.strip() for h in app_page.locator(MAIN_H1).all_inner_texts()]
    assert headings and "Targets" in headings[0]
    charts = assert_charts_render_with_descriptions(app_page, minimum=4)
    police = [t for t in PLAN["targets"] if t["kind"] == "police_count"]
    for t in police:
        assert any(c["label"].startswith(f"{t['label']}:") for c in charts), t["label"]

    button = app_page.locator("[data-testid=stDownloadButton] button", has_text="Download the targets (CSV)")
    assert button.count() == 1
    with app_page.expect_download() as info:
        button.click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    with open(download.path(), encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 16
    assert [r["target_id"] for r in rows] == [t["id"] for t in PLAN["targets"]]
    assert [r["wording"] for r in rows] == [t["wording"] for t in PLAN["targets"]]
    number = re.compile(r"^-?\d+(\.\d+)?$")
    for r in rows:
        assert r["status"] in {"on track", "off track", "too early to tell", "awaiting data", "met"}
        if r["kind"] == "police_count":
            assert number.match(r["baseline_value"]) and number.match(r["observed"]), r
        else:
            assert r["status"] == "awaiting data" and r["observed"] == "", r
    assert_offline(app_page)


def test_priority_2_charts_render_offline(internal_server, app_page):
    load(app_page, f"{internal_server.url}/priority-2")
    assert_no_exception(app_page, internal_server)
    headings = [h.strip() for h in app_page.locator(MAIN_H1).all_inner_texts()]
    assert headings == [f"Priority 2: {PLAN['priorities'][1]['title']}"]
    charts = assert_charts_render_with_descriptions(app_page, minimum=4)
    assert any(c["label"].startswith("Serious violence per month") for c in charts)
    assert app_page.get_by_text(PLAN["definitions"]["serious_violence"]["text"][:60]).count() >= 1
    assert_offline(app_page)
