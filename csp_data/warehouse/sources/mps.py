"""Metropolitan Police Service recorded crime (London Datastore).

Wide files: one row per place x major/minor category, one column per month ``YYYYMM``.
Three geographic levels share the shape but not the column names, and the London Datastore
CSVs use different capitalisation from the parquet copies, so headers are normalised first.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from csp_data.warehouse.sources import SourceError
from csp_data.warehouse.sources.limits import AREA_MONTH_CEILING

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
        "not an MPS recorded-crime file: expected the columns of the borough file "
        "(MajorText, MinorText, BoroughName), the ward file "
        "(MajorText, MinorText, WardName, WardCode, LookUp_BoroughName) or the LSOA file "
        "(LSOA Code, LSOA Name, Borough, Major Category, Minor Category) followed by YYYYMM month columns"
    )


_INT_TEXT = re.compile(r"^\s*\d+\s*$")


def whole_counts(values: pd.Series, where: str, ceiling: int = AREA_MONTH_CEILING) -> pd.Series:
    """Counts as int64, or SourceError naming the first value that is not a whole number from 0 to
    ``ceiling``: text must be digits only (``2.7``, ``1e30``, ``-1``, ``NaN`` and blanks are refused),
    numbers must be finite and integral. Nothing is rounded, clipped or overflowed."""
    s = pd.Series(values).reset_index(drop=True)
    if pd.api.types.is_integer_dtype(s.dtype) and not s.isna().any():
        nums = s.astype("int64")
        bad = nums < 0
        if bad.any():
            raise SourceError(
                f"{where}: count {nums[bad].iloc[0]} is negative (row {int(np.flatnonzero(bad)[0]) + 1})"
            )
    elif pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        f = s.astype("float64")
        bad = ~np.isfinite(f) | (f < 0) | (f != np.floor(f)) | (f > ceiling)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise SourceError(
                f"{where}: count {s.iloc[i]!r} is not a whole number from 0 to {ceiling:,d} (row {i + 1})"
            )
        nums = f.astype("int64")
    else:
        text = s.astype("string").fillna("")
        ok = text.str.match(_INT_TEXT).fillna(False).astype(bool)
        if not ok.all():
            i = int(np.flatnonzero(~ok.to_numpy())[0])
            raise SourceError(
                f"{where}: count {str(text.iloc[i])!r} is not a whole non-negative number (row {i + 1})"
            )
        if (text.str.strip().str.len() > 12).any():  # longer than any ceiling: never parse into overflow
            i = int(np.flatnonzero((text.str.strip().str.len() > 12).to_numpy())[0])
            raise SourceError(
                f"{where}: count {str(text.iloc[i]).strip()} is above the plausible ceiling of "
                f"{ceiling:,d} (row {i + 1})"
            )
        nums = text.str.strip().astype("int64")
    over = nums > ceiling
    if over.any():
        i = int(np.flatnonzero(over.to_numpy())[0])
        raise SourceError(
            f"{where}: count {int(nums.iloc[i]):,d} is above the plausible ceiling of {ceiling:,d} "
            f"for one area in one month (row {i + 1}; see data/sources/SOURCES.md, ingest limits)"
        )
    return pd.Series(nums.to_numpy(), index=pd.Series(values).index)


def month_columns(columns: list[str], ids: list[str]) -> list[str]:
    """The YYYYMM columns of a wide file (normalised names). SourceError for any other column,
    a malformed month column (``202613``, ``2026-03``, ``Mar-26``) or a gap in the months."""
    others = [c for c in columns if c not in ids]
    months = [c for c in others if MONTH_COL.match(c)]
    bad = [c for c in others if c not in months]
    if bad:
        raise SourceError(
            f"unexpected or unparseable month columns: {', '.join(bad[:5])}"
            f"{' ...' if len(bad) > 5 else ''} (month columns are YYYYMM, e.g. 202603)"
        )
    if not months:
        raise SourceError("no month columns (YYYYMM) found")
    if len(set(months)) != len(months):
        raise SourceError("a month column appears twice")
    periods = sorted(pd.Period(f"{m[:4]}-{m[4:]}", "M") for m in months)
    want = pd.period_range(periods[0], periods[-1], freq="M")
    if len(want) != len(periods):
        gap = sorted(set(want) - set(periods))
        raise SourceError(f"the month columns have gaps: {', '.join(str(g) for g in gap[:5])} missing")
    return months


def parse_months(values: pd.Series, where: str) -> pd.Series:
    """First-of-month dates from dates or text (``2025-07``, ``2025-07-01``, ``2025-07-01 00:00:00``,
    ``01/07/2025``). SourceError naming the first value that is not one."""
    s = pd.Series(values)
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        when = s
    else:
        text = s.astype("string").str.strip().fillna("")
        when = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
        for pattern, fmt in (
            (r"^\d{4}-\d{2}$", "%Y-%m"),
            (r"^\d{4}-\d{2}-\d{2}$", "%Y-%m-%d"),
            (r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}$", None),
            (r"^\d{2}/\d{2}/\d{4}$", "%d/%m/%Y"),
        ):
            m = text.str.match(pattern).fillna(False).astype(bool) & when.isna()
            if m.any():
                when[m] = pd.to_datetime(
                    text[m].str.replace("T", " "), format=fmt or "%Y-%m-%d %H:%M:%S", errors="coerce"
                )
    if when.isna().any():
        i = int(np.flatnonzero(when.isna().to_numpy())[0])
        raise SourceError(f"{where}: {str(s.iloc[i])!r} is not a month or a date (row {i + 1})")
    return when.dt.to_period("M").dt.to_timestamp().dt.date


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
    month_cols = month_columns(list(frame.columns), list(layout))
    for col in month_cols:  # every cell, stub months included: whole, non-negative, plausible
        frame[col] = whole_counts(frame[col], f"month column {col}")
    stubs = stub_months(frame, month_cols)
    keep = [c for c in month_cols if c not in stubs]
    ids = list(layout)
    long = (
        frame[ids + keep]
        .rename(columns=layout)
        .melt(id_vars=list(layout.values()), value_vars=keep, var_name="month", value_name="count")
    )
    long["count"] = long["count"].astype("int64")
    long["month"] = pd.to_datetime(long["month"], format="%Y%m").dt.date
    for col in ("major_category", "minor_category", "area_name"):
        long[col] = long[col].astype(str).str.strip()
    if "area_code" in long:
        long["area_code"] = long["area_code"].astype(str).str.strip()
    return long, {"level": level, "months": sorted(keep), "stub_months": stubs}


DASHBOARD_AREA_TYPES = {"Borough": "borough", "Safer Neighbourhood Teams": "ward"}
DASHBOARD_NEED = (
    "month_year",
    "area_type",
    "borough_snt",
    "area_code",
    "crime_type",
    "crime_subtype",
    "measure",
    "count",
)
# Header spellings seen for the same columns (normalised): some extracts say Offence Group/Subgroup.
DASHBOARD_ALIASES = {"offence_group": "crime_type", "offence_subgroup": "crime_subtype"}
BUSINESS_NEED = ("date", "borough", "crime_section", "crime_group", "business_crime_offence_count")


def dashboard_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """The dashboard frame with normalised headers (``Month_Year`` -> ``month_year``), or SourceError."""
    f = frame.rename(columns={c: normalise_header(c) for c in frame.columns})
    f = f.rename(
        columns={a: b for a, b in DASHBOARD_ALIASES.items() if a in f.columns and b not in f.columns}
    )
    missing = set(DASHBOARD_NEED) - set(f.columns)
    if missing:
        raise SourceError(f"not an MPS Monthly Crime Dashboard file: missing {sorted(missing)}")
    return f


def business_columns(frame: pd.DataFrame) -> pd.DataFrame:
    f = frame.rename(columns={c: normalise_header(c) for c in frame.columns})
    missing = set(BUSINESS_NEED) - set(f.columns)
    if missing:
        raise SourceError(f"not an MPS business crime offences file: missing {sorted(missing)}")
    return f


def sniff_other(columns: list[str]) -> str | None:
    """``dashboard`` or ``business`` for the other MPS CSVs ingest accepts, else None."""
    norm = {normalise_header(c) for c in columns}
    norm |= {b for a, b in DASHBOARD_ALIASES.items() if a in norm}
    if set(DASHBOARD_NEED) <= norm:
        return "dashboard"
    if set(BUSINESS_NEED) <= norm:
        return "business"
    return None


def dashboard_kept(frame: pd.DataFrame, borough_name: str) -> pd.Series:
    """The rows the build keeps (normalised headers): the borough's own and its wards' rows, and
    every borough's borough-level row (the London comparison)."""
    snt = frame["borough_snt"].astype(str)
    return (snt == borough_name) | snt.str.startswith(borough_name + " ") | (frame["area_type"] == "Borough")


def dashboard(frame: pd.DataFrame, borough_name: str) -> pd.DataFrame:
    """MPS Monthly Crime Dashboard rows for one borough (borough and ward/SNT rows), plus every
    London borough's borough-level row, so a measure can be compared with London's change
    (``queries/dashboard/london_monthly.sql``; the London total is summed over the 32 boroughs)."""
    frame = dashboard_columns(frame)  # published headers (Month_Year, Area Type, ...) normalised
    mine = frame[dashboard_kept(frame, borough_name)].copy()
    mine["area_code"] = mine["area_code"].astype(str).str.strip()
    mine["area_code"] = mine["area_code"].mask(mine["area_code"] == "")  # a CSV's blank is the parquet's null
    mine["area_level"] = mine["area_type"].map(DASHBOARD_AREA_TYPES)
    if mine["area_level"].isna().any():
        raise SourceError(
            f"unknown area_type values: {sorted(mine.loc[mine.area_level.isna(), 'area_type'].unique())}"
        )
    mine["month"] = parse_months(mine["month_year"], "month_year")
    mine["count"] = whole_counts(mine["count"], "count")  # whole, non-negative, plausible: never coerced
    # One subtype is spelt two ways across measures ("violence with injury" / "Violence with Injury").
    mine["crime_subtype"] = mine["crime_subtype"].str.replace(
        "Domestic Abuse violence with injury", "Domestic Abuse Violence with Injury", regex=False
    )
    mine["refresh_date"] = (
        mine["refresh_date"].astype(str).str.slice(0, 10) if "refresh_date" in mine else None
    )
    cols = [
        "month",
        "area_level",
        "area_code",
        "crime_type",
        "crime_subtype",
        "measure",
        "count",
        "refresh_date",
    ]
    return mine[cols].groupby(cols[:-2] + ["refresh_date"], as_index=False, dropna=False)["count"].sum()


def business_offences(frame: pd.DataFrame) -> pd.DataFrame:
    """MPS business crime offences (day rows) -> monthly counts by borough and crime group."""
    f = business_columns(frame).copy()
    f["month"] = parse_months(f["date"], "date")
    f["count"] = whole_counts(f["business_crime_offence_count"], "business_crime_offence_count")
    f["refresh_date"] = f["refresh_date"].astype(str).str.slice(0, 10) if "refresh_date" in f else None
    out = f.groupby(["month", "borough", "crime_section", "crime_group", "refresh_date"], as_index=False)[
        "count"
    ].sum()
    return out.rename(
        columns={
            "borough": "borough_name",
            "crime_section": "major_category",
            "crime_group": "minor_category",
        }
    )
