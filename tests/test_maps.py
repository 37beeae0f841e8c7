"""Offline pydeck maps (csp_data/present/maps.py): compact deck JSON, no basemap or other host, choropleth
colours and on-map hot-spot labels, diverging colours for change, hex bins, payload size and the
ward boundaries. Real boundaries come from the embedded files (via the ``warehouse`` fixture)."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pydeck as pdk
import pytest
import shapely
from shapely.geometry import Point, box

from csp_data.analysis import areas as analysis
from csp_data.analysis import hotspots
from csp_data.config import REPO_ROOT
from csp_data.present import maps
from csp_data.present.maps import DIVERGING, FILL_ALPHA, HOTSPOT_COLOURS, SEQUENTIAL
from csp_data.warehouse import geo
from csp_data.warehouse.geo import MapError

TOOLTIP = "{name}\n{count} offences"
GREY_NAN = [200, 200, 200, 120]


# ---------------------------------------------------------------- helpers and fixtures


def deck_json(spec: maps.MapSpec) -> dict:
    return json.loads(spec.deck.to_json())


def layer(doc: dict, layer_id: str) -> dict:
    found = [lyr for lyr in doc["layers"] if lyr.get("id") == layer_id]
    assert len(found) == 1, (
        f"expected one layer {layer_id!r}, layers are {[lyr.get('id') for lyr in doc['layers']]}"
    )
    return found[0]


def layer_ids(doc: dict) -> list[str]:
    return [lyr.get("id") for lyr in doc["layers"]]


def assert_offline_deck(spec: maps.MapSpec) -> None:
    """No basemap provider, style or token, and no URL of any kind in what the browser receives."""
    deck = spec.deck
    text = deck.to_json()
    assert deck.map_provider is None
    assert deck.map_style is None
    assert not deck.mapbox_key and not getattr(deck, "carto_key", None)
    doc = json.loads(text)
    # the inline style has no sources, so the map draws a plain background and fetches nothing
    # the style is the app's own file (a plain background with no sources): nothing else is fetched
    assert doc.get("mapProvider") is None and doc.get("mapStyle") == maps.OFFLINE_STYLE_URL
    served = json.loads((REPO_ROOT / "static" / "offline-map-style.json").read_text())
    assert served == maps.OFFLINE_STYLE and served["sources"] == {} and "glyphs" not in served
    assert "http" not in text.lower(), "the deck JSON names an absolute URL"
    for host in ("mapbox", "carto", "basemaps", "google", "tile"):
        assert host not in text.lower(), f"the deck JSON mentions {host!r}"
    tooltip = json.dumps(deck._tooltip)
    assert "http" not in tooltip.lower()


@pytest.fixture(scope="module")
def lsoa_raw(warehouse) -> gpd.GeoDataFrame:
    return hotspots.lsoa_geometry()


@pytest.fixture(scope="module")
def lsoa_simple(lsoa_raw) -> gpd.GeoDataFrame:
    return geo.simplify(lsoa_raw)


@pytest.fixture(scope="module")
def wards(warehouse) -> gpd.GeoDataFrame:
    return geo.ward_geometry()


@pytest.fixture(scope="module")
def robbery_counts(warehouse) -> pd.DataFrame:
    period = analysis.resolve_period("Last 12 months", analysis.latest_month("LSOAs"))
    return hotspots.lsoa_period_counts(["ROBBERY"], [], period.start, period.end)[
        ["lsoa21_code", "count"]
    ].rename(columns={"lsoa21_code": "code"})


@pytest.fixture(scope="module")
def lsoa_counts(lsoa_simple, robbery_counts) -> gpd.GeoDataFrame:
    g = lsoa_simple.merge(robbery_counts, on="code")
    assert len(g) == 169
    return g[["code", "name", "ward_code", "count", "geometry"]]


def squares(values: list) -> gpd.GeoDataFrame:
    """A row of unit-ish squares near Tower Hamlets with ``values`` as ``change``."""
    n = len(values)
    geoms = [box(-0.06 + i * 0.002, 51.51, -0.06 + (i + 1) * 0.002, 51.512) for i in range(n)]
    return gpd.GeoDataFrame(
        {"code": [f"A{i}" for i in range(n)], "name": [f"Area {i}" for i in range(n)], "change": values},
        geometry=geoms,
        crs=4326,
    )


# ---------------------------------------------------------------- compact JSON and offline


def test_compact_deck_json_has_no_newlines_and_is_the_same_deck(wards):
    g = wards.assign(count=np.arange(len(wards)))
    spec = maps.choropleth(g, "count", TOOLTIP, label_col="name")
    assert isinstance(spec.deck, maps.CompactDeck)
    text = spec.deck.to_json()
    assert "\n" not in text and "\r" not in text
    assert not re.search(r"[\[{,:]\s", text), "no spaces after separators: the JSON is fully compact"
    parsed = json.loads(text)
    indented = pdk.Deck.to_json(spec.deck)  # pydeck's own, indented output
    assert "\n" in indented, "pydeck indents; if it stops, this class is unnecessary"
    assert {k: v for k, v in parsed.items() if k != "mapStyle"} == json.loads(indented)
    assert parsed["mapStyle"] == maps.OFFLINE_STYLE_URL
    assert len(text) < len(indented)
    assert spec.payload_bytes == len(text.encode("utf-8")) == len(text)


def test_choropleth_and_hexbins_are_offline(lsoa_counts, wards):
    assert_offline_deck(maps.choropleth(lsoa_counts, "count", TOOLTIP, outline=wards))
    assert_offline_deck(maps.choropleth(wards.assign(count=1), "count", TOOLTIP, label_col="name"))
    pts = pd.DataFrame({"longitude": [-0.05, -0.04], "latitude": [51.52, 51.51]})
    assert_offline_deck(maps.hexbins(pts, outline=wards, show_points=True))


# ---------------------------------------------------------------- choropleth on real LSOAs


def test_choropleth_one_feature_per_lsoa_with_palette_fills(lsoa_counts):
    spec = maps.choropleth(lsoa_counts, "count", TOOLTIP)
    doc = deck_json(spec)
    assert layer_ids(doc) == ["areas"], "no labels asked for: no text layer"
    feats = layer(doc, "areas")["data"]["features"]
    assert len(feats) == 169
    assert sorted(f["properties"]["code"] for f in feats) == sorted(lsoa_counts["code"])
    allowed = [[*c, FILL_ALPHA] for c in SEQUENTIAL]
    fills = {f["properties"]["code"]: f["properties"]["fill"] for f in feats}
    assert all(fill in allowed for fill in fills.values()), "every fill is a palette colour"
    by_count = lsoa_counts.set_index("code")["count"]
    assert fills[by_count.idxmin()] == allowed[0], "lowest count: palest"
    assert fills[by_count.idxmax()] == allowed[-1], "highest count: darkest"
    # darker never means fewer: the palette index does not fall as the count rises
    idx = pd.Series({c: allowed.index(f) for c, f in fills.items()})
    order = by_count.sort_values(kind="stable").index
    assert (np.diff(idx[order].to_numpy()) >= 0).all()
    for f in feats:
        assert f["properties"]["count"] == int(by_count[f["properties"]["code"]])
        assert f["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert list(spec.legend["Colour"]) == ["palest", "darkest"]
    assert spec.legend["Means"].iloc[0] == f"lowest ({by_count.min():,.1f})"
    assert spec.legend["Means"].iloc[1] == f"highest ({by_count.max():,.1f})"


def test_tooltip_is_a_plain_text_template(lsoa_counts):
    spec = maps.choropleth(lsoa_counts, "count", TOOLTIP)
    assert spec.deck._tooltip == {"text": TOOLTIP}
    assert "html" not in spec.deck._tooltip
    pts = pd.DataFrame({"longitude": [-0.05], "latitude": [51.52]})
    hx = maps.hexbins(pts).deck._tooltip
    assert set(hx) == {"text"} and "{elevationValue}" in hx["text"]


def test_coordinates_are_rounded_to_5_decimals(lsoa_counts):
    doc = deck_json(maps.choropleth(lsoa_counts.head(5), "count", TOOLTIP))

    def flat(c):
        return [c] if isinstance(c, (int, float)) else [x for y in c for x in flat(y)]

    coords = [x for f in layer(doc, "areas")["data"]["features"] for x in flat(f["geometry"]["coordinates"])]
    assert coords and all(round(x, 5) == x for x in coords)


@pytest.mark.parametrize(
    "klass, text",
    [
        ("hot spot 99%", "HOT 99%"),
        ("hot spot 95%", "HOT 95%"),
        ("hot spot 90%", "HOT 90%"),
        ("not significant", ""),
        ("cold spot 90%", "COLD 90%"),
        ("cold spot 95%", "COLD 95%"),
        ("cold spot 99%", "COLD 99%"),
    ],
)
def test_class_label(klass, text):
    assert maps.class_label(klass) == text


def test_class_labels_only_for_significant_areas(lsoa_counts):
    codes = sorted(lsoa_counts["code"])
    chosen = {codes[3]: "hot spot 99%", codes[40]: "hot spot 95%", codes[90]: "cold spot 90%"}
    g = lsoa_counts.copy()
    g["klass"] = [chosen.get(c, "not significant") for c in g["code"]]
    g["spot"] = g["klass"].map(maps.class_label)
    spec = maps.choropleth(g, "count", TOOLTIP + "\n{klass}", class_col="klass", class_label_col="spot")
    doc = deck_json(spec)
    texts = layer(doc, "labels")["data"]
    assert sorted(t["text"] for t in texts) == ["COLD 90%", "HOT 95%", "HOT 99%"]
    # each label sits inside its own area
    shapes = g.set_index("code").geometry
    for code, klass in chosen.items():
        label = [t for t in texts if t["text"] == maps.class_label(klass)]
        assert len(label) == 1
        assert shapes[code].distance(Point(label[0]["position"])) < 1e-4, code
    fills = {
        f["properties"]["code"]: f["properties"]["fill"] for f in layer(doc, "areas")["data"]["features"]
    }
    for code, fill in fills.items():
        assert fill == [*HOTSPOT_COLOURS[chosen.get(code, "not significant")], FILL_ALPHA]
    assert list(spec.legend["Class"]) == list(HOTSPOT_COLOURS)
    key = dict(zip(spec.legend["Class"], spec.legend["Shown on the map"]))
    assert key["hot spot 95%"] == "colour and the label HOT 95%"
    assert key["not significant"] == "colour only (pale)"


def test_real_gi_star_labels_match_the_significant_classes(lsoa_simple):
    period = analysis.resolve_period("Last 12 months", analysis.latest_month("LSOAs"))
    # vehicle offences cluster strongly enough to survive permutation and FDR (robbery does not)
    gi = hotspots.lsoa_hotspots(["VEHICLE OFFENCES"], [], period.start, period.end)
    g = lsoa_simple.merge(gi[["code", "count", "klass"]], on="code")
    g["spot"] = g["klass"].map(maps.class_label)
    spec = maps.choropleth(
        g[["code", "name", "count", "klass", "spot", "geometry"]],
        "count",
        TOOLTIP,
        class_col="klass",
        class_label_col="spot",
    )
    doc = deck_json(spec)
    significant = gi[gi["klass"] != "not significant"]
    assert len(significant) > 0, "vehicle offences over 12 months have significant hot spots in Tower Hamlets"
    texts = sorted(t["text"] for t in layer(doc, "labels")["data"])
    assert texts == sorted(significant["klass"].map(maps.class_label))
    assert all(re.fullmatch(r"(HOT|COLD) (90|95|99)%", t) for t in texts)


def test_labels_combine_class_and_name_and_outline_is_drawn(wards, lsoa_counts):
    g = lsoa_counts.copy()
    g["spot"] = ["HOT 95%" if i == 0 else "" for i in range(len(g))]
    spec = maps.choropleth(g, "count", TOOLTIP, label_col="name", class_label_col="spot", outline=wards)
    doc = deck_json(spec)
    assert layer_ids(doc) == ["areas", "outline", "labels"]
    texts = layer(doc, "labels")["data"]
    assert len(texts) == 169
    assert sum(t["text"].startswith("HOT 95%\n") for t in texts) == 1
    assert len(layer(doc, "outline")["data"]["features"]) == 20


def test_choropleth_refuses_what_it_cannot_draw(lsoa_counts):
    with pytest.raises(MapError, match="no areas"):
        maps.choropleth(lsoa_counts.iloc[0:0], "count", TOOLTIP)
    with pytest.raises(MapError, match="no column 'rate'"):
        maps.choropleth(lsoa_counts, "rate", TOOLTIP)


# ---------------------------------------------------------------- diverging colours


def test_diverging_puts_falls_on_the_blue_side_and_rises_on_the_red():
    values = [-8, -2, 0, 3, 8, None]
    spec = maps.choropleth(squares(values), "change", "{name}: {change}", diverging=True)
    fills = [f["properties"]["fill"] for f in layer(deck_json(spec), "areas")["data"]["features"]]
    pal = [[*c, FILL_ALPHA] for c in DIVERGING]
    middle = len(DIVERGING) // 2
    idx = [pal.index(f) if f in pal else None for f in fills]
    assert idx[0] == 0, "the largest fall is the darkest blue"
    assert idx[1] is not None and idx[1] < middle, "a fall is on the blue side"
    assert idx[2] == middle, "no change is the neutral colour"
    assert idx[3] is not None and idx[3] > middle, "a rise is on the red side"
    assert idx[4] == len(DIVERGING) - 1, "the largest rise is the darkest red"
    assert fills[5] == GREY_NAN, "no figure: grey, not a colour of the scale"
    # blue side really is blue, red side really is red
    for i in range(middle):
        r, g, b = DIVERGING[i]
        assert b > r, DIVERGING[i]
    for i in range(middle + 1, len(DIVERGING)):
        r, g, b = DIVERGING[i]
        assert r > b, DIVERGING[i]
    assert list(spec.legend["Colour"]) == ["blue", "red"]
    assert list(spec.legend["Means"]) == ["largest fall (-8)", "largest rise (8)"]


def test_diverging_with_only_falls_keeps_them_blue():
    fills = [
        f["properties"]["fill"]
        for f in layer(
            deck_json(maps.choropleth(squares([-5, -3, -1]), "change", "{name}", diverging=True)), "areas"
        )["data"]["features"]
    ]
    pal = [[*c, FILL_ALPHA] for c in DIVERGING]
    assert [pal.index(f) for f in fills][0] == 0
    assert all(pal.index(f) < len(DIVERGING) // 2 for f in fills[:2])


def test_sequential_with_equal_values_does_not_divide_by_zero():
    fills = [
        f["properties"]["fill"]
        for f in layer(deck_json(maps.choropleth(squares([4, 4, 4]), "change", "{name}")), "areas")["data"][
            "features"
        ]
    ]
    assert fills == [[*SEQUENTIAL[0], FILL_ALPHA]] * 3


# ---------------------------------------------------------------- hex bins


def test_hexbins_refuses_an_empty_frame():
    with pytest.raises(MapError, match="no located records"):
        maps.hexbins(pd.DataFrame({"longitude": [], "latitude": []}))
    with pytest.raises(MapError, match="no located records"):
        maps.hexbins(pd.DataFrame({"longitude": [None, np.nan], "latitude": [51.5, None]}))


def test_hexbins_count_every_located_point(wards):
    pts = pd.DataFrame(
        {"longitude": [-0.05, -0.05, -0.04, -0.03, None], "latitude": [51.52, 51.52, 51.51, 51.50, 51.5]}
    )
    spec = maps.hexbins(pts, outline=wards)
    doc = deck_json(spec)
    assert layer_ids(doc) == ["hexes", "outline"]
    hexes = layer(doc, "hexes")
    assert hexes["@@type"] == "HexagonLayer"
    assert len(hexes["data"]) == 4, "one datum per located record; records sharing a snap point all count"
    assert hexes["data"].count({"p": [-0.05, 51.52]}) == 2
    assert hexes["radius"] == 150
    with_points = deck_json(maps.hexbins(pts, show_points=True))
    assert layer_ids(with_points) == ["hexes", "points"]
    assert len(layer(with_points, "points")["data"]) == 4
    assert list(spec.legend["Colour"]) == ["palest", "darkest"]


def test_hexbins_on_real_burglary_points(warehouse):
    from csp_data.warehouse import sql

    last = sql.run("street/coverage", crime_type="Burglary")["last_month"].iloc[0]
    period = analysis.resolve_period("Last 12 months", pd.Timestamp(last).date())
    pts = analysis.street_points("Burglary", period)
    located = pts.dropna(subset=["longitude", "latitude"])
    assert len(located) > 100
    spec = maps.hexbins(pts)
    assert len(layer(deck_json(spec), "hexes")["data"]) == len(located)
    assert_offline_deck(spec)


# ---------------------------------------------------------------- payload and boundaries


def test_simplified_lsoa_payload_is_smaller(lsoa_raw, lsoa_simple, robbery_counts):
    raw = lsoa_raw.merge(robbery_counts, on="code")[["code", "name", "count", "geometry"]]
    simple = lsoa_simple.merge(robbery_counts, on="code")[["code", "name", "count", "geometry"]]
    big = maps.choropleth(raw, "count", TOOLTIP).payload_bytes
    small = maps.choropleth(simple, "count", TOOLTIP).payload_bytes
    assert small < big / 2, (
        f"simplified LSOA map is {small:,d} bytes, unsimplified {big:,d} bytes: "
        "simplifying at 10 m should at least halve it"
    )
    assert small < 300_000, f"simplified LSOA map is {small:,d} bytes (unsimplified {big:,d})"


def test_simplify_keeps_every_area_and_their_shared_edges(lsoa_raw, lsoa_simple):
    assert len(lsoa_simple) == len(lsoa_raw) == 169
    assert lsoa_simple.crs.to_epsg() == 4326
    assert list(lsoa_simple["code"]) == list(lsoa_raw["code"])
    metric = lsoa_simple.to_crs(27700).geometry.values
    assert shapely.is_valid(metric).all()
    assert shapely.coverage_is_valid(metric), "simplified LSOAs overlap: shared edges were moved apart"
    before, after = lsoa_raw.to_crs(27700).area.sum(), lsoa_simple.to_crs(27700).area.sum()
    assert abs(after - before) / before < 0.001, (before, after)
    assert (
        shapely.get_num_coordinates(metric).sum()
        < shapely.get_num_coordinates(lsoa_raw.geometry.values).sum() / 2
    )


def test_ward_geometry_has_the_20_wards_in_wgs84(wards, warehouse):
    import duckdb

    assert len(wards) == 20
    assert wards.crs is not None and wards.crs.to_epsg() == 4326
    want = duckdb.execute(
        "SELECT ward_code, ward_name FROM read_parquet(?)", [str(warehouse / "wards.parquet")]
    ).df()
    assert sorted(wards["code"]) == sorted(want["ward_code"])
    assert wards["name"].str.strip().ne("").all()
    minx, miny, maxx, maxy = wards.total_bounds
    assert -0.1 < minx < maxx < 0.03 and 51.47 < miny < maxy < 51.56, wards.total_bounds
    assert wards.geometry.is_valid.all()
    # the wards tile the same ground as the LSOAs
    lsoa_area = hotspots.lsoa_geometry().to_crs(27700).area.sum()
    assert abs(wards.to_crs(27700).area.sum() - lsoa_area) / lsoa_area < 0.01


def test_ward_geometry_names_match_the_warehouse(wards, warehouse):
    import duckdb

    want = duckdb.execute(
        "SELECT ward_code, ward_name FROM read_parquet(?)", [str(warehouse / "wards.parquet")]
    ).df()
    assert dict(zip(wards["code"], wards["name"])) == dict(zip(want["ward_code"], want["ward_name"]))


def streamlit_adds_a_basemap(doc: dict) -> bool:
    """Streamlit 1.67's deck.gl frontend (static/js/DeckGlJsonChart.*.js) sets mapStyle to
    https://basemaps.cartocdn.com/gl/positron-gl-style/style.json (dark-matter in a dark theme) when
    the spec's mapStyle is missing or empty and every view is a MapView (no views means the default
    MapView). It deletes pydeck's "__MAP_STYLE__" placeholder and adds no basemap for it, but that is
    undocumented, so the maps do not rely on it (see maps.CompactDeck)."""
    style = doc.get("mapStyle")
    empty_style = style is None or style in ("", "__MAP_STYLE__")
    views = doc.get("views") or [{"@@type": "MapView"}]
    views = views if isinstance(views, list) else [views]
    return empty_style and all(isinstance(v, dict) and v.get("@@type") == "MapView" for v in views)


@pytest.mark.parametrize("kind", ["choropleth", "hexbins"])
def test_streamlit_is_not_left_to_pick_a_basemap(kind, wards):
    if kind == "choropleth":
        spec = maps.choropleth(wards.assign(count=1), "count", TOOLTIP)
    else:
        spec = maps.hexbins(pd.DataFrame({"longitude": [-0.05], "latitude": [51.52]}))
    assert not streamlit_adds_a_basemap(deck_json(spec))
