"""Answer first (issue 16): at 1366x900, the first screen of the Overview, each priority page and
Targets holds the page's answer without scrolling — the scorecard grid, the priority's opening
strip of target statuses and headline changes, the table of all 16 targets.

Checked in chromium against a real internal server (tests/e2e/conftest.py): after the page has
settled, the answer's table lies wholly inside the viewport (its bottom edge above the fold) and
its rows are drawn, and it does not scroll sideways. With ``CSP_SCREENSHOTS=1`` the test also writes the first screen to
``docs/img/<name>.png`` (README and docs/ACCESSIBILITY.md show them); CI never rewrites them.
"""

from __future__ import annotations

import os

import pytest

from csp_data.config import REPO_ROOT

from .conftest import EXCEPTION, MAIN, load

pytestmark = pytest.mark.e2e

SCREENSHOTS = os.environ.get("CSP_SCREENSHOTS") == "1"
VIEWPORT = {"width": 1366, "height": 900}
TABLE = f"{MAIN} [data-testid=stTable]"
# (url path, screenshot name, how many answer tables open the page, rows the last of them holds)
PAGES = [
    ("overview", "overview", 1, 16),
    ("priority-1", "priority-1", 2, 5),
    ("priority-2", "priority-2", 2, 7),
    ("priority-3", "priority-3", 2, 3),
    ("priority-4", "priority-4", 2, 1),
    ("targets", "targets", 1, 16),
]


@pytest.mark.parametrize("path,name,tables,rows", PAGES, ids=[p[1] for p in PAGES])
def test_first_screen_holds_the_answer(request, app_page, path, name, tables, rows):
    # The Overview as residents get it (the public deployment); the plan pages are internal, and
    # the test server runs in local mode, so its sign-in banner is on their first screen too.
    server = request.getfixturevalue("public_server" if path == "overview" else "internal_server")
    app_page.set_viewport_size(VIEWPORT)
    load(app_page, f"{server.url}/{path}")
    assert app_page.locator(EXCEPTION).count() == 0, server.log()[-3000:]
    # Streamlit scrolls inside stMain: the first screen is the viewport with stMain at the top.
    assert app_page.locator(MAIN).evaluate("m => m.scrollTop") == 0
    if SCREENSHOTS:
        shot = REPO_ROOT / "docs" / "img" / f"{name}.png"
        app_page.screenshot(path=str(shot), full_page=False)
        assert shot.stat().st_size > 0
    answer = app_page.locator(TABLE)
    assert answer.count() >= tables
    last = answer.nth(tables - 1)
    assert last.locator("tbody tr").count() == rows
    for i in range(tables):
        box = answer.nth(i).bounding_box()
        assert box is not None and box["height"] > 0
        assert box["y"] >= 0 and box["y"] + box["height"] <= VIEWPORT["height"], (
            f"/{path}: answer table {i + 1} ends at {box['y'] + box['height']:.0f} px, below the "
            f"{VIEWPORT['height']} px fold"
        )
        # and it fits across: a table box that scrolls sideways would need a keyboard stop (axe:
        # scrollable-region-focusable), and part of the answer would be out of sight
        scroll = answer.nth(i).locator(":scope > div").first
        assert scroll.evaluate("b => b.scrollWidth <= b.clientWidth + 1"), (
            f"/{path}: table {i + 1} scrolls sideways"
        )
