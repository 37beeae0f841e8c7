"""Cached loaders for the TTCG projector view (``pages/operations/ttcg.py``).

As in :mod:`csp_data.ui.cache`, every result is keyed by primitive arguments plus
``cache.staff_key()`` (the viewer's access level, refused below analyst, plus the warehouse
stamp), so when the warehouse is rebuilt (new data ingested) the next run of
the page's auto-refreshing fragment computes afresh and the wall screen shows the new figures
without a reload. Months travel as ISO strings and category lists as tuples, so they hash.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from csp_data.analysis import hotspots, ttcg
from csp_data.present import maps
from csp_data.ui import cache

TTL = 3600


@st.cache_data(ttl=TTL, max_entries=4, show_spinner=False)
def _months(key: str) -> pd.DataFrame:
    return ttcg.ward_months()


def months() -> pd.DataFrame:
    """month (date), snapshot: the months the ward data cover."""
    return _months(cache.staff_key()).copy()


@st.cache_data(ttl=TTL, max_entries=64, show_spinner=False)
def _ward_expected(month_iso: str, categories: tuple[str, ...], key: str) -> pd.DataFrame:
    return ttcg.ward_expected(date.fromisoformat(month_iso), categories)


def ward_expected(month: date, categories) -> pd.DataFrame:
    return _ward_expected(month.isoformat(), tuple(categories), cache.staff_key()).copy()


@st.cache_data(ttl=TTL, max_entries=128, show_spinner=False)
def _emerging(month_iso: str, category: str, key: str) -> pd.DataFrame:
    return ttcg.lsoa_emerging(date.fromisoformat(month_iso), category)


def lsoa_emerging(month: date, category: str) -> pd.DataFrame:
    return _emerging(month.isoformat(), category, cache.staff_key()).copy()


@st.cache_data(ttl=TTL, max_entries=64, show_spinner=False)
def _lsoa_note(month_iso: str, categories: tuple[str, ...], key: str) -> str:
    emerging = {c: _emerging(month_iso, c, key) for c in categories}
    return ttcg.lsoa_hotspot_note(date.fromisoformat(month_iso), categories, emerging=emerging, short=True)


def lsoa_note(month: date, categories) -> str:
    """The plain sentence on small-area hot spots (none after FDR, or how many) for the month."""
    return _lsoa_note(month.isoformat(), tuple(categories), cache.staff_key())


@st.cache_data(ttl=TTL, max_entries=64, show_spinner=False)
def _exceptions(month_iso: str, categories: tuple[str, ...], key: str) -> list:
    month = date.fromisoformat(month_iso)
    # Reuse the cached pieces (the page also draws them), then let csp_data.analysis.ttcg assemble the list.
    frame = _ward_expected(month_iso, categories, key)
    emerging = {c: _emerging(month_iso, c, key) for c in categories}
    return ttcg.exceptions(month, categories, frame=frame, emerging=emerging)


def exceptions(month: date, categories) -> list:
    return list(_exceptions(month.isoformat(), tuple(categories), cache.staff_key()))


@st.cache_data(ttl=TTL, max_entries=32, show_spinner=False)
def _notes(month_iso: str, key: str) -> list[str]:
    return ttcg.coverage_notes(date.fromisoformat(month_iso))


def coverage_notes(month: date) -> list[str]:
    return list(_notes(month.isoformat(), cache.staff_key()))


@st.cache_resource(max_entries=2, show_spinner=False)
def _ward_shapes(key: str):
    return maps.simplify(maps.ward_geometry(), 15.0)


def ward_shapes():
    """Simplified ward polygons (WGS84), shared: do not change in place."""
    return _ward_shapes(cache.staff_key())


@st.cache_resource(max_entries=2, show_spinner=False)
def _lsoa_shapes(key: str):
    return maps.simplify(hotspots.lsoa_geometry()[["code", "geometry"]], 8.0)


def lsoa_shapes():
    """Simplified LSOA polygons (WGS84), shared: do not change in place."""
    return _lsoa_shapes(cache.staff_key())
