"""Series, financial-year totals, breakdowns, ward tables and outcome rates for one measure.

Everything a priority page shows about a measure, computed from the warehouse through named
queries. Missing months are never treated as zero: a period with a gap is reported as incomplete.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
from scipy import stats as _st

from csp_data.analysis.scorecard import monthly_series
from csp_data.analysis.stats import (
    DISPERSION_MONTHS,
    Dispersion,
    area_dispersion,
    compare_areas,
    rate_per_1000,
)
from csp_data.config import Settings
from csp_data.config import settings as get_settings
from csp_data.plan.measures import Measure
from csp_data.plan.measures import get as get_measure
from csp_data.plan.periods import Period, fy_of, make
from csp_data.warehouse import sql

MIN_RATE_BASE = 10  # no percentage on fewer offences than this


def latest_month(series: pd.DataFrame) -> date | None:
    return None if series.empty else series["month"].max()


def period_sum(series: pd.DataFrame, period: Period) -> int | None:
    """Total over a period, or None when any month of it is missing from the series."""
    sub = series[(series.month >= period.start) & (series.month <= period.end)]
    if len(sub) != period.n_months:
        return None
    return int(sub["count"].sum())


def months_present(series: pd.DataFrame, period: Period) -> int:
    return int(((series.month >= period.start) & (series.month <= period.end)).sum())


def fy_totals(series: pd.DataFrame, first_fy: int | None = None) -> pd.DataFrame:
    """fy, count, months, complete: one row per financial year the series touches."""
    if series.empty:
        return pd.DataFrame(columns=["fy", "count", "months", "complete"])
    df = series.copy()
    df["fy"] = [fy_of(m).label for m in df["month"]]
    df["fy_start"] = [fy_of(m).start for m in df["month"]]
    out = df.groupby(["fy_start", "fy"], as_index=False).agg(count=("count", "sum"), months=("count", "size"))
    if first_fy is not None:
        out = out[out.fy_start >= date(first_fy, 4, 1)]
    out["complete"] = out["months"] == 12
    return out[["fy", "count", "months", "complete"]].reset_index(drop=True)


def breakdown(m: Measure, period: Period, cfg: Settings | None = None) -> pd.DataFrame:
    """category, count, months over a period: the measure split by its parts."""
    cfg = cfg or get_settings()
    if m.source == "composite":  # serious violence: one row per part of the sum
        from csp_data.analysis.composite import breakdown as composite_breakdown

        return composite_breakdown(m, period, cfg)
    if m.source == "crime":
        df = sql.run(
            "crime/borough_breakdown",
            borough_code=cfg.borough_code,
            majors=list(m.majors),
            minors=list(m.minors),
            start=period.start,
            end=period.end,
            cfg=cfg,
        )
        return df.rename(columns={"minor_category": "category"})[["category", "count", "months"]]
    if m.source == "business":
        df = sql.run(
            "business/section_totals",
            borough_name=cfg.borough_name,
            start=period.start,
            end=period.end,
            cfg=cfg,
        )
        return df.rename(columns={"major_category": "category"})[["category", "count", "months"]]
    ct, _sub, meas = m.dashboard_key
    df = sql.run(
        "dashboard/subtype_totals",
        area_code=cfg.borough_code,
        crime_type=ct,
        start=period.start,
        end=period.end,
        cfg=cfg,
    )
    df = df[df.measure == meas]
    return df.rename(columns={"crime_subtype": "category"})[["category", "count", "months"]].reset_index(
        drop=True
    )


def dashboard_subtypes(crime_type: str, period: Period, cfg: Settings | None = None) -> pd.DataFrame:
    """Dashboard offences and positive outcomes by subtype for a crime type (e.g. hate crime strands)."""
    cfg = cfg or get_settings()
    df = sql.run(
        "dashboard/subtype_totals",
        area_code=cfg.borough_code,
        crime_type=crime_type,
        start=period.start,
        end=period.end,
        cfg=cfg,
    )
    wide = df.pivot_table(
        index="crime_subtype", columns="measure", values="count", aggfunc="sum", fill_value=0
    )
    wide = wide.reindex(columns=["Offences", "Positive Outcomes"], fill_value=0).reset_index()
    wide.columns = ["subtype", "offences", "positive_outcomes"]
    return wide.sort_values("offences", ascending=False).reset_index(drop=True)


def area_monthly(
    level: str, majors, minors, start: date, end: date, cfg: Settings | None = None
) -> pd.DataFrame:
    """area_code, month, count of MPS crime in the given categories for every borough ward or LSOA
    (``level`` "ward" or "lsoa") and each month that level's data cover within ``start``..``end``
    (query ``crime/area_monthly_counts``)."""
    cfg = cfg or get_settings()
    return sql.run(
        "crime/area_monthly_counts",
        level=level,
        borough_code=cfg.borough_code,
        majors=list(majors),
        minors=list(minors),
        start=start,
        end=end,
        cfg=cfg,
    )


def ward_monthly(m: Measure, start: date, end: date, cfg: Settings | None = None) -> pd.DataFrame:
    """ward_code, month, count for a measure's ward rows (months the ward data cover only)."""
    cfg = cfg or get_settings()
    if m.source == "crime":
        df = area_monthly("ward", m.majors, m.minors, start, end, cfg).rename(
            columns={"area_code": "ward_code"}
        )
    elif m.source == "dashboard":
        ct, sub, meas = m.dashboard_key
        df = sql.run(
            "dashboard/ward_monthly",
            crime_type=ct,
            crime_subtype=sub,
            measure=meas,
            start=start,
            end=end,
            cfg=cfg,
        )
    elif m.source == "composite":  # signed sum of the parts' ward months (csp_data/analysis/composite.py)
        from csp_data.analysis.composite import signed_sum

        return signed_sum(
            [(sign, ward_monthly(get_measure(pid), start, end, cfg)) for pid, sign in m.parts],
            ["ward_code", "month"],
        )
    else:
        return pd.DataFrame(columns=["ward_code", "month", "count"])
    return df[["ward_code", "month", "count"]]


def ward_dispersion(m: Measure, end: date, cfg: Settings | None = None) -> Dispersion:
    """The pooled ward dispersion of a measure from its ward x month table over the 36 months to ``end``
    (:func:`csp_data.analysis.stats.area_dispersion`)."""
    from csp_data.plan.periods import add_months

    df = ward_monthly(m, add_months(end, -(DISPERSION_MONTHS - 1)), end, cfg)
    return area_dispersion(df, area="ward_code", end=end)


def ward_table(m: Measure, period: Period, cfg: Settings | None = None) -> pd.DataFrame | None:
    """Per ward: count in the period and the equal period before, change with verdict, rate per 1,000.

    The verdicts are the one model for many areas (:func:`csp_data.analysis.stats.compare_areas`): each
    ward's change tested with the pooled ward dispersion, then false-discovery control across the
    wards. ``attrs`` carries ``dispersion`` (a :class:`~csp_data.analysis.stats.Dispersion`) and ``method``
    (words for a caption). None when the measure has no ward-level source (business crime is
    published by borough only).
    """
    cfg = cfg or get_settings()
    prev = period.previous()

    def totals(p: Period, m: Measure = m) -> pd.DataFrame:
        if m.source == "composite":  # signed sum of the parts' ward totals (csp_data/analysis/composite.py)
            from csp_data.analysis.composite import signed_sum

            return signed_sum(
                [(sign, totals(p, get_measure(pid))) for pid, sign in m.parts],
                ["ward_code"],
                carry=("ward_name", "population"),
            )
        if m.source == "crime":
            return sql.run(
                "crime/ward_period_totals",
                borough_code=cfg.borough_code,
                majors=list(m.majors),
                minors=list(m.minors),
                start=p.start,
                end=p.end,
                cfg=cfg,
            )
        ct, sub, meas = m.dashboard_key
        return sql.run(
            "dashboard/ward_period_totals",
            crime_type=ct,
            crime_subtype=sub,
            measure=meas,
            start=p.start,
            end=p.end,
            cfg=cfg,
        )

    if m.source == "business":
        return None
    cur = totals(period)
    before = totals(prev)[["ward_code", "count"]].rename(columns={"count": "previous"})
    df = cur.merge(before, on="ward_code", how="left").fillna({"previous": 0})
    disp = ward_dispersion(m, period.end, cfg)
    comps = compare_areas(
        df["count"].astype(int).tolist(),
        df["previous"].astype(int).tolist(),
        disp,
        period.n_months,
        family=f"{len(df)} wards",
    )
    rows = []
    for r, c in zip(df.itertuples(), comps):
        assert c is not None  # every ward has an earlier count (missing filled with 0), so a verdict
        rows.append(
            {
                "ward_code": r.ward_code,
                "ward_name": r.ward_name,
                "population": int(r.population),
                "count": int(r.count),
                "previous": int(r.previous),
                "change": c.change,
                "pct_change": c.pct_change,
                "verdict": f"{c.symbol} {c.verdict}",
                "q_value": c.q_value,
                "rate_per_1000": rate_per_1000(r.count, r.population),
            }
        )
    out = (
        pd.DataFrame(rows).sort_values(["count", "ward_name"], ascending=[False, True]).reset_index(drop=True)
    )
    out.attrs["period"] = period.label
    out.attrs["previous_period"] = prev.label
    out.attrs["dispersion"] = disp
    out.attrs["method"] = area_method_words(disp, period.n_months, len(out), "wards")
    total_pop = out["population"].sum()
    out.attrs["borough_rate_per_1000"] = rate_per_1000(out["count"].sum(), total_pop)
    return out


def area_method_words(disp: Dispersion, months: int, n: int, unit: str) -> str:
    """One caption sentence for an area table's "is the change real?" column."""
    phi = disp.for_comparison(months)
    return (
        f"Is the change real? Each change is tested allowing for area counts varying {phi:.1f} times as much as "
        f"chance alone (pooled across the areas), and after allowing for {n} {unit} tested at once "
        "(false discovery rate 5%, Benjamini-Hochberg), so a chance rise in one area among many is not "
        "called real."
    )


def wilson_interval(successes: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson score interval for a proportion (as fractions)."""
    if n <= 0:
        return (float("nan"), float("nan"))
    z = float(_st.norm.ppf(1 - alpha / 2))
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / denom
    # clamp, and keep the observed proportion inside despite floating-point rounding at 0 or n
    return max(0.0, min(centre - half, p)), min(1.0, max(centre + half, p))


def outcome_rates(m: Measure, cfg: Settings | None = None) -> pd.DataFrame:
    """Positive outcome rate per financial year for a dashboard measure (offences and positive outcomes
    recorded in the same months; outcomes can relate to offences from earlier months)."""
    cfg = cfg or get_settings()
    if m.source != "dashboard":
        return pd.DataFrame(
            columns=["period", "offences", "positive_outcomes", "months", "rate_pct", "rate_low", "rate_high"]
        )
    ct, sub, _meas = m.dashboard_key
    off = sql.run(
        "dashboard/borough_monthly",
        area_code=cfg.borough_code,
        crime_type=ct,
        crime_subtype=sub,
        measure="Offences",
        cfg=cfg,
    )
    pos = sql.run(
        "dashboard/borough_monthly",
        area_code=cfg.borough_code,
        crime_type=ct,
        crime_subtype=sub,
        measure="Positive Outcomes",
        cfg=cfg,
    )
    for d in (off, pos):
        d["month"] = pd.to_datetime(d["month"]).dt.date
    df = off[["month", "count"]].merge(
        pos[["month", "count"]].rename(columns={"count": "pos"}), on="month", how="left"
    )
    df["pos"] = df["pos"].fillna(0)
    df["fy"] = [fy_of(x).label for x in df.month]
    g = df.groupby("fy", as_index=False).agg(
        offences=("count", "sum"), positive_outcomes=("pos", "sum"), months=("count", "size")
    )
    rows = []
    rate: float | None
    lo: float | None
    hi: float | None
    for r in g.itertuples():
        n, k = int(r.offences), int(r.positive_outcomes)
        if n >= MIN_RATE_BASE:
            lo, hi = wilson_interval(k, n)
            rate, lo, hi = k / n * 100, lo * 100, hi * 100
        else:
            rate = lo = hi = None
        label = r.fy if r.months == 12 else f"{r.fy} ({r.months} months)"
        rows.append(
            {
                "period": label,
                "offences": n,
                "positive_outcomes": k,
                "months": int(r.months),
                "rate_pct": rate,
                "rate_low": lo,
                "rate_high": hi,
            }
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class MeasureView:
    """What a priority page needs about one measure, computed once."""

    measure: Measure
    series: pd.DataFrame
    latest: date | None
    snapshot: str


def view(m: Measure, cfg: Settings | None = None, as_of: date | None = None) -> MeasureView:
    """The measure's series (months after ``as_of`` left out, when given) with its latest month."""
    s = monthly_series(m, cfg)
    if as_of is not None:
        s = s[s.month <= as_of].reset_index(drop=True)
    latest = latest_month(s)
    snap = "" if latest is None else str(s.loc[s.month == latest, "snapshot"].iloc[0])
    return MeasureView(m, s, latest, snap)


def last_12(latest: date) -> Period:
    from csp_data.plan.periods import add_months

    return make(add_months(latest, -11), latest)
