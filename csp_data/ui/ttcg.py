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
from csp_data.ui import cache
from csp_data.warehouse import geo

TTL = 3600


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
