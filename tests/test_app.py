"""AppTest page-rendering tests: the app frame, every registered page, both deployment modes,
and the page registry itself.

How AppTest drives this ``st.navigation`` app (checked on Streamlit 1.67)
--------------------------------------------------------------------------
Pages live in subfolders of ``pages/`` and are registered by ``app.py`` with ``st.Page`` +
``st.navigation``, so a page script must never be run on its own: the frame (warehouse
bootstrap, sidebar) would be missing and it would not be the page a user gets. Instead:

1. ``AppTest.from_file(<repo>/app.py)`` and ``.run()`` once. That run executes ``st.navigation``,
   which registers the pages and renders the default page (the Overview).
2. ``at.switch_page(spec.script).run()``. On 1.67 ``switch_page`` resolves the path (relative to
   app.py) against the pages that the previous run registered with ``st.navigation``, by script
   path, and so finds the page's real script hash (which follows its ``url_path``, not its
   filename). The second run re-executes app.py, and ``nav.run()`` then executes that page inside
   the frame, exactly as the server does for ``/<url_path>``.
3. If a script is *not* registered (e.g. an internal page under ``CSP_MODE=public``),
   ``switch_page`` raises ``ValueError`` ("Could not find a navigation page") instead of guessing
   a filename hash. The public-mode tests rely on that to show the page is unreachable.

``st.table`` cells reach AppTest as the Markdown-escaped strings the page sends (``plain_table``
escapes data so the browser shows it literally); ``table_df`` removes the escapes to compare what a
reader sees. ``switch_page`` must come after a first run: before it, only a filename hash is known, which
does not match a page with a custom ``url_path``. Caches (``st.cache_data`` holds query results,
``st.cache_resource``) are cleared before and after every test so no test sees another's data.
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block, Markdown

from csp_data.config import REPO_ROOT, settings
from csp_data.config.pages import PAGES, SECTIONS, PageSpec, pages_for
from csp_data.warehouse import sql

APP = REPO_ROOT / "app.py"
PAGES_DIR = REPO_ROOT / "pages"
TIMEOUT = 60

DEFAULT = next((p for p in PAGES if p.default), PAGES[0])
THOUSANDS_INT = re.compile(r"^\d{1,3}(,\d{3})*$")
VERDICT = re.compile(r"\*\*(Significant rise|Significant fall|No significant change)\*\*")
LONDON_RANK = re.compile(r"^London: (\d+)(st|nd|rd|th) highest of (\d+) boroughs by count$")
# The h1 each known page draws (st.title); pages added later still get the generic checks.
H1 = {
    "pages/public/summary.py": "Is Tower Hamlets getting safer?",
    "pages/public/ward_profile.py": "Crime in your ward",
    "pages/public/get_help.py": "Getting help",
    "pages/public/accessibility.py": "Accessibility statement",
    "pages/performance/targets.py": "Targets: are we on course for 2028?",
    "pages/public/overview.py": "Borough scorecard",
    "pages/public/about_data.py": "About the data",
    "pages/admin/data_status.py": "Data status",
}


def run_app() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    return at


def open_page(spec: PageSpec) -> AppTest:
    """Run app.py, then navigate to ``spec`` the way a user following its link would."""
    at = run_app()
    assert_clean(at)
    if not spec.default:
        at.switch_page(spec.script).run()
    return at


def assert_clean(at: AppTest) -> None:
    assert not at.exception, "page raised: " + "\n".join(e.value for e in at.exception)
    assert not at.error, "page showed an error: " + "\n".join(e.value for e in at.error)


_MD_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def md_unescape(text: object) -> object:
    """What the browser shows for a Markdown-escaped cell (st.table renders cells as Markdown)."""
    return _MD_ESCAPE.sub(r"\1", text) if isinstance(text, str) else text


def table_df(el) -> pd.DataFrame:
    """An st.table's frame as displayed: header and text cells with Markdown escapes removed."""
    df = el.value
    df.columns = [md_unescape(c) for c in df.columns]
    return df.apply(lambda col: col.map(md_unescape))


def h1s(at: AppTest) -> list[str]:
    return [t.value for t in at.main.title]


def assert_frame(at: AppTest) -> None:
    """The shared sidebar every page gets: data coverage for the configured borough."""
    cfg = settings()
    sidebar_md = [m.value for m in at.sidebar.markdown]
    assert f"**Data coverage: {cfg.borough_name}**" in sidebar_md
    coverage = [m for m in sidebar_md if m.startswith("- ")]
    assert coverage and "Recorded crime (borough)" in coverage[0], sidebar_md


def tile(at: AppTest, label: str) -> Block:
    """A measure's detail (what its tile held): on the Overview, the expander named after the
    measure under the grid (issue 16); elsewhere, the bordered tile whose first line is the
    measure's bold label."""
    found = [e for e in at.main.expander if e.label == f"{label}: the detail"] or [
        node
        for node in at.main
        if isinstance(node, Block)
        and any(isinstance(c, Markdown) and c.value == f"**{label}**" for c in node.children.values())
    ]
    assert len(found) == 1, f"expected one tile for {label!r}, found {len(found)}"
    return found[0]


# ---------------------------------------------------------------- (1) the app in both modes


@pytest.mark.parametrize("mode", ["internal", "public"])
def test_app_renders_default_page_with_frame(app_env, mode):
    app_env.setenv("CSP_MODE", mode)
    at = run_app()
    assert_clean(at)
    assert h1s(at) == [H1[DEFAULT.script]]
    assert_frame(at)
    # The page after the frame really ran: a real-figure sentence per priority, and the help box.
    text = " ".join(m.value for m in at.markdown)
    assert re.search(r"\*\*Robbery:\*\* \d{1,3}(,\d{3})* offences in the 12 months", text), text[:500]
    assert [h.value for h in at.header if h.value.startswith("Priority ")] == [
        "Priority 1: Tackling acquisitive crimes and ASB",
        "Priority 2: Tackling violence",
        "Priority 3: Tackling drug supply and substance misuse",
        "Priority 4: Tackling hate crime and improving community cohesion",
    ]
    assert "Need help?" in [h.value for h in at.header]


def test_app_rejects_unknown_mode(warehouse, monkeypatch, caplog, capsys):
    """A misconfigured mode stops the app before any page is registered or drawn. The user sees
    an error (redacted when client.showErrorDetails is "none", as in .streamlit/config.toml);
    the server's output names the setting. Streamlit logs the traceback, or prints it with rich
    when rich is installed (a dependency of some dev tools), so both channels are read."""
    monkeypatch.setenv("CSP_MODE", "everyone")
    at = run_app()
    assert len(at.exception) == 1
    assert not at.main.title, "no page may render under a misconfigured mode"
    assert not at.metric and not at.main.table
    printed = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out)
    assert "CSP_MODE must be one of" in caplog.text + printed


# ---------------------------------------------------------------- (2) every registered page


@pytest.mark.parametrize("spec", PAGES, ids=[p.url_path for p in PAGES])
def test_every_registered_page_renders(app_env, spec):
    at = open_page(spec)
    assert_clean(at)
    assert_frame(at)
    titles = h1s(at)
    assert len(titles) == 1 and titles[0].strip(), f"{spec.script} should draw one st.title, got {titles}"
    if spec.script in H1:
        assert titles == [H1[spec.script]]
    if not spec.default:
        # The navigation really switched: this is not the default page drawn again.
        assert titles != [H1.get(DEFAULT.script)]
    # Something beyond the heading was drawn.
    assert len(at.main.markdown) + len(at.main.table) + len(at.main.header) >= 2


def test_overview_scorecard(app_env):
    at = open_page(next(p for p in PAGES if p.script == "pages/public/overview.py"))
    assert_clean(at)
    assert h1s(at) == ["Borough scorecard"]
    headers = [h.value for h in at.main.header]
    assert any(h.startswith("Priority 1:") for h in headers), headers

    robbery = tile(at, "Robbery")
    assert len(robbery.metric) == 1
    metric = robbery.metric[0]
    assert metric.label.startswith("Last 12 months (")
    assert THOUSANDS_INT.match(metric.value), metric.value
    assert int(metric.value.replace(",", "")) > 0
    verdicts = [m.value for m in robbery.markdown if VERDICT.search(m.value)]
    assert len(verdicts) == 1, [m.value for m in robbery.markdown]
    captions = [c.value for c in robbery.caption]
    assert any(c.startswith("Source: ") for c in captions), captions
    ranks = [LONDON_RANK.match(c) for c in captions if c.startswith("London:")]
    assert len(ranks) == 1 and ranks[0], captions
    rank, of = int(ranks[0].group(1)), int(ranks[0].group(3))
    assert 1 <= rank <= of == 32

    # The table repeats the tile's figures (the accessible equivalent must agree with the tiles).
    # (the scorecard table is the one with the London rank; the peer comparison's tables follow it)
    table = next(t for t in map(table_df, at.main.table) if "London rank (12 months)" in t.columns)
    row = table.loc[table["Measure"] == "Robbery"]
    assert len(row) == 1
    assert row["Last 12 months"].iloc[0] == metric.value
    assert VERDICT.search(verdicts[0]).group(1) in row["12-month verdict"].iloc[0]
    assert row["London rank (12 months)"].iloc[0] == f"{ordinal_text(rank)} of {of}"
    # Every measure with data in the table has a tile with a formatted figure.
    assert len(at.metric) == int((table["Last 12 months"] != "awaiting data").sum())
    assert all(THOUSANDS_INT.match(m.value) for m in at.metric), [m.value for m in at.metric]
    assert at.download_button, "the scorecard is downloadable as CSV"


def top_level(at: AppTest) -> list:
    """The main area's elements in page order, without descending into blocks."""
    return [at.main.children[k] for k in sorted(at.main.children)]


def test_overview_opens_with_the_scorecard_grid(app_env):
    """Answer first (issue 16): the element right after the h1 is the grid, one line per measure,
    with the scorecard's own figures and verdict words; each measure's detail is an expander."""
    from csp_data.analysis import scorecard

    at = open_page(next(p for p in PAGES if p.script == "pages/public/overview.py"))
    assert_clean(at)
    items = top_level(at)
    first = next(i for i, el in enumerate(items) if getattr(el, "type", "") == "title")
    grid = items[first + 1]
    assert getattr(grid, "type", "") == "table", f"the h1 is followed by {getattr(grid, 'type', grid)}"
    df = table_df(grid)
    assert list(df.columns) == [
        "Priority",
        "Measure",
        "Last 12 months",
        "Change",
        "Is the change real?",
        "Direction of travel",
        "Against London",
    ]
    rows = scorecard.scorecard()
    assert df["Measure"].tolist() == [r.measure.label for r in rows]
    for r, line in zip(rows, df.itertuples(index=False)):
        assert line[2] == f"{r.l12.current:,d}" and line[3] == scorecard.fmt_change(r.l12), line
        assert line[4] == f"{r.l12.symbol} {r.l12.verdict}", line
        assert line[5] == r.l12.travel(r.measure.lower_is_better)
        assert "London" in line[6], line
    assert df["Priority"].tolist() == [
        f"[{r.measure.priority}](summary#priority-{r.measure.priority})" for r in rows
    ]
    # the periods, sources and snapshots under the grid, and every measure's detail one click away
    caption = md_unescape(items[first + 2].value)
    assert caption.startswith(f"Last 12 months: {rows[0].last12.label}") and "Snapshots: " in caption
    assert "About these figures" in [e.label for e in at.main.expander]
    details = [e.label for e in at.main.expander if e.label.endswith(": the detail")]
    assert details == [
        f"{r.measure.label}: the detail" for r in sorted(rows, key=lambda r: r.measure.priority)
    ]


def ordinal_text(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def test_about_the_data_lists_every_source(app_env):
    at = open_page(next(p for p in PAGES if p.script == "pages/public/about_data.py"))
    assert_clean(at)
    assert h1s(at) == ["About the data"]
    assert "Sources" in [h.value for h in at.main.header]
    sources = table_df(at.main.table[0])
    origin = "Publisher, licence and where it was copied from"
    assert list(sources.columns) == ["Dataset and snapshot", origin]  # two columns: fits a phone
    manifest = json.loads(settings().manifest_path.read_text(encoding="utf-8"))["files"]
    assert len(manifest) > 0
    assert sorted(sources["Dataset and snapshot"]) == sorted(f["snapshot"] for f in manifest)
    # Every row names its publisher, licence and origin (st.table gets Markdown-escaped text).
    for cell, _f in zip(
        sources.sort_values("Dataset and snapshot")[origin], sorted(manifest, key=lambda f: f["snapshot"])
    ):
        text = cell.replace("\\", "").replace("\u200b", "")
        parts = text.split(" · ")
        assert len(parts) == 3 and all(p.strip() for p in parts), text
        assert parts[2].startswith("copied from "), text


def test_data_status_checks_all_pass(app_env):
    at = open_page(next(p for p in PAGES if p.script == "pages/admin/data_status.py"))
    assert_clean(at)
    assert h1s(at) == ["Data status"]
    headers = [h.value for h in at.main.header]
    assert headers[-2:] == ["Quality checks", "Who has access"], (
        headers
    )  # local mode: access is text, no table
    checks = table_df(at.main.table[-1])
    expected = sql.check_specs(settings().borough_code)
    assert len(expected) > 0
    assert len(checks) == len(expected)
    assert set(checks["Check"]) == {n.removeprefix("checks/").replace("_", " ") for n, _, _ in expected}
    assert (checks["Result"] == "✔ passes").all(), checks.loc[checks["Result"] != "✔ passes"].to_dict(
        "records"
    )
    coverage = table_df(at.main.table[0])
    assert len(coverage) > 0 and "File" in coverage.columns


# ---------------------------------------------------------------- (3) public mode


def test_pages_for_public_are_exactly_the_public_pages():
    public = pages_for("public")
    assert public, "the public deployment must have pages"
    assert all(p.public for p in public)
    assert public == [p for p in PAGES if p.public]
    assert pages_for("internal") == list(PAGES)
    data_status = [p for p in PAGES if p.title == "Data status"]
    assert len(data_status) == 1 and not data_status[0].public
    assert data_status[0] not in public


def test_public_mode_cannot_reach_internal_pages(app_env):
    app_env.setenv("CSP_MODE", "public")
    at = run_app()
    assert_clean(at)
    assert h1s(at) == [H1[DEFAULT.script]]
    internal = [p for p in PAGES if not p.public]
    assert any(p.title == "Data status" for p in internal)
    for spec in internal:
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(spec.script)
    # Positive control: public pages other than the default are registered and render.
    for spec in pages_for("public"):
        if spec.default:
            continue
        at.switch_page(spec.script).run()
        assert_clean(at)
        if spec.script in H1:
            assert h1s(at) == [H1[spec.script]]
        assert h1s(at) != ["Data status"]


def test_internal_mode_reaches_data_status(app_env):
    """The control for the test above: the same switch works in internal mode."""
    at = run_app()
    at.switch_page("pages/admin/data_status.py").run()
    assert_clean(at)
    assert h1s(at) == ["Data status"]


# ---------------------------------------------------------------- (4) the registry


def test_registry_scripts_exist_and_paths_unique():
    assert PAGES
    for spec in PAGES:
        path = REPO_ROOT / spec.script
        assert path.is_file(), f"{spec.script} is registered but missing"
        # Only pages in subfolders of pages/: a top-level pages/*.py is deep-linkable without the frame.
        rel = path.resolve().relative_to(PAGES_DIR.resolve())
        assert len(rel.parts) == 2, f"{spec.script} must sit in a subfolder of pages/"
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", spec.url_path), spec.url_path
        assert spec.section in SECTIONS
        assert spec.title.strip()
    for attr in ("url_path", "script", "title"):
        values = [getattr(p, attr) for p in PAGES]
        assert len(values) == len(set(values)), f"duplicate {attr}: {values}"
    defaults = [p for p in PAGES if p.default]
    assert len(defaults) == 1 and defaults[0].public, "exactly one default page, and it must be public"


def test_no_orphan_page_scripts():
    registered = {(REPO_ROOT / p.script).resolve() for p in PAGES}
    on_disk = {f.resolve() for f in PAGES_DIR.rglob("*.py") if f.name != "__init__.py"}
    assert on_disk, "pages/ holds no scripts"
    orphans = sorted(str(f.relative_to(REPO_ROOT)) for f in on_disk - registered)
    assert not orphans, f"page scripts not in csp_data.config.pages.PAGES: {orphans}"
    assert registered <= on_disk


def test_first_start_builds_a_missing_warehouse_then_renders(data_copy, monkeypatch):
    """A fresh clone has no warehouse: the app builds it on first start (with a progress bar that
    is removed when done) and then draws the Overview from it."""
    import shutil

    from csp_data.warehouse import build

    monkeypatch.setenv("CSP_MODE", "internal")
    shutil.rmtree(data_copy / "warehouse")
    cfg = settings()
    assert cfg.data_dir == data_copy.resolve()
    assert build.is_stale(cfg)[0]
    at = run_app()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == [H1[DEFAULT.script]]
    assert build.is_stale(cfg) == (False, "up to date")
    assert (data_copy / "warehouse" / "crime_monthly.parquet").exists()
    assert not at.get("progress"), "the build progress bar should be gone once the data is ready"


def test_registry_is_in_section_order():
    """The navigation groups pages by section: the registry lists them in that order, so the
    menu, the tests and the docs read in the same order."""
    order = [SECTIONS.index(p.section) for p in PAGES]
    assert order == sorted(order)
