"""Cached loaders for the hotspots page (keyed by primitives and the warehouse stamp)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import streamlit as st

from csp_data.analysis import areas as analysis
from csp_data.analysis import hotspots
from csp_data.plan.periods import make
from csp_data.present import maps
from csp_data.ui import cache
from csp_data.ui.cache import staff_key


@st.cache_data(ttl=3600, max_entries=4, show_spinner=False)
def _categories(key: str) -> list:
    return analysis.categories()


def categories() -> list:
    return _categories(staff_key())


@st.cache_data(ttl=3600, max_entries=8, show_spinner=False)
def _latest(geo: str, key: str):
    return analysis.latest_month(geo)


def latest(geo: str):
    return _latest(geo, staff_key())


@st.cache_data(ttl=3600, max_entries=128, show_spinner=False)
def _areas(
    label: str, majors: tuple, minors: tuple, start, end, geo: str, ward: str | None, key: str
) -> pd.DataFrame:
    return analysis.area_table(analysis.Category(label, majors, minors), make(start, end), geo, ward)


def area_table(cat, period, geo: str, ward: str | None) -> pd.DataFrame:
    return _areas(
        cat.label, tuple(cat.majors), tuple(cat.minors), period.start, period.end, geo, ward, staff_key()
    ).copy()


@st.cache_data(ttl=3600, max_entries=64, show_spinner="Testing for hot spots…")
def _gi(majors: tuple, minors: tuple, start, end, key: str):
    return hotspots.lsoa_hotspots(list(majors), list(minors), start, end)


def gi(cat, period):
    """Gi* over every LSOA of the borough (neighbours across ward edges count)."""
    return _gi(tuple(cat.majors), tuple(cat.minors), period.start, period.end, staff_key())


@st.cache_data(ttl=3600, max_entries=64, show_spinner="Tracing hot spots over time…")
def _emerging(majors: tuple, minors: tuple, start, end, months_per_period: int, key: str) -> pd.DataFrame:
    return hotspots.lsoa_emerging(list(majors), list(minors), start, end, months_per_period=months_per_period)


def emerging(cat, start, end, months_per_period: int = 3) -> pd.DataFrame:
    return _emerging(tuple(cat.majors), tuple(cat.minors), start, end, months_per_period, staff_key()).copy()


@st.cache_resource(show_spinner=False)
def _shapes(geo: str, key: str):
    if geo == "LSOAs":
        return maps.simplify(hotspots.lsoa_geometry())
    return maps.simplify(maps.ward_geometry())


def shapes(geo: str):
    """Simplified boundaries (shared; copy before changing)."""
    return _shapes(geo, staff_key())


@st.cache_data(ttl=3600, max_entries=16, show_spinner=False)
def _seasonality(label: str, majors: tuple, minors: tuple, key: str) -> pd.DataFrame:
    return analysis.seasonality(analysis.Category(label, majors, minors))


def seasonality(cat) -> pd.DataFrame:
    out = _seasonality(cat.label, tuple(cat.majors), tuple(cat.minors), staff_key())
    return out.copy()


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False)
def _points(crime_type: str, start, end, ward: str | None, key: str) -> pd.DataFrame:
    return analysis.street_points(crime_type, make(start, end), ward)


def points(crime_type: str, period, ward: str | None) -> pd.DataFrame:
    return _points(crime_type, period.start, period.end, ward, staff_key()).copy()


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False)
def _outcomes(start, end, ward: str | None, key: str) -> pd.DataFrame:
    return analysis.burglary_outcomes(make(start, end), ward)


def burglary_outcomes(period, ward: str | None) -> pd.DataFrame:
    return _outcomes(period.start, period.end, ward, staff_key()).copy()


@st.cache_data(ttl=3600, max_entries=64, show_spinner=False)
def _victims(area_code: str, start, end, key: str) -> pd.DataFrame:
    return analysis.victims(area_code, make(start, end))


def victims(area_code: str, period) -> pd.DataFrame:
    return _victims(area_code, period.start, period.end, staff_key()).copy()


@st.cache_data(ttl=3600, max_entries=64, show_spinner=False)
def _funnel(label: str, majors: tuple, minors: tuple, start, end, geo: str, key: str):
    from csp_data.analysis import funnel as funnel_mod

    t = analysis.area_table(analysis.Category(label, majors, minors), make(start, end), geo, None)
    return funnel_mod.funnel(t[["code", "name", "count", "population"]])


def funnel(cat, period, geo: str):
    """Funnel plot data (areas, limits) for every area of the borough at ``geo``."""
    areas, limits = _funnel(
        cat.label, tuple(cat.majors), tuple(cat.minors), period.start, period.end, geo, staff_key()
    )
    return areas.copy(), limits.copy()


def snapshot(geo: str) -> str:
    """The snapshot label of the MPS recorded-crime extract at this level (plain text: escape it)."""
    from csp_data.config import settings

    span = cache.query("meta/data_span", borough_code=settings().borough_code).set_index("dataset")
    key = "crime_lsoa" if geo == "LSOAs" else "crime_ward"
    return str(span.at[key, "snapshot"]) if key in span.index else "snapshot not recorded"


# ------------------------------------------------------------------ the area map (pages/analysis/hotspots.py)

COLOUR_COLUMNS = {"Count": "count", "Rate per 1,000 residents": "rate", "Change vs previous period": "change"}
GI_COLOUR = "Hot spots (Gi*)"


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


def map_outline(ward: str | None) -> gpd.GeoDataFrame:
    """Ward boundaries drawn over the map: every ward, or only ``ward`` when drilled down."""
    outline = shapes("Wards")
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
    return maps.choropleth(
        map_frame(shapes(geo), table, gi),
        COLOUR_COLUMNS.get(colour, "count"),
        tooltip,
        label_col="name" if geo == "Wards" else None,
        diverging=(colour == "Change vs previous period"),
        class_col="klass" if colour == GI_COLOUR else None,
        class_label_col="spot" if gi is not None else None,
        outline=map_outline(ward),
        zoom=13.6 if ward else 12.1,
    )
