"""One DuckDB connection per process, views over the warehouse Parquet, a cursor per query.

DuckDB 2.0: a connection shared by two threads raises ResourceInUseException, so every query
takes its own ``cursor()``. Views (not TEMP views, which cursors cannot see) are created once.
The connection is locked down and read-only over the warehouse:

* no extension auto-install/auto-load;
* internal mode: DuckDB may open exactly the warehouse's Parquet files (``allowed_paths``), nothing
  else, not even the rest of the data folder; public mode: no file at all (the aggregate tables are
  loaded into memory first);
* no spilling to disk (``temp_directory`` is empty), so DuckDB's own temp folder is not an allowed
  directory either;
* the configuration is locked, so a query cannot undo any of it;
* :class:`ReadOnlyConnection` runs only reading statements (``SELECT``, ``EXPLAIN``; ``SET`` reaches
  DuckDB, which refuses it because the configuration is locked): ``COPY``, ``ATTACH``, ``INSTALL``,
  ``CREATE``... are refused before DuckDB sees them. That covers the one write ``allowed_paths``
  would still allow: ``COPY ... TO`` one of the warehouse files themselves.
"""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb
from duckdb import StatementType

from csp_data.config import Settings
from csp_data.config import settings as get_settings
from csp_data.warehouse.build import TABLES

_lock = threading.Lock()
# One connection per (data folder, mode), with the warehouse stamp it was opened on; the least
# recently used is closed beyond MAX_CONNECTIONS (tests open many data folders in one process).
_cons: dict[tuple[Path, str], tuple[int, ReadOnlyConnection]] = {}
MAX_CONNECTIONS = 4


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
    "borough_features": None,
    "borough_population": None,
}


def tables_for(mode: str) -> dict[str, str | None]:
    """Warehouse tables (and a row filter) a process in ``mode`` may read."""
    return dict(PUBLIC_TABLES) if mode == "public" else {t: None for t in TABLES}


# Macros every connection holds, for the named queries (queries/<area>/*.sql) to share one
# definition. in_categories: a row of a measure given as MPS major and/or minor categories
# (``$majors``/``$minors`` lists; either may be empty).
MACROS = (
    "CREATE MACRO in_categories(major, minor, majors, minors) AS "
    "(list_contains(majors, major) OR list_contains(minors, minor))",
)


# Statements the app's connection runs. SET is passed on so DuckDB itself refuses it (locked).
READ_STATEMENTS = frozenset({StatementType.SELECT, StatementType.EXPLAIN, StatementType.SET})
_RESULT_METHODS = frozenset(
    {
        "fetchone",
        "fetchall",
        "fetchmany",
        "df",
        "fetchdf",
        "fetch_df",
        "fetchnumpy",
        "arrow",
        "fetch_arrow_table",
        "pl",
        "description",
        "rowcount",
    }
)


def check_read_only(cur, query: str) -> None:
    """Raise ``duckdb.PermissionException`` unless every statement in ``query`` only reads."""
    for statement in cur.extract_statements(query):
        if statement.type not in READ_STATEMENTS:
            kind = str(statement.type).rsplit(".", 1)[-1]
            raise duckdb.PermissionException(
                f"Permission Error: the dashboard's connection is read-only; {kind} statements are refused"
            )


class ReadOnlyCursor:
    """A DuckDB cursor that runs reading statements only, and gives their results."""

    def __init__(self, cur: duckdb.DuckDBPyConnection):
        self._cur = cur

    def execute(self, query: str, parameters=None) -> ReadOnlyCursor:
        check_read_only(self._cur, query)
        if parameters is None:
            self._cur.execute(query)
        else:
            self._cur.execute(query, parameters)
        return self

    def close(self) -> None:
        self._cur.close()

    def __enter__(self) -> ReadOnlyCursor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __getattr__(self, name: str):
        if name in _RESULT_METHODS:
            return getattr(self._cur, name)
        raise AttributeError(f"{name!r} is not available on the dashboard's read-only connection")


class ReadOnlyConnection:
    """The process connection as the app sees it: ``cursor()`` (one per query, see the module
    docstring) and ``execute`` of reading statements; nothing else of DuckDB's API."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self._con = con

    def cursor(self) -> ReadOnlyCursor:
        return ReadOnlyCursor(self._con.cursor())

    def execute(self, query: str, parameters=None) -> ReadOnlyCursor:
        return self.cursor().execute(query, parameters)

    def close(self) -> None:
        self._con.close()


def connect(cfg: Settings | None = None) -> ReadOnlyConnection:
    """A fresh, locked-down, read-only in-memory connection with one view per readable warehouse
    table (public mode: one in-memory table each)."""
    cfg = cfg or get_settings()
    wh = cfg.warehouse_dir
    readable = tables_for(cfg.mode)
    missing = [t for t in readable if not (wh / f"{t}.parquet").exists()]
    if missing:
        raise FileNotFoundError(
            f"warehouse tables missing in {wh}: {', '.join(missing)} (run: python -m csp_data build)"
        )
    con = duckdb.connect(
        config={
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "threads": 2,
        }
    )
    for table, where in readable.items():
        # DDL cannot take bound parameters: the path is ours (not user input) and quoted as a literal.
        path = _quote_literal(str(wh / (table + ".parquet")))
        select = f"SELECT * FROM read_parquet({path})" + (f" WHERE {where}" if where else "")  # noqa: S608 (fixed names)
        if cfg.mode == "public":
            # Loaded into memory once, filtered: the public process then needs no file access at
            # all, so no query (not even read_parquet on a warehouse file) can reach other rows.
            con.execute(f"CREATE TABLE {table} AS {select}")
        else:
            con.execute(f"CREATE VIEW {table} AS {select}")
    # Shared SQL the named queries may call (created before the connection is locked down).
    for macro in MACROS:
        con.execute(macro)
    # No spilling: DuckDB would otherwise add its temp folder (<cwd>/.tmp/) to the allowed directories.
    con.execute("SET temp_directory=''")
    if cfg.mode == "public":
        con.execute("SET allowed_paths=[]")
    else:
        files = ", ".join(_quote_literal(str(wh / (t + ".parquet"))) for t in readable)
        con.execute(f"SET allowed_paths=[{files}]")
    con.execute("SET allowed_directories=[]")
    con.execute("SET enable_external_access=false")
    con.execute("SET lock_configuration=true")
    return ReadOnlyConnection(con)


def _stamp(cfg: Settings) -> int:
    """The warehouse stamp's mtime: a rebuild (by this or another process) opens a new connection."""
    from csp_data.warehouse.build import STAMP

    p = cfg.warehouse_dir / STAMP
    return p.stat().st_mtime_ns if p.exists() else 0


def connection(cfg: Settings | None = None) -> ReadOnlyConnection:
    """The process-wide base connection for ``cfg``'s data folder and mode (the environment's when
    not given), re-made when that warehouse is rebuilt (its stamp changes). Use ``.cursor()``."""
    cfg = cfg or get_settings()
    key = (cfg.data_dir, cfg.mode)
    with _lock:
        stamp = _stamp(cfg)
        held = _cons.pop(key, None)
        if held is None or held[0] != stamp:
            if held is not None:
                held[1].close()
            held = (stamp, connect(cfg))
        _cons[key] = held  # (re)inserted last: the most recently used
        while len(_cons) > MAX_CONNECTIONS:
            _cons.pop(next(iter(_cons)))[1].close()
        return held[1]


def reset() -> None:
    """Close every process connection (after a rebuild, and between tests)."""
    with _lock:
        for _stamp_ns, con in _cons.values():
            con.close()
        _cons.clear()
