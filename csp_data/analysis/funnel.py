"""Funnel plots: is an area's crime rate out of line with the borough, given how many people live there?

A funnel plot (Spiegelhalter, "Funnel plots for comparing institutional performance", Statistics in
Medicine 24:1185-1202, 2005; the method Public Health England / OHID use in Fingertips) puts each
area's rate per 1,000 residents against its residents. The centre line is the borough rate; the
control limits around it narrow as the population grows, because a small area's rate wobbles more
by chance. An area outside the 95% limits would be there about 1 time in 20 by chance alone; outside
the 99.8% limits ("three sigma") about 1 in 500. One picture answers many areas at once without a
table of per-area tests.

**Over-dispersion.** Recorded crime varies between areas far more than Poisson chance (places
differ for reasons no rate model captures: shops, stations, night-time economy), so with Poisson
limits most areas of a borough sit outside them and the plot says nothing. This module uses a
**multiplicative over-dispersion factor** phi (Spiegelhalter 2005, section 3.5: the variance of a
count is phi times its Poisson variance, the quasi-Poisson model the dashboard uses elsewhere):

* each area's Poisson z-score ``z_i = (O_i - E_i) / sqrt(E_i)`` with ``E_i = borough rate x n_i``;
* ``z`` is winsorised at its 10th and 90th percentiles (so the areas that are genuinely out of line
  do not inflate the factor that judges them) and ``phi = mean(z_w^2) / 0.679``, floored at 1. The
  division is ours: winsorising at 10% shrinks the mean square of normal z-scores to 0.679 of
  their variance, so Spiegelhalter's plain winsorised mean understates phi by a third and the
  limits come out too narrow (simulated: 8% of alike areas outside the "95%" limits instead of 5%);
* the limits are quantiles of a count with mean E and variance phi x E: the negative binomial with
  that mean and variance (the Poisson when phi = 1), interpolated between the integers as in the
  paper's Appendix A.1.2. We use the negative binomial rather than the paper's normal
  approximation (or Poisson limits widened by sqrt(phi)) because skewed counts put more areas
  beyond a widened-Poisson 99.8% limit than 1 in 500 (simulated: about 1 in 100).

Why multiplicative and not additive random effects: it is the same quasi-Poisson idea as the
dispersion the dashboard allows for in its period comparisons (one factor scaling the Poisson
variance), and with 20 wards the additive model's between-area variance is poorly estimated. Its
known weakness: the limits for a large area stay relatively narrow, so very large areas are
flagged more readily than small ones. docs/STATISTICS.md section 5 has the calibration figures.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

LEVELS = (("95%", 0.025), ("99.8%", 0.001))  # two-sided: each tail's probability
WINSOR = 0.10
POSITIONS = (
    "above 99.8% limit",
    "above 95% limit",
    "within the 95% limits",
    "below 95% limit",
    "below 99.8% limit",
)
METHOD = (
    "Funnel plot (Spiegelhalter 2005): centre line = the borough rate; limits allow for areas varying more "
    "than chance alone (over-dispersion factor phi from the areas' own 10%-winsorised z-scores; limits from "
    "a count with variance phi times its mean). Outside the 95% limits: about 1 area in 20 by chance; "
    "outside 99.8%: about 1 in 500."
)


class FunnelError(ValueError):
    """Inputs that cannot make a funnel plot."""


def poisson_limit(expected: np.ndarray | float, p: float) -> np.ndarray:
    """The ``p`` quantile of Poisson(``expected``), interpolated between integers so the limits are
    smooth in the population (Spiegelhalter 2005, Appendix A.1.2): with r the smallest count whose
    cumulative probability reaches p, the limit is r - (F(r) - p) / (F(r) - F(r - 1))."""
    e = np.atleast_1d(np.asarray(expected, dtype=float))
    r = stats.poisson.ppf(p, e)
    f_r = stats.poisson.cdf(r, e)
    f_r1 = stats.poisson.cdf(r - 1, e)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(f_r > f_r1, (f_r - p) / (f_r - f_r1), 0.0)
    return np.maximum(r - frac, 0.0)


def count_limit(expected: np.ndarray | float, p: float, phi: float = 1.0) -> np.ndarray:
    """The ``p`` quantile of a count with mean ``expected`` and variance ``phi`` x mean, interpolated
    between integers as :func:`poisson_limit`: Poisson when ``phi`` is 1, otherwise the negative
    binomial with that mean and variance (its right tail is longer than a widened Poisson's, which
    matters for the 99.8% limits of skewed counts)."""
    e = np.atleast_1d(np.asarray(expected, dtype=float))
    if phi <= 1.0:
        return poisson_limit(e, p)
    size = e / (phi - 1.0)
    prob = size / (size + e)
    dist = stats.nbinom(size, prob)
    r = dist.ppf(p)
    f_r, f_r1 = dist.cdf(r), dist.cdf(r - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(f_r > f_r1, (f_r - p) / (f_r - f_r1), 0.0)
    return np.maximum(r - frac, 0.0)


def dispersion(observed: np.ndarray, expected: np.ndarray, winsor: float = WINSOR) -> float:
    """Spiegelhalter's multiplicative over-dispersion factor: the mean square of the areas' Poisson
    z-scores after winsorising at ``winsor`` and ``1 - winsor``, floored at 1."""
    o, e = np.asarray(observed, dtype=float), np.asarray(expected, dtype=float)
    keep = e > 0
    z = (o[keep] - e[keep]) / np.sqrt(e[keep])
    if z.size < 2:
        return 1.0
    lo, hi = np.quantile(z, [winsor, 1 - winsor])
    return max(1.0, float(np.mean(np.clip(z, lo, hi) ** 2)) / winsor_consistency(winsor))


def winsor_consistency(winsor: float = WINSOR) -> float:
    """E[min(max(Z, -a), a)^2] for a standard normal Z with a its 1 - ``winsor`` quantile: how much
    winsorising shrinks the mean square of z-scores that are truly N(0, phi) (0.679 at 10%).
    Dividing by it makes the winsorised factor unbiased for normal z-scores; without it the limits
    are too narrow (docs/STATISTICS.md section 5 shows by simulation)."""
    a = stats.norm.ppf(1 - winsor)
    inside = (2 * stats.norm.cdf(a) - 1) - 2 * a * stats.norm.pdf(a)
    return float(inside + a * a * 2 * winsor)


def funnel(
    areas: pd.DataFrame, per: float = 1000.0, points: int = 120, overdispersion: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Funnel plot data for areas with columns code, name, count, population.

    Returns ``(areas, limits)``:

    * ``areas``: code, name, count, population, rate (per ``per`` residents), expected (count at the
      borough rate), z (over-dispersion-adjusted), position (one of ``POSITIONS``), most out of line
      first;
    * ``limits``: population, centre, low_95, high_95, low_998, high_998 (rates per ``per``) on a
      grid of ``points`` populations from below the smallest area to above the largest.

    ``.attrs`` of both: target_rate (per ``per``), phi, total, per, method.
    """
    need = {"code", "name", "count", "population"}
    if not need <= set(areas.columns):
        raise FunnelError(f"funnel needs columns {sorted(need)}")
    a = areas[["code", "name", "count", "population"]].copy()
    if a.empty:
        raise FunnelError("no areas to plot")
    if (a["population"] <= 0).any() or a["population"].isna().any():
        raise FunnelError("every area needs a population above 0")
    if (a["count"] < 0).any() or a["count"].isna().any():
        raise FunnelError("counts must be whole numbers of at least 0")
    total, people = float(a["count"].sum()), float(a["population"].sum())
    theta = total / people
    a["expected"] = theta * a["population"]
    phi = dispersion(a["count"], a["expected"]) if overdispersion and total > 0 else 1.0
    a["rate"] = a["count"] / a["population"] * per

    def limit(n: np.ndarray, p: float) -> np.ndarray:
        n = np.asarray(n, dtype=float)
        if theta == 0:
            return np.zeros_like(n)
        return count_limit(theta * n, p, phi) / n * per

    n_area = a["population"].to_numpy(dtype=float)
    r_area = a["rate"].to_numpy(dtype=float)
    lo95, hi95 = limit(n_area, 0.025), limit(n_area, 0.975)
    lo998, hi998 = limit(n_area, 0.001), limit(n_area, 0.999)
    pos = np.select(
        [r_area > hi998, r_area > hi95, r_area < lo998, r_area < lo95],
        [POSITIONS[0], POSITIONS[1], POSITIONS[4], POSITIONS[3]],
        default=POSITIONS[2],
    )
    a["position"] = pos.astype(object)
    with np.errstate(invalid="ignore", divide="ignore"):
        a["z"] = np.where(a["expected"] > 0, (a["count"] - a["expected"]) / np.sqrt(phi * a["expected"]), 0.0)
    a = a.sort_values(["z", "name"], key=lambda s: -s.abs() if s.name == "z" else s).reset_index(drop=True)
    lo_n, hi_n = float(a["population"].min()), float(a["population"].max())
    grid = np.unique(np.round(np.geomspace(max(1.0, lo_n * 0.8), hi_n * 1.15, points)))
    lim = pd.DataFrame(
        {
            "population": grid,
            "centre": theta * per,
            "low_95": limit(grid, 0.025),
            "high_95": limit(grid, 0.975),
            "low_998": limit(grid, 0.001),
            "high_998": limit(grid, 0.999),
        }
    )
    meta = {"target_rate": theta * per, "phi": phi, "total": int(total), "per": per, "method": METHOD}
    a.attrs.update(meta)
    lim.attrs.update(meta)
    return a[["code", "name", "count", "population", "rate", "expected", "z", "position"]], lim


def ward_funnel(major: str, start, end, cfg=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Funnel plot data for every ward of the borough for one MPS major category over ``start``..``end``
    (query ``crime/ward_period_totals``, public: ward figures only)."""
    from csp_data.config import settings
    from csp_data.warehouse import sql

    cfg = cfg or settings()
    df = sql.run(
        "crime/ward_period_totals",
        borough_code=cfg.borough_code,
        majors=[str(major).upper()],
        minors=[],
        start=start,
        end=end,
        cfg=cfg,
    )
    return funnel(
        df.rename(columns={"ward_code": "code", "ward_name": "name"})[["code", "name", "count", "population"]]
    )
