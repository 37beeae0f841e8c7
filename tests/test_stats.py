"""Tests of ``csp_data.analysis.stats``: the exact conditional Poisson comparison and the period helpers.

Expected p-values and intervals are computed here independently (exact binomial tail sums with
``math.comb`` and Clopper-Pearson bounds from the beta distribution), and cross-checked against
``scipy.stats.binomtest``; hand-worked cases pin the verdict words and symbols.
"""

from __future__ import annotations

import math
from datetime import date
from fractions import Fraction

import pytest
from scipy import stats as st

from csp_data.analysis import stats
from csp_data.analysis.stats import (
    compare_counts,
    rate_per_1000,
)
from csp_data.plan.periods import add_months, fy_label, fy_start, month_label, period_label

# --------------------------------------------------------------------------- independent reference


def exact_two_sided_p(current: int, previous: int) -> float:
    """Conditional Poisson test by hand: X | total ~ Binomial(total, 1/2), two-sided.

    Binomial(n, 1/2) is symmetric, so the "as likely or less likely" two-sided p-value equals
    twice the smaller tail, P(X <= min(current, previous)), capped at 1. Exact integer arithmetic
    (binomial coefficients built up term by term), no scipy.
    """
    n = current + previous
    m = min(current, previous)
    if n == 0 or current == previous:
        return 1.0
    term, tail = 1, 0
    for k in range(m + 1):
        tail += term
        term = term * (n - k) // (k + 1)
    return float(min(Fraction(1), Fraction(2 * tail, 2**n)))


def clopper_pearson_ratio(current: int, previous: int, alpha: float = 0.05) -> tuple[float, float | None]:
    """Exact CI for the rate ratio from the Clopper-Pearson interval of p = current / total."""
    n = current + previous
    lo = 0.0 if current == 0 else st.beta.ppf(alpha / 2, current, n - current + 1)
    hi = 1.0 if current == n else st.beta.ppf(1 - alpha / 2, current + 1, n - current)
    return lo / (1 - lo), (None if hi >= 1 else hi / (1 - hi))


PAIRS = [
    (0, 1),
    (1, 0),
    (3, 9),
    (9, 3),
    (6, 0),
    (0, 6),
    (5, 0),
    (20, 20),
    (23, 37),
    (57, 31),
    (120, 100),
    (1294, 1422),
    (2343, 2441),
    (4466, 4100),
    (17, 4),
]


# --------------------------------------------------------------------------- compare_counts


@pytest.mark.parametrize(("current", "previous"), PAIRS)
def test_p_value_matches_independent_exact_test(current, previous):
    c = compare_counts(current, previous)
    expected = exact_two_sided_p(current, previous)
    assert c.p_value == pytest.approx(expected, rel=1e-9, abs=1e-15)
    # and scipy's own exact binomial test agrees with the hand-computed value
    assert st.binomtest(current, current + previous, 0.5).pvalue == pytest.approx(
        expected, rel=1e-9, abs=1e-15
    )


@pytest.mark.parametrize(("current", "previous"), PAIRS)
def test_rate_ratio_interval_is_clopper_pearson(current, previous):
    c = compare_counts(current, previous)
    lo, hi = clopper_pearson_ratio(current, previous)
    assert c.ratio_low == pytest.approx(lo, rel=1e-7, abs=1e-12)
    if hi is None:
        assert c.ratio_high is None
    else:
        assert c.ratio_high == pytest.approx(hi, rel=1e-7)
    if previous:
        assert c.ratio == pytest.approx(current / previous)
        assert c.ratio_low <= c.ratio
        assert c.ratio_high is None or c.ratio <= c.ratio_high


@pytest.mark.parametrize(("current", "previous"), PAIRS)
def test_verdict_follows_the_p_value_and_the_direction(current, previous):
    c = compare_counts(current, previous)
    p = exact_two_sided_p(current, previous)
    assert c.significant is (p < 0.05)
    if not c.significant:
        assert (c.direction, c.verdict, c.symbol) == ("flat", "No significant change", "●")
    elif current > previous:
        assert (c.direction, c.verdict, c.symbol) == ("up", "Significant rise", "▲")
    else:
        assert (c.direction, c.verdict, c.symbol) == ("down", "Significant fall", "▼")
    assert c.change == current - previous


def test_equal_counts_are_not_significant():
    c = compare_counts(250, 250)
    assert c.p_value == pytest.approx(1.0)
    assert not c.significant
    assert c.verdict == "No significant change" and c.symbol == "●" and c.direction == "flat"
    assert c.pct_change == 0.0 and c.ratio == 1.0
    assert c.ratio_low < 1 < c.ratio_high


def test_zero_against_zero():
    c = compare_counts(0, 0)
    assert c.p_value == 1.0
    assert not c.significant
    assert c.verdict == "No significant change" and c.symbol == "●"
    assert c.change == 0
    assert c.pct_change is None and c.ratio is None  # no division by zero
    assert c.small_numbers


def test_large_clear_rise_is_a_significant_rise():
    c = compare_counts(300, 150)
    assert c.p_value < 1e-10
    assert c.significant
    assert c.direction == "up"
    assert c.verdict == "Significant rise"
    assert c.symbol == "▲"
    assert c.pct_change == pytest.approx(100.0)
    assert c.ratio_low > 1  # the whole interval is above "no change"
    assert not c.small_numbers


def test_large_clear_fall_is_a_significant_fall():
    c = compare_counts(150, 300)
    assert c.significant and c.direction == "down"
    assert (c.verdict, c.symbol) == ("Significant fall", "▼")
    assert c.pct_change == pytest.approx(-50.0)
    assert c.ratio_high < 1


def test_from_zero_six_is_significant_but_five_is_not():
    """Hand-worked: n vs 0 has two-sided p = 2 * 0.5**n: 0.03125 for 6, 0.0625 for 5."""
    six, five = compare_counts(6, 0), compare_counts(5, 0)
    assert six.p_value == pytest.approx(0.03125)
    assert five.p_value == pytest.approx(0.0625)
    assert six.significant and six.verdict == "Significant rise" and six.symbol == "▲"
    assert not five.significant and five.verdict == "No significant change"
    assert six.pct_change is None and six.ratio is None and six.ratio_high is None


def test_a_big_percentage_on_small_numbers_is_not_called_a_change():
    c = compare_counts(4, 2)  # +100% but well within chance
    assert c.pct_change == pytest.approx(100.0)
    assert not c.significant and c.verdict == "No significant change"
    assert c.small_numbers


def test_small_numbers_flag_means_both_periods_under_twenty():
    assert compare_counts(19, 5).small_numbers
    assert not compare_counts(20, 5).small_numbers
    assert not compare_counts(5, 20).small_numbers


def test_alpha_is_respected():
    c = compare_counts(60, 40)  # p ~ 0.057
    assert 0.05 < c.p_value < 0.06
    assert not c.significant
    loose = compare_counts(60, 40, alpha=0.10)
    assert loose.significant and loose.verdict == "Significant rise"
    lo, hi = clopper_pearson_ratio(60, 40, alpha=0.10)
    assert loose.ratio_low == pytest.approx(lo) and loose.ratio_high == pytest.approx(hi)


def test_negative_counts_are_refused():
    with pytest.raises(ValueError, match="negative"):
        compare_counts(-1, 5)
    with pytest.raises(ValueError, match="negative"):
        compare_counts(5, -1)


def test_verdict_and_interval_never_disagree():
    """Significant exactly when the interval for the rate ratio excludes 1, over a grid."""
    for a in range(0, 31):
        for b in range(0, 31):
            c = compare_counts(a, b)
            excludes_one = c.ratio_low > 1 or (c.ratio_high is not None and c.ratio_high < 1)
            assert excludes_one == c.significant, (a, b)


def test_verdicts_never_rely_on_colour():
    """Each outcome has its own words and its own shape; no colour names or colour emoji."""
    outcomes = {
        c.direction: c for c in (compare_counts(300, 150), compare_counts(150, 300), compare_counts(10, 10))
    }
    assert set(outcomes) == {"up", "down", "flat"}
    symbols = {c.symbol for c in outcomes.values()}
    words = {c.verdict for c in outcomes.values()}
    assert len(symbols) == 3 and len(words) == 3
    assert symbols == {"▲", "▼", "●"}
    for c in outcomes.values():
        assert c.verdict.strip() and any(ch.isalpha() for ch in c.verdict)
        text = c.verdict.lower()
        for colour in ("red", "green", "amber", "orange", "yellow"):
            assert colour not in text
        # a geometric shape character, not a coloured emoji (those are astral-plane code points)
        assert len(c.symbol) == 1 and ord(c.symbol) < 0x2800


@pytest.mark.parametrize(
    ("pair", "lower_is_better", "expected"),
    [
        ((150, 300), True, "Improving"),
        ((300, 150), True, "Worsening"),
        ((150, 300), False, "Worsening"),
        ((300, 150), False, "Improving"),
        ((300, 150), None, "Rising"),
        ((150, 300), None, "Falling"),
        ((10, 10), True, "No real change"),
        ((10, 10), None, "No real change"),
        ((5, 0), True, "No real change"),
    ],
)
def test_direction_of_travel_in_words(pair, lower_is_better, expected):
    assert compare_counts(*pair).travel(lower_is_better) == expected


# --------------------------------------------------------------------------- periods


@pytest.mark.parametrize(
    ("d", "n", "expected"),
    [
        (date(2025, 1, 1), -1, date(2024, 12, 1)),
        (date(2024, 12, 1), 1, date(2025, 1, 1)),
        (date(2025, 3, 1), -11, date(2024, 4, 1)),
        (date(2026, 2, 1), -23, date(2024, 3, 1)),
        (date(2025, 3, 1), 0, date(2025, 3, 1)),
        (date(2025, 6, 1), 24, date(2027, 6, 1)),
        (date(2025, 6, 1), -120, date(2015, 6, 1)),
        (date(2025, 1, 31), 1, date(2025, 2, 1)),  # always the first of the month, never 31 Feb
    ],
)
def test_add_months(d, n, expected):
    assert add_months(d, n) == expected


@pytest.mark.parametrize(
    ("d", "start", "label"),
    [
        (date(2026, 1, 1), date(2025, 4, 1), "FY2025-26"),
        (date(2026, 3, 1), date(2025, 4, 1), "FY2025-26"),
        (date(2026, 3, 31), date(2025, 4, 1), "FY2025-26"),
        (date(2026, 4, 1), date(2026, 4, 1), "FY2026-27"),
        (date(2025, 12, 1), date(2025, 4, 1), "FY2025-26"),
        (date(2025, 4, 1), date(2025, 4, 1), "FY2025-26"),
        (date(2000, 3, 1), date(1999, 4, 1), "FY1999-00"),  # century wrap
        (date(2099, 4, 1), date(2099, 4, 1), "FY2099-00"),
    ],
)
def test_financial_year(d, start, label):
    assert fy_start(d) == start
    assert fy_label(d) == label


def test_period_label():
    assert period_label(date(2025, 3, 1), date(2025, 3, 1)) == "Mar 2025"
    assert period_label(date(2025, 4, 1), date(2026, 2, 1)) == "Apr 2025 to Feb 2026"
    assert period_label(date(2024, 12, 1), date(2025, 1, 1)) == "Dec 2024 to Jan 2025"
    assert month_label(date(2026, 1, 1)) == "Jan 2026"


def test_rate_per_1000():
    assert rate_per_1000(50, 20_000) == pytest.approx(2.5)
    assert rate_per_1000(0, 1_000) == 0.0
    # no population: no rate (None), never a division error or an infinite rate
    assert rate_per_1000(5, 0) is None
    assert rate_per_1000(5, None) is None


def test_module_thresholds_are_what_the_words_promise():
    assert stats.ALPHA == 0.05
    assert stats.SMALL_COUNT == 20


# --------------------------------------------------------------------------- over-dispersion (issue 13)


@pytest.mark.parametrize(("current", "previous"), PAIRS)
def test_phi_one_is_exactly_the_exact_test(current, previous):
    assert compare_counts(current, previous, phi=1.0) == compare_counts(current, previous)
    assert compare_counts(current, previous, phi=0.7) == compare_counts(current, previous)  # floored at 1
    assert compare_counts(current, previous).method == "exact conditional Poisson test"


@pytest.mark.parametrize(
    ("current", "previous", "phi"),
    [(1294, 1422, 4.0), (120, 100, 2.5), (30, 12, 3.0), (1000, 1000, 5.0), (0, 9, 2.0), (7, 0, 3.0)],
)
def test_quasi_poisson_test_is_the_beta_form_on_effective_counts(current, previous, phi):
    """With phi > 1 the test is the conditional test on current/phi and previous/phi: recomputed
    here from the regularised incomplete beta function (scipy.special.betainc) and the
    Clopper-Pearson bounds on the effective counts."""
    from scipy.special import betainc

    a, b = current / phi, previous / phi
    upper = 1.0 if a == 0 else betainc(a, b + 1, 0.5)
    lower = 1.0 if b == 0 else betainc(b, a + 1, 0.5)
    c = compare_counts(current, previous, phi=phi)
    assert c.p_value == pytest.approx(min(1.0, 2 * min(upper, lower)), rel=1e-9)
    lo = 0.0 if a == 0 else st.beta.ppf(0.025, a, b + 1)
    hi = 1.0 if b == 0 else st.beta.ppf(0.975, a + 1, b)
    assert c.ratio_low == pytest.approx(lo / (1 - lo), rel=1e-9, abs=1e-12)
    assert (c.ratio_high is None) if hi >= 1 else c.ratio_high == pytest.approx(hi / (1 - hi), rel=1e-9)
    assert c.phi == phi and c.method == f"quasi-Poisson conditional test (dispersion {phi:.2f})"


def test_quasi_poisson_test_agrees_with_the_normal_approximation_for_large_counts():
    """For large counts the quasi test is the z-test of log(current/previous) with variance
    phi (1/current + 1/previous): the two p-values agree closely."""
    current, previous, phi = 4466, 4100, 6.0
    z = math.log(current / previous) / math.sqrt(phi * (1 / current + 1 / previous))
    c = compare_counts(current, previous, phi=phi)
    assert c.p_value == pytest.approx(2 * st.norm.sf(abs(z)), rel=0.1)
    exact = compare_counts(current, previous)
    assert exact.significant and not c.significant  # +8.9%: real for Poisson, not with phi = 6


def test_wider_for_more_dispersion():
    cs = [compare_counts(1180, 1300, phi=p) for p in (1, 2, 4, 8)]
    assert [c.p_value for c in cs] == sorted(c.p_value for c in cs)
    assert all(a.ratio_low > b.ratio_low and a.ratio_high < b.ratio_high for a, b in zip(cs, cs[1:]))


def test_fdr_control_matches_statsmodels_and_names_the_family():
    from statsmodels.stats.multitest import multipletests

    pairs = [(60, 30), (45, 30), (35, 30), (30, 30), (20, 30), (12, 30), (31, 29), (80, 40)]
    raw = [compare_counts(a, b, phi=1.5) for a, b in pairs]
    out = stats.fdr_control(raw + [None], family="8 wards")
    assert out[-1] is None
    reject, q, _, _ = multipletests([c.p_value for c in raw], alpha=0.05, method="fdr_bh")
    for c, r, qq in zip(out, reject, q):
        assert c.q_value == pytest.approx(qq, rel=1e-12) and c.significant is bool(r)
        assert c.tested == 8 and c.family == "8 wards"
        assert c.verdict == (
            "No significant change"
            if not r
            else "Significant rise"
            if c.current > c.previous
            else "Significant fall"
        )
    assert any(reject) and not all(reject)
    assert (
        stats.plain_words(out[3], None)
        == "within normal variation (after allowing for 8 wards tested at once)"
    )
    assert "after allowing for 8 wards tested at once" in out[0].test_words


def _series(counts, start=date(2023, 3, 1)):
    import pandas as pd

    return pd.DataFrame({"month": [add_months(start, i) for i in range(len(counts))], "count": counts})


def test_series_dispersion_matches_statsmodels():
    """Pearson chi2/df of statsmodels' Poisson GLM with a level per calendar month (synthetic series)."""
    import numpy as np
    import pandas as pd
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    rng = np.random.default_rng(13)
    moy = np.array([(2 + i) % 12 + 1 for i in range(36)])
    y = rng.negative_binomial(20, 20 / (20 + 100 * (1 + 0.2 * np.sin(moy))))  # synthetic, over-dispersed
    d = stats.series_dispersion(_series(y))
    fit = smf.glm("y ~ C(moy)", pd.DataFrame({"y": y, "moy": moy}), family=sm.families.Poisson()).fit(
        scale="X2"
    )
    assert d.phi == pytest.approx(max(1.0, fit.scale), rel=1e-9) and d.phi > 2
    assert d.df == fit.df_resid == 24 and d.months == 36
    res = np.asarray(fit.resid_pearson)
    assert d.rho == pytest.approx(min(0.9, max(0.0, res[:-1] @ res[1:] / (res @ res) * 36 / 35)), abs=1e-12)


def test_series_dispersion_fallbacks_say_what_they_did():
    flat = stats.series_dispersion(_series([100, 140, 60, 120, 80, 110, 90, 130, 70, 100]))
    assert flat.model.startswith("variance-to-mean") and flat.df == 9
    assert flat.phi == pytest.approx(
        sum((c - 100) ** 2 for c in [100, 140, 60, 120, 80, 110, 90, 130, 70, 100]) / 100 / 9
    )
    assert "too few months for seasons" in flat.note
    tiny = stats.series_dispersion(_series([5, 9, 2]))
    assert tiny.phi == 1.0 and "could not be measured" in tiny.note
    calm = stats.series_dispersion(_series([50] * 36))
    assert calm.phi == 1.0 and "no more than chance" in calm.note
    # a missing month is left out, never a zero
    gappy = _series([100.0] * 20 + [float("nan")] + [100.0] * 15)
    assert stats.series_dispersion(gappy).months == 35


def test_ar1_inflation_by_hand():
    d = stats.Dispersion(phi=2.0, rho=0.5)
    # one 2-month sum: (2 + 2 * 0.5) / 2 = 1.5
    assert d.for_sum(2) == pytest.approx(2.0 * 1.5)
    # two back-to-back single months: Var(b - a) = 2 - 2 * 0.5 = 1 -> 1 / 2, floored at 1
    assert d.for_comparison(1) == pytest.approx(2.0)
    # two single months 11 apart: correlation 0.5^12, Var(b - a) = 2 - 2 * 0.5^12 < 2: floored at 1
    assert d.for_comparison(1, gap=11) == 2.0
    # 3-month sums back to back: w'Rw / 6 with R_ij = 0.5^|i-j|, summed term by term
    w = [-1, -1, -1, 1, 1, 1]
    v = sum(w[i] * w[j] * 0.5 ** abs(i - j) for i in range(6) for j in range(6)) / 6
    assert stats.Dispersion(phi=2.0, rho=0.5).for_comparison(3) == pytest.approx(2.0 * max(1.0, v))
    assert stats.Dispersion(phi=2.0, rho=0.5).for_sum(12) == pytest.approx(
        2.0 * sum(0.5 ** abs(i - j) for i in range(12) for j in range(12)) / 12
    )
    assert stats.Dispersion(phi=3.0, rho=0.0).for_comparison(12) == 3.0


def test_area_dispersion_matches_statsmodels():
    import numpy as np
    import pandas as pd
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    rng = np.random.default_rng(7)
    areas, months = [f"A{i}" for i in range(6)], [add_months(date(2023, 1, 1), i) for i in range(24)]
    mu = np.outer(rng.uniform(5, 40, 6), rng.uniform(0.8, 1.2, 24))
    y = rng.negative_binomial(5, 5 / (5 + mu))  # synthetic, over-dispersed
    frame = pd.DataFrame({"area": np.repeat(areas, 24), "month": months * 6, "count": y.ravel()})
    d = stats.area_dispersion(frame)
    f = frame.assign(m=frame["month"].astype(str))
    fit = smf.glm("count ~ C(area) + C(m)", f, family=sm.families.Poisson()).fit(scale="X2")
    assert d.phi == pytest.approx(max(1.0, fit.scale), rel=1e-6)
    assert d.df == fit.df_resid == 5 * 23


def test_quasi_poisson_interval_and_tails():
    assert stats.quasi_poisson_ci(37, phi=1.0) == stats.poisson_ci(37)
    lo, hi = stats.quasi_poisson_ci(400, phi=4.0)
    # Garwood on the effective count 100, scaled back by 4 (chi-square form)
    assert lo == pytest.approx(st.chi2.ppf(0.025, 200) / 2 * 4, rel=1e-9)
    assert hi == pytest.approx(st.chi2.ppf(0.975, 202) / 2 * 4, rel=1e-9)
    assert stats.quasi_poisson_tails(9, 4.0) == pytest.approx((st.poisson.sf(8, 4.0), st.poisson.cdf(9, 4.0)))
    h, l = stats.quasi_poisson_tails(30, 15.0, phi=3.0)
    assert h == pytest.approx(st.chi2.cdf(10, 20), rel=1e-9) and l == pytest.approx(
        st.chi2.sf(10, 22), rel=1e-9
    )
