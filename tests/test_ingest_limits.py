"""Impossible data is refused: each case below was tried as an attacker or a broken download would
offer it. Every refusal changes nothing (a checksum of every file under the data folder, before
and after) and exits with code 2. Also: a killed ingest is completed or rolled back, and
``sources remove`` retracts a landed file.

Files are the REAL embedded rows re-shaped into the publisher's format (tests/ingest_fixtures.py);
where one value or month was changed to make it impossible, the file is named ``synthetic_*`` and
the test says what was changed.
"""

from __future__ import annotations

import gzip
import io
import os
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import ingest_fixtures as fx
import pandas as pd
import pytest
from test_ingest import assert_refused, monthly, tree, wh

from csp_data import __main__ as cli
from csp_data.config import REPO_ROOT, settings
from csp_data.warehouse import ingest, manifest
from csp_data.warehouse.sources import limits

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


def refused_cli(data: Path, path: Path, capsys, match: str, *extra: str) -> str:
    """Through the command line: exit 2, the reason on stderr, nothing changed."""
    before = tree(data)
    assert cli.main(["ingest", str(path), *extra]) == 2
    err = capsys.readouterr().err
    assert "refused:" in err and "Nothing was changed" in err
    assert pd.Series([err]).str.contains(match).all(), err
    assert tree(data) == before
    return err


def ward_csv(path: Path, change=None) -> Path:
    df = fx.mps_ward_frame()
    if change:
        df = change(df)
    df.to_csv(path, index=False)
    return path


# ----------------------------------------------------------------------------- the ceiling is real


def test_ceiling_is_ten_times_londons_largest_borough_month():
    """The count ceiling is derived from the embedded MPS borough files, not made up."""
    frames = [pd.read_parquet(p) for p in sorted(fx.MPS.glob("mps_borough_crime_*.parquet"))]
    df = pd.concat(frames)
    months = [c for c in df.columns if c.isdigit()]
    totals = (
        df[~df["boroughname"].isin(["Unknown", "London Heathrow and London City Airports"])]
        .groupby("boroughname")[months]
        .sum()
    )
    assert int(totals.max().max()) == limits.LARGEST_BOROUGH_MONTH == 9_509
    assert totals.stack().idxmax() == ("Westminster", "202312")
    assert limits.AREA_MONTH_CEILING == 95_090


# ----------------------------------------------------------------------------- months


def test_refuses_a_month_in_the_future(data_copy, tmp_path, capsys):
    """SYNTHETIC: the real 2026-01 rows plus one copied row dated 2099-12. Landed, it would be the
    'newest snapshot' for good; it is refused (exit 2)."""
    df = fx.street_rows()
    extra = df.head(1).assign(Month="2099-12")
    p = tmp_path / "synthetic_2026-01-metropolitan-street.csv"
    pd.concat([df, extra]).to_csv(p, index=False)
    msg = assert_refused(data_copy, p, "after the current month")
    assert "2099-12" in msg
    refused_cli(data_copy, p, capsys, "No publisher publishes the future")


def test_refuses_a_real_file_newer_than_today(data_copy, tmp_path):
    """The real MPS ward file (data to 2026-03) offered on 15 February 2026: its March is the future."""
    p = ward_csv(tmp_path / "MPS Ward Level Crime (most recent 24 months).csv")
    before = tree(data_copy)
    with pytest.raises(
        ingest.IngestError, match=r"1 month\(s\) after the current month \(Feb 2026\): 2026-03"
    ):
        ingest.ingest_file(p, settings(), now=datetime(2026, 2, 15, tzinfo=UTC))
    assert tree(data_copy) == before


def test_refuses_a_refresh_date_in_the_future(data_copy, tmp_path):
    """The real knife dashboard file (refreshed 2026-03-18, data to 2026-02) offered on 1 March 2026."""
    p = tmp_path / "MonthlyCrimeDashboard_Knife.csv"
    fx.dashboard_frame().to_csv(p, index=False)
    before = tree(data_copy)
    with pytest.raises(ingest.IngestError, match="refresh date 2026-03-18 is in the future"):
        ingest.ingest_file(p, settings(), now=datetime(2026, 3, 1, tzinfo=UTC))
    assert tree(data_copy) == before


def test_refuses_a_month_before_the_source_began(data_copy, tmp_path):
    """SYNTHETIC: the real 2026-01 rows relabelled 2009-06; police.uk street data began 2010-12."""
    p = tmp_path / "synthetic_2009-06-metropolitan-street.csv"
    fx.street_rows().assign(Month="2009-06").to_csv(p, index=False)
    assert_refused(data_copy, p, r"before police.uk street-level crime began \(Dec 2010\)")


@pytest.mark.parametrize("column", ["2026-03", "202613", "Mar-26", "gap"])
def test_refuses_unparseable_or_missing_month_columns(data_copy, tmp_path, column):
    """SYNTHETIC: the real Tower Hamlets ward rows with one month column renamed (or dropped)."""
    if column == "gap":
        change = lambda df: df.drop(columns="202506")  # noqa: E731
        match = "month columns have gaps: 2025-06"
    else:
        change = lambda df: df.rename(columns={"202603": column})  # noqa: E731
        match = "unexpected or unparseable month columns"
    assert_refused(data_copy, ward_csv(tmp_path / "synthetic_mps_ward.csv", change), match)


# ----------------------------------------------------------------------------- counts


@pytest.mark.parametrize(
    "value,match",
    [
        ("1e30", "not a whole non-negative number"),
        ("99999999999", "above the plausible ceiling of 95,090"),
        ("2.7", "not a whole non-negative number"),
        ("-1", "not a whole non-negative number"),
        ("NaN", "not a whole non-negative number"),
        ("", "not a whole non-negative number"),
        ("95091", "above the plausible ceiling of 95,090"),
    ],
    ids=["1e30", "99999999999", "2.7", "-1", "NaN", "blank", "ceiling+1"],
)
def test_refuses_impossible_counts(data_copy, tmp_path, capsys, value, match):
    """SYNTHETIC: the real Tower Hamlets ward rows with one cell (first row, 202510) replaced."""

    def change(df):
        df = df.astype({"202510": object})
        df.iloc[0, df.columns.get_loc("202510")] = value
        return df

    p = ward_csv(tmp_path / "synthetic_mps_ward.csv", change)
    msg = assert_refused(data_copy, p, match)
    assert "month column 202510" in msg
    if value == "1e30":
        refused_cli(data_copy, p, capsys, "not a whole")


def test_refuses_a_dashboard_count_that_is_not_whole(data_copy, tmp_path):
    """SYNTHETIC: the real knife dashboard rows with one Count written 2.7."""
    df = fx.dashboard_frame().astype({"Count": object})
    df.iloc[5, df.columns.get_loc("Count")] = "2.7"
    p = tmp_path / "synthetic_dashboard.csv"
    df.to_csv(p, index=False)
    assert_refused(data_copy, p, r"count '2.7' is not a whole non-negative number")


def test_refuses_rows_above_the_month_ceiling(data_copy, tmp_path, monkeypatch):
    """The real 2026-01 rows but the last (3,395 Tower Hamlets rows); with the ceiling lowered to
    3,000 for this test it is refused (1.3 million rows for one month are refused the same way)."""
    monkeypatch.setattr(limits, "AREA_MONTH_CEILING", 3_000)
    p = tmp_path / "2026-01-metropolitan-street.csv"
    fx.street_rows().iloc[:-1].to_csv(p, index=False)
    assert_refused(data_copy, p, "3,395 rows in one area in 2026-01, above the plausible ceiling of 3,000")


# ----------------------------------------------------------------------------- categories


def test_refuses_an_unknown_category(data_copy, tmp_path):
    """SYNTHETIC: one real Tower Hamlets ward row's MinorText changed to JAYWALKING."""

    def change(df):
        df = df.copy()
        df.iloc[0, df.columns.get_loc("MinorText")] = "JAYWALKING"
        return df

    msg = assert_refused(data_copy, ward_csv(tmp_path / "synthetic_mps_ward.csv", change), "never held")
    assert "JAYWALKING" in msg and "--force" in msg


def test_force_accepts_a_new_category_and_says_so(data_copy, tmp_path, capsys):
    """SYNTHETIC: the real Tower Hamlets ward rows, one row's MinorText renamed to a category the
    warehouse has never held (as when the MPS introduces one). With --force it lands, the report
    names it, and its offences are in the warehouse under that name (nothing dropped)."""

    def change(df):
        df = df.copy()
        df.iloc[0, df.columns.get_loc("MinorText")] = "SYNTHETIC NEW CATEGORY"
        return df

    p = ward_csv(tmp_path / "synthetic_mps_ward.csv", change)
    row = pd.read_csv(p).iloc[0]
    assert cli.main(["ingest", str(p), "--force"]) == 0
    assert "accepted with --force: never held before: categories: " in capsys.readouterr().out
    got = int(
        wh(
            data_copy,
            "SELECT coalesce(sum(count), 0) AS n FROM crime_monthly WHERE level = 'ward' "
            "AND minor_category = 'SYNTHETIC NEW CATEGORY'",
        ).n[0]
    )
    assert got == int(row[[c for c in row.index if c.isdigit() and c != "202403"]].sum())


def test_refuses_an_unknown_borough_name(data_copy, tmp_path):
    """SYNTHETIC: the real MPS borough file with Westminster misspelt."""
    df = fx.mps_borough_frame()
    df["BoroughName"] = df["BoroughName"].replace("Westminster", "Westminister")
    p = tmp_path / "synthetic_mps_borough.csv"
    df.to_csv(p, index=False)
    assert "Westminister" in assert_refused(data_copy, p, "area name")


@pytest.mark.parametrize(
    "content,match",
    [
        (b'{"crimes": []}', "is a dict"),
        (b"[]", "empty police.uk API response"),
        (b'[{"name": "not police data"}]', "not a police.uk API response"),
        (
            b'[{"category": "burglary", "location": null, "month": "2026-01", "persistent_id": "", "id": 1}, 7]',
            "every element",
        ),
    ],
    ids=["object", "empty", "other-json", "mixed"],
)
def test_refuses_json_that_is_not_an_api_response(data_copy, tmp_path, content, match):
    p = tmp_path / "crimes.json"
    p.write_bytes(content)
    assert_refused(data_copy, p, match)


# ----------------------------------------------------------------------------- truncation


def test_a_month_that_shrinks_sharply_needs_force(data_copy, tmp_path, capsys):
    """The first 70% of the real 2026-01 rows, as a truncated download would give them: refused
    (2026-01 would fall from 3,396 to 2,377 rows); with --force it lands."""
    df = fx.street_rows()
    p = tmp_path / "2026-01-metropolitan-street.csv"
    df.head(int(len(df) * 0.7)).to_csv(p, index=False)
    msg = assert_refused(data_copy, p, "truncated download")
    assert "2026-01: 3,396 -> 2,377 (-30%)" in msg
    refused_cli(data_copy, p, capsys, "truncated")
    assert cli.main(["ingest", str(p), "--force"]) == 0
    assert "accepted with --force: 1 month(s) shrink" in capsys.readouterr().out
    assert monthly(data_copy)["2026-01"] == 2377


# ----------------------------------------------------------------------------- size limits (bombs)


def _no_parsing(monkeypatch):
    """Fail the test if any CSV is parsed: the limits must refuse before."""

    def boom(*a, **k):
        raise AssertionError("a file over the limits was parsed")

    monkeypatch.setattr(pd, "read_csv", boom)


def test_refuses_a_zip_bomb_of_rows_before_parsing(data_copy, tmp_path, monkeypatch):
    """A small zip whose street member is the first 40 real 2026-01 rows repeated past the
    1,000,000-row limit (made here, streamed into the zip): refused while inflating, nothing parsed."""
    lines = gzip.decompress(fx.STREET_2026_01.read_bytes()).split(b"\n")
    header, body = lines[0], b"\n".join(lines[1:41]) + b"\n"
    repeats = limits.MAX_ROWS // 40 + 2
    p = tmp_path / "police_uk_archive_2026-01.zip"
    with zipfile.ZipFile(p, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        with zf.open("2026-01/2026-01-metropolitan-street.csv", "w") as fh:
            fh.write(header + b"\n")
            for _ in range(repeats // 100 + 1):
                fh.write(body * 100)
    assert p.stat().st_size < 2 << 20  # under 2 MB on disk, over 180 MB inflated
    _no_parsing(monkeypatch)
    assert_refused(data_copy, p, "more than 1,000,000 rows .* refused before reading it")


def test_refuses_a_gzip_bomb_of_bytes_before_parsing(data_copy, tmp_path, monkeypatch):
    """A .csv.gz of the real rows repeated to 8 MB, with the content limit lowered to 4 MB for
    this test: refused while inflating (the real limit is 256 MB)."""
    monkeypatch.setattr(limits, "MAX_CONTENT_BYTES", 4 << 20)
    block = gzip.decompress(fx.STREET_2026_01.read_bytes())
    header, body = block.split(b"\n", 1)
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9) as gz:
        gz.write(header + b"\n")
        for _ in range((8 << 20) // len(body) + 1):
            gz.write(body)
    p = tmp_path / "2026-01-metropolitan-street.csv.gz"
    p.write_bytes(buf.getvalue())
    _no_parsing(monkeypatch)
    assert_refused(data_copy, p, "inflates to more than 4 MB")


def test_refuses_too_many_zip_members_and_too_large_a_file(data_copy, tmp_path, monkeypatch):
    """Limits lowered for the test: 3 members per zip, 100,000 bytes per offered file."""
    monkeypatch.setattr(limits, "MAX_ZIP_MEMBERS", 3)
    z = tmp_path / "archive.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for i in range(5):
            zf.writestr(f"README-{i}.txt", "x")
    assert_refused(data_copy, z, "has 5 members")
    monkeypatch.setattr(limits, "MAX_INPUT_BYTES", 100_000)
    assert_refused(data_copy, fx.STREET_2026_01, "larger than the 0 MB")


# ----------------------------------------------------------------------------- kill, recover, remove


def _killed_ingest(data: Path, src: Path, where: str) -> subprocess.CompletedProcess:
    """Run ``ingest`` in a child process that SIGKILLs itself at ``where`` (no handler runs)."""
    patch = {
        "during_build": "build.build = die",  # the manifest has been saved
        "before_manifest": "manifest.sha256_file = die",  # the file is in landed/, the manifest not saved
    }[where]
    script = (
        "import os, signal, sys\n"
        "from csp_data.warehouse import build, ingest, manifest\n"
        "def die(*a, **k):\n    os.kill(os.getpid(), signal.SIGKILL)\n"
        f"{patch}\n"
        f"sys.exit(ingest.main([{str(src)!r}]))\n"
    )
    env = {**os.environ, "CSP_DATA_DIR": str(data), "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600
    )


def _revision(tmp_path: Path) -> Path:
    """SYNTHETIC: the real 2026-01 rows plus 5 repeated rows (a +5 revision of 2026-01)."""
    df = fx.street_rows()
    df = pd.concat([df, df.iloc[[10, 500, 1000, 2000, 3000]]], ignore_index=True)
    p = tmp_path / "synthetic_2026-01-metropolitan-street.csv"
    df.to_csv(p, index=False)
    return p


def test_kill_before_the_manifest_is_saved_is_rolled_back(data_copy, tmp_path, capsys):
    src = _revision(tmp_path)
    before = tree(data_copy)
    r = _killed_ingest(data_copy, src, "before_manifest")
    assert r.returncode == -9
    assert (data_copy / "sources" / ingest.JOURNAL).exists() and (data_copy / "sources" / "landed").exists()
    assert cli.main(["sources", "list"]) == 0
    out = capsys.readouterr().out
    assert "recovered: rolled back an interrupted ingest" in out and "removed the work folder" in out
    assert tree(data_copy) == before  # byte for byte as before the killed run


def test_kill_after_the_manifest_is_saved_is_completed_and_remove_retracts_it(data_copy, tmp_path, capsys):
    """Killed during the build: the next run completes the landing (rebuild). Then
    ``sources remove`` retracts the landed file and the data folder is exactly as before."""
    src = _revision(tmp_path)
    before = tree(data_copy)
    r = _killed_ingest(data_copy, src, "during_build")
    assert r.returncode == -9
    assert ingest.main([str(src)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("recovered: completed an interrupted ingest")
    assert any(ln.startswith(f"already ingested: {src}") for ln in out)
    assert not (data_copy / "sources" / ingest.JOURNAL).exists()
    assert monthly(data_copy)["2026-01"] == 3401
    (landed,) = [e for e in manifest.load(data_copy / "sources" / "manifest.json") if e.landed_by == "ingest"]
    # an embedded file is not removed without --force
    assert cli.main(["sources", "remove", "police_uk/th_street_all_crime_2026-01.csv.gz"]) == 2
    assert "embedded source" in capsys.readouterr().err
    assert cli.main(["sources", "list"]) == 0
    assert any(
        ln.startswith(landed.id) and ln.endswith(landed.path) for ln in capsys.readouterr().out.splitlines()
    )
    assert cli.main(["sources", "remove", landed.id]) == 0
    out = capsys.readouterr().out
    assert f"removed {landed.path}" in out and "now from another snapshot 2026-01: 3,401 -> 3,396 (-5)" in out
    assert tree(data_copy) == before
    assert cli.main(["sources", "remove", landed.id]) == 2  # gone
