"""Ingest of every kind the warehouse uses, offered in the publishers' own formats.

Each file is made from the REAL embedded rows re-shaped into the publisher's layout
(tests/ingest_fixtures.py): the London Datastore CSVs for the MPS borough, Monthly Crime Dashboard
and business crime files, and police.uk API JSON for street crime, stops and outcomes. Each test
works on the private ``data_copy`` and checks the warehouse against what it held before.
"""

from __future__ import annotations

import json

import ingest_fixtures as fx
import pandas as pd
import pytest
from test_ingest import monthly, summary_counts, tree, wh

from csp_data.config import REPO_ROOT, settings
from csp_data.warehouse import geo, ingest, manifest


def _by_month(data, sql, *params) -> dict:
    df = wh(data, sql, *params)
    return {tuple(r[:-1]): int(r[-1]) for r in df.itertuples(index=False)}


# ----------------------------------------------------------------------------- MPS CSVs


def test_mps_borough_csv_is_accepted_and_replaces_the_same_months(data_copy, tmp_path):
    """The real MPS borough 'most recent 24 months' file (all boroughs, 2024-03..2026-02) as the
    London Datastore CSV. Same data as the embedded snapshot, landed later: it now holds those
    months, every count unchanged, and London ranks still have all 32 boroughs."""
    df = fx.mps_borough_frame()
    src = tmp_path / "MPS Borough Level Crime (most recent 24 months).csv"
    df.to_csv(src, index=False)
    assert pd.read_csv(src, nrows=0).columns[:4].tolist() == [
        "MajorText",
        "MinorText",
        "BoroughName",
        "202403",
    ]
    q = (
        "SELECT area_name, strftime(month, '%Y-%m') AS m, sum(count) AS n FROM crime_monthly "
        "WHERE level = 'borough' AND month >= DATE '2024-03-01' GROUP BY ALL"
    )
    before = _by_month(data_copy, q)

    report = ingest.ingest_file(src, settings())

    (e,) = report.entries
    assert (e.kind, e.as_of, e.extra["as_of_basis"]) == ("mps_wide_borough", "2026-02-28", "newest month")
    assert e.snapshot.startswith(
        "MPS recorded crime, borough, most recent 24 months (data to Feb 2026), ingested "
    )
    assert summary_counts(report.lines) == (len(df), len(df), 0, 0)
    ch = report.changes["borough"]
    assert ch.added == [] and ch.revised == []
    assert _by_month(data_copy, q) == before
    src_months = wh(
        data_copy,
        "SELECT DISTINCT strftime(month, '%Y-%m') AS m FROM crime_monthly WHERE source_file = ?",
        e.path,
    ).m
    assert sorted(src_months) == [str(p) for p in pd.period_range("2024-03", "2026-02", freq="M")]
    assert (
        wh(
            data_copy,
            "SELECT count(DISTINCT borough_code) AS n FROM crime_monthly WHERE level = 'borough' "
            "AND source_file = ?",
            e.path,
        ).n[0]
        == 32
    )


def test_dashboard_knife_csv_is_accepted_with_its_refresh_date(data_copy, tmp_path):
    """The real knife-only Monthly Crime Dashboard file (London-wide, 2022-03..2026-02) with its
    published headers. as_of is the file's own refresh date; the knife rows now come from it,
    counts unchanged; the other crime types stay with the older full file."""
    df = fx.dashboard_frame()
    src = tmp_path / "M1045_MonthlyCrimeDashboard_Knife.csv"
    df.to_csv(src, index=False)
    q = (
        "SELECT crime_type, crime_subtype, measure, area_code, strftime(month, '%Y-%m') AS m, count "
        "FROM dashboard_monthly"
    )
    before = _by_month(data_copy, q)

    report = ingest.ingest_file(src, settings())

    (e,) = report.entries
    assert (e.kind, e.as_of, e.extra["as_of_basis"]) == ("mps_dashboard", "2026-03-18", "refresh date")
    n, m, k, o = summary_counts(report.lines)
    kept = df["Borough_SNT"].str.startswith("Tower Hamlets") | (
        df["Area Type"] == "Borough"
    )  # + London comparison
    assert (n, m, k, o) == (len(df), int(kept.sum()), 0, int((~kept).sum()))
    assert report.changes["dashboard"].added == [] and report.changes["dashboard"].revised == []
    assert _by_month(data_copy, q) == before
    types = wh(
        data_copy, "SELECT DISTINCT crime_type FROM dashboard_monthly WHERE source_file = ?", e.path
    ).crime_type
    assert types.tolist() == ["Knife Crime"]


def test_business_crime_csv_is_accepted(data_copy, tmp_path):
    """The real MPS business crime offences file (London boroughs, by day) with its headers."""
    df = fx.business_frame()
    src = tmp_path / "MPS_Business_Crime_OffencesData.csv"
    df.to_csv(src, index=False)
    q = "SELECT borough_name, strftime(month, '%Y-%m') AS m, sum(count) AS n FROM business_crime_monthly GROUP BY ALL"
    before = _by_month(data_copy, q)

    report = ingest.ingest_file(src, settings())

    (e,) = report.entries
    assert (e.kind, e.as_of, e.extra["as_of_basis"]) == (
        "mps_business_offences",
        "2025-08-02",
        "refresh date",
    )
    assert report.changes["business"].added == [] and report.changes["business"].revised == []
    assert _by_month(data_copy, q) == before
    assert (
        wh(data_copy, "SELECT count(*) AS n FROM business_crime_monthly WHERE source_file <> ?", e.path).n[0]
        == 0
    )


# ----------------------------------------------------------------------------- police.uk API JSON


def test_street_api_json_with_a_point_returned_twice(data_copy, tmp_path):
    """The real 2026-01 Tower Hamlets rows (ASB included) as /api/crimes-street/all-crime records,
    with one record repeated as two neighbouring ward polygons would both return it. The repeat
    is quarantined with its reason, not counted twice; rows are placed by their point (the API
    has no LSOA name), so the month holds exactly the rows whose point is inside the borough."""
    rows = fx.street_rows()
    records = fx.api_street_records(rows)
    records.append(dict(records[100]))
    src = fx.write_json(records, tmp_path / "crimes-street_2026-01_tower-hamlets.json")
    inside_before = wh(
        data_copy,
        "SELECT count(*) AS n FROM street_crime WHERE month = DATE '2026-01-01' AND geo_status = 'inside'",
    ).n[0]
    asb = int((rows["Crime type"] == "Anti-social behaviour").sum())

    report = ingest.ingest_file(src, settings())

    (e,) = report.entries
    assert e.path.endswith(".json") and (e.kind, e.as_of) == ("policeuk_street", "2026-01-31")
    n, m, k, o = summary_counts(report.lines)
    assert (n, k) == (len(records), 1) and m + k + o == n
    assert m == inside_before  # every point inside the borough, once
    (qfile,) = report.quarantine_files
    q = pd.read_csv(qfile, dtype=str, keep_default_na=False)
    assert q["reason"].tolist() == ["the same crime (API id) twice in one file: overlapping queries"]
    assert q["source_row"].tolist() == [str(len(records))]
    w = wh(data_copy, "SELECT crime_type, geo_status FROM street_crime WHERE source_file = ?", e.path)
    assert len(w) == m and (w.geo_status == "inside").all()
    assert (
        int((w.crime_type == "Anti-social behaviour").sum()) <= asb
        and (w.crime_type == "Anti-social behaviour").any()
    )
    assert monthly(data_copy)["2026-01"] == m
    assert ("2026-01", 3396, m) in report.changes["street"].revised or m == 3396


def test_stop_search_api_json(data_copy, tmp_path):
    """The real Met-wide stop-and-search records of 2024-08 as /api/stops-force records (unlocated
    stops have no location, as the API returns them): 410 are placed in Tower Hamlets, as from
    the published CSV (tests/test_ingest.py::test_stop_search_met_wide_file_is_placed_spatially)."""
    df = pd.read_parquet(fx.MET_SS)
    df = df[df["source_month"] == "2024-08"].drop(columns="source_month")
    src = fx.write_json(fx.api_stop_records(df), tmp_path / "stops-force_metropolitan_2024-08.json.gz")

    report = ingest.ingest_file(src, settings())

    (e,) = report.entries
    assert e.path.endswith(".json.gz") and (e.kind, e.as_of) == ("policeuk_stop_search", "2024-08-31")
    n, m, k, o = summary_counts(report.lines)
    assert (n, m, k) == (len(df), 410, 0) and m + k + o == n
    assert monthly(data_copy, "stop_search")["2024-08"] == 410
    assert report.changes["stop_search"].added == [] and report.changes["stop_search"].revised == []


def test_outcomes_api_json(data_copy, tmp_path):
    """The real outcome records of 2025-02 (Tower Hamlets burglaries) as /api/outcomes-at-location
    records: ingested (the CSV outcomes file is not), placed by point, month 2025-02 now from it."""
    rows = fx.street_rows(fx.OUTCOMES)
    rows = rows[rows["Month"] == "2025-02"]
    src = fx.write_json(fx.api_outcome_records(rows), tmp_path / "outcomes-at-location_2025-02.json")
    poly = geo.read_boundaries(
        REPO_ROOT / "data" / "sources" / "boundaries" / "th_lsoa21.geojson", "lsoa21_code", "lsoa21_name"
    )
    _, status = geo.assign_codes(rows["Longitude"].astype(float), rows["Latitude"].astype(float), poly)
    inside = int((status == "inside").sum())

    report = ingest.ingest_file(src, settings())

    (e,) = report.entries
    assert (e.kind, e.as_of) == ("policeuk_outcomes", "2025-02-28")
    n, m, k, o = summary_counts(report.lines)
    assert (n, m, k, o) == (len(rows), inside, 0, len(rows) - inside)
    got = wh(
        data_copy,
        "SELECT count(*) AS n FROM street_outcomes WHERE source_file = ? AND month = DATE '2025-02-01'",
        e.path,
    ).n[0]
    assert got == inside
    assert (
        wh(
            data_copy,
            "SELECT count(*) AS n FROM street_outcomes WHERE month = DATE '2025-02-01' AND source_file <> ?",
            e.path,
        ).n[0]
        == 0
    )


# ----------------------------------------------------------------------------- as_of, one format


def test_republished_month_wins(data_copy, tmp_path):
    """SYNTHETIC: the real 2025-02 rows minus one, as a re-publication. Before, its as_of
    ('2025-02') sorted before the embedded '2025-02-28' and it was refused as older; now both
    are 2025-02-28 and the later landing wins."""
    df = fx.street_rows(fx.STREET_2025_02).iloc[1:]
    src = tmp_path / "synthetic_2025-02-metropolitan-street.csv"
    df.to_csv(src, index=False)
    held = monthly(data_copy)["2025-02"]

    report = ingest.ingest_file(src, settings())

    (e,) = report.entries
    assert e.as_of == "2025-02-28"
    assert report.changes["street"].revised == [("2025-02", held, held - 1)]
    assert monthly(data_copy)["2025-02"] == held - 1


def test_old_manifest_is_normalised_and_keeps_its_order(tmp_path):
    """The manifest as it was before the migration (as_of 'YYYY-MM' beside '2025-02-28'):
    load() normalises every as_of to YYYY-MM-DD, the embedded files keep the order they had
    (the all-crime 2025-02 file, stated '2025-02-28', still beats the burglary extract's
    derived '2025-02-28'), and migrate() writes it back once."""
    current = manifest.load(REPO_ROOT / "data" / "sources" / "manifest.json")
    old = []
    for e in current:
        item = {**e.__dict__, "extra": {k: v for k, v in e.extra.items() if k != "as_of_basis"}}
        if e.extra.get("as_of_basis") == "newest month":
            item["as_of"] = e.as_of[:7]
        old.append(item)
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"files": old}, indent=1, sort_keys=True))
    loaded = manifest.load(path)
    assert all(len(e.as_of) == 10 for e in loaded)
    by = {e.path: e for e in loaded}
    assert by["mps/mps_ward_crime_2024-03_2026-03.parquet"].as_of == "2026-03-31"
    assert by["mps/mps_borough_crime_historical_2010-04_2024-02.parquet"].as_of == "2024-02-29"
    street = sorted((e for e in loaded if e.kind == "policeuk_street"), key=lambda e: e.precedence)
    assert [e.path for e in street] == [
        "police_uk/th_street_burglary_2010-12_2025-02.csv.gz",
        "police_uk/th_street_all_crime_2025-02.csv.gz",
        "police_uk/th_street_all_crime_2026-01.csv.gz",
    ]
    assert manifest.migrate(path) is True and manifest.migrate(path) is False
    assert all(len(x["as_of"]) == 10 for x in json.loads(path.read_text())["files"])
    with pytest.raises(manifest.ManifestError, match="as_of must be YYYY-MM-DD"):
        manifest.normalise_as_of("Feb 2025")
    before = tree(tmp_path)
    manifest.load(path)  # loading never writes
    assert tree(tmp_path) == before
