"""Charts and display tables for the Stop and search page, built from the figures in
:mod:`csp_data.analysis.stop_search`. No Streamlit: the page draws what these return (each chart as the
``(chart, description, table)`` triple of :mod:`csp_data.present.charts`)."""

from __future__ import annotations

from collections.abc import Iterable

import altair as alt
import pandas as pd

from csp_data.analysis import search_rates as sr
from csp_data.analysis import stop_search as ss
from csp_data.present import charts
from csp_data.present.memo import memoize

RATE_PCT_COLUMNS = ("Rate (%)", "95% low (%)", "95% high (%)", "Other groups (%)")
WARD_PCT_COLUMNS = ("Share of borough (%)", "Per 1,000 residents")


def one_dp(df: pd.DataFrame, cols: Iterable[str]) -> pd.DataFrame:
    """A copy for display with percentage-like columns to one decimal place (the CSV keeps numbers)."""
    out = df.copy()
    for c in cols:
        out[c] = out[c].map(lambda v: "" if pd.isna(v) else f"{v:,.1f}")
    return out


@memoize(maxsize=256, copy=False)
def breakdown_chart(prof: pd.DataFrame, dim: str, title: str) -> tuple[alt.TopLevelMixin, str, pd.DataFrame]:
    """Bars of searches per category of ``dim`` (a key of :data:`~csp_data.analysis.stop_search.DIMENSIONS`)
    in the grouped profile ``prof``; the table carries each category's share."""
    col = ss.DIMENSIONS[dim].heading
    counts = ss.counts_by(prof, dim)
    chart, alt_text, chart_table = charts.breakdown_bars(
        counts.rename(columns={"category": col}), title, col, "searches", "Searches"
    )
    # Streamlit fits the whole chart (title and axis too) into the height: leave room for every bar label
    chart = chart.properties(height=32 * len(counts) + 90)
    share = dict(zip(counts["category"], counts["share_pct"]))
    chart_table = chart_table.assign(**{"Share (%)": chart_table[col].map(lambda c: f"{share[c]:.1f}")})
    return chart, alt_text, chart_table


@memoize(maxsize=256, copy=False)
def rate_chart(
    rates: pd.DataFrame, dim: str, title: str, count_label: str
) -> tuple[alt.TopLevelMixin, str, pd.DataFrame]:
    """Each group's rate with its 95% interval (:func:`~csp_data.analysis.stop_search.rates_by`), against
    the rate for all searches."""
    return charts.interval_dots(
        rates,
        title,
        ss.DIMENSIONS[dim].heading,
        "Rate",
        count_label,
        overall_pct=rates.attrs["rate_pct"],
        overall_label="All searches",
    )


def rate_tables(rates: pd.DataFrame, dim: str, count_label: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the rates table as shown, to one decimal place; the same table for its CSV, numbers kept)."""
    table = ss.rate_table(rates, ss.DIMENSIONS[dim].heading, count_label)
    return one_dp(table, RATE_PCT_COLUMNS), table


def ward_tables(wards: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the searches-by-ward table as shown; the same for its CSV) from a :func:`~csp_data.analysis.stop_search.ward_table`."""
    table = ss.ward_display_table(wards)
    return one_dp(table, WARD_PCT_COLUMNS), table


@memoize(maxsize=256, copy=False)
def monthly_chart(monthly: pd.DataFrame, title: str) -> tuple[alt.TopLevelMixin, str, pd.DataFrame]:
    """Searches per month over every month held, gaps named, with the 12-month average."""
    return charts.monthly_with_average(ss.monthly_series(monthly), title, "searches", note_col="note")


@memoize(maxsize=256, copy=False)
def heatmap_chart(hm: pd.DataFrame, title: str) -> tuple[alt.TopLevelMixin, str, pd.DataFrame]:
    """Searches by day of the week and hour (``hm`` from :func:`~csp_data.analysis.stop_search.heatmap_frame`)."""
    return charts.day_hour_heatmap(hm, title, "searches")


def ratio_chart(
    borough: sr.AreaRates, london: sr.AreaRates, title: str
) -> tuple[alt.TopLevelMixin, str, pd.DataFrame]:
    """Each group's search rate against the White group's (the disproportionality ratio) with its 95%
    interval, for the borough and London (:func:`~csp_data.analysis.search_rates.area_rates`)."""
    rows = []
    for area in (borough, london):
        for _, r in area.table.iterrows():
            if r["group"] == sr.REFERENCE:
                continue
            rows.append(
                {
                    "category": r["group"],
                    "series": area.area,
                    "ratio": r["ratio"],
                    "low": r["ratio_low"],
                    "high": r["ratio_high"],
                }
            )
    return charts.ratio_dots(
        pd.DataFrame(rows),
        title,
        "Searches per 1,000 residents of each group / the White group's; 1 = the same rate. Bars: 95% intervals",
        "Ratio to the White group's rate",
    )


def rates_tables(borough: sr.AreaRates, london: sr.AreaRates) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the rates table as shown; the same for its CSV) for the borough beside London."""
    table = sr.comparison_table(borough, london)
    shown = table.copy()
    for c in shown.columns:
        if c.endswith("per 1,000 residents"):
            shown[c] = shown[c].map(lambda v: "" if pd.isna(v) else f"{v:,.1f}")
        elif c.endswith(("searches", "residents")):
            shown[c] = shown[c].map(lambda v: f"{int(v):,d}")
    return shown, table
