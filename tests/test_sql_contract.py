"""The contract of every named query in ``queries/``, and the lock-down of the DuckDB connection.

Query files are discovered with a glob at collection time (independently of ``sql.names()``) and
their headers are read here with a small parser of our own, so a file the loader skipped, or a
header the loader misread, fails a test.
"""

from __future__ import annotations

import glob
import json
import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from csp_data.config import QUERIES_DIR, settings
from csp_data.warehouse import db, sql

FILES = sorted(glob.glob(str(QUERIES_DIR / "**" / "*.sql"), recursive=True))
NAMES = [Path(f).relative_to(QUERIES_DIR).with_suffix("").as_posix() for f in FILES]
CHECKS = [n for n in NAMES if n.startswith("checks/")]

# Queries the app runs that may legitimately return no rows on the embedded data, with the reason.
MAY_BE_EMPTY = {
    "meta/quarantine": "no embedded source row fails validation (asserted below: the table is empty)",
}


def header(path: str) -> dict:
    """Our own reading of the leading comment block: description lines and the three keys."""
    out = {"description": [], "params": None, "columns": None, "example": None}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.startswith("--"):
            if line.strip():
                break
            continue
        body = line[2:].strip()
        m = re.match(r"^(params|columns|example)\s*:\s*(.*)$", body)
        if m:
            out[m.group(1)] = m.group(2).strip()
        elif body:
            out["description"].append(body)
    return out


def declared_params(text: str) -> list[str]:
    if text.lower() == "none":
        return []
    return [re.match(r"^\s*([A-Za-z_]\w*)", item).group(1) for item in text.split(",")]


def test_discovery_matches_the_loader():
    assert len(FILES) > 0
    assert len(FILES) == len(sql.names()), "a query file is not seen by csp_data.warehouse.sql.names()"
    assert NAMES == sql.names()
    assert len(CHECKS) >= 1


@pytest.mark.parametrize("name", NAMES)
def test_header_is_complete(name):
    h = header(str(QUERIES_DIR / f"{name}.sql"))
    assert h["description"], f"{name}: no description line"
    assert h["params"] is not None, f"{name}: no '-- params:' line"
    assert h["columns"], f"{name}: no '-- columns:' line"
    assert h["example"] is not None, f"{name}: no '-- example:' line"
    example = json.loads(h["example"])
    params = declared_params(h["params"])
    assert set(example) == set(params), f"{name}: example keys {sorted(example)} != params {sorted(params)}"
    # every declared parameter carries a type, e.g. "borough_code (VARCHAR)"
    if params:
        assert all(re.search(r"\(\s*[A-Z][A-Z0-9_\[\]]*\s*\)", item) for item in h["params"].split(",")), name
    # and the loader read the same thing
    q = sql.load(name)
    assert list(q.params) == params
    assert list(q.columns) == [c.strip() for c in h["columns"].split(",")]
    assert q.example == example


@pytest.mark.parametrize("name", NAMES)
def test_example_returns_exactly_the_declared_columns(name, warehouse):
    h = header(str(QUERIES_DIR / f"{name}.sql"))
    columns = [c.strip() for c in h["columns"].split(",")]
    # run on a raw cursor as well as through sql.run, so the column check is not only sql.run's own
    cur = db.connection().cursor()
    try:
        text = (QUERIES_DIR / f"{name}.sql").read_text(encoding="utf-8")
        example = json.loads(h["example"])
        raw = cur.execute(text, example).df() if example else cur.execute(text).df()
    finally:
        cur.close()
    assert list(raw.columns) == columns, f"{name}: returned {list(raw.columns)}"
    df = sql.run(name, **example)
    assert list(df.columns) == columns
    assert len(df) == len(raw)
    if name.startswith("checks/"):
        assert df.empty, f"data-quality check {name} failed on the real warehouse:\n{df.head(10).to_string()}"
    elif name in MAY_BE_EMPTY:
        pass
    else:
        assert len(df) >= 1, f"{name}: no rows for its example parameters"


def test_quarantine_exemption_is_true(warehouse):
    q = pd.read_parquet(warehouse / "quarantine.parquet")
    assert q.empty, "meta/quarantine is exempt from the >= 1 row rule only while the quarantine is empty"
    assert set(MAY_BE_EMPTY) <= set(NAMES)


@pytest.mark.parametrize("name", CHECKS)
def test_every_check_runs_through_check_specs(name, warehouse):
    specs = {n: params for n, _, params in sql.check_specs(settings().borough_code)}
    assert name in specs
    rows = sql.run(name, **specs[name])
    assert rows.empty, f"data-quality check {name} failed:\n{rows.head(10).to_string()}"


# --------------------------------------------------------------------------- connection lock-down


@pytest.fixture
def cur(warehouse):
    c = db.connection().cursor()
    yield c
    c.close()


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_text('/etc/hostname')",
        "SELECT * FROM glob('/etc/*')",
        "COPY (SELECT 42 AS x) TO '/tmp/csp_lockdown_probe.csv'",
        "ATTACH '/tmp/csp_lockdown_probe.duckdb' AS probe",
    ],
)
def test_connection_cannot_touch_files_outside_the_data_directory(cur, statement):
    with pytest.raises(duckdb.Error) as exc:
        cur.execute(statement).fetchall()
    assert isinstance(exc.value, duckdb.PermissionException), exc.value
    assert not Path("/tmp/csp_lockdown_probe.csv").exists()


def test_dot_dot_does_not_escape_the_data_directory(cur):
    data_dir = settings().data_dir
    escape = f"{data_dir}/sources/../../csp_data/warehouse/db.py"
    assert Path(escape).exists()  # the file is there, the connection must still refuse it
    with pytest.raises(duckdb.PermissionException):
        cur.execute(f"SELECT * FROM read_text('{escape}')").fetchall()


def test_only_the_warehouse_files_are_readable(cur):
    """The positive control: the lock-down is specific, not a broken connection. The connection
    reads the warehouse's Parquet files and nothing else, not even the rest of the data folder
    (issue 12: it is read-only over the warehouse; tests/test_fail_closed_db.py)."""
    wards = settings().warehouse_dir / "wards.parquet"
    n = cur.execute("SELECT count(*) FROM read_parquet($p)", {"p": str(wards)}).fetchone()[0]
    assert n == len(pd.read_parquet(wards))
    csv = settings().sources_dir / "census" / "th_census2021_ts007a_age_lsoa21.csv"
    assert csv.exists()
    with pytest.raises(duckdb.PermissionException):
        cur.execute("SELECT count(*) FROM read_csv($p)", {"p": str(csv)}).fetchone()


def test_symlink_inside_the_data_directory_cannot_point_outside(data_copy):
    link = data_copy / "synthetic_link.txt"
    link.symlink_to("/etc/hostname")
    plain = data_copy / "synthetic_plain.txt"
    plain.write_text("synthetic\n")
    c = db.connection().cursor()
    try:
        wards = data_copy / "warehouse" / "wards.parquet"  # control: the connection itself works
        assert c.execute("SELECT count(*) FROM read_parquet($p)", {"p": str(wards)}).fetchone()[0] > 0
        with pytest.raises(duckdb.PermissionException):
            c.execute("SELECT content FROM read_text($p)", {"p": str(link)}).fetchall()
    finally:
        c.close()


def test_extension_autoinstall_and_autoload_are_off(cur):
    row = cur.execute(
        "SELECT current_setting('autoinstall_known_extensions'), current_setting('autoload_known_extensions'),"
        " current_setting('enable_external_access'), current_setting('lock_configuration')"
    ).fetchone()
    assert row == (False, False, False, True)


@pytest.mark.parametrize(
    "statement",
    [
        "SET enable_external_access = true",
        "SET autoinstall_known_extensions = true",
        "SET autoload_known_extensions = true",
        "SET allowed_directories = ['/']",
        "SET lock_configuration = false",
    ],
)
def test_configuration_is_locked(cur, statement):
    with pytest.raises(duckdb.Error, match="locked"):
        cur.execute(statement)


def test_extensions_cannot_be_installed_or_loaded(cur):
    with pytest.raises(duckdb.Error):
        cur.execute("INSTALL httpfs")
    with pytest.raises(duckdb.Error):
        cur.execute("LOAD httpfs")
