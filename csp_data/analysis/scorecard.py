"""Borough scorecard: for each headline measure, last 12 months vs the previous 12 and financial
year to date vs the same months a year earlier, with a verdict that allows for the series' own
over-dispersion (:func:`csp_data.analysis.stats.compare_in_series`) and London rank."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from csp_data.analysis.stats import (
    Comparison,
    Dispersion,
    compare_in_series,
    series_dispersion,
)
from csp_data.config import Settings
from csp_data.config import settings as get_settings
from csp_data.plan.measures import MEASURES, Measure
from csp_data.plan.periods import Period, add_months, fy_label, fy_start, span
from csp_data.warehouse import sql


@dataclass(frozen=True)
class ScoreRow:
    measure: Measure
    latest: date | None
    snapshot: str
    last12: Period | None
    prev12: Period | None
    l12: Comparison | None
    fytd: Period | None
    fytd_prev: Period | None
    fy: Comparison | None
    fy_label: str
    rank: int | None
    rank_of: int | None
    note: str = ""
    dispersion: Dispersion | None = None


def monthly_series(m: Measure, cfg: Settings | None = None) -> pd.DataFrame:
    """month (date), count, snapshot for one measure in the configured borough."""
    cfg = cfg or get_settings()
    if m.source == "crime":
        df = sql.run(
            "crime/borough_monthly",
            borough_code=cfg.borough_code,
            majors=list(m.majors),
            minors=list(m.minors),
            cfg=cfg,
        )
    elif m.source == "dashboard":
        ct, sub, meas = m.dashboard_key
        df = sql.run(
            "dashboard/borough_monthly",
            area_code=cfg.borough_code,
            crime_type=ct,
            crime_subtype=sub,
            measure=meas,
            cfg=cfg,
        )
    elif m.source == "business":
        df = sql.run(
            "business/borough_monthly", borough_name=cfg.borough_name, sections=list(m.sections), cfg=cfg
        )
    elif (
        m.source == "composite"
    ):  # serious violence: a signed sum of other measures (csp_data/analysis/composite.py)
        from csp_data.analysis.composite import monthly

        return monthly(m, cfg)
    else:  # pragma: no cover - catalogue is fixed
        raise ValueError(m.source)
    df["month"] = pd.to_datetime(df["month"]).dt.date
    return df


def _sum(series: pd.DataFrame, w: Period) -> int | None:
    """Sum over a window, or None when any month in it is missing (missing is never zero)."""
    sub = series[(series.month >= w.start) & (series.month <= w.end)]
    if len(sub) != len(w.months()):
        return None
    return int(sub["count"].sum())


def _rank(m: Measure, w: Period, cfg: Settings) -> tuple[int | None, int | None]:
    if m.source == "crime":
        df = sql.run(
            "crime/london_rank",
            majors=list(m.majors),
            minors=list(m.minors),
            start=w.start,
            end=w.end,
            cfg=cfg,
        )
        mine = df[df.borough_code == cfg.borough_code]
    elif m.source == "business":
        df = sql.run("business/london_rank", sections=list(m.sections), start=w.start, end=w.end, cfg=cfg)
        mine = df[df.borough_name == cfg.borough_name]
    else:
        return None, None
    if mine.empty:
        return None, None
    return int(mine["rank"].iloc[0]), int(mine["boroughs"].iloc[0])


def score(m: Measure, cfg: Settings | None = None, as_of: date | None = None) -> ScoreRow:
    """One measure's row. ``as_of`` (a first-of-month date) ignores later months, so the row is
    as it stood then (for a board paper about a past month); by default the latest data are used."""
    cfg = cfg or get_settings()
    series = monthly_series(m, cfg)
    if as_of is not None:
        series = series[series.month <= as_of].reset_index(drop=True)
    if series.empty:
        return ScoreRow(m, None, "", None, None, None, None, None, None, "", None, None, "awaiting data")
    latest = series["month"].max()
    snapshot = str(series.loc[series.month == latest, "snapshot"].iloc[0])
    last12 = span(add_months(latest, -11), latest)  # month words, never an FY name
    prev12 = span(add_months(latest, -23), add_months(latest, -12))
    disp = series_dispersion(series, end=latest)
    l12 = compare_in_series(series, (last12.start, last12.end), (prev12.start, prev12.end), dispersion=disp)
    fytd = span(fy_start(latest), latest)
    fytd_prev = span(add_months(fytd.start, -12), add_months(latest, -12))
    fy = compare_in_series(series, (fytd.start, fytd.end), (fytd_prev.start, fytd_prev.end), dispersion=disp)
    rank, of = _rank(m, last12, cfg) if m.london_rank else (None, None)
    note = "" if l12 else "fewer than 24 months of data: no 12-month comparison"
    return ScoreRow(
        m, latest, snapshot, last12, prev12, l12, fytd, fytd_prev, fy, fy_label(latest), rank, of, note, disp
    )


def scorecard(cfg: Settings | None = None, as_of: date | None = None) -> list[ScoreRow]:
    cfg = cfg or get_settings()
    return [score(m, cfg, as_of) for m in MEASURES]


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def fmt_change(c: Comparison | None) -> str:
    if c is None:
        return "awaiting data"
    pct = f" ({c.pct_change:+.1f}%)" if c.pct_change is not None else ""
    return f"{c.change:+,d}{pct}"


def as_table(rows: list[ScoreRow]) -> pd.DataFrame:
    """The scorecard as a plain table: the same figures as the tiles, for screen readers and papers."""
    out = []
    for r in rows:
        l12, fy = r.l12, r.fy
        out.append(
            {
                "Priority": r.measure.priority,
                "Measure": r.measure.label,
                "Last 12 months": f"{l12.current:,d}" if l12 else "awaiting data",
                "Previous 12 months": f"{l12.previous:,d}" if l12 else "awaiting data",
                "12-month change": fmt_change(l12),
                "12-month verdict": f"{l12.symbol} {l12.verdict}" if l12 else "awaiting data",
                "Direction of travel": l12.travel(r.measure.lower_is_better) if l12 else "",
                "Year to date": f"{fy.current:,d}" if fy else "awaiting data",
                "Same months last year": f"{fy.previous:,d}" if fy else "awaiting data",
                "Year-to-date change": fmt_change(fy),
                "Year-to-date verdict": f"{fy.symbol} {fy.verdict}" if fy else "awaiting data",
                "London rank (12 months)": f"{ordinal(r.rank)} of {r.rank_of}" if r.rank else "not available",
                "Period (12 months)": r.last12.label if r.last12 else "",
                "Year to date period": f"{r.fy_label}: {r.fytd.label}" if r.fytd else "",
                "Source": r.measure.source_name,
                "Snapshot": r.snapshot,
            }
        )
    return pd.DataFrame(out)


def as_records(rows: list[ScoreRow]) -> pd.DataFrame:
    """The scorecard for download: numbers as numbers (no thousands separators or signs in text),
    one column per figure, with period, source and snapshot on every row."""
    out = []
    for r in rows:
        l12, fy = r.l12, r.fy
        out.append(
            {
                "priority": r.measure.priority,
                "measure_id": r.measure.id,
                "measure": r.measure.label,
                "period_start": r.last12.start.isoformat() if r.last12 else None,
                "period_end": r.last12.end.isoformat() if r.last12 else None,
                "last_12_months": l12.current if l12 else None,
                "previous_12_months": l12.previous if l12 else None,
                "change": l12.change if l12 else None,
                "pct_change": round(l12.pct_change, 1) if l12 and l12.pct_change is not None else None,
                "p_value": l12.p_value if l12 else None,
                "dispersion": round(l12.phi, 2) if l12 else None,
                "verdict": l12.verdict if l12 else "awaiting data",
                "direction_of_travel": l12.travel(r.measure.lower_is_better) if l12 else None,
                "fy": r.fy_label or None,
                "fy_to_date_start": r.fytd.start.isoformat() if r.fytd else None,
                "fy_to_date": fy.current if fy else None,
                "same_months_last_year": fy.previous if fy else None,
                "fy_change": fy.change if fy else None,
                "fy_pct_change": round(fy.pct_change, 1) if fy and fy.pct_change is not None else None,
                "fy_p_value": fy.p_value if fy else None,
                "fy_dispersion": round(fy.phi, 2) if fy else None,
                "fy_verdict": fy.verdict if fy else "awaiting data",
                "london_rank": r.rank,
                "london_boroughs": r.rank_of,
                "source": r.measure.source_name,
                "snapshot": r.snapshot,
            }
        )
    return pd.DataFrame(out)
