"""The Hotspots and VOLT page in chromium through a real internal server: the address bar holds
every filter (``bind="query-params"``), in both directions.

AppTest can seed bound widgets from the URL (tests/test_hotspots_page.py) but cannot see a
widget change reach the address bar: the browser's frontend writes it. So the round trip
(widget -> URL -> fresh session -> same view) is tested here, with fixtures from
tests/e2e/conftest.py (server on 127.0.0.1, Debian's chromium, every request to another host
aborted and recorded).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from csp_data.analysis import areas as analysis

from .conftest import EXCEPTION, Traffic, load, open_context_page, settle, wait_map_drawn

pytestmark = pytest.mark.e2e

MAIN_H2 = "[data-testid=stMain] h2"
DECK = "[data-testid=stMain] [data-testid=stDeckGlJsonChart]"
PATH = "/hotspots"


# ---------------------------------------------------------------- helpers


def ranked_heading(page) -> str:
    found = [
        h.strip() for h in page.locator(MAIN_H2).all_inner_texts() if h.strip().startswith("Areas ranked:")
    ]
    assert len(found) == 1, page.locator(MAIN_H2).all_inner_texts()
    return found[0]


def select_value(page, label: str) -> str:
    return page.locator(f"[data-testid=stSelectbox] input[aria-label='{label}']").input_value()


def radio_value(page, label: str) -> str:
    chosen = page.locator(
        f"[role=radiogroup][aria-label='{label}'] [data-testid=stRadioOption][data-selected=true]"
    )
    # the radio group can be re-drawn by a rerun (URL-bound widgets sync after load): wait for it
    chosen.first.wait_for(state="visible", timeout=30_000)
    assert chosen.count() == 1
    return chosen.inner_text().strip()


def query(page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def wait_for_param(page, key: str, value: str | None) -> None:
    """Wait until the address bar has ``key=value`` (or no ``key`` when value is None)."""
    page.wait_for_function(
        "([k, v]) => new URLSearchParams(location.search).get(k) === v", arg=[key, value], timeout=30_000
    )


def assert_no_exception(page, server) -> None:
    boxes = page.locator(EXCEPTION)
    assert boxes.count() == 0, f"exception shown: {boxes.all_inner_texts()}\n{server.log()[-3000:]}"


def assert_map_drawn(page) -> None:
    """The first map's deck.gl canvas is on screen and has drawn areas (many colours, not a blank box)."""
    deck = page.locator(DECK).first
    deck.wait_for(state="visible")
    deck.scroll_into_view_if_needed()
    page.wait_for_function(
        """sel => { const c = document.querySelector(sel + ' canvas#deckgl-overlay');
                    return c && c.width > 0 && c.height > 0; }""",
        arg=DECK,
    )
    box = deck.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 300, box
    colours = wait_map_drawn(deck)  # deck.gl draws over several frames: poll its image, not the clock
    assert colours > 20, f"the map is blank ({colours} colours)"


def outside_hosts(page) -> list[str]:
    """Every request or websocket that went anywhere but the local server at 127.0.0.1."""
    t: Traffic = page.traffic
    out = []
    for u in t.requests + t.websockets:
        parts = urlsplit(u)
        if parts.scheme in ("data", "blob", "about"):
            continue
        if parts.hostname != "127.0.0.1":
            out.append(u)
    return out


@pytest.fixture
def fresh_page(chromium_browser):
    """A second, independent browser context (a new Streamlit session), set up as ``app_page``."""
    context, pg = open_context_page(chromium_browser)
    yield pg
    context.close()


def label_of(choice: str, geo: str) -> str:
    return analysis.resolve_period(choice, analysis.latest_month(geo)).label


VIEW = {"category": "Burglary", "period": "Last 3 months", "areas": "Wards", "colour": "Count"}


# ---------------------------------------------------------------- (a) a URL restores the view


def test_url_restores_the_choices_and_draws_the_map(internal_server, app_page, warehouse):
    load(app_page, f"{internal_server.url}{PATH}?{urlencode(VIEW)}")
    assert_no_exception(app_page, internal_server)
    assert select_value(app_page, "Category") == "Burglary"
    assert select_value(app_page, "Period") == "Last 3 months"
    assert radio_value(app_page, "Areas") == "Wards"
    assert radio_value(app_page, "Colour the map by") == "Count"
    assert ranked_heading(app_page) == f"Areas ranked: Burglary, {label_of('Last 3 months', 'Wards')}"
    assert_map_drawn(app_page)
    q = query(app_page)
    assert (q.get("category"), q.get("period"), q.get("areas")) == (
        ["Burglary"],
        ["Last 3 months"],
        ["Wards"],
    )
    assert urlsplit(app_page.url).path == PATH


def test_the_map_page_makes_no_request_beyond_127_0_0_1(internal_server, app_page, warehouse):
    load(app_page, f"{internal_server.url}{PATH}?{urlencode(VIEW)}")
    assert_map_drawn(app_page)
    assert app_page.traffic.requests, "the request recorder is attached"
    assert outside_hosts(app_page) == []


# ---------------------------------------------------------------- (b) widget -> URL -> fresh page


def test_period_change_reaches_the_address_bar_and_a_fresh_page(
    internal_server, app_page, fresh_page, warehouse
):
    load(app_page, f"{internal_server.url}{PATH}")
    assert_no_exception(app_page, internal_server)
    assert select_value(app_page, "Period") == "Last 12 months"
    assert "period" not in query(app_page), "the default period is not written to the URL"
    before = ranked_heading(app_page)
    assert before == f"Areas ranked: Robbery, {label_of('Last 12 months', 'LSOAs')}"

    app_page.locator("[data-testid=stSelectbox] input[aria-label='Period']").click()
    app_page.get_by_role("option", name="Last 3 months", exact=True).click()
    wait_for_param(app_page, "period", "Last 3 months")
    settle(app_page)
    after = ranked_heading(app_page)
    assert after == f"Areas ranked: Robbery, {label_of('Last 3 months', 'LSOAs')}" != before
    url = app_page.url
    assert query(app_page)["period"] == ["Last 3 months"]

    load(fresh_page, url)
    assert_no_exception(fresh_page, internal_server)
    assert select_value(fresh_page, "Period") == "Last 3 months"
    assert select_value(fresh_page, "Category") == "Robbery"
    assert radio_value(fresh_page, "Areas") == "LSOAs"
    assert ranked_heading(fresh_page) == after
    assert query(fresh_page)["period"] == ["Last 3 months"]


def test_category_and_areas_round_trip(internal_server, app_page, fresh_page, warehouse):
    load(app_page, f"{internal_server.url}{PATH}?period=Latest+month")
    app_page.locator("[data-testid=stSelectbox] input[aria-label='Category']").click()
    app_page.get_by_role("option", name="Burglary", exact=True).click()
    wait_for_param(app_page, "category", "Burglary")
    settle(app_page)
    app_page.locator(
        "[role=radiogroup][aria-label='Areas'] [data-testid=stRadioOption]", has_text="Wards"
    ).click()
    wait_for_param(app_page, "areas", "Wards")
    settle(app_page)
    heading = ranked_heading(app_page)
    assert heading == f"Areas ranked: Burglary, {label_of('Latest month', 'Wards')}"
    load(fresh_page, app_page.url)
    assert (
        select_value(fresh_page, "Category"),
        select_value(fresh_page, "Period"),
        radio_value(fresh_page, "Areas"),
    ) == ("Burglary", "Latest month", "Wards")
    assert ranked_heading(fresh_page) == heading


# ---------------------------------------------------------------- (c) an invalid URL value


@pytest.mark.parametrize(
    "key, bad, label, default",
    [
        ("category", "NotACategory", "Category", "Robbery"),
        ("period", "Last week", "Period", "Last 12 months"),
    ],
)
def test_invalid_url_value_falls_back_and_leaves_the_url(
    internal_server, app_page, warehouse, key, bad, label, default
):
    load(app_page, f"{internal_server.url}{PATH}?{urlencode({key: bad, 'areas': 'Wards'})}")
    assert_no_exception(app_page, internal_server)
    assert select_value(app_page, label) == default
    wait_for_param(app_page, key, None)
    assert key not in query(app_page)
    assert query(app_page).get("areas") == ["Wards"], "the valid value beside it is kept"
    assert ranked_heading(app_page) == f"Areas ranked: Robbery, {label_of('Last 12 months', 'Wards')}"
    assert app_page.get_by_text(bad).count() == 0


# ---------------------------------------------------------------- (d) honest hot spots and the funnel plot


def test_robbery_says_no_hot_spot_and_draws_the_funnel_plot(internal_server, app_page, warehouse):
    """Robbery over the last 12 months (Mar 2025 to Feb 2026): the page says in words that no LSOA
    survives permutation and FDR, and draws the funnel plot (a Vega chart with its description)."""
    load(
        app_page,
        f"{internal_server.url}{PATH}?{urlencode({'category': 'Robbery', 'period': 'Last 12 months', 'areas': 'LSOAs'})}",
    )
    assert_no_exception(app_page, internal_server)
    main = app_page.locator("[data-testid=stMain]")
    sentence = main.get_by_text(
        "No LSOA is a hot spot after allowing for 169 areas tested at once.", exact=False
    )
    sentence.first.wait_for(state="visible", timeout=30_000)
    heading = main.locator("h2", has_text="Rates against residents (funnel plot)")
    heading.wait_for(state="attached", timeout=30_000)
    heading.scroll_into_view_if_needed()
    # Streamlit puts the chart's description on the .vega-embed container as its aria-label
    chart = main.locator(".vega-embed[aria-label^='Robbery: rate by LSOA, Mar 2025 to Feb 2026']")
    chart.wait_for(state="attached", timeout=30_000)
    chart.scroll_into_view_if_needed()
    chart.locator("canvas, svg").first.wait_for(state="visible", timeout=30_000)
    box = chart.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 200, box
    assert (
        main.get_by_text(
            "Chart description: Robbery: rate by LSOA, Mar 2025 to Feb 2026", exact=False
        ).count()
        == 1
    )
    assert outside_hosts(app_page) == []
