"""Publisher-format test files made from the REAL embedded rows, re-shaped only.

The embedded MPS parquet files were converted from the London Datastore CSVs (headers lower-cased
by the repositories they came from; see ../shared/data/SOURCES.md). These helpers write them back
in the publishers' layouts (London Datastore CSV headers; police.uk API JSON records) so ingest is
tried on the formats it will really be offered. No count is changed here: a test that changes a
value says so and names its file ``synthetic_*``.
"""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import pandas as pd

from csp_data.config import REPO_ROOT
from csp_data.warehouse.sources import police_uk

SOURCES = REPO_ROOT / "data" / "sources"
MPS = SOURCES / "mps"
BOROUGH_24 = MPS / "mps_borough_crime_2024-03_2026-02.parquet"
WARD_24 = MPS / "mps_ward_crime_2024-03_2026-03.parquet"
DASHBOARD_KNIFE = MPS / "mps_monthly_crime_dashboard_knife_2022-03_2026-02.parquet"
BUSINESS = MPS / "mps_business_crime_offences.parquet"
STREET_2026_01 = SOURCES / "police_uk" / "th_street_all_crime_2026-01.csv.gz"
STREET_2025_02 = SOURCES / "police_uk" / "th_street_all_crime_2025-02.csv.gz"
OUTCOMES = SOURCES / "police_uk" / "th_outcomes_burglary_subset_2012-01_2025-02.csv.gz"
MET_SS = REPO_ROOT / "tests" / "fixtures" / "met_stop_and_search_2024-07_2024-08.parquet"

SLUG = {name: slug for slug, name in police_uk.API_CATEGORIES.items()}


def mps_borough_frame() -> pd.DataFrame:
    """The MPS borough 'most recent 24 months' file with the London Datastore headers."""
    return pd.read_parquet(BOROUGH_24).rename(
        columns={"majortext": "MajorText", "minortext": "MinorText", "boroughname": "BoroughName"}
    )


def mps_ward_frame(borough: str | None = "Tower Hamlets") -> pd.DataFrame:
    df = pd.read_parquet(WARD_24)  # already in the London Datastore layout (CamelCase headers)
    return df[df["LookUp_BoroughName"] == borough] if borough else df


DASHBOARD_HEADERS = {
    "month_year": "Month_Year",
    "area_type": "Area Type",
    "borough_snt": "Borough_SNT",
    "area_name": "Area name",
    "area_code": "Area code",
    "crime_type": "Crime Type",
    "crime_subtype": "Crime Subtype",
    "measure": "Measure",
    "financial_year": "Financial Year",
    "fy_fyindex": "FY_FYIndex",
    "count": "Count",
    "refresh_date": "Refresh Date",
}


def dashboard_frame(path: Path = DASHBOARD_KNIFE) -> pd.DataFrame:
    """A Monthly Crime Dashboard file with its published headers (the ``sheet`` column was added
    by the repository's Excel reader and is dropped)."""
    df = pd.read_parquet(path).drop(columns="sheet")
    df["month_year"] = df["month_year"].dt.strftime("%Y-%m-%d")
    return df.rename(columns=DASHBOARD_HEADERS)


BUSINESS_HEADERS = {
    "date": "Date",
    "measure": "Measure",
    "borough": "Borough",
    "crime_section": "Crime Section",
    "crime_group": "Crime Group",
    "business_crime_offence_count": "Business Crime Offence Count",
    "refresh_date": "Refresh Date",
}


def business_frame() -> pd.DataFrame:
    return pd.read_parquet(BUSINESS).drop(columns="sheet").rename(columns=BUSINESS_HEADERS)


def street_rows(path: Path = STREET_2026_01) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[])


def _loc(lon, lat, name: str = "") -> dict | None:
    if lon in ("", None) or (isinstance(lon, float) and math.isnan(lon)):
        return None
    return {"latitude": str(lat), "street": {"id": 0, "name": name}, "longitude": str(lon)}


def api_street_records(rows: pd.DataFrame) -> list[dict]:
    """/api/crimes-street/all-crime records for real police.uk street rows. The API's numeric
    ``id`` (an identifier, not a figure) is the row number."""
    out = []
    for i, row in enumerate(rows.to_dict("records"), start=1):
        outcome = row["Last outcome category"]
        out.append(
            {
                "category": SLUG[row["Crime type"]],
                "location_type": "Force",
                "location": _loc(row["Longitude"], row["Latitude"], row["Location"]),
                "context": row["Context"],
                "outcome_status": {"category": outcome, "date": row["Month"]} if outcome else None,
                "persistent_id": row["Crime ID"],
                "id": i,
                "location_subtype": "",
                "month": row["Month"],
            }
        )
    return out


def _bool(v):
    if isinstance(v, str) and v.lower() in ("true", "false"):
        return v.lower() == "true"
    if v is None or (isinstance(v, float) and math.isnan(v)) or v == "":
        return None
    return v


def _none(v):
    return None if v is None or (isinstance(v, float) and math.isnan(v)) or v == "" else v


def api_stop_records(rows: pd.DataFrame) -> list[dict]:
    """/api/stops-force records for real police.uk stop-and-search rows."""
    out = []
    for row in rows.to_dict("records"):
        out.append(
            {
                "age_range": _none(row["Age range"]),
                "officer_defined_ethnicity": _none(row["Officer-defined ethnicity"]),
                "involved_person": True,
                "self_defined_ethnicity": _none(row["Self-defined ethnicity"]),
                "gender": _none(row["Gender"]),
                "legislation": _none(row["Legislation"]),
                "outcome_linked_to_object_of_search": _bool(row["Outcome linked to object of search"]),
                "datetime": row["Date"],
                "outcome_object": {"id": "", "name": _none(row["Outcome"])},
                "location": _loc(row["Longitude"], row["Latitude"]),
                "object_of_search": _none(row["Object of search"]),
                "operation": _bool(row["Part of a policing operation"]),
                "outcome": _none(row["Outcome"]),
                "type": row["Type"],
                "operation_name": _none(row["Policing operation"]),
                "removal_of_more_than_outer_clothing": _bool(row["Removal of more than just outer clothing"]),
            }
        )
    return out


def api_outcome_records(rows: pd.DataFrame) -> list[dict]:
    """/api/outcomes-at-location records for real police.uk outcome rows (burglaries)."""
    out = []
    for i, row in enumerate(rows.to_dict("records"), start=1):
        out.append(
            {
                "category": {"code": "", "name": row["Outcome type"]},
                "date": row["Month"],
                "person_id": None,
                "crime": {
                    "category": "burglary",
                    "location_type": "Force",
                    "location": _loc(row["Longitude"], row["Latitude"], row["Location"]),
                    "context": "",
                    "persistent_id": row["Crime ID"],
                    "id": i,
                    "location_subtype": "",
                },
            }
        )
    return out


def write_json(records: list, path: Path) -> Path:
    data = json.dumps(records).encode()
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path
