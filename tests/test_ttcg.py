"""The TTCG projector view: ward x category against expected (checked against DuckDB and scipy
independently), the exception list, URL handling, the offline map, caching on the warehouse
stamp, and the page itself through AppTest (app.py first, then a switch to the page, as a user
following the link would; URL cases set ``at.query_params`` before the first run)."""

from __future__ import annotations

import json
import math
import re
from datetime import date

import duckdb
import pandas as pd
import pytest
from conftest import page_warnings
from scipy import stats
from streamlit.testing.v1 import AppTest

from csp_data.analysis import ttcg
from csp_data.config import REPO_ROOT, settings
from csp_data.plan.measures import get
from csp_data.plan.periods import add_months
from csp_data.present import maps, ttcg_map
from csp_data.warehouse import geo

APP = REPO_ROOT / "app.py"
PAGE = "pages/operations/ttcg.py"
TIMEOUT = 120


@pytest.fixture(scope="module")
def con(warehouse):
    """A DuckDB connection of the test's own straight over the warehouse Parquet (not csp_data.warehouse.db)."""
    c = duckdb.connect()
    c.execute(f"CREATE VIEW cm AS SELECT * FROM read_parquet('{warehouse / 'crime_monthly.parquet'}')")
    c.execute(f"CREATE VIEW w AS SELECT * FROM read_parquet('{warehouse / 'wards.parquet'}')")
    yield c
    c.close()


@pytest.fixture(scope="module")
def latest(con) -> date:
    return con.execute("SELECT max(month) FROM cm WHERE level = 'ward'").fetchone()[0]


@pytest.fixture(scope="module")
def frame(warehouse, latest) -> pd.DataFrame:
    return ttcg.ward_expected(latest, ttcg.DEFAULT_CATEGORIES)


@pytest.fixture(scope="module")
def items(warehouse, latest, frame) -> list:
    return ttcg.exceptions(latest, ttcg.DEFAULT_CATEGORIES, frame=frame)


def _filter(m) -> tuple[str, list]:
    return "(list_contains(?, major_category) OR list_contains(?, minor_category))", [
        list(m.majors),
        list(m.minors),
    ]


# ---------------------------------------------------------------- ward x category against expected


def test_ward_expected_has_every_ward_and_category(con, frame):
    wards = con.execute("SELECT ward_code, ward_name FROM w").df()
    assert len(wards) == 20
    assert len(frame) == 20 * len(ttcg.DEFAULT_CATEGORIES)
    assert list(frame.columns[:11]) == [
        "ward_code",
        "ward_name",
        "category",
        "label",
        "latest",
        "expected",
        "expected_months",
        "ratio",
        "p_high",
        "p_low",
        "flag",
    ]
    assert frame.groupby("category").size().to_dict() == {c: 20 for c in ttcg.DEFAULT_CATEGORIES}
    assert list(dict.fromkeys(frame["category"])) == list(ttcg.DEFAULT_CATEGORIES)
    assert set(zip(frame["ward_code"], frame["ward_name"])) == set(
        zip(wards["ward_code"], wards["ward_name"])
    )
    assert (frame["expected_months"] == 12).all()
    assert set(frame["flag"]) <= {"", ttcg.FLAG_HIGH, ttcg.FLAG_LOW}


@pytest.mark.parametrize("category", ttcg.DEFAULT_CATEGORIES)
def test_latest_and_expected_match_an_independent_duckdb_count(con, frame, latest, category):
    m = get(category)
    where, args = _filter(m)
    got = frame[frame["category"] == category].set_index("ward_code")
    first = add_months(latest, -12)
    counts = (
        con.execute(
            f"""
        SELECT w.ward_code,
               coalesce(sum(cm.count) FILTER (WHERE cm.month = ?), 0) AS latest,
               coalesce(sum(cm.count) FILTER (WHERE cm.month >= ? AND cm.month < ?), 0) AS prev_total
        FROM w LEFT JOIN cm ON cm.level = 'ward' AND cm.area_code = w.ward_code AND {where}
        GROUP BY w.ward_code""",
            [latest, first, latest, *args],
        )
        .df()
        .set_index("ward_code")
    )
    n_prev = con.execute(
        "SELECT count(DISTINCT month) FROM cm WHERE level = 'ward' AND month >= ? AND month < ?",
        [first, latest],
    ).fetchone()[0]
    assert n_prev == 12
    assert got["latest"].to_dict() == counts["latest"].astype(int).to_dict()
    for code, row in got.iterrows():
        assert row["expected"] == pytest.approx(counts.at[code, "prev_total"] / 12, rel=1e-12)
    assert got["latest"].sum() > 0, "a category with no offences at all in a month is suspicious"


def independent_prediction_dispersion(con, m, latest: date) -> float:
    """Mean of (count - mean of the ward's previous 12 months)^2 / that mean over every ward and the
    24 months before ``latest``, floored at 1, straight from the Parquet with pandas."""
    where, args = _filter(m)
    df = con.execute(
        f"""
        SELECT w.ward_code, mm.month, coalesce(sum(cm.count), 0) AS n
        FROM w CROSS JOIN (SELECT DISTINCT month FROM cm WHERE level = 'ward' AND month >= ? AND month < ?) AS mm
        LEFT JOIN cm ON cm.level = 'ward' AND cm.area_code = w.ward_code AND cm.month = mm.month AND {where}
        GROUP BY w.ward_code, mm.month""",
        [add_months(latest, -36), latest, *args],
    ).df()
    wide = df.pivot(index="month", columns="ward_code", values="n").sort_index()
    terms = []
    for i in range(12, len(wide)):
        if pd.Timestamp(wide.index[i]).date() < add_months(latest, -24):
            continue
        e = wide.iloc[i - 12 : i].mean()
        y = wide.iloc[i]
        ok = e > 0
        terms += list(((y[ok] - e[ok]) ** 2 / e[ok]).to_numpy())
    return max(1.0, sum(terms) / len(terms))


def test_p_values_are_quasi_poisson_tails_under_false_discovery_control(con, frame, latest):
    """Each cell's tails are the Poisson tails (chi-square form) of the effective count latest / phi
    against expected / phi, phi the category's prediction dispersion recomputed here; flags follow
    Benjamini-Hochberg q-values (statsmodels) of the two-sided p-values over all cells."""
    from statsmodels.stats.multitest import multipletests

    phis = {c: independent_prediction_dispersion(con, get(c), latest) for c in ttcg.DEFAULT_CATEGORIES}
    for r in frame.itertuples():
        phi = phis[r.category]
        assert r.dispersion == pytest.approx(phi, rel=1e-9), r.category
        k, e = r.latest / phi, r.expected / phi
        high = 1.0 if k == 0 else stats.chi2.cdf(2 * e, 2 * k)
        assert r.p_high == pytest.approx(high, rel=1e-9, abs=1e-300)
        assert r.p_low == pytest.approx(stats.chi2.sf(2 * e, 2 * k + 2), rel=1e-9, abs=1e-300)
        assert r.ratio == pytest.approx(r.latest / r.expected)
    two = [min(1.0, 2 * min(a, b)) for a, b in zip(frame["p_high"], frame["p_low"])]
    reject, q, _, _ = multipletests(two, alpha=0.05, method="fdr_bh")
    assert frame["q"].to_numpy() == pytest.approx(q, rel=1e-9)
    for r, rej in zip(frame.itertuples(), reject):
        want = (
            ttcg.FLAG_HIGH
            if rej and r.latest > r.expected and r.latest >= ttcg.MIN_HIGH_COUNT
            else ttcg.FLAG_LOW
            if rej and r.latest < r.expected
            else ""
        )
        assert r.flag == want
    assert all(p > 1.3 for p in phis.values()), (
        "ward months stray from a 12-month mean well beyond Poisson chance"
    )
    # The exact Poisson tails at p < 0.01 flagged a dozen cells this month; chance alone explains them.
    old = [
        ttcg.flag_for(int(r.latest), *ttcg.poisson_tails(int(r.latest), r.expected), alpha=0.01)
        for r in frame.itertuples()
    ]
    assert sum(1 for f in old if f) >= 5
    assert (frame["flag"] == "").all()


def test_a_cell_far_above_its_expectation_is_still_flagged():
    """Synthetic: one cell at four times its expectation among 139 on it is flagged; the rest are not."""
    p_high = [ttcg.poisson_tails(80, 20.0, 2.0)[0]] + [0.5] * 139
    p_low = [ttcg.poisson_tails(80, 20.0, 2.0)[1]] + [0.5] * 139
    q = ttcg.cell_q_values(pd.Series(p_high).to_numpy(), pd.Series(p_low).to_numpy())
    assert q[0] < 0.001 and (q[1:] > 0.05).all()
    assert ttcg.flag_for(80, q[0], 1.0) == ttcg.FLAG_HIGH and ttcg.flag_for(20, q[1], q[1]) == ""


def test_poisson_tails_edge_cases():
    assert ttcg.poisson_tails(0, 3.0) == pytest.approx((1.0, math.exp(-3.0)))
    hi, lo = ttcg.poisson_tails(5, 0.0)  # nothing expected, five seen: as extreme as it gets
    assert hi == 0.0 and lo == 1.0
    assert all(math.isnan(x) for x in ttcg.poisson_tails(3, float("nan")))
    assert ttcg.flag_for(2, 0.001, 0.99) == ""  # too few offences to call "well above"
    assert ttcg.flag_for(9, 0.009, 0.99) == ttcg.FLAG_HIGH
    assert ttcg.flag_for(0, 1.0, 0.005) == ttcg.FLAG_LOW


def test_an_uncovered_month_or_category_is_refused(warehouse):
    with pytest.raises(ttcg.TTCGError, match="do not cover"):
        ttcg.ward_expected(date(2031, 1, 1))
    with pytest.raises(ttcg.TTCGError, match="unknown TTCG category"):
        ttcg.ward_expected(date(2026, 2, 1), ["robbery", "business"])  # business crime has no ward data


# ---------------------------------------------------------------- exceptions


def test_exceptions_are_sorted_and_name_real_wards(con, items, frame, latest):
    assert items, "the latest month has exceptions in the embedded data"
    ward_names = set(con.execute("SELECT ward_name FROM w").df()["ward_name"])
    sev = [e.severity for e in items]
    assert sev == sorted(sev, reverse=True)
    assert [ttcg.sort_key(e) for e in items] == sorted(ttcg.sort_key(e) for e in items)
    for e in items:
        assert e.kind in ("borough", "ward", "lsoa")
        assert e.severity in (ttcg.HIGH, ttcg.MEDIUM, ttcg.LOW)
        assert e.what and e.figure and e.category in ttcg.DEFAULT_CATEGORIES
        if e.kind == "borough":
            assert e.where.startswith(settings().borough_name)
        else:
            assert e.where in ward_names, e
    # (b) is exactly the "well above expected" cells of the frame
    wards = {(e.ward_code, e.category) for e in items if e.kind == "ward"}
    assert wards == set(
        zip(*[frame.loc[frame["flag"] == ttcg.FLAG_HIGH, c] for c in ("ward_code", "category")])
    )
    # (c) LSOAs are new or intensifying, and their ward is the LSOA's ward in the warehouse
    lsoa_wards = dict(
        con.execute(
            f"SELECT lsoa21_code, ward_code FROM read_parquet('{settings().warehouse_dir / 'lsoas.parquet'}')"
        ).fetchall()
    )
    for e in items:
        if e.kind == "lsoa":
            assert e.extra["class"] in ("new", "intensifying")
            assert lsoa_wards[e.extra["lsoa"]] == e.ward_code


def test_borough_breaches_agree_with_the_control_chart(items, latest):
    from csp_data.analysis.stats import monthly_control

    for c in ttcg.DEFAULT_CATEGORIES:
        b = ttcg.borough_control(latest, c)
        listed = [e for e in items if e.kind == "borough" and e.category == c]
        assert bool(listed) == (b.signal in ("above", "below"))
        if b.source == "borough":  # recompute from the borough series itself
            from csp_data.warehouse import sql

            m = get(c)
            df = sql.run(
                "crime/borough_monthly",
                borough_code=settings().borough_code,
                majors=list(m.majors),
                minors=list(m.minors),
            )
            df = df[pd.to_datetime(df["month"]).dt.date <= latest]
            ch = monthly_control(df[["month", "count"]])
            assert ch["signal"].iloc[-1] == b.signal


def test_display_lines_group_lsoas_and_keep_order(items):
    lines = ttcg.display_lines(items)
    assert [ln.severity for ln in lines] == sorted((ln.severity for ln in lines), reverse=True)
    n_lsoa_groups = len({(e.category, e.extra["class"]) for e in items if e.kind == "lsoa"})
    assert len(lines) == sum(e.kind != "lsoa" for e in items) + n_lsoa_groups
    for ln in lines:
        assert ln.symbol in "▲▼◆" and ln.where and ln.text


def test_lsoa_hot_spot_exceptions_rest_on_permutation_and_fdr(items, latest):
    """Every LSOA exception is an LSOA that Gi* (9,999 conditional permutations, BH across the 169
    LSOAs) calls a hot spot in the window's final month: the same test as the Hotspots page."""
    from csp_data.analysis import hotspots

    start, end = ttcg.lsoa_window(latest)
    lsoa_items = [e for e in items if e.kind == "lsoa"]
    for cat in {e.category for e in lsoa_items}:
        m = ttcg.measures([cat])[0]
        gi = hotspots.lsoa_hotspots(list(m.majors), list(m.minors), end, end).set_index("code")
        for e in (x for x in lsoa_items if x.category == cat):
            assert gi.at[e.extra["lsoa"], "klass"].startswith("hot spot"), e
            assert gi.at[e.extra["lsoa"], "q"] < 0.10
    # robbery: no LSOA is hot in the final month, so no robbery LSOA exception
    assert not [e for e in lsoa_items if e.category == "robbery"]


def test_lsoa_note_says_plainly_where_nothing_survives(latest):
    em = {c: ttcg.lsoa_emerging(latest, c) for c in ttcg.DEFAULT_CATEGORIES}
    note = ttcg.lsoa_hotspot_note(latest, ttcg.DEFAULT_CATEGORIES, emerging=em)
    none = [c for c in ttcg.DEFAULT_CATEGORIES if not em[c]["emerging"].isin(ttcg.HOT_FINAL).any()]
    assert "robbery" in none
    assert ("no LSOA is a hot spot after allowing for 169 areas tested at once." in note) == bool(none)
    for c in none:
        assert get(c).label.lower() in note.split("no LSOA")[0]
    some = [c for c in ttcg.DEFAULT_CATEGORIES if c not in none]
    for c in some:
        assert f"{get(c).label} {int(em[c]['emerging'].isin(ttcg.HOT_FINAL).sum())}" in note
    # the wall screen's short form names the categories with none, and nothing else
    short = ttcg.lsoa_hotspot_note(latest, ttcg.DEFAULT_CATEGORIES, emerging=em, short=True)
    assert (
        short.startswith("No LSOA hot spot in ") and "after allowing for 169 areas tested at once: " in short
    )
    assert short.endswith(", ".join(get(c).label.lower() for c in none) + ".")


# ---------------------------------------------------------------- URL handling

MONTHS = [date(2025, m, 1) for m in range(1, 13)] + [date(2026, 1, 1), date(2026, 2, 1)]
WARDS = {"E05009333": "Spitalfields & Banglatown", "E05009336": "Whitechapel"}


def test_view_defaults_and_valid_parameters():
    v = ttcg.resolve_view({}, MONTHS, WARDS)
    assert (v.month, v.categories, v.ward, v.map_category, v.warnings) == (
        date(2026, 2, 1),
        ttcg.DEFAULT_CATEGORIES,
        None,
        None,
        (),
    )
    v = ttcg.resolve_view(
        {
            "month": "2025-06",
            "categories": "Robbery, burglary,robbery",
            "ward": "e05009333",
            "map": "burglary",
        },
        MONTHS,
        WARDS,
    )
    assert (v.month, v.categories, v.ward, v.map_category, v.warnings) == (
        date(2025, 6, 1),
        ("robbery", "burglary"),
        "E05009333",
        "burglary",
        (),
    )


@pytest.mark.parametrize(
    "params, fragment",
    [
        ({"month": "2026-13"}, "is not a month"),
        ({"month": "__import__('os')"}, "is not a month"),
        ({"month": "2031-01"}, "cannot be shown"),
        ({"categories": "robbery,arson"}, "Unknown category “arson”"),
        ({"categories": "nonsense"}, "standard TTCG set"),
        ({"ward": "E05000001"}, "not a ward of this borough"),
        ({"ward": "[x](javascript:alert(1))"}, "not a ward of this borough"),
        ({"map": "theft", "categories": "robbery"}, "The map cannot show"),
    ],
)
def test_bad_parameters_fall_back_with_a_warning(params, fragment):
    v = ttcg.resolve_view(params, MONTHS, WARDS)
    assert any(fragment in w for w in v.warnings), v.warnings
    assert v.month in MONTHS and v.categories and set(v.categories) <= set(ttcg.ALLOWED_CATEGORIES)
    assert v.ward in (None, *WARDS)
    for w in v.warnings:  # a quoted URL value can't carry Markdown or a link into the message
        for quoted in re.findall(r"“(.*?)”", w):
            assert not set(quoted.replace("\\_", "")) & set("()[]<>`*_!#\\"), quoted


def test_query_string_round_trip():
    q = ttcg.query_string(date(2026, 2, 1), ["robbery", "burglary"], "E05009333", "burglary")
    assert q == "?month=2026-02&categories=robbery,burglary&ward=E05009333&map=burglary"
    params = dict(p.split("=") for p in q[1:].split("&"))
    v = ttcg.resolve_view(params, MONTHS, WARDS)
    assert (v.month, v.categories, v.ward, v.map_category) == (
        date(2026, 2, 1),
        ("robbery", "burglary"),
        "E05009333",
        "burglary",
    )


# ---------------------------------------------------------------- table and map


def test_grid_cells_say_it_in_symbols_and_words(frame):
    table = ttcg.grid(frame, ttcg.DEFAULT_CATEGORIES, focus_ward="E05009333")
    assert (
        len(table) == 20
        and table.loc[0, "ward_code"] == "E05009333"
        and table.loc[0, "Ward"].startswith("▶ ")
    )
    labels = [get(c).label for c in ttcg.DEFAULT_CATEGORIES]
    assert list(table.columns) == ["ward_code", "Ward", *labels, "flags"]
    for r in frame.itertuples():
        cell = table.loc[table["ward_code"] == r.ward_code, r.label].iloc[0]
        assert cell.startswith({ttcg.FLAG_HIGH: "▲ ", ttcg.FLAG_LOW: "▼ ", "": ""}[r.flag])
        assert f"{r.latest:,d} ({r.expected:.0f})" in cell
    md = ttcg.grid_markdown(table)
    assert md.count("\n") == 21 and "\\&" not in md


def test_map_is_offline_labelled_and_fits(frame, warehouse, latest):
    shapes = geo.simplify(geo.ward_geometry(), 15.0)
    em = ttcg.lsoa_emerging(latest, "robbery")
    from csp_data.analysis import hotspots

    spec = ttcg_map.ratio_map(
        frame,
        "robbery",
        shapes,
        hotspots.lsoa_geometry()[["code", "geometry"]],
        em,
        focus_ward="E05009333",
        height=640,
        width=760,
    )
    doc = json.loads(spec.deck.to_json())
    assert "http" not in spec.deck.to_json()
    assert doc.get("mapProvider") is None
    # the app's own no-source style (see maps.CompactDeck): Streamlit adds no basemap
    assert isinstance(spec.deck, maps.CompactDeck) and doc.get("mapStyle") == maps.OFFLINE_STYLE_URL
    layers = {layer["id"]: layer for layer in doc["layers"]}
    assert {"wards", "ward_labels", "focus"} <= set(layers)
    texts = [t["text"] for t in layers["ward_labels"]["data"]]
    names = {ttcg_map.wrap_name(n) for n in frame["ward_name"].unique()}
    assert all(any(t.startswith(n) for t in texts) for n in names)
    flagged = frame[(frame["category"] == "robbery") & (frame["flag"] == ttcg.FLAG_HIGH)]
    assert sum("\n▲ " in t for t in texts) == len(flagged)
    for r in flagged.itertuples():
        assert any(
            t.startswith(ttcg_map.wrap_name(r.ward_name)) and f"▲ {r.latest} vs {r.expected:.0f}" in t
            for t in texts
        )
    hot = em[em["emerging"].isin(["new", "intensifying"])]
    if not hot.empty:
        assert len(layers["lsoa_labels"]["data"]) == len(hot)


@pytest.mark.parametrize("category", ttcg.DEFAULT_CATEGORIES)
def test_ward_labels_do_not_overlap(frame, category):
    """Labels as drawn for each category (flagged wards get a second line) keep clear of each other
    (text boxes estimated as label_points does) and each sits inside its own ward."""
    shapes = geo.simplify(geo.ward_geometry(), 15.0)
    spec = ttcg_map.ratio_map(frame, category, shapes, height=640, width=760)
    doc = json.loads(spec.deck.to_json())
    zoom = doc["initialViewState"]["zoom"]
    labels = next(layer for layer in doc["layers"] if layer["id"] == "ward_labels")["data"]
    names = [t["text"] for t in labels]
    pts = [tuple(t["position"]) for t in labels]
    by_code = dict(zip(shapes["code"], shapes.geometry))
    codes = [t["code"] for t in labels]
    assert sorted(codes) == sorted(by_code)
    boxes = []
    for text, (lon, lat) in zip(names, pts):
        lines = text.split("\n")
        w = 0.64 * ttcg_map.WARD_LABEL_SIZE * max(map(len, lines)) + 10
        h = 1.05 * ttcg_map.WARD_LABEL_SIZE * len(lines) + 6
        x, y = ttcg_map._mercator_px(lon, lat, zoom)
        boxes.append((x - w / 2, y - h / 2, x + w / 2, y + h / 2))
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert a[2] < b[0] or a[0] > b[2] or a[3] < b[1] or a[1] > b[3], (a, b)
    import shapely

    for code, (lon, lat) in zip(codes, pts):  # and each label sits in its own ward
        assert by_code[code].buffer(1e-4).contains(shapely.Point(lon, lat))


# ---------------------------------------------------------------- caching on the warehouse stamp


def test_cached_loaders_recompute_when_the_warehouse_changes(warehouse, monkeypatch):
    from csp_data.ui import cache
    from csp_data.ui import ttcg as data

    calls = []
    real = ttcg.ward_expected
    monkeypatch.setattr(ttcg, "ward_expected", lambda *a, **k: calls.append(a) or real(*a, **k))
    stamp = iter(["build-1", "build-1", "build-2"])
    monkeypatch.setattr(cache, "warehouse_key", lambda: next(stamp))
    month = date(2026, 2, 1)
    first = data.ward_expected(month, ["robbery"])
    again = data.ward_expected(month, ["robbery"])
    assert len(calls) == 1 and first.equals(again)
    data.ward_expected(month, ["robbery"])  # a rebuild: new stamp, computed afresh
    assert len(calls) == 2


# ---------------------------------------------------------------- the page (AppTest)


def open_ttcg(**params) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    at.switch_page(PAGE).run()
    return at


def page_text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.main.markdown)


def assert_offline_map(at: AppTest) -> dict:
    charts = at.get("deck_gl_json_chart")
    assert len(charts) == 1
    raw = charts[0].proto.json
    doc = json.loads(raw)
    assert "http" not in raw, "the deck names a remote style or tiles"
    assert doc.get("mapProvider") is None and doc.get("mapStyle") == maps.OFFLINE_STYLE_URL
    assert any(layer.get("@@type") == "TextLayer" for layer in doc["layers"])
    return doc


def test_page_default_view(app_env, latest):
    at = open_ttcg()
    assert not at.exception and not at.error and not page_warnings(at), page_warnings(at)
    assert [t.value for t in at.main.title] == [f"TTCG · {latest:%B %Y}"]
    text = page_text(at)
    assert "exception" in text and "### " in text
    assert "Map: " in text
    assert_offline_map(at)
    # the "change view" controls write the URL, starting from what is shown
    assert at.selectbox(key="ttcg_month").value == f"{latest:%Y-%m}"
    assert at.multiselect(key="ttcg_categories").value == list(ttcg.DEFAULT_CATEGORIES)


def test_page_uses_valid_url_parameters(app_env):
    at = open_ttcg(month="2026-02", categories="robbery,burglary", ward="E05009333")
    assert not at.exception and not at.error and not page_warnings(at), page_warnings(at)
    assert [t.value for t in at.main.title] == ["TTCG · February 2026"]
    text = page_text(at)
    assert "## Map: Robbery against expected" in text
    assert "black outline: Spitalfields & Banglatown" in text
    assert "▶ Spitalfields & Banglatown" in text
    assert "| Ward | Robbery | Burglary |" in text and "Theft" not in text.split("| Ward |")[1].split("\n")[0]
    assert at.multiselect(key="ttcg_categories").value == ["robbery", "burglary"]
    assert at.selectbox(key="ttcg_ward").value == "E05009333"
    doc = assert_offline_map(at)
    assert any(layer["id"] == "focus" for layer in doc["layers"])


@pytest.mark.parametrize(
    "params, fragment",
    [
        ({"month": "1999-99"}, "is not a month"),
        ({"month": "2040-01"}, "cannot be shown"),
        ({"categories": "robbery,not-a-crime"}, "Unknown category"),
        ({"ward": "E05999999"}, "not a ward of this borough"),
    ],
)
def test_page_warns_on_invalid_url_parameters(app_env, latest, params, fragment):
    at = open_ttcg(**params)
    assert not at.exception and not at.error
    warnings = [w.value for w in at.warning]
    assert any(fragment in w for w in warnings), warnings
    assert [t.value for t in at.main.title] == [f"TTCG · {latest:%B %Y}"]  # fell back to the latest month
    assert_offline_map(at)


def test_change_view_controls_write_the_url(app_env):
    def param(at, name):
        v = at.query_params[name]
        return v[-1] if isinstance(v, list) else v

    at = open_ttcg(month="2026-02", categories="robbery,burglary", map="burglary")
    assert not page_warnings(at), page_warnings(at)
    at.multiselect(key="ttcg_categories").set_value(["theft", "vehicle"]).run()
    assert not at.exception and not page_warnings(at), page_warnings(at)
    assert param(at, "categories") == "theft,vehicle"
    assert "map" not in at.query_params  # it named a category no longer shown
    assert param(at, "month") == "2026-02"
    assert "| Ward | Theft | Vehicle |" in page_text(at)
    at.selectbox(key="ttcg_month").set_value("2025-12").run()
    assert not at.exception
    assert param(at, "month") == "2025-12"
    assert [t.value for t in at.main.title] == ["TTCG · December 2025"]
