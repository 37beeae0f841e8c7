"""Small frames and figures for the TTCG projector view (pages/operations/ttcg.py), built from the frames of
:mod:`csp_data.analysis.ttcg`. No Streamlit: the page draws what these return (through
:mod:`csp_data.ui.ttcg`)."""

from __future__ import annotations

from datetime import date

import pandas as pd

DOWNLOAD_COLUMNS = {
    "ward_code": "Ward code",
    "ward_name": "Ward",
    "label": "Category",
    "expected": "Expected",
    "expected_months": "Months behind the expectation",
    "ratio": "Ratio",
    "p_high": "p (this high or higher)",
    "p_low": "p (this low or lower)",
    "flag": "Flag",
    "q": "q (after allowing for every cell)",
    "dispersion": "Dispersion (prediction)",
}


def month_snapshot(months: pd.DataFrame, month: date) -> str:
    """The snapshot label of ``month`` in the ward months frame (month, snapshot)."""
    return months.loc[months["month"] == month, "snapshot"].iloc[0]


def flagged_wards(table: pd.DataFrame, focus_ward: str | None, limit: int) -> tuple[int, pd.DataFrame]:
    """From a :func:`csp_data.analysis.ttcg.grid` frame: how many wards carry a flag, and the first
    ``limit`` rows that are flagged or are the focus ward (the on-screen table)."""
    n_flagged = int((table["flags"] > 0).sum())
    keep = table[(table["flags"] > 0) | table["ward_code"].eq(focus_ward or "")].head(limit)
    return n_flagged, keep


def download_table(frame: pd.DataFrame, month: date) -> pd.DataFrame:
    """The ward x category frame of :func:`csp_data.analysis.ttcg.ward_expected` as downloaded: the
    category id dropped, columns named for readers."""
    columns = {**DOWNLOAD_COLUMNS, "latest": f"Offences {month:%b %Y}"}
    return frame.drop(columns=["category"]).rename(columns=columns)
