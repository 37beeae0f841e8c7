"""One DuckDB connection per process, views over the warehouse Parquet, a cursor per query.

DuckDB 2.0: a connection shared by two threads raises ResourceInUseException, so every query
takes its own ``cursor()``. Views (not TEMP views, which cursors cannot see) are created once.
The connection is locked down: no extension auto-install/auto-load, file access only inside the
data directory, and the configuration locked so a query cannot undo it.
"""

from __future__ import annotations

import threading

import duckdb

from .build import TABLES
from .config import Settings, settings as get_settings

_lock = threading.Lock()
_con: duckdb.DuckDBPyConnection | None = None
_con_dir: tuple | None = None


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
        select = f"SELECT * FROM read_parquet({path})" + (f" WHERE {where}" if where else "")
        if cfg.mode == "public":
            # Loaded into memory once, filtered: the public process then needs no file access at
            # all, so no query (not even read_parquet on a warehouse file) can reach other rows.
            con.execute(f"CREATE TABLE {table} AS {select}")
        else:
            con.execute(f"CREATE VIEW {table} AS {select}")
    if cfg.mode == "public":
        con.execute("SET allowed_paths=[]")
        con.execute("SET allowed_directories=[]")
    else:
        con.execute(f"SET allowed_directories=[{_quote_literal(str(cfg.data_dir) + '/')}]")
    con.execute("SET enable_external_access=false")
    con.execute("SET lock_configuration=true")
    return con


def _stamp(cfg: Settings) -> int:
    """The warehouse stamp's mtime: a rebuild (by this or another process) opens a new connection."""
    from .build import STAMP

    p = cfg.warehouse_dir / STAMP
    return p.stat().st_mtime_ns if p.exists() else 0


def connection(cfg: Settings | None = None) -> duckdb.DuckDBPyConnection:
    """The process-wide base connection, re-made when the data folder, the mode or the warehouse
    (its stamp) changes. Use ``.cursor()``."""
    global _con, _con_dir
    cfg = cfg or get_settings()
    with _lock:
        key = (cfg.data_dir, cfg.mode, _stamp(cfg))
        if _con is None or _con_dir != key:
            if _con is not None:
                _con.close()
            _con, _con_dir = connect(cfg), key
        return _con


def reset() -> None:
    """Close the process connection (after a rebuild, and between tests)."""
    global _con, _con_dir
    with _lock:
        if _con is not None:
            _con.close()
        _con, _con_dir = None, None
