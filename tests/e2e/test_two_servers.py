"""Two servers over one data folder give the same pages (docs/PERFORMANCE.md, "Capacity").

Several servers behind a load balancer each read the same data folder. Here two servers
(``python -m csp_data.ui.serve``, as ``make run``) are started on two ports over ONE private,
already built copy of ``data/`` (CSP_DATA_DIR), and a few pages are opened on each in chromium,
each in a fresh session. The visible text of the main area and the charts' descriptions (which
carry their numbers) must be identical, and neither server may rebuild the warehouse (it was
fresh; servers only read it).

Waits are for state only (``conftest.settle``): the session connected, the script run finished
with everything it sent drawn, the element each page draws late present, and a chart drawn for
every chart description.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import (
    EXCEPTION,
    MAIN,
    MAIN_H1,
    SETTLE_TIMEOUT_MS,
    open_context_page,
    settle,
    start_server,
    wait_settled,
)

pytestmark = pytest.mark.e2e

CHART = f"{MAIN} .vega-embed"
CAPTION = f"{MAIN} [data-testid=stCaptionContainer]"
DRAWN = """([chartSel, captionSel]) => {
    const want = Array.from(document.querySelectorAll(captionSel))
        .filter(e => e.innerText.trim().startsWith("Chart description:")).length;
    const charts = Array.from(document.querySelectorAll(chartSel));
    return charts.length >= want && charts.every(e => e.querySelector("svg, canvas"));
}"""
SPITALFIELDS = "E05009333"
# (URL path and query, the heading the page draws first, an element drawn late in the run, the
# fewest charts it draws)
PAGES = (
    ("overview", "Borough scorecard", f"{MAIN} [data-testid=stDownloadButton]", 0),
    (f"ward?ward={SPITALFIELDS}", "Crime in your ward", f"{MAIN} h2:has-text('Spitalfields')", 1),
    ("targets", "Targets: are we on course for 2028?", f"{MAIN} h2:has-text('The previous plan')", 4),
)


def main_text(browser, url: str, last: str) -> tuple[list[str], list[str], str]:
    """Open ``url`` in a new session; when the run has finished with ``last`` drawn and every
    element drawn, return the main area's headings, its charts' descriptions and its visible text."""
    context, page = open_context_page(browser)
    try:
        page.goto(url, wait_until="domcontentloaded")
        # State only (conftest.settle): the run has finished and everything it sent is drawn (no
        # placeholder still waiting for its code, such as a download button's, nothing stale,
        # every chart's marks drawn); then the element this page draws late is there, and settled.
        settle(page)
        page.locator(f"{last}, {EXCEPTION}").first.wait_for(state="attached", timeout=SETTLE_TIMEOUT_MS)
        wait_settled(page)
        assert page.locator(EXCEPTION).count() == 0, page.locator(EXCEPTION).all_inner_texts()
        # A chart for every "Chart description" caption (csp_data.ui.priority draws each chart
        # with one), and Vega has drawn into each.
        page.wait_for_function(DRAWN, arg=[CHART, CAPTION], polling=100, timeout=SETTLE_TIMEOUT_MS)
        headings = [h.strip() for h in page.locator(MAIN_H1).all_inner_texts()]
        charts = [
            c or ""
            for c in page.eval_on_selector_all(CHART, "els => els.map(e => e.getAttribute('aria-label'))")
        ]
        return headings, charts, page.locator(MAIN).inner_text()
    finally:
        context.close()


def warehouse_files(data: Path) -> dict[str, tuple[int, int]]:
    return {
        str(f.relative_to(data)): (f.stat().st_size, f.stat().st_mtime_ns)
        for f in sorted((data / "warehouse").rglob("*"))
        if f.is_file()
    }


def test_two_servers_over_one_data_folder_show_the_same_pages(data_copy, tmp_path, chromium_browser):
    before = warehouse_files(data_copy)
    assert "warehouse/_build.json" in before
    # data_copy points CSP_DATA_DIR at the copy; both servers inherit it.
    logs = [tmp_path / "server_a", tmp_path / "server_b"]
    for folder in logs:
        folder.mkdir()
    first = start_server("internal", logs[0])
    try:
        second = start_server("internal", logs[1])
        try:
            assert first.port != second.port
            for server in (first, second):  # both read the copy, not the repository's data/
                environ = Path(f"/proc/{server.proc.pid}/environ").read_bytes().split(b"\0")
                assert f"CSP_DATA_DIR={data_copy}".encode() in environ
            for path, h1, last, fewest_charts in PAGES:
                a_heads, a_charts, a_text = main_text(chromium_browser, f"{first.url}/{path}", last)
                b_heads, b_charts, b_text = main_text(chromium_browser, f"{second.url}/{path}", last)
                assert a_heads[:1] == [h1], f"{path}: {a_heads}\n{first.log()[-3000:]}"
                assert b_heads == a_heads, path
                assert len(a_charts) >= fewest_charts, f"{path}: {len(a_charts)} charts"
                assert b_charts == a_charts, f"{path}: the charts differ"
                assert len(a_text) > 200, f"{path}: the main area is nearly empty: {a_text!r}"
                assert b_text == a_text, f"{path}: the two servers show different text"
        finally:
            second.stop()
    finally:
        first.stop()
    # Both servers found the copy's warehouse fresh and only read it: no file was rewritten.
    assert warehouse_files(data_copy) == before
