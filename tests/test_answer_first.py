"""The answer-first tables (issue 16) from csp_data.present.site, on small hand-made rows: the
scorecard grid, its periods-and-sources line, a priority's strip and the targets at a glance.
The pages' AppTests (tests/test_app.py, tests/test_priority_pages.py) check them on real data."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace as NS

from csp_data.analysis.stats import compare_counts
from csp_data.plan.measures import get
from csp_data.plan.periods import make
from csp_data.present import site

L12 = make(date(2025, 3, 1), date(2026, 2, 1))
BUSINESS_L12 = make(date(2024, 8, 1), date(2025, 7, 1))


def row(measure_id: str, current: int | None, previous: int | None, period=L12, snapshot="snap A"):
    c = compare_counts(current, previous) if current is not None and previous is not None else None
    return NS(measure=get(measure_id), l12=c, last12=period if c else None, snapshot=snapshot if c else "")


def test_grid_one_line_per_measure_with_verdict_words_and_london():
    rows = [row("robbery", 80, 120), row("theft", None, None)]
    london = {"robbery": {"l12": NS(verdict="fell more than London")}}
    grid = site.scorecard_grid(rows, london)
    assert grid.to_dict("records") == [
        {
            "Priority": "[1](summary#priority-1)",
            "Measure": "Robbery",
            "Last 12 months": "80",
            "Change": "-40 (-33.3%)",
            "Is the change real?": f"{rows[0].l12.symbol} {rows[0].l12.verdict}",
            "Direction of travel": rows[0].l12.travel(True),
            "Against London": "fell more than London",
        },
        {
            "Priority": "[1](summary#priority-1)",
            "Measure": "Theft",
            "Last 12 months": "awaiting data",
            "Change": "awaiting data",
            "Is the change real?": "awaiting data",
            "Direction of travel": "",
            "Against London": "",
        },
    ]
    assert site.london_words(None) == "awaiting London data"


def test_periods_and_sources_name_every_period_source_and_snapshot_once():
    rows = [
        row("robbery", 80, 120, snapshot="MPS borough (data to Feb 2026)"),
        row("burglary", 90, 100, snapshot="MPS borough (data to Feb 2026)"),
        row("business", 500, 400, BUSINESS_L12, snapshot="Business (data to Jul 2025)"),
        row("theft", None, None),
    ]
    text = site.periods_and_sources(rows)
    assert text.startswith(
        "Last 12 months: Mar 2025 to Feb 2026; business crime: Aug 2024 to Jul 2025; each against the 12 months before."
    )
    assert text.count("MPS recorded crime (London Datastore), borough level") == 1
    assert "MPS Business Crime Dashboard (London Datastore)" in text
    assert text.endswith("Snapshots: MPS borough (data to Feb 2026); Business (data to Jul 2025).")


def test_strip_tables():
    rows = [row("robbery", 80, 120), row("theft", None, None)]
    strip = site.headline_strip(rows)
    assert strip.columns.tolist() == ["Measure", "Last 12 months", "Change", "Is it real?"]
    assert strip.iloc[1].tolist() == ["Theft", "awaiting data", "awaiting data", "awaiting data"]
    results = [NS(symbol="…", status="too early to tell", target=NS(label="Robbery down 7%"))]
    assert site.targets_strip(results).to_dict("records") == [
        {"Status": "… too early to tell", "Target for 2028": "Robbery down 7%"}
    ]


def test_targets_at_a_glance_rows():
    fy = make(date(2024, 4, 1), date(2025, 3, 1))
    police = NS(
        symbol="…",
        status="too early to tell",
        target=NS(label="Robbery down 7%"),
        baseline_value=1415.0,
        baseline_period=fy,
        observed=1180.0,
        expected_path=1272.5,
    )
    waiting = NS(
        symbol="○",
        status="awaiting data",
        target=NS(label="Fire audits"),
        baseline_value=None,
        baseline_period=None,
        observed=None,
        expected_path=None,
    )
    table = site.targets_at_a_glance([police, waiting])
    assert table.to_dict("records") == [
        {
            "Status": "… too early to tell",
            "Target for 2028": "Robbery down 7%",
            "Baseline": f"1,415 ({fy.label})",
            "Latest, against the path": "1,180 vs 1,272 on the path",
        },
        {
            "Status": "○ awaiting data",
            "Target for 2028": "Fire audits",
            "Baseline": "not applicable",
            "Latest, against the path": "awaiting data",
        },
    ]
