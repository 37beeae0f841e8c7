"""Series breaks as data (data/plan/series_breaks.csv via csp_data/plan/breaks.py).

The months in the file are re-derived here from the real embedded MPS borough files with DuckDB
(London-wide sums written out independently of the app's queries), so a wrong month in the file
fails a test. The parser refuses malformed rows naming the line."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from csp_data.plan import breaks
from csp_data.plan.measures import MEASURES
from csp_data.plan.periods import parse

BOROUGHS_32 = "SELECT borough_code FROM read_parquet(?)"


def london_monthly(warehouse, where: str) -> dict[date, int]:
    con = duckdb.connect()
    rows = con.execute(
        f"""SELECT month, sum(count) FROM read_parquet(?) WHERE level = 'borough'
            AND borough_code IN (SELECT borough_code FROM read_parquet(?)) AND {where} GROUP BY month""",
        [str(warehouse / "crime_monthly.parquet"), str(warehouse / "boroughs.parquet")],
    ).fetchall()
    return {m: int(n) for m, n in rows}


def yoy(series: dict[date, int], month: date) -> float:
    return series[month] / series[date(month.year - 1, month.month, 1)]


def test_the_file_holds_connect_and_the_burglary_rename_with_provenance():
    ids = {b.id: b for b in breaks.load()}
    assert set(ids) >= {"connect", "burglary_rename"}
    for b in ids.values():
        assert b.documented_by and b.evidence and b.description
    assert ids["connect"].kind == "level" and ids["burglary_rename"].kind == "category"
    # CONNECT affects every police-recorded measure, the rename only burglary
    assert all(ids["connect"].applies_to(m.id) for m in MEASURES)
    assert [m.id for m in MEASURES if ids["burglary_rename"].applies_to(m.id)] == ["burglary"]


def test_connect_months_are_where_london_violence_with_injury_steps(warehouse):
    b = breaks.get("connect")
    vwi = london_monthly(warehouse, "minor_category = 'VIOLENCE WITH INJURY'")
    before = date(b.first_month.year, b.first_month.month - 1, 1)
    assert yoy(vwi, before) > 0.98  # Feb 2024: like the year before
    assert 0.85 < yoy(vwi, b.first_month) < 0.95  # Mar 2024: part of the month on the new system
    settled = [
        yoy(vwi, date(2024 + (3 + i) // 12, (3 + i) % 12 + 1, 1)) for i in range(11)
    ]  # Apr 2024..Feb 2025
    assert b.settled_month == date(2024, 4, 1)
    assert max(settled) < 0.87  # a lasting step, not one odd month
    # a year later the step has passed through both periods: Mar 2025 against Mar 2024 is flat again
    assert yoy(vwi, date(2025, 4, 1)) > 0.97


def test_burglary_rename_months_and_the_total_is_continuous(warehouse):
    b = breaks.get("burglary_rename")
    dom = london_monthly(warehouse, "minor_category = 'DOMESTIC BURGLARY'")
    res = london_monthly(warehouse, "minor_category = 'RES BURGLARY OF A HOME'")
    tot = london_monthly(warehouse, "major_category = 'BURGLARY'")
    before = date(2023, 3, 1)
    assert dom[before] > 2000 and res.get(before, 0) < 10
    assert (
        b.first_month == date(2023, 4, 1)
        and res[b.first_month] > 100
        and dom[b.first_month] < 0.8 * dom[before]
    )
    assert b.settled_month == date(2023, 5, 1) and dom[b.settled_month] < 0.05 * dom[before]
    for m in (before, b.first_month, b.settled_month):
        assert 0.9 < tot[m] / tot[before] < 1.1  # no step in the total


def test_straddling():
    fy25, fy24 = parse("FY2024-25"), parse("FY2023-24")
    assert [b.id for b in breaks.straddling("violence_injury", fy24, fy25)] == ["connect"]
    # last 12 months to Feb 2026 against the 12 before: both after CONNECT
    p = parse("2025-03..2026-02")
    assert breaks.straddling("robbery", p.previous(), p) == []
    # the burglary rename is a category break: totals are not flagged, breakdowns are
    p23 = parse("2023")  # calendar 2023 against 2022: before CONNECT, across the rename
    assert breaks.straddling("burglary", p23.previous(), p23) == []
    assert [b.id for b in breaks.straddling("burglary", p23.previous(), p23, kind="category")] == [
        "burglary_rename"
    ]


def test_chart_marks_and_caveats_come_from_the_file():
    marks = dict(breaks.chart_marks("burglary"))
    assert marks[date(2024, 3, 1)] == "CONNECT recording change"
    assert "total continuous" in marks[date(2023, 4, 1)]
    assert date(2023, 4, 1) not in dict(breaks.chart_marks("robbery"))
    # yearly bars mark only level breaks; a trend from a later month marks only breaks it shows
    assert breaks.chart_marks("burglary", kind="level") == [(date(2024, 3, 1), "CONNECT recording change")]
    assert [d for d, _ in breaks.chart_marks("burglary", since=date(2023, 5, 1))] == [date(2024, 3, 1)]
    assert len(breaks.chart_marks("burglary", since=date(2023, 4, 1))) == 2
    assert breaks.notes("burglary") == [
        f"Series break, {b.when}: {b.label}. {b.description}" for b in breaks.for_measure("burglary")
    ]
    from csp_data.plan.measures import CONNECT_BREAK

    assert CONNECT_BREAK == breaks.get("connect").caveat and "Mar 2024" in CONNECT_BREAK


HEADER = ",".join(breaks.COLUMNS)


@pytest.mark.parametrize(
    "row, message",
    [
        ("x,2024-13,2024-04,level,*,c,l,d,e,doc", "line 2: first_month must be YYYY-MM"),
        ("x,2024-03,2024-04,step,*,c,l,d,e,doc", "line 2: kind must be one of"),
        ("x,2024-03,2024-04,level,robery,c,l,d,e,doc", "line 2: unknown measure(s) robery"),
        ("x,2024-03,2024-02,level,*,c,l,d,e,doc", "line 2: settled_month is before first_month"),
        ("x,2024-03,2024-04,level,*,c,l,d,e,", "line 2: empty documented_by"),
    ],
)
def test_malformed_rows_are_refused_naming_the_line(row, message):
    with pytest.raises(breaks.BreaksError, match=message.replace("(", r"\(").replace(")", r"\)")):
        breaks.parse(HEADER + "\n" + row + "\n")


def test_no_break_dates_are_hard_coded_in_the_priority_ui():
    from csp_data.config import REPO_ROOT

    text = (REPO_ROOT / "csp_data" / "ui" / "priority.py").read_text()
    assert "MEASURE_BREAKS" not in text and "date(2024, 3, 1)" not in text


def test_fy_bars_mark_the_year_a_break_falls_in():
    import pandas as pd

    from csp_data.present import charts

    fy = pd.DataFrame(
        {
            "fy": ["FY2022-23", "FY2023-24", "FY2024-25"],
            "count": [1000, 1100, 900],
            "complete": [True, True, True],
            "months": [12, 12, 12],
        }
    )  # synthetic counts
    chart, alt_text, table = charts.fy_bars(
        fy, "Synthetic by financial year", "Offences", breaks=breaks.chart_marks("violence_injury")
    )
    assert "Series break in FY2023-24: CONNECT recording change (Mar 2024)" in alt_text
    assert table.set_index("Financial year")["Series break"].to_dict() == {
        "FY2022-23": "",
        "FY2023-24": "CONNECT recording change (Mar 2024)",
        "FY2024-25": "",
    }
    spec = chart.to_dict()
    assert "series break" in str(spec) and "Series break in FY2023-24" in str(spec["title"])
    # a break outside the plotted years is not drawn
    _c, alt2, table2 = charts.fy_bars(
        fy.iloc[2:], "Synthetic", "Offences", breaks=breaks.chart_marks("robbery")
    )
    assert "Series break" not in alt2 and "Series break" not in table2.columns
