"""Tests of ``csp_data.warehouse.ingest``: validate -> land -> manifest entry -> rebuild -> report.

Every test works on the private ``data_copy`` of data/ (never on /work/main/data). Real files are
used where possible; files whose months or values were changed are named ``synthetic_*`` and say
so in the test's docstring. Refusals must happen before the build and change nothing: those tests
hash every file (and list every folder) under the data folder before and after.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import zipfile
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from csp_data import __main__ as cli
from csp_data.config import REPO_ROOT, settings
from csp_data.warehouse import build, ingest, manifest
from csp_data.warehouse.sources import police_uk

SOURCES = REPO_ROOT / "data" / "sources"
REAL_2026_01 = SOURCES / "police_uk" / "th_street_all_crime_2026-01.csv.gz"
REAL_2025_02 = SOURCES / "police_uk" / "th_street_all_crime_2025-02.csv.gz"
REAL_OUTCOMES = SOURCES / "police_uk" / "th_outcomes_burglary_subset_2012-01_2025-02.csv.gz"
MPS_WARD = SOURCES / "mps" / "mps_ward_crime_2024-03_2026-03.parquet"
MPS_LSOA = SOURCES / "mps" / "mps_lsoa_crime_2024-02_2026-02.parquet"
SHARED = REPO_ROOT.parent / "shared" / "data"
# Two real months (2024-07, 2024-08) of Met-wide police.uk stop and search, cut from
# ../shared/data/police_uk/met_stop_and_search.parquet; provenance in tests/fixtures/README.md.
MET_SS = REPO_ROOT / "tests" / "fixtures" / "met_stop_and_search_2024-07_2024-08.parquet"

SUMMARY = re.compile(r"^read (\d+), landed (\d+), quarantined (\d+)(?:, outside borough (\d+))?$")


# ----------------------------------------------------------------------------- builders


def tree(root: Path) -> dict[str, str]:
    """sha256 of every file and a marker for every folder under root (catches leftovers)."""
    out = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        out[rel] = "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def real_street(path: Path = REAL_2026_01) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[])


def write_csv(df: pd.DataFrame, path: Path) -> Path:
    df.to_csv(path, index=False)
    return path


def met_stop_search(month: str) -> pd.DataFrame:
    """Real Met-wide stop-and-search rows of one published month (as published, minus source_month)."""
    if not MET_SS.exists():
        pytest.skip(f"{MET_SS} not available")
    df = pd.read_parquet(MET_SS)
    return df[df["source_month"] == month].drop(columns="source_month").reset_index(drop=True)


def summary_counts(lines: list[str]) -> tuple[int, int, int, int]:
    hits = [SUMMARY.match(ln) for ln in lines]
    hits = [h for h in hits if h]
    assert len(hits) == 1, f"expected exactly one summary line in {lines}"
    n, m, k, o = hits[0].groups()
    return int(n), int(m), int(k), int(o or 0)


def wh(data: Path, sql: str, *params):
    """Run SQL over the warehouse parquet of ``data`` (tables as read_parquet views)."""
    con = duckdb.connect()
    for t in build.TABLES:
        con.execute(
            f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{data / 'warehouse' / (t + '.parquet')}')"
        )
    return con.execute(sql, list(params)).df()


def monthly(data: Path, table: str = "street_crime", where: str = "TRUE") -> dict[str, int]:
    """Monthly borough totals: rows (police.uk tables) or offences (crime_monthly)."""
    n = "sum(count)" if table == "crime_monthly" else "count(*)"
    df = wh(data, f"SELECT strftime(month, '%Y-%m') AS m, {n} AS n FROM {table} WHERE {where} GROUP BY 1")
    return dict(zip(df.m, df.n.astype(int)))


def assert_refused(data: Path, path: Path, match: str, force: bool = False) -> str:
    before = tree(data)
    with pytest.raises(ingest.IngestError, match=match) as exc:
        ingest.ingest_file(path, settings(), force=force)
    assert tree(data) == before, "a refused ingest changed files under the data folder"
    assert not (data / "sources" / "landed").exists()
    return str(exc.value)


# ----------------------------------------------------------------------------- unit: names


def test_safe_name_strips_folders_and_odd_characters():
    assert ingest.safe_name("../../etc/passwd") == "passwd"
    assert (
        ingest.safe_name("C:\\Users\\me\\2026-01 street (copy);rm -rf.csv")
        == "2026-01_street__copy__rm_-rf.csv"
    )
    assert ingest.safe_name("..") == "upload"
    assert ingest.safe_name(".hidden..csv") == "hidden.csv"
    assert ingest.safe_name("ünïcode name.csv.gz") == "n_code_name.csv.gz"
    sha = "ab" * 32
    assert ingest.landed_relpath(sha, "../../x.csv", "2026-11-22") == f"landed/2026-11-22/{sha[:12]}-x.csv"
    with pytest.raises(ingest.IngestError):
        ingest.landed_relpath(sha, "x.csv", "../2026")
    with pytest.raises(ingest.IngestError):
        ingest.landed_relpath("../" + sha[3:], "x.csv", "2026-11-22")


# ----------------------------------------------------------------------------- refusals (no build)


@pytest.mark.parametrize(
    "name,content,match",
    [
        ("2026-02-metropolitan-street.csv", b"", "empty"),
        ("2026-02-metropolitan-street.csv.gz", gzip.compress(b""), "empty"),
        ("2026-02-metropolitan-street.csv", b"\n\n  \n", "empty"),
        (
            "2026-02-metropolitan-street.csv",
            (",".join(police_uk.STREET_COLUMNS) + "\n").encode(),
            "no data rows",
        ),
    ],
    ids=["zero-bytes", "empty-gzip", "blank-lines", "header-only"],
)
def test_refuses_empty_files(data_copy, tmp_path, name, content, match):
    p = tmp_path / name
    p.write_bytes(content)
    assert_refused(data_copy, p, match)


@pytest.mark.parametrize(
    "name,content,match",
    [
        ("map.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "PNG image"),
        (
            "2026-02-metropolitan-street.csv",
            np.random.default_rng(7).integers(0, 256, 5000, dtype=np.uint8).tobytes() + b"\x00",
            "binary|not UTF-8",
        ),
        ("2026-02-metropolitan-street.csv.gz", gzip.compress(b"Crime ID,Month\x00\x00\x01\x02"), "binary"),
        ("broken.csv.gz", b"\x1f\x8b\x08\x00garbage-not-deflate", "cannot be decompressed"),
        ("archive.zip", b"PK\x03\x04 this is not really a zip", "not a readable zip"),
    ],
    ids=["png", "random-bytes", "gzip-of-binary", "corrupt-gzip", "corrupt-zip"],
)
def test_refuses_binary_files(data_copy, tmp_path, name, content, match):
    p = tmp_path / name
    p.write_bytes(content)
    assert_refused(data_copy, p, match)


def test_refuses_wrong_columns(data_copy, tmp_path):
    """Real 2026-01 rows with two street columns renamed: neither police.uk nor MPS."""
    df = real_street().rename(columns={"Crime type": "Offence", "LSOA name": "Area"})
    msg = assert_refused(
        data_copy, write_csv(df, tmp_path / "2026-01-metropolitan-street.csv"), "unrecognised columns"
    )
    assert "Crime ID" in msg and "MajorText" in msg  # says what was expected


def test_refuses_stop_search_file_named_as_street(data_copy, tmp_path):
    """Real Met stop-and-search rows saved under a street file name."""
    ss = met_stop_search("2024-08").head(200)
    p = write_csv(ss, tmp_path / "2026-01-metropolitan-street.csv")
    msg = assert_refused(data_copy, p, "is a stop-and-search file")
    assert "name says street" in msg
    # and through the command line: non-zero exit, the reason on stderr, nothing changed
    before = tree(data_copy)
    assert ingest.main([str(p)]) == 2  # a refusal: exit code 2, as the README says
    assert tree(data_copy) == before


def test_refuses_outcomes_file(data_copy, tmp_path):
    """The first 100 real outcomes rows (a different file, so not 'already ingested')."""
    df = pd.read_csv(REAL_OUTCOMES, dtype=str, keep_default_na=False).head(100)
    assert_refused(data_copy, write_csv(df, tmp_path / "2025-02-metropolitan-outcomes.csv"), "outcomes file")


def test_refuses_street_file_with_no_rows_in_borough(data_copy, tmp_path):
    """SYNTHETIC: real 2026-01 rows relabelled as Hackney (another borough)."""
    df = real_street()
    df["LSOA name"] = "Hackney 001A"
    df["LSOA code"] = "E01001715"
    msg = assert_refused(
        data_copy, write_csv(df, tmp_path / "synthetic_hackney-street.csv"), "no rows in Tower Hamlets"
    )
    assert "read 3396" in msg


def test_refuses_stop_search_file_with_no_rows_in_borough(data_copy, tmp_path):
    """Real Met stop-and-search rows of 2024-08 located south of latitude 51.45 (none in Tower Hamlets)."""
    df = met_stop_search("2024-08")
    south = df[df["Latitude"] < 51.45]
    assert len(south) > 1000
    assert_refused(
        data_copy,
        write_csv(south, tmp_path / "2024-08-metropolitan-stop-and-search.csv"),
        "no rows in Tower Hamlets",
    )


def test_refuses_file_where_every_row_is_quarantined(data_copy, tmp_path):
    """SYNTHETIC: real 2026-01 rows with Month written as 'January 2026'."""
    df = real_street()
    df["Month"] = "January 2026"
    msg = assert_refused(
        data_copy, write_csv(df, tmp_path / "synthetic_2026-01-street.csv"), "every Tower Hamlets row failed"
    )
    assert "month is not YYYY-MM (3396)" in msg


def test_refuses_zip_without_street_or_stop_search_members(data_copy, tmp_path):
    p = tmp_path / "archive.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("README.txt", "nothing here")
        zf.writestr("2026-01/2026-01-metropolitan-outcomes.csv", ",".join(police_uk.OUTCOME_COLUMNS) + "\n")
    assert_refused(data_copy, p, "holds no police.uk street or stop-and-search")


def test_refuses_zip_whose_street_member_is_stop_and_search(data_copy, tmp_path):
    ss = met_stop_search("2024-08").head(50)
    p = tmp_path / "archive.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("2024-08/2024-08-metropolitan-street.csv", ss.to_csv(index=False))
    assert_refused(data_copy, p, "is a stop-and-search file")


def _mps_ward_csv(path: Path, drop: list[str] = (), add: dict[str, str] | None = None) -> Path:
    """London Datastore ward CSV (Tower Hamlets rows) from the embedded 2024-03..2026-03 parquet."""
    df = pd.read_parquet(MPS_WARD)
    df = df[df["LookUp_BoroughName"] == "Tower Hamlets"].drop(columns=list(drop))
    for new, copy_of in (add or {}).items():
        df[new] = df[copy_of]
    return write_csv(df, path)


@pytest.mark.parametrize("case", ["street_2024_06", "stop_search_2024_07", "mps_ward_2026_02"])
def test_refuses_file_older_than_warehouse(data_copy, tmp_path, case):
    """Months already held from a NEWER snapshot are refused without --force.

    street_2024_06: SYNTHETIC, real 2026-01 rows with Month set to 2024-06 (Burglary 2024-06 is
    held from the burglary extract, as of 2025-02-28). (A re-publication of a held month with the
    same as_of is not older: tests/test_ingest_kinds.py::test_republished_month_wins.)
    stop_search_2024_07: REAL Met-wide rows of 2024-07 (the embedded file is as of 2024-08).
    mps_ward_2026_02: the real ward file without its 202603 column (the 2026-03 file is newer).
    """
    if case == "street_2024_06":
        df = real_street()
        df["Month"] = "2024-06"
        p = write_csv(df, tmp_path / "synthetic_2024-06-metropolitan-street.csv")
        held = "th_street_burglary_2010-12_2025-02.csv.gz (as of 2025-02-28)"
    elif case == "stop_search_2024_07":
        p = write_csv(met_stop_search("2024-07"), tmp_path / "2024-07-metropolitan-stop-and-search.csv")
        held = "met_stop_and_search_2015-04_2024-08.parquet (as of 2024-08-31)"
    else:
        p = _mps_ward_csv(tmp_path / "synthetic_mps_ward_to_2026-02.csv", drop=["202603"])
        held = "mps_ward_crime_2024-03_2026-03.parquet (as of 2026-03-31)"
    msg = assert_refused(data_copy, p, "newer snapshot")
    assert held in msg and "--force" in msg


def test_refuses_while_another_ingest_runs(data_copy, tmp_path):
    fcntl = pytest.importorskip("fcntl")
    p = tmp_path / "2026-01-metropolitan-street.csv"
    p.write_bytes(gzip.decompress(REAL_2026_01.read_bytes()))
    fd = os.open(data_copy / "sources", os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        assert_refused(data_copy, p, "another ingest is running")
    finally:
        os.close(fd)


def test_same_bytes_are_already_ingested(data_copy, capsys):
    """Re-offering embedded files (from data/sources and from ../shared) writes nothing, exit 0."""
    paths = [REAL_2026_01]
    if (SHARED / "police_uk" / REAL_2025_02.name).exists():
        paths.append(SHARED / "police_uk" / REAL_2025_02.name)
    before = tree(data_copy)
    assert ingest.main([str(p) for p in paths]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        f"already ingested: {paths[0]} (landed 2026-11-22 as police_uk/th_street_all_crime_2026-01.csv.gz)"
    )
    assert all(ln.startswith("already ingested: ") for ln in out) and len(out) == len(paths)
    assert tree(data_copy) == before


def test_decompressed_copy_is_already_ingested(data_copy, tmp_path):
    """Choice: a plain (or recompressed) copy of an embedded .gz has a different sha256 but the
    same content; it is recognised as already ingested (exit 0, nothing written) rather than
    landed a second time. A file with the same as_of but different content is accepted and,
    being landed later, wins (see test_cli_revision_then_rerun_is_a_no_op)."""
    plain = tmp_path / "2026-01-metropolitan-street.csv"
    plain.write_bytes(gzip.decompress(REAL_2026_01.read_bytes()))
    regz = tmp_path / "th_2026-01.csv.gz"
    regz.write_bytes(gzip.compress(plain.read_bytes(), compresslevel=1))
    assert hashlib.sha256(plain.read_bytes()).hexdigest().startswith("869c8b0c")  # SOURCES.md
    before = tree(data_copy)
    for p in (plain, regz):
        report = ingest.ingest_file(p, settings())
        assert report.status == "already ingested"
        assert "same data, compressed differently" in report.lines[0]
    assert tree(data_copy) == before


# ----------------------------------------------------------------------------- ingests (with a build)


def test_new_months_force_wide_quarantine_and_reconciliation(data_copy, tmp_path):
    """SYNTHETIC test data derived from real rows: the real 2026-01 Tower Hamlets rows with Month
    rewritten to 2026-02 (all 3,396) and to 2026-03 (the 2,693 non-ASB rows), plus 3 in-borough
    rows made invalid (month, coordinates, crime type) and 50 rows relabelled to a Hackney LSOA
    (so the file looks force-wide)."""
    real = real_street()
    feb = real.assign(Month="2026-02")
    mar = real[real["Crime type"] != "Anti-social behaviour"].assign(Month="2026-03")
    bad = real.head(3).assign(Month="2026-03")
    bad.loc[bad.index[0], "Month"] = "2026/03"
    bad.loc[bad.index[1], "Longitude"] = "abc"
    bad.loc[bad.index[2], "Crime type"] = "Jaywalking"
    out = real.tail(50).assign(Month="2026-02", **{"LSOA name": "Hackney 001A", "LSOA code": "E01001715"})
    raw = pd.concat([feb, mar, bad, out], ignore_index=True)
    src = write_csv(raw, tmp_path / "synthetic_2026-02_2026-03-metropolitan-street.csv")
    manifest_before = json.loads((data_copy / "sources" / "manifest.json").read_text())["files"]

    report = ingest.ingest_file(src, settings(), now=pd.Timestamp("2026-11-22T09:30:00Z").to_pydatetime())

    n, m, k, o = summary_counts(report.lines)
    assert (n, m, k, o) == (len(raw), 3396 + len(mar), 3, 50)
    assert m + k + o == n
    assert report.lines[2] == f"read {n}, landed {m}, quarantined 3, outside borough 50"
    # the raw file landed byte for byte, under a safe name, with a complete manifest entry
    (e,) = report.entries
    sha = hashlib.sha256(src.read_bytes()).hexdigest()
    assert e.path == f"landed/2026-11-22/{sha[:12]}-synthetic_2026-02_2026-03-metropolitan-street.csv"
    assert (data_copy / "sources" / e.path).read_bytes() == src.read_bytes()
    assert (e.kind, e.sha256, e.bytes, e.as_of) == ("policeuk_street", sha, src.stat().st_size, "2026-03-31")
    assert e.landed_at == "2026-11-22T09:30:00Z" and e.landed_by == "ingest"
    assert (
        e.snapshot
        == "police.uk street-level crime, ingested 2026-11-22 from synthetic_2026-02_2026-03-metropolitan-street.csv"
    )
    assert (e.publisher, e.licence) == ("data.police.uk (Home Office)", "Open Government Licence v3.0")
    saved = manifest.load(data_copy / "sources" / "manifest.json")
    assert len(saved) == len(manifest_before) + 1 and e in saved
    assert not manifest.verify(data_copy / "sources", saved)
    # the report
    assert "  added 2026-02: 3,396" in report.lines
    assert f"  added 2026-03: {len(mar):,d}" in report.lines
    assert "  missing 2025-03 to 2025-12 (10 months)" in report.lines
    ch = report.changes["street"]
    assert ch.added == [("2026-02", 3396), ("2026-03", len(mar))] and ch.revised == []
    # quarantined rows: written with row numbers and reasons, and in the warehouse's quarantine table
    (qfile,) = report.quarantine_files
    assert qfile == data_copy / "quarantine" / f"{sha[:12]}-synthetic_2026-02_2026-03-metropolitan-street.csv"
    q = pd.read_csv(qfile, dtype=str, keep_default_na=False)
    assert list(q.columns[:2]) == ["source_row", "reason"] and len(q) == 3
    assert list(q["reason"]) == ["month is not YYYY-MM", "coordinates are not numbers", "unknown crime type"]
    rows = [int(r) for r in q["source_row"]]
    assert rows == [len(feb) + len(mar) + i for i in (1, 2, 3)]
    assert q["Longitude"].tolist()[1] == "abc"  # the raw values, as published
    wq = wh(data_copy, "SELECT source_row, reason FROM quarantine WHERE source_file = ? ORDER BY 1", e.path)
    assert wq["source_row"].tolist() == rows
    # reconciliation: the file's own monthly totals of kept rows == the warehouse's
    in_borough = raw[raw["LSOA name"].str.startswith("Tower Hamlets ")].copy()
    in_borough["source_row"] = in_borough.index + 1
    kept = in_borough[~in_borough["source_row"].isin(rows)]
    source_totals = kept.groupby("Month").size().to_dict()
    assert (
        monthly(data_copy, where="month >= DATE '2026-02-01'")
        == source_totals
        == {"2026-02": 3396, "2026-03": len(mar)}
    )
    # the months before are untouched and the warehouse is no longer stale
    assert monthly(data_copy, where="month < DATE '2026-02-01'") == monthly(REPO_ROOT / "data")
    assert build.is_stale(settings()) == (False, "up to date")


def test_cli_revision_then_rerun_is_a_no_op(data_copy, tmp_path, capsys):
    """SYNTHETIC: the real 2026-01 file plus 5 repeated rows (as police.uk sometimes publishes).
    Same as_of (2026-01) as the embedded file, landed later, so it wins: a revision of +5."""
    real = real_street()
    df = pd.concat([real, real.iloc[[10, 500, 1000, 2000, 3000]]], ignore_index=True)
    src = write_csv(df, tmp_path / "synthetic_2026-01-metropolitan-street.csv")
    assert cli.main(["ingest", str(src)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "read 3401, landed 3401, quarantined 0" in out
    assert "  revised 2026-01: 3,396 -> 3,401 (+5)" in out
    assert monthly(data_copy)["2026-01"] == 3401
    assert (
        wh(
            data_copy,
            "SELECT count(*) AS n FROM street_crime WHERE month = DATE '2026-01-01' AND source_file LIKE 'landed/%'",
        ).n[0]
        == 3401
    )
    # running it again changes nothing
    before = tree(data_copy)
    assert cli.main(["ingest", str(src)]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith(f"already ingested: {src} (landed ")
    assert tree(data_copy) == before
    # and a refusal through the command line: non-zero, reason on stderr, nothing changed
    empty = tmp_path / "2026-02-metropolitan-street.csv"
    empty.write_bytes(b"")
    assert cli.main(["ingest", str(empty)]) != 0
    err = capsys.readouterr().err
    assert "refused:" in err and "empty" in err and "Nothing was changed" in err
    assert tree(data_copy) == before


def test_zip_archive_keeps_every_published_row(data_copy, tmp_path):
    """A police.uk archive-style zip of REAL files: the real 2026-01 street CSV (the embedded
    Tower Hamlets block, uncompressed), the real Met-wide stop-and-search rows of 2024-07, and a
    small outcomes member (skipped). No row is deduplicated: the 703 blank-ID ASB rows and the
    317 exact repeats are all in the warehouse."""
    street_bytes = gzip.decompress(REAL_2026_01.read_bytes())
    ss_bytes = met_stop_search("2024-07").to_csv(index=False).encode()
    outcomes = pd.read_csv(REAL_OUTCOMES, dtype=str, keep_default_na=False).head(20).to_csv(index=False)
    src = tmp_path / "police_uk_archive_2026-01.zip"
    with zipfile.ZipFile(src, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("2026-01/2026-01-metropolitan-street.csv", street_bytes)
        zf.writestr("2024-07/2024-07-metropolitan-stop-and-search.csv", ss_bytes)
        zf.writestr("2024-07/2024-07-metropolitan-outcomes.csv", outcomes)
    raw = real_street()
    assert len(raw) == 3396 and (raw["Crime ID"] == "").sum() == 703 and raw.duplicated().sum() == 317
    ss_th_before = monthly(data_copy, "stop_search")["2024-07"]

    report = ingest.ingest_file(src, settings())

    street_e, ss_e = sorted(report.entries, key=lambda e: e.kind, reverse=True)
    assert street_e.kind == "policeuk_street" and ss_e.kind == "policeuk_stop_search"
    assert street_e.as_of == ss_e.as_of == "2026-01-31"  # the end of the archive's newest month
    assert (data_copy / "sources" / street_e.path).read_bytes() == src.read_bytes()
    assert (data_copy / "sources" / ss_e.path).read_bytes() == ss_bytes  # the member, byte for byte
    assert ss_e.path.endswith("-2024-07-metropolitan-stop-and-search.csv")
    assert ss_e.extra["zip_sha256"] == street_e.sha256
    n, m, k, o = summary_counts(report.lines)
    assert m + k + o == n == 3396 + len(ss_bytes.splitlines()) - 1
    assert m == 3396 + ss_th_before
    assert "  skipped 1 outcomes member(s)" in report.lines
    # every published street row is in the warehouse, repeats and blank IDs included
    w = wh(data_copy, "SELECT * FROM street_crime WHERE source_file = ?", street_e.path)
    assert len(w) == 3396
    assert w["crime_id"].isna().sum() == 703
    assert (w.loc[w["crime_id"].isna(), "crime_type"] == "Anti-social behaviour").all()
    published = [
        "crime_id",
        "month",
        "crime_type",
        "longitude",
        "latitude",
        "location",
        "lsoa_code_published",
        "lsoa_name_published",
        "last_outcome",
    ]
    assert w.duplicated(subset=published).sum() == 317
    # same counts as the embedded snapshot: nothing added or revised
    assert report.changes["street"].added == [] and report.changes["street"].revised == []
    assert (
        wh(data_copy, "SELECT count(*) AS n FROM stop_search WHERE source_file = ?", ss_e.path).n[0]
        == ss_th_before
    )
    assert report.changes["stop_search"].revised == []
    # the same zip again: already ingested
    before = tree(data_copy)
    assert ingest.ingest_file(src, settings()).status == "already ingested"
    assert tree(data_copy) == before


def test_stop_search_met_wide_file_is_placed_spatially(data_copy, tmp_path):
    """REAL Met-wide stop-and-search rows of 2024-08 (re-serialised from ../shared's parquet of
    the published files). Only records located inside Tower Hamlets are kept; the count equals
    the embedded Tower Hamlets extract's for that month (410)."""
    df = met_stop_search("2024-08")
    src = write_csv(df, tmp_path / "2024-08-metropolitan-stop-and-search.csv")

    report = ingest.ingest_file(src, settings())

    (e,) = report.entries
    assert (e.kind, e.as_of) == ("policeuk_stop_search", "2024-08-31")
    n, m, k, o = summary_counts(report.lines)
    assert (n, m, k) == (len(df), 410, 0) and m + k + o == n
    assert wh(data_copy, "SELECT count(*) AS n FROM stop_search WHERE source_file = ?", e.path).n[0] == 410
    assert monthly(data_copy, "stop_search")["2024-08"] == 410
    ch = report.changes["stop_search"]
    assert ch.added == [] and ch.revised == []
    assert "  missing 2019-03 to 2021-05 (27 months)" in report.lines
    assert any("have no location" in ln for ln in report.lines)


def test_mps_ward_csv_adds_a_month_and_drops_the_stub(data_copy, tmp_path):
    """SYNTHETIC: the Tower Hamlets rows of the real MPS ward file (2024-03..2026-03, whose first
    month is a near-empty stub) in the London Datastore CSV layout, plus a made-up 202604 column
    (a copy of 202603)."""
    src = _mps_ward_csv(
        tmp_path / "synthetic_MPS Ward Level Crime (most recent 24 months) 2026-04.csv",
        add={"202604": "202603"},
    )
    assert pd.read_csv(src, nrows=0).columns[:6].tolist() == [
        "MajorText",
        "MinorText",
        "WardName",
        "WardCode",
        "LookUp_BoroughName",
        "202403",
    ]
    ward_before = monthly(data_copy, "crime_monthly", "level = 'ward'")

    report = ingest.ingest_file(src, settings())

    (e,) = report.entries
    assert e.path.endswith("-synthetic_MPS_Ward_Level_Crime__most_recent_24_months__2026-04.csv")
    assert (e.kind, e.as_of) == ("mps_wide_ward", "2026-04-30")
    assert e.snapshot.startswith(
        "MPS recorded crime, ward, most recent 24 months (data to Apr 2026), ingested "
    )
    assert e.publisher == "Metropolitan Police Service via the London Datastore"
    assert e.extra == {"as_of_basis": "newest month", "stub_months_dropped": "2024-03"}
    ch = report.changes["ward"]
    expected = int(pd.read_csv(src)["202603"].sum())
    assert ch.added == [("2026-04", expected)] and ch.revised == []
    assert f"  added 2026-04: {expected:,d}" in report.lines
    n, m, k, o = summary_counts(report.lines)
    assert (n, m, k, o) == (569, 569, 0, 0)
    cov = wh(
        data_copy,
        "SELECT strftime(first_month, '%Y-%m') AS f, stub_months FROM coverage WHERE source_file = ?",
        e.path,
    )
    assert (cov.f[0], cov.stub_months[0]) == ("2024-04", "202403")  # the stub month is not used
    after = monthly(data_copy, "crime_monthly", "level = 'ward'")
    src_months = wh(
        data_copy,
        "SELECT DISTINCT strftime(month, '%Y-%m') AS m FROM crime_monthly WHERE source_file = ?",
        e.path,
    ).m
    assert min(src_months) == "2024-04" and max(src_months) == "2026-04"
    assert after == {**ward_before, "2026-04": expected}


def test_mps_lsoa_csv_with_a_stale_warehouse(data_copy, tmp_path):
    """SYNTHETIC: Tower Hamlets rows of the real MPS LSOA file (2024-02..2026-02, stub 2024-02)
    with London Datastore headers and a made-up 202603 column (a copy of 202602). The warehouse
    stamp is removed first, so the 'before' state is computed from the manifest in memory."""
    df = pd.read_parquet(MPS_LSOA)
    df = df[df["borough"] == "E09000030"].rename(
        columns={
            "lsoa_code": "LSOA Code",
            "lsoa_name": "LSOA Name",
            "borough": "Borough",
            "major_category": "Major Category",
            "minor_category": "Minor Category",
        }
    )
    df["202603"] = df["202602"]
    src = write_csv(df, tmp_path / "synthetic_MPS_LSOA_Level_Crime_2026-03.csv")
    lsoa_before = monthly(data_copy, "crime_monthly", "level = 'lsoa'")
    (data_copy / "warehouse" / build.STAMP).unlink()

    report = ingest.ingest_file(src, settings())

    (e,) = report.entries
    assert (e.kind, e.as_of) == ("mps_wide_lsoa", "2026-03-31")
    assert report.changes["lsoa"].added == [("2026-03", int(df["202602"].sum()))]
    assert report.changes["lsoa"].revised == []
    assert (
        "2024-02"
        not in wh(
            data_copy,
            "SELECT DISTINCT strftime(month, '%Y-%m') AS m FROM crime_monthly WHERE source_file = ?",
            e.path,
        ).m.tolist()
    )
    assert monthly(data_copy, "crime_monthly", "level = 'lsoa'") == {
        **lsoa_before,
        "2026-03": int(df["202602"].sum()),
    }
    assert build.is_stale(settings())[0] is False


def test_build_failure_undoes_the_landing(data_copy, tmp_path, monkeypatch):
    """SYNTHETIC 2026-02 file (real 2026-01 rows, Month rewritten). The build fails mid-write:
    the previous warehouse and manifest are intact and no landed or quarantine file remains."""
    df = real_street().assign(Month="2026-02")
    df.loc[0, "Longitude"] = "abc"  # one quarantined row, so a quarantine file would be written
    src = write_csv(df, tmp_path / "synthetic_2026-02-metropolitan-street.csv")
    before = tree(data_copy)
    calls = []

    def boom(frame, path):
        calls.append(path.name)
        if path.name == "street_crime.parquet":  # after several tables were written to staging
            raise OSError("disk full (simulated)")
        return real_write(frame, path)

    real_write = build._write_parquet
    monkeypatch.setattr(build, "_write_parquet", boom)
    with pytest.raises(ingest.IngestError, match="build failed .*disk full.*landing was undone"):
        ingest.ingest_file(src, settings())
    assert calls.index("street_crime.parquet") >= 3
    assert tree(data_copy) == before
    assert not (data_copy / "sources" / "landed").exists() and not (data_copy / "quarantine").exists()
    assert not list((data_copy / "warehouse").glob(".staging-*"))
    # and main reports it as a failure
    assert ingest.main([str(src)]) == 1  # a failure (undone), not a refusal
    assert tree(data_copy) == before


def test_force_lands_an_older_file_but_the_newer_snapshot_keeps_its_months(data_copy, tmp_path):
    """SYNTHETIC: real 2026-01 rows with Month set to 2024-06 and a hostile file name. Burglary
    2024-06 is held from the burglary extract (as of 2025-02), newer than this file (2024-06):
    refused without force (see test_refuses_file_older_than_warehouse); with force the file is
    landed, its 13 other crime types are added and Burglary stays from the newer snapshot."""
    df = real_street().assign(Month="2024-06")
    src = write_csv(df, tmp_path / "..synthetic 2024-06 (older);.csv")
    burglary_2024_06 = monthly(data_copy)["2024-06"]
    n_burglary = int((df["Crime type"] == "Burglary").sum())

    report = ingest.ingest_file(src, settings(), force=True)

    (e,) = report.entries
    assert re.fullmatch(r"landed/\d{4}-\d{2}-\d{2}/[0-9a-f]{12}-synthetic_2024-06__older__.csv", e.path)
    assert e.as_of == "2024-06-30"
    assert report.superseded == n_burglary
    ch = report.changes["street"]
    assert ch.revised == [("2024-06", burglary_2024_06, burglary_2024_06 + 3396 - n_burglary)]
    assert any(
        k.startswith("2024-06 (1 crime type: Burglary) from police_uk/th_street_burglary")
        for k in ch.kept_newer
    )
    assert any(ln.startswith("  kept newer snapshot for 2024-06") for ln in report.lines)
    w = wh(
        data_copy,
        "SELECT crime_type, source_file, count(*) AS n FROM street_crime WHERE month = DATE '2024-06-01' GROUP BY ALL",
    )
    assert set(w.loc[w.crime_type == "Burglary", "source_file"]) == {
        "police_uk/th_street_burglary_2010-12_2025-02.csv.gz"
    }
    assert int(w.loc[w.source_file == e.path, "n"].sum()) == 3396 - n_burglary
    assert not any("WARNING" in ln for ln in report.lines)
