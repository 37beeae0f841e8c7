"""data.police.uk street-level crime, outcomes and stop-and-search files.

Validation is row by row: a bad row is quarantined with a reason, never silently dropped,
and never deduplicated on Crime ID (anti-social behaviour rows have no Crime ID, and early
files repeat whole rows as published).
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from . import SourceError

STREET_COLUMNS = [
    "Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude",
    "Location", "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context",
]
OUTCOME_COLUMNS = [
    "Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude",
    "Location", "LSOA code", "LSOA name", "Outcome type",
]
STOP_SEARCH_COLUMNS = [
    "Type", "Date", "Part of a policing operation", "Policing operation", "Latitude", "Longitude",
    "Gender", "Age range", "Self-defined ethnicity", "Officer-defined ethnicity", "Legislation",
    "Object of search", "Outcome", "Outcome linked to object of search",
    "Removal of more than just outer clothing",
]

# Every crime type police.uk has published (the first two only before 2013).
CRIME_TYPES = {
    "Anti-social behaviour", "Bicycle theft", "Burglary", "Criminal damage and arson", "Drugs",
    "Other crime", "Other theft", "Possession of weapons", "Public order", "Robbery", "Shoplifting",
    "Theft from the person", "Vehicle crime", "Violence and sexual offences",
    "Violent crime", "Public disorder and weapons",
}

MONTH_RE = re.compile(r"^(19|20)\d{2}-(0[1-9]|1[0-2])$")
LSOA_RE = re.compile(r"^[EW]010\d{5}$")
# Generous bounds around England and Wales (police.uk also places some crimes abroad as blank).
LON_RANGE = (-6.5, 2.0)
LAT_RANGE = (49.8, 55.9)

KIND_COLUMNS = {"street": STREET_COLUMNS, "outcomes": OUTCOME_COLUMNS, "stop_search": STOP_SEARCH_COLUMNS}


def sniff_kind(columns: list[str]) -> str | None:
    """Which police.uk file a header belongs to, or None."""
    cols = [c.strip() for c in columns]
    if cols[: len(STREET_COLUMNS)] == STREET_COLUMNS:
        return "street"
    if cols[: len(OUTCOME_COLUMNS)] == OUTCOME_COLUMNS:
        return "outcomes"
    if set(STOP_SEARCH_COLUMNS) <= set(cols):
        return "stop_search"
    return None


def read_csv_text(path: Path) -> pd.DataFrame:
    """Read a police.uk CSV (plain or .gz) as strings, exactly as published."""
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[], encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{path.name} is not a UTF-8 text CSV (binary file?)") from exc
    except pd.errors.EmptyDataError as exc:
        raise SourceError(f"{path.name} is empty") from exc
    except pd.errors.ParserError as exc:
        raise SourceError(f"{path.name} is not a well-formed CSV: {exc}") from exc


def zip_members(path: Path, kind: str) -> list[str]:
    """CSV members of a police.uk archive zip that are of ``kind`` (by file name)."""
    suffix = {"street": "-street.csv", "outcomes": "-outcomes.csv", "stop_search": "-stop-and-search.csv"}[kind]
    with zipfile.ZipFile(path) as zf:
        return sorted(n for n in zf.namelist() if n.endswith(suffix) and ".." not in n and not n.startswith("/"))


def read_zip_member(path: Path, member: str) -> pd.DataFrame:
    with zipfile.ZipFile(path) as zf, zf.open(member) as fh:
        return pd.read_csv(io.TextIOWrapper(fh, encoding="utf-8"), dtype=str, keep_default_na=False, na_values=[])


def _num(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s.replace("", np.nan), errors="coerce")


def validate_street(raw: pd.DataFrame, borough_name: str) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Split published street rows into (kept, quarantined, outside_borough_count).

    kept rows are in the borough (police.uk's own LSOA name starts with the borough name) and
    pass every check; quarantined rows carry ``reason`` and ``source_row`` (1-based data row).
    Rows from other areas are counted, not kept: a force-wide file is mostly other boroughs.
    """
    df = raw.copy()
    df.columns = [c.strip() for c in df.columns]
    df["source_row"] = np.arange(1, len(df) + 1)
    in_area = df["LSOA name"].str.startswith(borough_name + " ")
    outside = int((~in_area).sum())
    df = df[in_area].copy()
    reasons = pd.Series("", index=df.index)

    def flag(mask: pd.Series, why: str) -> None:
        nonlocal reasons
        reasons = reasons.where(~mask | (reasons != ""), why)

    flag(~df["Month"].str.match(MONTH_RE), "month is not YYYY-MM")
    lon, lat = _num(df["Longitude"]), _num(df["Latitude"])
    has_text = (df["Longitude"] != "") | (df["Latitude"] != "")
    flag(has_text & (lon.isna() | lat.isna()), "coordinates are not numbers")
    flag(lon.notna() & ~lon.between(*LON_RANGE), "longitude outside England and Wales")
    flag(lat.notna() & ~lat.between(*LAT_RANGE), "latitude outside England and Wales")
    flag(~df["Crime type"].isin(CRIME_TYPES), "unknown crime type")
    flag(~df["LSOA code"].str.match(LSOA_RE), "LSOA code is not an ONS LSOA code")
    bad = reasons != ""
    quarantined = df[bad].assign(reason=reasons[bad])
    kept = df[~bad].copy()
    kept["Longitude"], kept["Latitude"] = lon[~bad], lat[~bad]
    return kept, quarantined, outside


def tidy_street(kept: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({
        "crime_id": kept["Crime ID"].replace("", None),
        "month": pd.to_datetime(kept["Month"], format="%Y-%m").dt.date,
        "crime_type": kept["Crime type"],
        "longitude": kept["Longitude"].astype("float64"),
        "latitude": kept["Latitude"].astype("float64"),
        "location": kept["Location"],
        "lsoa_code_published": kept["LSOA code"],
        "lsoa_name_published": kept["LSOA name"],
        "last_outcome": kept["Last outcome category"].replace("", None),
        "source_row": kept["source_row"].astype("int64"),
    })
    return out.reset_index(drop=True)


def validate_stop_search(raw: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split stop-and-search rows into (valid, quarantined). Area filtering is spatial (later)."""
    df = raw.copy()
    df.columns = [c.strip() for c in df.columns]
    df["source_row"] = np.arange(1, len(df) + 1)
    reasons = pd.Series("", index=df.index)

    def flag(mask: pd.Series, why: str) -> None:
        nonlocal reasons
        reasons = reasons.where(~mask | (reasons != ""), why)

    when = pd.to_datetime(df["Date"], errors="coerce", utc=True, format="ISO8601")
    flag(when.isna(), "date is not an ISO 8601 timestamp")
    lon, lat = _num(df["Longitude"]), _num(df["Latitude"])
    has_text = (df["Longitude"] != "") | (df["Latitude"] != "")
    flag(has_text & (lon.isna() | lat.isna()), "coordinates are not numbers")
    flag(lon.notna() & ~lon.between(*LON_RANGE), "longitude outside England and Wales")
    flag(lat.notna() & ~lat.between(*LAT_RANGE), "latitude outside England and Wales")
    bad = reasons != ""
    quarantined = df[bad].assign(reason=reasons[bad])
    ok = df[~bad]
    local = when[~bad].dt.tz_convert("Europe/London")
    tidy = pd.DataFrame({
        "searched_at": local.dt.tz_localize(None),
        "month": local.dt.tz_localize(None).dt.to_period("M").dt.to_timestamp().dt.date,
        "search_type": ok["Type"],
        "longitude": lon[~bad],
        "latitude": lat[~bad],
        "gender": ok["Gender"].replace("", None),
        "age_range": ok["Age range"].replace("", None),
        "self_defined_ethnicity": ok["Self-defined ethnicity"].replace("", None),
        "officer_defined_ethnicity": ok["Officer-defined ethnicity"].replace("", None),
        "legislation": ok["Legislation"].replace("", None),
        "object_of_search": ok["Object of search"].replace("", None),
        "outcome": ok["Outcome"].replace("", None),
        "outcome_linked": ok["Outcome linked to object of search"].str.lower().map({"true": True, "false": False}),
        "removal_outer_clothing": ok["Removal of more than just outer clothing"].str.lower().map({"true": True, "false": False}),
        "source_row": ok["source_row"].astype("int64"),
    })
    return tidy.reset_index(drop=True), quarantined


def tidy_outcomes(raw: pd.DataFrame, borough_name: str) -> pd.DataFrame:
    df = raw.copy()
    df.columns = [c.strip() for c in df.columns]
    df = df[df["LSOA name"].str.startswith(borough_name + " ") & df["Month"].str.match(MONTH_RE)]
    return pd.DataFrame({
        "crime_id": df["Crime ID"].replace("", None),
        "month": pd.to_datetime(df["Month"], format="%Y-%m").dt.date,
        "lsoa_code_published": df["LSOA code"],
        "outcome_type": df["Outcome type"],
    }).reset_index(drop=True)
