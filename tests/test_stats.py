"""Tests of ``csp_data.stats``: the exact conditional Poisson comparison and the period helpers.

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

from csp_data import stats
from csp_data.stats import add_months, compare_counts, fy_label, fy_start, month_label, period_label, rate_per_1000

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
    return float(min(Fraction(1), Fraction(2 * tail, 2 ** n)))


def clopper_pearson_ratio(current: int, previous: int, alpha: float = 0.05) -> tuple[float, float | None]:
    """Exact CI for the rate ratio from the Clopper-Pearson interval of p = current / total."""
    n = current + previous
    lo = 0.0 if current == 0 else st.beta.ppf(alpha / 2, current, n - current + 1)
    hi = 1.0 if current == n else st.beta.ppf(1 - alpha / 2, current + 1, n - current)
    return lo / (1 - lo), (None if hi >= 1 else hi / (1 - hi))


PAIRS = [(0, 1), (1, 0), (3, 9), (9, 3), (6, 0), (0, 6), (5, 0), (20, 20), (23, 37), (57, 31),
         (120, 100), (1294, 1422), (2343, 2441), (4466, 4100), (17, 4)]


# --------------------------------------------------------------------------- compare_counts


@pytest.mark.parametrize(("current", "previous"), PAIRS)
def test_p_value_matches_independent_exact_test(current, previous):
    c = compare_counts(current, previous)
    expected = exact_two_sided_p(current, previous)
    assert c.p_value == pytest.approx(expected, rel=1e-9, abs=1e-15)
    # and scipy's own exact binomial test agrees with the hand-computed value
    assert st.binomtest(current, current + previous, 0.5).pvalue == pytest.approx(expected, rel=1e-9, abs=1e-15)


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
    outcomes = {c.direction: c for c in (compare_counts(300, 150), compare_counts(150, 300), compare_counts(10, 10))}
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


@pytest.mark.parametrize(("pair", "lower_is_better", "expected"), [
    ((150, 300), True, "Improving"),
    ((300, 150), True, "Worsening"),
    ((150, 300), False, "Worsening"),
    ((300, 150), False, "Improving"),
    ((300, 150), None, "Rising"),
    ((150, 300), None, "Falling"),
    ((10, 10), True, "No real change"),
    ((10, 10), None, "No real change"),
    ((5, 0), True, "No real change"),
])
def test_direction_of_travel_in_words(pair, lower_is_better, expected):
    assert compare_counts(*pair).travel(lower_is_better) == expected


# --------------------------------------------------------------------------- periods


@pytest.mark.parametrize(("d", "n", "expected"), [
    (date(2025, 1, 1), -1, date(2024, 12, 1)),
    (date(2024, 12, 1), 1, date(2025, 1, 1)),
    (date(2025, 3, 1), -11, date(2024, 4, 1)),
    (date(2026, 2, 1), -23, date(2024, 3, 1)),
    (date(2025, 3, 1), 0, date(2025, 3, 1)),
    (date(2025, 6, 1), 24, date(2027, 6, 1)),
    (date(2025, 6, 1), -120, date(2015, 6, 1)),
    (date(2025, 1, 31), 1, date(2025, 2, 1)),  # always the first of the month, never 31 Feb
])
def test_add_months(d, n, expected):
    assert add_months(d, n) == expected


@pytest.mark.parametrize(("d", "start", "label"), [
    (date(2026, 1, 1), date(2025, 4, 1), "FY2025-26"),
    (date(2026, 3, 1), date(2025, 4, 1), "FY2025-26"),
    (date(2026, 3, 31), date(2025, 4, 1), "FY2025-26"),
    (date(2026, 4, 1), date(2026, 4, 1), "FY2026-27"),
    (date(2025, 12, 1), date(2025, 4, 1), "FY2025-26"),
    (date(2025, 4, 1), date(2025, 4, 1), "FY2025-26"),
    (date(2000, 3, 1), date(1999, 4, 1), "FY1999-00"),  # century wrap
    (date(2099, 4, 1), date(2099, 4, 1), "FY2099-00"),
])
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
