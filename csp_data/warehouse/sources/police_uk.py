"""data.police.uk street-level crime, outcomes and stop-and-search files.

Validation is row by row: a bad row is quarantined with a reason, never silently dropped,
and never deduplicated on Crime ID (anti-social behaviour rows have no Crime ID, and early
files repeat whole rows as published).
"""

from __future__ import annotations

import gzip
import io
import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from csp_data.warehouse.sources import SourceError

STREET_COLUMNS = [
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Crime type",
    "Last outcome category",
    "Context",
]
OUTCOME_COLUMNS = [
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Outcome type",
]
STOP_SEARCH_COLUMNS = [
    "Type",
    "Date",
    "Part of a policing operation",
    "Policing operation",
    "Latitude",
    "Longitude",
    "Gender",
    "Age range",
    "Self-defined ethnicity",
    "Officer-defined ethnicity",
    "Legislation",
    "Object of search",
    "Outcome",
    "Outcome linked to object of search",
    "Removal of more than just outer clothing",
]

# Every crime type police.uk has published (the first two only before 2013).
CRIME_TYPES = {
    "Anti-social behaviour",
    "Bicycle theft",
    "Burglary",
    "Criminal damage and arson",
    "Drugs",
    "Other crime",
    "Other theft",
    "Possession of weapons",
    "Public order",
    "Robbery",
    "Shoplifting",
    "Theft from the person",
    "Vehicle crime",
    "Violence and sexual offences",
    "Violent crime",
    "Public disorder and weapons",
}

MONTH_RE = re.compile(r"^(19|20)\d{2}-(0[1-9]|1[0-2])$")
LSOA_RE = re.compile(r"^[EW]010\d{5}$")
# Generous bounds around England and Wales (police.uk also places some crimes abroad as blank).
LON_RANGE = (-6.5, 2.0)
LAT_RANGE = (49.8, 55.9)

KIND_COLUMNS = {"street": STREET_COLUMNS, "outcomes": OUTCOME_COLUMNS, "stop_search": STOP_SEARCH_COLUMNS}

# police.uk API (https://data.police.uk/docs/): crime category slugs -> the names its CSVs use.
API_CATEGORIES = {
    "anti-social-behaviour": "Anti-social behaviour",
    "bicycle-theft": "Bicycle theft",
    "burglary": "Burglary",
    "criminal-damage-arson": "Criminal damage and arson",
    "drugs": "Drugs",
    "other-crime": "Other crime",
    "other-theft": "Other theft",
    "possession-of-weapons": "Possession of weapons",
    "public-order": "Public order",
    "robbery": "Robbery",
    "shoplifting": "Shoplifting",
    "theft-from-the-person": "Theft from the person",
    "vehicle-crime": "Vehicle crime",
    "violent-crime": "Violence and sexual offences",
    "public-disorder-weapons": "Public disorder and weapons",
}
API_ID = "API id"  # the API's numeric crime id, kept beside the published columns (duplicates are refused)
_API_KEYS = {
    "street": {"category", "location", "month", "persistent_id", "id"},  # /api/crimes-street/all-crime
    "stop_search": {
        "datetime",
        "type",
        "legislation",
        "object_of_search",
        "location",
    },  # /api/stops-street, stops-force
    "outcomes": {"category", "date", "crime"},  # /api/outcomes-at-location
}


def is_json_path(path: Path) -> bool:
    return path.name.lower().endswith((".json", ".json.gz"))


def read_json_records(path: Path) -> list:
    """A police.uk API response saved as a file (``.json`` or ``.json.gz``): a JSON array of objects."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            data = json.load(fh)
    except (ValueError, OSError, EOFError) as exc:
        raise SourceError(f"{path.name} is not valid JSON: {exc}") from exc
    if not isinstance(data, list):
        raise SourceError(
            f"{path.name}: a police.uk API response is a JSON array; this is a {type(data).__name__}"
        )
    if not all(isinstance(x, dict) for x in data):
        raise SourceError(f"{path.name}: every element of a police.uk API response is an object")
    return data


def sniff_json_kind(records: list) -> str | None:
    """street, stop_search or outcomes (by the first record's keys), or None."""
    if not records:
        return None
    keys = set(records[0])
    if _API_KEYS["street"] <= keys and isinstance(records[0].get("category"), str):
        return "street"
    if _API_KEYS["stop_search"] <= keys:
        return "stop_search"
    if _API_KEYS["outcomes"] <= keys and isinstance(records[0].get("category"), dict):
        return "outcomes"
    return None


def _text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _loc(rec: dict) -> tuple[str, str, str]:
    loc = rec.get("location") or {}
    if not isinstance(loc, dict):
        return "", "", ""
    street = loc.get("street") or {}
    name = street.get("name") if isinstance(street, dict) else ""
    return _text(loc.get("longitude")), _text(loc.get("latitude")), _text(name)


def _require(records: list, kind: str, where: str) -> None:
    need = _API_KEYS[kind]
    for i, r in enumerate(records, start=1):
        missing = need - set(r)
        if missing:
            raise SourceError(
                f"{where}: record {i} lacks {', '.join(sorted(missing))}: not a police.uk "
                f"{kind.replace('_', ' ')} API response"
            )


def api_street_frame(records: list, where: str = "file") -> pd.DataFrame:
    """/api/crimes-street responses -> the street CSV's columns (LSOA columns blank: the API has
    none, so rows are placed in the borough by their point) plus ``API id``."""
    _require(records, "street", where)
    rows = []
    for r in records:
        lon, lat, loc = _loc(r)
        outcome = r.get("outcome_status") or {}
        cat = _text(r.get("category"))
        rows.append(
            {
                "Crime ID": _text(r.get("persistent_id")),
                "Month": _text(r.get("month")),
                "Reported by": "",
                "Falls within": "",
                "Longitude": lon,
                "Latitude": lat,
                "Location": loc,
                "LSOA code": "",
                "LSOA name": "",
                "Crime type": API_CATEGORIES.get(cat, cat),
                "Last outcome category": _text(outcome.get("category")) if isinstance(outcome, dict) else "",
                "Context": _text(r.get("context")),
                API_ID: _text(r.get("id")),
            }
        )
    return pd.DataFrame(rows, columns=STREET_COLUMNS + [API_ID]).astype(str)


def api_stop_search_frame(records: list, where: str = "file") -> pd.DataFrame:
    """/api/stops-street or /api/stops-force responses -> the stop-and-search CSV's columns."""
    _require(records, "stop_search", where)
    rows = []
    for r in records:
        lon, lat, _ = _loc(r)
        outcome = r.get("outcome")
        if isinstance(outcome, dict):
            outcome = outcome.get("name")
        if not outcome and isinstance(r.get("outcome_object"), dict):
            outcome = r["outcome_object"].get("name")
        rows.append(
            {
                "Type": _text(r.get("type")),
                "Date": _text(r.get("datetime")),
                "Part of a policing operation": _text(r.get("operation")),
                "Policing operation": _text(r.get("operation_name")),
                "Latitude": lat,
                "Longitude": lon,
                "Gender": _text(r.get("gender")),
                "Age range": _text(r.get("age_range")),
                "Self-defined ethnicity": _text(r.get("self_defined_ethnicity")),
                "Officer-defined ethnicity": _text(r.get("officer_defined_ethnicity")),
                "Legislation": _text(r.get("legislation")),
                "Object of search": _text(r.get("object_of_search")),
                "Outcome": _text(outcome),
                "Outcome linked to object of search": _text(r.get("outcome_linked_to_object_of_search")),
                "Removal of more than just outer clothing": _text(
                    r.get("removal_of_more_than_outer_clothing")
                ),
            }
        )
    return pd.DataFrame(rows, columns=STOP_SEARCH_COLUMNS).astype(str)


def api_outcomes_frame(records: list, where: str = "file") -> pd.DataFrame:
    """/api/outcomes-at-location responses -> the outcomes CSV's columns (LSOA columns blank)."""
    _require(records, "outcomes", where)
    rows = []
    for r in records:
        crime = r.get("crime") if isinstance(r.get("crime"), dict) else {}
        lon, lat, loc = _loc(crime)
        cat = r.get("category") if isinstance(r.get("category"), dict) else {}
        rows.append(
            {
                "Crime ID": _text(crime.get("persistent_id")),
                "Month": _text(r.get("date")),
                "Reported by": "",
                "Falls within": "",
                "Longitude": lon,
                "Latitude": lat,
                "Location": loc,
                "LSOA code": "",
                "LSOA name": "",
                "Outcome type": _text(cat.get("name")),
            }
        )
    return pd.DataFrame(rows, columns=OUTCOME_COLUMNS).astype(str)


def read_street(path: Path) -> tuple[pd.DataFrame, bool]:
    """(raw street rows, spatial?) of a street CSV or API JSON; spatial rows have no LSOA name."""
    if is_json_path(path):
        return api_street_frame(read_json_records(path), path.name), True
    return read_csv_text(path), False


def read_stop_search(path: Path) -> pd.DataFrame:
    if is_json_path(path):
        return api_stop_search_frame(read_json_records(path), path.name)
    if path.name.lower().endswith(".parquet"):
        return read_stop_search_parquet(path)
    return read_csv_text(path)


def read_stop_search_parquet(path: Path) -> pd.DataFrame:
    """A trimmed Met-wide copy (``data/sources/police_uk/met_stop_and_search_*.parquet``): the published
    columns the warehouse uses, with ``Date`` as a UTC timestamp and the coordinates as numbers (blank:
    null). Published columns it leaves out are added blank, so :func:`validate_stop_search` reads it
    like a published CSV."""
    try:
        df = pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise SourceError(f"{path.name} is not a readable Parquet file: {exc}") from exc
    missing = {"Date", "Latitude", "Longitude"} - set(df.columns)
    if missing:
        raise SourceError(f"{path.name}: a stop-and-search Parquet file needs columns {sorted(missing)}")
    for col in STOP_SEARCH_COLUMNS:
        if col not in df:
            df[col] = pd.Series(None, index=df.index, dtype="str")
    return df[STOP_SEARCH_COLUMNS]


class _Reasons:
    """Why each row fails: the first failed check's words, "" while a row passes every check."""

    def __init__(self, index: pd.Index):
        self.reasons = pd.Series("", index=index)

    def flag(self, mask: pd.Series, why: str) -> None:
        self.reasons = self.reasons.where(~mask | (self.reasons != ""), why)

    @property
    def bad(self) -> pd.Series:
        return self.reasons != ""


def _check_month_and_point(
    df: pd.DataFrame, r: _Reasons, *, blank_point_ok: bool
) -> tuple[pd.Series, pd.Series]:
    """The checks every police.uk record gets: a YYYY-MM month and, unless ``blank_point_ok`` and
    both are blank, a longitude and latitude that are numbers within England and Wales."""
    r.flag(~df["Month"].str.match(MONTH_RE), "month is not YYYY-MM")
    lon, lat = _num(df["Longitude"]), _num(df["Latitude"])
    missing = lon.isna() | lat.isna()
    if blank_point_ok:
        missing &= (df["Longitude"] != "") | (df["Latitude"] != "")
    r.flag(missing, "coordinates are not numbers")
    r.flag(lon.notna() & ~lon.between(*LON_RANGE), "longitude outside England and Wales")
    r.flag(lat.notna() & ~lat.between(*LAT_RANGE), "latitude outside England and Wales")
    return lon, lat


def validate_outcomes_api(raw: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """API outcome rows -> (tidy rows with coordinates, quarantined rows). Placed spatially later."""
    df = raw.copy()
    df["source_row"] = np.arange(1, len(df) + 1)
    r = _Reasons(df.index)
    lon, lat = _check_month_and_point(df, r, blank_point_ok=False)
    r.flag(df["Outcome type"].str.strip() == "", "no outcome category")
    r.flag(df["Crime ID"].str.strip() == "", "no crime id")
    bad = r.bad
    q = df[bad].assign(reason=r.reasons[bad])
    ok = df[~bad]
    tidy = pd.DataFrame(
        {
            "crime_id": ok["Crime ID"],
            "month": pd.to_datetime(ok["Month"], format="%Y-%m").dt.date,
            "lsoa_code_published": None,
            "outcome_type": ok["Outcome type"],
            "longitude": lon[~bad].astype("float64"),
            "latitude": lat[~bad].astype("float64"),
            "source_row": ok["source_row"].astype("int64"),
        }
    )
    return tidy.reset_index(drop=True), q


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
    suffix = {"street": "-street.csv", "outcomes": "-outcomes.csv", "stop_search": "-stop-and-search.csv"}[
        kind
    ]
    with zipfile.ZipFile(path) as zf:
        return sorted(
            n for n in zf.namelist() if n.endswith(suffix) and ".." not in n and not n.startswith("/")
        )


def read_zip_member(path: Path, member: str) -> pd.DataFrame:
    with zipfile.ZipFile(path) as zf, zf.open(member) as fh:
        return pd.read_csv(
            io.TextIOWrapper(fh, encoding="utf-8"), dtype=str, keep_default_na=False, na_values=[]
        )


def _given(s: pd.Series) -> pd.Series:
    """True where a value is present: not null and not blank text."""
    return s.notna() & (s.astype(object) != "")


def _num(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s.replace("", np.nan), errors="coerce")


def validate_street(
    raw: pd.DataFrame, borough_name: str, spatial: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Split published street rows into (kept, quarantined, outside_borough_count).

    kept rows are in the borough (police.uk's own LSOA name starts with the borough name) and
    pass every check; quarantined rows carry ``reason`` and ``source_row`` (1-based data row).
    Rows from other areas are counted, not kept: a force-wide file is mostly other boroughs.
    """
    df = raw.copy()
    df.columns = [c.strip() for c in df.columns]
    df["source_row"] = np.arange(1, len(df) + 1)
    if spatial:  # API rows have no LSOA name: all are kept here and placed by their point later
        in_area = pd.Series(True, index=df.index)
    else:
        in_area = df["LSOA name"].str.startswith(borough_name + " ")
    outside = int((~in_area).sum())
    df = df[in_area].copy()
    r = _Reasons(df.index)
    # A published CSV row may have no point (police.uk could not place it); an API row always has one.
    lon, lat = _check_month_and_point(df, r, blank_point_ok=not spatial)
    r.flag(~df["Crime type"].isin(CRIME_TYPES), "unknown crime type")
    if spatial:
        if API_ID in df:
            r.flag(
                df.duplicated(API_ID, keep="first") & (df[API_ID] != ""),
                "the same crime (API id) twice in one file: overlapping queries",
            )
    else:
        r.flag(~df["LSOA code"].str.match(LSOA_RE), "LSOA code is not an ONS LSOA code")
    bad = r.bad
    quarantined = df[bad].assign(reason=r.reasons[bad])
    kept = df[~bad].copy()
    kept["Longitude"], kept["Latitude"] = lon[~bad], lat[~bad]
    return kept, quarantined, outside


def tidy_street(kept: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "crime_id": kept["Crime ID"].replace("", None),
            "month": pd.to_datetime(kept["Month"], format="%Y-%m").dt.date,
            "crime_type": kept["Crime type"],
            "longitude": kept["Longitude"].astype("float64"),
            "latitude": kept["Latitude"].astype("float64"),
            "location": kept["Location"],
            "lsoa_code_published": kept["LSOA code"].replace("", None),  # blank for API rows
            "lsoa_name_published": kept["LSOA name"].replace("", None),
            "last_outcome": kept["Last outcome category"].replace("", None),
            "source_row": kept["source_row"].astype("int64"),
        }
    )
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
    has_text = _given(df["Longitude"]) | _given(df["Latitude"])  # text as published, or numbers (Parquet)
    flag(has_text & (lon.isna() | lat.isna()), "coordinates are not numbers")
    flag(lon.notna() & ~lon.between(*LON_RANGE), "longitude outside England and Wales")
    flag(lat.notna() & ~lat.between(*LAT_RANGE), "latitude outside England and Wales")
    bad = reasons != ""
    quarantined = df[bad].assign(reason=reasons[bad])
    ok = df[~bad]
    local = when[~bad].dt.tz_convert("Europe/London")
    tidy = pd.DataFrame(
        {
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
            "outcome_linked": ok["Outcome linked to object of search"]
            .str.lower()
            .map({"true": True, "false": False}),
            "removal_outer_clothing": ok["Removal of more than just outer clothing"]
            .str.lower()
            .map({"true": True, "false": False}),
            "source_row": ok["source_row"].astype("int64"),
        }
    )
    return tidy.reset_index(drop=True), quarantined


def tidy_outcomes(raw: pd.DataFrame, borough_name: str) -> pd.DataFrame:
    df = raw.copy()
    df.columns = [c.strip() for c in df.columns]
    df = df[df["LSOA name"].str.startswith(borough_name + " ") & df["Month"].str.match(MONTH_RE)]
    return pd.DataFrame(
        {
            "crime_id": df["Crime ID"].replace("", None),
            "month": pd.to_datetime(df["Month"], format="%Y-%m").dt.date,
            "lsoa_code_published": df["LSOA code"],
            "outcome_type": df["Outcome type"],
        }
    ).reset_index(drop=True)
