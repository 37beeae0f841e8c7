"""Priority 1 in chromium through a real internal server: the police.uk anti-social behaviour
map (pydeck, offline) draws hexagons, its table alternative is there, the police.uk-against-MPS
table shows both figures, and nothing is fetched from any host but the local server."""

from __future__ import annotations

import pytest

from .conftest import EXCEPTION, MAIN, assert_offline, load, wait_map_drawn

pytestmark = pytest.mark.e2e

DECK = f"{MAIN} [data-testid=stDeckGlJsonChart]"


def test_priority_1_asb_map_draws_offline_with_its_table(internal_server, app_page):
    load(app_page, f"{internal_server.url}/priority-1")
    assert app_page.locator(EXCEPTION).count() == 0, internal_server.log()[-3000:]
    deck = app_page.locator(DECK).first
    deck.wait_for(state="visible")
    deck.scroll_into_view_if_needed()
    app_page.wait_for_function(
        """sel => { const c = document.querySelector(sel + ' canvas#deckgl-overlay');
                    return c && c.width > 0 && c.height > 0; }""",
        arg=DECK,
    )
    box = deck.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 300, box
    # wait for the hexagons themselves: poll the drawn image (a state), not a fixed delay
    colours = wait_map_drawn(deck)
    assert colours > 20, f"the ASB map is blank ({colours} colours)"
    text = app_page.locator(MAIN).inner_text()
    assert "Anti-social behaviour (police.uk)" in text and "cannot show a trend" in text
    assert "The same ASB records by ward" in text
    assert "MPS minus police.uk" in text
    assert_offline(app_page)
