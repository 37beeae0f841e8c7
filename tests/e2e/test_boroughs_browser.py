"""Another borough in the browser (issue 17): a server started with CSP_BOROUGH_CODE=E09000012 over a
data copy built for Hackney serves Hackney's Overview and Hotspots (maps drawn, no exception, no
Tower Hamlets figure). With ``CSP_SCREENSHOTS=1`` it also writes docs/img/hackney-overview.png and
docs/img/hackney-hotspots.png at 1366x900 (otherwise the screenshots are left alone)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import borough_environment

from .conftest import DECK, EXCEPTION, MAIN, MAIN_H1, REPO, load, start_server, wait_map_drawn

HACKNEY = "E09000012"
SCREENSHOTS = os.environ.get("CSP_SCREENSHOTS") == "1"
IMG = REPO / "docs" / "img"


@pytest.fixture(scope="module")
def hackney_server(tmp_path_factory):
    data = tmp_path_factory.mktemp("hackney") / "data"
    shutil.copytree(REPO / "data" / "sources", data / "sources")
    # the build, and the server started here, see Hackney's setting; the test process keeps its own
    with borough_environment(data, HACKNEY):
        built = subprocess.run(
            [sys.executable, "-m", "csp_data", "build"], cwd=REPO, capture_output=True, text=True, timeout=600
        )
        assert built.returncode == 0, built.stderr
        server = start_server("internal", tmp_path_factory.mktemp("streamlit_hackney"))
    yield server
    server.stop()


def _no_exception(page, server) -> None:
    boxes = page.locator(EXCEPTION)
    assert boxes.count() == 0, f"exception shown: {boxes.all_inner_texts()}\n{server.log()[-3000:]}"


def test_hackney_overview_and_hotspots(hackney_server, app_page):
    load(app_page, f"{hackney_server.url}/overview")
    _no_exception(app_page, hackney_server)
    assert app_page.locator(MAIN_H1).first.inner_text() == "Borough scorecard"
    # the scorecard's own words are in "About these figures" (answer first: the grid opens the page)
    about = app_page.locator("[data-testid=stExpander] summary", has_text="About these figures").first
    about.click()
    app_page.get_by_text("police-recorded crime in Hackney").first.wait_for(state="visible")
    main = app_page.locator(MAIN).inner_text()
    assert "police-recorded crime in Hackney" in main and "Tower Hamlets" not in main
    assert "Data coverage: Hackney" in app_page.locator("[data-testid=stSidebar]").inner_text()
    if SCREENSHOTS:
        app_page.screenshot(path=str(IMG / "hackney-overview.png"))

    load(app_page, f"{hackney_server.url}/hotspots")
    _no_exception(app_page, hackney_server)
    assert "concentrates in Hackney" in app_page.locator(MAIN).inner_text()
    deck = app_page.locator(DECK).first
    deck.wait_for(state="visible")
    deck.scroll_into_view_if_needed()
    assert wait_map_drawn(deck) > 20, "the Hackney map is blank"
    if SCREENSHOTS:
        # the whole map, with its choices above: scroll the page's scrolling container (not the window)
        # until the map's bottom edge is at the bottom of the screen
        app_page.evaluate(
            """sel => { const d = document.querySelector(sel).getBoundingClientRect();
                        let el = document.querySelector(sel).parentElement;
                        while (el && el.scrollHeight <= el.clientHeight) el = el.parentElement;
                        if (el) el.scrollTop += d.bottom - window.innerHeight + 8; }""",
            DECK,
        )
        app_page.wait_for_function(
            "sel => document.querySelector(sel).getBoundingClientRect().bottom <= window.innerHeight",
            arg=DECK,
        )
        wait_map_drawn(deck)
        app_page.screenshot(path=str(IMG / "hackney-hotspots.png"))
    assert app_page.traffic.outside == [], app_page.traffic.outside
