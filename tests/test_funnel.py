"""Funnel plots (csp_data/analysis/funnel.py, charts.funnel_chart): exact Poisson limits against scipy and by
hand, the over-dispersion factor by hand, calibration by simulation on the real LSOA populations
(synthetic counts, seeded), and the real ward and LSOA funnels."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from csp_data.analysis import funnel, hotspots
from csp_data.config import settings
from csp_data.present import charts
from csp_data.warehouse import sql

PERIOD = (date(2025, 3, 1), date(2026, 2, 1))


def test_poisson_limit_interpolates_between_the_integers_as_spiegelhalter_appendix():
    for e in (0.5, 3.2, 12.0, 57.3, 400.0):
        for p in (0.001, 0.025, 0.975, 0.999):
            lim = float(funnel.poisson_limit(e, p)[0])
            r = stats.poisson.ppf(p, e)
            assert r - 1 <= lim <= r + 1e-12
            # by hand: r - (F(r) - p) / (F(r) - F(r - 1))
            f_r, f_r1 = stats.poisson.cdf(r, e), stats.poisson.cdf(r - 1, e)
            assert lim == pytest.approx(max(0.0, r - (f_r - p) / (f_r - f_r1)), abs=1e-12)
    # large expected counts: close to the normal approximation
    e = 10_000.0
    assert float(funnel.poisson_limit(e, 0.975)[0]) == pytest.approx(e + 1.96 * math.sqrt(e), abs=2)


def test_count_limit_is_the_negative_binomial_with_variance_phi_times_the_mean():
    for e, phi in ((3.2, 2.0), (12.0, 3.5), (57.3, 5.0)):
        size = e / (phi - 1)
        dist = stats.nbinom(size, size / (size + e))
        assert dist.mean() == pytest.approx(e) and dist.var() == pytest.approx(phi * e)
        for p in (0.001, 0.025, 0.975, 0.999):
            lim = float(funnel.count_limit(e, p, phi)[0])
            r = dist.ppf(p)
            assert r - 1 <= lim <= r + 1e-12
        # wider than Poisson on both sides
        assert funnel.count_limit(e, 0.999, phi)[0] > funnel.poisson_limit(e, 0.999)[0]
    np.testing.assert_array_equal(
        funnel.count_limit([4.0, 9.0], 0.975, 1.0), funnel.poisson_limit([4.0, 9.0], 0.975)
    )


def test_dispersion_is_the_winsorised_mean_square_z_made_consistent_and_floored_at_one():
    o = np.array([10, 12, 30, 5, 8, 9, 50, 11, 10, 2], dtype=float)
    e = np.full(10, 14.7)
    z = (o - e) / np.sqrt(e)
    lo, hi = np.percentile(z, [10, 90])
    want = np.mean(np.clip(z, lo, hi) ** 2)
    assert (
        funnel.dispersion(o, e) == pytest.approx(want / funnel.winsor_consistency(), rel=1e-12) and want > 1
    )
    # the consistency factor: winsorised mean square of a large normal sample, simulated
    zs = np.random.default_rng(3).standard_normal(400_000)
    lo, hi = np.quantile(zs, [0.1, 0.9])
    assert funnel.winsor_consistency() == pytest.approx(np.mean(np.clip(zs, lo, hi) ** 2), abs=0.005)
    assert funnel.dispersion(np.full(10, 14.7), e) == 1.0  # no extra variation: floored at 1


@pytest.fixture(scope="module")
def lsoa_pop(warehouse):
    return hotspots.lsoa_period_counts([], [], *PERIOD)[["lsoa21_code", "lsoa21_name", "population"]].rename(
        columns={"lsoa21_code": "code", "lsoa21_name": "name"}
    )


def share_outside(pop: pd.DataFrame, draw, runs: int, overdispersion: bool = True) -> tuple[float, float]:
    out95 = out998 = 0
    for r in range(runs):
        a, _ = funnel.funnel(pop.assign(count=draw(r)), overdispersion=overdispersion)
        out95 += int((a["position"] != "within the 95% limits").sum())
        out998 += int(a["position"].str.contains("99.8%").sum())
    n = runs * len(pop)
    return out95 / n, out998 / n


def test_calibration_poisson_counts_fall_outside_about_as_often_as_the_limits_say(lsoa_pop):
    """Synthetic counts: Poisson at one rate (4 per 1,000, about robbery's) for every real LSOA
    population, no area different. About 5% of areas fall outside the 95% limits and 0.2% outside
    the 99.8% limits (the interpolated limits are exact only on average; discreteness allows a
    little either way)."""
    rng = np.random.default_rng(20250301)
    pop = lsoa_pop["population"].to_numpy()
    o95, o998 = share_outside(lsoa_pop, lambda r: rng.poisson(0.004 * pop), 200)
    assert 0.035 <= o95 <= 0.065, o95
    assert o998 <= 0.005, o998


def test_calibration_over_dispersed_counts_need_the_adjustment(lsoa_pop):
    """Synthetic over-dispersed counts (negative binomial, variance 3.5 x the mean, about robbery's
    phi across LSOAs): Poisson limits flag about a quarter of areas that are all alike; the
    adjusted limits bring it back to about 5% outside 95% and 0.2% outside 99.8%."""
    rng = np.random.default_rng(7)
    mean = 0.004 * lsoa_pop["population"].to_numpy()
    phi = 3.5
    n_nb = mean / (phi - 1)  # NB with variance = phi x mean

    def draw(r):
        return rng.negative_binomial(n_nb, n_nb / (n_nb + mean))

    raw95, _ = share_outside(lsoa_pop, draw, 150, overdispersion=False)
    adj95, adj998 = share_outside(lsoa_pop, draw, 150)
    assert raw95 > 0.15, raw95
    assert 0.03 <= adj95 <= 0.065, adj95
    assert adj998 <= 0.005, adj998


def test_real_ward_funnel_for_robbery(warehouse):
    w = sql.run(
        "crime/ward_period_totals",
        borough_code=settings().borough_code,
        majors=["ROBBERY"],
        minors=[],
        start=PERIOD[0],
        end=PERIOD[1],
    ).rename(columns={"ward_code": "code", "ward_name": "name"})
    a, lim = funnel.funnel(w)
    assert len(a) == 20 and set(a["position"]) <= set(funnel.POSITIONS)
    assert a.attrs["target_rate"] == pytest.approx(w["count"].sum() / w["population"].sum() * 1000)
    assert a.attrs["phi"] >= 1 and a.attrs["total"] == int(w["count"].sum())
    np.testing.assert_allclose(a["rate"], a["count"] / a["population"] * 1000)
    assert (lim["low_998"] <= lim["low_95"]).all() and (lim["low_95"] <= lim["centre"]).all()
    assert (lim["centre"] <= lim["high_95"]).all() and (lim["high_95"] <= lim["high_998"]).all()
    # funnels narrow as the population grows
    assert lim["high_95"].iloc[-1] < lim["high_95"].iloc[0]
    # every area's position agrees with its own limits
    for r in a.itertuples():
        hi95 = np.interp(r.population, lim["population"], lim["high_95"])
        if r.position == "within the 95% limits":
            assert r.rate <= hi95 + 0.05
        if r.position.startswith("above"):
            assert r.rate > hi95 - 0.05
    chart, alt_text, table = charts.funnel_chart(a, lim, "Robbery by ward", "ward")
    assert len(table) == 20 and "borough rate" in alt_text
    assert list(table.columns)[:3] == ["Ward", "Residents", "Offences"]
    assert chart.to_dict()["description"] == alt_text


def test_funnel_refuses_what_it_cannot_plot():
    with pytest.raises(funnel.FunnelError, match="population"):
        funnel.funnel(pd.DataFrame({"code": ["a"], "name": ["A"], "count": [1], "population": [0]}))
    with pytest.raises(funnel.FunnelError, match="columns"):
        funnel.funnel(pd.DataFrame({"code": ["a"], "count": [1]}))


# ---------------------------------------------------------------- the ward profile page (public mode)


def test_ward_profile_shows_the_ward_funnel_in_public_mode(warehouse, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from csp_data.analysis import ward_profile
    from csp_data.config import REPO_ROOT
    from csp_data.warehouse import db

    monkeypatch.setenv("CSP_MODE", "public")
    db.reset()
    try:
        at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=90)
        at.run()
        at.query_params["ward"] = "E05009333"
        at.switch_page("pages/public/ward_profile.py").run()
        assert not at.exception, [e.value for e in at.exception]
        assert "Compared with every ward" in [s.value for s in at.main.subheader]
        prof = ward_profile.profile("E05009333")
        kind = prof.table["category"].iloc[0]
        box = [s for s in at.main.selectbox if s.label == "Type of crime"]
        assert len(box) == 1 and box[0].value == kind
        captions = [c.value.replace("\\", "") for c in at.main.caption]
        assert any(
            c.startswith(f"Chart description: {kind}: rate by ward, {prof.period.label}: 20 wards")
            and "Spitalfields & Banglatown (ringed)" in c
            for c in captions
        )
        assert any(c.startswith("Source: ") and prof.period.label in c for c in captions)
        # the table alternative: 20 wards in two columns (fits a phone), the ward's own row giving the
        # count of the ward table and both limits in words
        tables = [t.value for t in at.main.table if "Rate and position" in [str(c) for c in t.value.columns]]
        assert len(tables) == 1 and len(tables[0]) == 20 and len(tables[0].columns) == 2
        a, _ = funnel.ward_funnel(kind, prof.period.start, prof.period.end)
        mine = a.set_index("code").loc["E05009333"]
        assert int(mine["count"]) == int(prof.table.set_index("category").at[kind, "count"])
        row = (
            tables[0][
                tables[0]
                .iloc[:, 0]
                .astype(str)
                .str.replace("\\", "", regex=False)
                .str.contains("Spitalfields")
            ]
            .iloc[0, 1]
            .replace("\\", "")
        )
        assert f"({int(mine['count']):,d} offences" in row and "95% limits" in row and "99.8% limits" in row
        # another type of crime redraws it
        other = prof.table["category"].iloc[1]
        box[0].set_value(other).run()
        assert not at.exception
        captions = [c.value.replace("\\", "") for c in at.main.caption]
        assert any(c.startswith(f"Chart description: {other}: rate by ward") for c in captions)
    finally:
        db.reset()
