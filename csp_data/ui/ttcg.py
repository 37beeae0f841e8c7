"""Cached loaders for the TTCG projector view (``pages/operations/ttcg.py``).

As in :mod:`csp_data.ui.cache`, every result is keyed by its arguments plus
``cache.staff_key()`` (the viewer's access level, refused below analyst, plus the warehouse
stamp), so when the warehouse is rebuilt (new data ingested) the next run of
the page's auto-refreshing fragment computes afresh and the wall screen shows the new figures
without a reload.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from csp_data.analysis import hotspots, ttcg
from csp_data.analysis.ttcg import (
    ALLOWED_CATEGORIES,
    HIGH,
    LOW,
    MEDIUM,
    METHOD,
    METHOD_POINTER,
    SHORT_NOTE,
    View,
    display_lines,
    fmt_month,
    grid,
    grid_markdown,
    map_category,
    query_string,
    resolve_view,
    selectable_months_from,
)
from csp_data.plan.measures import get
from csp_data.present import ttcg_map
from csp_data.present.maps import MapSpec
from csp_data.present.ttcg_tables import download_table, flagged_wards, month_snapshot
from csp_data.ui import cache
from csp_data.warehouse import geo
from csp_data.warehouse.freshness import age_words

# Named re-exports: what pages/operations/ttcg.py shows or passes on from the layers below.
__all__ = [
    "ALLOWED_CATEGORIES",
    "HIGH",
    "LOW",
    "MEDIUM",
    "METHOD",
    "METHOD_POINTER",
    "SHORT_NOTE",
    "View",
    "age_words",
    "display_lines",
    "download_table",
    "flagged_wards",
    "fmt_month",
    "grid",
    "grid_markdown",
    "map_category",
    "month_snapshot",
    "query_string",
    "resolve_view",
    "selectable_months_from",
]

TTL = 3600


def label(category: str) -> str:
    """A category's label (its measure's), e.g. "Robbery" for "robbery"."""
    return get(category).label


@cache.warehouse_cached(ttl=TTL, max_entries=4, by="staff")
def months() -> pd.DataFrame:
    """month (date), snapshot: the months the ward data cover."""
    return ttcg.ward_months()


@cache.warehouse_cached(ttl=TTL, max_entries=64, by="staff")
def ward_expected(month: date, categories) -> pd.DataFrame:
    return ttcg.ward_expected(month, tuple(categories))


@cache.warehouse_cached(ttl=TTL, max_entries=128, by="staff")
def lsoa_emerging(month: date, category: str) -> pd.DataFrame:
    return ttcg.lsoa_emerging(month, category)


@cache.warehouse_cached(ttl=TTL, max_entries=64, by="staff")
def lsoa_note(month: date, categories) -> str:
    """The plain sentence on small-area hot spots (none after FDR, or how many) for the month."""
    categories = tuple(categories)
    emerging = {c: lsoa_emerging(month, c) for c in categories}
    return ttcg.lsoa_hotspot_note(month, categories, emerging=emerging, short=True)


@cache.warehouse_cached(ttl=TTL, max_entries=64, by="staff")
def exceptions(month: date, categories) -> list:
    # Reuse the cached pieces (the page also draws them), then let csp_data.analysis.ttcg assemble the list.
    categories = tuple(categories)
    frame = ward_expected(month, categories)
    emerging = {c: lsoa_emerging(month, c) for c in categories}
    return ttcg.exceptions(month, categories, frame=frame, emerging=emerging)


@cache.warehouse_cached(ttl=TTL, max_entries=32, by="staff")
def coverage_notes(month: date) -> list[str]:
    return ttcg.coverage_notes(month)


@cache.warehouse_cached(ttl=None, max_entries=2, by="staff", resource=True)
def ward_shapes():
    """Simplified ward polygons (WGS84), shared: do not change in place."""
    return geo.simplify(geo.ward_geometry(), 15.0)


@cache.warehouse_cached(ttl=None, max_entries=2, by="staff", resource=True)
def lsoa_shapes():
    """Simplified LSOA polygons (WGS84), shared: do not change in place."""
    return geo.simplify(hotspots.lsoa_geometry()[["code", "geometry"]], 8.0)


def ratio_map(
    frame: pd.DataFrame,
    category: str,
    emerging: pd.DataFrame,
    focus_ward: str | None,
    height: int,
    width: int,
) -> MapSpec:
    """The projector's map (:func:`csp_data.present.ttcg_map.ratio_map`) of ``category`` in the ward
    ``frame``, drawn on the shared ward and LSOA shapes."""
    return ttcg_map.ratio_map(
        frame,
        category,
        ward_shapes(),
        lsoa_shapes(),
        emerging,
        focus_ward=focus_ward,
        height=height,
        width=width,
    )
