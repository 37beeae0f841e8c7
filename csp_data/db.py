"""One DuckDB connection per process, views over the warehouse Parquet, a cursor per query.

DuckDB 2.0: a connection shared by two threads raises ResourceInUseException, so every query
takes its own ``cursor()``. Views (not TEMP views, which cursors cannot see) are created once.
The connection is locked down: no extension auto-install/auto-load, file access only inside the
data directory, and the configuration locked so a query cannot undo it.
"""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb

from .build import TABLES
from .config import Settings, settings as get_settings

_lock = threading.Lock()
_con: duckdb.DuckDBPyConnection | None = None
_con_dir: Path | None = None


def _quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# What a public deployment may read: aggregates at ward level or coarser. Tables not listed here
# (street-level crimes, stop-and-search records, outcomes, LSOA rows, revisions, quarantine) get
# no view, and DuckDB is allowed to open only these files, so no query can reach the rest.
PUBLIC_TABLES: dict[str, str | None] = {
    "wards": None,
    "boroughs": None,
    "crime_monthly": "level IN ('borough', 'ward')",
    "dashboard_monthly": None,
    "business_crime_monthly": None,
    "coverage": None,
    "sources": None,
}


def tables_for(mode: str) -> dict[str, str | None]:
    """Warehouse tables (and a row filter) a process in ``mode`` may read."""
    return dict(PUBLIC_TABLES) if mode == "public" else {t: None for t in TABLES}


def connect(cfg: Settings | None = None) -> duckdb.DuckDBPyConnection:
    """A fresh, locked-down in-memory connection with one view per readable warehouse table."""
    cfg = cfg or get_settings()
    wh = cfg.warehouse_dir
    readable = tables_for(cfg.mode)
    missing = [t for t in readable if not (wh / f"{t}.parquet").exists()]
    if missing:
        raise FileNotFoundError(f"warehouse tables missing in {wh}: {', '.join(missing)} (run: python -m csp_data build)")
    con = duckdb.connect(config={
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "threads": 2,
    })
    for table, where in readable.items():
        # DDL cannot take bound parameters: the path is ours (not user input) and quoted as a literal.
        path = _quote_literal(str(wh / (table + ".parquet")))
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet({path})" + (f" WHERE {where}" if where else ""))
    if cfg.mode == "public":
        files = ", ".join(_quote_literal(str(wh / f"{t}.parquet")) for t in readable)
        con.execute(f"SET allowed_paths=[{files}]")
    else:
        con.execute(f"SET allowed_directories=[{_quote_literal(str(cfg.data_dir) + '/')}]")
    con.execute("SET enable_external_access=false")
    con.execute("SET lock_configuration=true")
    return con


def connection(cfg: Settings | None = None) -> duckdb.DuckDBPyConnection:
    """The process-wide base connection (re-made if CSP_DATA_DIR changed). Use ``.cursor()``."""
    global _con, _con_dir
    cfg = cfg or get_settings()
    with _lock:
        if _con is None or _con_dir != cfg.data_dir:
            if _con is not None:
                _con.close()
            _con, _con_dir = connect(cfg), cfg.data_dir
        return _con


def reset() -> None:
    """Close the process connection (after a rebuild, and between tests)."""
    global _con, _con_dir
    with _lock:
        if _con is not None:
            _con.close()
        _con, _con_dir = None, None
