"""``python -m csp_data hotspots``: one row per area with the figures the Hotspots page shows,
checked against an independent DuckDB sum of the warehouse and against the page's own functions;
bad input gives a clear message and exit code 2."""

from __future__ import annotations

import io
import json
from datetime import date

import duckdb
import pandas as pd
import pytest
from conftest import run_cli

from csp_data.__main__ import main
from csp_data.analysis import areas as analysis
from csp_data.analysis import hotspots
from csp_data.config import settings
from csp_data.plan.periods import make


@pytest.fixture(scope="module")
def cli(warehouse):
    return lambda *args: run_cli(warehouse.parent, "hotspots", *args, text=False)


@pytest.fixture(scope="module")
def robbery_csv(cli):
    r = cli("--category", "ROBBERY", "--from", "2025-03", "--to", "2026-02", "--format", "csv")
    assert r.returncode == 0, r.stderr.decode()
    return r.stdout


def independent_sum(warehouse, level: str, major: str, start: date, end: date) -> pd.Series:
    con = duckdb.connect()
    try:
        df = con.execute(
            "SELECT area_code, sum(count) AS n FROM read_parquet($p) WHERE level = $l AND borough_code = $b "
            "AND major_category = $m AND month BETWEEN $s AND $e GROUP BY area_code",
            {
                "p": str(warehouse / "crime_monthly.parquet"),
                "l": level,
                "b": settings().borough_code,
                "m": major,
                "s": start,
                "e": end,
            },
        ).df()
    finally:
        con.close()
    return df.set_index("area_code")["n"]


def test_lsoa_csv_has_one_row_per_lsoa_with_the_page_figures(robbery_csv, warehouse):
    assert robbery_csv.startswith("\ufeff".encode()) and b"\r\n" in robbery_csv  # the app's CSV export
    df = pd.read_csv(io.BytesIO(robbery_csv), encoding="utf-8-sig", dtype={"previous_count": "Int64"})
    assert list(df.columns) == list(hotspots.REPORT_COLUMNS)
    assert len(df) == 169 and df["area_code"].is_unique
    # counts: an independent sum of the warehouse, both periods
    now = independent_sum(warehouse, "lsoa", "ROBBERY", date(2025, 3, 1), date(2026, 2, 1))
    before = independent_sum(warehouse, "lsoa", "ROBBERY", date(2024, 3, 1), date(2025, 2, 1))
    got = df.set_index("area_code")
    assert (got["count"] == now.reindex(got.index, fill_value=0)).all()
    assert (got["previous_count"] == before.reindex(got.index, fill_value=0)).all()
    # Gi*: the same numbers the page's loader gives (the page, TTCG and briefing call lsoa_hotspots)
    gi = hotspots.lsoa_hotspots(["ROBBERY"], [], date(2025, 3, 1), date(2026, 2, 1)).set_index("code")
    pd.testing.assert_series_equal(got["gi_z"], gi.loc[got.index, "z"], check_names=False, atol=1e-9, rtol=0)
    pd.testing.assert_series_equal(
        got["gi_p"], gi.loc[got.index, "p_sim"], check_names=False, atol=1e-12, rtol=0
    )
    pd.testing.assert_series_equal(got["gi_q"], gi.loc[got.index, "q"], check_names=False, atol=1e-12, rtol=0)
    assert (got["hotspot_class"] == gi.loc[got.index, "klass"]).all()
    # the change verdicts: the page's area table, word for word
    cat = hotspots.resolve_category("ROBBERY")
    table = analysis.area_table(cat, make(date(2025, 3, 1), date(2026, 2, 1)), "LSOAs").set_index("code")
    assert (got["change_verdict"] == table.loc[got.index, "verdict"]).all()
    # and the robbery finding: no LSOA survives permutation and FDR
    assert (got["hotspot_class"] == "not significant").all() and got["gi_q"].min() > 0.05


def test_ward_json_runs_gi_star_on_the_ward_lattice(cli, warehouse):
    r = cli(
        "--category",
        "burglary",
        "--from",
        "2025-04",
        "--to",
        "2026-03",
        "--level",
        "ward",
        "--format",
        "json",
    )
    assert r.returncode == 0, r.stderr.decode()
    rows = json.loads(r.stdout)
    assert len(rows) == 20 and list(rows[0]) == list(hotspots.REPORT_COLUMNS)
    got = {x["area_code"]: x["count"] for x in rows}
    want = independent_sum(warehouse, "ward", "BURGLARY", date(2025, 4, 1), date(2026, 3, 1))
    assert got == {k: int(want.get(k, 0)) for k in got}
    assert all(0 < x["gi_p"] <= 1 and x["gi_p"] <= x["gi_q"] + 1e-12 for x in rows)
    assert {x["hotspot_class"] for x in rows} <= set(hotspots.CLASSES)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--category", "ROBBERY", "--from", "2026-13", "--to", "2026-02"], "YYYY-MM"),
        (["--category", "ROBBERY", "--from", "March", "--to", "2026-02"], "YYYY-MM"),
        (["--category", "NO SUCH CRIME", "--from", "2025-03", "--to", "2026-02"], "unknown category"),
        (["--category", "ROBBERY", "--from", "2026-02", "--to", "2025-03"], "is after --to"),
        (["--category", "ROBBERY", "--from", "2025-03", "--to", "2099-02"], "is after the data"),
        (["--category", "ROBBERY", "--from", "2020-01", "--to", "2024-02"], "before the data"),
        (
            ["--category", "ROBBERY", "--from", "2009-01", "--to", "2009-12", "--level", "ward"],
            "before the data",
        ),
    ],
)
def test_bad_input_is_refused_with_a_message_and_exit_2(warehouse, capsys, args, message):
    assert main(["hotspots", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err


def test_category_names_the_page_accepts(warehouse):
    labels = {c.label for c in analysis.categories()}
    assert hotspots.resolve_category("ROBBERY").label == "Robbery"
    assert hotspots.resolve_category("BURGLARY").majors == ("BURGLARY",)
    assert hotspots.resolve_category("all theft").label == "All theft"
    assert hotspots.resolve_category("SHOPLIFTING").minors == ("SHOPLIFTING",)
    assert hotspots.resolve_category("vehicle").label == "Vehicle crime"  # a measure id
    for label in labels:  # every label the page's filter offers resolves to itself
        assert hotspots.resolve_category(label).label == label
