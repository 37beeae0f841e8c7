"""The TTCG projector view in chromium at the wall screen's 1920x1080.

Through a real server (``python -m csp_data.ui.serve`` on 127.0.0.1 and a free port) it checks
what AppTest cannot: the page draws without an exception, the map makes no request to any other
host (no basemap tiles; its only style is the app's own, see ``csp_data.present.maps.CompactDeck``),
the view fits one screen, and the exception list is large enough to read across a room.

On fitting one screen: Streamlit pads its main block with 96 px above and 160 px below the
content. Those 160 px are empty, so ``scrollHeight`` of the main area is content + 256 px; the
check is that every element ends inside the first 1080 px (nothing needs scrolling to be seen),
and, as a coarse guard, that ``scrollHeight`` is at most 1.15 x 1080 (content plus padding).

With ``CSP_SCREENSHOTS=1`` the test writes ``docs/img/ttcg-1920x1080.png``.
"""

from __future__ import annotations

import os

import pytest

from csp_data.config import REPO_ROOT

from .conftest import DECK, EXCEPTION, MAIN_H1, load, wait_map_drawn

pytestmark = pytest.mark.e2e

DECK_CANVAS = "[data-testid=stDeckGlJsonChart] canvas"
EXCEPTIONS_LIST = ".st-key-ttcg-exceptions"
WIDTH, HEIGHT = 1920, 1080
SCREENSHOT = REPO_ROOT / "docs" / "img" / "ttcg-1920x1080.png"
MIN_FONT_PX = 22.0

URL_FROM_BRIEF = "/ttcg?month=2026-03&categories=robbery,burglary"


def open_ttcg(page, server, path: str) -> None:
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    load(page, server.url + path)
    page.wait_for_selector(DECK_CANVAS, state="visible")
    # let deck.gl finish drawing (and try any fetch it would make): poll the map's image until its
    # areas are drawn, not the clock
    wait_map_drawn(page.locator(DECK).first)


def layout(page) -> dict:
    return page.evaluate("""() => {
        const main = document.querySelector('[data-testid=stMain]');
        const blocks = [...document.querySelectorAll('[data-testid=stMain] [data-testid=stElementContainer]')]
            .filter(el => el.getBoundingClientRect().height > 0 && !el.closest('details:not([open])')
                          && el.checkVisibility({visibilityProperty: true, opacityProperty: true}));
        const bottom = Math.max(...blocks.map(el => el.getBoundingClientRect().bottom));
        const list = document.querySelector('.st-key-ttcg-exceptions');
        const texts = list ? [...list.querySelectorAll('h1, h2, h3, h4, h5, h6, p, li')]
            .filter(el => el.innerText.trim().length > 0)
            .map(el => ({text: el.innerText.trim().slice(0, 60), px: parseFloat(getComputedStyle(el).fontSize)})) : [];
        const sidebar = document.querySelector('[data-testid=stSidebar]');
        return {scrollHeight: main.scrollHeight, clientHeight: main.clientHeight, contentBottom: bottom, texts,
                sidebarWidth: sidebar ? sidebar.getBoundingClientRect().width : 0};
    }""")


@pytest.mark.parametrize("path", [URL_FROM_BRIEF, "/ttcg"], ids=["robbery-burglary", "default"])
def test_ttcg_fits_one_screen_offline_in_large_type(internal_server, app_page, path):
    open_ttcg(app_page, internal_server, path)
    errors = app_page.locator(EXCEPTION)
    assert errors.count() == 0, errors.all_inner_texts() + [internal_server.log()[-3000:]]
    h1 = [t.strip() for t in app_page.locator(MAIN_H1).all_inner_texts()]
    assert len(h1) == 1 and h1[0].startswith("TTCG · "), h1
    if path == URL_FROM_BRIEF:
        assert h1 == ["TTCG · March 2026"]
        assert app_page.locator("[data-testid=stAlert]").count() == 0, "valid parameters gave a warning"

    # The map drew, and nothing (tiles, a style, fonts) was fetched from any host but ours.
    assert app_page.locator(DECK_CANVAS).count() >= 1
    traffic = app_page.traffic
    assert traffic.requests, "the request recorder saw nothing"
    assert not traffic.outside, f"requests left the machine: {traffic.outside}"

    info = layout(app_page)
    # One screen: every element ends within the first 1080 px; scrollHeight is that plus padding.
    assert info["contentBottom"] <= HEIGHT, info
    assert info["scrollHeight"] <= 1.15 * HEIGHT, info
    # Projector mode: the sidebar starts folded away, so the view uses the full width.
    assert info["sidebarWidth"] < 50, info
    # Large type: every line of the exception list is at least 22 px.
    assert info["texts"], "no exception list text found"
    small = [t for t in info["texts"] if t["px"] < MIN_FONT_PX]
    assert not small, small

    if path == URL_FROM_BRIEF and os.environ.get("CSP_SCREENSHOTS") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        app_page.mouse.move(WIDTH - 5, HEIGHT - 5)  # no hover tooltip in the picture
        app_page.screenshot(path=str(SCREENSHOT), full_page=False)


def test_ttcg_invalid_parameters_warn_in_the_browser(internal_server, app_page):
    open_ttcg(app_page, internal_server, "/ttcg?month=2026-99&categories=robbery,zzz&ward=E05000000")
    assert app_page.locator(EXCEPTION).count() == 0
    alerts = " ".join(app_page.locator("[data-testid=stAlert]").all_inner_texts())
    assert "is not a month" in alerts and "Unknown category" in alerts and "not a ward" in alerts, alerts
    assert not app_page.traffic.outside, app_page.traffic.outside
