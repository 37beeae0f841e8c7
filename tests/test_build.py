"""Tests of ``csp_data.warehouse.build``: determinism, staleness, and reconciliation of the built
warehouse with the embedded MPS source files (expected values computed here with pandas from
``data/sources``, never copied from the warehouse).

Only ``test_build_is_deterministic`` builds (twice, into a private copy); every other test reads
the real warehouse or edits a private copy without building.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import replace
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from csp_data.config import settings
from csp_data.warehouse import build, manifest, sql
from csp_data.warehouse.sources import mps

TH_CODE, TH_NAME = "E09000030", "Tower Hamlets"


def hashes(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()
    }


def raw(path: str) -> pd.DataFrame:
    """A raw MPS wide file with lower-cased headers (the files disagree on capitalisation)."""
    df = pd.read_parquet(settings().sources_dir / path)
    return df.rename(columns=str.lower)


def month_cols(df: pd.DataFrame) -> list[str]:
    return sorted(c for c in df.columns if c.isdigit() and len(c) == 6)


@pytest.fixture(scope="module")
def crime(warehouse) -> pd.DataFrame:
    return pd.read_parquet(warehouse / "crime_monthly.parquet")


@pytest.fixture(scope="module")
def entries(warehouse) -> list[manifest.Entry]:
    return manifest.load(settings().manifest_path)


# --------------------------------------------------------------------------- determinism and staleness


def test_build_is_deterministic(data_copy):
    cfg = settings()
    assert cfg.data_dir == data_copy.resolve()
    counts = build.build(cfg)
    assert set(counts) == set(build.TABLES)
    first = hashes(cfg.warehouse_dir)
    assert set(first) == {f"{t}.parquet" for t in build.TABLES} | {build.STAMP}
    assert build.is_stale(cfg) == (False, "up to date")

    build.build(cfg)
    assert hashes(cfg.warehouse_dir) == first, "two builds from the same sources differ"
    assert build.is_stale(cfg) == (False, "up to date")
    # no staging or old-warehouse folders left behind
    assert not [p.name for p in data_copy.iterdir() if p.name.startswith(".warehouse")]


def test_fresh_copy_is_not_stale(data_copy):
    assert build.is_stale(settings()) == (False, "up to date")


def _edit_manifest(cfg, change) -> None:
    entries = manifest.load(cfg.manifest_path)
    manifest.save(cfg.manifest_path, change(entries))


def test_changing_a_manifest_entry_makes_it_stale(data_copy):
    cfg = settings()
    _edit_manifest(
        cfg,
        lambda es: [
            replace(e, as_of="2099-01") if e.kind == "mps_wide_borough" and "historical" in e.path else e
            for e in es
        ],
    )
    stale, why = build.is_stale(cfg)
    assert stale and "sources have changed" in why


def test_removing_a_manifest_entry_makes_it_stale(data_copy):
    cfg = settings()
    _edit_manifest(cfg, lambda es: [e for e in es if e.kind != "policeuk_outcomes"])
    assert build.is_stale(cfg)[0]


def test_touching_the_manifest_without_changing_it_is_not_stale(data_copy):
    """Staleness is about content: a new modification time alone does not force a rebuild."""
    cfg = settings()
    later = cfg.manifest_path.stat().st_mtime + 3600
    os.utime(cfg.manifest_path, (later, later))
    for p in cfg.sources_dir.rglob("*.parquet"):
        os.utime(p, (later, later))
    assert build.is_stale(cfg) == (False, "up to date")


def test_changing_provenance_in_the_manifest_makes_it_stale(data_copy):
    cfg = settings()
    _edit_manifest(
        cfg,
        lambda es: [
            replace(e, licence="Corrected licence (synthetic edit)", snapshot=e.snapshot + " (corrected)")
            for e in es
        ],
    )
    assert build.is_stale(cfg)[0]


def test_other_reasons_for_staleness(data_copy, monkeypatch):
    cfg = settings()
    (cfg.warehouse_dir / "street_crime.parquet").unlink()
    assert build.is_stale(cfg) == (True, "table street_crime is missing")

    (cfg.warehouse_dir / build.STAMP).write_text("{not json")
    assert build.is_stale(cfg) == (True, "the warehouse stamp is unreadable")

    (cfg.warehouse_dir / build.STAMP).unlink()
    assert build.is_stale(cfg) == (True, "no warehouse has been built yet")


def test_new_build_version_or_borough_makes_it_stale(data_copy, monkeypatch):
    monkeypatch.setattr(build, "BUILD_VERSION", build.BUILD_VERSION + "-next")
    assert build.is_stale(settings()) == (True, "the build definition has changed")
    monkeypatch.undo()
    monkeypatch.setenv("CSP_DATA_DIR", str(data_copy))
    monkeypatch.setenv("CSP_BOROUGH_CODE", "E09000012")
    assert build.is_stale(settings())[0]


def test_edited_source_is_refused_and_the_warehouse_kept(data_copy):
    """A source whose bytes no longer match the manifest stops the build before anything is
    written (the previous warehouse stays byte-identical)."""
    cfg = settings()
    before = hashes(cfg.warehouse_dir)
    census = cfg.sources_dir / "census" / "th_census2021_ts007a_age_lsoa21.csv"
    census.write_text(census.read_text().replace("Tower Hamlets", "Tower Hamlets (synthetic edit)", 1))
    with pytest.raises(
        manifest.ManifestError, match="census/th_census2021_ts007a_age_lsoa21.csv: checksum differs"
    ):
        build.build(cfg)
    assert hashes(cfg.warehouse_dir) == before


# --------------------------------------------------------------------------- reconciliation with the sources


def _expected_borough_total(entries, month: date) -> tuple[int, str]:
    """Tower Hamlets total for a month from the newest borough file holding it (as a real month)."""
    col = month.strftime("%Y%m")
    for e in sorted(
        (e for e in entries if e.kind == "mps_wide_borough"), key=lambda e: e.precedence, reverse=True
    ):
        df = raw(e.path)
        cols = month_cols(df)
        if col not in cols:
            continue
        london = df[cols].sum()
        if london[col] < 0.1 * london.median():  # a stub column: the build drops it
            continue
        return int(df.loc[df["boroughname"] == TH_NAME, col].sum()), e.path
    raise AssertionError(f"no borough file holds {col}")


@pytest.mark.parametrize(
    "month",
    [
        date(2010, 4, 1),
        date(2016, 7, 1),
        date(2024, 2, 1),
        date(2024, 3, 1),
        date(2025, 1, 1),
        date(2026, 2, 1),
    ],
)
def test_borough_totals_equal_the_source_files(crime, entries, month):
    expected, path = _expected_borough_total(entries, month)
    assert expected > 1000  # a real month for an inner London borough
    got = crime[(crime.level == "borough") & (crime.borough_code == TH_CODE) & (crime.month == month)]
    assert int(got["count"].sum()) == expected
    assert set(got.source_file) == {path}


def test_borough_rows_are_the_source_cells(crime, entries):
    """Cell by cell for one month: every Tower Hamlets category count equals the file's cell."""
    month = date(2025, 6, 1)
    _, path = _expected_borough_total(entries, month)
    df = raw(path)
    src = df[df.boroughname == TH_NAME].set_index(["majortext", "minortext"])["202506"].astype("int64")
    got = crime[(crime.level == "borough") & (crime.borough_code == TH_CODE) & (crime.month == month)]
    got = got.set_index(["major_category", "minor_category"])["count"]
    assert got.sort_index().to_dict() == src.sort_index().to_dict()


def test_ward_totals_equal_the_newest_ward_file(crime):
    month = date(2026, 3, 1)  # only the newest ward file holds March 2026
    df = raw("mps/mps_ward_crime_2024-03_2026-03.parquet")
    expected = int(df.loc[df.lookup_boroughname == TH_NAME, "202603"].sum())
    got = crime[(crime.level == "ward") & (crime.borough_code == TH_CODE) & (crime.month == month)]
    assert int(got["count"].sum()) == expected > 1000
    assert got.area_code.nunique() == 20


def test_stub_first_months_are_excluded(crime, warehouse):
    """The newest ward file opens with a near-empty stub (202403); the build drops it and takes
    March 2024 from the previous file, for which it is a real month."""
    newest = "mps/mps_ward_crime_2024-03_2026-03.parquet"
    previous = "mps/mps_ward_crime_2024-02_2026-02.parquet"
    df_new, df_prev = raw(newest), raw(previous)
    london_new = df_new[month_cols(df_new)].sum()
    assert month_cols(df_new)[0] == "202403"
    assert london_new["202403"] < 0.1 * london_new.median()  # the premise: a stub

    march = crime[(crime.level == "ward") & (crime.month == date(2024, 3, 1))]
    assert set(march.source_file) == {previous}
    assert not ((crime.source_file == newest) & (crime.month == date(2024, 3, 1))).any()
    expected = int(df_prev.loc[df_prev.lookup_boroughname == TH_NAME, "202403"].sum())
    assert int(march.loc[march.borough_code == TH_CODE, "count"].sum()) == expected > 1000

    cov = pd.read_parquet(warehouse / "coverage.parquet").set_index("source_file")
    assert cov.loc[newest, "stub_months"] == "202403"
    assert cov.loc[newest, "first_month"] == date(2024, 4, 1)
    assert cov.loc[previous, "stub_months"] == "202402"


def test_stub_months_rule_on_a_synthetic_frame():
    """Synthetic wide frame: only *leading* near-empty months are stubs."""
    frame = pd.DataFrame(
        {
            "MajorText": ["SYNTH", "SYNTH"],
            "MinorText": ["A", "B"],
            "WardName": ["W", "W"],
            "WardCode": ["E05999991", "E05999991"],
            "LookUp_BoroughName": ["Synthetic", "Synthetic"],
            "202401": [2, 1],
            "202402": [60, 50],
            "202403": [1, 0],
            "202404": [55, 45],
        }
    )
    long, info = mps.read_wide(frame)
    assert info["level"] == "ward"
    assert info["stub_months"] == ["202401"]
    assert info["months"] == ["202402", "202403", "202404"]
    assert date(2024, 1, 1) not in set(long.month) and date(2024, 3, 1) in set(long.month)


def test_residential_burglary_is_one_continuous_series(crime):
    th = crime[(crime.level == "borough") & (crime.borough_code == TH_CODE)]
    all_months = sorted(set(th.month))
    expected = pd.date_range(all_months[0], all_months[-1], freq="MS").date.tolist()
    assert all_months == expected, "the borough series has month gaps"

    res = th[th.offence_group == "RESIDENTIAL BURGLARY"].groupby("month")["count"].sum()
    assert res.index.tolist() == expected
    assert (res > 0).all()
    minors = (
        th[th.offence_group == "RESIDENTIAL BURGLARY"].groupby(["minor_category", "month"])["count"].sum()
    )
    # the premise: the old name stops and the new names start during 2023
    assert minors.loc["DOMESTIC BURGLARY"].loc[date(2022, 1, 1)] > 50
    assert minors.loc["DOMESTIC BURGLARY"].loc[date(2023, 7, 1) :].sum() == 0
    assert minors.loc["RES BURGLARY OF A HOME"].loc[date(2023, 7, 1)] > 20
    # ... yet the grouped series has no cliff across the change
    window = res.loc[date(2022, 10, 1) : date(2023, 12, 1)]
    assert window.min() >= 0.5 * window.max()


def test_revisions_record_old_and_new_counts(warehouse, entries):
    rev = pd.read_parquet(warehouse / "crime_revisions.parquet")
    assert len(rev) > 0
    assert {"kept_count", "superseded_count", "kept_source", "superseded_source"} <= set(rev.columns)
    assert (rev.kept_count != rev.superseded_count).all()
    assert (rev.kept_count >= 0).all() and (rev.superseded_count >= 0).all()
    as_of = {e.path: e.precedence for e in entries}
    assert all(as_of[k] > as_of[s] for k, s in zip(rev.kept_source, rev.superseded_source))

    # spot-check one ward revision against the two raw files
    ward = rev[(rev.level == "ward") & (rev.kept_count > 0) & (rev.superseded_count > 0)].iloc[0]
    col = ward.month.strftime("%Y%m")

    def cell(path):
        df = raw(path)
        hit = df[
            (df.wardcode == ward.area_code)
            & (df.majortext == ward.major_category)
            & (df.minortext == ward.minor_category)
        ]
        assert len(hit) == 1
        return int(hit[col].iloc[0])

    assert cell(ward.kept_source) == ward.kept_count
    assert cell(ward.superseded_source) == ward.superseded_count


def test_revisions_query_nets_the_changes(warehouse):
    rev = pd.read_parquet(warehouse / "crime_revisions.parquet")
    q = sql.run("meta/revisions")
    assert int(q.cells_changed.sum()) == len(rev)
    assert int(q.net_change.sum()) == int((rev.kept_count - rev.superseded_count).sum())


def test_finer_levels_never_exceed_coarser_ones(crime):
    """Borough >= sum of wards >= sum of LSOAs in every month all levels share. (They need not be
    equal: crimes that cannot be placed drop out at finer levels.)"""
    th = crime[crime.borough_code == TH_CODE]
    t = th.pivot_table(index="month", columns="level", values="count", aggfunc="sum").dropna()
    assert len(t) >= 20
    assert (t["borough"] >= t["ward"]).all()
    assert (t["ward"] >= t["lsoa"]).all()
    assert sql.run("checks/level_ordering", borough_code=TH_CODE).empty


def test_crime_cells_are_unique_and_non_negative(crime):
    key = ["level", "area_name", "month", "major_category", "minor_category"]
    assert not crime.duplicated(key).any()
    assert (crime["count"] >= 0).all()


def test_stamp_records_what_was_built(warehouse, entries):
    stamp = json.loads((warehouse / build.STAMP).read_text())
    assert stamp == {
        "build_version": build.BUILD_VERSION,
        "sources_digest": manifest.digest(entries),
        "borough_code": settings().borough_code,
    }
