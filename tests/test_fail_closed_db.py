"""Issue 12, point 4: the app's DuckDB connection is read-only over the warehouse. Internal mode may
open exactly the warehouse's Parquet files and cannot write anything (no COPY TO, ATTACH, CREATE,
INSTALL), not even over a warehouse file; neither mode spills to DuckDB's temp folder, so that
folder is not readable or writable either. Runs on a private copy of the data folder, so a failure
cannot damage the real warehouse.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest

from csp_data.warehouse import db, sql


def _q(path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` and its checksum."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(params=["internal", "public"])
def mode_copy(request, data_copy, monkeypatch, tmp_path):
    monkeypatch.setenv("CSP_MODE", request.param)
    cwd = tmp_path / "cwd"
    (cwd / ".tmp").mkdir(parents=True)  # DuckDB's default temp folder, relative to the working directory
    (cwd / ".tmp" / "planted.csv").write_text("a\n1\n")
    monkeypatch.chdir(cwd)
    db.reset()
    yield request.param, data_copy, cwd
    db.reset()


def test_nothing_spills_and_no_directory_is_allowed(mode_copy):
    mode, data, cwd = mode_copy
    cur = db.connection().cursor()
    dirs, temp, paths = cur.execute(
        "SELECT current_setting('allowed_directories'), current_setting('temp_directory'), "
        "current_setting('allowed_paths')"
    ).fetchone()
    assert dirs == [] and temp == ""
    if mode == "public":
        assert paths == []
    else:
        assert sorted(paths) == sorted(
            str(data / "warehouse" / f"{t}.parquet") for t in db.tables_for("internal")
        )


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM read_csv({tmp}/planted.csv)",
        "SELECT * FROM glob({tmp}/*)",
        "COPY (SELECT 1 AS x) TO {tmp}/written.csv",
    ],
)
def test_the_temp_folder_cannot_be_read_or_written(mode_copy, statement):
    _, _, cwd = mode_copy
    before = _tree(cwd)
    tmp = cwd / ".tmp"
    text = (
        statement.replace("{tmp}/planted.csv", _q(tmp / "planted.csv"))
        .replace("{tmp}/*", _q(tmp / "*"))
        .replace("{tmp}/written.csv", _q(tmp / "written.csv"))
    )
    cur = db.connection().cursor()
    with pytest.raises(duckdb.PermissionException):
        cur.execute(text).fetchall()
    relative = (
        statement.replace("{tmp}/planted.csv", "'.tmp/planted.csv'")
        .replace("{tmp}/*", "'.tmp/*'")
        .replace("{tmp}/written.csv", "'.tmp/written.csv'")
    )
    with pytest.raises(duckdb.PermissionException):
        cur.execute(relative).fetchall()
    assert _tree(cwd) == before


def _writes(data: Path) -> list[str]:
    wh = data / "warehouse"
    return [
        f"COPY (SELECT 1 AS x) TO {_q(data / 'probe.csv')}",
        f"COPY (SELECT 1 AS x) TO {_q(wh / 'probe.parquet')} (FORMAT parquet)",
        # Over a warehouse file itself, without DuckDB's temporary file: the one write allowed_paths allows.
        f"COPY (SELECT 1 AS x) TO {_q(wh / 'wards.parquet')} (FORMAT parquet, USE_TMP_FILE false)",
        f"COPY wards TO {_q(wh / 'crime_monthly.parquet')} (FORMAT parquet, USE_TMP_FILE false)",
        f"ATTACH {_q(data / 'probe.duckdb')} AS probe",
        f"ATTACH {_q(wh / 'probe.duckdb')} AS probe",
        "CREATE TABLE probe AS SELECT 1 AS x",
        "CREATE OR REPLACE VIEW wards AS SELECT 1 AS x",
        "DROP VIEW wards",
        "INSTALL httpfs",
        "LOAD httpfs",
        f"EXPORT DATABASE {_q(data / 'probe_export')}",
        "SELECT 1; COPY (SELECT 1 AS x) TO "
        + _q(wh / "wards.parquet")
        + " (FORMAT parquet, USE_TMP_FILE false)",
        "CALL pragma_version()",
    ]


def test_the_connection_writes_nothing_in_the_data_folder(mode_copy):
    _, data, _ = mode_copy
    before = _tree(data)
    con = db.connection()
    for statement in _writes(data):
        cur = con.cursor()
        try:
            with pytest.raises(duckdb.PermissionException):
                cur.execute(statement).fetchall()
        finally:
            cur.close()
        with pytest.raises(duckdb.PermissionException):
            con.execute(statement)
    assert _tree(data) == before, "a file in the data folder was written"
    # Still there and unchanged: the views read the warehouse as before.
    assert len(sql.run("meta/wards")) == 20


def test_files_outside_the_warehouse_tables_cannot_be_read(mode_copy):
    mode, data, _ = mode_copy
    cur = db.connection().cursor()
    for path in (data / "sources" / "manifest.json", data / "warehouse" / "_build.json"):
        assert path.exists(), path
        with pytest.raises(duckdb.PermissionException):
            cur.execute(f"SELECT * FROM read_text({_q(path)})").fetchall()
    if mode == "internal":  # control: the warehouse tables themselves are readable
        assert (
            cur.execute(
                f"SELECT count(*) FROM read_parquet({_q(data / 'warehouse' / 'wards.parquet')})"
            ).fetchone()[0]
            > 0
        )


def test_the_connection_offers_no_other_way_to_run_sql(mode_copy):
    con = db.connection()
    for name in (
        "sql",
        "query",
        "from_query",
        "executemany",
        "read_csv",
        "read_parquet",
        "install_extension",
        "load_extension",
        "register",
    ):
        assert not hasattr(con, name), name
        assert not hasattr(con.cursor(), name), name
    # Reading works as before, with bound parameters.
    assert con.cursor().execute("SELECT $x + 1", {"x": 1}).fetchone() == (2,)


# --- The settings a caller passes reach the connection ----------------------------------------


def test_a_missing_data_folder_in_cfg_fails_clearly(warehouse):
    from dataclasses import replace

    from csp_data.analysis import scorecard
    from csp_data.config import settings
    from csp_data.plan.measures import get

    cfg = replace(settings(), data_dir=Path("/nonexistent"))
    with pytest.raises(FileNotFoundError, match="warehouse tables missing in /nonexistent/warehouse"):
        scorecard.monthly_series(get("robbery"), cfg=cfg)
    with pytest.raises(FileNotFoundError, match="run: python -m csp_data build"):
        sql.run("meta/wards", cfg=cfg)


def test_a_second_data_folder_gives_its_own_numbers(warehouse, tmp_path):
    """A copy of the warehouse whose borough counts are doubled: the same call with its settings
    reads it, and the environment's own warehouse is read as before (a connection per folder)."""
    import shutil
    from dataclasses import replace

    from csp_data.analysis import scorecard
    from csp_data.config import settings
    from csp_data.plan.measures import get

    own = settings()
    other = replace(own, data_dir=tmp_path / "data")
    shutil.copytree(own.warehouse_dir, other.warehouse_dir)
    crime = other.warehouse_dir / "crime_monthly.parquet"
    with duckdb.connect() as con:
        con.execute(
            f"COPY (SELECT * REPLACE (count * 2 AS count) FROM read_parquet({_q(own.warehouse_dir / crime.name)}))"
            f" TO {_q(crime)} (FORMAT parquet)"
        )
    robbery = get("robbery")
    mine = scorecard.monthly_series(robbery, cfg=own)
    theirs = scorecard.monthly_series(robbery, cfg=other)
    assert len(mine) == len(theirs) > 0 and mine["count"].sum() > 0
    assert list(theirs["count"]) == [2 * c for c in mine["count"]]
    assert scorecard.monthly_series(robbery)["count"].equals(mine["count"])  # the environment's, unchanged
    assert db.connection(other) is not db.connection(own)
    assert db.connection(other) is db.connection(other)  # one per folder, kept
