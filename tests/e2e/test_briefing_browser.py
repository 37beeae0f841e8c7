"""The briefing pack in Debian's chromium: it asks for nothing but its own file, prints on A4 with
the cover on page 1 and each section starting a new page; with ``CSP_SCREENSHOTS=1`` its first
printed page is saved as docs/img/briefing-2026-03.png (so CI never rewrites the image).

The helpers take a Playwright browser, so the same code can make the image outside pytest:

    from playwright.sync_api import sync_playwright
    from tests.e2e.test_briefing_browser import first_page_png
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        first_page_png(b, Path("pack.html"), Path("docs/img/briefing-2026-03.png"))
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
IMAGE = REPO / "docs" / "img" / "briefing-2026-03.png"
SCREENSHOTS = os.environ.get("CSP_SCREENSHOTS") == "1"
A4_PX = (794, 1123)  # 210 x 297 mm at the CSS 96 px per inch
MARGIN_PX = (53, 45)  # the pack's @page margins, 14 mm top/bottom and 12 mm left/right
MAX_IMAGE_BYTES = 500_000

pytestmark = pytest.mark.e2e


def print_check(browser, html: Path) -> dict:
    """Open the pack as a file, print it to PDF: the URLs it asked for, its page count, and the
    height of the cover in print layout at the A4 text width (it must fit on page 1)."""
    page = browser.new_page(viewport={"width": A4_PX[0], "height": A4_PX[1]})
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url))
    page.goto(html.as_uri())
    pdf = page.pdf(format="A4", prefer_css_page_size=True, print_background=True)
    page.set_viewport_size({"width": A4_PX[0] - 2 * MARGIN_PX[1], "height": A4_PX[1]})
    page.emulate_media(media="print")
    cover = page.evaluate("document.querySelector('header').getBoundingClientRect().height")
    sections = page.evaluate(
        "Array.from(document.querySelectorAll('section')).map(s => getComputedStyle(s).breakBefore)"
    )
    page.close()
    return {
        "asked": asked,
        "pages": len(re.findall(rb"/Type\s*/Page[^s]", pdf)),
        "cover_px": cover,
        "section_breaks": sections,
    }


def first_page_png(browser, html: Path, out: Path) -> int:
    """The first printed page (the cover) as a PNG of A4 proportions; returns its size in bytes."""
    from PIL import Image

    page = browser.new_page(viewport={"width": A4_PX[0], "height": A4_PX[1]}, device_scale_factor=1)
    page.goto(html.as_uri())
    page.emulate_media(media="print")
    # Screen pixels have no pages: lay the cover out as page 1 is printed (the @page margins as
    # padding) and leave out the sections, which each start on a new page.
    page.add_style_tag(
        content=f"body {{ padding: {MARGIN_PX[0]}px {MARGIN_PX[1]}px !important; }} "
        "section { display: none !important; }"
    )
    shot = page.screenshot(clip={"x": 0, "y": 0, "width": A4_PX[0], "height": A4_PX[1]})
    page.close()
    img = Image.open(io.BytesIO(shot)).convert("RGB")
    buf = io.BytesIO()
    img.quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(buf, format="PNG", optimize=True)
    out.write_bytes(buf.getvalue())
    return len(buf.getvalue())


@pytest.fixture(scope="module")
def pack(warehouse, tmp_path_factory) -> Path:
    from csp_data.present import briefing

    out = tmp_path_factory.mktemp("briefing") / "briefing-2026-03.html"
    briefing.generate("2026-03", out)
    return out


def test_pack_prints_on_a4_offline(chromium_browser, pack):
    res = print_check(chromium_browser, pack)
    assert res["asked"] == [pack.as_uri()], f"the pack asked for more than itself: {res['asked']}"
    assert res["section_breaks"] == ["page"] * 5
    assert res["cover_px"] < A4_PX[1] - 2 * MARGIN_PX[0], "the cover fits on page 1"
    assert 6 <= res["pages"] <= 30, res["pages"]


@pytest.mark.skipif(not SCREENSHOTS, reason="set CSP_SCREENSHOTS=1 to rewrite docs/img/briefing-2026-03.png")
def test_screenshot(chromium_browser, pack):
    size = first_page_png(chromium_browser, pack, IMAGE)
    assert size < MAX_IMAGE_BYTES
