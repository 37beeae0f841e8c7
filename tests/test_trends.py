"""Series arithmetic, breakdowns, ward tables and outcome rates (csp_data/analysis/trends.py).

Synthetic series check the rules (a missing month is never zero; part years are marked); the real
embedded data is checked against sums DuckDB computes straight from the warehouse parquet files.
The Wilson interval is worked out by hand here (statsmodels is not installed, and the z value comes
from the standard library, not scipy).
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from statistics import NormalDist

import duckdb
import pandas as pd
import pytest

from csp_data.analysis import trends
from csp_data.analysis.stats import compare_counts
from csp_data.analysis.trends import (
    breakdown,
    dashboard_subtypes,
    fy_totals,
    months_present,
    outcome_rates,
    period_sum,
    ward_table,
    wilson_interval,
)
from csp_data.plan.measures import get
from csp_data.plan.periods import make, parse

TH_CODE = "E09000030"
TH_NAME = "Tower Hamlets"
FY2324, FY2425 = parse("FY2023-24"), parse("FY2024-25")


def q(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    """Run SQL over the parquet files: {crime}, {business}, {dashboard}, {wards} name them."""
    names = {
        n: f"read_parquet('{(warehouse / f'{f}.parquet').as_posix()}')"
        for n, f in (
            ("crime", "crime_monthly"),
            ("business", "business_crime_monthly"),
            ("dashboard", "dashboard_monthly"),
            ("wards", "wards"),
        )
    }
    con = duckdb.connect()
    try:
        return con.execute(sql.format(**names), params or []).fetchall()
    finally:
        con.close()


def series(counts: dict[date, int]) -> pd.DataFrame:
    return pd.DataFrame({"month": list(counts), "count": list(counts.values()), "snapshot": "synthetic"})


def months(start: date, n: int) -> list[date]:
    out = []
    for i in range(n):
        k = start.year * 12 + start.month - 1 + i
        out.append(date(k // 12, k % 12 + 1, 1))
    return out


# --------------------------------------------------------------------------- synthetic series


def test_period_sum_synthetic_complete_missing_and_zero_months():
    full = {m: 10 for m in FY2425.months()}
    assert period_sum(series(full), FY2425) == 120
    zero = {**full, date(2024, 8, 1): 0}  # a month with no offences is held, and counts 0
    assert period_sum(series(zero), FY2425) == 110
    gap = {m: c for m, c in full.items() if m != date(2024, 8, 1)}  # a month not held at all
    assert period_sum(series(gap), FY2425) is None
    assert months_present(series(gap), FY2425) == 11
    assert period_sum(series(full), parse("FY2025-26")) is None  # beyond the data
    assert months_present(series(full), parse("FY2025-26")) == 0
    assert period_sum(series(full), parse("2024-06..2024-08")) == 30


def test_fy_totals_synthetic_marks_part_years():
    counts = {m: 5 for m in months(date(2023, 1, 1), 18)}  # Jan 2023 .. Jun 2024
    out = fy_totals(series(counts))
    assert out.to_dict("records") == [
        {"fy": "FY2022-23", "count": 15, "months": 3, "complete": False},
        {"fy": "FY2023-24", "count": 60, "months": 12, "complete": True},
        {"fy": "FY2024-25", "count": 15, "months": 3, "complete": False},
    ]
    assert fy_totals(series(counts), first_fy=2023)["fy"].tolist() == ["FY2023-24", "FY2024-25"]
    gap = {m: c for m, c in counts.items() if m != date(2023, 12, 1)}
    row = fy_totals(series(gap)).set_index("fy").loc["FY2023-24"]
    assert (row["count"], row["months"], bool(row["complete"])) == (55, 11, False)
    assert fy_totals(series({})).empty


def test_fy_totals_on_real_business_crime(warehouse):
    got = fy_totals(trends.view(get("business")).series).set_index("fy")
    want = dict(
        q(
            warehouse,
            """SELECT CASE WHEN month(month) >= 4 THEN year(month) ELSE year(month) - 1 END AS fy,
                                       count(DISTINCT month) FROM {business} WHERE borough_name = ? GROUP BY 1""",
            [TH_NAME],
        )
    )
    for y, n in want.items():
        label = f"FY{y}-{str(y + 1)[-2:]}"
        assert got.loc[label, "months"] == n
        assert bool(got.loc[label, "complete"]) == (n == 12)
    total = q(
        warehouse,
        "SELECT sum(count) FROM {business} WHERE borough_name = ? AND month BETWEEN ? AND ?",
        [TH_NAME, FY2425.start, FY2425.end],
    )[0][0]
    assert got.loc["FY2024-25", "count"] == total
    assert bool(got.loc["FY2024-25", "complete"])


# --------------------------------------------------------------------------- ward table


@pytest.fixture(scope="module")
def robbery_wards(warehouse):
    return ward_table(get("robbery"), FY2425)


def ward_sums(warehouse: Path, period) -> dict[str, int]:
    rows = q(
        warehouse,
        """SELECT area_code, sum(count) FROM {crime}
                           WHERE level = 'ward' AND borough_code = ? AND major_category = 'ROBBERY'
                             AND month BETWEEN ? AND ? GROUP BY area_code""",
        [TH_CODE, period.start, period.end],
    )
    return {code: int(n) for code, n in rows}


def test_robbery_ward_table_fy2024_25_against_duckdb(warehouse, robbery_wards):
    wt = robbery_wards
    wards = {
        code: (name, int(pop))
        for code, name, pop in q(warehouse, "SELECT ward_code, ward_name, population FROM {wards}")
    }
    assert len(wards) == 20
    assert len(wt) == 20 and set(wt["ward_code"]) == set(wards)
    assert wt.attrs["period"] == "FY2024-25" and wt.attrs["previous_period"] == "FY2023-24"

    now, before = ward_sums(warehouse, FY2425), ward_sums(warehouse, FY2324)
    for r in wt.itertuples():
        assert (r.ward_name, r.population) == wards[r.ward_code]
        assert r.count == now.get(r.ward_code, 0), r.ward_name
        assert r.previous == before.get(r.ward_code, 0), r.ward_name
        assert r.change == r.count - r.previous
        assert r.rate_per_1000 == pytest.approx(r.count / r.population * 1000, rel=1e-12)
    # Verdicts: the pooled ward dispersion for 12-month sums, then Benjamini-Hochberg across the 20
    # wards (statsmodels' implementation, independent of the scipy one the app uses).
    from statsmodels.stats.multitest import multipletests

    phi = wt.attrs["dispersion"].for_comparison(12)
    assert phi >= 1
    raw = [compare_counts(r.count, r.previous, phi=phi) for r in wt.itertuples()]
    reject, qv, _, _ = multipletests([c.p_value for c in raw], alpha=0.05, method="fdr_bh")
    for r, _c, rej, qq in zip(wt.itertuples(), raw, reject, qv):
        want = (
            "● No significant change"
            if not rej
            else "▲ Significant rise"
            if r.count > r.previous
            else "▼ Significant fall"
        )
        assert r.verdict == want and r.q_value == pytest.approx(qq, rel=1e-9), r.ward_name
    assert "20 wards tested at once" in wt.attrs["method"]
    assert sum(before.values()) > 0, "FY2023-24 ward figures exist, so 'previous' is a real comparison"

    borough = q(
        warehouse,
        """SELECT sum(count) FROM {crime} WHERE level = 'borough' AND borough_code = ?
                              AND major_category = 'ROBBERY' AND month BETWEEN ? AND ?""",
        [TH_CODE, FY2425.start, FY2425.end],
    )[0][0]
    assert 0 < wt["count"].sum() <= borough
    assert wt.attrs["borough_rate_per_1000"] == pytest.approx(
        wt["count"].sum() / wt["population"].sum() * 1000
    )
    # Most offences first, ties by name.
    assert list(zip(-wt["count"], wt["ward_name"])) == sorted(zip(-wt["count"], wt["ward_name"]))


def test_business_crime_has_no_ward_table(warehouse):
    assert ward_table(get("business"), FY2425) is None


def test_hate_crime_ward_table_reads_the_dashboard_ward_rows(warehouse):
    wt = ward_table(get("hate_crime"), FY2425)
    rows = dict(
        q(
            warehouse,
            """SELECT area_code, sum(count) FROM {dashboard}
                                WHERE area_level = 'ward' AND crime_type = 'Hate crime' AND crime_subtype = 'Hate crime'
                                  AND measure = 'Offences' AND month BETWEEN ? AND ? GROUP BY 1""",
            [FY2425.start, FY2425.end],
        )
    )
    assert len(wt) == 20
    assert {r.ward_code: r.count for r in wt.itertuples()} == {
        c: int(rows.get(c, 0)) for c in wt["ward_code"]
    }


# --------------------------------------------------------------------------- breakdowns


def test_theft_breakdown_sums_to_the_borough_total(warehouse):
    bd = breakdown(get("theft"), FY2425)
    want = dict(
        q(
            warehouse,
            """SELECT minor_category, sum(count) FROM {crime}
                                WHERE level = 'borough' AND borough_code = ? AND major_category = 'THEFT'
                                  AND month BETWEEN ? AND ? GROUP BY 1""",
            [TH_CODE, FY2425.start, FY2425.end],
        )
    )
    assert list(bd.columns) == ["category", "count", "months"]
    assert {r.category: r.count for r in bd.itertuples()} == {k: int(v) for k, v in want.items()}
    total = period_sum(trends.view(get("theft")).series, FY2425)
    assert bd["count"].sum() == total == sum(want.values())
    assert (bd["months"] == 12).all()


def test_business_breakdown_sums_to_the_business_total(warehouse):
    bd = breakdown(get("business"), FY2425)
    total = q(
        warehouse,
        "SELECT sum(count) FROM {business} WHERE borough_name = ? AND month BETWEEN ? AND ?",
        [TH_NAME, FY2425.start, FY2425.end],
    )[0][0]
    assert bd["count"].sum() == total and len(bd) >= 2


# --------------------------------------------------------------------------- outcome rates


def hand_wilson(k: int, n: int, conf: float = 0.95) -> tuple[float, float]:
    """Wilson score interval: (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)."""
    z = NormalDist().inv_cdf(1 - (1 - conf) / 2)
    p = k / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    denom = 1 + z * z / n
    return (centre - half) / denom, (centre + half) / denom


def test_wilson_interval_by_hand():
    for k, n in [(0, 10), (1, 10), (67, 905), (112, 1241), (9, 10), (10, 10), (50, 100)]:
        lo, hi = wilson_interval(k, n)
        want_lo, want_hi = hand_wilson(k, n)
        assert lo == pytest.approx(max(0.0, want_lo), abs=1e-12)
        assert hi == pytest.approx(min(1.0, want_hi), abs=1e-12)
        if 0 < k < n:
            assert lo < k / n < hi
    assert wilson_interval(50, 100) == pytest.approx((0.4038, 0.5962), abs=1e-4)  # textbook value
    assert all(math.isnan(v) for v in wilson_interval(0, 0))


@pytest.mark.parametrize("k,n", [(10, 10), (0, 12)])
def test_wilson_interval_contains_an_extreme_proportion(k, n):
    lo, hi = wilson_interval(k, n)
    assert lo <= k / n <= hi


def test_hate_crime_outcome_rates_against_duckdb(warehouse):
    out = outcome_rates(get("hate_crime"))
    raw = q(
        warehouse,
        """SELECT CASE WHEN month(month) >= 4 THEN year(month) ELSE year(month) - 1 END AS fy,
                                 sum(CASE WHEN measure = 'Offences' THEN count ELSE 0 END),
                                 sum(CASE WHEN measure = 'Positive Outcomes' THEN count ELSE 0 END),
                                 count(DISTINCT month)
                          FROM {dashboard} WHERE area_code = ? AND crime_type = 'Hate crime'
                            AND crime_subtype = 'Hate crime' GROUP BY 1 ORDER BY 1""",
        [TH_CODE],
    )
    assert len(out) == len(raw) >= 4
    for row, (fy, off, pos, n_months) in zip(out.itertuples(), raw):
        label = f"FY{fy}-{str(fy + 1)[-2:]}"
        assert row.period == (label if n_months == 12 else f"{label} ({n_months} months)")
        assert (row.offences, row.positive_outcomes, row.months) == (off, pos, n_months)
        assert off >= 10
        assert row.rate_pct == pytest.approx(pos / off * 100, rel=1e-12)
        lo, hi = hand_wilson(pos, off)
        assert row.rate_low == pytest.approx(lo * 100, abs=1e-9)
        assert row.rate_high == pytest.approx(hi * 100, abs=1e-9)
        assert row.rate_low < row.rate_pct < row.rate_high
    fy2425 = out.set_index("period").loc["FY2024-25"]
    assert fy2425["offences"] == [r[1] for r in raw if r[0] == 2024][0] == 905


def test_outcome_rates_synthetic_small_base_gives_no_rate(monkeypatch):
    """Fewer than 10 offences in a year: no percentage and no interval, only the counts."""
    off = {m: (0 if m.month % 2 else 1) for m in FY2324.months()}  # 6 offences in FY2023-24
    off.update({m: 2 for m in FY2425.months()})  # 24 in FY2024-25
    off.update({m: 3 for m in months(date(2025, 4, 1), 2)})  # 6 in 2 months of FY2025-26
    pos = {m: 1 for m in off if m.month == 6}

    def fake_run(name, **params):
        assert name == "dashboard/borough_monthly"
        data = off if params["measure"] == "Offences" else pos
        return pd.DataFrame(
            {"month": pd.to_datetime(list(data)), "count": list(data.values()), "snapshot": "synthetic"}
        )

    monkeypatch.setattr(trends.sql, "run", fake_run)
    out = outcome_rates(get("hate_crime")).set_index("period")
    assert list(out.index) == ["FY2023-24", "FY2024-25", "FY2025-26 (2 months)"]
    small = out.loc["FY2023-24"]
    assert (small["offences"], small["positive_outcomes"]) == (6, 1)
    assert small[["rate_pct", "rate_low", "rate_high"]].isna().all()
    ok = out.loc["FY2024-25"]
    assert ok["offences"] == 24 and ok["positive_outcomes"] == 1
    assert ok["rate_pct"] == pytest.approx(100 / 24)
    assert out.loc["FY2025-26 (2 months)", ["rate_pct"]].isna().all()  # 6 offences: too few


def test_outcome_rates_only_for_dashboard_measures(warehouse):
    assert outcome_rates(get("robbery")).empty


# --------------------------------------------------------------------------- dashboard subtypes


def test_hate_crime_subtypes_fy2024_25(warehouse):
    df = dashboard_subtypes("Hate crime", FY2425)
    assert list(df.columns) == ["subtype", "offences", "positive_outcomes"]
    want = {
        s: (int(o), int(p))
        for s, o, p in q(
            warehouse,
            """
        SELECT crime_subtype, sum(CASE WHEN measure = 'Offences' THEN count ELSE 0 END),
               sum(CASE WHEN measure = 'Positive Outcomes' THEN count ELSE 0 END)
        FROM {dashboard} WHERE area_code = ? AND crime_type = 'Hate crime' AND month BETWEEN ? AND ?
        GROUP BY 1""",
            [TH_CODE, FY2425.start, FY2425.end],
        )
    }
    assert {r.subtype: (r.offences, r.positive_outcomes) for r in df.itertuples()} == want
    total = df.set_index("subtype").loc["Hate crime"]
    assert total["offences"] == want["Hate crime"][0] == 905  # the real FY2024-25 figure
    assert total["offences"] == period_sum(trends.view(get("hate_crime")).series, FY2425)
    assert df["offences"].is_monotonic_decreasing
    # The strands overlap: their sum is more than the total.
    assert df.loc[df.subtype != "Hate crime", "offences"].sum() > total["offences"]


def test_view_latest_month_matches_the_data(warehouse):
    latest = q(
        warehouse, "SELECT max(month) FROM {crime} WHERE level = 'borough' AND borough_code = ?", [TH_CODE]
    )[0][0]
    v = trends.view(get("robbery"))
    assert v.latest == latest
    assert "data to" in v.snapshot
    k = latest.year * 12 + latest.month - 1 - 11
    assert trends.last_12(latest) == make(date(k // 12, k % 12 + 1, 1), latest)
