"""Offline pydeck maps: choropleths of wards or LSOAs, hot-spot classes, and hex-binned points.

Every deck is built with ``map_provider=None``: no basemap tiles, no request to any other host.
Boundaries are drawn as GeoJSON layers and area names as a text layer, so the map still reads
without a basemap. Colour is never the only signal: significant hot and cold spots also carry a
text label on the map ("HOT 95%"), every tooltip states the figures in words, and every page
shows the same figures in a ranked table. Tooltips use plain ``text`` (not HTML), so no data
value is ever interpreted as markup.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import pydeck as pdk

from csp_data.present import memo
from csp_data.present.memo import memoize
from csp_data.warehouse.geo import MapError

# Shapes are loaded in csp_data/warehouse/geo.py; these names stay importable here for the ui loaders.

# Sequential: light yellow to dark purple (colour-blind safe, viridis-like, 7 steps).
SEQUENTIAL = [
    (253, 231, 37),
    (170, 220, 50),
    (94, 201, 98),
    (33, 145, 140),
    (44, 114, 142),
    (59, 82, 139),
    (68, 1, 84),
]
# Diverging for change: blue (fall) - light grey - red (rise).
DIVERGING = [
    (33, 102, 172),
    (103, 169, 207),
    (209, 229, 240),
    (240, 240, 240),
    (253, 219, 199),
    (239, 138, 98),
    (178, 24, 43),
]
HOTSPOT_COLOURS = {
    "hot spot 99%": (165, 0, 38),
    "hot spot 95%": (215, 48, 39),
    "hot spot 90%": (244, 109, 67),
    "not significant": (235, 235, 235),
    "cold spot 90%": (116, 173, 209),
    "cold spot 95%": (69, 117, 180),
    "cold spot 99%": (49, 54, 149),
}
OUTLINE = (40, 40, 40)
FILL_ALPHA = 190


# How every map stays offline. Streamlit 1.67's map component (DeckGlJsonChart) fills in Carto's
# positron basemap (a request to basemaps.cartocdn.com) when a deck's mapStyle is missing or null,
# as pydeck writes it for map_style=None, even with map_provider None; only pydeck's
# "__MAP_STYLE__" placeholder for "no style given" is drawn without one, and that is an
# undocumented detail of the frontend. So every deck names a style served by this app itself
# (static/offline-map-style.json, via server.enableStaticServing): a plain white background with no
# sources, so nothing is fetched from any other host. CompactDeck writes it into every deck.
OFFLINE_STYLE_URL = "/app/static/offline-map-style.json"
OFFLINE_STYLE = {
    "version": 8,
    "name": "offline",
    "sources": {},
    "layers": [{"id": "background", "type": "background", "paint": {"background-color": "#ffffff"}}],
}


class CompactDeck(pdk.Deck):
    """The one deck class for every map: the app's own no-source map style (above), no map
    provider, and JSON with no indentation (pydeck indents by 2, which makes a boundary map's
    payload about five times larger, sent again on every refresh of the TTCG wall screen)."""

    def to_json(self):
        # Made once per deck (memo.derived): decks come from memoised builders and are never
        # changed after they are built, so every run and session reuses the same text.
        return memo.derived(self, "compact-json", CompactDeck._compact_json)

    def _compact_json(self) -> str:
        spec = json.loads(pdk.Deck.to_json(self))
        spec["mapStyle"] = OFFLINE_STYLE_URL
        spec.pop("mapProvider", None)
        return json.dumps(spec, separators=(",", ":"))


def _ramp(values: pd.Series, palette: list[tuple[int, int, int]], diverging: bool = False) -> list[list[int]]:
    v = pd.to_numeric(values, errors="coerce").astype(float)
    out = []
    if diverging:
        m = float(np.nanmax(np.abs(v))) if v.notna().any() else 0.0
        m = m or 1.0
        for x in v:
            if np.isnan(x):
                out.append([200, 200, 200, 120])
                continue
            i = int(round((x / m + 1) / 2 * (len(palette) - 1)))
            out.append([*palette[max(0, min(len(palette) - 1, i))], FILL_ALPHA])
        return out
    lo, hi = (float(np.nanmin(v)), float(np.nanmax(v))) if v.notna().any() else (0.0, 0.0)
    span = (hi - lo) or 1.0
    for x in v:
        if np.isnan(x):
            out.append([200, 200, 200, 120])
            continue
        i = int((x - lo) / span * (len(palette) - 1) + 0.5)
        out.append([*palette[max(0, min(len(palette) - 1, i))], FILL_ALPHA])
    return out


def _round_coords(geom_json):
    if isinstance(geom_json, (list, tuple)):
        if geom_json and isinstance(geom_json[0], (int, float)):
            return [round(float(c), 5) for c in geom_json]
        return [_round_coords(g) for g in geom_json]
    return geom_json


def feature_collection(gdf: gpd.GeoDataFrame, props: list[str]) -> dict:
    """A compact GeoJSON FeatureCollection (coordinates to 5 decimals, about 1 m)."""
    feats = []
    for row, geom in zip(gdf[props].to_dict("records"), gdf.geometry):
        gj = geom.__geo_interface__
        feats.append(
            {
                "type": "Feature",
                "properties": {k: _plain(v) for k, v in row.items()},
                "geometry": {"type": gj["type"], "coordinates": _round_coords(gj["coordinates"])},
            }
        )
    return {"type": "FeatureCollection", "features": feats}


def _plain(v):
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        return None if np.isnan(v) else round(float(v), 3)
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    return v if isinstance(v, (str, int, bool)) else str(v)


@dataclass(frozen=True)
class MapSpec:
    deck: pdk.Deck
    legend: pd.DataFrame  # colour swatch description: class / range and what it means
    payload_bytes: int  # size of the deck JSON, to keep the page light


def fit_zoom(bounds, width: int, height: int, margin: float = 0.04) -> float:
    """The web-Mercator zoom at which ``bounds`` (minx, miny, maxx, maxy in degrees) just fit in a
    ``width`` x ``height`` pixel map (deck.gl's 512-pixel world), leaving ``margin`` on each side."""
    minx, miny, maxx, maxy = bounds

    def merc(lat: float) -> float:
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    w = width * (1 - 2 * margin)
    h = height * (1 - 2 * margin)
    zx = math.log2(w * 360 / (max(maxx - minx, 1e-9) * 512))
    zy = math.log2(h * 2 * math.pi / (max(merc(maxy) - merc(miny), 1e-12) * 512))
    return round(min(zx, zy), 2)


# The maps' default zooms were chosen for Tower Hamlets, whose wards just fit a 1100 x 560 map at
# this zoom. A borough that needs clearly more room (Bromley, Hillingdon...) is zoomed out by the
# difference, so the whole borough shows; one of similar size or smaller keeps the default.
REFERENCE_FIT_ZOOM = 11.87


def borough_zoom(bounds, zoom: float) -> float:
    """``zoom``, lowered by as much as ``bounds`` need beyond Tower Hamlets' (by 0.25 or more)."""
    shortfall = fit_zoom(bounds, 1100, 560) - REFERENCE_FIT_ZOOM
    return round(zoom + shortfall, 2) if shortfall <= -0.25 else zoom


def _view(gdf: gpd.GeoDataFrame, zoom: float = 12.4) -> pdk.ViewState:
    minx, miny, maxx, maxy = gdf.total_bounds
    return pdk.ViewState(
        latitude=(miny + maxy) / 2,
        longitude=(minx + maxx) / 2,
        zoom=borough_zoom((minx, miny, maxx, maxy), zoom),
        pitch=0,
        bearing=0,
    )


@memoize(maxsize=32, copy=False)
def choropleth(
    gdf: gpd.GeoDataFrame,
    value_col: str,
    tooltip: str,
    *,
    label_col: str | None = None,
    diverging: bool = False,
    class_col: str | None = None,
    class_label_col: str | None = None,
    outline: gpd.GeoDataFrame | None = None,
    zoom: float = 12.4,
    height: int = 560,
) -> MapSpec:
    """Areas filled by ``value_col`` (or by hot-spot class when ``class_col`` is given).

    ``tooltip`` is a pydeck text template using feature properties, e.g. "{name}\\n{count} offences".
    ``class_label_col`` names a property whose non-empty text is drawn on the map at the area's
    centre (e.g. "HOT 95%"), so classes are readable without colour. ``outline`` draws thicker
    boundaries (wards over LSOAs) with their names.
    """
    if gdf.empty:
        raise MapError("no areas to draw")
    if value_col not in gdf.columns:
        raise MapError(f"no column {value_col!r} to colour the map by")
    g = gdf.copy()
    if class_col:
        g["fill"] = [[*HOTSPOT_COLOURS.get(k, (200, 200, 200)), FILL_ALPHA] for k in g[class_col]]
        legend = pd.DataFrame(
            {
                "Class": list(HOTSPOT_COLOURS),
                "Shown on the map": [
                    "colour and the label " + _short(k) if _short(k) else "colour only (pale)"
                    for k in HOTSPOT_COLOURS
                ],
            }
        )
    else:
        g["fill"] = _ramp(g[value_col], DIVERGING if diverging else SEQUENTIAL, diverging)
        v = pd.to_numeric(g[value_col], errors="coerce")
        legend = pd.DataFrame(
            {
                "Colour": ["palest", "darkest"] if not diverging else ["blue", "red"],
                "Means": (
                    [f"lowest ({v.min():,.1f})", f"highest ({v.max():,.1f})"]
                    if not diverging
                    else [f"largest fall ({v.min():,.0f})", f"largest rise ({v.max():,.0f})"]
                ),
            }
        )
    props = [c for c in g.columns if c not in ("geometry",)]
    fc = feature_collection(g, props)
    layers = [
        pdk.Layer(
            "GeoJsonLayer",
            fc,
            id="areas",
            pickable=True,
            stroked=True,
            filled=True,
            get_fill_color="properties.fill",
            get_line_color=list(OUTLINE),
            line_width_min_pixels=1,
        )
    ]
    texts = []
    if label_col or class_label_col:
        pts = g.to_crs(27700).representative_point().to_crs(4326)
        for (_, row), p in zip(g.iterrows(), pts):
            words = []
            if class_label_col and row.get(class_label_col):
                words.append(str(row[class_label_col]))
            if label_col and row.get(label_col):
                words.append(str(row[label_col]))
            if words:
                texts.append({"position": [round(p.x, 5), round(p.y, 5)], "text": "\n".join(words)})
    if outline is not None and not outline.empty:
        ofc = feature_collection(outline, [c for c in outline.columns if c != "geometry"])
        layers.append(
            pdk.Layer(
                "GeoJsonLayer",
                ofc,
                id="outline",
                pickable=False,
                stroked=True,
                filled=False,
                get_line_color=[0, 0, 0],
                line_width_min_pixels=2.5,
            )
        )
    if texts:
        layers.append(
            pdk.Layer(
                "TextLayer",
                texts,
                id="labels",
                get_position="position",
                get_text="text",
                get_size=13,
                get_color=[0, 0, 0],
                get_text_anchor="'middle'",
                get_alignment_baseline="'center'",
                background=True,
                get_background_color=[255, 255, 255, 220],
                font_weight=700,
            )
        )
    deck = CompactDeck(
        layers=layers,
        initial_view_state=_view(g, zoom),
        map_provider=None,
        map_style=None,
        tooltip={"text": tooltip},
        height=height,
    )
    return MapSpec(deck, legend, len(deck.to_json()))


def _short(klass: str) -> str:
    if klass.startswith("hot spot"):
        return "HOT " + klass.split()[-1]
    if klass.startswith("cold spot"):
        return "COLD " + klass.split()[-1]
    return ""


def class_label(klass: str) -> str:
    """The on-map text for a hot-spot class ('' for not significant)."""
    return _short(klass)


@memoize(maxsize=32, copy=False)
def hexbins(
    points: pd.DataFrame,
    outline: gpd.GeoDataFrame | None = None,
    radius_m: int = 150,
    show_points: bool = False,
    height: int = 560,
) -> MapSpec:
    """Hex-binned density of point records (longitude, latitude), optionally with the points.

    Points are police.uk snap points (anonymised locations), so many records share a point.
    """
    pts = points.dropna(subset=["longitude", "latitude"])
    if pts.empty:
        raise MapError("no located records to draw")
    data = [[round(float(x), 5), round(float(y), 5)] for x, y in zip(pts["longitude"], pts["latitude"])]
    layers = [
        pdk.Layer(
            "HexagonLayer",
            [{"p": d} for d in data],
            id="hexes",
            get_position="p",
            radius=radius_m,
            extruded=False,
            pickable=True,
            coverage=0.95,
            opacity=0.75,
            color_range=[list(c) for c in SEQUENTIAL[:6]],
        )
    ]
    if show_points:
        layers.append(
            pdk.Layer(
                "ScatterplotLayer",
                [{"p": d} for d in data],
                id="points",
                get_position="p",
                get_radius=12,
                radius_min_pixels=2,
                get_fill_color=[0, 0, 0, 160],
            )
        )
    if outline is not None and not outline.empty:
        ofc = feature_collection(outline, [c for c in outline.columns if c != "geometry"])
        layers.append(
            pdk.Layer(
                "GeoJsonLayer",
                ofc,
                id="outline",
                pickable=False,
                stroked=True,
                filled=False,
                get_line_color=[0, 0, 0],
                line_width_min_pixels=2,
            )
        )
    lon, lat = pts["longitude"].astype(float), pts["latitude"].astype(float)
    view = pdk.ViewState(latitude=float(lat.median()), longitude=float(lon.median()), zoom=12.4)
    deck = CompactDeck(
        layers=layers,
        initial_view_state=view,
        map_provider=None,
        map_style=None,
        tooltip={"text": "{elevationValue} records in this hexagon"},
        height=height,
    )
    legend = pd.DataFrame({"Colour": ["palest", "darkest"], "Means": ["fewest records", "most records"]})
    return MapSpec(deck, legend, len(deck.to_json()))
