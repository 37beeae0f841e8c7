"""Browser tests: every registered page through a real server (``python -m csp_data.ui.serve``,
as ``make run`` starts it), in chromium.

Each page is opened by its URL (``/<url_path>``, the default page at ``/``) in a fresh session,
the test waits for the script run to finish (deadlines only, no timed assertions), then checks:
no exception box, the page's own heading and its nav entry marked current, and no request or
websocket to any host other than the local server.
"""

from __future__ import annotations

import csv
import re

import pytest

from csp_data.config.pages import PAGES, pages_for

from .conftest import EXCEPTION, MAIN_H1, assert_offline, load

pytestmark = pytest.mark.e2e

# The menu's links: Streamlit's own flat menu (one section: the public deployment), or the page
# links csp_data.ui.menu draws under section names (several sections: the internal deployment).
NAV_LINK = (
    "[data-testid=stSidebarNav] [data-testid=stSidebarNavLink], "
    ".st-key-csp-nav [data-testid=stPageLink-NavLink]"
)
# The current page's link: aria-current in Streamlit's menu; a page link to the page being shown
# has its label in bold (and a tinted background).
CURRENT_JS = """(sel) => [...document.querySelectorAll(sel)].filter(a => a.getAttribute('aria-current') === 'page'
    || (a.matches('[data-testid=stPageLink-NavLink]') && a.querySelector('p')
        && parseInt(getComputedStyle(a.querySelector('p')).fontWeight, 10) >= 600))
    .map(a => a.innerText)"""
# The h1 each known page draws; a page added later is still checked for a non-empty h1.
H1 = {
    "pages/public/summary.py": "Is Tower Hamlets getting safer?",
    "pages/public/ward_profile.py": "Crime in your ward",
    "pages/public/get_help.py": "Getting help",
    "pages/public/accessibility.py": "Accessibility statement",
    "pages/analysis/hotspots.py": "Hotspots and VOLT analysis",
    "pages/performance/targets.py": "Targets: are we on course for 2028?",
    "pages/public/overview.py": "Borough scorecard",
    "pages/public/about_data.py": "About the data",
    "pages/admin/data_status.py": "Data status",
}
DEFAULT = next((p for p in PAGES if p.default), PAGES[0])


def page_url(server, spec) -> str:
    return f"{server.url}/" if spec.default else f"{server.url}/{spec.url_path}"


def nav_titles(page) -> list[str]:
    return [t.strip() for t in page.locator(NAV_LINK).all_inner_texts()]


def current_nav_title(page) -> list[str]:
    return [t.strip() for t in page.evaluate(CURRENT_JS, NAV_LINK)]


def server_log_on_failure(server) -> str:
    return f"\n--- server log ---\n{server.log()[-4000:]}"


@pytest.mark.parametrize("spec", PAGES, ids=[p.url_path for p in PAGES])
def test_registered_page_renders_offline(internal_server, app_page, spec):
    load(app_page, page_url(internal_server, spec))
    exceptions = app_page.locator(EXCEPTION)
    assert exceptions.count() == 0, (
        f"{spec.script} shows an exception: {exceptions.all_inner_texts()}"
        + server_log_on_failure(internal_server)
    )
    headings = [h.strip() for h in app_page.locator(MAIN_H1).all_inner_texts()]
    assert len(headings) >= 1 and headings[0], headings
    if spec.script in H1:
        assert headings[0] == H1[spec.script]
    # The page's title appears, as the current entry of the navigation.
    assert current_nav_title(app_page) == [spec.title]
    assert nav_titles(app_page) == [p.title for p in pages_for("internal")]
    assert app_page.url.rstrip("/") == page_url(internal_server, spec).rstrip("/")
    assert app_page.get_by_text("Page not found").count() == 0
    assert_offline(app_page)


def test_first_deep_link_on_a_fresh_server_opens_cleanly(app_page, fresh_internal_server):
    """A bookmarked page opened first after a restart (the TTCG screen) shows that page and no
    "Page not found" dialog: the launcher stops Streamlit's legacy pages/ mode on the first run."""
    server = fresh_internal_server
    spec = next(p for p in PAGES if not p.default)
    load(app_page, page_url(server, spec))
    headings = [h.strip() for h in app_page.locator(MAIN_H1).all_inner_texts()]
    assert headings and headings[0] == H1.get(spec.script, headings[0])
    assert current_nav_title(app_page) == [spec.title]
    assert app_page.get_by_text("Page not found").count() == 0, server_log_on_failure(server)
    assert_offline(app_page)


def test_public_mode_does_not_serve_data_status(public_server, app_page):
    data_status = next(p for p in PAGES if p.title == "Data status")
    assert not data_status.public
    load(app_page, f"{public_server.url}/{data_status.url_path}")
    assert app_page.locator(EXCEPTION).count() == 0, server_log_on_failure(public_server)
    headings = [h.strip() for h in app_page.locator(MAIN_H1).all_inner_texts()]
    assert "Data status" not in headings
    # Streamlit falls back to the default page and says the requested page does not exist.
    assert headings[:1] == [H1[DEFAULT.script]]
    assert app_page.get_by_text("Page not found").count() >= 1
    assert not app_page.url.rstrip("/").endswith(data_status.url_path)
    # The nav lists exactly the public pages, and not Data status.
    titles = nav_titles(app_page)
    assert titles == [p.title for p in pages_for("public")]
    assert "Data status" not in titles
    assert_offline(app_page)


def test_each_page_has_its_own_document_title(internal_server, app_page):
    for spec in PAGES:
        load(app_page, page_url(internal_server, spec))
        assert spec.title in app_page.title(), f"{spec.url_path}: document title is {app_page.title()!r}"


def test_scorecard_csv_download_is_numeric_and_spreadsheet_safe(internal_server, app_page):
    """The Overview's download, fetched as a user gets it: numbers as numbers, and no text cell a
    spreadsheet would run as a formula (DESIGN.md: exports escape cells starting with = + - @)."""
    overview = next(p for p in PAGES if p.script == "pages/public/overview.py")
    load(app_page, page_url(internal_server, overview))
    button = app_page.locator("[data-testid=stDownloadButton] button")
    assert button.count() == 1
    with app_page.expect_download() as info:
        button.click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    with open(download.path(), encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows, "the CSV has no data rows"
    number = re.compile(r"^-?\d+(\.\d+)?([eE]-?\d+)?$")
    cells = [c for r in rows for c in r.values()] + list(rows[0].keys())
    unsafe = [c for c in cells if c and c[:1] in ("=", "+", "-", "@", "\t", "\r") and not number.match(c)]
    assert not unsafe, f"cells a spreadsheet would read as formulas: {unsafe[:5]}"
    robbery = [r for r in rows if r.get("measure") == "Robbery"]
    assert len(robbery) == 1, list(rows[0].keys())
    assert re.fullmatch(r"\d+", robbery[0]["last_12_months"]), robbery[0]["last_12_months"]
    assert_offline(app_page)
