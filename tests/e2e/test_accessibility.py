"""Accessibility of the public pages (WCAG 2.2 AA), checked in chromium against the public server
(``CSP_MODE=public``, started by ``python -m csp_data.ui.serve`` like ``make run-public``).

For every page in ``pages_for("public")``, plus the ward page with a ward chosen (``?ward=``) so
its table and charts are drawn:

* axe-core (bundled with axe-playwright-python, so it runs offline) with the WCAG 2.0/2.1/2.2 A
  and AA rules, at 1280x900 and at 320x800, after every expander has been opened: any violation
  fails, and so does colour contrast that axe could not decide;
* one h1, no heading level skipped on the way down, a document title naming the page;
* reflow at 320 px: nothing but data tables (which scroll inside their own box) is wider than
  the screen;
* keyboard: Tab from the top reaches the ward picker and every expander, each stop shows a focus
  indicator, and a ward can be chosen with the keyboard alone;
* every chart is followed by its "Chart description:" caption and a "Table view of this chart"
  expander holding an HTML table;
* screenshots for docs/img/public/ when ``CSP_SCREENSHOTS=1``.

Streamlit's own markup has faults that no change to the public pages, their components or the
theme can fix: faint focus indicators, listed with the exact element and the reason in
``STREAMLIT_FOCUS``; the strict xfail tests at the end fail as soon as one of them is fixed (in
Streamlit, or in app.py), so that its exception is removed. ``STREAMLIT_MARKUP`` (axe violations
let through) is empty: axe reports no violation at all. See docs/ACCESSIBILITY.md.
"""

from __future__ import annotations

import os
import tomllib

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from csp_data.config.pages import pages_for

from .conftest import EXCEPTION, MAIN, REPO, SETTLE_TIMEOUT_MS, is_local, settle, wait_settled

pytestmark = pytest.mark.e2e

EXPANDER_SUMMARY = '[data-testid="stExpander"] summary'
CHART = '.vega-embed, [data-testid="stVegaLiteChart"]'
TABLE = '[data-testid="stTable"]'

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# runOnly on the WCAG A/AA tags and axe's best practices (heading order, ARIA role conflicts...):
# experimental rules are not run.
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": [*WCAG_TAGS, "best-practice"]},
    "resultTypes": ["violations", "incomplete"],
}
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 320, "height": 800}  # WCAG 1.4.10: 320 CSS px wide
WIDTHS = {"desktop": DESKTOP, "phone": PHONE}
SHOT_WIDTHS = {"desktop": 1280, "phone": 390}
SHOT_DIR = REPO / "docs" / "img" / "public"
SCREENSHOTS = os.environ.get("CSP_SCREENSHOTS") == "1"

WARD_CODE = "E05009333"
WARD_NAME = "Spitalfields & Banglatown"
WARD_TYPED = "Spital"

PUBLIC = pages_for("public")
WARD = next(p for p in PUBLIC if p.url_path == "ward")
# (page, query string, id): every public page, and the ward page with a ward chosen.
CASES = [(p, "", p.url_path) for p in PUBLIC] + [(WARD, f"?ward={WARD_CODE}", f"ward-{WARD_CODE}")]
CASE_IDS = [c[2] for c in CASES]

# The internal deployment (local mode: every page open, with its sectioned menu): every page at
# 1280 px, and the 320 px checks on the pages with the widest tables and charts. Staff are users too.
INTERNAL = pages_for("internal")
INTERNAL_CASES = [(p, "", f"internal-{p.url_path}") for p in INTERNAL]
NARROW_INTERNAL = ("targets", "priority-1", "priority-2", "priority-3", "priority-4")
INTERNAL_NARROW_CASES = [c for c in INTERNAL_CASES if c[0].url_path in NARROW_INTERNAL]


# Internal pages whose axe check is known to fail, with the reason (xfail, not strict). Empty: every
# internal page passes (docs/ACCESSIBILITY.md, "Internal pages"). Add a page here only with a reason.
INTERNAL_OPEN: dict[str, str] = {}


def cases(public: list, internal: list, widths: tuple[str, ...] = ()) -> list:
    """pytest params (deployment, spec, query[, width]): the public cases on the public server, the
    internal ones on the internal server; with ``widths``, each public case at each width and the
    internal ones at the first width only. Ids: the case id (and the width)."""
    out = []
    for deployment, group in (("public", public), ("internal", internal)):
        for spec, query, case_id in group:
            if not widths:
                out.append(pytest.param(deployment, spec, query, id=case_id))
            for width in widths if deployment == "public" else widths[:1]:
                marks = ()
                if case_id in INTERNAL_OPEN:
                    marks = pytest.mark.xfail(
                        strict=False, raises=AssertionError, reason=INTERNAL_OPEN[case_id]
                    )
                out.append(pytest.param(deployment, spec, query, width, id=f"{case_id}-{width}", marks=marks))
    return out


def server_for(request, deployment: str):
    """The session's ``public_server`` or ``internal_server``."""
    return request.getfixturevalue(f"{deployment}_server")


# Faults in Streamlit 1.67's own markup that no change to the public pages, their components or
# the theme can fix (docs/ACCESSIBILITY.md, "Known limitations"). A violation node is let through only when
# it is exactly the element named here; every other node of the same rule still fails.
STREAMLIT_MARKUP: dict[str, str] = {
    # st.file_uploader's drop zone (Partnership figures, internal): Streamlit 1.67 gives it
    # role="presentation" together with tabindex="-1" and an aria-label (its label), so browsers
    # ignore the role; axe's best-practice rule presentation-role-conflict. Nothing a page passes
    # changes any of the three. The file input inside it is labelled and reached by Tab.
    "presentation-role-conflict": '[data-testid="stFileUploaderDropzone"]',
    # (The sectioned sidebar menu's <ul><div><li> markup is avoided in app.py: the public
    # deployment has one section and gets a flat page list; see test_public_sidebar_nav_*.)
    # (st.table's scroll box gets no tabindex unless the table has a pixel height or width. The
    # public tables avoid the fault instead: the ward and sources tables are narrow enough for a
    # 320 px screen, and the one table that still scrolls sideways, the Overview scorecard, holds
    # links, so Tab enters it and the arrow keys scroll it; see test_wide_table_*.)
}
# Focus stops whose focus indicator Streamlit draws without an outline or box-shadow (its CSS sets
# outline: none and shows focus as a faint background tint); nothing in the allowed files can
# restyle them. test_known_streamlit_focus_fault fails as soon as one of them is fixed.
STREAMLIT_FOCUS = {
    # sidebar page links: a 15% grey tint (about 1.1:1 against the sidebar)
    "sidebar-link": '[data-testid="stSidebarNavLink"]',
    # the main area (tabindex=0: the skip link's target, and Tab stop for scrolling): nothing
    "main": MAIN,
    # each chart's toolbar (Show data, Download as PNG, Copy Vega-Lite spec, Fullscreen): fades in
    # when focused, the focused button gets a 25% grey tint (about 1.2:1 against white)
    "chart-toolbar": '[data-testid="stBaseButton-elementToolbar"]',
}


def theme() -> dict:
    with open(REPO / ".streamlit" / "config.toml", "rb") as fh:
        return tomllib.load(fh).get("theme", {})


def hex_to_rgb(value: str) -> str:
    v = value.lstrip("#")
    return f"rgb({int(v[0:2], 16)}, {int(v[2:4], 16)}, {int(v[4:6], 16)})"


# ---------------------------------------------------------------------------------------------
# Opening pages


@pytest.fixture
def open_page(chromium_browser):
    """A new browser context (a new Streamlit session) per call, offline, with traffic recorded."""
    contexts = []

    def _open(viewport: dict):
        context = chromium_browser.new_context(
            viewport=viewport, device_scale_factor=1, reduced_motion="reduce"
        )
        context.route(lambda url: not is_local(url), lambda route: route.abort())
        contexts.append(context)
        page = context.new_page()
        page.outside = []
        page.on("request", lambda req: None if is_local(req.url) else page.outside.append(req.url))
        page.on("websocket", lambda ws: None if is_local(ws.url) else page.outside.append(ws.url))
        page.set_default_timeout(60_000)
        return page

    yield _open
    for context in contexts:
        context.close()


def url_for(server, spec, query: str = "") -> str:
    return (f"{server.url}/" if spec.default else f"{server.url}/{spec.url_path}") + query


def wait_idle(page) -> None:
    """The script run has finished, everything it sent is drawn, and every chart on show has its
    marks laid out with a width (after an expander opened or the viewport changed, they are laid
    out again). A chart inside a closed expander is not on show: it has no box until opened."""
    wait_settled(page)
    # polling by interval, not animation frame: with the viewport as tall as a long page
    # (15,000 px and more at phone width) chromium may not run animation frames
    page.wait_for_function(
        """(sel) => [...document.querySelectorAll(sel)].every(c => {
               if (c.getClientRects().length === 0) return true;  // not on show (closed expander)
               const mark = c.querySelector('svg, canvas');
               return mark && mark.getBoundingClientRect().width > 0; })""",
        arg=CHART,
        polling=100,
        timeout=SETTLE_TIMEOUT_MS,
    )
    page.evaluate("() => document.fonts.ready.then(() => true)")


def load(page, server, spec, query: str = "") -> None:
    page.goto(url_for(server, spec, query), wait_until="domcontentloaded")
    settle(page)
    wait_idle(page)
    if page.locator(EXCEPTION).count():  # pytest.fail, not assert: the xfail tests expect AssertionError only
        pytest.fail(
            f"{spec.script} shows an exception: {page.locator(EXCEPTION).all_inner_texts()}\n"
            f"{server.log()[-3000:]}"
        )


def expand_all(page) -> int:
    """Open every expander (so the table views are checked too); returns how many there are.
    A DOM click on each closed summary: the same event a mouse click sends, without Playwright
    scrolling to each of them in turn. (The keyboard test opens them with Enter instead.)"""
    n = page.locator(EXPANDER_SUMMARY).count()
    for _ in range(3):  # a click lost while the page redraws is sent again
        closed = page.evaluate(
            """(sel) => { const closed = [...document.querySelectorAll(sel)]
            .filter(s => !s.parentElement.open); closed.forEach(s => s.click()); return closed.length; }""",
            EXPANDER_SUMMARY,
        )
        if not closed:
            break
        try:  # wait for the state: every expander open
            page.wait_for_function(
                "(sel) => [...document.querySelectorAll(sel)].every(s => s.parentElement.open)",
                arg=EXPANDER_SUMMARY,
                polling=100,
                timeout=30_000,
            )
        except PlaywrightTimeoutError:
            pass
    still = page.evaluate(
        "(sel) => [...document.querySelectorAll(sel)].filter(s => !s.parentElement.open)"
        ".map(s => s.innerText)",
        EXPANDER_SUMMARY,
    )
    if still:
        pytest.fail(f"expanders that would not open: {still}")
    wait_idle(page)
    return n


def assert_offline(page) -> None:
    assert not page.outside, f"requests left the machine: {page.outside}"


# ---------------------------------------------------------------------------------------------
# axe-core


def node_is(page, target: list[str], selector: str) -> bool:
    """True when the node axe names by ``target`` is exactly an element matching ``selector``."""
    if len(target) != 1:  # inside an iframe or shadow root: never one of the known elements
        return False
    return page.evaluate(
        "([t, s]) => { const e = document.querySelector(t); return !!e && e.matches(s); }",
        [target[0], selector],
    )


CONTRAST_ONLY = {
    "runOnly": {"type": "rule", "values": ["color-contrast"]},
    "resultTypes": ["violations", "incomplete", "passes"],
}


def page_height(page) -> int:
    """The height the page needs to show everything without scrolling: Streamlit scrolls inside
    stMain and the sidebar, so the document itself is never taller than the viewport. A collapsed
    sidebar (phone widths) has no width and does not count."""
    return page.evaluate(
        """(main) => {
        const side = document.querySelector('[data-testid=stSidebar]');
        const open = side && side.getBoundingClientRect().width > 0 && side.getBoundingClientRect().right > 0;
        return Math.ceil(Math.max(
            document.querySelector(main).scrollHeight,
            open ? side.querySelector('[data-testid=stSidebarContent]').scrollHeight : 0,
            document.documentElement.scrollHeight)); }""",
        MAIN,
    )


def set_height(page, height: int) -> None:
    page.set_viewport_size({"width": page.viewport_size["width"], "height": height})
    wait_idle(page)


# Contrast measured in the page, for nodes axe leaves undecided, and only where the answer is
# unambiguous: nothing else drawn on top of the node's centre, no text shadow, no background image,
# and no opacity over a translucent background. HTML text uses `color`, SVG text (chart labels)
# `fill` and `fill-opacity`. Returns, per target, {ratio, needed, fg, bg} or {why: not measurable}.
MEASURE_CONTRAST_JS = r"""(targets) => targets.map((t) => {
    const e = document.querySelector(t);
    if (!e) return {why: 'node gone'};
    const rgba = c => { const m = /rgba?\(([^)]+)\)/.exec(c || ''); if (!m) return null;
        const v = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
        return {r: v[0], g: v[1], b: v[2], a: v.length > 3 ? v[3] : 1}; };
    e.scrollIntoView({block: 'center', inline: 'center'});   // e.g. a cell of a table scrolled sideways
    const cs = getComputedStyle(e);
    const svgText = e instanceof SVGElement;
    if (cs.textShadow !== 'none') return {why: 'text shadow'};
    const box = e.getBoundingClientRect();
    const top = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
    // SVG labels have pointer-events: none, so the hit test returns their <svg> when nothing covers them
    const clear = top && (top === e || e.contains(top) || (svgText && top === e.ownerSVGElement));
    if (!clear) return {why: `covered by ${top ? top.tagName : 'nothing'}`};
    let opacity = svgText ? parseFloat(cs.fillOpacity) : 1, layers = [], base = null;
    // SVG text drawn on the chart's own marks (a heatmap cell, a bar, a shaded band): the filled
    // shapes drawn before the text in the same SVG whose fill holds the text's centre lie between
    // it and the page's background (they are no ancestors, and marks take no part in the hit test).
    const marks = [];
    if (svgText && e.ownerSVGElement) {
        const pt = new DOMPoint(box.left + box.width / 2, box.top + box.height / 2);
        for (const s of e.ownerSVGElement.querySelectorAll('path, rect, circle, ellipse, polygon')) {
            if (!(s.compareDocumentPosition(e) & Node.DOCUMENT_POSITION_FOLLOWING)) continue;
            const ss = getComputedStyle(s);
            if (ss.fill === 'none' || ss.display === 'none' || ss.visibility !== 'visible') continue;
            const m = s.getScreenCTM();
            if (!m || !s.isPointInFill(pt.matrixTransform(m.inverse()))) continue;
            const fill = rgba(ss.fill);
            if (!fill) return {why: `a mark under the text is filled with ${ss.fill}`};
            let a = fill.a * parseFloat(ss.fillOpacity);
            for (let p = s; p && p !== e.ownerSVGElement; p = p.parentElement) a *= parseFloat(getComputedStyle(p).opacity);
            if (a >= 1) marks.length = 0;  // an opaque mark hides whatever is under it
            if (a > 0) marks.push({...fill, a});
        }
    }
    for (let p = e; p; p = p.parentElement) {
        const s = getComputedStyle(p);
        if (s.backgroundImage !== 'none') return {why: `background image on ${p.tagName}`};
        const bg = rgba(s.backgroundColor);
        if (bg && bg.a >= 1) {
            if (parseFloat(s.opacity) < 1) return {why: 'translucent background element'};
            base = bg; break;
        }
        opacity *= parseFloat(s.opacity);
        if (bg && bg.a > 0) layers.unshift(bg);
    }
    if (!base) base = {r: 255, g: 255, b: 255, a: 1};
    if (layers.length && opacity < 1) return {why: 'opacity over a translucent background'};
    const over = (f, a, b) => ({r: f.r * a + b.r * (1 - a), g: f.g * a + b.g * (1 - a), b: f.b * a + b.b * (1 - a)});
    let bg = base; for (const l of layers) bg = over(l, l.a, bg);
    for (const m of marks) bg = over(m, m.a, bg);
    const fgc = rgba(svgText ? cs.fill : cs.color);
    if (!fgc) return {why: `text colour ${svgText ? cs.fill : cs.color} is not a plain colour`};
    const fg = over(fgc, fgc.a * opacity, bg);
    const lum = c => ['r', 'g', 'b'].map(k => c[k] / 255)
        .map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)
        .reduce((acc, v, i) => acc + v * [0.2126, 0.7152, 0.0722][i], 0);
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const px = parseFloat(cs.fontSize), bold = parseInt(cs.fontWeight, 10) >= 700;
    const hex = c => '#' + ['r', 'g', 'b'].map(k => Math.round(c[k]).toString(16).padStart(2, '0')).join('');
    return {ratio: (hi + 0.05) / (lo + 0.05), needed: (px >= 24 || (bold && px >= 18.66)) ? 3 : 4.5,
            fg: hex(fg), bg: hex(bg)};
})"""


CONTRAST_RULE = {
    "id": "color-contrast",
    "impact": "serious",
    "help": "Elements must meet minimum color contrast ratio thresholds",
}


def describe(rule: dict, nodes: list[dict]) -> str:
    lines = [f"- {rule['id']} ({rule.get('impact')}): {rule.get('help', '')}"]
    for n in nodes:
        lines.append(f"    target {n['target']}: {n.get('failureSummary', '').strip()}".replace("\n", " | "))
        lines.append(f"      html {n.get('html', '')[:200]}")
    return "\n".join(lines)


def scan(page) -> tuple[list[dict], dict[tuple, dict]]:
    """axe on the page as it is now: (violations, colour-contrast nodes axe left undecided)."""
    result = Axe().run(page, options=AXE_OPTIONS).response
    undecided = {
        tuple(n["target"]): n for r in result["incomplete"] if r["id"] == "color-contrast" for n in r["nodes"]
    }
    return result["violations"], undecided


def decide_contrast(
    page, recheck: dict[tuple, dict], measure: dict[tuple, dict]
) -> tuple[list[str], list[str]]:
    """Decide colour contrast axe left undecided, with the viewport as tall as the page.

    axe-core 4.12 leaves nodes undecided for reasons of its own: "Element midpoint exceeds the
    grid bounds" deep inside Streamlit's scrolling main area (dequelabs/axe-core#4253), "bgOverlap"
    for a sidebar caption nothing covers (its stacking order with opacity is wrong), "imgNode" for
    chart labels and "shortTextContent" for one-character cells such as "3". ``recheck`` nodes
    (undecided at the normal viewport) go to axe again first, now that nothing is scrolled;
    whatever is still undecided, and ``measure`` (undecided at the tall viewport already), is
    measured with MEASURE_CONTRAST_JS. Returns (failures, notes)."""
    failures, notes = [], []
    measure = dict(measure)
    todo = [t for t in recheck if t not in measure]
    if todo:
        again = page.evaluate(
            "([ctx, opts]) => axe.run(ctx, opts)", [{"include": [list(t) for t in todo]}, CONTRAST_ONLY]
        )
        for rule in again["violations"]:
            failures.append(
                "colour contrast (decided by axe once nothing was scrolled):\n"
                + describe(rule, rule["nodes"])
            )
        for rule in again["incomplete"]:
            measure.update({tuple(n["target"]): n for n in rule["nodes"]})
        passed = sum(len(r["nodes"]) for r in again["passes"])
        if passed:
            notes.append(
                f"colour contrast of {passed} node(s) decided by axe once nothing was scrolled: pass"
            )
    if measure:
        targets = list(measure)
        results = page.evaluate(MEASURE_CONTRAST_JS, [t[0] for t in targets])
        lowest = None
        for t, m in zip(targets, results):
            node = measure[t]
            if "why" in m:
                failures.append(
                    f"colour contrast axe left undecided and that cannot be measured ({m['why']}):\n"
                    + describe(CONTRAST_RULE, [node])
                )
            elif m["ratio"] < m["needed"]:
                failures.append(
                    f"colour contrast {m['ratio']:.2f}:1 ({m['fg']} on {m['bg']}), needs {m['needed']}:1 "
                    "(measured: axe left it undecided):\n" + describe(CONTRAST_RULE, [node])
                )
            elif lowest is None or m["ratio"] < lowest[0]:
                lowest = (m["ratio"], m["fg"], m["bg"], node.get("html", "")[:80])
        if lowest:
            notes.append(
                f"colour contrast of {len(targets)} node(s) axe left undecided, measured: lowest "
                f"{lowest[0]:.2f}:1 ({lowest[1]} on {lowest[2]}) for {lowest[3]}"
            )
    return failures, notes


def axe_problems(page, viewport: dict) -> tuple[list[str], list[str]]:
    """axe at ``viewport`` and again with the viewport as tall as the page (axe treats whatever is
    scrolled out of view inside Streamlit's sidebar as hidden and skips its contrast); violations
    of both, less the known Streamlit faults; undecided contrast decided. Returns (failures, notes)."""
    violations, undecided = scan(page)
    set_height(page, max(page_height(page), viewport["height"]))
    tall_violations, tall_undecided = scan(page)
    failures, notes = [], []
    merged: dict[str, tuple[dict, dict]] = {}
    for rule in violations + tall_violations:
        entry = merged.setdefault(rule["id"], (rule, {}))
        for n in rule["nodes"]:
            entry[1].setdefault(tuple(n["target"]), n)
    for rule_id, (rule, nodes) in merged.items():
        allowed = STREAMLIT_MARKUP.get(rule_id)
        bad = [n for n in nodes.values() if not (allowed and node_is(page, n["target"], allowed))]
        if len(bad) < len(nodes):
            notes.append(f"known Streamlit fault {rule_id} on {allowed} ({len(nodes) - len(bad)} node(s))")
        if bad:
            failures.append(describe(rule, bad))
    more_failures, more_notes = decide_contrast(page, undecided, tall_undecided)
    return failures + more_failures, notes + more_notes


@pytest.mark.parametrize("deployment,spec,query,width", cases(CASES, INTERNAL_CASES, tuple(WIDTHS)))
def test_axe_wcag_22_aa(request, open_page, deployment, spec, query, width):
    page = open_page(WIDTHS[width])
    load(page, server_for(request, deployment), spec, query)
    expand_all(page)
    failures, notes = axe_problems(page, WIDTHS[width])
    for note in notes:
        print(f"{deployment} /{spec.url_path}{query} {width}: {note}")
    assert not failures, (
        f"axe-core found problems on {deployment} /{spec.url_path}{query} at {width}:\n" + "\n".join(failures)
    )
    assert_offline(page)


# ---------------------------------------------------------------------------------------------
# Headings and title


HEADINGS_JS = """() => [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')]
    .filter(h => h.getClientRects().length > 0 && !h.closest('[aria-hidden=true]'))
    .map(h => [Number(h.tagName[1]), h.textContent.trim()])"""


def heading_problems(headings: list[list]) -> list[str]:
    problems = []
    h1 = [t for level, t in headings if level == 1]
    if len(h1) != 1:
        problems.append(f"{len(h1)} h1 elements: {h1}")
    if headings and headings[0][0] != 1:
        problems.append(f"the first heading is h{headings[0][0]}, not h1: {headings[0][1]!r}")
    for (prev, pt), (level, t) in zip(headings, headings[1:]):
        if level > prev + 1:
            problems.append(f"h{prev} {pt!r} is followed by h{level} {t!r}: level h{prev + 1} skipped")
    return problems


@pytest.mark.parametrize("deployment,spec,query", cases(CASES, INTERNAL_CASES))
def test_headings_and_title(request, open_page, deployment, spec, query):
    page = open_page(DESKTOP)
    load(page, server_for(request, deployment), spec, query)
    expand_all(page)
    headings = page.evaluate(HEADINGS_JS)
    problems = heading_problems(headings)
    assert not problems, f"{deployment} /{spec.url_path}{query} headings {headings}:\n" + "\n".join(problems)
    title = page.title()
    assert spec.title in title and title.strip() != "Streamlit", f"document title {title!r}"
    assert_offline(page)


def test_heading_check_catches_a_skipped_level():
    assert heading_problems([[1, "a"], [2, "b"], [3, "c"], [2, "d"], [3, "e"]]) == []
    assert heading_problems([[1, "a"], [3, "b"]])
    assert heading_problems([[1, "a"], [1, "b"]])
    assert heading_problems([[2, "a"], [1, "b"]])


# ---------------------------------------------------------------------------------------------
# Reflow


# Elements inside st.table are not measured: a data table needs its columns side by side, so it
# scrolls horizontally inside its own box (WCAG 1.4.10 lets two-dimensional tables do so); the
# box itself must fit, and is measured. Nothing else is excluded.
REFLOW_JS = """([main, table]) => {
    const W = window.innerWidth, m = document.querySelector(main), wide = [];
    for (const e of m.querySelectorAll('*')) {
        if (e.closest(table) && !e.matches(table)) continue;
        const r = e.getBoundingClientRect();
        if (r.width === 0 || r.height === 0 || getComputedStyle(e).visibility === 'hidden') continue;
        if (r.right > W + 1 || r.left < -1)
            wide.push(`${e.tagName.toLowerCase()}[data-testid=${e.getAttribute('data-testid')}] ` +
                      `${Math.round(r.left)}..${Math.round(r.right)}: ${(e.textContent || '').trim().slice(0, 60)}`);
    }
    return {doc: document.documentElement.scrollWidth, body: document.body.scrollWidth,
            main: [m.scrollWidth, m.clientWidth], wide: wide.slice(0, 15), n: wide.length};
}"""


@pytest.mark.parametrize("deployment,spec,query", cases(CASES, INTERNAL_NARROW_CASES))
def test_reflow_at_320px(request, open_page, deployment, spec, query):
    page = open_page(PHONE)
    load(page, server_for(request, deployment), spec, query)
    expand_all(page)
    r = page.evaluate(REFLOW_JS, [MAIN, TABLE])
    assert r["doc"] <= PHONE["width"] and r["body"] <= PHONE["width"], r
    assert r["main"][0] <= r["main"][1], f"the main area scrolls sideways: {r}"
    assert r["n"] == 0, f"{r['n']} element(s) wider than the {PHONE['width']} px screen:\n" + "\n".join(
        r["wide"]
    )
    assert_offline(page)


# ---------------------------------------------------------------------------------------------
# Keyboard


STOP_JS = """([summary, table]) => {
    const e = document.activeElement;
    if (!e || e === document.body || e === document.documentElement) return null;
    if (!e.dataset.a11yStop) e.dataset.a11yStop = String(document.querySelectorAll('[data-a11y-stop]').length + 1);
    const cs = getComputedStyle(e);
    const ring = (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0) ||
                 (cs.boxShadow && cs.boxShadow !== 'none');
    // the bordered box drawn round a select's text input (the nearest ancestor with a border)
    let frame = null;
    for (let p = e.parentElement; p && !frame && p.closest('[data-testid=stSelectbox]'); p = p.parentElement)
        if (parseFloat(getComputedStyle(p).borderTopWidth) > 0) frame = p;
    return {
        id: e.dataset.a11yStop, tag: e.tagName.toLowerCase(), testid: e.getAttribute('data-testid'),
        label: e.getAttribute('aria-label') || (e.innerText || '').trim().slice(0, 50),
        ring: ring, outline: `${cs.outlineStyle} ${cs.outlineWidth}`, shadow: cs.boxShadow,
        frame_border: frame ? getComputedStyle(frame).borderTopColor : null,
        summary: e.matches(summary), combobox: e.getAttribute('role') === 'combobox',
        table_box: e.closest(table) ? [...document.querySelectorAll(table)].indexOf(e.closest(table)) : null,
    };
}"""


def tab_walk(page, open_expanders: bool = False, limit: int = 400) -> list[dict]:
    """Press Tab from the top of the page until focus leaves the page or comes round again.
    With ``open_expanders``, each expander reached is opened with Enter (and must open), so the
    walk goes on through its content: the table views are reached as well."""
    stops, seen = [], set()
    for _ in range(limit):
        page.keyboard.press("Tab")
        stop = page.evaluate(STOP_JS, [EXPANDER_SUMMARY, TABLE])
        if stop is None:
            if stops:
                break
            continue
        if stop["id"] in seen:
            break
        seen.add(stop["id"])
        stops.append(stop)
        if open_expanders and stop["summary"]:
            page.keyboard.press("Enter")
            page.wait_for_function(
                "() => document.activeElement.parentElement.open", polling=50, timeout=30_000
            )
            stop["opened"] = True
    else:
        pytest.fail(f"focus did not come round in {limit} Tab presses")
    return stops


def visible_focus(stop: dict, primary: str) -> bool:
    """An outline or box-shadow on the focused element; for the text input of a select box, the
    box's frame, whose border turns the theme's primary colour while the input has focus."""
    if stop["ring"]:
        return True
    return stop["combobox"] and stop["frame_border"] == primary


def stop_matches(page, stop: dict, selector: str) -> bool:
    return page.evaluate(
        '([id, s]) => document.querySelector(`[data-a11y-stop="${id}"]`).matches(s)', [stop["id"], selector]
    )


def is_streamlit_focus(page, stop: dict) -> bool:
    return any(stop_matches(page, stop, sel) for sel in STREAMLIT_FOCUS.values())


@pytest.mark.parametrize("width", list(WIDTHS), ids=list(WIDTHS))
@pytest.mark.parametrize("spec,query,case_id", CASES, ids=CASE_IDS)
def test_keyboard_reaches_every_control(public_server, open_page, spec, query, case_id, width):
    page = open_page(WIDTHS[width])
    load(page, public_server, spec, query)
    stops = tab_walk(page, open_expanders=True)
    where = f"/{spec.url_path}{query} at {width}"
    reached = "\n".join(f"  {s['tag']} {s['testid'] or ''} {s['label']!r}" for s in stops)

    summaries = page.locator(EXPANDER_SUMMARY).count()
    assert sum(s["summary"] for s in stops) == summaries, (
        f"{where}: Tab does not reach all {summaries} expanders:\n{reached}"
    )
    if spec is WARD:
        assert any(s["combobox"] and s["label"] == "Ward" for s in stops), (
            f"{where}: Tab never reaches the ward picker:\n{reached}"
        )

    primary = hex_to_rgb(theme()["primaryColor"])
    unseen = [s for s in stops if not visible_focus(s, primary) and not is_streamlit_focus(page, s)]
    assert not unseen, f"{where}: focus stops without a visible focus indicator:\n" + "\n".join(
        f"  {s['tag']} {s['testid'] or ''} {s['label']!r}: outline {s['outline']}, box-shadow {s['shadow']}"
        for s in unseen
    )

    # Every table box that scrolls sideways, in the open expanders too, can be reached (the box
    # itself, or something in it), so a keyboard user can scroll it (see
    # test_wide_table_scrolls_with_the_keyboard).
    scrolling = page.evaluate(
        """(t) => [...document.querySelectorAll(t)].map((b, i) => [b, i])
        .filter(([b]) => b.firstElementChild.scrollWidth > b.firstElementChild.clientWidth + 1)
        .map(([, i]) => i)""",
        TABLE,
    )
    boxes = {s["table_box"] for s in stops if s["table_box"] is not None}
    missing = [b for b in scrolling if b not in boxes]
    print(
        f"{where}: {len(stops)} Tab stops, {sum(s.get('opened', False) for s in stops)} expanders opened with Enter, "
        f"{len(scrolling)} table(s) scrolling sideways, all reached: {not missing}"
    )
    assert not missing, f"{where}: table(s) {missing} scroll sideways but Tab never reaches them"
    assert_offline(page)


def test_internal_menu_keyboard_order(internal_server, open_page):
    """The internal deployment's menu (csp_data.ui.menu): Tab from the top reaches the skip link
    first, then every page link in the menu's order, before anything in the main area. (Their
    faint focus tint is Streamlit's, as for the public menu: STREAMLIT_FOCUS["sidebar-link"].)"""
    page = open_page(DESKTOP)
    load(page, internal_server, next(p for p in INTERNAL if p.url_path == "targets"))
    stops = tab_walk(page)
    assert stops[0]["testid"] == "stSkipToContent", stops[0]
    links = [s["label"] for s in stops if s["testid"] == "stPageLink-NavLink"]
    assert links == [p.title for p in INTERNAL], links
    last_link = max(i for i, s in enumerate(stops) if s["testid"] == "stPageLink-NavLink")
    in_main = [i for i, s in enumerate(stops) if stop_matches(page, s, f"{MAIN} *")]
    assert in_main and min(in_main) > last_link, "a main-area control comes before the menu"
    assert_offline(page)


def test_ward_can_be_chosen_with_the_keyboard(public_server, open_page):
    page = open_page(DESKTOP)
    load(page, public_server, WARD)
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate(
            "() => document.activeElement.getAttribute('role') === 'combobox' && "
            "document.activeElement.getAttribute('aria-label') === 'Ward'"
        ):
            break
    else:
        pytest.fail("Tab never reached the ward picker")
    page.keyboard.type(WARD_TYPED)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name=WARD_NAME, level=2).wait_for()
    wait_idle(page)
    assert f"ward={WARD_CODE}" in page.url
    assert page.locator(f"{MAIN} h2", has_text=WARD_NAME).count() == 1
    assert_offline(page)


# ---------------------------------------------------------------------------------------------
# Charts


CHARTS_JS = """([chart, summary]) => {
    const all = [...document.querySelectorAll(chart)];
    const charts = all.filter(c => !all.some(o => o !== c && o.contains(c)));
    return charts.map(c => {
        const label = c.getAttribute('aria-label') || '';
        const box = c.closest('[data-testid=stElementContainer]');
        const caption = box && box.nextElementSibling;
        const after = caption && caption.nextElementSibling;
        const expander = after && (after.matches('[data-testid=stExpander]') ? after : after.querySelector('[data-testid=stExpander]'));
        const sum = expander && expander.querySelector('summary');
        return {
            chart: label.slice(0, 80),
            caption: caption ? caption.innerText.trim().slice(0, 80) : null,
            is_caption: !!(caption && caption.querySelector('[data-testid=stCaptionContainer]')),
            expander: sum ? sum.innerText.replace(/keyboard_arrow_\\w+/g, '').trim() : null,
            tables: expander ? expander.querySelectorAll('table').length : 0,
        };
    });
}"""


@pytest.mark.parametrize("spec,query,case_id", CASES, ids=CASE_IDS)
def test_every_chart_has_a_description_and_a_table(public_server, open_page, spec, query, case_id):
    page = open_page(DESKTOP)
    load(page, public_server, spec, query)
    expand_all(page)
    charts = page.evaluate(CHARTS_JS, [CHART, EXPANDER_SUMMARY])
    if case_id == f"ward-{WARD_CODE}":
        assert charts, "the ward profile draws no chart: the check would prove nothing"
    bad = [
        c
        for c in charts
        if not (
            c["is_caption"]
            and (c["caption"] or "").startswith("Chart description:")
            and c["expander"] == "Table view of this chart"
            and c["tables"] >= 1
        )
    ]
    assert not bad, f"/{spec.url_path}{query}: charts without a description and table view:\n" + "\n".join(
        map(str, bad)
    )
    assert_offline(page)


# ---------------------------------------------------------------------------------------------
# Screenshots for docs/img/public/ (CSP_SCREENSHOTS=1 only, so CI never rewrites them)


@pytest.mark.skipif(not SCREENSHOTS, reason="set CSP_SCREENSHOTS=1 to rewrite docs/img/public/*.png")
@pytest.mark.parametrize("device", list(SHOT_WIDTHS), ids=list(SHOT_WIDTHS))
@pytest.mark.parametrize("spec,query,case_id", CASES, ids=CASE_IDS)
def test_screenshot(public_server, open_page, spec, query, case_id, device):
    width = SHOT_WIDTHS[device]
    page = open_page({"width": width, "height": 900})
    load(page, public_server, spec, query)
    # Streamlit scrolls inside stMain, so a full-page screenshot shows one viewport: make the
    # viewport as tall as the content, let it lay out again, and measure until it is stable.
    height = 0
    for _ in range(5):
        new = page_height(page)
        if new == height:
            break
        height = new
        page.set_viewport_size({"width": width, "height": height})
        wait_idle(page)
    SHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SHOT_DIR / f"{case_id}-{device}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 0
    assert_offline(page)


# ---------------------------------------------------------------------------------------------
# Known Streamlit faults: these fail today (xfail, on AssertionError only: anything else, such as
# a page that does not load, is a real failure). strict=True turns a fix upstream (or in app.py)
# into a failure here, telling whoever sees it to remove the exception above.


# The sidebar menu: Streamlit's flat list in the public deployment, section names and page links
# (csp_data.ui.menu) in the internal one, where Streamlit 1.67's sectioned menu (<ul><div><li>)
# failed axe's list and listitem rules on every page.
MENU_LINKS = {
    "public": '[data-testid="stSidebarNav"] [data-testid="stSidebarNavLink"]',
    "internal": '.st-key-csp-nav [data-testid="stPageLink-NavLink"]',
}


@pytest.mark.parametrize("deployment", ["public", "internal"])
def test_sidebar_nav_is_valid_list_markup(request, open_page, deployment):
    """Every page is in the menu, and the sidebar passes axe's list and listitem rules."""
    page = open_page(DESKTOP)
    load(page, server_for(request, deployment), PUBLIC[0])
    titles = [" ".join(t.split()) for t in page.locator(MENU_LINKS[deployment]).all_inner_texts()]
    assert titles == [p.title for p in pages_for(deployment)], titles
    if deployment == "internal":  # the section names, in order, before their pages
        sections = page.locator(".st-key-csp-nav [data-testid=stMarkdownContainer] strong").all_inner_texts()
        assert sections == list(dict.fromkeys(p.section for p in INTERNAL)), sections
    page.evaluate(Axe().axe_script)
    result = page.evaluate(
        "([ctx, opts]) => axe.run(ctx, opts)",
        [
            {"include": [['[data-testid="stSidebar"]']]},
            {"runOnly": {"type": "rule", "values": ["list", "listitem"]}},
        ],
    )
    assert not result["violations"], [v["id"] for v in result["violations"]]
    assert result["passes"] or deployment == "internal", "axe checked no list in the public menu"


TABLE_CASES = [c for c in CASES if c[2] in ("overview", "about-data", f"ward-{WARD_CODE}")]


@pytest.mark.parametrize("width", list(WIDTHS), ids=list(WIDTHS))
@pytest.mark.parametrize("spec,query,case_id", TABLE_CASES, ids=[c[2] for c in TABLE_CASES])
def test_wide_tables_are_reachable_or_fit(public_server, open_page, spec, query, case_id, width):
    """No st.table scroll box fails axe's scrollable-region-focusable: a table either fits the
    screen or holds a link, so a keyboard user can enter it (Streamlit 1.67 gives the box itself
    no tabindex)."""
    page = open_page(WIDTHS[width])
    load(page, public_server, spec, query)
    expand_all(page)
    assert page.locator(TABLE).count(), f"{case_id} draws no table"
    page.evaluate(Axe().axe_script)
    result = page.evaluate(
        "([ctx, opts]) => axe.run(ctx, opts)",
        [
            {"include": [[f"{TABLE} > div"]]},
            {"runOnly": {"type": "rule", "values": ["scrollable-region-focusable"]}},
        ],
    )
    assert not result["violations"], [n["target"] for v in result["violations"] for n in v["nodes"]]


def test_wide_table_scrolls_with_the_keyboard(public_server, open_page):
    """The Overview scorecard is wider than a phone: Tab reaches a link in it, and the arrow keys
    then scroll the table sideways."""
    page = open_page(PHONE)
    load(page, public_server, next(p for p in PUBLIC if p.url_path == "overview"))
    # the scorecard's full table (the last one whose links name the priorities; the peer tables
    # after it link measure names)
    box = page.locator(f"{TABLE} > div").filter(has=page.locator("a", has_text="Priority 1")).last
    assert box.evaluate("b => b.scrollWidth > b.clientWidth + 1"), "the scorecard no longer scrolls sideways"
    link = box.locator("a").first
    assert link.inner_text().strip() == "Priority 1"
    for _ in range(400):  # Tab from the top until focus is inside the table
        page.keyboard.press("Tab")
        if box.evaluate("b => b.contains(document.activeElement)"):
            break
    else:
        pytest.fail("Tab never reached the scorecard table")
    before = box.evaluate("b => b.scrollLeft")
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    try:  # wait for the state: the box scrolled (the assertion below says when it never did)
        page.wait_for_function(
            "([b, before]) => b.scrollLeft > before",
            arg=[box.element_handle(), before],
            polling=100,
            timeout=30_000,
        )
    except PlaywrightTimeoutError:
        pass
    assert box.evaluate("b => b.scrollLeft") > before, "ArrowRight did not scroll the table"


FOCUS_FAULT_PAGE = {
    "sidebar-link": (PUBLIC[0], ""),
    "main": (PUBLIC[0], ""),
    "chart-toolbar": (WARD, f"?ward={WARD_CODE}"),
}


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="Streamlit 1.67 sets outline: none on these and shows focus as a "
    "faint tint (sidebar links, chart toolbar buttons) or not at all (stMain)",
)
@pytest.mark.parametrize("fault", list(STREAMLIT_FOCUS))
def test_known_streamlit_focus_fault(public_server, open_page, fault):
    spec, query = FOCUS_FAULT_PAGE[fault]
    page = open_page(DESKTOP)
    load(page, public_server, spec, query)
    stops = [s for s in tab_walk(page) if stop_matches(page, s, STREAMLIT_FOCUS[fault])]
    primary = hex_to_rgb(theme()["primaryColor"])
    if not stops:
        pytest.fail(f"Tab reached no {STREAMLIT_FOCUS[fault]}")
    assert all(visible_focus(s, primary) for s in stops), [(s["testid"], s["label"]) for s in stops]
