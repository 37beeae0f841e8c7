"""Tests of the named-SQL layer ``csp_data.warehouse.sql``: loading by name, header parsing, parameter
checking and bound (never interpolated) values.

Malformed headers are exercised on small synthetic query files written to ``tmp_path``
(named ``synthetic/...``); the loader is pointed there by patching ``sql.QUERIES_DIR``.
"""

from __future__ import annotations

import textwrap

import pytest

from csp_data.config import QUERIES_DIR
from csp_data.warehouse import sql
from csp_data.warehouse.sql import QueryError

TH = "E09000030"


@pytest.fixture
def synthetic_queries(tmp_path, monkeypatch):
    """A private queries folder for synthetic files; returns a writer(name, text) -> name."""
    root = tmp_path / "queries"
    root.mkdir()
    monkeypatch.setattr(sql, "QUERIES_DIR", root)
    sql._load.cache_clear()

    def write(name: str, text: str) -> str:
        path = root / f"{name}.sql"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return name

    yield write
    sql._load.cache_clear()


GOOD = """
    -- Synthetic: wards of the configured borough's crime table (test fixture).
    -- params: borough_code (VARCHAR)
    -- columns: n
    -- example: {"borough_code": "E09000030"}
    SELECT count(DISTINCT area_code) AS n FROM crime_monthly
    WHERE level = 'ward' AND borough_code = $borough_code
"""


# --------------------------------------------------------------------------- loading by name


def test_load_by_name_reads_the_header():
    q = sql.load("crime/borough_monthly")
    assert q.path == QUERIES_DIR / "crime" / "borough_monthly.sql"
    assert q.params == ("borough_code", "majors", "minors")
    assert q.param_types == {"borough_code": "VARCHAR", "majors": "VARCHAR[]", "minors": "VARCHAR[]"}
    assert q.columns == ("month", "count", "snapshot")
    assert q.example == {"borough_code": TH, "majors": ["ROBBERY"], "minors": []}
    assert q.description.startswith("Monthly police-recorded offences in one borough")


def test_names_lists_every_file_and_can_leave_out_checks():
    files = sorted(p.relative_to(QUERIES_DIR).with_suffix("").as_posix() for p in QUERIES_DIR.rglob("*.sql"))
    assert sql.names() == files
    assert "crime/borough_monthly" in files and "checks/month_gaps" in files
    without = sql.names(include_checks=False)
    assert without == [n for n in files if not n.startswith("checks/")]


def test_unknown_name_is_a_clear_error():
    with pytest.raises(
        QueryError, match=r"no query named 'crime/no_such_query'.*queries/crime/no_such_query\.sql"
    ):
        sql.load("crime/no_such_query")
    with pytest.raises(QueryError, match="no query named"):
        sql.run("crime/no_such_query")


@pytest.mark.parametrize(
    "bad",
    [
        "../queries/crime/borough_monthly",
        "crime/../crime/borough_monthly",
        "/etc/passwd",
        "Crime/Borough_Monthly",
        "crime/borough_monthly.sql",
        "",
    ],
)
def test_names_outside_the_pattern_are_refused(bad):
    with pytest.raises(QueryError, match="bad query name"):
        sql.load(bad)


# --------------------------------------------------------------------------- parameter checking


def test_missing_parameter_is_named(warehouse):
    with pytest.raises(QueryError) as exc:
        sql.run("crime/borough_monthly", borough_code=TH, majors=["ROBBERY"])
    msg = str(exc.value)
    assert "crime/borough_monthly" in msg and "missing" in msg and "minors" in msg


def test_extra_parameter_is_named(warehouse):
    with pytest.raises(QueryError) as exc:
        sql.run("crime/borough_monthly", borough_code=TH, majors=["ROBBERY"], minors=[], start="2025-01-01")
    msg = str(exc.value)
    assert "unknown" in msg and "start" in msg


def test_misspelt_parameter_is_both_missing_and_unknown(warehouse):
    with pytest.raises(QueryError) as exc:
        sql.run("crime/borough_monthly", borough_code=TH, majors=["ROBBERY"], minor=[])
    msg = str(exc.value)
    assert "missing parameter(s) ['minors']" in msg and "unknown parameter(s) ['minor']" in msg
    assert "declared: ['borough_code', 'majors', 'minors']" in msg


def test_parameters_for_a_query_without_any_are_refused(warehouse):
    with pytest.raises(QueryError, match="unknown parameter"):
        sql.run("meta/coverage", borough_code=TH)


# --------------------------------------------------------------------------- bound values


def test_values_are_bound_not_interpolated(warehouse):
    """An injection attempt is just an odd borough code: no rows, no syntax error."""
    normal = sql.run("crime/borough_monthly", borough_code=TH, majors=["ROBBERY"], minors=[])
    assert len(normal) > 100
    evil = sql.run(
        "crime/borough_monthly", borough_code="E09000030' OR 1=1 --", majors=["ROBBERY"], minors=[]
    )
    assert list(evil.columns) == ["month", "count", "snapshot"]
    assert len(evil) == 0


def test_list_values_are_bound_too(warehouse):
    df = sql.run("crime/borough_monthly", borough_code=TH, majors=["ROBBERY') OR TRUE OR ('"], minors=[])
    assert len(df) > 100  # every month is still listed ...
    assert (df["count"] == 0).all()  # ... but nothing matched the odd category


def test_the_category_macro_matches_majors_or_minors(warehouse):
    from csp_data.warehouse import db

    text = (
        "SELECT count(*) FILTER (WHERE in_categories(major_category, minor_category, $majors, $minors)),"
        " count(*) FILTER (WHERE list_contains($majors, major_category) OR list_contains($minors, minor_category))"
        " FROM crime_monthly"
    )
    for majors, minors in [
        (["ROBBERY"], []),
        ([], ["BURGLARY IN A DWELLING"]),
        (["ROBBERY"], ["SHOPLIFTING"]),
        ([], []),
    ]:
        with db.connection().cursor() as cur:
            macro, spelt_out = cur.execute(text, {"majors": majors, "minors": minors}).fetchone()
        assert macro == spelt_out and (macro > 0) == bool(majors or minors)


def test_a_quote_in_a_value_is_data(warehouse):
    df = sql.run("crime/categories", level="ward' OR level = 'borough")
    assert df.empty


# --------------------------------------------------------------------------- header parsing (synthetic files)


def test_synthetic_good_file_runs(synthetic_queries, warehouse):
    name = synthetic_queries("synthetic/good", GOOD)
    q = sql.load(name)
    assert q.params == ("borough_code",) and q.columns == ("n",)
    assert q.description == "Synthetic: wards of the configured borough's crime table (test fixture)."
    assert sql.names() == ["synthetic/good"]
    df = sql.run(name, **q.example)
    assert list(df.columns) == ["n"] and df["n"].iloc[0] > 0


def test_params_none_means_no_parameters(synthetic_queries, warehouse):
    name = synthetic_queries(
        "synthetic/none",
        """
        -- Synthetic: count wards.
        -- params: none
        -- columns: n
        -- example: {}
        SELECT count(*) AS n FROM wards
    """,
    )
    assert sql.load(name).params == ()
    assert sql.run(name)["n"].iloc[0] > 0


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (
            """
        -- Synthetic: no params line.
        -- columns: n
        -- example: {}
        SELECT 1 AS n
     """,
            "must declare '-- params:' and '-- columns:'",
        ),
        (
            """
        -- Synthetic: no columns line.
        -- params: none
        -- example: {}
        SELECT 1 AS n
     """,
            "must declare '-- params:' and '-- columns:'",
        ),
        (
            """
        -- Synthetic: a parameter name with a space.
        -- params: borough code (VARCHAR)
        -- columns: n
        -- example: {}
        SELECT 1 AS n
     """,
            "bad params header item 'borough code \\(VARCHAR\\)'",
        ),
        (
            """
        -- Synthetic: example is not JSON.
        -- params: x (VARCHAR)
        -- columns: n
        -- example: {x: 1}
        SELECT $x AS n
     """,
            "example header is not JSON",
        ),
        (
            """
        -- Synthetic: the body uses a parameter the header does not declare.
        -- params: x (VARCHAR)
        -- columns: n
        -- example: {"x": "a"}
        SELECT $x AS n WHERE $y IS NULL
     """,
            r"header params \['x'\] differ from the body's \['x', 'y'\]",
        ),
        (
            """
        -- Synthetic: the header declares a parameter the body never uses.
        -- params: x (VARCHAR), unused (INTEGER)
        -- columns: n
        -- example: {"x": "a", "unused": 1}
        SELECT $x AS n
     """,
            r"differ from the body's \['x'\]",
        ),
        (
            """
        -- Synthetic: two statements.
        -- params: none
        -- columns: n
        -- example: {}
        SELECT 1 AS n; SELECT 2 AS n
     """,
            r"exactly one statement \(found 2\)",
        ),
        (
            """
        -- Synthetic: example keys differ from the params.
        -- params: x (VARCHAR)
        -- columns: n
        -- example: {"y": "a"}
        SELECT $x AS n
     """,
            r"example params \['y'\] differ from declared \['x'\]",
        ),
    ],
)
def test_malformed_headers_are_errors_naming_the_query(synthetic_queries, text, match):
    name = synthetic_queries("synthetic/bad", text)
    with pytest.raises(QueryError, match=match) as exc:
        sql.load(name)
    assert str(exc.value).startswith("synthetic/bad:")


def test_dollar_words_in_comments_and_strings_are_not_parameters(synthetic_queries, warehouse):
    name = synthetic_queries(
        "synthetic/strings",
        """
        -- Synthetic: a $fake in the description is not a parameter.
        -- params: x (VARCHAR)
        -- columns: a, b
        -- example: {"x": "hello"}
        SELECT '$not_a_param; still a string' AS a, -- $nor_this
               $x AS b
    """,
    )
    q = sql.load(name)
    assert q.params == ("x",)
    df = sql.run(name, x="hello")
    assert df.iloc[0].tolist() == ["$not_a_param; still a string", "hello"]


def test_trailing_semicolon_is_one_statement(synthetic_queries):
    name = synthetic_queries(
        "synthetic/semicolon",
        """
        -- Synthetic: one statement with a trailing semicolon.
        -- params: none
        -- columns: n
        -- example: {}
        SELECT 1 AS n;
    """,
    )
    assert sql.load(name).columns == ("n",)


def test_declared_columns_are_enforced_at_run_time(synthetic_queries, warehouse):
    name = synthetic_queries(
        "synthetic/wrong_columns",
        """
        -- Synthetic: the header promises columns the body does not return.
        -- params: none
        -- columns: a, b
        -- example: {}
        SELECT 1 AS a, 2 AS c
    """,
    )
    with pytest.raises(QueryError, match=r"returned columns \['a', 'c'\], header declares \['a', 'b'\]"):
        sql.run(name)


def test_edited_file_is_reloaded(synthetic_queries):
    import os

    name = synthetic_queries("synthetic/edited", GOOD)
    assert sql.load(name).columns == ("n",)
    path = sql.QUERIES_DIR / f"{name}.sql"
    path.write_text(
        path.read_text().replace("-- columns: n", "-- columns: wards").replace("AS n", "AS wards")
    )
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
    assert sql.load(name).columns == ("wards",)


def test_double_dash_inside_a_string_literal_is_not_a_comment(synthetic_queries):
    name = synthetic_queries(
        "synthetic/dashes",
        """
        -- Synthetic: a string literal that contains two dashes.
        -- params: x (VARCHAR)
        -- columns: a, b
        -- example: {"x": "1"}
        SELECT 'a -- b' AS a, $x AS b
    """,
    )
    assert sql.load(name).params == ("x",)


def test_check_specs_cover_every_check_and_pass_the_borough_only_where_declared():
    specs = sql.check_specs(TH)
    assert [s[0] for s in specs] == [n for n in sql.names() if n.startswith("checks/")]
    for name, description, params in specs:
        q = sql.load(name)
        assert description == q.description and description
        assert params == ({"borough_code": TH} if "borough_code" in q.params else {})
