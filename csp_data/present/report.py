"""Every plan measure's value for a period: the board paper's table in one call.

Used by ``python -m csp_data measures --period FY2024-25``. Police-recorded measures are summed
over the period (a period the data does not fully cover says so rather than showing a partial
sum as if complete) and compared with the equal period before, with the verdict of the one count
model (:func:`csp_data.analysis.stats.compare_in_series`: the series' own dispersion over the 36 months to
the period's end, ``dispersion`` and ``p_value`` columns); partnership measures show the
recorded figure for exactly that period or "awaiting data". Targets add baseline, target and the
current status (as of the latest data, which the ``status_as_of`` column names).
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from csp_data.analysis.stats import compare_in_series, series_dispersion
from csp_data.analysis.targets import AWAITING, TargetResult, evaluate_all
from csp_data.analysis.trends import months_present, period_sum, view
from csp_data.config import Settings
from csp_data.config import settings as get_settings
from csp_data.plan.document import Plan, load_plan
from csp_data.plan.measures import MEASURES
from csp_data.plan.periods import Period, PeriodError, parse


def measures_for_period(
    period: Period,
    cfg: Settings | None = None,
    plan: Plan | None = None,
    results: list[TargetResult] | None = None,
    today: date | None = None,
) -> pd.DataFrame:
    from csp_data.plan.partnership import latest as latest_figures
    from csp_data.plan.partnership import load_figures

    cfg = cfg or get_settings()
    plan = plan or load_plan()
    figures = latest_figures(load_figures(plan=plan))
    results = results if results is not None else evaluate_all(plan, figures, cfg, today)
    by_measure: dict[str, list[TargetResult]] = {}
    for r in results:
        by_measure.setdefault(r.target.measure, []).append(r)

    def target_cols(measure_id: str) -> dict:
        rs = by_measure.get(measure_id, [])
        if not rs:
            return {
                "target_id": None,
                "target": None,
                "baseline_period": None,
                "baseline_value": None,
                "status": None,
                "status_as_of": None,
            }
        r = rs[0]
        return {
            "target_id": r.target.id,
            "target": r.target_text,
            "baseline_period": r.baseline_period.label if r.baseline_period else None,
            "baseline_value": r.baseline_value,
            "status": r.status,
            "status_as_of": r.assessed_period.label if r.assessed_period else None,
        }

    rows = []
    prev = period.previous()
    for m in MEASURES:
        mv = view(m, cfg)
        value: float | None = period_sum(mv.series, period)
        held = months_present(mv.series, period)
        before = period_sum(mv.series, prev)
        c = (
            compare_in_series(
                mv.series,
                (period.start, period.end),
                (prev.start, prev.end),
                dispersion=series_dispersion(mv.series, end=period.end),
            )
            if value is not None and before is not None
            else None
        )
        snap = ""
        if held:
            in_p = mv.series[(mv.series.month >= period.start) & (mv.series.month <= period.end)]
            snap = str(in_p["snapshot"].iloc[-1])
        rows.append(
            {
                "priority": m.priority,
                "measure_id": m.id,
                "measure": m.label,
                "kind": "police-recorded",
                "period": period.label,
                "value": value,
                "note": ""
                if value is not None
                else (
                    f"{AWAITING}: {held} of {period.n_months} months held"
                    if held
                    else f"{AWAITING}: no months held"
                ),
                "previous_period": prev.label,
                "previous_value": before,
                "change": c.change if c else None,
                "pct_change": round(c.pct_change, 1) if c and c.pct_change is not None else None,
                "verdict": c.verdict if c else None,
                "p_value": round(c.p_value, 4) if c else None,
                "dispersion": round(c.phi, 2) if c else None,
                **_london_cols(m, period, prev, cfg, mv.series),
                "definition": m.definition,
                "source": m.source_name,
                "snapshot": snap,
                **target_cols(m.id),
            }
        )
    for pm in plan.partnership_measures:
        hit = (
            figures[(figures.measure_id == pm.id) & figures.period.map(lambda x: _same_period(x, period))]
            if len(figures)
            else figures
        )
        value = (
            float(hit.iloc[-1]["value"])
            if hit is not None and len(hit) and _numeric(hit.iloc[-1]["value"])
            else None
        )
        priority = next((t.priority for t in plan.targets if t.measure == pm.id), None)
        rows.append(
            {
                "priority": priority,
                "measure_id": pm.id,
                "measure": pm.label,
                "kind": "partnership-recorded",
                "period": period.label,
                "value": value,
                "note": "" if value is not None else AWAITING,
                "previous_period": None,
                "previous_value": None,
                "change": None,
                "pct_change": None,
                "verdict": None,
                "p_value": None,
                "dispersion": None,
                **_london_cols(None, period, None, cfg, None),
                "definition": pm.description,
                "source": (
                    str(hit.iloc[-1]["source"])
                    if hit is not None and len(hit)
                    else "data/partnership/figures.csv"
                ),
                "snapshot": (str(hit.iloc[-1]["entered_at"]) if hit is not None and len(hit) else ""),
                **target_cols(pm.id),
            }
        )
    out = pd.DataFrame(rows)
    for col in ("previous_value", "change", "baseline_value"):
        out[col] = pd.to_numeric(out[col], errors="coerce")
    for col in ("priority", "previous_value", "change"):
        out[col] = out[col].round().astype("Int64")
    out["value"] = pd.to_numeric(out["value"], errors="coerce")
    vals = out["value"].dropna()
    if len(vals) and (vals == vals.round()).all():
        out["value"] = out["value"].round().astype("Int64")
    return out


LONDON_COLUMNS = (
    "london_pct_change",
    "relative_to_london",
    "relative_low",
    "relative_high",
    "london_verdict",
    "series_break",
)


def _london_cols(m, period: Period, prev: Period | None, cfg: Settings, series) -> dict:
    """The London comparison (csp_data/analysis/london.py): London's % change over the same months, the
    borough's change relative to London's (ratio of rate ratios) with its 95% interval and verdict,
    and the series breaks (data/plan/series_breaks.csv) the comparison straddles."""
    from csp_data.analysis.london import compare_periods
    from csp_data.plan.breaks import straddling

    out = dict.fromkeys(LONDON_COLUMNS)
    if m is None:
        return out
    prev = prev or period.previous()  # as compare_periods: the equal period before
    out["series_break"] = "; ".join(f"{b.label} ({b.when})" for b in straddling(m.id, prev, period)) or None
    lc = compare_periods(m, period, prev, cfg, borough=series)
    if lc is None:
        return out
    out.update(
        london_pct_change=round(lc.london_pct, 1) if lc.london_pct is not None else None,
        relative_to_london=round(lc.relative, 3) if lc.relative is not None else None,
        relative_low=round(lc.low, 3) if lc.low is not None else None,
        relative_high=round(lc.high, 3) if lc.high is not None else None,
        london_verdict=lc.verdict,
    )
    return out


def _same_period(text, period: Period) -> bool:
    """A recorded period matches when it covers the same months, however it was written."""
    try:
        p = parse(str(text))
    except PeriodError:
        return False
    return (p.start, p.end) == (period.start, period.end)


def _numeric(v) -> bool:
    try:
        float(v)
        return True
    except (TypeError, ValueError):
        return False
