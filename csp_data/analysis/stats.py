"""Statistics that don't cry wolf.

One model for counts is behind every verdict (docs/STATISTICS.md §1-3). ``compare_counts``
compares two counts over equal periods with the conditional test: under "no change" the current
count given the total is Binomial(total, 1/2) (the exact conditional Poisson test, Przyborowski and
Wilenski, 1940, when ``phi`` = 1). Recorded crime varies more than Poisson chance, so the test is
quasi-Poisson: :func:`series_dispersion` measures the series' own dispersion ``phi`` (and the
correlation of neighbouring months, ``rho``) from a seasonal fit, :func:`compare_in_series` turns
them into the dispersion of the two sums compared, and the test runs on the effective counts
``count / phi``. Many areas at once (:func:`area_dispersion`, :func:`compare_areas`) add a pooled
area dispersion and Benjamini-Hochberg control across the areas (:func:`fdr_control`). The p-value
and the rate-ratio interval decide the verdict, never the percentage alone; the verdict names the
test (``Comparison.method``) and small counts are flagged.

The rest of the module answers the other two questions the partnership asks:

* *Is this month unusual?* Control charts (:func:`c_chart`, :func:`u_chart`, and
  :func:`monthly_control` for the app) draw a centre line and limits that ordinary month-to-month
  chance stays inside, and flag months outside them or long runs on one side.
* *Are we on track for the target?* :func:`trajectory_factor` draws a straight path from the
  baseline year to the target year, :func:`expected_on_path` turns it into an expected count
  (comparing like months with like, so seasons don't fool it) and :func:`target_status` says
  "on track", "off track" or "too early to tell" from a quasi-Poisson interval around the
  observed count (the same model), never from a bare percentage.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

import numpy as np
import pandas as pd
from scipy import stats as _st

from csp_data.plan.periods import Period, add_months, month_index

ALPHA = 0.05
SMALL_COUNT = 20  # fewer than this in both periods: say the numbers are small


EXACT_METHOD = "exact conditional Poisson test"

# The symbols shown with every verdict: a shape as well as words, so colour is never the only signal.
# The one table of them (targets, the pages and the briefing pack read these).
DIRECTION_SYMBOLS = {"up": "▲", "down": "▼", "flat": "●"}  # a change over time
VERDICTS = {"up": "Significant rise", "down": "Significant fall", "flat": "No significant change"}
STATUS_SYMBOLS = {  # a target's status
    "on track": "✔",
    "off track": "✖",
    "too early to tell": "…",
    "awaiting data": "○",
    "met": "✔",
    "not met": "✖",
}


@dataclass(frozen=True)
class Comparison:
    current: int
    previous: int
    change: int
    pct_change: float | None  # None when previous == 0
    p_value: float
    ratio: float | None  # current / previous (None when previous == 0)
    ratio_low: float
    ratio_high: float | None  # None when unbounded
    significant: bool
    direction: str  # "up" | "down" | "flat" (significance-aware)
    verdict: str  # words: "Significant rise" / "Significant fall" / "No significant change"
    symbol: str  # ▲ / ▼ / ● — a shape, so colour is never the only signal
    small_numbers: bool
    phi: float = 1.0  # dispersion the test allowed for (1 = pure Poisson)
    method: str = EXACT_METHOD  # the test in words, e.g. "quasi-Poisson conditional test (dispersion 4.2)"
    q_value: float | None = None  # Benjamini-Hochberg q when this is one of many areas tested at once
    tested: int = 1  # how many comparisons were judged together (1 = this one alone)
    family: str = ""  # what was tested at once, e.g. "20 wards"

    def travel(self, lower_is_better: bool | None) -> str:
        """Direction of travel in plain words for a measure with a known good direction."""
        if self.direction == "flat" or lower_is_better is None:
            return (
                "No real change"
                if self.direction == "flat"
                else ("Rising" if self.direction == "up" else "Falling")
            )
        improving = (self.direction == "down") == lower_is_better
        return "Improving" if improving else "Worsening"

    @property
    def words(self) -> str:
        """The verdict as a councillor would say it (no good/bad judgement): see :func:`plain_words`."""
        return plain_words(self, None)

    @property
    def test_words(self) -> str:
        """The test and its threshold in words, e.g. for a caption: "quasi-Poisson conditional test
        (dispersion 4.2), p = 0.031" or, for many areas, "... q = 0.21 after allowing for 20 wards
        tested at once"."""
        if self.q_value is not None and self.tested > 1:
            return f"{self.method}, q = {self.q_value:.2g} after allowing for {self.family or self.tested} tested at once"
        return f"{self.method}, p = {self.p_value:.3g}"


def _binom_tails(a: float, b: float) -> tuple[float, float]:
    """(P(X >= a), P(X <= a)) for X ~ Binomial(a + b, 1/2), through the beta form that also takes
    non-whole "effective" counts: P(X >= a) = I_1/2(a, b + 1), P(X <= a) = I_1/2(b, a + 1)."""
    upper = 1.0 if a <= 0 else float(_st.beta.cdf(0.5, a, b + 1))
    lower = 1.0 if b <= 0 else float(_st.beta.cdf(0.5, b, a + 1))
    return upper, lower


def compare_counts(current: int, previous: int, alpha: float = ALPHA, *, phi: float = 1.0) -> Comparison:
    """Conditional test of two counts from periods of equal length, allowing for over-dispersion.

    With ``phi == 1`` (pure Poisson) it is the exact conditional Poisson test: given the total, the
    current count is Binomial(total, 1/2) under "no change" (scipy's exact binomial test, with the
    Clopper-Pearson interval turned into a rate-ratio interval).

    With ``phi > 1`` (months vary ``phi`` times more than Poisson chance; see
    :func:`series_dispersion`) it is the quasi-Poisson version of the same test: a count with
    variance ``phi * mean`` carries the information of a Poisson count ``count / phi``, so the
    test and the interval are computed on the effective counts ``current / phi`` and
    ``previous / phi`` through the beta form of the binomial tails (which accepts non-whole
    counts). The ratio itself is unchanged; its interval widens by about ``sqrt(phi)`` and the
    p-value is that of a change ``sqrt(phi)`` times smaller. ``phi`` below 1 is treated as 1.
    """
    current, previous = int(current), int(previous)
    if current < 0 or previous < 0:
        raise ValueError("counts cannot be negative")
    if not (phi == phi and phi > 0):
        raise ValueError(f"phi must be a positive number, got {phi!r}")
    phi = max(1.0, float(phi))
    total = current + previous
    if total == 0:
        p_value, lo_p, hi_p = 1.0, 0.0, 1.0
    elif phi == 1.0:
        res = _st.binomtest(current, total, 0.5, alternative="two-sided")
        p_value = float(res.pvalue)
        ci = res.proportion_ci(confidence_level=1 - alpha, method="exact")
        lo_p, hi_p = float(ci.low), float(ci.high)
    else:
        a, b = current / phi, previous / phi
        upper, lower = _binom_tails(a, b)
        p_value = min(1.0, 2 * min(upper, lower))
        lo_p = 0.0 if a <= 0 else float(_st.beta.ppf(alpha / 2, a, b + 1))
        hi_p = 1.0 if b <= 0 else float(_st.beta.ppf(1 - alpha / 2, a + 1, b))
    ratio_low = lo_p / (1 - lo_p) if lo_p < 1 else float("inf")
    ratio_high = hi_p / (1 - hi_p) if hi_p < 1 else None
    significant = p_value < alpha and total > 0
    if significant:
        direction = "up" if current > previous else "down"
    else:
        direction = "flat"
    verdict, symbol = VERDICTS[direction], DIRECTION_SYMBOLS[direction]
    method = EXACT_METHOD if phi == 1.0 else f"quasi-Poisson conditional test (dispersion {phi:.2f})"
    return Comparison(
        current=current,
        previous=previous,
        change=current - previous,
        pct_change=(current - previous) / previous * 100 if previous else None,
        p_value=p_value,
        ratio=current / previous if previous else None,
        ratio_low=ratio_low,
        ratio_high=ratio_high,
        significant=significant,
        direction=direction,
        verdict=verdict,
        symbol=symbol,
        small_numbers=max(current, previous) < SMALL_COUNT,
        phi=phi,
        method=method,
    )


def _with_significance(c: Comparison, significant: bool, **changes) -> Comparison:
    direction = ("up" if c.current > c.previous else "down") if significant else "flat"
    verdict, symbol = VERDICTS[direction], DIRECTION_SYMBOLS[direction]
    return replace(c, significant=significant, direction=direction, verdict=verdict, symbol=symbol, **changes)


def fdr_control(
    comparisons: Sequence[Comparison | None], alpha: float = ALPHA, *, family: str = ""
) -> list[Comparison | None]:
    """Benjamini-Hochberg control of the false discovery rate across areas tested at once.

    Each comparison's p-value becomes a q-value (scipy's ``false_discovery_control``, method
    "bh", over the comparisons that exist; None entries stay None) and a change is significant
    only when its q-value is below ``alpha``: of the areas called "real", at most ``alpha`` are
    expected to be chance. ``family`` names what was tested (e.g. "20 wards") for the words.
    """
    idx = [i for i, c in enumerate(comparisons) if c is not None]
    out: list[Comparison | None] = list(comparisons)
    if not idx:
        return out
    p = np.asarray([c.p_value for c in comparisons if c is not None], dtype=np.float64)
    q = _st.false_discovery_control(p, method="bh") if len(p) > 1 else p
    n = len(idx)
    fam = family or f"{n} areas"
    for i, qi in zip(idx, q):
        c = comparisons[i]
        assert c is not None
        out[i] = _with_significance(
            c, bool(qi < alpha and c.current + c.previous > 0), q_value=float(qi), tested=n, family=fam
        )
    return out


# --------------------------------------------------------------------------- dispersion


@dataclass(frozen=True)
class Dispersion:
    """How much more a monthly count series varies than Poisson chance, and how alike
    neighbouring months are.

    ``phi``: Pearson chi-square / df of the months about a fitted model, floored at 1.
    ``rho``: lag-1 autocorrelation of the Pearson residuals, clipped to [0, 0.9] (months that
    run high together make sums of months vary more than ``phi`` alone says).
    ``df``: residual degrees of freedom; ``months``: months used; ``model``: the fit used;
    ``note``: plain words for a caption.
    """

    phi: float = 1.0
    rho: float = 0.0
    df: int = 0
    months: int = 0
    model: str = "Poisson assumed"
    note: str = ""

    def for_sum(self, k: int) -> float:
        """Effective dispersion of one sum of ``k`` consecutive months: ``phi`` times the AR(1)
        variance inflation ``(k + 2 * sum_j (k - j) rho^j) / k``."""
        return self.phi * _ar1_inflation(k, None, self.rho)

    def for_comparison(self, k: int, gap: int = 0) -> float:
        """Effective dispersion of the difference between two ``k``-month sums, the later one
        starting ``gap`` months after the earlier one ends (0: back to back, as last 12 months vs
        the 12 before; ``12 - k`` for a year to date against the same months a year earlier)."""
        return self.phi * _ar1_inflation(k, gap, self.rho)


POISSON = Dispersion(note="Pure Poisson variation assumed.")


def _ar1_inflation(k: int, gap: int | None, rho: float) -> float:
    """Variance of a k-month sum (gap None) or of the difference of two k-month sums ``gap`` months
    apart, for unit-variance months with AR(1) correlation ``rho``, over the same with rho = 0."""
    k = max(1, int(k))
    if rho <= 0:
        return 1.0
    if gap is None:
        pos = np.arange(k)
        w = np.ones(k)
    else:
        pos = np.concatenate([np.arange(k), np.arange(k + gap, 2 * k + gap)])
        w = np.concatenate([-np.ones(k), np.ones(k)])
    cov = rho ** np.abs(pos[:, None] - pos[None, :])
    return float(max(1.0, w @ cov @ w / len(w)))


def poisson_glm(y: np.ndarray, X: np.ndarray, iters: int = 50) -> np.ndarray:
    """Fitted means of a Poisson GLM with log link (iteratively reweighted least squares).
    Checked against statsmodels in the tests; written out to keep statsmodels out of the app."""
    y = np.asarray(y, dtype=float)
    mu = y + 0.5
    eta = np.log(mu)
    beta = None
    for _ in range(iters):
        z = eta + (y - mu) / mu
        w = mu
        xtw = X.T * w
        new = np.linalg.lstsq(xtw @ X, xtw @ z, rcond=None)[0]
        eta = np.clip(X @ new, -30, 30)
        mu = np.exp(eta)
        if beta is not None and np.max(np.abs(new - beta)) < 1e-9:
            break
        beta = new
    return mu


def _design(month_dates: Sequence[date], seasonal: bool, trend: bool) -> np.ndarray:
    n = len(month_dates)
    cols = [np.ones(n)]
    if seasonal:
        moy = np.array([d.month for d in month_dates])
        cols += [(moy == m).astype(float) for m in range(2, 13)]
    if trend:
        idx = np.array([month_index(d) for d in month_dates], dtype=float)
        cols.append((idx - idx.mean()) / 12.0)
    return np.column_stack(cols)


def _lag1(resid: np.ndarray, month_idx: np.ndarray) -> float:
    """Lag-1 autocorrelation of residuals over pairs of consecutive months (both present): the mean
    product of neighbours over the mean square."""
    month_idx = np.asarray(month_idx)
    nxt = np.searchsorted(month_idx, month_idx + 1)
    nxt = np.minimum(nxt, len(month_idx) - 1)
    has = month_idx[nxt] == month_idx + 1
    npairs = int(has.sum())
    denom = float(np.sum(resid**2))
    if npairs < 6 or denom <= 0:
        return 0.0
    return float(np.sum(resid[has] * resid[nxt[has]]) / npairs / (denom / len(resid)))


DISPERSION_MONTHS = 36
MIN_SEASONAL_MONTHS = 24


def _first_of_month(m) -> date:
    if isinstance(m, date) and not isinstance(m, pd.Timestamp):
        return m if m.day == 1 else date(m.year, m.month, 1)
    t = pd.Timestamp(m)
    return date(t.year, t.month, 1)


def series_dispersion(
    series: pd.DataFrame, end: date | None = None, months: int = DISPERSION_MONTHS
) -> Dispersion:
    """Dispersion of a monthly count series from its own residuals around a seasonal fit.

    ``series`` has columns ``month`` and ``count``; the ``months`` months up to ``end`` (default:
    the latest) are used, missing months left out (never zero). The fit is a Poisson GLM with
    log link and a level for each calendar month (12 parameters: seasons are not counted as
    noise); ``phi`` is its Pearson chi-square over the residual degrees of freedom, floored at 1
    (statsmodels' ``GLM(..., Poisson).fit(scale="X2").scale``). ``rho`` is the lag-1
    autocorrelation of the Pearson residuals (clipped to [0, 0.9]).

    No trend term, on purpose: calibration (tests/test_calibration.py, docs/STATISTICS.md §1)
    showed that a fitted linear trend soaks up the slow wandering of months that run together, so
    phi and rho come out small and a no-change series is called "real" up to 20% of the time;
    without it the false-alarm rate stays at or below 5% for every correlation seen in our series.
    The price is power: a steady trend within the 36 months counts as variation.

    Fallbacks, each named in ``model`` and ``note``: with fewer than 24 months, the plain
    variance-to-mean ratio about one level (seasons then count as noise: cautious); with fewer than
    4 months, Poisson is assumed and the note says the extra variation could not be measured.
    """
    data: dict[date, float] = {}
    for m, v in zip(series["month"], series["count"]):
        if v is None or (isinstance(v, float) and math.isnan(v)) or pd.isna(v):
            continue
        data[_first_of_month(m)] = float(v)
    if end is not None:
        end = _first_of_month(end)
        data = {m: v for m, v in data.items() if m <= end}
    if not data:
        return replace(
            POISSON, note="No months to measure the variation from; pure Poisson variation assumed."
        )
    last = max(data)
    first = add_months(last, -(months - 1))
    md = sorted(m for m in data if m >= first)
    y = np.array([data[m] for m in md])
    n = len(y)
    span = f"{md[0]:%b %Y} to {md[-1]:%b %Y}"
    if n < 4:
        return Dispersion(
            1.0,
            0.0,
            0,
            n,
            "Poisson assumed",
            f"Only {n} month{'s' if n != 1 else ''} of data: the extra variation could not be "
            "measured, so pure Poisson variation is assumed — treat verdicts with care.",
        )
    moy = np.array([d.month for d in md])
    if n >= MIN_SEASONAL_MONTHS and all((moy == k).any() for k in range(1, 13)):
        # A level per calendar month: the Poisson MLE is that month's mean, no iteration needed.
        mu = np.array([y[moy == k].mean() for k in moy])
        n_par, model = 12, "seasonal Poisson fit (a level per calendar month)"
    else:
        mu = np.full(n, y.mean())
        n_par, model = 1, "variance-to-mean ratio (too few months for seasons)"
    ok = mu > 1e-9
    resid = np.where(ok, (y - mu) / np.sqrt(np.where(ok, mu, 1.0)), 0.0)
    dof = n - n_par
    raw = float(np.sum(resid**2) / dof) if dof > 0 else 1.0
    phi = max(1.0, raw)
    rho = min(0.9, max(0.0, _lag1(resid, np.array([month_index(d) for d in md])))) if n >= 12 else 0.0
    note = (
        f"Months vary {phi:.1f} times as much as chance alone ({model}, {span})"
        + (f"; neighbouring months run together (lag-1 correlation {rho:.2f})" if rho > 0 else "")
        + "."
    )
    if phi == 1.0 and raw < 1:
        note = f"Months vary no more than chance alone ({model}, {span})."
    return Dispersion(phi, rho, dof, n, model, note)


def area_dispersion(
    frame: pd.DataFrame, area: str = "area", end: date | None = None, months: int = DISPERSION_MONTHS
) -> Dispersion:
    """Dispersion pooled across areas from an area x month table (columns ``area``, ``month``,
    ``count``): the Poisson model with an effect for each area and each month (the independence
    model, fitted in closed form: expected = area total x month total / grand total) and its
    Pearson chi-square over ``(areas - 1)(months - 1)``, floored at 1. Month effects absorb the
    borough's seasons and trend; what remains is how much more each area's months vary than
    chance. One pooled figure is far steadier than each area's own. ``rho`` is the pooled lag-1
    autocorrelation of the residuals within areas. Needs a complete table (missing cells dropped
    with their whole month)."""
    cells: dict[tuple, float] = {}
    for a_, m, v in zip(frame[area], frame["month"], frame["count"]):
        if v is None or pd.isna(v):
            continue
        k = (a_, _first_of_month(m))
        cells[k] = cells.get(k, 0.0) + float(v)
    if end is not None:
        end = _first_of_month(end)
        cells = {k: v for k, v in cells.items() if k[1] <= end}
    if not cells:
        return replace(
            POISSON, note="No area months to measure the variation from; pure Poisson variation assumed."
        )
    last = max(k[1] for k in cells)
    first = add_months(last, -(months - 1))
    areas = sorted({k[0] for k in cells})
    cols = sorted({k[1] for k in cells if k[1] >= first})
    full = np.array([[cells.get((a_, m), np.nan) for m in cols] for a_ in areas])
    keep_cols = np.isfinite(full).all(axis=0)  # a month some area lacks is dropped whole
    full, cols = full[:, keep_cols], [c for c, k in zip(cols, keep_cols) if k]
    full = full[full.sum(axis=1) > 0] if full.size else full
    if full.size:
        nz = full.sum(axis=0) > 0
        full, cols = full[:, nz], [c for c, k in zip(cols, nz) if k]
    n_a, n_m = full.shape if full.ndim == 2 else (0, 0)
    if n_a < 2 or n_m < 4:
        return replace(
            POISSON,
            months=n_m,
            note="Too few areas or months to measure the extra variation; "
            "pure Poisson variation assumed — treat verdicts with care.",
        )
    obs = full
    exp = np.outer(obs.sum(axis=1), obs.sum(axis=0)) / obs.sum()
    resid = (obs - exp) / np.sqrt(exp)
    dof = (n_a - 1) * (n_m - 1)
    raw = float(np.sum(resid**2) / dof)
    phi = max(1.0, raw)
    num = float(np.sum(resid[:, :-1] * resid[:, 1:]))
    rho = min(0.9, max(0.0, num / float(np.sum(resid**2)) * n_m / (n_m - 1))) if n_m >= 12 else 0.0
    note = (
        f"Area months vary {phi:.1f} times as much as chance alone (pooled over {n_a} areas, "
        f"{cols[0]:%b %Y} to {cols[-1]:%b %Y})"
        + (f"; neighbouring months run together (lag-1 correlation {rho:.2f})" if rho > 0 else "")
        + "."
    )
    return Dispersion(phi, rho, dof, n_m, "area x month Poisson model (pooled)", note)


def compare_areas(
    current: Sequence[int],
    previous: Sequence[int | None],
    dispersion: Dispersion,
    months: int,
    gap: int = 0,
    alpha: float = ALPHA,
    *,
    family: str = "",
) -> list[Comparison | None]:
    """Change verdicts for many areas at once, the one model for area tables: each area's count
    against its own earlier count (None: no earlier period held, no verdict) by
    :func:`compare_counts` with the pooled area dispersion (:func:`area_dispersion`) for sums of
    ``months`` months ``gap`` apart, then Benjamini-Hochberg control across the areas
    (:func:`fdr_control`), so about ``alpha`` of the areas called "real" are chance, not ``alpha``
    of all areas."""
    phi = dispersion.for_comparison(months, gap)
    raw = [
        None if p is None else compare_counts(int(c), int(p), alpha, phi=phi)
        for c, p in zip(current, previous)
    ]
    return fdr_control(raw, alpha, family=family)


def compare_in_series(
    series: pd.DataFrame,
    current: tuple[date, date],
    previous: tuple[date, date],
    alpha: float = ALPHA,
    *,
    dispersion: Dispersion | None = None,
) -> Comparison | None:
    """The one verdict for a period against an equal earlier period of a monthly series: the
    sums over each (None when any month is missing) compared by :func:`compare_counts` with the
    series' own dispersion (:func:`series_dispersion` up to the end of the current period),
    inflated for the correlation of neighbouring months over windows of that length and gap."""
    months = {_first_of_month(m): v for m, v in zip(series["month"], series["count"])}

    def total(w: tuple[date, date]) -> tuple[int | None, int]:
        ms = [w[0]]
        while ms[-1] < w[1]:
            ms.append(add_months(ms[-1], 1))
        vals = [months.get(m) for m in ms]
        if any(v is None or pd.isna(v) for v in vals):
            return None, len(ms)
        return int(sum(v for v in vals if v is not None)), len(ms)

    (cur, k), (prev, kp) = total(current), total(previous)
    if cur is None or prev is None:
        return None
    if k != kp:
        raise ValueError("the two periods must have the same number of months")
    disp = dispersion or series_dispersion(series, end=current[1])
    gap = max(0, month_index(current[0]) - month_index(previous[1]) - 1)
    return compare_counts(cur, prev, alpha, phi=disp.for_comparison(k, gap))


# --------------------------------------------------------------------------- rates


def rate_per_1000(count: float, population: float) -> float | None:
    return None if not population else count / population * 1000


def rate_ci_per_1000(count: int, population: float, alpha: float = ALPHA) -> tuple[float, float] | None:
    """Exact interval for a rate per 1,000 residents: the Poisson interval of the count
    (:func:`poisson_ci`) divided by the population. None when there is no population."""
    if not population:
        return None
    lo, hi = poisson_ci(count, alpha)
    return lo / population * 1000, hi / population * 1000


# --------------------------------------------------------------------------- plain words


def plain_words(c: Comparison, lower_is_better: bool | None) -> str:
    """A sentence fragment for a two-period comparison that a councillor understands.

    "a real rise" / "a real fall" when the test (allowing for the series' own extra variation,
    see :func:`compare_counts`) says the change is bigger than chance, and
    "within normal variation" when it does not. When the measure has a known good direction
    (``lower_is_better`` True or False) a real change also says whether it is an improvement or a
    worsening. A comparison judged as one of many areas at once (:func:`fdr_control`) adds
    "(after allowing for 20 wards tested at once)". Small counts add "— small numbers, treat with care".
    """
    if c.direction == "flat":
        text = "within normal variation"
    else:
        text = "a real rise" if c.direction == "up" else "a real fall"
        if lower_is_better is not None:
            improving = (c.direction == "down") == lower_is_better
            text += ", an improvement" if improving else ", a worsening"
    if c.tested > 1 and c.q_value is not None:
        text += f" (after allowing for {c.family or c.tested} tested at once)"
    if c.small_numbers:
        text += " — small numbers, treat with care"
    return text


# --------------------------------------------------------------------------- Poisson intervals


def poisson_ci(count: int, alpha: float = ALPHA) -> tuple[float, float]:
    """Exact (Garwood) confidence interval for the mean of a Poisson count.

    The interval holds every mean under which the observed count is not in either
    ``alpha / 2`` tail. Through the link between the Poisson and chi-square distributions that is
    ``chi2(alpha/2; 2k) / 2`` to ``chi2(1 - alpha/2; 2k + 2) / 2``. With a count of 0 the lower
    end is 0 (and the upper end still uses ``alpha / 2``: 3.689 at 95%). It is conservative:
    it covers the true mean at least ``1 - alpha`` of the time.
    """
    if count < 0 or (isinstance(count, float) and not float(count).is_integer()):
        raise ValueError(f"a Poisson count must be a whole number >= 0, got {count!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha!r}")
    k = int(count)
    lower = 0.0 if k == 0 else float(_st.chi2.ppf(alpha / 2, 2 * k)) / 2
    upper = float(_st.chi2.ppf(1 - alpha / 2, 2 * k + 2)) / 2
    return lower, upper


def quasi_poisson_ci(count: int, alpha: float = ALPHA, *, phi: float = 1.0) -> tuple[float, float]:
    """Interval for the mean of a count whose variance is ``phi`` times its mean.

    With ``phi`` = 1 it is :func:`poisson_ci` (exact Garwood). Otherwise the count carries the
    information of a Poisson count ``count / phi``: the Garwood interval of that effective count
    (its gamma form, which takes non-whole counts) is scaled back by ``phi``, about ``sqrt(phi)``
    times wider.
    """
    if phi <= 1.0:
        return poisson_ci(count, alpha)
    if count < 0:
        raise ValueError(f"a count must be >= 0, got {count!r}")
    k = count / phi
    lower = 0.0 if k == 0 else float(_st.gamma.ppf(alpha / 2, k))
    upper = float(_st.gamma.ppf(1 - alpha / 2, k + 1))
    return lower * phi, upper * phi


def quasi_poisson_tails(count: int, expected: float, phi: float = 1.0) -> tuple[float, float]:
    """(P(X >= count), P(X <= count)) for a count with mean ``expected`` and variance ``phi`` times
    the mean: the Poisson tails (exact when ``phi`` = 1) of the effective count ``count / phi``
    against ``expected / phi``, through their gamma form. NaN when nothing is expected to test."""
    if expected is None or not np.isfinite(expected):
        return float("nan"), float("nan")
    if phi <= 1.0:
        return float(_st.poisson.sf(count - 1, expected)), float(_st.poisson.cdf(count, expected))
    k, e = count / phi, expected / phi
    if e <= 0:
        return (0.0 if k > 0 else 1.0), 1.0
    high = 1.0 if k <= 0 else float(_st.gamma.cdf(e, k))
    low = float(_st.gamma.sf(e, k + 1))
    return high, low


# --------------------------------------------------------------------------- control charts

RUN_LENGTH = 8  # this many points in a row on one side of the centre is a signal


def overdispersion_phi(
    counts: Sequence[float] | np.ndarray,
    centres: Sequence[float] | np.ndarray | float | None = None,
    n_params: int = 1,
) -> float:
    """How much more counts vary than Poisson chance allows, floored at 1.

    Pearson's chi-square of the counts about their expected values (by default their own mean),
    divided by its degrees of freedom (number of counts minus ``n_params`` fitted values):
    ``phi = sum((c - m)^2 / m) / (n - n_params)``. For a single mean this is the ratio of the
    variance to the mean, which is 1 for pure Poisson counts. Values below 1 are treated as 1
    (limits are never narrowed), and with too few counts to judge the answer is 1. Missing
    values (NaN) are ignored.
    """
    c = np.asarray(counts, dtype=float)
    if centres is None:
        m = np.full_like(c, np.nanmean(c) if np.isfinite(c).any() else np.nan)
    else:
        m = np.broadcast_to(np.asarray(centres, dtype=float), c.shape)
    ok = np.isfinite(c) & np.isfinite(m) & (m > 0)
    df = int(ok.sum()) - n_params
    if df < 1:
        return 1.0
    chi2 = float(np.sum((c[ok] - m[ok]) ** 2 / m[ok]))
    return max(1.0, chi2 / df)


def _signals(values: np.ndarray, centre: np.ndarray, lcl: np.ndarray, ucl: np.ndarray) -> list[str]:
    """'above'/'below' beyond a limit; 'run above'/'run below' on the 8th and later point of a run
    on one side of the centre (a point on the centre, or a missing one, ends the run)."""
    out: list[str] = []
    run_side, run_len = 0, 0
    for v, c, lo, hi in zip(values, centre, lcl, ucl):
        if not (np.isfinite(v) and np.isfinite(c)):
            out.append("")
            run_side, run_len = 0, 0
            continue
        side = 1 if v > c else (-1 if v < c else 0)
        if side != 0 and side == run_side:
            run_len += 1
        else:
            run_side, run_len = side, (1 if side else 0)
        if np.isfinite(hi) and v > hi:
            out.append("above")
        elif np.isfinite(lo) and v < lo:
            out.append("below")
        elif run_len >= RUN_LENGTH:
            out.append("run above" if run_side > 0 else "run below")
        else:
            out.append("")
    return out


def c_chart(
    counts: Sequence[float], baseline: slice | None = None, sigma: float = 3.0, *, phi: float = 1.0
) -> pd.DataFrame:
    """Shewhart c-chart for counts from equal-sized periods (e.g. crimes per month).

    The centre is the mean of the baseline counts (default: all of them). If counts were pure
    Poisson chance around that centre their standard deviation would be ``sqrt(centre)``, so the
    limits are ``centre ± sigma * sqrt(centre)`` (the lower one floored at 0). ``phi`` > 1 widens
    them to ``sigma * sqrt(phi * centre)`` for over-dispersed counts (see :func:`monthly_control`).

    ``signal`` is "above" / "below" for a point beyond a limit, "run above" / "run below" on the
    8th and later point of 8 or more in a row on one side of the centre (only when the point is
    not already beyond a limit), otherwise "". Missing counts (NaN) get no signal and break runs.
    Columns: count, centre, lcl, ucl, signal.
    """
    c = np.asarray(counts, dtype=float)
    base = c[baseline] if baseline is not None else c
    base = base[np.isfinite(base)]
    centre = float(base.mean()) if base.size else float("nan")
    centres = np.full(c.shape, centre)
    return _chart(c, centres, np.sqrt(phi * centres), sigma)


def _chart(values: np.ndarray, centre: np.ndarray, sd: np.ndarray, sigma: float) -> pd.DataFrame:
    lcl = np.maximum(centre - sigma * sd, 0.0)
    ucl = centre + sigma * sd
    return pd.DataFrame(
        {
            "count": values,
            "centre": centre,
            "lcl": lcl,
            "ucl": ucl,
            "signal": _signals(values, centre, lcl, ucl),
        }
    )


def u_chart(
    counts: Sequence[float],
    exposure: Sequence[float],
    baseline: slice | None = None,
    sigma: float = 3.0,
    *,
    phi: float = 1.0,
) -> pd.DataFrame:
    """Shewhart u-chart for counts over unequal exposures (e.g. crimes per 1,000 residents by ward).

    Each point is a rate ``u_i = c_i / n_i``. The centre is the pooled baseline rate
    ``ū = Σc / Σn`` (not the average of the rates, so big areas weigh more). A Poisson count
    with mean ``ū·n_i`` has a rate with standard deviation ``sqrt(ū / n_i)``, so each point gets
    its own limits ``ū ± sigma * sqrt(ū / n_i)``, floored at 0: narrow for big exposures, wide for
    small ones. ``phi`` widens them as in :func:`c_chart`. Signals as in :func:`c_chart`, judged
    on the rate. Columns: count, exposure, rate, centre, lcl, ucl, signal.
    """
    c = np.asarray(counts, dtype=float)
    n = np.asarray(exposure, dtype=float)
    if c.shape != n.shape:
        raise ValueError(f"counts ({c.size}) and exposure ({n.size}) must be the same length")
    if (n[np.isfinite(n)] < 0).any():
        raise ValueError("exposure cannot be negative")
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(n > 0, c / n, np.nan)
    cb, nb = (c[baseline], n[baseline]) if baseline is not None else (c, n)
    ok = np.isfinite(cb) & np.isfinite(nb) & (nb > 0)
    ubar = float(cb[ok].sum() / nb[ok].sum()) if ok.any() and nb[ok].sum() > 0 else float("nan")
    centres = np.full(c.shape, ubar)
    with np.errstate(divide="ignore", invalid="ignore"):
        sd = np.where(n > 0, np.sqrt(phi * ubar / n), np.nan)
    out = _chart(rate, centres, sd, sigma)
    out = out.rename(columns={"count": "rate"})
    out.insert(0, "count", c)
    out.insert(1, "exposure", n)
    return out


def monthly_control(
    df: pd.DataFrame,
    baseline_months: int = 24,
    seasonal: bool = False,
    overdispersion: bool = True,
    sigma: float = 3.0,
) -> pd.DataFrame:
    """Control chart of a monthly count series, judging recent months against an earlier baseline.

    ``df`` has columns ``month`` (first-of-month dates) and ``count``. Months absent from ``df``
    between the first and last are kept as missing (NaN), never zero: they get no limits-based
    signal, break runs and blank the rolling mean.

    * **Baseline.** The centre comes from the ``baseline_months`` months *before the latest 12*,
      so the latest year is judged against an earlier, settled period rather than against itself.
      With fewer months than that, all the months before the latest 12 are used; with 12 or fewer
      in all, every month is used (the latest months then help set their own yardstick). The
      ``note`` says which happened.
    * **Seasonal** (``seasonal=True``): each month's centre is the baseline mean for the same
      calendar month (all Januaries, all Februaries, ...), so a usual summer peak is not flagged.
      It needs every calendar month in the baseline (otherwise the flat centre is used, and the
      note says so); with a 24-month baseline each seasonal centre rests on only two values, so
      prefer a longer baseline.
    * **Over-dispersion** (``overdispersion=True``, the default). Recorded crime varies more from
      month to month than Poisson chance alone (reporting, operations, weather, seasons), so plain
      3-sigma Poisson limits flag more months than the ~0.3% chance would suggest. In the spirit of
      Laney's p'/u' charts the limits are widened by ``sqrt(phi)``, where ``phi`` is the Pearson
      chi-square of the baseline counts about their centre divided by its degrees of freedom
      (variance over mean), floored at 1 (:func:`overdispersion_phi`). Laney estimates the extra
      spread from moving ranges; the Pearson version also counts any trend or (when not seasonal)
      seasonality within the baseline as extra spread, which makes the widening, if anything,
      generous: a flagged month is then all the more likely to be real.
    * ``rolling12`` is the mean of the latest 12 months (NaN until 12 months exist, or when any of
      them is missing), the usual way to see the trend through the seasons.

    Columns: month, count, rolling12, centre, lcl, ucl, signal, in_baseline. ``attrs`` holds
    ``note`` (plain words about the baseline and widening), ``phi``, ``baseline`` (a
    :class:`~csp_data.plan.periods.Period` or None) and ``baseline_months_used``.
    """
    columns = ["month", "count", "rolling12", "centre", "lcl", "ucl", "signal", "in_baseline"]
    if baseline_months < 1:
        raise ValueError("baseline_months must be at least 1")
    if df.empty:
        out = pd.DataFrame(
            {c: pd.Series(dtype=object if c in ("month", "signal") else float) for c in columns}
        )
        out.attrs.update(note="No months to chart.", phi=1.0, baseline=None, baseline_months_used=0)
        return out

    months = pd.to_datetime(df["month"]).dt.to_period("M").dt.to_timestamp()
    if months.duplicated().any():
        dup = sorted({m.strftime("%Y-%m") for m in months[months.duplicated()]})
        raise ValueError(f"each month may appear only once; repeated: {', '.join(dup)}")
    series = pd.Series(
        pd.to_numeric(df["count"], errors="coerce").to_numpy(dtype=float), index=months
    ).sort_index()
    full = pd.date_range(series.index.min(), series.index.max(), freq="MS")
    series = series.reindex(full)
    n = len(series)
    counts = series.to_numpy()
    month_dates = [ts.date() for ts in full]

    notes: list[str] = []
    if n > 12:
        b_end = n - 12
        b_start = max(0, b_end - baseline_months)
        if b_end - b_start < baseline_months:
            notes.append(
                f"Only {b_end} month{'s' if b_end != 1 else ''} before the latest 12 were available "
                f"for the baseline ({baseline_months} wanted)."
            )
    else:
        b_start, b_end = 0, n
        notes.append(
            f"Only {n} month{'s' if n != 1 else ''} of data, so the baseline is all of them, "
            "including the months being judged."
        )
    in_base = np.zeros(n, dtype=bool)
    in_base[b_start:b_end] = True
    base_counts = counts[b_start:b_end]
    n_missing = int((~np.isfinite(base_counts)).sum())
    if n_missing:
        notes.append(
            f"{n_missing} baseline month{'s are' if n_missing != 1 else ' is'} missing and left out."
        )

    base_period = Period(month_dates[b_start], month_dates[b_end - 1])
    centres = np.full(n, np.nanmean(base_counts) if np.isfinite(base_counts).any() else np.nan)
    n_params = 1
    if seasonal:
        moy = np.array([d.month for d in month_dates])
        base_moy = moy[b_start:b_end]
        ok = np.isfinite(base_counts)
        by_moy = {m: base_counts[ok & (base_moy == m)] for m in range(1, 13)}
        if all(v.size for v in by_moy.values()):
            centres = np.array([by_moy[m].mean() for m in moy])
            n_params = 12
        else:
            absent = [date(2000, m, 1).strftime("%b") for m, v in by_moy.items() if not v.size]
            notes.append(
                f"Seasonal centres need every calendar month in the baseline ({', '.join(absent)} "
                "missing), so one flat centre is used."
            )

    phi = overdispersion_phi(base_counts, centres[b_start:b_end], n_params) if overdispersion else 1.0
    chart = _chart(counts, centres, np.sqrt(phi * centres), sigma)

    base_words = f"Centre{'s' if n_params == 12 else ''} and limits from {base_period.start:%b %Y} to {base_period.end:%b %Y}"
    if n_params == 12:
        base_words += " (like months compared with like)"
    if overdispersion and phi > 1:
        base_words += (
            f"; limits widened ×{math.sqrt(phi):.2f} because months vary more than chance alone "
            f"(dispersion {phi:.2f})"
        )
    notes.insert(0, base_words + ".")

    out = pd.DataFrame(
        {
            "month": month_dates,
            "count": counts,
            "rolling12": series.rolling(12, min_periods=12).mean().to_numpy(),
            "centre": chart["centre"].to_numpy(),
            "lcl": chart["lcl"].to_numpy(),
            "ucl": chart["ucl"].to_numpy(),
            "signal": chart["signal"].to_numpy(),
            "in_baseline": in_base,
        }
    )
    out.attrs.update(
        note=" ".join(notes),
        phi=phi,
        baseline=base_period,
        baseline_months_used=int(np.isfinite(base_counts).sum()),
    )
    return out


def recent_control(
    series: pd.DataFrame, latest: date, shown_months: int = 36, baseline_months: int = 24
) -> pd.DataFrame:
    """The control chart a measure's trend shows: :func:`monthly_control` of the whole ``series``
    (columns ``month`` and ``count``; the baseline is the ``baseline_months`` before the latest 12),
    cut to the ``shown_months`` months up to ``latest``."""
    ctrl = monthly_control(series[["month", "count"]], baseline_months=baseline_months)
    return ctrl[ctrl.month >= add_months(latest, -(shown_months - 1))].reset_index(drop=True)


# --------------------------------------------------------------------------- targets


def _period_middle(p: Period) -> float:
    """Middle of a period on a month scale where month ``m`` runs from index(m) to index(m) + 1."""
    return (month_index(p.start) + month_index(p.end) + 1) / 2


def trajectory_factor(month: date, baseline: Period, deadline: Period, target_change_pct: float) -> float:
    """Where the straight path from the baseline to the target stands in ``month``, as a multiple
    of the baseline level.

    Time is measured in months, each month at its midpoint. The path is 1 at the middle of the
    baseline period and ``1 + target_change_pct / 100`` at the middle of the deadline period,
    a straight line in between. It is held at 1 before the middle of the baseline and at the
    target after the middle of the deadline, so it never asks for more than the target itself.
    (For a 12-month deadline year that means its first half is still on the way down, so the
    whole deadline year on the path comes out a shade short of the full target: over a four-year
    plan about 3% of the target change, e.g. −6.8% instead of −7% — far inside the Poisson noise
    of a year's count.)
    """
    b_mid, d_mid = _period_middle(baseline), _period_middle(deadline)
    if d_mid <= b_mid:
        raise ValueError(
            f"the deadline ({deadline.start:%b %Y} to {deadline.end:%b %Y}) must come after "
            f"the baseline ({baseline.start:%b %Y} to {baseline.end:%b %Y})"
        )
    t = month_index(date(month.year, month.month, 1)) + 0.5
    frac = min(1.0, max(0.0, (t - b_mid) / (d_mid - b_mid)))
    return 1.0 + target_change_pct / 100 * frac


def _baseline_by_month_of_year(
    baseline_monthly: Mapping[date, int] | pd.DataFrame, baseline: Period
) -> dict[int, float]:
    """Mean baseline count for each calendar month present in the baseline period."""
    if isinstance(baseline_monthly, pd.DataFrame):
        keys = pd.to_datetime(baseline_monthly["month"])
        data = {date(k.year, k.month, 1): v for k, v in zip(keys, baseline_monthly["count"])}
    else:
        data = {date(k.year, k.month, 1): v for k, v in baseline_monthly.items()}
    wanted = baseline.months()
    missing = [m for m in wanted if m not in data or data[m] is None or pd.isna(data[m])]
    if missing:
        raise ValueError(
            f"the baseline {baseline.start:%b %Y} to {baseline.end:%b %Y} is missing "
            f"{len(missing)} month{'s' if len(missing) != 1 else ''} ({', '.join(f'{m:%b %Y}' for m in missing)}); "
            "every baseline month is needed to compare like months with like (a missing month is never zero)"
        )
    groups: dict[int, list[float]] = {}
    for m in wanted:
        groups.setdefault(m.month, []).append(float(data[m]))
    return {moy: sum(v) / len(v) for moy, v in groups.items()}


def _like_month_sum(baseline_monthly, months: Sequence[date], baseline: Period, factor) -> float:
    by_moy = _baseline_by_month_of_year(baseline_monthly, baseline)
    absent = sorted({m.month for m in months} - by_moy.keys())
    if absent:
        names = ", ".join(date(2000, a, 1).strftime("%B") for a in absent)
        raise ValueError(
            f"the baseline {baseline.start:%b %Y} to {baseline.end:%b %Y} has no {names} to compare "
            "like with like; use a baseline of whole years"
        )
    return float(sum(by_moy[m.month] * factor(m) for m in months))


def expected_on_path(
    baseline_monthly: Mapping[date, int] | pd.DataFrame,
    months: Sequence[date],
    baseline: Period,
    deadline: Period,
    target_change_pct: float,
) -> float:
    """Expected count over ``months`` if the measure were exactly on the path to the target.

    Seasons are allowed for by comparing like months with like: each month contributes the
    baseline count for the same calendar month (the mean of them when the baseline covers a
    calendar month more than once) times :func:`trajectory_factor` for that month. So a summer
    month is compared with the baseline summer, not with an average month.

    ``baseline_monthly`` is a mapping month -> count or a frame with ``month`` and ``count``.
    Every month of the baseline period must be present (a 12-month baseline needs all twelve
    calendar months) and every calendar month asked about must appear in it; otherwise a
    ValueError says what is missing.
    """
    return _like_month_sum(
        baseline_monthly,
        months,
        baseline,
        lambda m: trajectory_factor(m, baseline, deadline, target_change_pct),
    )


def expected_no_change(
    baseline_monthly: Mapping[date, int] | pd.DataFrame, months: Sequence[date], baseline: Period
) -> float:
    """Expected count over ``months`` from the baseline alone (like months with like, no change):
    :func:`expected_on_path` with the path held at 1."""
    return _like_month_sum(baseline_monthly, months, baseline, lambda m: 1.0)


@dataclass(frozen=True)
class TargetStatus:
    status: str  # "on track" | "off track" | "too early to tell"
    ratio: float  # observed / expected on the path
    ratio_low: float  # quasi-Poisson interval of the observed count, divided by the expected
    ratio_high: float
    reason: str  # one plain-words sentence
    symbol: str  # ✔ on track, ✖ off track, … too early: a shape, never only a colour
    observed: int = 0
    expected: float = 0.0


def _pct_words(pct: float) -> str:
    return f"{pct:+g}%".replace("-", "−")


def target_status(
    observed: int,
    expected_path: float,
    direction: str,
    months_elapsed: int,
    min_months: int = 3,
    alpha: float = ALPHA,
    *,
    target_change_pct: float | None = None,
    phi: float = 1.0,
) -> TargetStatus:
    """On track, off track or too early to tell, from an interval, never from a bare percentage.

    The observed count is treated as quasi-Poisson with dispersion ``phi`` (variance ``phi`` times
    the mean; ``phi`` = 1 is pure Poisson). Its interval (:func:`quasi_poisson_ci`: the exact
    Garwood interval when ``phi`` = 1) divided by the count expected on the path gives an interval
    for the ratio observed / expected. Callers pass the series' own dispersion for a sum of the
    months assessed (:meth:`Dispersion.for_sum`), the same model as every other verdict. For a
    measure where lower is better (``direction="lower"``):

    * the whole interval at or below 1 (``ratio_high <= 1``): **on track** — below the path with
      confidence;
    * the whole interval above 1 (``ratio_low > 1``): **off track** — above the path with
      confidence;
    * otherwise the interval includes the path: **too early to tell**, and the reason says on
      which side the count lies so far.

    ``direction="higher"`` is the mirror image. Fewer than ``min_months`` months into the plan is
    always too early to tell. The expected count is treated as fixed: the target is set against
    the recorded baseline, so the baseline is a given, not an estimate. ``target_change_pct`` only adds "on the path to −7%" to the words.
    """
    if direction not in ("lower", "higher"):
        raise ValueError(f"direction must be 'lower' or 'higher', got {direction!r}")
    if observed < 0:
        raise ValueError("the observed count cannot be negative")
    if not expected_path > 0:
        raise ValueError(f"the expected count on the path must be above 0, got {expected_path!r}")
    observed = int(observed)
    phi = max(1.0, float(phi))
    lo, hi = quasi_poisson_ci(observed, alpha, phi=phi)
    ratio, r_lo, r_hi = observed / expected_path, lo / expected_path, hi / expected_path

    conf = f"{(1 - alpha) * 100:g}%"
    path = "the path" if target_change_pct is None else f"the path to {_pct_words(target_change_pct)}"
    allow = f", allowing for counts varying {phi:.1f} times as much as chance alone" if phi > 1 else ""
    head = (
        f"{observed:,d} recorded against {expected_path:,.0f} expected on {path} "
        f"(ratio {ratio:.2f}, {conf} interval {r_lo:.2f}–{r_hi:.2f}{allow})"
    )
    side = "below" if ratio < 1 else ("above" if ratio > 1 else "level with")
    good_side = "below" if direction == "lower" else "above"

    if months_elapsed < min_months:
        status = "too early to tell"
        reason = (
            f"{head}: only {months_elapsed} month{'s' if months_elapsed != 1 else ''} in, too early to tell "
            f"(at least {min_months} needed)."
        )
    else:
        confidently_below, confidently_above = r_hi <= 1, r_lo > 1
        if direction == "higher":
            confidently_below, confidently_above = r_hi < 1, r_lo >= 1
        if confidently_below or confidently_above:
            where = "below" if confidently_below else "above"
            status = "on track" if where == good_side else "off track"
            reason = f"{head}: {where} the path with confidence."
        else:
            status = "too early to tell"
            if side == "level with":
                so_far = "level with the path so far"
            else:
                so_far = f"{side} the path so far, but not by more than chance"
            reason = f"{head}: the interval includes the path, so too early to tell; {so_far}."
    return TargetStatus(
        status=status,
        ratio=ratio,
        ratio_low=r_lo,
        ratio_high=r_hi,
        reason=reason,
        symbol=STATUS_SYMBOLS[status],
        observed=observed,
        expected=float(expected_path),
    )
