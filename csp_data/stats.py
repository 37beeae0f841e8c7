"""Statistics that don't cry wolf.

``compare_counts`` compares two counts over equal periods. Under the null hypothesis that both
periods share one Poisson rate, the current count given the total is Binomial(total, 1/2): this is
the exact conditional Poisson test (Przyborowski and Wilenski, 1940). Its two-sided p-value and an
exact confidence interval for the rate ratio (from the Clopper-Pearson interval for the binomial
proportion) decide the verdict, never the percentage alone.

Recorded crime is usually over-dispersed relative to Poisson (months vary more than chance), so
this test is, if anything, quick to call a change real: the verdict names the test and the
threshold used, and small counts are flagged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from scipy import stats as _st

ALPHA = 0.05
SMALL_COUNT = 20  # fewer than this in both periods: say the numbers are small


@dataclass(frozen=True)
class Comparison:
    current: int
    previous: int
    change: int
    pct_change: float | None      # None when previous == 0
    p_value: float
    ratio: float | None           # current / previous (None when previous == 0)
    ratio_low: float
    ratio_high: float | None      # None when unbounded
    significant: bool
    direction: str                # "up" | "down" | "flat" (significance-aware)
    verdict: str                  # words: "Significant rise" / "Significant fall" / "No significant change"
    symbol: str                   # ▲ / ▼ / ● — a shape, so colour is never the only signal
    small_numbers: bool

    def travel(self, lower_is_better: bool | None) -> str:
        """Direction of travel in plain words for a measure with a known good direction."""
        if self.direction == "flat" or lower_is_better is None:
            return "No real change" if self.direction == "flat" else ("Rising" if self.direction == "up" else "Falling")
        improving = (self.direction == "down") == lower_is_better
        return "Improving" if improving else "Worsening"


def compare_counts(current: int, previous: int, alpha: float = ALPHA) -> Comparison:
    """Exact conditional Poisson test of two counts from periods of equal length."""
    current, previous = int(current), int(previous)
    if current < 0 or previous < 0:
        raise ValueError("counts cannot be negative")
    total = current + previous
    if total == 0:
        p_value, lo_p, hi_p = 1.0, 0.0, 1.0
    else:
        res = _st.binomtest(current, total, 0.5, alternative="two-sided")
        p_value = float(res.pvalue)
        ci = res.proportion_ci(confidence_level=1 - alpha, method="exact")
        lo_p, hi_p = float(ci.low), float(ci.high)
    ratio_low = lo_p / (1 - lo_p) if lo_p < 1 else float("inf")
    ratio_high = hi_p / (1 - hi_p) if hi_p < 1 else None
    significant = p_value < alpha and total > 0
    if significant:
        direction = "up" if current > previous else "down"
    else:
        direction = "flat"
    verdict = {"up": "Significant rise", "down": "Significant fall", "flat": "No significant change"}[direction]
    symbol = {"up": "▲", "down": "▼", "flat": "●"}[direction]
    return Comparison(
        current=current, previous=previous, change=current - previous,
        pct_change=(current - previous) / previous * 100 if previous else None,
        p_value=p_value, ratio=current / previous if previous else None,
        ratio_low=ratio_low, ratio_high=ratio_high, significant=significant,
        direction=direction, verdict=verdict, symbol=symbol,
        small_numbers=max(current, previous) < SMALL_COUNT,
    )


# --------------------------------------------------------------------------- periods

def add_months(d: date, n: int) -> date:
    y, m = divmod(d.year * 12 + (d.month - 1) + n, 12)
    return date(y, m + 1, 1)


def fy_start(d: date) -> date:
    """1 April of the financial year containing month ``d``."""
    return date(d.year if d.month >= 4 else d.year - 1, 4, 1)


def fy_label(d: date) -> str:
    s = fy_start(d).year
    return f"FY{s}-{str(s + 1)[-2:]}"


def month_label(d: date) -> str:
    return d.strftime("%b %Y")


def period_label(start: date, end: date) -> str:
    return month_label(start) if start == end else f"{month_label(start)} to {month_label(end)}"


def rate_per_1000(count: float, population: float) -> float | None:
    return None if not population else count / population * 1000
