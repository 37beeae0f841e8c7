"""The Hotspots and VOLT page (pages/analysis/hotspots.py) through the app frame, with AppTest.

The page is reached as the other AppTest tests reach theirs (tests/test_app.py): run app.py, then
``at.switch_page("pages/analysis/hotspots.py").run()``. Its filters are widgets with ``key=`` and
``bind="query-params"``.

What AppTest does with ``bind="query-params"`` (checked on Streamlit 1.67):

* URL -> widgets works: values put in ``at.query_params`` before the page's run seed the bound
  widgets, and an invalid value (not an option) is ignored and removed from ``at.query_params``.
* widgets -> URL does not: after ``set_value(...).run()`` ``at.query_params`` is not updated,
  because the browser's frontend, not the server, writes a changed widget value into the address
  bar. That half of the round trip is tested in the browser (tests/e2e/test_hotspots_browser.py).

Caches are cleared before and after every test.
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from csp_data.analysis import areas as analysis
from csp_data.analysis.ward_profile import wards as all_wards
from csp_data.config import REPO_ROOT
from csp_data.present import maps

APP = REPO_ROOT / "app.py"
PAGE = "pages/analysis/hotspots.py"
TIMEOUT = 120
SPITALFIELDS = ("E05009333", "Spitalfields & Banglatown")
H_HOTSPOTS = "Are the hot spots real?"
H_VOLT = "VOLT: victim, offender, location, time"
_MD_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


# ---------------------------------------------------------------- helpers


def open_page(params: dict | None = None) -> AppTest:
    """Run app.py, then open the hotspots page, with ``params`` in the URL if given."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    for k, v in (params or {}).items():
        at.query_params[k] = v
    at.switch_page(PAGE).run()
    return at


def assert_clean(at: AppTest) -> None:
    assert not at.exception, "page raised: " + "\n".join(e.value for e in at.exception)
    assert not at.error, "page showed an error: " + "\n".join(e.value for e in at.error)
    assert [t.value for t in at.main.title] == ["Hotspots and VOLT analysis"]


def unescape(text):
    return _MD_ESCAPE.sub(r"\1", text) if isinstance(text, str) else text


def table_df(el) -> pd.DataFrame:
    df = el.value
    df.columns = [unescape(c) for c in df.columns]
    return df.apply(lambda col: col.map(unescape))


def ranked(at: AppTest) -> pd.DataFrame:
    found = [
        table_df(t) for t in at.main.table if "Is the change real?" in [unescape(c) for c in t.value.columns]
    ]
    assert len(found) == 1, f"expected one ranked table, found {len(found)}"
    return found[0]


def headers(at: AppTest) -> list[str]:
    return [h.value for h in at.main.header]


def decks(at: AppTest) -> list[dict]:
    return [json.loads(d.proto.json) for d in at.get("deck_gl_json_chart")]


def deck_protos(at: AppTest):
    return list(at.get("deck_gl_json_chart"))


def deck_layer(doc: dict, layer_id: str) -> dict:
    found = [lyr for lyr in doc["layers"] if lyr.get("id") == layer_id]
    assert len(found) == 1, [lyr.get("id") for lyr in doc["layers"]]
    return found[0]


def widget_values(at: AppTest) -> dict:
    return {
        "category": at.selectbox(key="category").value,
        "period": at.selectbox(key="period").value,
        "areas": at.radio(key="areas").value,
        "colour": at.radio(key="colour").value,
        "ward": at.selectbox(key="ward").value,
    }


def period_label(choice: str, geo: str) -> str:
    return analysis.resolve_period(choice, analysis.latest_month(geo)).label


def assert_only_st_tables(at: AppTest) -> None:
    assert at.main.table, "the page draws its tables"
    assert not at.dataframe, "a table is an st.dataframe (canvas-drawn, unreadable to screen readers)"
    assert not at.get("arrow_data_frame")


# ---------------------------------------------------------------- default render


def test_default_render(app_env):
    at = open_page()
    assert_clean(at)
    assert widget_values(at) == {
        "category": "Robbery",
        "period": "Last 12 months",
        "areas": "LSOAs",
        "colour": "Count",
        "ward": None,
    }
    label = period_label("Last 12 months", "LSOAs")
    hs = headers(at)
    assert f"Areas ranked: Robbery, {label}" in hs
    assert H_HOTSPOTS in hs and H_VOLT in hs
    assert hs.index(f"Areas ranked: Robbery, {label}") < hs.index(H_HOTSPOTS) < hs.index(H_VOLT)
    protos = deck_protos(at)
    assert len(protos) == 1, "one map until the burglary density is asked for"
    assert "http" not in protos[0].proto.json.lower()
    doc = decks(at)[0]
    assert doc.get("mapProvider") is None and doc.get("mapStyle") == maps.OFFLINE_STYLE_URL
    assert len(deck_layer(doc, "areas")["data"]["features"]) == 169
    assert len(deck_layer(doc, "outline")["data"]["features"]) == 20
    tooltip = json.loads(protos[0].proto.tooltip)
    assert set(tooltip) == {"text"} and "{name}" in tooltip["text"], tooltip
    table = ranked(at)
    assert len(table) == 40
    assert "Ward" in table.columns and "Hot spot test (Gi*, FDR)" in table.columns
    assert any(c.value.startswith("Most offences first; 40 of 169 areas shown") for c in at.main.caption)
    assert at.download_button, "the full area table is downloadable"
    assert_only_st_tables(at)


def test_ranked_table_is_the_area_table(app_env):
    at = open_page({"areas": "Wards"})
    assert_clean(at)
    period = analysis.resolve_period("Last 12 months", analysis.latest_month("Wards"))
    want = analysis.area_table(
        next(c for c in analysis.categories() if c.label == "Robbery"), period, "Wards"
    )
    table = ranked(at)
    offences = f"Offences {period.label}"
    got = dict(zip(table["Area"], table[offences].str.replace(",", "").astype(int)))
    assert got == dict(zip(want["name"], want["count"]))
    assert list(table["Area"]) == list(want["name"]), "most offences first"


# ---------------------------------------------------------------- filters through the widgets


def test_wards_view(app_env):
    at = open_page()
    at.radio(key="areas").set_value("Wards").run()
    assert_clean(at)
    table = ranked(at)
    assert len(table) == 20
    assert sorted(table["Area"]) == sorted(w.name for w in all_wards())
    assert "Ward" not in table.columns, "a ward's own ward is not repeated"
    assert H_HOTSPOTS not in headers(at), "Gi* runs on LSOAs only"
    assert f"Areas ranked: Robbery, {period_label('Last 12 months', 'Wards')}" in headers(at)
    doc = decks(at)[0]
    assert len(deck_layer(doc, "areas")["data"]["features"]) == 20
    assert not at.main.info
    assert_only_st_tables(at)


def test_wards_map_names_match_the_ranked_table(app_env):
    at = open_page({"areas": "Wards"})
    assert_clean(at)
    doc = decks(at)[0]
    on_map = sorted(t["text"] for t in deck_layer(doc, "labels")["data"])
    assert on_map == sorted(ranked(at)["Area"])


@pytest.mark.parametrize("areas", ["LSOAs", "Wards"])
def test_drill_down_to_one_ward(app_env, areas):
    code, name = SPITALFIELDS
    at = open_page()
    at.radio(key="areas").set_value(areas)
    at.selectbox(key="ward").set_value(name).run()
    assert_clean(at)
    table = ranked(at)
    assert set(table["Ward"]) == {name}, "only the chosen ward's LSOAs"
    n = len(
        analysis.area_table(
            next(c for c in analysis.categories() if c.label == "Robbery"),
            analysis.resolve_period("Last 12 months", analysis.latest_month("LSOAs")),
            "LSOAs",
            code,
        )
    )
    assert 3 <= n == len(table) < 40
    doc = decks(at)[0]
    assert len(deck_layer(doc, "areas")["data"]["features"]) == n
    assert [f["properties"]["code"] for f in deck_layer(doc, "outline")["data"]["features"]] == [code]
    assert any(f"LSOAs of {name} ward" in c.value for c in at.main.caption)
    assert any(f"Dashboard for {name} ward" in c.value for c in at.main.caption), "VOLT is for the ward too"


def test_hot_spot_colour_with_wards_uses_lsoas(app_env):
    at = open_page()
    at.radio(key="areas").set_value("Wards")
    at.radio(key="colour").set_value("Hot spots (Gi*)").run()
    assert_clean(at)
    infos = [i.value for i in at.main.info]
    assert any(
        i.startswith("Hot spots are tested between LSOAs") and i.endswith("showing LSOAs.") for i in infos
    ), infos
    table = ranked(at)
    assert len(table) == 40 and "Ward" in table.columns and "Hot spot test (Gi*, FDR)" in table.columns
    assert H_HOTSPOTS in headers(at)
    doc = decks(at)[0]
    feats = deck_layer(doc, "areas")["data"]["features"]
    assert len(feats) == 169
    assert {f["properties"]["klass"] for f in feats} <= set(analysis_classes())
    assert any("hot-spot class (Gi*)" in c.value for c in at.main.caption)
    legend = [
        table_df(t)
        for t in at.main.table
        if "Class" in t.value.columns and "Shown on the map" in [unescape(c) for c in t.value.columns]
    ]
    assert len(legend) == 1 and len(legend[0]) == 7


def analysis_classes():
    from csp_data.analysis.hotspots import CLASSES

    return CLASSES


def test_custom_months_valid(app_env):
    at = open_page()
    at.selectbox(key="period").set_value("Custom months").run()
    assert_clean(at)
    at.selectbox(key="from").set_value("2025-01")
    at.selectbox(key="to").set_value("2025-06").run()
    assert_clean(at)
    assert "Areas ranked: Robbery, Jan 2025 to Jun 2025" in headers(at)
    assert any("(compared with Jul 2024 to Dec 2024)" in c.value for c in at.main.caption)


def test_custom_months_from_after_to_warns(app_env):
    at = open_page()
    at.selectbox(key="period").set_value("Custom months").run()
    at.selectbox(key="from").set_value("2025-12")
    at.selectbox(key="to").set_value("2025-06").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.main.warning, "a warning explains the choice"
    assert not [h for h in headers(at) if h.startswith("Areas ranked")]


def test_points_toggle_shows_the_density_map(app_env):
    at = open_page()
    assert len(deck_protos(at)) == 1
    assert not [c for c in at.main.checkbox if c.key == "snap"]
    at.toggle(key="points").set_value(True).run()
    assert_clean(at)
    protos = deck_protos(at)
    assert len(protos) == 2, "the density map is the second map"
    hexes = json.loads(protos[1].proto.json)
    assert "http" not in protos[1].proto.json.lower()
    n_points = len(deck_layer(hexes, "hexes")["data"])
    assert n_points > 100
    assert [lyr["id"] for lyr in hexes["layers"]] == ["hexes", "outline"]
    caveat = [m.value for m in at.main.markdown if "snap point" in m.value]
    assert caveat and "anonymised" in caveat[0] and "wrong side" in caveat[0]
    assert any(
        re.match(rf"{n_points:,d} burglary records in \d+ of 12 months", c.value) for c in at.main.caption
    )
    by_ward = [table_df(t) for t in at.main.table if "Records" in t.value.columns]
    assert len(by_ward) == 1 and by_ward[0]["Records"].str.replace(",", "").astype(int).sum() == n_points
    at.checkbox(key="snap").check().run()
    assert_clean(at)
    doc = json.loads(deck_protos(at)[1].proto.json)
    assert [lyr["id"] for lyr in doc["layers"]] == ["hexes", "points", "outline"]
    assert len(deck_layer(doc, "points")["data"]) == n_points
    assert_only_st_tables(at)


def test_every_table_is_an_st_table_in_every_view(app_env):
    at = open_page({"points": "true", "snap": "true"})
    assert_clean(at)
    assert len(deck_protos(at)) == 2, "points=true in the URL turns the density map on"
    assert_only_st_tables(at)
    assert len(at.main.table) >= 8
    at.radio(key="areas").set_value("Wards").run()
    assert_clean(at)
    assert_only_st_tables(at)
    at.selectbox(key="period").set_value("Custom months").run()
    assert_clean(at)
    assert_only_st_tables(at)


# ---------------------------------------------------------------- the URL (AppTest half)


def test_url_restores_the_view(app_env):
    at = open_page({"category": "Burglary", "period": "Last 3 months", "areas": "Wards", "colour": "Count"})
    assert_clean(at)
    assert widget_values(at) == {
        "category": "Burglary",
        "period": "Last 3 months",
        "areas": "Wards",
        "colour": "Count",
        "ward": None,
    }
    assert f"Areas ranked: Burglary, {period_label('Last 3 months', 'Wards')}" in headers(at)
    assert len(ranked(at)) == 20
    # non-default values stay in the URL (Streamlit drops a value equal to the widget's default)
    assert {k: at.query_params.get(k) for k in ("category", "period", "areas")} == {
        "category": "Burglary",
        "period": "Last 3 months",
        "areas": "Wards",
    }


def test_url_restores_a_ward_and_colour(app_env):
    code, name = SPITALFIELDS
    at = open_page({"ward": name, "colour": "Change vs previous period", "period": "Latest month"})
    assert_clean(at)
    assert widget_values(at)["ward"] == name and widget_values(at)["colour"] == "Change vs previous period"
    assert set(ranked(at)["Ward"]) == {name}
    assert f"Areas ranked: Robbery, {period_label('Latest month', 'LSOAs')}" in headers(at)
    assert deck_layer(decks(at)[0], "areas")["data"]["features"]


@pytest.mark.parametrize(
    "key, bad, default",
    [
        ("category", "NotACategory", "Robbery"),
        ("period", "Last week", "Last 12 months"),
        ("areas", "Boroughs", "LSOAs"),
        ("ward", "Atlantis", None),
    ],
)
def test_invalid_url_value_falls_back_and_is_removed(app_env, key, bad, default):
    at = open_page({key: bad, "colour": "Rate per 1,000 residents"})
    assert_clean(at)
    assert widget_values(at)[key] == default
    assert key not in at.query_params, f"{key}={bad!r} is still in the URL: {at.query_params}"
    assert at.query_params.get("colour") == "Rate per 1,000 residents", "a valid neighbour is kept"
    assert f"Areas ranked: Robbery, {period_label('Last 12 months', 'LSOAs')}" in headers(at)


# ---------------------------------------------------------------- honest hot spots (issue 13)


def markdowns(at: AppTest) -> list[str]:
    return [unescape(m.value) for m in at.main.markdown]


def table_with(at: AppTest, column: str) -> list[pd.DataFrame]:
    return [table_df(t) for t in at.main.table if column in [unescape(c) for c in t.value.columns]]


def test_robbery_last_12_months_has_no_hot_spot_and_shows_what_is_robust(app_env):
    """The default view is robbery over the 12 months to Feb 2026, the audit's case: no LSOA
    survives permutation and FDR, the page says so, and shows concentration and rankings."""
    from csp_data.analysis import hotspots

    at = open_page()
    assert_clean(at)
    period = analysis.resolve_period("Last 12 months", analysis.latest_month("LSOAs"))
    assert period.label == "Mar 2025 to Feb 2026"
    text = " ".join(markdowns(at))
    assert "No LSOA is a hot spot after allowing for 169 areas tested at once." in text
    assert "9,999 times" in text
    assert set(ranked(at)["Hot spot test (Gi*, FDR)"]) == {"not significant"}
    # concentration: top 5% (9 LSOAs) and top 10% (17), now and the year before, recomputed here
    whole = analysis.area_table(hotspots.resolve_category("Robbery"), period, "LSOAs")
    conc = table_with(at, "Busiest LSOAs")
    assert len(conc) == 1
    conc = conc[0]
    assert list(conc["Busiest LSOAs"]) == ["Top 5%", "Top 10%"] and list(conc["LSOAs"].astype(int)) == [9, 17]
    for k, row in zip((9, 17), conc.itertuples()):
        now = whole["count"].sort_values(ascending=False).head(k).sum() / whole["count"].sum()
        before = whole["previous"].sort_values(ascending=False).head(k).sum() / whole["previous"].sum()
        assert row[3] == f"{now:.0%}" and row[4] == f"{before:.0%}"
    by_count, by_rate = table_with(at, "Residents")[:2]
    assert (
        by_count["LSOA"].iloc[0]
        == whole.sort_values(["count", "name"], ascending=[False, True])["name"].iloc[0]
    )
    rates = whole.assign(r=whole["count"] / whole["population"]).sort_values(
        ["r", "name"], ascending=[False, True]
    )
    assert by_rate["LSOA"].iloc[0] == rates["name"].iloc[0]
    # the funnel plot, with its description, table and source
    assert "Rates against residents (funnel plot)" in headers(at)
    captions = [unescape(c.value) for c in at.main.caption]
    assert any(
        c.startswith("Source: MPS recorded crime at LSOA level") and "(data to Feb 2026)" in c
        for c in captions
    )
    assert any(
        c.startswith("Chart description: Robbery: rate by LSOA, Mar 2025 to Feb 2026") for c in captions
    )
    funnel_tables = table_with(at, "99.8% limits")
    assert len(funnel_tables) == 1 and len(funnel_tables[0]) == 169


def test_a_category_with_surviving_hot_spots_names_them(app_env):
    at = open_page({"category": "Vehicle crime"})
    assert_clean(at)
    text = " ".join(markdowns(at))
    assert "hot spot 99%" in text and "No LSOA is a hot spot" not in text
    assert ranked(at)["Hot spot test (Gi*, FDR)"].str.startswith("hot spot").any()
