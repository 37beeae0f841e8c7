"""Metropolitan Police Service recorded crime (London Datastore).

Wide files: one row per place x major/minor category, one column per month ``YYYYMM``.
Three geographic levels share the shape but not the column names, and the London Datastore
CSVs use different capitalisation from the parquet copies, so headers are normalised first.
"""

from __future__ import annotations

import re

import pandas as pd

from . import SourceError

MONTH_COL = re.compile(r"^(19|20)\d{2}(0[1-9]|1[0-2])$")

# normalised header -> our column, per level
WIDE_LAYOUTS: dict[str, dict[str, str]] = {
    "borough": {"majortext": "major_category", "minortext": "minor_category", "boroughname": "area_name"},
    "ward": {
        "majortext": "major_category",
        "minortext": "minor_category",
        "wardname": "area_name",
        "wardcode": "area_code",
        "lookup_boroughname": "borough_name",
    },
    "lsoa": {
        "lsoa_code": "area_code",
        "lsoa_name": "area_name",
        "borough": "borough_code",
        "major_category": "major_category",
        "minor_category": "minor_category",
    },
}

# The MPS renamed residential burglary in 2023 (DOMESTIC BURGLARY -> RES BURGLARY OF A HOME /
# RES BURGLARY OF UNCONNECTED BUILDING); the older LSOA extract used yet other names.
# ``offence_group`` joins them so long-run burglary trends are continuous.
RESIDENTIAL_BURGLARY = "RESIDENTIAL BURGLARY"
_OFFENCE_GROUP = {
    "DOMESTIC BURGLARY": RESIDENTIAL_BURGLARY,
    "RES BURGLARY OF A HOME": RESIDENTIAL_BURGLARY,
    "RES BURGLARY OF UNCONNECTED BUILDING": RESIDENTIAL_BURGLARY,
    "BURGLARY - RESIDENTIAL": RESIDENTIAL_BURGLARY,
    "BURGLARY IN A DWELLING": RESIDENTIAL_BURGLARY,
    "BURGLARY NON-DWELLING": "BURGLARY BUSINESS AND COMMUNITY",
}

# Places in the borough-level files that are not London boroughs.
PSEUDO_BOROUGHS = {"London Heathrow and London City Airports", "Unknown", "Aviation Security (SO18)"}


def offence_group(minor: pd.Series) -> pd.Series:
    return minor.map(lambda m: _OFFENCE_GROUP.get(m, m))


def normalise_header(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(name).strip().lower()).strip("_")


def detect_level(columns: list[str]) -> str:
    """Which wide layout a header matches, or SourceError naming what is missing."""
    norm = {normalise_header(c) for c in columns}
    for level, layout in WIDE_LAYOUTS.items():
        if set(layout) <= norm:
            return level
    raise SourceError(
        "not an MPS recorded-crime file: expected the columns of the ward file "
        "(MajorText, MinorText, WardName, WardCode, LookUp_BoroughName) or the LSOA file "
        "(LSOA Code, LSOA Name, Borough, Major Category, Minor Category) followed by YYYYMM month columns"
    )


def stub_months(frame: pd.DataFrame, month_cols: list[str]) -> list[str]:
    """Leading month columns that are near-empty stubs (total < 10% of the median month).

    The MPS "most recent 24 months" files start with such a stub (e.g. 40 offences London-wide
    against ~73,000 in a real month).
    """
    if not month_cols:
        return []
    totals = frame[month_cols].apply(pd.to_numeric, errors="coerce").fillna(0).sum()
    median = float(totals.median())
    stubs: list[str] = []
    for col in sorted(month_cols):
        if median > 0 and totals[col] < 0.1 * median:
            stubs.append(col)
        else:
            break
    return stubs


def read_wide(frame: pd.DataFrame, *, level: str | None = None) -> tuple[pd.DataFrame, dict]:
    """Wide MPS frame -> long frame (area_code?, area_name, major, minor, month, count) + info.

    info holds ``level``, ``months`` (kept), ``stub_months`` (dropped).
    Non-numeric or negative counts raise SourceError: the MPS never publishes them, so such a
    file is not what it claims to be.
    """
    level = level or detect_level(list(frame.columns))
    layout = WIDE_LAYOUTS[level]
    renamed = {c: normalise_header(c) for c in frame.columns}
    frame = frame.rename(columns=renamed)
    month_cols = [c for c in frame.columns if MONTH_COL.match(c)]
    if not month_cols:
        raise SourceError("no month columns (YYYYMM) found")
    stubs = stub_months(frame, month_cols)
    keep = [c for c in month_cols if c not in stubs]
    ids = list(layout)
    long = frame[ids + keep].rename(columns=layout).melt(
        id_vars=list(layout.values()), value_vars=keep, var_name="month", value_name="count"
    )
    counts = pd.to_numeric(long["count"], errors="coerce")
    if counts.isna().any() or (counts < 0).any():
        bad = long.loc[counts.isna() | (counts < 0), "month"].iloc[0]
        raise SourceError(f"non-numeric or negative count in month column {bad}")
    long["count"] = counts.astype("int64")
    long["month"] = pd.to_datetime(long["month"], format="%Y%m").dt.date
    for col in ("major_category", "minor_category", "area_name"):
        long[col] = long[col].astype(str).str.strip()
    if "area_code" in long:
        long["area_code"] = long["area_code"].astype(str).str.strip()
    return long, {"level": level, "months": sorted(keep), "stub_months": stubs}


def dashboard(frame: pd.DataFrame, borough_name: str) -> pd.DataFrame:
    """MPS Monthly Crime Dashboard rows for one borough (borough and ward/SNT rows), plus every
    London borough's borough-level row, so a measure can be compared with London's change
    (``queries/dashboard/london_monthly.sql``; the London total is summed over the 32 boroughs)."""
    need = {"month_year", "area_type", "borough_snt", "area_code", "crime_type", "crime_subtype", "measure", "count"}
    missing = need - set(frame.columns)
    if missing:
        raise SourceError(f"not an MPS Monthly Crime Dashboard file: missing {sorted(missing)}")
    snt = frame["borough_snt"].astype(str)
    mine = frame[(snt == borough_name) | snt.str.startswith(borough_name + " ")
                 | (frame["area_type"] == "Borough")].copy()
    mine["area_code"] = mine["area_code"].astype(str).str.strip()
    mine["area_level"] = mine["area_type"].map({"Borough": "borough", "Safer Neighbourhood Teams": "ward"})
    if mine["area_level"].isna().any():
        raise SourceError(f"unknown area_type values: {sorted(mine.loc[mine.area_level.isna(), 'area_type'].unique())}")
    month = pd.to_datetime(mine["month_year"].astype(str).str.slice(0, 7), format="%Y-%m", errors="coerce")
    if month.isna().any():
        raise SourceError("unreadable month_year values in the dashboard file")
    mine["month"] = month.dt.date
    mine["count"] = pd.to_numeric(mine["count"], errors="raise").astype("int64")
    # One subtype is spelt two ways across measures ("violence with injury" / "Violence with Injury").
    mine["crime_subtype"] = mine["crime_subtype"].str.replace(
        "Domestic Abuse violence with injury", "Domestic Abuse Violence with Injury", regex=False
    )
    mine["refresh_date"] = mine["refresh_date"].astype(str).str.slice(0, 10) if "refresh_date" in mine else None
    cols = ["month", "area_level", "area_code", "crime_type", "crime_subtype", "measure", "count", "refresh_date"]
    return mine[cols].groupby(cols[:-2] + ["refresh_date"], as_index=False, dropna=False)["count"].sum()


def business_offences(frame: pd.DataFrame) -> pd.DataFrame:
    """MPS business crime offences (day rows) -> monthly counts by borough and crime group."""
    need = {"date", "borough", "crime_section", "crime_group", "business_crime_offence_count"}
    missing = need - set(frame.columns)
    if missing:
        raise SourceError(f"not an MPS business crime offences file: missing {sorted(missing)}")
    f = frame.copy()
    f["month"] = pd.to_datetime(f["date"]).dt.to_period("M").dt.to_timestamp().dt.date
    f["count"] = pd.to_numeric(f["business_crime_offence_count"], errors="raise").astype("int64")
    f["refresh_date"] = f["refresh_date"].astype(str).str.slice(0, 10) if "refresh_date" in f else None
    out = f.groupby(["month", "borough", "crime_section", "crime_group", "refresh_date"], as_index=False)["count"].sum()
    return out.rename(columns={"borough": "borough_name", "crime_section": "major_category", "crime_group": "minor_category"})
