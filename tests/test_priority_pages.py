"""AppTest: the four priority pages and the targets page, on the real embedded data.

Pages are opened as tests/test_app.py explains: run app.py once (st.navigation registers the pages),
then ``switch_page`` to the page's script, so each page runs inside the app frame exactly as the
server runs it. What is checked: no exception, the page names its priority, every chart carries
its text description (a caption "Chart description: ...", the alt text) and a "Table view of this
chart" expander holding the same figures as a table, and the words each page owes its reader
(the plan's target wordings, the serious violence definition, the enforcement caveat, the hate
crime strands and the previous 10% outcome target). The pages are internal: public mode must not
register them.
"""

from __future__ import annotations

import re
import tomllib

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block

from csp_data.analysis import trends
from csp_data.analysis.targets import evaluate_all
from csp_data.config import REPO_ROOT
from csp_data.config.pages import PAGES
from csp_data.plan.measures import get
from csp_data.plan.periods import add_months, make

APP = REPO_ROOT / "app.py"
TIMEOUT = 120
PLAN = tomllib.loads((REPO_ROOT / "data" / "plan" / "E09000030.toml").read_text(encoding="utf-8"))
PRIORITY_TITLES = {p["number"]: p["title"] for p in PLAN["priorities"]}
TARGETS = "pages/performance/targets.py"
PRIORITY_PAGES = {n: f"pages/performance/priority_{n}.py" for n in (1, 2, 3, 4)}
ALL_PAGES = [TARGETS, *PRIORITY_PAGES.values()]
STATUSES = {"on track", "off track", "too early to tell", "awaiting data", "met"}
CHART_TYPES = {"vega_lite_chart", "arrow_vega_lite_chart"}
DESCRIPTION = "Chart description: "
TABLE_VIEW = "Table view of this chart"
_MD_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def open_page(script: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    assert_clean(at)
    at.switch_page(script).run()
    assert_clean(at)
    return at


def assert_clean(at: AppTest) -> None:
    assert not at.exception, "page raised: " + "\n".join(e.value for e in at.exception)
    assert not at.error, "page showed an error: " + "\n".join(e.value for e in at.error)


def md_unescape(text):
    return _MD_ESCAPE.sub(r"\1", text) if isinstance(text, str) else text


def table_df(el) -> pd.DataFrame:
    df = el.value.copy()
    df.columns = [md_unescape(c) for c in df.columns]
    return df.apply(lambda col: col.map(md_unescape))


def kids(block) -> list:
    return [block.children[k] for k in sorted(block.children)]


def kind(node) -> str:
    return getattr(node, "type", type(node).__name__)


def walk(block):
    for c in kids(block):
        yield c
        if isinstance(c, Block):
            yield from walk(c)


def charts_with_context(at: AppTest) -> list[tuple]:
    """(chart, the element after it, the element after that) for every chart on the page, in order."""
    out = []

    def visit(block):
        items = kids(block)
        for i, c in enumerate(items):
            if kind(c) in CHART_TYPES:
                nxt = items[i + 1] if i + 1 < len(items) else None
                after = items[i + 2] if i + 2 < len(items) else None
                out.append((c, nxt, after))
            if isinstance(c, Block):
                visit(c)

    visit(at.main)
    return out


def descriptions(at: AppTest) -> list[str]:
    """Chart descriptions as a reader sees them (captions of file text are Markdown-escaped)."""
    return [md_unescape(c.value) for c in at.main.caption if c.value.startswith(DESCRIPTION)]


def assert_every_chart_has_alt_text_and_a_table(at: AppTest) -> list[tuple]:
    triples = charts_with_context(at)
    assert triples, "the page draws no chart"
    for n, (_, nxt, after) in enumerate(triples, 1):
        assert nxt is not None and kind(nxt) == "caption", f"chart {n}: no caption after it ({kind(nxt)})"
        assert nxt.value.startswith(DESCRIPTION), (
            f"chart {n}: caption is not a description: {nxt.value[:80]!r}"
        )
        assert len(nxt.value) > len(DESCRIPTION) + 20, f"chart {n}: description too short: {nxt.value!r}"
        assert after is not None and kind(after) == "expander", (
            f"chart {n}: no table-view expander ({kind(after)})"
        )
        assert after.label == TABLE_VIEW
        tables = list(after.table) + list(after.get("arrow_data_frame"))
        assert tables, f"chart {n}: its '{TABLE_VIEW}' expander holds no table"
        assert len(tables[0].value) > 0, f"chart {n}: the table view is empty"
    assert len(triples) == len(descriptions(at)), (
        "every chart, and only charts, get a 'Chart description:' caption"
    )
    return triples


def table_after(at: AppTest, description_start: str) -> pd.DataFrame:
    for _, cap, exp in charts_with_context(at):
        if cap is not None and cap.value.startswith(DESCRIPTION + description_start):
            return table_df(exp.table[0])
    raise AssertionError(f"no chart described as {description_start!r}: {descriptions(at)}")


# --------------------------------------------------------------------------- every page


@pytest.mark.parametrize("script", ALL_PAGES, ids=lambda s: s.rsplit("/", 1)[-1][:-3])
def test_page_renders_with_alt_text_and_table_views(app_env, script):
    at = open_page(script)
    titles = [t.value for t in at.main.title]
    assert len(titles) == 1
    if script == TARGETS:
        assert "Targets" in titles[0] and "2028" in titles[0]
    else:
        n = int(script[-4])
        assert titles[0] == f"Priority {n}: {PRIORITY_TITLES[n]}"
    triples = assert_every_chart_has_alt_text_and_a_table(at)
    # A chart per police-target gauge, plus the trends on the priority pages.
    assert len(triples) >= (4 if script == TARGETS else 3)


def test_pages_are_internal_only():
    for script in ALL_PAGES:
        spec = [p for p in PAGES if p.script == script]
        assert len(spec) == 1 and not spec[0].public, script


def test_public_mode_does_not_register_the_plan_pages(app_env):
    app_env.setenv("CSP_MODE", "public")
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    assert_clean(at)
    for script in ALL_PAGES:
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(script)
    titles = [t.value for t in at.main.title]
    assert not any(t.startswith("Priority") or t.startswith("Targets") for t in titles)


# --------------------------------------------------------------------------- the targets page


def test_targets_page_shows_all_16_wordings_with_a_status(app_env):
    at = open_page(TARGETS)
    wordings = [t["wording"] for t in PLAN["targets"]]
    assert len(wordings) == 16
    expected = {r.target.wording: r.status for r in evaluate_all()}

    # One bordered gauge per target: "**<symbol> <Status>** — <the plan's wording>".
    gauge = re.compile(r"^\*\*(\S) ([^*]+)\*\* — (.+)$", re.S)
    shown = {}
    for m in at.main.markdown:
        g = gauge.match(m.value)
        if g:
            assert g.group(3) not in shown, f"target shown twice: {g.group(3)}"
            shown[g.group(3)] = g.group(2).lower()
    assert sorted(shown) == sorted(wordings)
    for w in wordings:
        assert shown[w] in STATUSES, (w, shown[w])
        assert shown[w] == expected[w], w

    # The same as a table, in plan order.
    tables = [table_df(t) for t in at.main.table]
    all_targets = [t for t in tables if {"Target", "Status"} <= set(t.columns)]
    assert len(all_targets) == 1
    tab = all_targets[0]
    assert tab["Target"].tolist() == wordings
    for status, w in zip(tab["Status"], wordings):
        assert re.fullmatch(r"[✔✖…○] (on track|off track|too early to tell|awaiting data|met)", status), (
            status
        )
        assert status.endswith(expected[w])

    downloads = [d.proto.label for d in at.get("download_button")]
    assert any("targets" in lbl.lower() and "csv" in lbl.lower() for lbl in downloads), downloads


# --------------------------------------------------------------------------- the priority pages


def test_priority_2_states_the_serious_violence_definition(app_env):
    at = open_page(PRIORITY_PAGES[2])
    text = PLAN["definitions"]["serious_violence"]["text"]
    assert any(text in i.value for i in at.info), [i.value[:80] for i in at.info]
    caveat = [t for t in PLAN["targets"] if t["id"] == "serious_violence"][0]["caveats"][0]
    assert f"Caveat: {caveat}" in [c.value for c in at.main.caption]
    assert any(c.startswith(DESCRIPTION + "Serious violence") for c in descriptions(at))


def test_priority_3_carries_the_enforcement_caveat(app_env):
    at = open_page(PRIORITY_PAGES[3])
    warnings = [w.value for w in at.warning]
    assert any("enforcement" in w.lower() and "not automatically good news" in w for w in warnings), warnings
    caveat = [t for t in PLAN["targets"] if t["id"] == "drug_trafficking"][0]["caveats"][0]
    assert "more enforcement finds more offences" in caveat
    assert f"Caveat: {caveat}" in [c.value for c in at.main.caption]


def _hate_crime_last12():
    v = trends.view(get("hate_crime"))
    return make(add_months(v.latest, -11), v.latest)


def test_priority_4_shows_the_strands_and_the_previous_10_percent_target(app_env):
    at = open_page(PRIORITY_PAGES[4])
    p12 = _hate_crime_last12()
    assert f"Hate crime by strand, {p12.label}" in [h.value for h in at.main.header]
    want = trends.dashboard_subtypes("Hate crime", p12)
    want = want[want.subtype != "Hate crime"]
    strands = table_after(at, "Hate crime offences by strand")
    assert set(strands["Strand"]) == set(want.subtype)
    assert {"Racist Crime", "Faith Crime", "Homophobic Crime"} <= set(strands["Strand"])
    counts = {r.subtype: f"{r.offences:,d}" for r in want.itertuples()}
    assert {r.Strand: r.Offences for r in strands.itertuples()} == counts
    assert any("10% positive outcome rate" in m.value for m in at.main.markdown)
    assert any(
        c.startswith(DESCRIPTION + "Hate crime: positive outcome rate") and "target 10%" in c
        for c in descriptions(at)
    ), descriptions(at)


def test_priority_4_strand_description_does_not_state_a_false_total(app_env):
    at = open_page(PRIORITY_PAGES[4])
    p12 = _hate_crime_last12()
    total = trends.dashboard_subtypes("Hate crime", p12).set_index("subtype").loc["Hate crime", "offences"]
    desc = [c for c in descriptions(at) if c.startswith(DESCRIPTION + "Hate crime offences by strand")]
    assert len(desc) == 1
    stated = re.search(r"\btotal ([\d,]+)", desc[0])
    assert stated is None or int(stated.group(1).replace(",", "")) == total, desc[0]


def test_priority_1_business_crime_has_no_ward_table(app_env):
    at = open_page(PRIORITY_PAGES[1])
    picker = at.selectbox(key="p1-measure")
    assert picker.value == "robbery"
    assert "Business crime" in picker.options
    # Robbery first: it has a ward table.
    assert any(s.value.startswith("Robbery by ward") for s in at.main.subheader)
    assert any("ward" in d.proto.label.lower() for d in at.get("download_button"))

    picker.select("business").run()
    assert_clean(at)
    assert at.selectbox(key="p1-measure").value == "business"
    infos = [i.value for i in at.info]
    assert any("Business crime" in i and "published for the borough only" in i for i in infos), infos
    assert not any("by ward" in s.value for s in at.main.subheader)
    assert not any(c.value.startswith("All 20 wards") for c in at.main.caption)
    assert not any("ward" in d.proto.label.lower() for d in at.get("download_button"))
    assert not any(
        c.startswith(DESCRIPTION + "Business crime per 1,000 residents by ward") for c in descriptions(at)
    )
    assert any(s.value == "Business crime: monthly trend" for s in at.main.subheader)
    assert_every_chart_has_alt_text_and_a_table(at)


# --------------------------------------------------------------------------- issue 13: London, serious violence, ASB


def tables_with(at: AppTest, column: str) -> list[pd.DataFrame]:
    return [table_df(t) for t in at.main.table if column in [md_unescape(c) for c in t.value.columns]]


def test_priority_1_shows_the_asb_held_with_a_map_and_the_two_publishers(app_env):
    at = open_page(PRIORITY_PAGES[1])
    text = " ".join(m.value for m in at.markdown)
    assert "Anti-social behaviour (police.uk):** 2 months are held — Feb 2025 and Jan 2026" in text
    assert "cannot show a trend" in text and "street-level burglary only" not in text
    asb = tables_with(at, "ASB records")[0]
    # the real embedded files: 665 and 703 ASB rows (data/sources/SOURCES.md), 394 and 407 distinct lines
    assert asb.set_index("Month")["ASB records"].astype(int).to_dict() == {"Feb 2025": 665, "Jan 2026": 703}
    assert asb.set_index("Month")["Distinct lines"].astype(int).to_dict() == {
        "Feb 2025": 394,
        "Jan 2026": 407,
    }
    assert at.get("deck_gl_json_chart"), "no ASB map"
    by_ward = tables_with(at, "Ward")[-1]
    assert (
        by_ward["ASB records"].astype(int).sum() == 703 and len(by_ward) == 20
    )  # the latest month, 20 wards
    pubs = tables_with(at, "MPS recorded crime")[0]
    rob = pubs[(pubs["Month"] == "Jan 2026") & (pubs["Category"] == "Robbery")].iloc[0]
    assert (int(rob["police.uk records"]), int(rob["MPS recorded crime"])) == (92, 95)
    assert any(
        "extraction" in c.value or "snapshot taken on a different date" in c.value for c in at.main.caption
    )


def test_tiles_carry_the_london_comparison(app_env):
    at = open_page(PRIORITY_PAGES[1])
    lines = [c.value for c in at.main.caption if c.value.startswith("Against London")]
    # five tiles, each with the 12-month and year-to-date comparison
    assert len([x for x in lines if "(same 12 months)" in x]) == 5
    business = [x for x in lines if "CONNECT" in x]
    assert business and all(
        "about as much as London" in x or "than London" in x or "while London" in x
        for x in lines
        if "awaiting" not in x
    )


def test_priority_2_shows_serious_violence_part_by_part(app_env):
    at = open_page(PRIORITY_PAGES[2])
    parts = tables_with(at, "In the total?")[0]
    added = parts[parts["In the total?"] == "added"]["Offences"].astype(int)
    total = int(parts[parts["In the total?"] == "total"]["Offences"].iloc[0])
    assert added.sum() == total > 2000
    beside = parts[parts["Part"].str.contains("shown beside")]
    assert set(beside["Part"]) == {"Gun crime (shown beside)", "Knife crime with injury (shown beside)"}
    from csp_data.plan.measures import get as get_measure

    assert any(
        c.value.startswith("Definition: ") and get_measure("serious_violence").short_definition in c.value
        for c in at.main.caption
    )


def test_public_summary_says_how_each_change_compares_with_london(app_env):
    at = open_page("pages/public/summary.py")
    lines = [c.value for c in at.main.caption if c.value.startswith("Over the same months London")]
    assert len(lines) >= 6
    assert all("than London" in x or "as much as London" in x or "while London" in x for x in lines)
    assert any("What serious violence counts here" in c.value for c in at.main.caption)


# --------------------------------------------------------------------------- issue 16: answer first


def after_title(at: AppTest):
    """The main area's first element after the h1 (the frame draws its notices before the h1)."""
    items = kids(at.main)
    first = next(i for i, el in enumerate(items) if kind(el) == "title")
    return items[first + 1]


def status_cell(r) -> str:
    return f"{r.symbol} {r.status}"


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_priority_page_opens_with_the_strip(app_env, n):
    """Right after the h1: one bordered strip holding the priority's targets (status as symbol and
    words) and its headline measures (latest 12 months, change, verdict), with real figures."""
    from csp_data.analysis import scorecard
    from csp_data.plan.measures import priority_measures

    at = open_page(PRIORITY_PAGES[n])
    strip = after_title(at)
    assert isinstance(strip, Block), kind(strip)
    tables = [table_df(t) for t in strip.table]
    assert len(tables) == 2, [list(t.columns) for t in tables]
    targets, measures = tables
    mine = [r for r in evaluate_all() if r.target.priority == n]
    assert targets["Target for 2028"].tolist() == [r.target.label for r in mine]
    assert targets["Status"].tolist() == [status_cell(r) for r in mine]
    rows = {r.measure.id: r for r in scorecard.scorecard()}
    want = [rows[i] for i in priority_measures(n)]
    assert measures["Measure"].tolist() == [r.measure.label for r in want]
    assert measures["Last 12 months"].tolist() == [f"{r.l12.current:,d}" for r in want]
    assert measures["Change"].tolist() == [scorecard.fmt_change(r.l12) for r in want]
    assert measures["Is it real?"].tolist() == [f"{r.l12.symbol} {r.l12.verdict}" for r in want]
    captions = [md_unescape(c.value) for c in strip.caption]
    assert any(c.startswith("Last 12 months: ") and "Snapshots: " in c for c in captions), captions


def test_targets_page_opens_with_all_16_statuses(app_env):
    at = open_page(TARGETS)
    first = after_title(at)
    assert kind(first) == "table", kind(first)
    df = table_df(first)
    assert list(df.columns) == ["Status", "Target for 2028", "Baseline", "Latest, against the path"]
    results = evaluate_all()
    assert len(df) == 16
    assert df["Target for 2028"].tolist() == [r.target.label for r in results]
    assert df["Status"].tolist() == [status_cell(r) for r in results]
    robbery = df.iloc[[r.target.id for r in results].index("robbery")]
    r = next(r for r in results if r.target.id == "robbery")
    assert robbery["Baseline"] == f"{r.baseline_value:,.0f} ({r.baseline_period.label})"
    assert robbery["Latest, against the path"] == f"{r.observed:,.0f} vs {r.expected_path:,.0f} on the path"
    # every chart comes after it
    items = kids(at.main)
    assert items.index(first) < min(i for i, el in enumerate(items) if isinstance(el, Block))
