"""The London comparison: the borough's change divided by London's change over the same months.

A recording change such as CONNECT (``data/plan/series_breaks.csv``) moved every London borough's
counts at once, so a borough's own "significant fall" across it may be recording, not crime. The
fair question is then whether the borough changed *more or less than London* over the same months.

Method (docs/STATISTICS.md section 6): with borough counts ``B1`` (period) and ``B0`` (the period it
is compared with) and London counts ``L1``, ``L0`` (the 32 MPS boroughs, same source, same months),
the relative change is the ratio of rate ratios ``R = (B1/B0) / (L1/L0)``. On the log scale

    var(log R) = phi_B (1/B1 + 1/B0) + phi_L (1/L1 + 1/L0)

where ``phi_B`` is the borough's extra variation *relative to London* (:func:`relative_dispersion`:
the Pearson dispersion of the borough's monthly counts about a Poisson fit with London's count as
offset and a trend in the borough's share, adjusted for lag-1 correlation and scaled for the two
sums compared), and ``phi_L = 1``: London's own sampling error is included at its Poisson size.
What London shares with the borough (seasons, weather, events, the CONNECT step) cancels in the
ratio, so it is neither counted as noise in ``phi_B`` nor added again for London; measured on the
borough's own series instead (``stats.series_dispersion``), a step like CONNECT inflates phi and
the comparison loses most of its power (docs/STATISTICS.md section 6 has the simulation figures).
London contains the borough; the positive covariance this creates is ignored, which widens the
interval slightly (conservative). The verdict is in words:
"fell about as much as London" when the interval contains 1, otherwise "fell more than London",
"rose while London fell" and so on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from scipy import stats as _st

from csp_data.config import Settings
from csp_data.config import settings as get_settings
from csp_data.plan import breaks
from csp_data.plan.measures import Measure
from csp_data.plan.periods import Period
from csp_data.warehouse import sql

ALPHA = 0.05
LONDON_BOROUGHS = 32
LONDON_NAME = "London (the 32 boroughs the MPS polices)"


@dataclass(frozen=True)
class LondonComparison:
    period: str
    previous_period: str
    borough_current: int
    borough_previous: int
    london_current: int
    london_previous: int
    borough_pct: float | None
    london_pct: float | None
    relative: float | None  # (B1/B0) / (L1/L0)
    low: float | None
    high: float | None
    phi_borough: float
    phi_london: float
    verdict: str
    straddles: tuple[str, ...] = ()  # labels of level breaks the comparison crosses

    @property
    def significant(self) -> bool:
        return self.low is not None and self.high is not None and (self.low > 1 or self.high < 1)

    @property
    def relative_pct(self) -> float | None:
        return None if self.relative is None else (self.relative - 1) * 100

    def sentence(self) -> str:
        """Plain words: both changes, the verdict and the interval."""
        if self.relative is None:
            return self.verdict[:1].upper() + self.verdict[1:] + "."
        return (
            f"{get_settings().borough_name} {_move(self.borough_pct)}; London {_move(self.london_pct)} over the "
            f"same months: "
            f"{self.verdict} (relative change {self.relative:.2f}, 95% interval {self.low:.2f} to "
            f"{self.high:.2f})."
        )


def move_words(pct: float | None) -> str:
    """'rose 3.6%', 'fell 17.5%', 'unchanged' or 'no earlier figure'."""
    if pct is None:
        return "no earlier figure"
    if round(pct, 1) == 0:
        return "unchanged"
    return f"{'rose' if pct > 0 else 'fell'} {abs(pct):.1f}%"


_move = move_words


def verdict_words(borough_pct: float, london_pct: float, low: float, high: float) -> str:
    """Words for a relative change with interval [low, high]."""
    b_dir = "rose" if borough_pct > 0 else "fell" if borough_pct < 0 else "did not change"
    l_dir = "rose" if london_pct > 0 else "fell" if london_pct < 0 else "did not change"
    if low <= 1 <= high:
        if b_dir == l_dir and b_dir != "did not change":
            return f"{b_dir} about as much as London"
        return "changed about as much as London"
    higher = low > 1  # relative above 1: the borough rose more / fell less than London
    if b_dir == l_dir and b_dir != "did not change":
        if b_dir == "fell":
            return "fell less than London" if higher else "fell more than London"
        return "rose more than London" if higher else "rose less than London"
    if b_dir == "did not change":
        return (
            f"did not change while London {l_dir}"
            if l_dir != "did not change"
            else "changed about as much as London"
        )
    if l_dir == "did not change":
        return f"{b_dir} while London did not change"
    return f"{b_dir} while London {l_dir}"


def compare(
    b1: int,
    b0: int,
    l1: int,
    l0: int,
    *,
    phi_borough: float = 1.0,
    phi_london: float = 1.0,
    alpha: float = ALPHA,
    period: str = "",
    previous_period: str = "",
    straddles: tuple[str, ...] = (),
) -> LondonComparison:
    """Ratio of rate ratios with its quasi-Poisson interval and verdict (see the module docstring)."""
    b1, b0, l1, l0 = int(b1), int(b0), int(l1), int(l0)
    if min(b1, b0, l1, l0) < 0:
        raise ValueError("counts cannot be negative")
    phi_b, phi_l = max(1.0, float(phi_borough)), max(1.0, float(phi_london))
    b_pct = (b1 - b0) / b0 * 100 if b0 else None
    l_pct = (l1 - l0) / l0 * 100 if l0 else None
    if min(b1, b0, l1, l0) == 0:
        return LondonComparison(
            period,
            previous_period,
            b1,
            b0,
            l1,
            l0,
            b_pct,
            l_pct,
            None,
            None,
            None,
            phi_b,
            phi_l,
            "too few offences to compare with London",
            straddles,
        )
    log_r = math.log(b1 / b0) - math.log(l1 / l0)
    se = math.sqrt(phi_b * (1 / b1 + 1 / b0) + phi_l * (1 / l1 + 1 / l0))
    z = float(_st.norm.ppf(1 - alpha / 2))
    low, high = math.exp(log_r - z * se), math.exp(log_r + z * se)
    assert b_pct is not None and l_pct is not None  # b0 and l0 are above 0 here
    return LondonComparison(
        period,
        previous_period,
        b1,
        b0,
        l1,
        l0,
        b_pct,
        l_pct,
        math.exp(log_r),
        low,
        high,
        phi_b,
        phi_l,
        verdict_words(b_pct, l_pct, low, high),
        straddles,
    )


# ------------------------------------------------------------------------------- series


def london_series(m: Measure, cfg: Settings | None = None) -> pd.DataFrame:
    """month (date), count, boroughs, snapshot: the measure summed over London's 32 boroughs. Only
    months all 32 boroughs report are kept (a partial London is never compared)."""
    cfg = cfg or get_settings()
    if m.source == "composite":
        from csp_data.plan.measures import get

        parts = [(sign, london_series(get(pid), cfg)) for pid, sign in m.parts]
        return _combine(parts)
    if m.source == "crime":
        df = sql.run("crime/london_monthly", majors=list(m.majors), minors=list(m.minors), cfg=cfg)
    elif m.source == "dashboard":
        ct, sub, meas = m.dashboard_key
        df = sql.run("dashboard/london_monthly", crime_type=ct, crime_subtype=sub, measure=meas, cfg=cfg)
    elif m.source == "business":
        df = sql.run("business/london_monthly", sections=list(m.sections), cfg=cfg)
    else:  # pragma: no cover - catalogue is fixed
        raise ValueError(m.source)
    df["month"] = pd.to_datetime(df["month"]).dt.date
    return df[df["boroughs"] == LONDON_BOROUGHS].reset_index(drop=True)


def _combine(parts: list[tuple[int, pd.DataFrame]]) -> pd.DataFrame:
    """Signed sum of monthly series over the months every part holds; snapshots joined."""
    out: pd.DataFrame | None = None
    for i, (sign, df) in enumerate(parts):
        d = df[["month", "count", "snapshot"]].rename(columns={"count": f"c{i}", "snapshot": f"s{i}"})
        d[f"c{i}"] = d[f"c{i}"] * sign
        out = d if out is None else out.merge(d, on="month", how="inner")
    if out is None:
        raise ValueError("a composite measure needs at least one part")
    cols = [f"c{i}" for i in range(len(parts))]
    snaps = [f"s{i}" for i in range(len(parts))]
    res = pd.DataFrame({"month": out["month"], "count": out[cols].sum(axis=1).astype("int64")})
    res["boroughs"] = LONDON_BOROUGHS
    res["snapshot"] = [
        "; ".join(dict.fromkeys(str(v) for v in row)) for row in out[snaps].itertuples(index=False)
    ]
    return res.sort_values("month").reset_index(drop=True)


def _sum(series: pd.DataFrame, p: Period) -> int | None:
    sub = series[(series.month >= p.start) & (series.month <= p.end)]
    return int(sub["count"].sum()) if len(sub) == p.n_months else None


def dispersion(series: pd.DataFrame, current: Period, previous: Period) -> float:
    """Effective phi for comparing two sums of a monthly series: the count model's dispersion
    (:func:`csp_data.analysis.stats.series_dispersion`, fitted on the months up to the end of ``current``)
    scaled for the months compared (``Dispersion.for_comparison``). 1 (Poisson) if the model is
    not available."""
    from csp_data.analysis import stats

    fn = getattr(stats, "series_dispersion", None)
    if fn is None:  # pragma: no cover - the count model ships with this module
        return 1.0
    d = fn(series[["month", "count"]], end=current.end)
    early, late = sorted((previous, current))
    gap = max(0, (late.start.year - early.end.year) * 12 + late.start.month - early.end.month - 1)
    return max(1.0, float(d.for_comparison(current.n_months, gap)))


def share_dispersion(borough: pd.DataFrame, london: pd.DataFrame, end: date, months: int = 36):
    """The borough's extra variation relative to London, as a :class:`csp_data.analysis.stats.Dispersion`:
    Pearson chi-square / df of the borough's monthly counts about a Poisson fit with London's count
    as offset and a linear trend in the borough's share (the ``months`` months to ``end`` held by
    both), floored at 1, and the lag-1 correlation of its residuals (clipped to [0, 0.9]). None with
    fewer than 12 such months."""
    from csp_data.analysis import stats

    j = borough[["month", "count"]].merge(london[["month", "count"]], on="month", suffixes=("_b", "_l"))
    j = j[(j["month"] <= end) & (j["count_l"] > 0)].sort_values("month").tail(months)
    if len(j) < 12:
        return None
    y = j["count_b"].to_numpy(float)
    offset = np.log(j["count_l"].to_numpy(float))
    idx = np.array([m.year * 12 + m.month for m in j["month"]], float)
    X = np.column_stack([np.ones(len(y)), (idx - idx.mean()) / 12.0])
    beta = np.array([np.log(max(y.sum(), 0.5) / np.exp(offset).sum()), 0.0])
    for _ in range(50):  # Poisson IRLS with offset
        mu = np.exp(X @ beta + offset)
        z = X @ beta + (y - mu) / mu
        xtw = X.T * mu
        new = np.linalg.lstsq(xtw @ X, xtw @ z, rcond=None)[0]
        done = np.max(np.abs(new - beta)) < 1e-10
        beta = new
        if done:
            break
    mu = np.exp(X @ beta + offset)
    resid = (y - mu) / np.sqrt(mu)
    n = len(y)
    phi = max(1.0, float(np.sum(resid**2) / (n - 2)))
    r0 = resid - resid.mean()
    consecutive = np.diff(idx) == 1
    ss = float(np.sum(r0**2))
    rho = min(0.9, max(0.0, float(np.sum((r0[:-1] * r0[1:])[consecutive])) / ss)) if ss > 0 else 0.0
    first, last = j["month"].iloc[0], j["month"].iloc[-1]
    return stats.Dispersion(
        phi=phi,
        rho=rho,
        df=n - 2,
        months=n,
        model="borough share of London (Poisson, trend)",
        note=f"Relative to London, months vary {phi:.1f} times as much as chance alone "
        f"({first:%b %Y} to {last:%b %Y}; lag-1 correlation {rho:.2f}).",
    )


def relative_dispersion(
    borough: pd.DataFrame, london: pd.DataFrame, current: Period, previous: Period, months: int = 36
) -> float:
    """Effective phi of the borough's change relative to London's: :func:`share_dispersion` up to
    the end of ``current``, scaled for the two sums compared (``Dispersion.for_comparison``). This is
    the variation the ratio of rate ratios carries: what London shares with the borough cancels in
    the ratio and is left out, the borough's own extra variation is kept. Falls back to the
    borough's own series dispersion (:func:`dispersion`) with fewer than 12 months held by both."""
    d = share_dispersion(borough, london, current.end, months)
    if d is None:
        return dispersion(borough, current, previous)
    early, late = sorted((previous, current))
    gap = max(0, (late.start.year - early.end.year) * 12 + late.start.month - early.end.month - 1)
    return max(1.0, float(d.for_comparison(current.n_months, gap)))


def compare_periods(
    m: Measure,
    current: Period,
    previous: Period | None = None,
    cfg: Settings | None = None,
    borough: pd.DataFrame | None = None,
    london: pd.DataFrame | None = None,
    alpha: float = ALPHA,
) -> LondonComparison | None:
    """The London comparison for a measure, ``current`` against ``previous`` (default: the equal
    period before). None when either series lacks a month of either period."""
    cfg = cfg or get_settings()
    previous = previous or current.previous()
    if borough is None:
        from csp_data.analysis.scorecard import monthly_series

        borough = monthly_series(m, cfg)
    london = london if london is not None else london_series(m, cfg)
    b1, b0 = _sum(borough, current), _sum(borough, previous)
    l1, l0 = _sum(london, current), _sum(london, previous)
    if b1 is None or b0 is None or l1 is None or l0 is None:
        return None
    straddles = tuple(b.label for b in breaks.straddling(m.id, previous, current))
    return compare(
        b1,
        b0,
        l1,
        l0,
        phi_borough=relative_dispersion(borough, london, current, previous),
        phi_london=1.0,
        alpha=alpha,
        period=current.label,
        previous_period=previous.label,
        straddles=straddles,
    )


def for_score_row(row, cfg: Settings | None = None) -> dict[str, LondonComparison | None]:
    """London comparisons for a scorecard row's two comparisons: ``l12`` (last 12 months against
    the 12 before) and ``fy`` (financial year to date against the same months a year earlier)."""
    from csp_data.analysis.scorecard import monthly_series
    from csp_data.plan.periods import make

    cfg = cfg or get_settings()
    out: dict[str, LondonComparison | None] = {"l12": None, "fy": None}
    if row.latest is None:
        return out
    borough = monthly_series(row.measure, cfg)
    borough = borough[borough.month <= row.latest]
    ldn = london_series(row.measure, cfg)
    for key, cur, prev in (("l12", row.last12, row.prev12), ("fy", row.fytd, row.fytd_prev)):
        if cur is not None and prev is not None:
            out[key] = compare_periods(
                row.measure,
                make(cur.start, cur.end),
                make(prev.start, prev.end),
                cfg,
                borough=borough,
                london=ldn,
            )
    return out


def tile_text(c: LondonComparison | None, what: str) -> str:
    """One caption line for a scorecard tile."""
    if c is None:
        return f"Against London ({what}): awaiting London data for the same months."
    if c.relative is None:
        return f"Against London ({what}): {c.verdict}."
    crosses = (
        f" Crosses the {', '.join(c.straddles)}: read the change against London's." if c.straddles else ""
    )
    return (
        f"Against London ({what}): London {_move(c.london_pct)} — {get_settings().borough_name} {c.verdict} "
        f"(relative {c.relative:.2f}, 95% interval {c.low:.2f} to {c.high:.2f}).{crosses}"
    )
