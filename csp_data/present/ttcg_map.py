"""The TTCG wall screen's map: wards coloured by one category's count against expected, named on
the map with labels that do not overlap, and new or intensifying LSOA hot spots outlined.

The figures come from :mod:`csp_data.analysis.ttcg` (``ward_expected``, ``lsoa_emerging``); this
module only draws them. Offline like every map (:class:`csp_data.present.maps.CompactDeck`).
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pydeck as pdk
import shapely

from csp_data.present.maps import CompactDeck, MapSpec, feature_collection, fit_zoom
from csp_data.present.memo import memoize
from csp_data.warehouse.geo import MapError

# Ward classes by the month's count against expected (words on the map and in the legend).
MAP_CLASSES = (
    ("well above expected", "▲", (178, 24, 43)),
    ("above expected", "", (244, 165, 130)),
    ("about as expected", "", (240, 240, 240)),
    ("below expected", "", (146, 197, 222)),
    ("well below expected", "▼", (33, 102, 172)),
    ("no expected level", "", (200, 200, 200)),
)
ABOVE_RATIO, BELOW_RATIO = 1.25, 0.8
WARD_LABEL_SIZE = 18  # pixels
FOCUS_COLOUR = (0, 0, 0)
LSOA_COLOURS = {"intensifying": (90, 0, 90), "new": (200, 80, 0)}


def map_class(ratio: float, flag: str) -> str:
    if flag:
        return flag
    if ratio is None or not np.isfinite(ratio):
        return "no expected level"
    if ratio >= ABOVE_RATIO:
        return "above expected"
    if ratio <= BELOW_RATIO:
        return "below expected"
    return "about as expected"


def wrap_name(name: str, width: int = 13) -> str:
    """A long area name on two lines, broken at the space nearest its middle ('Blackwall &\\nCubitt Town')."""
    if len(name) <= width or " " not in name:
        return name
    mid = len(name) / 2
    spaces = [i for i, ch in enumerate(name) if ch == " "]
    cut = min(spaces, key=lambda i: abs(i - mid))
    return name[:cut] + "\n" + name[cut + 1 :]


def _mercator_px(lon: float, lat: float, zoom: float) -> tuple[float, float]:
    scale = 512 * 2**zoom
    y = math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
    return (lon + 180) / 360 * scale, (1 - y / math.pi) / 2 * scale


def label_points(
    gdf,
    texts: list[str] | None = None,
    zoom: float | None = None,
    size: int = 16,
    spacing_m: float = 60.0,
    tries: int = 40,
) -> list[tuple[float, float]]:
    """Where to write each area's label, as (lon, lat).

    Candidate points inside each area are ranked by their distance from its edge (deepest first,
    starting with the centre of the largest inscribed circle). Without ``texts`` and ``zoom`` each
    area gets its deepest point. With them, labels are placed greedily, each at its deepest
    candidate whose text box (estimated from the font ``size``) overlaps no label already placed;
    several placing orders are tried (smallest area first, largest first, then fixed shuffles) and
    the one that keeps labels deepest inside their areas overall wins. Deterministic.
    """
    metric = list(gdf.to_crs(27700).geometry)
    ranked: list[list] = []
    depths: list[list[float]] = []
    for geom in metric:
        centre = shapely.get_point(shapely.maximum_inscribed_circle(geom, 5.0), 0)
        best = max(geom.boundary.distance(centre), 1e-9)
        minx, miny, maxx, maxy = geom.bounds
        xs, ys = np.arange(minx, maxx, spacing_m), np.arange(miny, maxy, spacing_m)
        grid_pts = shapely.points(np.array([(x, y) for x in xs for y in ys])) if len(xs) and len(ys) else []
        depth = sorted(
            ((geom.boundary.distance(p), p) for p in grid_pts if geom.contains(p)), key=lambda t: -t[0]
        )
        keep = [(d, p) for d, p in depth if d >= 0.2 * best]
        ranked.append([centre] + [p for _, p in keep])
        depths.append([1.0] + [d / best for d, _ in keep])
    flat = gpd.GeoSeries([c for cands in ranked for c in cands], crs=27700).to_crs(4326)
    ll, k = [], 0
    for cands in ranked:
        ll.append([(round(p.x, 5), round(p.y, 5)) for p in flat.iloc[k : k + len(cands)]])
        k += len(cands)
    if texts is None or zoom is None:
        return [c[0] for c in ll]
    size_px = []
    for t in texts:
        lines = t.split("\n")
        size_px.append((0.64 * size * max(len(x) for x in lines) + 10, 1.05 * size * len(lines) + 6))
    px = [[_mercator_px(lon, lat, zoom) for lon, lat in cands] for cands in ll]

    def overlap(box, boxes) -> float:
        return sum(
            max(0.0, min(box[2], b[2]) - max(box[0], b[0])) * max(0.0, min(box[3], b[3]) - max(box[1], b[1]))
            for b in boxes
        )

    def greedy(order):
        boxes: list[tuple[float, float, float, float]] = []
        chosen, cost = [0] * len(ll), 0.0
        for i in order:
            w, h = size_px[i]
            areas_hit = []
            for j, (x, y) in enumerate(px[i]):
                hit = overlap((x - w / 2, y - h / 2, x + w / 2, y + h / 2), boxes)
                if hit == 0:
                    pick = j
                    break
                areas_hit.append(hit)
            else:  # no free spot: the least overlap, and an overlap costs more than any move
                pick = int(np.argmin(areas_hit))
                cost += 10.0 + areas_hit[pick] / (w * h)
            x, y = px[i][pick]
            boxes.append((x - w / 2, y - h / 2, x + w / 2, y + h / 2))
            chosen[i] = pick
            cost += 1.0 - depths[i][pick]
        return cost, chosen

    areas = [g.area for g in metric]
    n = len(ll)
    orders = [sorted(range(n), key=lambda i: areas[i]), sorted(range(n), key=lambda i: -areas[i])]
    rng = np.random.default_rng(20260301)
    orders += [list(rng.permutation(n)) for _ in range(tries)]
    _, best_pick = min((greedy(o) for o in orders), key=lambda t: t[0])
    return [ll[i][best_pick[i]] for i in range(n)]


@memoize(maxsize=32, copy=False)
def ratio_map(
    frame: pd.DataFrame,
    category: str,
    wards_gdf,
    lsoa_gdf=None,
    emerging: pd.DataFrame | None = None,
    focus_ward: str | None = None,
    height: int = 640,
    width: int = 760,
) -> MapSpec:
    """Wards coloured by one category's count against expected, named on the map, with new and
    intensifying LSOA hot spots outlined and labelled. Offline: a :class:`CompactDeck`.

    ``wards_gdf`` is the (simplified, WGS84) ward geometry with ``code`` and ``name``;
    ``lsoa_gdf`` the LSOA geometry (``code``, ``geometry``) and ``emerging`` the
    :func:`csp_data.analysis.ttcg.lsoa_emerging` frame for the same category. Labels carry ▲ / ▼ with the count
    against expected, and NEW / INTENSIFYING, so colour is never the only signal. Ward labels are
    placed so they do not overlap (:func:`label_points`).
    """
    sub = frame[frame["category"] == category].set_index("ward_code")
    if sub.empty:
        raise MapError(f"no ward figures for {category!r}")
    colour = {name: rgb for name, _, rgb in MAP_CLASSES}
    tag = {name: t for name, t, _ in MAP_CLASSES}
    g = wards_gdf[["code", "geometry"]].copy()
    g = g[g["code"].isin(sub.index)]
    g["name"] = [sub.at[c, "ward_name"] for c in g["code"]]
    g["latest"] = [int(sub.at[c, "latest"]) for c in g["code"]]
    g["expected"] = [round(float(sub.at[c, "expected"]), 1) for c in g["code"]]
    g["klass"] = [map_class(sub.at[c, "ratio"], sub.at[c, "flag"]) for c in g["code"]]
    g["fill"] = [[*colour[k], 210] for k in g["klass"]]
    g["tip"] = [
        f"{n}: {k}, {v} offences against {e} expected"
        for n, k, v, e in zip(g["name"], g["klass"], g["latest"], g["expected"])
    ]
    fc = feature_collection(g, ["code", "name", "latest", "expected", "klass", "fill", "tip"])
    layers = [
        pdk.Layer(
            "GeoJsonLayer",
            fc,
            id="wards",
            pickable=True,
            stroked=True,
            filled=True,
            get_fill_color="properties.fill",
            get_line_color=[60, 60, 60],
            line_width_min_pixels=1.5,
        )
    ]
    zoom = fit_zoom(g.total_bounds, width, height)
    words = []
    for _, row in g.iterrows():
        w = wrap_name(row["name"])
        if tag[row["klass"]]:
            w = f"{w}\n{tag[row['klass']]} {row['latest']} vs {row['expected']:.0f}"
        words.append(w)
    texts = [
        {"position": list(p), "text": w, "kind": "ward", "code": c}
        for w, p, c in zip(words, label_points(g, words, zoom, WARD_LABEL_SIZE), g["code"])
    ]
    if emerging is not None and lsoa_gdf is not None and not emerging.empty:
        hot = emerging[emerging["emerging"].isin(list(LSOA_COLOURS))]
        if not hot.empty:
            lg = lsoa_gdf[["code", "geometry"]].merge(hot[["code", "name", "emerging", "count"]], on="code")
            lg["line"] = [[*LSOA_COLOURS[k], 255] for k in lg["emerging"]]
            lg["tip"] = [
                f"{n}: {k} hot spot, {c} offences" for n, k, c in zip(lg["name"], lg["emerging"], lg["count"])
            ]
            lfc = feature_collection(lg, ["code", "name", "emerging", "line", "tip"])
            layers.append(
                pdk.Layer(
                    "GeoJsonLayer",
                    lfc,
                    id="lsoa_hotspots",
                    pickable=True,
                    stroked=True,
                    filled=True,
                    get_fill_color=[255, 255, 255, 0],
                    get_line_color="properties.line",
                    line_width_min_pixels=4,
                )
            )
            for k, p in zip(lg["emerging"], label_points(lg)):
                texts.append({"position": list(p), "text": k.upper(), "kind": "lsoa"})
    if focus_ward and focus_ward in set(g["code"]):
        ffc = feature_collection(g[g["code"] == focus_ward], ["code", "name"])
        layers.append(
            pdk.Layer(
                "GeoJsonLayer",
                ffc,
                id="focus",
                pickable=False,
                stroked=True,
                filled=False,
                get_line_color=list(FOCUS_COLOUR),
                line_width_min_pixels=6,
            )
        )
    ward_texts = [t for t in texts if t["kind"] == "ward"]
    lsoa_texts = [t for t in texts if t["kind"] == "lsoa"]
    common = dict(
        get_position="position",
        get_text="text",
        get_color=[0, 0, 0],
        get_text_anchor="'middle'",
        get_alignment_baseline="'center'",
        background=True,
        font_weight=700,
        font_family='"Source Sans, DejaVu Sans, Arial, sans-serif"',
        character_set="'auto'",
        background_padding=[4, 2, 4, 2],
    )
    if lsoa_texts:  # drawn first, so ward names stay on top where they meet
        layers.append(
            pdk.Layer(
                "TextLayer",
                lsoa_texts,
                id="lsoa_labels",
                get_size=12,
                get_background_color=[255, 236, 200, 235],
                **common,
            )
        )
    layers.append(
        pdk.Layer(
            "TextLayer",
            ward_texts,
            id="ward_labels",
            get_size=WARD_LABEL_SIZE,
            line_height=1.0,
            get_background_color=[255, 255, 255, 225],
            **common,
        )
    )
    minx, miny, maxx, maxy = g.total_bounds
    view = pdk.ViewState(
        latitude=(miny + maxy) / 2, longitude=(minx + maxx) / 2, zoom=zoom, pitch=0, bearing=0
    )
    deck = CompactDeck(
        layers=layers, initial_view_state=view, map_provider=None, tooltip={"text": "{tip}"}, height=height
    )
    legend = pd.DataFrame(
        {
            "Colour": ["dark red", "light red", "pale grey", "light blue", "dark blue"],
            "Means": [name for name, _, _ in MAP_CLASSES[:5]],
        }
    )
    return MapSpec(deck, legend, len(deck.to_json()))
