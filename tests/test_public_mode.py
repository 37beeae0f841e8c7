"""The public deployment (``CSP_MODE=public``) can reach published aggregates only.

What is restricted: the warehouse tables not in ``csp_data.warehouse.db.PUBLIC_TABLES`` (street-level
crimes, stop-and-search records, outcomes, LSOA lookups, revisions, quarantine), the LSOA rows of
``crime_monthly``, and the raw files under ``data/sources/police_uk/`` and ``data/quarantine/``.

Two layers are checked, because no single technique sees every read:

* DuckDB (section 1, 2): the public connection has views only for the public tables, may open only
  their Parquet files (``allowed_paths``), and its configuration is locked. DuckDB opens files in
  C++, so its reads are invisible to Python audit hooks; these tests are what cover them.
* Python (section 3): an audit hook records every ``open`` made by Python code (page scripts, SQL
  files, the manifest, the plan...) while AppTest walks every public page; no restricted file may
  be among them. pyarrow/DuckDB C++ reads do not raise audit events either.

Section 4 checks that the public process never builds (building reads restricted sources), and
section 5 that the internal pages are neither reachable nor advertised.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import sys
import threading
from pathlib import Path

import duckdb
import pytest
import streamlit as st
from conftest import shown
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block

from csp_data.config import QUERIES_DIR, REPO_ROOT, settings
from csp_data.config.pages import PAGES, pages_for
from csp_data.warehouse import build, db, sql

APP = REPO_ROOT / "app.py"
TIMEOUT = 60
WARD = "E05009333"

RESTRICTED = tuple(t for t in build.TABLES if t not in db.PUBLIC_TABLES)
RESTRICTED_QUERIES_EXPECTED = {  # known to read restricted tables; new queries may join them
    "checks/points_inside_without_codes",
    "checks/population_total",
    "checks/unknown_areas",
    "meta/data_span",
    "meta/quarantine",
    "meta/revisions",
}


def test_restricted_tables_are_the_sensitive_ones():
    """Pin the split, so a new table is a deliberate decision, not a silent exposure."""
    assert set(RESTRICTED) == {
        "street_crime",
        "stop_search",
        "stop_search_london",  # borough-level counts, but the stop-and-search page is staff-only
        "street_outcomes",
        "quarantine",
        "crime_revisions",
        "lsoas",
    }
    assert set(db.PUBLIC_TABLES) | set(RESTRICTED) == set(build.TABLES)
    assert set(db.tables_for("public")) == set(db.PUBLIC_TABLES)
    assert set(db.tables_for("internal")) == set(build.TABLES)
    assert db.PUBLIC_TABLES["crime_monthly"] == "level IN ('borough', 'ward')"


# ---------------------------------------------------------------- helpers


@pytest.fixture
def public(warehouse, monkeypatch):
    """The real warehouse under CSP_MODE=public, with a fresh process connection."""
    monkeypatch.setenv("CSP_MODE", "public")
    db.reset()
    yield settings()
    db.reset()


@pytest.fixture
def internal(warehouse, monkeypatch):
    monkeypatch.setenv("CSP_MODE", "internal")
    db.reset()
    yield settings()
    db.reset()


def _q(path: Path | str) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _count(con: duckdb.DuckDBPyConnection, text: str) -> int:
    cur = con.cursor()
    try:
        return cur.execute(text).fetchone()[0]
    finally:
        cur.close()


def _tables_read(name: str) -> set[str]:
    """Tables a named query reads: identifiers after FROM/JOIN, comments and strings blanked.
    (A bare word scan would also match column aliases such as ``AS lsoas`` in meta/level_totals.)"""
    body = sql._strip_comments_and_strings(sql.load(name).text)
    return {m.lower() for m in re.findall(r"\b(?:FROM|JOIN)\s+([A-Za-z_]\w*)", body, re.IGNORECASE)}


def restricted_queries() -> set[str]:
    return {n for n in sql.names() if _tables_read(n) & set(RESTRICTED)}


# ---------------------------------------------------------------- (1) the DuckDB connection


def test_public_connection_has_every_public_table(public):
    con = db.connection()
    for table in db.PUBLIC_TABLES:
        assert _count(con, f"SELECT count(*) FROM {table}") > 0, table


@pytest.mark.parametrize("table", RESTRICTED)
def test_public_connection_has_no_view_of_restricted_tables(public, table):
    con = db.connection()
    with pytest.raises(duckdb.CatalogException, match=f"{table} does not exist"):
        _count(con, f"SELECT count(*) FROM {table}")


@pytest.mark.parametrize("table", RESTRICTED)
def test_public_connection_cannot_open_restricted_parquet(public, table):
    con = db.connection()
    absolute = public.warehouse_dir / f"{table}.parquet"
    assert absolute.exists(), "the file exists: the refusal below is a permission, not a missing file"
    relative = os.path.relpath(absolute, Path.cwd())
    for path in (absolute, relative, f"data/warehouse/{table}.parquet"):
        with pytest.raises(duckdb.PermissionException):
            _count(con, f"SELECT count(*) FROM read_parquet({_q(path)})")
    # A glob over the warehouse (which would include the file) is refused too.
    with pytest.raises(duckdb.PermissionException):
        _count(con, f"SELECT count(*) FROM read_parquet({_q(public.warehouse_dir / '*.parquet')})")


def _police_uk_files() -> list[Path]:
    files = sorted(p for p in (settings().sources_dir / "police_uk").iterdir() if p.is_file())
    assert files, "data/sources/police_uk holds the restricted raw files"
    return files


@pytest.mark.parametrize("name", [p.name for p in _police_uk_files()])
def test_public_connection_cannot_read_raw_police_uk_files(public, name):
    con = db.connection()
    path = public.sources_dir / "police_uk" / name
    for p in (path, os.path.relpath(path, Path.cwd())):
        with pytest.raises(duckdb.PermissionException):
            _count(con, f"SELECT count(*) FROM read_csv({_q(p)})")
        with pytest.raises(duckdb.PermissionException):
            _count(con, f"SELECT count(*) FROM read_text({_q(p)})")


def test_public_crime_monthly_has_no_lsoa_rows(public, monkeypatch):
    con = db.connection()
    assert _count(con, "SELECT count(*) FROM crime_monthly WHERE level = 'lsoa'") == 0
    assert _count(con, "SELECT count(*) FROM crime_monthly WHERE level NOT IN ('borough', 'ward')") == 0
    assert _count(con, "SELECT count(*) FROM crime_monthly WHERE level = 'ward'") > 0
    # Positive control: the same query on an internal connection sees LSOA rows.
    monkeypatch.setenv("CSP_MODE", "internal")
    db.reset()
    assert _count(db.connection(), "SELECT count(*) FROM crime_monthly WHERE level = 'lsoa'") > 0


def test_public_connection_cannot_bypass_the_crime_monthly_filter(public):
    con = db.connection()
    path = public.warehouse_dir / "crime_monthly.parquet"
    try:
        n = _count(con, f"SELECT count(*) FROM read_parquet({_q(path)}) WHERE level = 'lsoa'")
    except duckdb.PermissionException:
        return
    assert n == 0, f"{n} LSOA rows readable straight from the file"


@pytest.mark.parametrize(
    "statement",
    [
        "SET enable_external_access = true",
        "SET allowed_paths = ['/']",
        "SET allowed_directories = ['/']",
        "SET lock_configuration = false",
        "SET autoload_known_extensions = true",
        "RESET allowed_paths",
    ],
)
def test_public_connection_configuration_is_locked(public, statement):
    con = db.connection()
    cur = con.cursor()
    try:
        with pytest.raises(duckdb.Error, match="configuration has been locked"):
            cur.execute(statement)
    finally:
        cur.close()
    # And the lock held: the restricted file is still refused afterwards.
    with pytest.raises(duckdb.PermissionException):
        _count(con, f"SELECT count(*) FROM read_parquet({_q(public.warehouse_dir / 'street_crime.parquet')})")


def test_public_connection_cannot_write_or_load_extensions(public, tmp_path):
    con = db.connection()
    cur = con.cursor()
    try:
        for stmt in (
            f"COPY (SELECT 1) TO {_q(tmp_path / 'x.csv')}",
            "INSTALL httpfs",
            "LOAD httpfs",
            f"SELECT * FROM glob({_q(public.data_dir / '**')})",
        ):
            with pytest.raises(duckdb.PermissionException):
                cur.execute(stmt)
    finally:
        cur.close()
    assert not (tmp_path / "x.csv").exists()


def test_internal_connection_reads_restricted_tables(internal):
    """Control for the tests above: the restrictions are the mode's, not a broken warehouse."""
    con = db.connection()
    for table in RESTRICTED:
        _count(con, f"SELECT count(*) FROM {table}")
    assert (
        _count(
            con, f"SELECT count(*) FROM read_parquet({_q(internal.warehouse_dir / 'street_crime.parquet')})"
        )
        > 0
    )


# ---------------------------------------------------------------- (2) named queries in public mode


def test_restricted_query_scan_finds_the_expected_queries():
    found = restricted_queries()
    assert RESTRICTED_QUERIES_EXPECTED <= found, RESTRICTED_QUERIES_EXPECTED - found
    assert "meta/data_span_public" not in found and "meta/wards" not in found
    # The scan is not fooled by column aliases named like tables.
    assert "lsoas" not in _tables_read("meta/level_totals")
    assert "lsoas" not in _tables_read("checks/level_ordering")
    assert "lsoas" in _tables_read("checks/population_total")


@pytest.mark.parametrize("name", sql.names())
def test_named_query_in_public_mode(public, name):
    q = sql.load(name)
    touched = _tables_read(name) & set(RESTRICTED)
    if not touched:
        df = sql.run(name, **q.example)
        assert tuple(df.columns) == q.columns
        return
    with pytest.raises(sql.QueryError) as info:
        sql.run(name, **q.example)
    msg = str(info.value)
    assert msg.startswith(f"{name}: the query failed"), msg
    assert "CatalogException" in msg and any(f"Table with name {t} does not exist" in msg for t in touched), (
        msg
    )
    assert "Traceback" not in msg


def _module_file(mod: str) -> Path | None:
    parts = mod.split(".")
    if parts[0] != "csp_data":
        return None
    base = REPO_ROOT.joinpath(*parts)
    for cand in (base.with_suffix(".py"), base / "__init__.py"):
        if cand.is_file():
            return cand
    return None


def _imports(path: Path) -> set[Path]:
    """csp_data modules a file imports (anywhere in it, including inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    pkg = ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts[:-1])
    out: set[Path] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            names = [mod] + [f"{mod}.{a.name}" for a in node.names]
        for n in names:
            f = _module_file(n)
            if f:
                out.add(f)
    return out


def public_code_files() -> set[Path]:
    """app.py, the public page scripts and every csp_data module they reach by import."""
    todo = [APP] + [REPO_ROOT / p.script for p in pages_for("public")]
    seen: set[Path] = set()
    while todo:
        f = todo.pop()
        if f in seen:
            continue
        seen.add(f)
        todo.extend(_imports(f) - seen)
    return seen


def test_public_code_names_no_restricted_query():
    """Statically: no query touching a restricted table is named in code a public page can run,
    except the frame's staff branch (``meta/data_span``), which the AppTest tour below shows is
    not taken in public mode (where every viewer is public), and which csp_data.config.access refuses to
    a public viewer in any mode."""
    files = public_code_files()
    assert (
        REPO_ROOT / "csp_data/analysis/ward_profile.py" in files
        and REPO_ROOT / "csp_data/ui/frame.py" in files
    )
    names = set(sql.names())
    used: dict[str, set[str]] = {}
    for f in files:
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in names:
                used.setdefault(node.value, set()).add(str(f.relative_to(REPO_ROOT)))
    assert "meta/data_span_public" in used
    offending = {n: sorted(fs) for n, fs in used.items() if n in restricted_queries()}
    assert offending == {"meta/data_span": ["csp_data/ui/frame.py"]}, offending
    frame_src = (REPO_ROOT / "csp_data/ui/frame.py").read_text(encoding="utf-8")
    assert '"meta/data_span" if access.can("analyst") else "meta/data_span_public"' in frame_src
    from csp_data.config.access import query_role

    assert query_role("meta/data_span") == "analyst" and query_role("meta/data_span_public") == "public"


# ---------------------------------------------------------------- (3) the AppTest tour, audited

_AUDIT = {"on": False, "opens": [], "listings": []}
_AUDIT_LOCK = threading.Lock()
_AUDIT_INSTALLED = False


def _audit_hook(event: str, args: tuple) -> None:
    if not _AUDIT["on"]:
        return
    if event == "open":
        target = args[0] if args else None
        key = "opens"
    elif event in ("os.listdir", "os.scandir", "glob.glob"):
        target = args[0] if args else None
        key = "listings"
    else:
        return
    if isinstance(target, (str, bytes, os.PathLike)):
        try:
            path = os.path.abspath(os.fsdecode(target))
        except Exception:
            return
        with _AUDIT_LOCK:
            _AUDIT[key].append(path)


def _install_audit_hook() -> None:
    """Audit hooks cannot be removed: install once per process; it records only while 'on'."""
    global _AUDIT_INSTALLED
    if not _AUDIT_INSTALLED:
        sys.addaudithook(_audit_hook)
        _AUDIT_INSTALLED = True


def _texts(node) -> list[str]:
    """Every string an element shows (value, label, body), walking blocks recursively."""
    out: list[str] = []
    if isinstance(node, Block):
        for child in node.children.values():
            out.extend(_texts(child))
        return out
    for attr in ("value", "label", "body", "placeholder"):
        try:
            v = getattr(node, attr, None)
        except Exception:
            continue
        if isinstance(v, str):
            out.append(v)
    return out


@pytest.fixture(scope="module")
def tour(warehouse):
    """Walk every public page (and the ward page for one ward) under CSP_MODE=public, recording
    Python file opens, the named queries run and what st.navigation was given."""
    _install_audit_hook()
    calls: list[str] = []
    navs: list[dict] = []
    pages: dict[str, dict] = {}
    real_run, real_nav = sql.run, st.navigation

    def recording_run(name, **params):
        calls.append(name)
        return real_run(name, **params)

    def recording_nav(pages_arg, *a, **kw):
        # a flat list is one unnamed section (app.py passes one when there is only one section)
        sections = pages_arg.items() if isinstance(pages_arg, dict) else [("", pages_arg)]
        navs.append({sec: [p.title for p in ps] for sec, ps in sections})
        return real_nav(pages_arg, *a, **kw)

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CSP_MODE", "public")
        mp.setattr(sql, "run", recording_run)
        mp.setattr(st, "navigation", recording_nav)
        db.reset()
        st.cache_data.clear()
        st.cache_resource.clear()
        sql._load.cache_clear()  # so the SQL files are opened (and seen) again
        with _AUDIT_LOCK:
            _AUDIT["opens"].clear()
            _AUDIT["listings"].clear()
        _AUDIT["on"] = True
        try:
            at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
            at.run()
            for spec in pages_for("public"):
                if spec.script == "pages/public/ward_profile.py":
                    at.query_params["ward"] = WARD
                if not spec.default:
                    at.switch_page(spec.script)
                at.run()
                pages[spec.script] = {
                    "exceptions": [e.value for e in at.exception],
                    "errors": [e.value for e in at.error],
                    "titles": [t.value for t in at.main.title],
                    "headers": [h.value for h in at.main.header],
                    "sidebar": _texts(at.sidebar),
                    "main": _texts(at.main),
                }
                at.query_params.pop("ward", None)
        finally:
            _AUDIT["on"] = False
            db.reset()
            st.cache_data.clear()
            st.cache_resource.clear()
    with _AUDIT_LOCK:
        opens, listings = list(_AUDIT["opens"]), list(_AUDIT["listings"])
    return {"opens": opens, "listings": listings, "queries": calls, "navs": navs, "pages": pages}


def test_tour_rendered_every_public_page_cleanly(tour):
    assert set(tour["pages"]) == {p.script for p in pages_for("public")}
    for script, page in tour["pages"].items():
        assert not page["exceptions"], (script, page["exceptions"])
        assert not page["errors"], (script, page["errors"])
        assert len(page["titles"]) == 1, (script, page["titles"])
    assert len({p["titles"][0] for p in tour["pages"].values()}) == len(tour["pages"]), (
        "each page really switched"
    )
    ward_page = tour["pages"]["pages/public/ward_profile.py"]
    assert "Spitalfields & Banglatown" in [shown(h) for h in ward_page["headers"]], ward_page["headers"]


def test_tour_ran_only_public_safe_queries(tour):
    ran = set(tour["queries"])
    assert "meta/data_span_public" in ran, "the frame's sidebar ran the public span query"
    assert "meta/data_span" not in ran
    assert not ran & restricted_queries(), ran & restricted_queries()
    assert {"meta/wards", "crime/major_totals", "crime/ward_major_monthly"} <= ran, "the ward profile ran"


def _restricted_paths(cfg) -> tuple[list[Path], list[Path]]:
    dirs = [
        cfg.sources_dir / "police_uk",
        cfg.quarantine_dir,
        REPO_ROOT / "data" / "sources" / "police_uk",
        REPO_ROOT / "data" / "quarantine",
    ]
    files = [cfg.warehouse_dir / f"{t}.parquet" for t in RESTRICTED]
    files += [REPO_ROOT / "data" / "warehouse" / f"{t}.parquet" for t in RESTRICTED]
    return [d.resolve() for d in dirs], [f.resolve() for f in files]


def _is_restricted(path: str, dirs: list[Path], files: list[Path]) -> bool:
    p = Path(os.path.realpath(path))
    return p in files or any(p == d or d in p.parents for d in dirs)


def test_tour_opened_no_restricted_file(tour):
    """Python-level reads only: DuckDB reads its Parquet in C++ without audit events, which the
    allowed_paths tests in section 1 cover."""
    dirs, files = _restricted_paths(settings())
    assert not [p for p in tour["opens"] if _is_restricted(p, dirs, files)]
    assert not [p for p in tour["listings"] if _is_restricted(p, dirs, files)], (
        "no restricted folder was even listed"
    )


def test_tour_audit_hook_sees_opens(tour):
    """Positive control: the hook did record the files the pages read through Python."""
    opens = {os.path.realpath(p) for p in tour["opens"]}
    assert str((QUERIES_DIR / "meta" / "data_span_public.sql").resolve()) in opens
    assert str((QUERIES_DIR / "meta" / "wards.sql").resolve()) in opens
    assert str(APP.resolve()) in opens
    assert str((REPO_ROOT / "pages/public/ward_profile.py").resolve()) in opens
    assert str(settings().manifest_path.resolve()) in opens  # the staleness check reads the manifest
    # And the restriction check itself can match: a known restricted path is recognised.
    dirs, files = _restricted_paths(settings())
    assert _is_restricted(str(settings().sources_dir / "police_uk" / "x.csv"), dirs, files)
    assert _is_restricted(str(settings().warehouse_dir / "street_crime.parquet"), dirs, files)
    assert not _is_restricted(str(settings().warehouse_dir / "crime_monthly.parquet"), dirs, files)


def test_audit_hook_records_a_restricted_open():
    """Control for the tour: a Python open of a restricted file while recording is caught."""
    _install_audit_hook()
    target = _police_uk_files()[0]
    with _AUDIT_LOCK:
        mark = len(_AUDIT["opens"])
    _AUDIT["on"] = True
    try:
        with open(target, "rb") as fh:
            fh.read(1)
    finally:
        _AUDIT["on"] = False
    with _AUDIT_LOCK:
        seen = _AUDIT["opens"][mark:]
    dirs, files = _restricted_paths(settings())
    assert [p for p in seen if _is_restricted(p, dirs, files)] == [str(target.resolve())]


# ---------------------------------------------------------------- (4) the public process never builds


def _assert_updating_notice(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "being updated" in errors[0], errors
    assert "Traceback" not in errors[0] and "warehouse" not in errors[0].lower()
    assert not at.main.title, "no page is drawn from a missing or stale warehouse"
    assert not at.get("progress"), "no build was started"


def test_public_mode_does_not_build_a_missing_warehouse(data_copy, monkeypatch):
    """The internal-mode control (the same start builds the warehouse) is
    tests/test_app.py::test_first_start_builds_a_missing_warehouse_then_renders."""
    monkeypatch.setenv("CSP_MODE", "public")
    shutil.rmtree(data_copy / "warehouse")
    st.cache_data.clear()
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    _assert_updating_notice(at)
    assert not (data_copy / "warehouse").exists()
    assert not list(data_copy.glob(".warehouse-*")), "no staging folder either"
    at.run()  # a reload does not build either
    _assert_updating_notice(at)
    assert not (data_copy / "warehouse").exists()


def test_public_mode_does_not_rebuild_a_stale_warehouse(data_copy, monkeypatch):
    monkeypatch.setenv("CSP_MODE", "public")
    stamp_path = data_copy / "warehouse" / build.STAMP
    stamp = json.loads(stamp_path.read_text())
    stamp["sources_digest"] = "0" * 64
    stamp_path.write_text(json.dumps(stamp))
    before = {p.name: p.stat().st_mtime_ns for p in (data_copy / "warehouse").iterdir()}
    assert build.is_stale(settings())[0]
    st.cache_data.clear()
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    _assert_updating_notice(at)
    assert {p.name: p.stat().st_mtime_ns for p in (data_copy / "warehouse").iterdir()} == before
    assert json.loads(stamp_path.read_text())["sources_digest"] == "0" * 64


# ---------------------------------------------------------------- (5) internal pages: unreachable and unlisted

INTERNAL = [p for p in PAGES if not p.public]


def test_public_navigation_lists_only_public_pages(tour):
    """What st.navigation was given is what the sidebar navigation shows."""
    assert tour["navs"], "st.navigation was called"
    want = [p.title for p in pages_for("public")]
    for nav in tour["navs"]:
        assert len(nav) == 1, nav  # one section, given as a flat list (valid list markup)
        assert list(nav.values())[0] == want
    assert INTERNAL and "Data status" in [p.title for p in INTERNAL]


_MD_LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]*)")


@pytest.mark.parametrize("spec", INTERNAL, ids=[p.url_path for p in INTERNAL])
def test_public_pages_never_show_internal_titles(tour, spec):
    """No public page names an internal page in the sidebar (e.g. a 'Data status' entry), and the
    main area never links to one (by title or by /<url_path>). Prose may still use the words
    ("how its targets for 2028 are going"), so the main area is checked for links only."""
    title = spec.title.lower()
    for script, page in tour["pages"].items():
        hits = [t for t in page["sidebar"] if title in t.lower()]
        assert not hits, (script, "sidebar", hits)
        for text in page["main"]:
            for label, target in _MD_LINK.findall(text):
                assert title not in label.lower(), (script, label, target)
                assert target.strip("/").split("?")[0] != spec.url_path, (script, label, target)
    # Control: the collector does see the sidebar text and the main area's links.
    some = next(iter(tour["pages"].values()))
    assert any("Data coverage" in t for t in some["sidebar"]), some["sidebar"]
    assert _MD_LINK.findall("see [Data status](/data-status)") == [("Data status", "/data-status")]


def test_internal_urls_unreachable_in_public_mode(public):
    """test_app.py checks switch_page for internal scripts; here, additionally, by url_path: no
    page registered in public mode has an internal page's url_path (the /<url_path> link)."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    for spec in INTERNAL:
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(spec.script)
    registered = {info.get("url_pathname") for info in at._registered_pages.values()}
    assert {p.url_path for p in INTERNAL}.isdisjoint(registered), registered
    assert {p.url_path for p in pages_for("public") if not p.default} <= registered, registered


# ---------------------------------------------------------------- public pages' tables, built outside the pages


def test_public_page_tables_built_in_csp_data(public):
    """About the data, Getting help and the scorecard: what the pages draw, from csp_data.present.site."""
    import pandas as pd

    from csp_data.analysis import scorecard
    from csp_data.present import site

    src = pd.DataFrame(
        {
            "snapshot": ["S"],
            "publisher": ["P"],
            "licence": ["OGL"],
            "origin": ["https://x.example/a_b/c.csv"],
        }
    )
    table = site.sources_table(src)
    assert list(table.columns) == ["Dataset and snapshot", "Publisher, licence and where it was copied from"]
    assert (
        table.iloc[0, 1] == "P · OGL · copied from https:/\u200b/\u200bx.example/\u200ba_\u200bb/\u200bc.csv"
    )
    assert site.help_lines(["Phone 101", "*not* a link"]) == "- Phone 101\n- \\*not\\* a link"
    rows = scorecard.scorecard()
    table = site.scorecard_table(rows)
    assert list(table.columns) == list(scorecard.as_table(rows).columns)
    assert all(cell.startswith("[Priority ") and "(summary#priority-" in cell for cell in table["Priority"])
    groups = site.by_priority(rows, {1: "one", 2: "two", 3: "three", 4: "four", 9: "none"})
    assert sum(len(mine) for _, _, mine in groups) == len(rows) and 9 not in [n for n, _, _ in groups]
