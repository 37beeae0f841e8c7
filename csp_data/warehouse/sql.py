"""Named SQL: every query the app runs is a file ``queries/<area>/<name>.sql``.

A file holds exactly one statement and a header::

    -- Borough monthly counts for a set of MPS minor categories.
    -- params: borough_code (VARCHAR), minors (VARCHAR[]), start (DATE), end (DATE)
    -- columns: month, count
    -- example: {"borough_code": "E09000030", "minors": ["ROBBERY OF PERSONAL PROPERTY"], ...}

The example (JSON) is what the contract tests and the benchmark run the query with.
Values reach DuckDB only as bound ``$name`` parameters. ``run`` checks the given parameters
against both the header and the body, so a missing, extra or misspelt name is an error that
names the query, never a silently different result.

Shared SQL lives in DuckDB macros the connection holds (``db.MACROS``): a measure's MPS
categories are matched with ``in_categories(major_category, minor_category, $majors, $minors)``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import cast

import duckdb
import pandas as pd

from csp_data.config import QUERIES_DIR, Settings
from csp_data.warehouse import db

PARAM_RE = re.compile(r"(?<![\w$])\$([A-Za-z_][A-Za-z0-9_]*)")
HEADER_RE = re.compile(r"^--\s*(params|columns|example)\s*:\s*(.*)$", re.IGNORECASE)


class QueryError(ValueError):
    pass


@dataclass(frozen=True)
class Query:
    name: str
    path: Path
    text: str
    description: str
    params: tuple[str, ...]
    param_types: dict
    columns: tuple[str, ...]
    example: dict


_LEXEME_RE = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/", re.S)


def _strip_comments_and_strings(sql: str) -> str:
    """Blank out comments and string literals in one left-to-right pass.

    One pass matters: ``'a -- b'`` is a string, not a comment, and ``-- it's`` is a
    comment, not the start of a string. Quoted identifiers are kept as they are
    written (they cannot hold parameters either, but ``;`` inside one is harmless).
    """

    def blank(m: re.Match) -> str:
        tok = m.group(0)
        if tok.startswith("'"):
            return "''"
        if tok.startswith('"'):
            return '""'
        return " "

    return _LEXEME_RE.sub(blank, sql)


def parse(name: str, path: Path) -> Query:
    text = path.read_text(encoding="utf-8")
    desc, params, types, columns, example = [], None, {}, None, {}
    for line in text.splitlines():
        if not line.startswith("--"):
            if line.strip():
                break
            continue
        m = HEADER_RE.match(line)
        if m and m.group(1).lower() == "params":
            params = []
            body = m.group(2).strip()
            for item in (
                filter(None, (p.strip() for p in body.split(","))) if body and body.lower() != "none" else []
            ):
                pm = re.match(r"^([A-Za-z_]\w*)\s*(?:\(([^)]*)\))?$", item)
                if not pm:
                    raise QueryError(f"{name}: bad params header item {item!r}")
                params.append(pm.group(1))
                types[pm.group(1)] = (pm.group(2) or "").strip()
        elif m and m.group(1).lower() == "example":
            try:
                example = json.loads(m.group(2))
            except json.JSONDecodeError as exc:
                raise QueryError(f"{name}: example header is not JSON: {exc}") from exc
        elif m:
            columns = [c.strip() for c in m.group(2).split(",") if c.strip()]
        else:
            desc.append(line.lstrip("- ").strip())
    if params is None or columns is None:
        raise QueryError(f"{name}: header must declare '-- params:' and '-- columns:'")
    body = _strip_comments_and_strings(text)
    used = set(PARAM_RE.findall(body))
    if used != set(params):
        raise QueryError(f"{name}: header params {sorted(params)} differ from the body's {sorted(used)}")
    statements = [s for s in body.split(";") if s.strip()]
    if len(statements) != 1:
        raise QueryError(f"{name}: a query file holds exactly one statement (found {len(statements)})")
    if set(example) != set(params):
        raise QueryError(f"{name}: example params {sorted(example)} differ from declared {sorted(params)}")
    return Query(
        name, path, text, " ".join(d for d in desc if d), tuple(params), types, tuple(columns), example
    )


def query_path(name: str) -> Path:
    if not re.fullmatch(r"[a-z0-9_]+(/[a-z0-9_]+)*", name):
        raise QueryError(f"bad query name {name!r}: use area/name, e.g. crime/borough_monthly")
    path = (QUERIES_DIR / f"{name}.sql").resolve()
    if QUERIES_DIR.resolve() not in path.parents or not path.exists():
        raise QueryError(f"no query named {name!r} (looked for queries/{name}.sql)")
    return path


@lru_cache(maxsize=256)
def _load(name: str, mtime: float) -> Query:
    return parse(name, query_path(name))


def load(name: str) -> Query:
    return _load(name, query_path(name).stat().st_mtime)


def names(include_checks: bool = True) -> list[str]:
    out = []
    for p in sorted(QUERIES_DIR.rglob("*.sql")):
        n = p.relative_to(QUERIES_DIR).with_suffix("").as_posix()
        if include_checks or not n.startswith("checks/"):
            out.append(n)
    return out


def run(name: str, /, cfg: Settings | None = None, **params) -> pd.DataFrame:
    """Run a named query with bound parameters over ``cfg``'s warehouse (the environment's when not
    given); fetch fully; return a DataFrame. ``cfg`` is never a query parameter."""
    q = load(name)
    given, declared = set(params), set(q.params)
    if given != declared:
        missing, extra = sorted(declared - given), sorted(given - declared)
        raise QueryError(
            f"{name}: "
            + "; ".join(
                filter(
                    None,
                    [
                        f"missing parameter(s) {missing}" if missing else "",
                        f"unknown parameter(s) {extra}" if extra else "",
                    ],
                )
            )
            + f" (declared: {list(q.params)})"
        )
    cur = db.connection(cfg).cursor()
    try:
        df = cur.execute(q.text, params).df() if params else cur.execute(q.text).df()
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0]
        types = ", ".join(f"{k} ({q.param_types.get(k) or 'any type'})" for k in q.params)
        raise QueryError(
            f"{name}: the query failed with these parameters ({type(exc).__name__}: {first}); "
            f"declared: {types}"
        ) from exc
    finally:
        cur.close()
    if tuple(df.columns) != q.columns:
        raise QueryError(f"{name}: returned columns {list(df.columns)}, header declares {list(q.columns)}")
    return df


def check_specs(borough_code: str) -> list[tuple[str, str, dict]]:
    """(name, what it asserts, params) for every data-quality check in queries/checks/."""
    out = []
    for name in names():
        if name.startswith("checks/"):
            q = load(name)
            out.append(
                (name, q.description, {"borough_code": borough_code} if "borough_code" in q.params else {})
            )
    return out


def coerce(name: str, raw: dict[str, object]) -> dict[str, object]:
    """Turn text values (from the command line) into the types the query header declares.

    ``X[]`` takes a JSON list or comma-separated text ("" is the empty list); ``DATE`` takes
    YYYY-MM-DD or YYYY-MM (the first of the month); integers and doubles are parsed; anything
    else is passed as text. A value that does not fit is a QueryError naming the parameter.
    """
    q = load(name)
    out: dict[str, object] = {}
    for key, value in raw.items():
        kind = (q.param_types.get(key) or "").upper()
        try:
            if kind.endswith("[]"):
                if isinstance(value, str):
                    value = [v.strip() for v in value.split(",") if v.strip()]
                out[key] = list(cast("Iterable[object]", value))
            elif kind == "DATE" and isinstance(value, str):
                text = value.strip()
                out[key] = date.fromisoformat(text + "-01" if re.fullmatch(r"\d{4}-\d{2}", text) else text)
            elif kind in ("INTEGER", "BIGINT") and isinstance(value, str):
                out[key] = int(value)
            elif kind == "DOUBLE" and isinstance(value, str):
                out[key] = float(value)
            else:
                out[key] = value
        except (TypeError, ValueError) as exc:
            raise QueryError(f"{name}: parameter {key} expects {kind or 'a value'}, got {value!r}") from exc
    return out
