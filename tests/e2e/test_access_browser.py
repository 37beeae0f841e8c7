"""A sign-in deployment in a real browser: a signed-out visitor following a link to a restricted
page gets that page's address, a "sign in" explanation and no data; public pages stay open; the
local-mode banner appears only without sign-in. (Roles of signed-in users: tests/test_access.py.)"""

from __future__ import annotations

import pytest

from csp_data.config.pages import PAGES
from csp_data.ui.access import LOCAL_BANNER

from .conftest import EXCEPTION, MAIN_H1, assert_offline, load
from .test_browser import nav_titles, page_url

pytestmark = pytest.mark.e2e
RESTRICTED = [p for p in PAGES if not p.public]


@pytest.mark.parametrize("spec", RESTRICTED, ids=[p.url_path for p in RESTRICTED])
def test_signed_out_deep_link_to_a_restricted_page_asks_to_sign_in(signin_server, app_page, spec):
    load(app_page, page_url(signin_server, spec))
    assert app_page.locator(EXCEPTION).count() == 0, signin_server.log()[-3000:]
    assert [h.strip() for h in app_page.locator(MAIN_H1).all_inner_texts()] == [
        "This page is for partnership staff"
    ]
    assert app_page.get_by_text("Sign in with your work account to see this page.").count() == 1
    assert app_page.get_by_role("button", name="Sign in").count() >= 1
    assert app_page.get_by_text("Page not found").count() == 0
    assert app_page.url.rstrip("/") == page_url(signin_server, spec).rstrip("/")  # the link is kept
    # Nothing of the page itself: no tables, charts or maps.
    main = app_page.locator('[data-testid="stMain"]')
    for testid in ("stTable", "stVegaLiteChart", "stDeckGlJsonChart", "stMetric", "stDataFrame"):
        assert main.locator(f'[data-testid="{testid}"]').count() == 0, testid
    assert LOCAL_BANNER.split("**")[1] not in app_page.inner_text("body")  # sign-in mode: no local banner
    assert_offline(app_page)


def test_signed_out_visitor_sees_public_pages_and_locked_entries(signin_server, app_page):
    spec = next(p for p in PAGES if p.default)
    load(app_page, page_url(signin_server, spec))
    assert app_page.locator(EXCEPTION).count() == 0
    assert [h.strip() for h in app_page.locator(MAIN_H1).all_inner_texts()] == [
        "Is Tower Hamlets getting safer?"
    ]
    # Every page is listed; restricted ones say "(sign in)" in words and open the sign-in explanation.
    titles = [" ".join(t.split()) for t in nav_titles(app_page)]
    assert titles == [p.title if p.public else f"{p.title} (sign in)" for p in PAGES], titles
    assert app_page.get_by_role("button", name="Sign in").count() == 1
    assert_offline(app_page)


def test_local_mode_shows_the_do_not_publish_banner(internal_server, app_page):
    spec = next(p for p in PAGES if p.default)
    load(app_page, page_url(internal_server, spec))
    assert app_page.get_by_text("Local mode: no sign-in.").count() == 1
    assert_offline(app_page)
