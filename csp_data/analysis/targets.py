"""Are we on course for what the plan promised by 2028? One honest answer per target.

Police-recorded targets are judged on the financial year to date (or the last 12 months when fewer
than three months of the year are reported) against the straight path from the baseline to the
target, month by month with like months compared with like (seasonality). The status comes from
an interval for observed / expected that allows for the series' own over-dispersion (the same
quasi-Poisson model as every other verdict: :func:`csp_data.analysis.stats.series_dispersion`), never
from a bare percentage.

Partnership-recorded targets read ``data/partnership/figures.csv``; with no figure they say
"awaiting data". Nothing is estimated or filled in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from csp_data.analysis import stats
from csp_data.analysis.trends import MeasureView, period_sum, view
from csp_data.config import Settings
from csp_data.config import settings as get_settings
from csp_data.plan import measures as _measures
from csp_data.plan.document import Plan, Target, load_plan
from csp_data.plan.periods import Period, add_months, fy_of, make, months_between, parse, trailing

AWAITING = "awaiting data"
MIN_MONTHS = 3


@dataclass
class TargetResult:
    target: Target
    status: str
    reason: str
    unit: str = "offences"
    about_people: bool = True  # partnership counts of people follow the 10-5 rule in public
    baseline_period: Period | None = None
    baseline_value: float | None = None
    target_value: float | None = None  # what the target means in the baseline's units
    assessed_period: Period | None = None
    observed: float | None = None
    expected_path: float | None = None  # expected over assessed_period if exactly on the path
    expected_no_change: float | None = None  # expected over assessed_period at the baseline level
    ratio_low: float | None = None
    ratio_high: float | None = None
    dispersion: float | None = None  # effective dispersion the interval allowed for (1 = Poisson)
    last12_period: Period | None = None
    last12_value: float | None = None  # latest 12 months, for the gauge
    path_last12: float | None = None  # the path's expectation for those 12 months
    source: str = ""
    snapshot: str = ""
    definition: str = ""
    caveats: list[str] = field(default_factory=list)
    trajectory: pd.DataFrame | None = None  # per financial year: recorded vs the path (police targets)

    @property
    def symbol(self) -> str:
        return stats.STATUS_SYMBOLS.get(self.status, "")

    @property
    def target_text(self) -> str:
        t = self.target
        if getattr(t, "target_change_pct", None) is not None:
            return f"{t.target_change_pct:+g}% by {_period(t.deadline).label}"
        if getattr(t, "threshold", None) is not None:
            unit = getattr(t, "threshold_unit", "") or ""
            return f"at least {t.threshold:,g} {unit}".strip()
        if getattr(t, "due", None):
            return f"by {_d(t.due):%d %b %Y}"
        if t.kind == "qualitative":
            return "a commitment with no numeric target"
        word = "an increase" if t.direction == "higher" else "a reduction"
        return f"{word} by {_period(t.deadline).label} (no size stated)"


def _p(x) -> Period | None:
    if x is None or x == "":
        return None
    return x if isinstance(x, Period) else parse(str(x))


def _period(x) -> Period:
    """A period the target must have (the plan's loader refuses a target without it)."""
    p = _p(x)
    if p is None:
        raise ValueError(f"a target period is missing: {x!r}")
    return p


def _number(x: float | None, what: str) -> float:
    """A number the target must have (the plan's loader refuses a target without it)."""
    if x is None:
        raise ValueError(f"the target has no {what}")
    return float(x)


def _d(x) -> date:
    return x if isinstance(x, date) else date.fromisoformat(str(x))


def _fmt(v: float | None) -> str:
    return "–" if v is None else f"{v:,.0f}"


def assessment_window(latest: date, baseline: Period) -> Period:
    """Financial year to date, or the last 12 months when fewer than MIN_MONTHS of the year are in."""
    fy = fy_of(latest)
    start = max(fy.start, add_months(baseline.end, 1))
    if latest >= start and months_between(start, latest) + 1 >= MIN_MONTHS:
        return make(start, latest)
    return trailing(latest, 12)


def evaluate_police(t: Target, mv: MeasureView) -> TargetResult:
    m = mv.measure
    base_p, dead_p = _period(t.baseline), _period(t.deadline)
    res = TargetResult(
        t,
        AWAITING,
        "",
        baseline_period=base_p,
        source=m.source_name,
        snapshot=mv.snapshot,
        definition=m.definition,
        caveats=list(getattr(t, "caveats", []) or []),
    )
    if mv.latest is None:
        res.reason = "No monthly figures are held for this measure."
        return res
    base = period_sum(mv.series, base_p)
    if base is None:
        res.reason = f"The baseline period {base_p.label} is not fully covered by the data held."
        return res
    pct = _number(t.target_change_pct, "percent change")
    res.baseline_value = base
    res.target_value = base * (1 + pct / 100)
    last12 = trailing(mv.latest, 12)
    monthly = {r.month: int(r.count) for r in mv.series.itertuples() if r.month in base_p}
    l12 = period_sum(mv.series, last12)
    if l12 is not None:
        res.last12_period, res.last12_value = last12, l12
        res.path_last12 = stats.expected_on_path(monthly, last12.months(), base_p, dead_p, pct)
    res.trajectory = trajectory_table(mv, base_p, dead_p, pct, monthly)
    if mv.latest <= base_p.end:
        res.status = "too early to tell"
        res.reason = f"The data ends in {mv.latest:%b %Y}, inside the baseline year; no months since."
        return res
    window = assessment_window(mv.latest, base_p)
    observed = period_sum(mv.series, window)
    if observed is None:
        res.reason = f"Months are missing in {window.label}."
        return res
    e_path = stats.expected_on_path(monthly, window.months(), base_p, dead_p, pct)
    e_flat = stats.expected_no_change(monthly, window.months(), base_p)
    disp = stats.series_dispersion(mv.series, end=mv.latest)
    phi = disp.for_sum(window.n_months)
    st = stats.target_status(
        observed, e_path, t.direction, months_elapsed=window.n_months, target_change_pct=pct, phi=phi
    )
    res.status, res.reason = st.status, st.reason
    res.dispersion = phi
    res.assessed_period, res.observed = window, observed
    res.expected_path, res.expected_no_change = e_path, e_flat
    res.ratio_low, res.ratio_high = st.ratio_low, st.ratio_high
    return res


def trajectory_table(
    mv: MeasureView, base_p: Period, dead_p: Period, pct: float, monthly: dict[date, int]
) -> pd.DataFrame:
    """Financial years from the baseline to the deadline: recorded (months held) against the path.

    ``expected`` is the path's expectation for the same months that are held (for a year with none
    held, the full year), so a part year is compared like with like."""
    rows = []
    fy = fy_of(base_p.start)
    while fy.start <= dead_p.end:
        held = [m for m in fy.months() if m in set(mv.series["month"])]
        full = stats.expected_on_path(monthly, fy.months(), base_p, dead_p, pct)
        if held:
            recorded = int(mv.series[mv.series.month.isin(held)]["count"].sum())
            expected = stats.expected_on_path(monthly, held, base_p, dead_p, pct)
        else:
            recorded, expected = None, full
        rows.append(
            {
                "fy": fy.label,
                "months": len(held),
                "recorded": recorded,
                "expected": expected,
                "full_year": full,
            }
        )
        fy = fy.shift(12)
    return pd.DataFrame(rows)


def evaluate_partnership(t: Target, plan: Plan, figures: pd.DataFrame, today: date) -> TargetResult:
    pm = plan.partnership_measure(t.measure)
    res = TargetResult(
        t,
        AWAITING,
        "",
        unit=pm.unit,
        about_people=pm.about_people,
        baseline_period=_p(t.baseline) if t.baseline else None,
        source="Partnership-recorded figure (data/partnership/figures.csv)",
        definition=pm.description,
        caveats=list(getattr(t, "caveats", []) or []),
    )
    rows = figures[figures.measure_id == t.measure] if len(figures) else figures
    if t.kind == "qualitative":
        res.reason = "A process commitment with no agreed measure yet; the partnership has recorded nothing against it."
        if rows is not None and len(rows):
            last = rows.iloc[-1]
            res.reason = f"Latest record ({last['period']}): {last['value']} — {last['note']}".strip(" —")
        return res
    if t.kind == "milestone":
        due = _d(t.due)
        done = (
            rows[rows.value.astype(str).str.lower().isin(["complete", "completed", "yes", "done"])]
            if len(rows)
            else rows
        )
        if len(done):
            first = done.iloc[0]
            res.status = "met"
            res.reason = f"Recorded as complete for {first['period']} ({first['source']})."
        else:
            when = "was due" if today > due else "is due"
            res.reason = f"{when.capitalize()} by {due:%d %b %Y}; no completion has been recorded."
        return res
    if rows is None or not len(rows):
        res.reason = "No figure has been recorded by the partnership yet."
        return res
    rows = rows.assign(_p=[parse(str(p)) for p in rows["period"]]).sort_values("_p")
    latest = rows.iloc[-1]
    res.assessed_period, res.observed = latest["_p"], float(latest["value"])
    res.snapshot = f"entered {latest['entered_at']} by {latest['entered_by']}; source: {latest['source']}"
    if t.kind == "threshold" or getattr(t, "threshold", None) is not None:
        res.target_value = _number(t.threshold, "threshold")
        ok = res.observed >= res.target_value if t.direction == "higher" else res.observed <= res.target_value
        res.status = "on track" if ok else "off track"
        res.reason = (
            f"{latest['_p'].label}: {res.observed:,g} against a threshold of {res.target_value:,g}"
            f" — {'meets' if ok else 'does not meet'} it."
        )
        return res
    base_p = _period(t.baseline)
    base_rows = rows[[p == base_p for p in rows["_p"]]]
    if not len(base_rows):
        res.reason = f"No baseline figure for {base_p.label} has been recorded, so progress cannot be judged."
        return res
    res.baseline_value = float(base_rows.iloc[-1]["value"])
    # "More individuals complete treatment": any real change in the right direction; the path stays flat.
    pct = float(t.target_change_pct) if t.target_change_pct is not None else 0.0
    res.target_value = res.baseline_value * (1 + pct / 100)
    if res.assessed_period == base_p:
        res.status = "too early to tell"
        res.reason = "Only the baseline figure has been recorded."
        return res
    # The same path as police targets: the mean of the monthly path factors over the period
    # (for a flat baseline this is exactly what stats.expected_on_path gives for those months).
    months = res.assessed_period.months()
    factor = sum(stats.trajectory_factor(m, base_p, _period(t.deadline), pct) for m in months) / len(months)
    path = res.baseline_value * factor
    res.expected_path = path
    if t.kind == "survey_pct" or pm.unit == "percent":
        res.status = "too early to tell"
        res.reason = (
            f"{res.assessed_period.label}: {res.observed:g}% against {path:.1f}% on the path "
            f"(baseline {res.baseline_value:g}%). No survey sample size is recorded, so no interval "
            "can separate a real change from sampling noise."
        )
        return res
    # One recorded figure per period gives no monthly series to measure extra variation from, so
    # the interval is Poisson and the reason says so.
    st = stats.target_status(
        int(round(res.observed)),
        path,
        t.direction,
        months_elapsed=res.assessed_period.n_months,
        target_change_pct=t.target_change_pct,
    )
    res.status = st.status
    res.reason = st.reason + " (Poisson variation assumed: one figure per period cannot show more.)"
    res.dispersion = 1.0
    res.ratio_low, res.ratio_high = st.ratio_low, st.ratio_high
    return res


def evaluate_all(
    plan: Plan | None = None,
    figures: pd.DataFrame | None = None,
    cfg: Settings | None = None,
    today: date | None = None,
    as_of: date | None = None,
) -> list[TargetResult]:
    """Every target of the plan, in the plan's order.

    ``as_of`` (a first-of-month date) judges every target as it stood then: police months after it
    and partnership figures for periods ending after it are left out. By default all data are used."""
    from csp_data.plan.partnership import latest as latest_figures
    from csp_data.plan.partnership import load_figures

    cfg = cfg or get_settings()
    plan = plan or load_plan()
    today = today or date.today()
    if figures is None:
        figures = latest_figures(load_figures(plan=plan))
    if as_of is not None and len(figures):
        figures = figures[[parse(str(p)).end <= as_of for p in figures["period"]]]
    views: dict[str, MeasureView] = {}
    out = []
    for t in plan.targets:
        if t.kind == "police_count":
            if t.measure not in views:
                views[t.measure] = view(_measures.get(t.measure), cfg, as_of)
            out.append(evaluate_police(t, views[t.measure]))
        else:
            out.append(evaluate_partnership(t, plan, figures, today))
    return out


def as_table(results: list[TargetResult]) -> pd.DataFrame:
    """Every target at a glance, as plain text cells (for st.table and the CSV)."""
    rows = []
    for r in results:
        t = r.target
        rows.append(
            {
                "Priority": t.priority,
                "Target": t.wording,
                "Status": f"{r.symbol} {r.status}",
                "Baseline": (
                    f"{_fmt(r.baseline_value)} ({r.baseline_period.label})"
                    if r.baseline_value is not None and r.baseline_period
                    else (r.baseline_period.label + " (no figure)" if r.baseline_period else "not applicable")
                ),
                "Target value": r.target_text
                + (
                    f" → {_fmt(r.target_value)}"
                    if r.target_value is not None and getattr(t, "target_change_pct", None) is not None
                    else ""
                ),
                "Latest": (
                    f"{_fmt(r.observed)} ({r.assessed_period.label})"
                    if r.observed is not None and r.assessed_period is not None
                    else AWAITING
                ),
                "Expected on the path": (f"{_fmt(r.expected_path)}" if r.expected_path is not None else "–"),
                "Why": r.reason,
                "Definition": r.definition,
                "Caveats": " ".join(r.caveats),
                "Source": r.source,
                "Snapshot": r.snapshot or "–",
            }
        )
    return pd.DataFrame(rows)


def as_records(results: list[TargetResult]) -> pd.DataFrame:
    """Targets for download: numbers as numbers."""
    rows = []
    for r in results:
        t = r.target
        rows.append(
            {
                "target_id": t.id,
                "priority": t.priority,
                "wording": t.wording,
                "kind": t.kind,
                "measure": t.measure,
                "direction": t.direction,
                "status": r.status,
                "baseline_period": r.baseline_period.label if r.baseline_period else None,
                "baseline_value": r.baseline_value,
                "target_change_pct": getattr(t, "target_change_pct", None),
                "threshold": getattr(t, "threshold", None),
                "deadline": _period(t.deadline).label if t.deadline else None,
                "target_value": None if r.target_value is None else round(r.target_value, 1),
                "assessed_period": r.assessed_period.label if r.assessed_period else None,
                "observed": r.observed,
                "expected_on_path": None if r.expected_path is None else round(r.expected_path, 1),
                "expected_no_change": None
                if r.expected_no_change is None
                else round(r.expected_no_change, 1),
                "ratio_low": None if r.ratio_low is None else round(r.ratio_low, 3),
                "ratio_high": None if r.ratio_high is None else round(r.ratio_high, 3),
                "dispersion": None if r.dispersion is None else round(r.dispersion, 2),
                "reason": r.reason,
                "definition": r.definition,
                "caveats": " ".join(r.caveats),
                "source": r.source,
                "snapshot": r.snapshot,
            }
        )
    return pd.DataFrame(rows)


def public_value_text(r: TargetResult) -> str:
    """A partnership figure as a public page may show it: counts of people under the ONS 10-5 rule,
    counts of things (audits, operations: ``about_people = false`` in the plan) exactly; a
    percentage only with a recorded base of at least 10 (none is recorded, so none is shown)."""
    from csp_data.analysis import disclosure

    if r.target.kind == "police_count" or r.observed is None or r.assessed_period is None:
        return ""
    if r.unit == "percent":
        return f"{r.assessed_period.label}: a survey result is recorded; it is not shown here because its sample size is not."
    if r.unit in ("date", "status"):
        return ""
    value = r.observed
    if value != int(value) or value < 0:
        return ""
    if not r.about_people:
        return f"{r.assessed_period.label}: {int(value):,d}"
    return f"{r.assessed_period.label}: {disclosure.count(int(value)).text}"
