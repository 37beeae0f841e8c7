"""Cached loaders for the Stop and search page. Results are keyed by their arguments plus the
viewer's access level and the warehouse stamp (``cache.staff_key()``), as in :mod:`csp_data.ui.cache`, so a rebuild shows
new data without a restart. Everything returned is a copy the page may change."""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import pandas as pd
import streamlit as st

from csp_data.analysis import search_rates as sr
from csp_data.analysis import stop_search as ss
from csp_data.config import settings
from csp_data.present import maps
from csp_data.present import stop_search as present_ss
from csp_data.present.exports import csv_bytes
from csp_data.present.memo import memoize
from csp_data.ui import cache
from csp_data.warehouse import geo


def held() -> bool:
    """Whether any stop-and-search record is held for the configured borough."""
    n = cache.query("stop_search/coverage").iloc[0]["searches"]
    return bool(pd.notna(n) and int(n) > 0)


def awaiting_text() -> str:
    """What the page says when no record is held for the borough (police.uk files cover one borough)."""
    from csp_data.config import settings

    return (
        f"Stop and search: awaiting data. No stop-and-search records are held for {settings().borough_name}: "
        "the police.uk records embedded here cover one borough each, and none covers this one. Records for "
        "this borough can be landed with `python -m csp_data ingest` (or `update`)."
    )


def coverage() -> ss.Coverage:
    return ss.coverage(cache.query("stop_search/coverage"), monthly(""))


def monthly(ward_code: str = "") -> pd.DataFrame:
    return cache.query("stop_search/monthly", ward_code=ward_code)


@cache.warehouse_cached(max_entries=64, by="staff")
def profile(start: date, end: date, ward_code: str = "") -> pd.DataFrame:
    """The grouped profile (see :func:`csp_data.analysis.stop_search.grouped`) for a period and ward."""
    return ss.grouped(cache.query("stop_search/profile", start=start, end=end, ward_code=ward_code))


@cache.warehouse_cached(max_entries=128, by="staff")
def rates(start: date, end: date, ward_code: str, dim: str, measure: str) -> pd.DataFrame:
    return ss.rates_by(profile(start, end, ward_code), dim, measure)


def heatmap(start: date, end: date, ward_code: str = "") -> pd.DataFrame:
    return ss.heatmap_frame(cache.query("stop_search/heatmap", start=start, end=end, ward_code=ward_code))


def points(start: date, end: date, ward_code: str = "") -> pd.DataFrame:
    return cache.query("stop_search/points", start=start, end=end, ward_code=ward_code)


def wards(start: date, end: date) -> pd.DataFrame:
    return ss.ward_table(cache.query("stop_search/wards", start=start, end=end))


@cache.warehouse_cached(max_entries=2, by="staff")
def ward_outline() -> gpd.GeoDataFrame:
    """The borough's ward boundaries, simplified for drawing."""
    return geo.simplify(geo.ward_geometry())


def hex_map(start: date, end: date, ward_code: str = "") -> tuple[maps.MapSpec | None, int, int]:
    """(hex-bin map of located searches or None if none is located, searches without a location, all searches)."""
    pts, missing, total = ss.located(points(start, end, ward_code))
    if pts.empty:
        return None, missing, total
    return maps.hexbins(pts, outline=ward_outline()), missing, total


@cache.warehouse_cached(max_entries=64, by="staff")
def ethnic_rates(start: date, end: date, basis: str = "self") -> tuple[sr.AreaRates, sr.AreaRates] | None:
    """(the borough's, London's) searches per 1,000 residents by ethnic group in a period
    (:mod:`csp_data.analysis.search_rates`), or None when the borough's Census population by ethnic
    group is not held."""
    pop = cache.query("stop_search/population")
    cfg = settings()
    mine = sr.residents_of(pop, cfg.borough_code)
    if not mine:
        return None
    borough = sr.area_rates(cfg.borough_name, profile(start, end, ""), mine, basis)
    london = sr.area_rates(
        "London",
        cache.query("stop_search/london_ethnicity", start=start, end=end),
        sr.residents_of(pop, None),
        basis,
    )
    return borough, london


def london_months() -> pd.DataFrame:
    """Met-wide records per month: placed in a borough, in the City, outside London, with no location."""
    return cache.query("stop_search/london_months")


def unplaced_table() -> pd.DataFrame:
    """Every Met-wide month held: records placed in a Met borough, in the City, outside London, with no location."""
    df = london_months()
    return df.assign(month=df["month"].map(lambda m: f"{m:%b %Y}")).rename(
        columns={
            "month": "Month",
            "placed": "Placed in a Met borough",
            "city_of_london": "In the City of London",
            "outside_london": "Outside London",
            "no_location": "No location",
            "records": "All records",
        }
    )


def months_held(start: date, end: date) -> tuple[int, int]:
    """(months in the period with the borough's records, months with Met-wide records placed in London)."""
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    b = monthly("")
    ldn = london_months()
    b_month, l_month = pd.to_datetime(b["month"]), pd.to_datetime(ldn["month"])
    in_b = b[(b_month >= lo) & (b_month <= hi)]
    in_l = ldn[(l_month >= lo) & (l_month <= hi) & (ldn["placed"] > 0)]
    return len(in_b), len(in_l)


@cache.warehouse_cached(max_entries=8, by="staff")
def yearly_rates(basis: str = "self") -> pd.DataFrame:
    """Rates per 1,000 residents and ratios, borough beside London, for every financial year with data."""
    years = []
    for c in ss.period_choices(monthly("")):
        if c.key in ("last12", "all"):
            continue
        got = ethnic_rates(c.period.start, c.period.end, basis)
        if got is None:
            return pd.DataFrame()
        years.append((c.period.label, c.months_held, got[0], got[1]))
    return sr.yearly_table(years)


# ------------------------------------------------------------------------------------- for the page
# The page imports only from csp_data.ui: the names it needs from the layers below, and helpers.

DIMENSIONS = ss.DIMENSIONS
BASIS_LABELS = ss.BASIS_LABELS
PeriodChoice = ss.PeriodChoice
month_runs = ss.month_runs
period_choices = ss.period_choices
rules_table = ss.rules_table
mapping_table = ss.mapping_table
unmapped_answers = ss.unmapped_answers
rate_sentences = memoize(maxsize=128)(ss.rate_sentences)
awaiting_ethnicity_sentence = ss.awaiting_ethnicity_sentence
POPULATION_LABEL = sr.POPULATION_LABEL
RATE_BASES = sr.BASES
ratio_sentences = sr.ratio_sentences
excluded_sentence = sr.excluded_sentence
ratio_chart = present_ss.ratio_chart
rates_tables = present_ss.rates_tables
breakdown_chart = present_ss.breakdown_chart
rate_chart = present_ss.rate_chart
rate_tables = memoize(maxsize=128)(present_ss.rate_tables)
ward_tables = present_ss.ward_tables
monthly_chart = present_ss.monthly_chart
heatmap_chart = present_ss.heatmap_chart


@cache.warehouse_cached(max_entries=64, by="staff", resource=True)
def breakdown_for(start: date, end: date, ward_code: str, dim: str, title: str):
    """The breakdown chart of the period's profile by ``dim`` (chart, description, table), made once
    per period, ward and dimension and shared (never changed: it only goes to the screen)."""
    return present_ss.breakdown_chart(profile(start, end, ward_code), dim, title)


@cache.warehouse_cached(max_entries=64, by="staff")
def mapping_for(start: date, end: date, ward_code: str = "") -> pd.DataFrame:
    """Every self-defined answer in the period and its group (:func:`ss.mapping_table`)."""
    return ss.mapping_table(profile(start, end, ward_code))


@cache.warehouse_cached(max_entries=64, by="staff")
def headline(choice: ss.PeriodChoice, ward_code: str = "") -> ss.Headline:
    """The headline figures (:func:`csp_data.analysis.stop_search.headline`) for a period choice and ward."""
    period = choice.period
    return ss.headline(
        profile(period.start, period.end, ward_code),
        choice,
        monthly(ward_code),
        lambda prev: profile(prev.start, prev.end, ward_code),
    )


def download(df: pd.DataFrame, what: str, name: str) -> None:
    """A button that downloads ``df`` as ``stop-search-<name>.csv``."""
    snapshot = df.copy()
    st.download_button(
        f"Download {what} (CSV)",
        lambda: csv_bytes(snapshot),  # made when pressed, not on every run
        on_click="ignore",
        file_name=f"stop-search-{name}.csv",
        mime="text/csv",
        key=f"dl-{name}",
    )
