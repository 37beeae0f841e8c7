"""Cached loaders for the hotspots page (keyed by their arguments, the viewer's level and the warehouse
stamp: ``cache.warehouse_cached(by="staff")``), the page's maps and display tables, and the few
lower-level names the page shows or passes on (pages import only from ``csp_data.ui``)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from csp_data.analysis import areas as analysis
from csp_data.analysis import hotspots
from csp_data.analysis.areas import (
    COLOUR_BY,
    GEOGRAPHIES,
    PERIOD_CHOICES,
    AnalysisError,
    concentration,
    resolve_period,
)
from csp_data.analysis.funnel import METHOD as FUNNEL_METHOD
from csp_data.analysis.hotspots import CAVEAT as GI_CAVEAT
from csp_data.analysis.hotspots import PERMUTATIONS as GI_PERMUTATIONS
from csp_data.analysis.hotspots import no_hotspot_sentence
from csp_data.config import settings
from csp_data.plan.periods import make
from csp_data.present import maps
from csp_data.present.charts import funnel_chart
from csp_data.present.exports import csv_bytes
from csp_data.present.hotspots_tables import (
    busiest,
    concentration_display,
    custom_months,
    emerging_counts,
    emerging_start,
    hotspot_counts,
    lowest_q,
    months_held,
    months_with_points,
    notable_lsoas,
    outcomes_table,
    peak_and_low,
    points_by_ward,
    ranked_table,
    seasonality_table,
    top_lsoas,
    victims_table,
    with_wards,
)
from csp_data.present.memo import memoize
from csp_data.ui import cache
from csp_data.warehouse.geo import simplify, ward_geometry

# Named re-exports: what pages/analysis/hotspots.py shows or passes on from the layers below.
__all__ = [
    "COLOUR_BY",
    "FUNNEL_METHOD",
    "GEOGRAPHIES",
    "GI_CAVEAT",
    "GI_PERMUTATIONS",
    "PERIOD_CHOICES",
    "AnalysisError",
    "busiest",
    "concentration",
    "concentration_display",
    "csv_bytes",
    "custom_months",
    "emerging_counts",
    "emerging_start",
    "funnel_chart",
    "hotspot_counts",
    "lowest_q",
    "months_held",
    "months_with_points",
    "no_hotspot_sentence",
    "notable_lsoas",
    "outcomes_table",
    "peak_and_low",
    "points_by_ward",
    "ranked_table",
    "resolve_period",
    "seasonality_table",
    "settings",
    "top_lsoas",
    "victims_table",
    "with_wards",
]


@cache.warehouse_cached(max_entries=4, by="staff")
def categories() -> list:
    return analysis.categories()


@cache.warehouse_cached(max_entries=8, by="staff")
def latest(geo: str):
    return analysis.latest_month(geo)


@cache.warehouse_cached(max_entries=128, by="staff")
def area_table(cat, period, geo: str, ward: str | None) -> pd.DataFrame:
    return analysis.area_table(cat, make(period.start, period.end), geo, ward)


@cache.warehouse_cached(max_entries=64, show_spinner="Testing for hot spots…", by="staff")
def gi(cat, period):
    """Gi* over every LSOA of the borough (neighbours across ward edges count)."""
    return hotspots.lsoa_hotspots(list(cat.majors), list(cat.minors), period.start, period.end)


@cache.warehouse_cached(max_entries=64, show_spinner="Tracing hot spots over time…", by="staff")
def emerging(cat, start, end, months_per_period: int = 3) -> pd.DataFrame:
    return hotspots.lsoa_emerging(
        list(cat.majors), list(cat.minors), start, end, months_per_period=months_per_period
    )


# Boundaries are simplified to about one screen pixel at the zoom they are drawn at (deck.gl's
# web-mercator scale at London's latitude: ~22 m a pixel at the borough view's zoom 12.1, ~8 m at a
# ward's 13.6): finer detail cannot be seen, and it is most of the map's payload (the LSOA map
# of the borough: 197 KB at 10 m, 144 KB at 20 m; benchmarks/pages.py reports what a page receives).
BOROUGH_VIEW_M = 20.0
WARD_VIEW_M = 10.0


@cache.warehouse_cached(ttl=None, by="staff", resource=True)
def shapes(geo: str, tolerance_m: float = WARD_VIEW_M):
    """Simplified boundaries (shared; copy before changing)."""
    if geo == "LSOAs":
        return simplify(hotspots.lsoa_geometry(), tolerance_m)
    return simplify(ward_geometry(), tolerance_m)


@cache.warehouse_cached(max_entries=16, by="staff")
def seasonality(cat) -> pd.DataFrame:
    return analysis.seasonality(cat)


@cache.warehouse_cached(max_entries=32, by="staff")
def points(crime_type: str, period, ward: str | None) -> pd.DataFrame:
    return analysis.street_points(crime_type, make(period.start, period.end), ward)


@cache.warehouse_cached(max_entries=32, by="staff")
def burglary_outcomes(period, ward: str | None) -> pd.DataFrame:
    return analysis.burglary_outcomes(make(period.start, period.end), ward)


@cache.warehouse_cached(max_entries=64, by="staff")
def victims(area_code: str, period) -> pd.DataFrame:
    return analysis.victims(area_code, make(period.start, period.end))


@cache.warehouse_cached(max_entries=64, by="staff")
def funnel(cat, period, geo: str):
    """Funnel plot data (areas, limits) for every area of the borough at ``geo``."""
    from csp_data.analysis import funnel as funnel_mod

    t = analysis.area_table(cat, make(period.start, period.end), geo, None)
    return funnel_mod.funnel(t[["code", "name", "count", "population"]])


def snapshot(geo: str) -> str:
    """The snapshot label of the MPS recorded-crime extract at this level (plain text: escape it)."""
    from csp_data.config import settings

    span = cache.query("meta/data_span", borough_code=settings().borough_code).set_index("dataset")
    key = "crime_lsoa" if geo == "LSOAs" else "crime_ward"
    return str(span.at[key, "snapshot"]) if key in span.index else "snapshot not recorded"


# ------------------------------------------------------------------ the area map (pages/analysis/hotspots.py)

COLOUR_COLUMNS = {"Count": "count", "Rate per 1,000 residents": "rate", "Change vs previous period": "change"}
GI_COLOUR = "Hot spots (Gi*)"


@memoize(maxsize=32)
def map_frame(areas: gpd.GeoDataFrame, table: pd.DataFrame, gi: pd.DataFrame | None) -> gpd.GeoDataFrame:
    """The areas to draw: ``areas`` (simplified shapes) joined to the page's area ``table`` and, for
    LSOAs, the Gi* result ``gi``; adds ``rate`` (per 1,000, 2 decimals), ``change_text`` (the change
    in words, '' with no previous period) and, with ``gi``, ``spot`` (the on-map class label)."""
    gdf = areas.copy().merge(
        table.drop(columns=["name", "ward_code", "population"], errors="ignore"), on="code", how="inner"
    )
    if gi is not None:
        gdf = gdf.merge(gi[["code", "z", "q", "klass"]], on="code", how="left")
        gdf["spot"] = gdf["klass"].map(maps.class_label)
    gdf["rate"] = gdf["rate_per_1000"].round(2)
    gdf["change_text"] = [
        ("" if p is None or p != p else f"{c:+d} vs {int(p)} before, {v.lower()}")
        for c, p, v in zip(gdf["change"].fillna(0).astype(int), gdf["previous"], gdf["verdict"])
    ]
    keep = ["code", "name", "count", "rate", "change", "change_text", "geometry"]
    return gdf[keep + (["klass", "spot"] if gi is not None else [])]


def map_outline(ward: str | None, tolerance_m: float = WARD_VIEW_M) -> gpd.GeoDataFrame:
    """Ward boundaries drawn over the map: every ward, or only ``ward`` when drilled down."""
    outline = shapes("Wards", tolerance_m)
    return outline[outline["code"] == ward] if ward else outline


def area_map(
    table: pd.DataFrame, geo: str, colour: str, gi: pd.DataFrame | None, ward: str | None
) -> maps.MapSpec:
    """The hotspots page's choropleth of ``table`` at ``geo`` ("LSOAs" or "Wards"), coloured as
    ``colour`` (one of ``csp_data.analysis.areas.COLOUR_BY``), with hot-spot labels when ``gi`` is
    given, ward outlines (:func:`map_outline`), and zoomed in on ``ward`` when drilled down."""
    tooltip = "{name}\n{count} offences, {rate} per 1,000 residents\n{change_text}" + (
        "\n{klass}" if gi is not None else ""
    )
    tolerance = WARD_VIEW_M if ward else BOROUGH_VIEW_M
    return maps.choropleth(
        map_frame(shapes(geo, tolerance), table, gi),
        COLOUR_COLUMNS.get(colour, "count"),
        tooltip,
        label_col="name" if geo == "Wards" else None,
        diverging=(colour == "Change vs previous period"),
        class_col="klass" if colour == GI_COLOUR else None,
        class_label_col="spot" if gi is not None else None,
        outline=map_outline(ward, tolerance),
        zoom=13.6 if ward else 12.1,
    )


def point_map(pts: pd.DataFrame, outline: gpd.GeoDataFrame, show_points: bool) -> maps.MapSpec:
    """The street-level records binned into hexagons (and each snap point with ``show_points``),
    under the ward ``outline`` (:func:`map_outline`)."""
    return maps.hexbins(pts, outline=outline, show_points=show_points)
