"""Issue 12 in a real browser: a server started with a broken secrets file serves no internal page
at any of their addresses (each shows the administrator's cause and no data) and no metrics; a
file broken while the server runs closes the pages on the next load; a partnership figure written
as Markdown/HTML/URLs shows literally on the Targets, priority 1 and Partnership figures pages, and
the browser asks no outside host for anything.

Secrets files and the partnership figure are synthetic (a provider that does not exist).
"""

from __future__ import annotations

import csv
import urllib.error
import urllib.request

import pytest

from csp_data.config.pages import PAGES
from csp_data.plan import partnership as pf
from csp_data.ui.access import CLOSED_TITLE, LOCAL_BANNER

from .conftest import (
    EXCEPTION,
    MAIN,
    MAIN_H1,
    TEST_SECRETS,
    assert_offline,
    load,
    secrets_server,
    start_server,
)
from .test_browser import NAV_LINK, page_url

pytestmark = pytest.mark.e2e
RESTRICTED = [p for p in PAGES if not p.public]
DATA_TESTIDS = (
    "stTable",
    "stVegaLiteChart",
    "stDeckGlJsonChart",
    "stMetric",
    "stDataFrame",
    "stDownloadButton",
)
BROKEN = TEST_SECRETS.replace("[access]", "[access")  # the typo from the issue: a lost bracket


def assert_closed_page(page, server, url: str, cause: str) -> None:
    load(page, url)
    assert page.locator(EXCEPTION).count() == 0, server.log()[-3000:]
    assert [h.strip() for h in page.locator(MAIN_H1).all_inner_texts()] == [CLOSED_TITLE]
    body = page.inner_text("body")
    assert cause in body and "dashboard administrator" in body
    assert "test-secret" not in body and "test-only-cookie-secret" not in body  # never a secret value
    main = page.locator(MAIN)
    for testid in DATA_TESTIDS:
        assert main.locator(f'[data-testid="{testid}"]').count() == 0, testid
    assert page.get_by_role("button", name="Sign in").count() == 0
    assert LOCAL_BANNER.split("**")[1] not in body  # closed is not local mode
    assert page.url.rstrip("/") == url.rstrip("/")


@pytest.fixture(scope="module")
def broken_server(warehouse, tmp_path_factory):
    server = secrets_server(tmp_path_factory, "streamlit_broken_secrets", BROKEN)
    yield server
    server.stop()


@pytest.mark.parametrize("spec", RESTRICTED, ids=[p.url_path for p in RESTRICTED])
def test_started_with_a_broken_secrets_file_no_internal_page_is_served(broken_server, app_page, spec):
    assert_closed_page(app_page, broken_server, page_url(broken_server, spec), "is not valid TOML")
    assert_offline(app_page)


def test_broken_server_closes_them_under_every_host_name_and_lists_them_as_closed(broken_server, app_page):
    for spec in RESTRICTED[:3]:
        url = page_url(broken_server, spec).replace("127.0.0.1", "localhost")
        assert_closed_page(app_page, broken_server, url, "is not valid TOML")
    load(app_page, page_url(broken_server, next(p for p in PAGES if p.default)))  # public pages still open
    assert [h.strip() for h in app_page.locator(MAIN_H1).all_inner_texts()] == [
        "Is Tower Hamlets getting safer?"
    ]
    links = [" ".join(t.split()) for t in app_page.locator(NAV_LINK).all_inner_texts()]
    assert [t for t in links if t.endswith("(closed)")] == [f"{p.title} (closed)" for p in RESTRICTED]
    assert "every internal page will be closed" in broken_server.log()  # the launcher said why
    assert "is not valid TOML" in broken_server.log()
    assert_offline(app_page)


def test_metrics_are_not_served(broken_server):
    try:
        with urllib.request.urlopen(f"{broken_server.url}/_stcore/metrics", timeout=10) as resp:
            body = resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        body = exc.read().decode("utf-8", "replace")
    assert "# TYPE" not in body and "cache_memory_bytes" not in body and "session" not in body.lower()[:2000]


def test_a_file_broken_while_the_server_runs_closes_the_pages(warehouse, tmp_path, app_page):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(TEST_SECRETS)
    server = start_server("internal", tmp_path, ("--secrets.files", str(secrets)))
    try:
        url = page_url(server, next(p for p in RESTRICTED if p.url_path == "data-status"))
        load(app_page, url)
        assert [h.strip() for h in app_page.locator(MAIN_H1).all_inner_texts()] == [
            "This page is for partnership staff"
        ]
        assert app_page.get_by_role("button", name="Sign in").count() >= 1
        secrets.write_text(BROKEN)  # the typo, while the server runs
        assert_closed_page(app_page, server, url, "is not valid TOML")  # the next load (one rerun)
        secrets.write_text(TEST_SECRETS)  # fixed: sign-in again, no restart
        load(app_page, url)
        assert [h.strip() for h in app_page.locator(MAIN_H1).all_inner_texts()] == [
            "This page is for partnership staff"
        ]
        assert_offline(app_page)
    finally:
        server.stop()


# --- Plain text: a partnership figure written as Markdown, HTML and URLs ---------------------------

SOURCE = "![t](http://evil.example/note.png)"
NOTE = "[click](http://evil.example/x) <img src=http://evil.example/i.png> www.evil.example"
ENTERED_BY = "synthetic officer <b>x</b>"


@pytest.fixture
def hostile_server(data_copy, tmp_path):
    figures = data_copy / "partnership" / "figures.csv"
    figures.parent.mkdir(exist_ok=True)
    with open(figures, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(
            [
                pf.COLUMNS,
                ["fire_audits", "FY2025-26", "735", "count", SOURCE, ENTERED_BY, "2026-04-10T09:00:00", NOTE],
            ]
        )
    # Local mode on purpose (a missing secrets file): every page opens without signing in.
    server = start_server("internal", tmp_path, ("--secrets.files", str(tmp_path / "no-secrets.toml")))
    yield server
    server.stop()


@pytest.mark.parametrize(
    "path, shows",
    [
        ("targets", (SOURCE, ENTERED_BY)),
        ("priority-1", (SOURCE, ENTERED_BY)),
        ("partnership-figures", (SOURCE, ENTERED_BY, NOTE)),
    ],
)
def test_partnership_markdown_shows_literally_and_nothing_leaves(hostile_server, app_page, path, shows):
    load(app_page, f"{hostile_server.url}/{path}")
    assert app_page.locator(EXCEPTION).count() == 0, hostile_server.log()[-3000:]
    # a target's source and who entered it are in its "About this target" expander (answer first)
    for summary in app_page.locator("[data-testid=stExpander] summary", has_text="About this target").all():
        summary.click()
    for text in shows:
        # shown, character for character (less the invisible joiner that stops autolinks); waits for
        # the page's last tables to draw, which can trail the script's end on a busy machine
        app_page.wait_for_function(
            "t => document.body.innerText.replaceAll('\\u2060', '').includes(t)", arg=text, timeout=60_000
        )
        body = app_page.inner_text("body").replace("\u2060", "")
        assert text in body, text
    assert app_page.locator('img[src*="evil"]').count() == 0
    assert app_page.locator('a[href*="evil"]').count() == 0
    assert app_page.locator(f"{MAIN} b").filter(has_text="x").count() == 0
    assert not [u for u in app_page.traffic.requests if "evil" in u]
    assert_offline(app_page)
