"""Cached loaders for the hotspots page (keyed by their arguments, the viewer's level and the warehouse
stamp: ``cache.warehouse_cached(by="staff")``)."""

from __future__ import annotations

import pandas as pd

from csp_data.analysis import areas as analysis
from csp_data.analysis import hotspots
from csp_data.plan.periods import make
from csp_data.present import maps
from csp_data.ui import cache


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


@cache.warehouse_cached(ttl=None, by="staff", resource=True)
def shapes(geo: str):
    """Simplified boundaries (shared; copy before changing)."""
    if geo == "LSOAs":
        return maps.simplify(hotspots.lsoa_geometry())
    return maps.simplify(maps.ward_geometry())


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
