"""The London comparison (csp_data/analysis/london.py) and the London columns of ``measures --format csv``.

London sums are recomputed here with DuckDB straight from the warehouse parquet (and, for the
dashboard, from the raw London Datastore file), the interval is checked against a statsmodels
Poisson / quasi-Poisson GLM with an area x period interaction, and the verdict words against a
table of cases."""

from __future__ import annotations

import math
from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pytest

from csp_data.analysis import london
from csp_data.config import REPO_ROOT
from csp_data.plan.measures import MEASURES, get
from csp_data.plan.periods import parse
from csp_data.present.report import LONDON_COLUMNS, measures_for_period

FY25 = parse("FY2024-25")
FY24 = parse("FY2023-24")


def crime_london_sum(warehouse, minors: list[str], p) -> int:
    return int(
        duckdb.connect()
        .execute(
            """SELECT sum(count) FROM read_parquet(?) WHERE level = 'borough'
           AND borough_code IN (SELECT borough_code FROM read_parquet(?))
           AND minor_category IN (SELECT unnest(?)) AND month BETWEEN ? AND ?""",
            [
                str(warehouse / "crime_monthly.parquet"),
                str(warehouse / "boroughs.parquet"),
                minors,
                p.start,
                p.end,
            ],
        )
        .fetchone()[0]
    )


def test_violence_with_injury_fy2024_25_fell_about_as_much_as_london(warehouse):
    c = london.compare_periods(get("violence_injury"), FY25)
    assert c.london_current == crime_london_sum(warehouse, ["VIOLENCE WITH INJURY"], FY25)
    assert c.london_previous == crime_london_sum(warehouse, ["VIOLENCE WITH INJURY"], FY24)
    assert c.borough_pct == pytest.approx(-19.2, abs=0.1)
    assert c.london_pct == pytest.approx(
        -17.5, abs=0.1
    )  # the 32 boroughs (the audit's -18.8% includes non-borough rows)
    assert c.verdict == "fell about as much as London" and not c.significant
    assert c.low < 1 < c.high
    assert c.straddles == ("CONNECT recording change",)
    assert "fell 19.2%" in c.sentence() and "London fell 17.5%" in c.sentence()


def test_dashboard_london_sums_match_the_raw_datastore_file(warehouse):
    """Gun crime (old dashboard file) summed over the 32 boroughs from the raw published file."""
    raw = REPO_ROOT / "data" / "sources" / "mps" / "mps_monthly_crime_dashboard_2021-08_2025-07.parquet"
    want = int(
        duckdb.connect()
        .execute(
            """SELECT sum(count) FROM read_parquet(?) WHERE area_type = 'Borough'
           AND trim(area_code) IN (SELECT borough_code FROM read_parquet(?))
           AND crime_type = 'Gun Crime' AND crime_subtype = 'Gun Crime' AND measure = 'Offences'
           AND month_year >= TIMESTAMP '2024-04-01' AND month_year < TIMESTAMP '2025-04-01'""",
            [str(raw), str(warehouse / "boroughs.parquet")],
        )
        .fetchone()[0]
    )
    s = london.london_series(get("gun_crime"))
    got = int(s[(s.month >= FY25.start) & (s.month <= FY25.end)]["count"].sum())
    assert got == want > 500
    assert (s["boroughs"] == 32).all()


def test_business_london_is_the_32_boroughs(warehouse):
    s = london.london_series(get("business"))
    want = dict(
        duckdb.connect()
        .execute(
            """SELECT month, sum(count) FROM read_parquet(?) WHERE borough_name IN
           (SELECT borough_name FROM read_parquet(?)) GROUP BY month""",
            [str(warehouse / "business_crime_monthly.parquet"), str(warehouse / "boroughs.parquet")],
        )
        .fetchall()
    )
    assert {r.month: int(r.count) for r in s.itertuples()} == {m: int(v) for m, v in want.items()}


@pytest.mark.parametrize("phi", [1.0, 3.0])
def test_interval_matches_a_glm_interaction(phi):
    """With the same phi for both areas, log R and its interval are the interaction term of a
    (quasi-)Poisson GLM count ~ area * period."""
    sm = pytest.importorskip("statsmodels.api")
    b1, b0, l1, l0 = 2444, 3026, 63844, 77363
    y = np.array([b0, b1, l0, l1], float)
    X = np.array([[1, 0, 0, 0], [1, 1, 0, 0], [1, 0, 1, 0], [1, 1, 1, 1]], float)
    fit = sm.GLM(y, X, family=sm.families.Poisson()).fit()  # saturated: scale fixed at phi below
    coef = fit.params[3]
    se = fit.bse[3] * math.sqrt(phi)
    c = london.compare(b1, b0, l1, l0, phi_borough=phi, phi_london=phi)
    # R here is borough change / London change; the interaction is (l1/l0)/(b1/b0) from this design
    assert math.log(c.relative) == pytest.approx(-coef, rel=1e-9)
    assert math.log(c.high) == pytest.approx(-coef + 1.959963985 * se, rel=1e-6)
    assert math.log(c.low) == pytest.approx(-coef - 1.959963985 * se, rel=1e-6)


def test_overdispersion_widens_the_interval():
    narrow = london.compare(800, 1000, 60000, 80000)
    wide = london.compare(800, 1000, 60000, 80000, phi_borough=4.0)
    assert wide.low < narrow.low and wide.high > narrow.high
    assert narrow.relative == wide.relative


@pytest.mark.parametrize(
    "b, l, low, high, words",
    [
        (-19.0, -18.8, 0.9, 1.1, "fell about as much as London"),
        (5.0, 3.0, 0.9, 1.1, "rose about as much as London"),
        (-2.0, 3.0, 0.9, 1.1, "changed about as much as London"),
        (-30.0, -10.0, 0.7, 0.85, "fell more than London"),
        (-5.0, -20.0, 1.1, 1.3, "fell less than London"),
        (30.0, 10.0, 1.1, 1.3, "rose more than London"),
        (5.0, 20.0, 0.8, 0.95, "rose less than London"),
        (10.0, -10.0, 1.1, 1.4, "rose while London fell"),
        (-10.0, 10.0, 0.7, 0.9, "fell while London rose"),
    ],
)
def test_verdict_words(b, l, low, high, words):
    assert london.verdict_words(b, l, low, high) == words


def test_zero_counts_are_not_compared():
    c = london.compare(0, 3, 100, 120)
    assert c.relative is None and "too few" in c.verdict


def test_measures_csv_has_the_london_columns_for_every_police_recorded_measure(warehouse):
    df = measures_for_period(FY25)
    for col in LONDON_COLUMNS:
        assert col in df.columns
    police = df[df.kind == "police-recorded"]
    assert set(police.measure_id) == {m.id for m in MEASURES}
    compared = police[police.verdict.notna()]
    assert len(compared) >= 14  # business crime lacks FY2023-24 months
    assert compared["relative_to_london"].notna().all() and compared["london_verdict"].notna().all()
    assert (compared["relative_low"] < compared["relative_to_london"]).all()
    assert (compared["relative_to_london"] < compared["relative_high"]).all()
    assert police["series_break"].str.contains("CONNECT").all()  # every FY2024-25 comparison crosses it
    assert df[df.kind != "police-recorded"][list(LONDON_COLUMNS)].isna().all().all()
    vwi = police.set_index("measure_id").loc["violence_injury"]
    assert vwi.london_verdict == "fell about as much as London" and vwi.london_pct_change == -17.5


def test_no_break_no_straddle_flag_for_a_period_after_connect(warehouse):
    p = parse("2025-03..2026-02")
    c = london.compare_periods(get("robbery"), p)
    assert c is not None and c.straddles == ()


def test_share_dispersion_matches_statsmodels_with_an_offset(warehouse):
    """phi of the borough about London (offset) with a trend, against statsmodels' quasi-Poisson scale."""
    sm = pytest.importorskip("statsmodels.api")
    from csp_data.analysis.scorecard import monthly_series

    m = get("robbery")
    b, ldn = monthly_series(m), london.london_series(m)
    d = london.share_dispersion(b, ldn, FY25.end)
    j = b.merge(ldn, on="month", suffixes=("_b", "_l"))
    j = j[j.month <= FY25.end].tail(36)
    t = np.arange(len(j)) / 12.0
    fit = sm.GLM(
        j["count_b"].to_numpy(float),
        sm.add_constant(t),
        family=sm.families.Poisson(),
        offset=np.log(j["count_l"].to_numpy(float)),
    ).fit(scale="X2")
    assert d.months == 36 and d.phi == pytest.approx(max(1.0, fit.scale), rel=1e-6)
    resid = fit.resid_pearson - fit.resid_pearson.mean()
    rho = float(np.sum(resid[:-1] * resid[1:]) / np.sum(resid**2))
    assert d.rho == pytest.approx(min(0.9, max(0.0, rho)), abs=1e-9)


def simulate(n: int, rel: float, phi: float, seed: int, step: float = 0.82) -> float:
    """Share of ``n`` simulated borough/London series whose London verdict is 'significant'. 36
    months: seasonal means like Tower Hamlets violence with injury (210 a month) and London (5,500),
    a common month-to-month shock (sd 5%) and a CONNECT-like step of ``step`` for both at month 24,
    the borough over-dispersed (gamma-Poisson, variance = phi x mean) and changed by ``rel`` from
    month 24 on. The comparison is months 24-35 against 12-23, phi estimated each time."""
    rng = np.random.default_rng(seed)
    months = [date(2022 + (3 + i) // 12, (3 + i) % 12 + 1, 1) for i in range(36)]
    k = np.arange(36)
    season = 1 + 0.12 * np.sin(2 * np.pi * (k - 3) / 12)
    after = k >= 24
    cur, prev = (
        parse(f"{months[24]:%Y-%m}..{months[35]:%Y-%m}"),
        parse(f"{months[12]:%Y-%m}..{months[23]:%Y-%m}"),
    )
    hits = 0
    for _ in range(n):
        shock = np.exp(rng.normal(0, 0.05, 36)) * np.where(after, step, 1.0)
        mb = 210 * season * shock * np.where(after, rel, 1.0)
        b = rng.poisson(rng.gamma(mb / (phi - 1), phi - 1))
        ldn = rng.poisson(5500 * season * shock)
        bs = pd.DataFrame({"month": months, "count": b})
        ls = pd.DataFrame({"month": months, "count": ldn})
        c = london.compare(
            b[24:].sum(),
            b[12:24].sum(),
            ldn[24:].sum(),
            ldn[12:24].sum(),
            phi_borough=london.relative_dispersion(bs, ls, cur, prev),
        )
        hits += c.significant
    return hits / n


def test_calibration_no_relative_change_false_alarms_at_most_nominal():
    """With no change relative to London across a common step, the verdict says 'about as much as
    London' at least 95% of the time (allowing 2 Monte Carlo standard errors)."""
    n = 200
    rate = simulate(n, rel=1.0, phi=3.0, seed=20260)
    assert rate <= 0.05 + 2 * math.sqrt(0.05 * 0.95 / n)


def test_calibration_power_for_a_real_relative_fall():
    assert simulate(150, rel=0.75, phi=3.0, seed=20261) >= 0.9


def test_briefing_scorecard_carries_the_london_comparison(warehouse):
    from csp_data.analysis import scorecard
    from csp_data.config import settings
    from csp_data.present import briefing

    month = date(2026, 3, 1)
    sec = briefing._scorecard_section(month, settings())
    assert "Against London (12 months)" in sec.body
    rows = {r.measure.id: r for r in scorecard.scorecard(as_of=month)}
    business = london.for_score_row(rows["business"])["l12"]
    assert business.straddles == ("CONNECT recording change",)
    assert briefing._london_cell(rows["business"], settings()).endswith(
        "crosses the CONNECT recording change"
    )
    vwi = london.for_score_row(rows["violence_injury"])["l12"]
    cell = briefing._london_cell(rows["violence_injury"], settings())
    assert cell.startswith("London ") and vwi.verdict in cell and f"{vwi.relative:.2f}" in cell
