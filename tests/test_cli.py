"""Tests of the command line ``python -m csp_data query | checks`` run as a real subprocess
against the real built warehouse (read only)."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from conftest import run_cli

from csp_data.warehouse import sql

TH_CODE = "E09000030"


@pytest.fixture(scope="module")
def cli(warehouse):
    return lambda *args: run_cli(warehouse.parent, *args)


ROBBERY = ("query", "crime/borough_monthly", "--param", 'majors=["ROBBERY"]', "--param", "minors=[]")


@pytest.fixture(scope="module")
def expected_robbery(warehouse):
    return sql.run("crime/borough_monthly", borough_code=TH_CODE, majors=["ROBBERY"], minors=[])


def test_query_csv(cli, expected_robbery):
    res = cli(*ROBBERY, "--param", f"borough_code={TH_CODE}", "--format", "csv")
    assert res.returncode == 0, res.stderr
    df = pd.read_csv(io.StringIO(res.stdout))
    assert list(df.columns) == ["month", "count", "snapshot"]
    assert len(df) == len(expected_robbery)
    assert df["count"].tolist() == expected_robbery["count"].tolist()


def test_query_json_fills_in_the_configured_borough(cli, expected_robbery):
    res = cli(*ROBBERY, "--format", "json")  # no borough_code: the configured borough is used
    assert res.returncode == 0, res.stderr
    records = json.loads(res.stdout)
    assert len(records) == len(expected_robbery)
    assert set(records[0]) == {"month", "count", "snapshot"}
    assert [r["count"] for r in records] == expected_robbery["count"].tolist()
    assert records[-1]["month"].startswith(str(expected_robbery["month"].iloc[-1])[:10])


def test_query_table(cli):
    res = cli(
        "query",
        "crime/london_rank",
        "--param",
        'majors=["ROBBERY"]',
        "--param",
        "minors=[]",
        "--param",
        "start=2025-03-01",
        "--param",
        "end=2026-02-01",
    )
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].split() == ["borough_code", "borough_name", "count", "rank", "boroughs"]
    assert len(lines) == 1 + 32
    assert any("Tower Hamlets" in line for line in lines)


def test_list(cli):
    res = cli("query", "--list")
    assert res.returncode == 0, res.stderr
    listed = [line.split()[0] for line in res.stdout.splitlines() if line.strip()]
    assert listed == sql.names()
    assert "params: borough_code, majors, minors" in res.stdout


def test_unknown_query_exits_2_with_a_message(cli):
    res = cli("query", "crime/no_such_query")
    assert res.returncode == 2
    assert "no query named 'crime/no_such_query'" in res.stderr
    assert res.stdout == ""


@pytest.mark.parametrize(
    ("param", "message"),
    [
        ("colour=red", "unknown parameter(s) ['colour']"),
        ("majors=[ROBBERY]", "list values are JSON"),  # a list that is not JSON
        ("majors", "takes name=value"),  # no '='
    ],
)
def test_bad_param_exits_2(cli, param, message):
    res = cli(*ROBBERY, "--param", param)
    assert res.returncode == 2
    assert message in res.stderr
    assert "Traceback" not in res.stderr


def test_checks_all_ok(cli):
    res = cli("checks")
    assert res.returncode == 0, res.stdout + res.stderr
    lines = [line for line in res.stdout.splitlines() if line.strip()]
    checks = [n for n in sql.names() if n.startswith("checks/")]
    assert [line.split()[0] for line in lines] == checks
    assert all(line.split()[-1] == "ok" for line in lines)


def test_list_missing_its_closing_bracket_is_refused(cli):
    res = cli(*ROBBERY, "--param", 'majors=["ROBBERY"')
    assert res.returncode == 2
    assert "list values are JSON" in res.stderr
