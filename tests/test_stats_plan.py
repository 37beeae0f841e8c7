"""Tests of the plan-monitoring statistics in ``csp_data.analysis.stats``: plain words, exact Poisson
intervals, control charts, the target trajectory and on/off-track status.

Expected values are worked out here independently: Poisson interval ends are checked against the
Poisson tail probabilities themselves (``scipy.stats.poisson``) and against textbook tables;
control limits, dispersion, trajectory factors and expected counts are computed by hand from
small synthetic series.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

from csp_data.analysis import stats
from csp_data.analysis.stats import (
    TargetStatus,
    c_chart,
    compare_counts,
    expected_no_change,
    expected_on_path,
    monthly_control,
    overdispersion_phi,
    plain_words,
    poisson_ci,
    rate_ci_per_1000,
    target_status,
    trajectory_factor,
    u_chart,
)
from csp_data.plan import periods
from csp_data.plan.periods import Period, add_months, financial_year

# --------------------------------------------------------------------------- plain words


@pytest.mark.parametrize(
    ("pair", "lower_is_better", "expected"),
    [
        ((300, 150), None, "a real rise"),
        ((150, 300), None, "a real fall"),
        ((250, 250), None, "within normal variation"),
        ((150, 300), True, "a real fall, an improvement"),
        ((300, 150), True, "a real rise, a worsening"),
        ((300, 150), False, "a real rise, an improvement"),
        ((250, 260), True, "within normal variation"),
        ((4, 2), True, "within normal variation — small numbers, treat with care"),  # +100% is not news
        ((12, 0), None, "a real rise — small numbers, treat with care"),
    ],
)
def test_plain_words(pair, lower_is_better, expected):
    c = compare_counts(*pair)
    assert plain_words(c, lower_is_better) == expected


def test_words_property_has_no_judgement():
    assert compare_counts(300, 150).words == "a real rise"
    assert compare_counts(19, 18).words == "within normal variation — small numbers, treat with care"


# --------------------------------------------------------------------------- Poisson intervals


@pytest.mark.parametrize("k", [0, 1, 2, 5, 10, 37, 100, 1180, 5000])
@pytest.mark.parametrize("alpha", [0.05, 0.10, 0.01])
def test_poisson_ci_ends_cut_off_alpha_over_two_in_each_tail(k, alpha):
    """Garwood: at the lower end P(X >= k) = alpha/2, at the upper end P(X <= k) = alpha/2."""
    lo, hi = poisson_ci(k, alpha)
    assert st.poisson.cdf(k, hi) == pytest.approx(alpha / 2, rel=1e-6)
    if k == 0:
        assert lo == 0.0
    else:
        assert st.poisson.sf(k - 1, lo) == pytest.approx(alpha / 2, rel=1e-6)
    assert lo < max(k, 1e-9) < hi or k == 0


@pytest.mark.parametrize(
    ("k", "lo", "hi"),
    [
        (0, 0.0, 3.689),  # textbook exact 95% limits (e.g. Ulm 1990; Sahai and Khurshid 1993)
        (1, 0.0253, 5.572),
        (2, 0.242, 7.225),
        (10, 4.795, 18.390),
        (20, 12.217, 30.888),
    ],
)
def test_poisson_ci_textbook_values(k, lo, hi):
    got = poisson_ci(k)
    assert got[0] == pytest.approx(lo, abs=6e-4)
    assert got[1] == pytest.approx(hi, abs=6e-4)


def test_poisson_ci_refuses_nonsense():
    with pytest.raises(ValueError):
        poisson_ci(-1)
    with pytest.raises(ValueError):
        poisson_ci(2.5)
    with pytest.raises(ValueError):
        poisson_ci(5, alpha=0)


def test_rate_ci_per_1000():
    lo, hi = rate_ci_per_1000(10, 20_000)
    assert lo == pytest.approx(4.795 / 20, abs=1e-4) and hi == pytest.approx(18.390 / 20, abs=1e-4)
    assert lo < stats.rate_per_1000(10, 20_000) < hi
    assert rate_ci_per_1000(10, 0) is None and rate_ci_per_1000(10, None) is None


# --------------------------------------------------------------------------- c-chart


def test_c_chart_hand_limits():
    counts = [4, 6, 5, 5, 4, 6, 5, 5]
    ch = c_chart(counts)
    assert list(ch.columns) == ["count", "centre", "lcl", "ucl", "signal"]
    assert (ch["centre"] == 5).all()
    assert ch["ucl"].iloc[0] == pytest.approx(5 + 3 * math.sqrt(5))  # 11.708
    assert (ch["lcl"] == 0).all()  # 5 - 6.708 is floored at 0
    assert (ch["signal"] == "").all()


def test_c_chart_flags_points_beyond_the_limits_against_a_baseline():
    counts = [25, 24, 26, 25, 27, 23, 25, 25, 41, 9, 39, 10]
    ch = c_chart(counts, baseline=slice(0, 8))
    assert ch["centre"].iloc[-1] == pytest.approx(25)
    assert ch["lcl"].iloc[0] == pytest.approx(10) and ch["ucl"].iloc[0] == pytest.approx(40)
    # 41 > 40 above, 9 < 10 below; 39 and 10 are inside (limits themselves are not signals)
    assert list(ch["signal"].iloc[8:]) == ["above", "below", "", ""]
    assert (ch["signal"].iloc[:8] == "").all()


def test_c_chart_sigma_and_phi_scale_the_limits():
    ch = c_chart([16] * 4, sigma=2.0, phi=2.25)
    assert ch["ucl"].iloc[0] == pytest.approx(16 + 2 * 1.5 * 4)  # 2 * sqrt(2.25 * 16)
    assert ch["lcl"].iloc[0] == pytest.approx(16 - 12)


def test_run_of_eight_on_one_side_is_a_signal_from_the_eighth_point():
    base = [10, 10, 10, 10]  # centre 10 from these
    ch = c_chart(base + [11] * 9, baseline=slice(0, 4))
    sig = list(ch["signal"])
    assert sig[4:11] == [""] * 7  # points 1..7 of the run: nothing yet
    assert sig[11:] == ["run above", "run above"]
    below = c_chart(base + [9] * 8, baseline=slice(0, 4))
    assert list(below["signal"])[-1] == "run below" and list(below["signal"])[-2] == ""


def test_seven_in_a_row_or_a_broken_run_is_not_a_signal():
    base = [10, 10, 10, 10]
    assert (c_chart(base + [11] * 7, baseline=slice(0, 4))["signal"] == "").all()
    # a point on the centre line breaks the run
    broken = base + [11] * 4 + [10] + [11] * 4
    assert (c_chart(broken, baseline=slice(0, 4))["signal"] == "").all()
    # a missing point breaks the run too
    gap = base + [11] * 4 + [float("nan")] + [11] * 4
    assert (c_chart(gap, baseline=slice(0, 4))["signal"] == "").all()


def test_a_point_beyond_a_limit_keeps_its_signal_but_counts_in_the_run():
    base = [16, 16, 16, 16]  # centre 16, ucl 28
    ch = c_chart(base + [17, 17, 17, 30, 17, 17, 17, 17], baseline=slice(0, 4))
    assert list(ch["signal"].iloc[4:]) == ["", "", "", "above", "", "", "", "run above"]


# --------------------------------------------------------------------------- u-chart


def test_u_chart_unequal_exposures_hand_values():
    counts, exposure = [2, 30, 5, 20], [1.0, 10.0, 2.0, 4.0]
    ch = u_chart(counts, exposure, baseline=slice(0, 3))
    ubar = 37 / 13  # pooled, not the mean of the rates (2, 3, 2.5)
    assert list(ch.columns) == ["count", "exposure", "rate", "centre", "lcl", "ucl", "signal"]
    assert list(ch["rate"]) == pytest.approx([2.0, 3.0, 2.5, 5.0])
    assert list(ch["centre"]) == pytest.approx([ubar] * 4)
    for i, n in enumerate(exposure):
        half = 3 * math.sqrt(ubar / n)
        assert ch["ucl"].iloc[i] == pytest.approx(ubar + half)
        assert ch["lcl"].iloc[i] == pytest.approx(max(0.0, ubar - half))
    assert ch["lcl"].iloc[0] == 0.0  # n = 1: ubar - 3 sqrt(ubar) < 0, floored
    assert ch["lcl"].iloc[1] > 0  # n = 10: narrower limits
    # 5.0 against ucl ubar + 3 sqrt(ubar/4) = 5.37: inside; the same rate on exposure 40 is outside
    assert list(ch["signal"]) == ["", "", "", ""]
    big = u_chart(counts + [200], exposure + [40.0], baseline=slice(0, 3))
    assert big["signal"].iloc[-1] == "above"


def test_u_chart_checks_lengths_and_zero_exposure():
    with pytest.raises(ValueError, match="same length"):
        u_chart([1, 2], [1.0])
    ch = u_chart([1, 2], [0.0, 2.0])
    assert math.isnan(ch["rate"].iloc[0]) and ch["signal"].iloc[0] == ""
    assert ch["centre"].iloc[1] == pytest.approx(1.0)


# --------------------------------------------------------------------------- over-dispersion


def test_overdispersion_phi_by_hand():
    # mean 5; Pearson chi2 = (9 + 9 + 1 + 1) / 5 = 4 on 3 df
    assert overdispersion_phi([2, 8, 4, 6]) == pytest.approx(4 / 3)
    # under-dispersed or too short: never narrows
    assert overdispersion_phi([5, 5, 5, 5]) == 1.0
    assert overdispersion_phi([7]) == 1.0
    # about given centres, with their own degrees of freedom: (4/10 + 4/10 + 36/20 + 36/20) / (4 - 2)
    assert overdispersion_phi([8, 12, 14, 26], [10, 10, 20, 20], n_params=2) == pytest.approx(2.2)
    assert overdispersion_phi([9, 11, 16, 24], [10, 10, 20, 20], n_params=2) == 1.0  # 0.9, floored


# --------------------------------------------------------------------------- monthly_control


def _frame(counts, start=date(2020, 1, 1)):
    return pd.DataFrame({"month": [add_months(start, i) for i in range(len(counts))], "count": counts})


def test_monthly_control_judges_the_latest_year_against_the_24_months_before():
    rng = np.random.default_rng(7)
    old = [1000] * 6  # outside the 24-month baseline
    base = list(rng.poisson(50, 24))
    recent = list(rng.poisson(50, 11)) + [200]
    df = _frame(old + base + recent)
    out = monthly_control(df, overdispersion=False)
    assert list(out.columns[:7]) == ["month", "count", "rolling12", "centre", "lcl", "ucl", "signal"]
    centre = np.mean(base)
    assert list(out["centre"]) == pytest.approx([centre] * len(out))
    assert out["ucl"].iloc[0] == pytest.approx(centre + 3 * math.sqrt(centre))
    assert out["lcl"].iloc[0] == pytest.approx(centre - 3 * math.sqrt(centre))
    assert out["signal"].iloc[-1] == "above"
    assert list(out["in_baseline"]) == [False] * 6 + [True] * 24 + [False] * 12
    assert out.attrs["baseline"] == Period(date(2020, 7, 1), date(2022, 6, 1))
    assert out.attrs["baseline_months_used"] == 24
    assert "Jul 2020 to Jun 2022" in out.attrs["note"]
    assert out["month"].iloc[0] == date(2020, 1, 1)


def test_monthly_control_rolling12_is_the_mean_of_the_last_twelve():
    counts = list(range(1, 31))
    out = monthly_control(_frame(counts))
    assert out["rolling12"].iloc[:11].isna().all()
    for i in range(11, 30):
        assert out["rolling12"].iloc[i] == pytest.approx(sum(counts[i - 11 : i + 1]) / 12)


def test_monthly_control_widens_limits_for_overdispersion():
    base = [25, 75] * 12  # mean 50, variance far above 50
    df = _frame(base + [50] * 12)
    phi = sum((c - 50) ** 2 / 50 for c in base) / 23  # 625 * 24 / 50 / 23 = 13.04
    wide = monthly_control(df)
    narrow = monthly_control(df, overdispersion=False)
    assert wide.attrs["phi"] == pytest.approx(phi)
    assert wide["ucl"].iloc[-1] == pytest.approx(50 + 3 * math.sqrt(phi * 50))
    assert narrow["ucl"].iloc[-1] == pytest.approx(50 + 3 * math.sqrt(50))
    assert "widened" in wide.attrs["note"]
    # the baseline alternation is chance-level noise once widened, but "signals" without it
    assert (narrow["signal"].iloc[:24] != "").sum() > 0
    assert (wide["signal"].iloc[:24] == "").all()


def test_monthly_control_short_series_uses_what_there_is_and_says_so():
    out = monthly_control(_frame([10] * 5 + [12] * 12))  # 5 months before the latest 12
    assert out["centre"].iloc[0] == pytest.approx(10)
    assert out.attrs["baseline_months_used"] == 5
    assert "Only 5 months before the latest 12" in out.attrs["note"]
    tiny = monthly_control(_frame([10, 12, 11]))
    assert tiny["centre"].iloc[0] == pytest.approx(11)
    assert "all of them" in tiny.attrs["note"]


def test_monthly_control_keeps_missing_months_missing():
    df = _frame(list(range(40, 76))).drop(index=[30]).reset_index(drop=True)  # a gap
    out = monthly_control(df)
    assert len(out) == 36
    assert math.isnan(out["count"].iloc[30]) and out["signal"].iloc[30] == ""
    assert out["rolling12"].iloc[30:].isna().all()  # every window from here on holds the gap
    assert not math.isnan(out["rolling12"].iloc[29])


def test_monthly_control_seasonal_centres_compare_like_months():
    season = [100] + [10] * 11  # January peak
    df = _frame(season * 3)  # Jan 2020 .. Dec 2022
    flat = monthly_control(df, overdispersion=False)
    seas = monthly_control(df, seasonal=True)
    assert flat["signal"].iloc[24] == "above"  # January looks unusual on a flat centre
    assert seas["centre"].iloc[24] == pytest.approx(100) and seas["centre"].iloc[25] == pytest.approx(10)
    assert (seas["signal"] == "").all()
    assert seas.attrs["phi"] == 1.0  # identical years: no extra spread
    short = monthly_control(_frame([10] * 18), seasonal=True)  # only 6 baseline months
    assert "one flat centre" in short.attrs["note"]


def test_monthly_control_refuses_repeated_months():
    df = pd.concat([_frame([1, 2]), _frame([3])])
    with pytest.raises(ValueError, match="only once"):
        monthly_control(df)


def test_monthly_control_on_the_real_robbery_series(warehouse):
    from csp_data.analysis import scorecard
    from csp_data.plan import measures

    series = scorecard.monthly_series(measures.get("robbery"))
    out = monthly_control(series[["month", "count"]])
    assert len(out) >= len(series)
    tail = out.tail(12)
    assert np.isfinite(tail[["centre", "lcl", "ucl"]].to_numpy()).all()
    assert (tail["lcl"] < tail["centre"]).all() and (tail["centre"] < tail["ucl"]).all()
    assert out.attrs["phi"] >= 1.0
    counts = out["count"].to_numpy()
    for i in range(len(out) - 12, len(out)):
        window = counts[i - 11 : i + 1]
        if np.isfinite(window).all():
            assert out["rolling12"].iloc[i] == pytest.approx(window.mean())
    assert set(out["signal"]) <= {"", "above", "below", "run above", "run below"}


# --------------------------------------------------------------------------- trajectory


BASE_FY, DEAD_FY = financial_year(2023), financial_year(2027)  # middles 1 Oct 2023 and 1 Oct 2027


def test_trajectory_factor_at_fixed_points():
    one = periods.make(date(2024, 1, 1), date(2024, 1, 1))
    dead = periods.make(date(2028, 1, 1), date(2028, 1, 1))
    assert trajectory_factor(date(2024, 1, 1), one, dead, -7) == pytest.approx(1.0)  # baseline middle
    assert trajectory_factor(date(2028, 1, 1), one, dead, -7) == pytest.approx(0.93)  # deadline middle
    assert trajectory_factor(date(2026, 1, 1), one, dead, -7) == pytest.approx(0.965)  # half-way
    assert trajectory_factor(date(2025, 1, 1), one, dead, -8) == pytest.approx(0.98)  # a quarter of the way
    assert trajectory_factor(date(2029, 6, 1), one, dead, -7) == pytest.approx(0.93)  # clamped after
    assert trajectory_factor(date(2022, 6, 1), one, dead, -7) == pytest.approx(1.0)  # held before
    assert trajectory_factor(date(2028, 1, 1), one, dead, 10) == pytest.approx(1.10)  # a rise target


def test_trajectory_factor_with_financial_years_uses_month_midpoints():
    # Sep 2025 and Oct 2025 sit half a month either side of the half-way point, 1 Oct 2025
    sep, oct_ = (trajectory_factor(date(2025, m, 1), BASE_FY, DEAD_FY, -7) for m in (9, 10))
    assert (sep + oct_) / 2 == pytest.approx(0.965)
    assert oct_ - sep == pytest.approx(-0.07 / 48)
    assert trajectory_factor(date(2023, 10, 1), BASE_FY, DEAD_FY, -7) == pytest.approx(1 - 0.07 * 0.5 / 48)
    assert trajectory_factor(date(2023, 9, 1), BASE_FY, DEAD_FY, -7) == 1.0
    assert trajectory_factor(date(2027, 9, 1), BASE_FY, DEAD_FY, -7) == pytest.approx(1 - 0.07 * 47.5 / 48)
    assert trajectory_factor(date(2027, 10, 1), BASE_FY, DEAD_FY, -7) == pytest.approx(0.93)
    with pytest.raises(ValueError, match="after"):
        trajectory_factor(date(2025, 1, 1), DEAD_FY, BASE_FY, -7)


SEASONAL_BASE = {m: (100 if m.month == 1 else 10) for m in BASE_FY.months()}  # Jan 100, others 10


def test_expected_on_path_compares_like_months():
    jan = [date(2026, 1, 1)]
    f = trajectory_factor(date(2026, 1, 1), BASE_FY, DEAD_FY, -7)
    assert expected_on_path(SEASONAL_BASE, jan, BASE_FY, DEAD_FY, -7) == pytest.approx(100 * f)
    assert expected_no_change(SEASONAL_BASE, jan, BASE_FY) == pytest.approx(100)
    # a flat average of the baseline year would have said 210 / 12 = 17.5
    assert expected_no_change(SEASONAL_BASE, jan, BASE_FY) != pytest.approx(210 / 12)
    q3 = [date(2025, 10, 1), date(2025, 11, 1), date(2025, 12, 1)]
    by_hand = sum(10 * trajectory_factor(m, BASE_FY, DEAD_FY, -7) for m in q3)
    assert expected_on_path(SEASONAL_BASE, q3, BASE_FY, DEAD_FY, -7) == pytest.approx(by_hand)
    assert expected_no_change(SEASONAL_BASE, financial_year(2025).months(), BASE_FY) == pytest.approx(210)


def test_expected_on_path_accepts_a_frame_and_averages_repeated_months():
    two_years = periods.make(date(2022, 4, 1), date(2024, 3, 1))
    frame = pd.DataFrame(
        {
            "month": pd.to_datetime(two_years.months()),
            "count": [
                20 if m.year == 2022 or (m.year == 2023 and m.month < 4) else 40 for m in two_years.months()
            ],
        }
    )
    assert expected_no_change(frame, [date(2025, 5, 1)], two_years) == pytest.approx(30)


def test_expected_on_path_refuses_an_incomplete_baseline():
    gappy = {m: c for m, c in SEASONAL_BASE.items() if m != date(2024, 2, 1)}
    with pytest.raises(ValueError, match="missing 1 month.*Feb 2024"):
        expected_on_path(gappy, [date(2026, 1, 1)], BASE_FY, DEAD_FY, -7)
    quarter = periods.make(date(2023, 4, 1), date(2023, 6, 1))
    with pytest.raises(ValueError, match="no January"):
        expected_no_change(SEASONAL_BASE, [date(2026, 1, 1)], quarter)


# --------------------------------------------------------------------------- target status


def _gamma_ratio(k, expected, alpha=0.05):
    """Independent exact interval via the gamma quantiles."""
    lo = 0.0 if k == 0 else st.gamma.ppf(alpha / 2, k)
    hi = st.gamma.ppf(1 - alpha / 2, k + 1)
    return lo / expected, hi / expected


def test_target_status_worked_example_words():
    s = target_status(1180, 1271, "lower", months_elapsed=10, target_change_pct=-7)
    assert isinstance(s, TargetStatus)
    assert s.status == "on track" and s.symbol == "✔"
    assert s.reason == (
        "1,180 recorded against 1,271 expected on the path to −7% "
        "(ratio 0.93, 95% interval 0.88–0.98): below the path with confidence."
    )
    lo, hi = _gamma_ratio(1180, 1271)
    assert (s.ratio_low, s.ratio_high) == (pytest.approx(lo), pytest.approx(hi))
    assert s.ratio == pytest.approx(1180 / 1271)


@pytest.mark.parametrize(
    ("obs", "exp", "direction", "months", "status", "symbol", "words"),
    [
        (900, 1000, "lower", 6, "on track", "✔", "below the path with confidence"),
        (1100, 1000, "lower", 6, "off track", "✖", "above the path with confidence"),
        (
            980,
            1000,
            "lower",
            6,
            "too early to tell",
            "…",
            "below the path so far, but not by more than chance",
        ),
        (1020, 1000, "lower", 6, "too early to tell", "…", "above the path so far"),
        (500, 1000, "lower", 2, "too early to tell", "…", "only 2 months in"),
        (1100, 1000, "higher", 6, "on track", "✔", "above the path with confidence"),
        (900, 1000, "higher", 6, "off track", "✖", "below the path with confidence"),
        (1020, 1000, "higher", 6, "too early to tell", "…", "above the path so far"),
        (40, 40, "higher", 12, "too early to tell", "…", "level with the path so far"),
    ],
)
def test_target_status_cases(obs, exp, direction, months, status, symbol, words):
    s = target_status(obs, exp, direction, months)
    assert (s.status, s.symbol) == (status, symbol)
    assert words in s.reason
    lo, hi = _gamma_ratio(obs, exp)
    assert s.ratio_low == pytest.approx(lo) and s.ratio_high == pytest.approx(hi)
    # the status agrees with the interval, never with the bare percentage
    if status != "too early to tell":
        assert (s.ratio_high <= 1) or (s.ratio_low >= 1)


def test_a_big_percentage_on_small_numbers_is_too_early():
    s = target_status(6, 10, "lower", months_elapsed=12)  # 40% below the path, but 6 vs 10
    assert s.status == "too early to tell" and s.ratio_low < 1 < s.ratio_high


def test_target_status_boundaries_follow_the_rule():
    k = 100
    lo, hi = poisson_ci(k)
    assert target_status(k, hi, "lower", 6).status == "on track"  # ratio_high == 1
    assert target_status(k, lo, "lower", 6).status == "too early to tell"  # ratio_low == 1, not > 1
    assert target_status(k, lo, "higher", 6).status == "on track"  # mirror
    assert target_status(k, hi, "higher", 6).status == "too early to tell"
    assert target_status(k, 50, "lower", 3).status == "off track"  # min_months reached
    assert target_status(k, 50, "lower", 3, min_months=4).status == "too early to tell"


def test_target_status_refuses_nonsense():
    with pytest.raises(ValueError, match="direction"):
        target_status(5, 5, "down", 6)
    with pytest.raises(ValueError, match="above 0"):
        target_status(5, 0, "lower", 6)
    with pytest.raises(ValueError, match="negative"):
        target_status(-1, 5, "lower", 6)


def test_target_symbols_are_shapes_not_colours():
    symbols = {
        target_status(*a).symbol
        for a in [(900, 1000, "lower", 6), (1100, 1000, "lower", 6), (1000, 1000, "lower", 6)]
    }
    assert symbols == {"✔", "✖", "…"}
    for s in symbols:
        assert len(s) == 1 and ord(s) < 0x10000


def test_recent_control_is_the_full_chart_cut_to_the_months_shown():
    """The trend chart's control limits come from the whole series; only the last months are shown."""
    months = pd.date_range("2021-01-01", periods=60, freq="MS").date
    df = pd.DataFrame({"month": months, "count": [100 + (i % 12) * 3 for i in range(60)], "snapshot": "x"})
    full = monthly_control(df[["month", "count"]], baseline_months=24)
    shown = stats.recent_control(df, months[-1], shown_months=36, baseline_months=24)
    assert len(shown) == 36 and shown.month.iloc[0] == months[-36]
    pd.testing.assert_frame_equal(shown, full.iloc[-36:].reset_index(drop=True))
