"""Accessible, offline Altair chart builders for the priority and target pages.

Every builder returns ``(chart, alt_text, table)``:

* ``chart`` - an ``alt.Chart``/``alt.LayerChart`` with ``width="container"``, the alt text as its
  Vega-Lite top-level ``description`` (which vega-embed turns into the canvas's aria-label), title
  and axis titles in words, label fonts of at least 12 px and dark label colours (Streamlit's default
  axis grey fails contrast). Data is inline; the spec names no URL other than its ``$schema``.
* ``alt_text`` - one to three sentences with the real numbers, for ``st.altair_chart``'s neighbour
  text / ``alt=``.
* ``table`` - the exact figures plotted, one row per plotted point or bar, human-readable column
  names and months as 'Mon YYYY' text, ready for ``st.table`` (pass it through
  :func:`csp_data.present.formatting.display_frame` to blank missing values and add thousands separators).

Colour is never the only signal: series differ by dash pattern and marker shape as well as colour,
incomplete financial years are hatched *and* labelled "to date (N months)", targets and averages are
labelled in text, and gauge status is written in the title. Colours have at least 3:1 contrast with
white (WCAG 1.4.11).

This module must not import streamlit: pages render the charts.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Literal

import altair as alt
import pandas as pd

from csp_data.present.formatting import month as month_text
from csp_data.present.memo import memoize

__all__ = [
    "PALETTE",
    "trend_chart",
    "fy_bars",
    "breakdown_bars",
    "outcome_rate_chart",
    "gauge",
    "ward_bars",
    "trajectory_chart",
    "small_trend",
    "to_vega_spec",
    "monthly_with_average",
    "interval_dots",
    "day_hour_heatmap",
]

# ≥3:1 against white for graphical objects (WCAG 1.4.11); all pass 4.5:1 too.
PALETTE = {
    "blue": "#1f4e79",  # 8.9:1
    "orange": "#b35900",  # 4.9:1
    "grey": "#4d4d4d",  # 8.5:1
    "purple": "#5b2a86",  # 10.5:1
}
TEXT_COLOUR = "#1a1a1a"
AXIS_COLOUR = "#333333"
BAND_FILL = "#d9d9d9"  # decoration only: the limits themselves are drawn as dark dotted lines
RANGE_FILL = "#e6e6e6"  # gauge background range (decoration only)
LABEL_SIZE = 12

# Hatching: Vega-Lite has no pattern fills, but a linear gradient with hard colour stops along the
# bar's diagonal draws stripes. Stripe count is fixed per bar (the gradient is relative to the
# bar's bounding box), which is fine for a "this bar is different" cue.
_STRIPES = 10


def _hatch(dark: str, light: str = "#ffffff", stripes: int = _STRIPES) -> alt.LinearGradient:
    stops = []
    for i in range(stripes):
        a, b = i / stripes, (i + 1) / stripes
        colour = dark if i % 2 == 0 else light
        stops += [alt.GradientStop(offset=a, color=colour), alt.GradientStop(offset=b, color=colour)]
    return alt.LinearGradient(gradient="linear", stops=stops, x1=0, y1=1, x2=1, y2=0)


# Marker shapes for control-chart signals: triangles for a single month beyond a limit, arrows
# (custom SVG paths on Vega's [-1, 1] unit square, y down) for months in a sustained run.
_ARROW_UP = "M0,-1L0.85,0.1L0.3,0.1L0.3,1L-0.3,1L-0.3,0.1L-0.85,0.1Z"
_ARROW_DOWN = "M0,1L0.85,-0.1L0.3,-0.1L0.3,-1L-0.3,-1L-0.3,-0.1L-0.85,-0.1Z"
SIGNALS = {  # input code -> (words, shape)
    "above": ("Above upper control limit", "triangle-up"),
    "below": ("Below lower control limit", "triangle-down"),
    "run above": ("In a run above the centre line", _ARROW_UP),
    "run below": ("In a run below the centre line", _ARROW_DOWN),
}
_BASELINE_SHAPE = "cross"  # standard shape: custom SVG paths render blank in the legend

TREND_COLUMNS = ("month", "count", "rolling12", "centre", "lcl", "ucl", "signal")
FY_COLUMNS = ("fy", "count", "complete", "months")
OUTCOME_COLUMNS = ("period", "offences", "positive_outcomes", "rate_pct", "rate_low", "rate_high")


# --------------------------------------------------------------------------------------------
# helpers


def _require(df, columns: Iterable[str], builder: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"{builder}: expected a pandas DataFrame, got {type(df).__name__}")
    for col in columns:
        if col not in df.columns:
            raise ValueError(f"{builder}: missing column {col!r} (needs {', '.join(columns)})")


def _missing(v) -> bool:
    if v is None:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _num(v) -> float | None:
    return None if _missing(v) else float(v)


def fmt(v, dp: int = 1) -> str:
    """A number for text: whole numbers with thousands separators, others to ``dp`` places."""
    if _missing(v):
        return "no data"
    v = float(v)
    if v.is_integer():
        return f"{int(v):,d}"
    return f"{v:,.{dp}f}"


def _pct(v) -> str:
    return "no rate" if _missing(v) else f"{float(v):.1f}%"


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def _listing(items: Sequence[str], limit: int = 4) -> str:
    items = list(items)
    if len(items) <= limit:
        shown = items
        rest = 0
    else:
        shown, rest = items[:limit], len(items) - limit
    text = "; ".join(shown)
    return f"{text}; and {rest} more" if rest else text


def _round(v, dp: int = 1):
    """``v`` rounded to ``dp`` places; whole numbers stay ints so tables show "104", not "104.0"."""
    if _missing(v):
        return None
    v = round(float(v), dp)
    return int(v) if v.is_integer() else v


def _plain(text: str) -> str:
    """Status text without leading symbols (a screen reader would say "heavy check mark")."""
    return str(text).lstrip("✔✓✗✘✖⚠●○…▲▼◆■□ ").strip() or str(text)


def _cap(text: str) -> str:
    text = str(text)
    return text[:1].upper() + text[1:]


def _lower_first(text: str) -> str:
    """'Hate crime' -> 'hate crime' for use mid-sentence; acronyms ('MPS target', 'ASB') stay."""
    text = str(text)
    return text if text[:2].isupper() else text[:1].lower() + text[1:]


def _with_value(label: str, value_text: str) -> str:
    """'Target for 2028: 1,000' stays as it is; 'Target' becomes 'Target: 1,000'."""
    return label if value_text in label else f"{label}: {value_text}"


def _humanise(col: str) -> str:
    return _cap(str(col).replace("_", " "))


def _to_timestamp(v) -> pd.Timestamp:
    ts = pd.Timestamp(v)
    return pd.Timestamp(ts.year, ts.month, 1)


def _title(text: str, subtitle: str | Sequence[str] | None = None) -> alt.TitleParams:
    if subtitle:
        return alt.TitleParams(text=text, subtitle=subtitle, anchor="start")
    return alt.TitleParams(text=text, anchor="start")


_STACKED = "{bottom: {direction: 'vertical', anchor: 'start', offset: 14}}"


def _finish(chart, title, alt_text: str, height: int, legend_below: bool = False):
    """Top-level properties and accessible styling shared by every builder. ``height`` is the whole
    chart's (st.vega_lite_chart fits title, axes and plot into it), or, with ``legend_below``, the
    plot's alone: the legends under it then add as many lines as the width needs."""
    if legend_below:
        chart = chart.properties(autosize=alt.AutoSizeParams(type="fit-x", contains="padding"))
    chart = (
        chart.properties(title=title, description=alt_text, width="container", height=height)
        .configure_axis(
            labelFontSize=LABEL_SIZE,
            titleFontSize=13,
            labelColor=AXIS_COLOUR,
            titleColor=TEXT_COLOUR,
            domainColor=AXIS_COLOUR,
            tickColor=AXIS_COLOUR,
            labelLimit=260,
        )
        .configure_legend(
            labelFontSize=LABEL_SIZE,
            titleFontSize=LABEL_SIZE,
            labelColor=TEXT_COLOUR,
            titleColor=TEXT_COLOUR,
            labelLimit=320,
            symbolSize=140,
            # legends below the plot (_BOTTOM) are stacked, one under another, from the left
            **({"layout": {"expr": _STACKED}} if legend_below else {}),
        )
        .configure_title(
            fontSize=16, subtitleFontSize=13, color=TEXT_COLOUR, subtitleColor=AXIS_COLOUR, anchor="start"
        )
        .configure_text(fontSize=LABEL_SIZE, color=TEXT_COLOUR)
        .configure_view(stroke=None)
    )
    return chart


# Legends go below the plot, so that a chart fits a 320 px screen (a Vega legend never wraps): one
# row of entries when the plot is wide, one entry per line when it is narrower than 500 px, each
# label cut (with an ellipsis) at the plot's width rather than running past it.
_BOTTOM: dict = dict(
    orient="bottom",
    direction="horizontal",
    columns={"expr": "width < 500 ? 1 : 0"},
    labelLimit={"expr": "min(320, max(120, width - 24))"},
    # under 300 px, a label longer than 28 characters goes on two lines, split at a space
    labelExpr="width < 300 && length(datum.label) > 28 && lastindexof(substring(datum.label, 0, 28), ' ') > 0"
    " ? [substring(datum.label, 0, lastindexof(substring(datum.label, 0, 28), ' ')),"
    " substring(datum.label, lastindexof(substring(datum.label, 0, 28), ' ') + 1)] : datum.label",
)


def to_vega_spec(chart) -> dict:
    """The chart's Vega-Lite spec as a dict (validates against the schema)."""
    return chart.to_dict()


# --------------------------------------------------------------------------------------------
# 1. monthly trend with control limits


@memoize(maxsize=256, copy=False)
def trend_chart(df: pd.DataFrame, title: str, measure_label: str, breaks: Sequence[tuple[date, str]] = ()):
    """Monthly counts (line + points), 12-month rolling average (dashed), control limits (shaded
    band + dotted lines) with the centre line, signals as shaped markers, series breaks as labelled
    vertical rules.

    ``df`` columns: month (date), count, rolling12 (may be NaN), centre, lcl, ucl,
    signal ("" | "above" | "below" | "run above" | "run below").
    """
    _require(df, TREND_COLUMNS, "trend_chart")
    if df.empty:
        raise ValueError("trend_chart: no months to plot (the frame is empty)")

    d = df.loc[:, list(TREND_COLUMNS)].copy()
    d["month"] = d["month"].map(_to_timestamp)
    if d["month"].duplicated().any():
        dup = d.loc[d["month"].duplicated(), "month"].iloc[0]
        raise ValueError(f"trend_chart: month {month_text(dup)} appears more than once")
    d = d.sort_values("month").reset_index(drop=True)
    d["signal"] = d["signal"].map(lambda s: "" if _missing(s) else str(s).strip().lower())
    unknown = sorted(set(d["signal"]) - set(SIGNALS) - {""})
    if unknown:
        raise ValueError(f"trend_chart: unknown signal value(s) {unknown}; expected one of {sorted(SIGNALS)}")
    for col in ("count",):
        d[col] = d[col].map(lambda v: _round(v, 2))
    for col in ("rolling12", "centre", "lcl", "ucl"):
        d[col] = d[col].map(_round)

    first, last = d["month"].iloc[0], d["month"].iloc[-1]
    count_name = _cap(measure_label)
    words = {code: w for code, (w, _) in SIGNALS.items()}

    # wide frame: one row per month (points, band, signals, tooltips, table)
    wide = pd.DataFrame(
        {
            "Month": d["month"].map(month_text),
            "month": d["month"],
            count_name: d["count"],
            "12-month average": d["rolling12"],
            "Centre line": d["centre"],
            "Lower control limit": d["lcl"],
            "Upper control limit": d["ucl"],
            "Signal": d["signal"].map(lambda s: words.get(s, "")),
        }
    )

    # breaks inside the plotted span
    brk_rows = []
    for when, label in breaks or ():
        ts = _to_timestamp(when)
        if first <= ts <= last:
            brk_rows.append({"month": ts, "Month": month_text(ts), "label": str(label)})
    brk = pd.DataFrame(brk_rows, columns=["month", "Month", "label"])

    # long frame for the line layers
    series_style = [  # name, source column, colour, dash, width
        (f"Monthly {_lower_first(measure_label)}", "count", PALETTE["blue"], [1, 0], 2.5),
        ("12-month rolling average", "rolling12", PALETTE["orange"], [8, 4], 2.5),
        ("Centre line (average)", "centre", PALETTE["grey"], [12, 3, 2, 3], 1.5),
        ("Control limits", "lcl", PALETTE["grey"], [2, 3], 1.5),
        ("Control limits", "ucl", PALETTE["grey"], [2, 3], 1.5),
    ]
    rows = []
    for name, col, *_ in series_style:
        for m, v in zip(d["month"], d[col]):
            rows.append({"month": m, "series": name, "part": col, "value": v})
    long = pd.DataFrame(rows)
    # keep NaN counts (the line breaks at a missing month); drop NaN from the derived series
    long = long[(long["part"] == "count") | long["value"].notna()]
    present: list[tuple[str, str, list[int], float]] = []
    for name, _col, colour, dash, width in series_style:
        if name not in [p[0] for p in present] and (long["series"] == name).any():
            present.append((name, colour, dash, width))
    domain = [p[0] for p in present]

    n = len(d)
    step = next((s for s in (1, 2, 3, 6, 12) if n / s <= 8), 12 * math.ceil(n / 96))
    x = alt.X(
        "month:T",
        title="Month",
        axis=alt.Axis(
            format="%b %Y",
            labelAngle=0,
            labelOverlap="greedy",
            tickCount=alt.TimeIntervalStep(interval="month", step=step),
        ),
    )
    tooltip = [
        alt.Tooltip("Month:N"),
        alt.Tooltip(f"{count_name}:Q", format=",.0f"),
        alt.Tooltip("12-month average:Q", format=",.1f"),
        alt.Tooltip("Lower control limit:Q", format=",.1f"),
        alt.Tooltip("Centre line:Q", format=",.1f"),
        alt.Tooltip("Upper control limit:Q", format=",.1f"),
        alt.Tooltip("Signal:N"),
    ]

    band = (
        alt.Chart(wide)
        .mark_area(opacity=0.45, invalid="filter")
        .encode(
            x=x,
            y=alt.Y("Lower control limit:Q", title=_cap(measure_label)),
            y2="Upper control limit:Q",
            fill=alt.Fill(
                "key:N",
                title=None,
                scale=alt.Scale(domain=["Expected range (between control limits)"], range=[BAND_FILL]),
                legend=alt.Legend(**_BOTTOM, symbolType="square", symbolOpacity=0.6),
            ),
        )
        .transform_calculate(key="'Expected range (between control limits)'")
    )

    lines = (
        alt.Chart(long)
        .mark_line(invalid="break-paths-show-domains")
        .encode(
            x=x,
            y=alt.Y("value:Q", title=_cap(measure_label)),
            color=alt.Color(
                "series:N",
                title="Lines",
                scale=alt.Scale(domain=domain, range=[p[1] for p in present]),
                legend=alt.Legend(**_BOTTOM, symbolType="stroke", symbolStrokeWidth=2.5, symbolSize=400),
            ),
            strokeDash=alt.StrokeDash(
                "series:N",
                title="Lines",
                scale=alt.Scale(domain=domain, range=[p[2] for p in present]),
                legend=alt.Legend(**_BOTTOM, symbolType="stroke", symbolStrokeWidth=2.5, symbolSize=400),
            ),
            strokeWidth=alt.StrokeWidth(
                "series:N", scale=alt.Scale(domain=domain, range=[p[3] for p in present]), legend=None
            ),
            detail="part:N",
        )
    )

    points = (
        alt.Chart(wide)
        .mark_point(filled=True, size=36, color=PALETTE["blue"], opacity=1)
        .encode(
            x=x,
            y=alt.Y(f"{count_name}:Q"),
            tooltip=tooltip,
        )
    )

    layers = [band, lines, points]

    flagged = wide[wide["Signal"] != ""]
    if len(flagged):
        codes = [c for c in SIGNALS if (d["signal"] == c).any()]
        sig = (
            alt.Chart(flagged)
            .mark_point(
                filled=True, size=190, color=PALETTE["purple"], stroke="#ffffff", strokeWidth=1, opacity=1
            )
            .encode(
                x=x,
                y=alt.Y(f"{count_name}:Q"),
                shape=alt.Shape(
                    "Signal:N",
                    title="Signal (marker shape)",
                    scale=alt.Scale(
                        domain=[SIGNALS[c][0] for c in codes], range=[SIGNALS[c][1] for c in codes]
                    ),
                    legend=alt.Legend(
                        **_BOTTOM,
                        symbolFillColor=PALETTE["purple"],
                        symbolStrokeColor=PALETTE["purple"],
                    ),
                ),
                tooltip=tooltip,
            )
        )
        layers.append(sig)

    if len(brk):
        rule = (
            alt.Chart(brk)
            .mark_rule(color=PALETTE["grey"], strokeDash=[5, 3], strokeWidth=1.5)
            .encode(
                x=alt.X("month:T"),
                tooltip=[alt.Tooltip("Month:N", title="Series break"), alt.Tooltip("label:N", title="Why")],
            )
        )
        layers.append(rule)
        cut = first + (last - first) * 0.6
        sides: list[tuple[pd.DataFrame, Literal["left", "right"], int]] = [
            (brk[brk["month"] <= cut], "left", 4),
            (brk[brk["month"] > cut], "right", -4),
        ]
        for part, align, dx in sides:
            if len(part):
                layers.append(
                    alt.Chart(part)
                    .mark_text(align=align, baseline="bottom", dx=dx, fontWeight="bold", color=TEXT_COLOUR)
                    .encode(x=alt.X("month:T"), y=alt.value(-4), text="label:N")
                )

    chart = alt.layer(*layers)

    # alt text
    have = d[d["count"].notna()]
    sent1 = f"{title}, {month_text(first)} to {month_text(last)}"
    if len(brk):
        sent1 += (
            " (series break marked at " + "; ".join(f"{r.Month}: {r.label}" for r in brk.itertuples()) + ")"
        )
    sent1 += "."
    if len(have):
        latest = have.iloc[-1]
        bits = [f"Latest month ({month_text(latest['month'])}) {fmt(latest['count'])}"]
        if not _missing(latest["rolling12"]):
            bits.append(f"12-month average {fmt(latest['rolling12'])}")
        if not _missing(latest["lcl"]) and not _missing(latest["ucl"]):
            bits.append(f"control limits {fmt(latest['lcl'])} to {fmt(latest['ucl'])}")
        gaps = d.loc[d["count"].isna(), "month"]
        if len(gaps):
            bits.append(
                "no figure for "
                + _listing([month_text(m) for m in gaps], 3).replace("; and", " and").replace("; ", ", ")
            )
        sent2 = "; ".join(bits) + "."
    else:
        sent2 = "No month has a count yet."
    outside = d[d["signal"].isin(["above", "below"])]
    runs = d[d["signal"].isin(["run above", "run below"])]
    parts = []
    if len(outside):
        parts.append(
            f"{_plural(len(outside), 'month')} outside the control limits ("
            + _listing([f"{month_text(r.month)}, {r.signal}" for r in outside.itertuples()])
            + ")"
        )
    for code, side in (("run above", "above"), ("run below", "below")):
        idx = list(runs.index[runs["signal"] == code])
        if idx:
            spans, start = [], idx[0]
            for prev, cur in zip(idx, idx[1:] + [None]):
                if cur != prev + 1:
                    a, b = month_text(d.at[start, "month"]), month_text(d.at[prev, "month"])
                    spans.append(a if a == b else f"{a} to {b}")
                    start = cur
            parts.append(
                f"{_plural(len(idx), 'month')} in a sustained run {side} the centre line ("
                + _listing(spans, 3)
                + ")"
            )
    sent3 = (
        ("; ".join(parts) + ".") if parts else "No months outside the control limits and no sustained runs."
    )
    sent3 = _cap(sent3)
    alt_text = " ".join([sent1, sent2, sent3])

    table = wide.drop(columns=["month"]).reset_index(drop=True)
    if len(brk):
        notes = dict(zip(brk["Month"], brk["label"]))
        table["Series break"] = table["Month"].map(lambda m: notes.get(m, ""))

    legend_note = (
        "Solid line and dots: monthly figures; dashed: 12-month rolling average; "
        "shaded band between dotted lines: control limits"
    )
    # the plot as tall as it was with the legends at its right, in a 300 px chart
    return _finish(chart, _title(title, legend_note), alt_text, 200, legend_below=True), alt_text, table


# --------------------------------------------------------------------------------------------
# 2. financial-year bars


@memoize(maxsize=256, copy=False)
def fy_bars(
    df: pd.DataFrame,
    title: str,
    measure_label: str,
    target: float | None = None,
    target_label: str = "",
    breaks: Sequence[tuple[date, str]] = (),
):
    """One bar per financial year; incomplete years hatched and labelled "to date (N months)";
    optional labelled horizontal target rule; series breaks (month, label) mark the year they fall
    in ("series break" above the bar, named in the subtitle, the description and the table).

    ``df`` columns: fy ("FY2023-24"), count, complete (bool), months (int).
    """
    _require(df, FY_COLUMNS, "fy_bars")
    if df.empty:
        raise ValueError("fy_bars: no financial years to plot (the frame is empty)")
    d = df.loc[:, list(FY_COLUMNS)].copy().reset_index(drop=True)
    d["fy"] = d["fy"].astype(str)
    if d["fy"].duplicated().any():
        raise ValueError(
            f"fy_bars: financial year {d.loc[d['fy'].duplicated(), 'fy'].iloc[0]} appears more than once"
        )
    if d["count"].isna().any():
        raise ValueError(f"fy_bars: count is missing for {d.loc[d['count'].isna(), 'fy'].iloc[0]}")
    d["complete"] = d["complete"].astype(bool)
    d["months"] = d["months"].astype(int)
    target = _num(target)
    name = _cap(measure_label)

    def label(r) -> str:
        return fmt(r["count"]) if r["complete"] else f"{fmt(r['count'])} to date"

    def label2(r) -> str:
        return "" if r["complete"] else f"({_plural(r['months'], 'month')})"

    def status(r) -> str:
        return "Full year" if r["complete"] else f"To date ({_plural(r['months'], 'month')})"

    plot = pd.DataFrame(
        {
            "Financial year": d["fy"],
            name: d["count"].map(lambda v: _round(v, 2)),
            "Months": d["months"],
            "Status": d.apply(status, axis=1),
            "complete": d["complete"],
            "label": d.apply(label, axis=1),
            "label2": d.apply(label2, axis=1),
        }
    )
    order = list(plot["Financial year"])
    top = max(float(plot[name].max()), target or 0.0)
    y_scale = alt.Scale(domain=[0, top * 1.25 if top > 0 else 1], nice=False)
    brk: dict[str, str] = {}  # financial year -> "label (Mon YYYY)" for breaks inside the plotted years
    for when, blabel in breaks or ():
        ts = _to_timestamp(when)
        start = ts.year if ts.month >= 4 else ts.year - 1
        fy = f"FY{start}-{str(start + 1)[-2:]}"
        if fy in order:
            brk[fy] = (brk[fy] + "; " if fy in brk else "") + f"{blabel} ({month_text(ts)})"
    # a year with a series break says so on the axis, under its name, where no bar, value label or
    # target rule can cover it
    axis = alt.Axis(labelAngle=0)
    if brk:
        years = ", ".join(json.dumps(fy) for fy in brk)
        axis = alt.Axis(
            labelAngle=0,
            labelExpr=f"indexof([{years}], datum.value) >= 0 ? [datum.value, 'series break'] : datum.value",
        )
    x = alt.X("Financial year:N", sort=order, title="Financial year (April to March)", axis=axis)
    y = alt.Y(f"{name}:Q", title=name, scale=y_scale)
    tooltip = [
        alt.Tooltip("Financial year:N"),
        alt.Tooltip(f"{name}:Q", format=",.0f"),
        alt.Tooltip("Status:N"),
    ]
    plot["bar"] = plot[name]  # the bar's value under a plain name, for the label offsets below

    def _lift(dy: int) -> dict | int:
        """A value label's offset: ``dy`` above its bar, or, when the target rule would cross the
        labels (from 1 px above the bar to the top of the bold value, 36 px up), lifted by as much
        as it takes to stand 3 px clear above the rule. Pixels, measured as drawn (Vega's
        ``scale``), so whatever height the plot gets."""
        if target is None:
            return dy
        bar, rule = "scale('y', datum.bar)", f"scale('y', {target!r})"
        return {"expr": f"{dy} + ({rule} > {bar} - 38 && {rule} < {bar} + 1 ? {rule} - {bar} - 3 : 0)"}

    base = alt.Chart(plot)
    layers = [
        base.transform_filter("datum.complete")
        .mark_bar(color=PALETTE["blue"], width={"band": 0.7})
        .encode(x=x, y=y, tooltip=tooltip),
        base.transform_filter("!datum.complete")
        .mark_bar(
            color=_hatch(PALETTE["blue"], "#ffffff", 16),
            stroke=PALETTE["blue"],
            strokeWidth=2,
            strokeDash=[5, 3],
            width={"band": 0.7},
        )
        .encode(x=x, y=y, tooltip=tooltip),
        # two text layers rather than one multi-line label: Vega stacks extra lines *downwards*
        # from the baseline, which would put "(N months)" inside the bar
        base.mark_text(baseline="bottom", dy=_lift(-20), fontWeight="bold", color=TEXT_COLOUR).encode(
            x=x, y=y, text="label:N"
        ),
        base.mark_text(baseline="bottom", dy=_lift(-4), color=TEXT_COLOUR).encode(x=x, y=y, text="label2:N"),
    ]
    tlabel = target_label or "Target"
    if target is not None:
        tdf = pd.DataFrame({"target": [target], "Target": [_with_value(tlabel, fmt(target))]})
        layers.append(
            alt.Chart(tdf)
            .mark_rule(color=PALETTE["orange"], strokeDash=[8, 4], strokeWidth=2.5)
            .encode(y=alt.Y("target:Q", scale=y_scale), tooltip=["Target:N"])
        )
        # the rule is named in the subtitle rather than labelled on the plot, where the text
        # would collide with the value labels of the bars it crosses
    chart = alt.layer(*layers)

    items = [
        f"{r['Financial year']}: {fmt(r[name])}"
        if r["complete"]
        else f"{r['Financial year']}: {fmt(r[name])} to date ({_plural(r['Months'], 'month')})"
        for _, r in plot.iterrows()
    ]
    if len(items) > 6:
        items = items[-6:]
        sent1 = f"{title} (latest six years; all years are in the table): " + "; ".join(items) + "."
    else:
        sent1 = f"{title}: " + "; ".join(items) + "."
    sents = [sent1]
    if target is not None:
        full = plot[plot["complete"]]
        s = _with_value(tlabel, fmt(target))
        if len(full):
            last_full = full.iloc[-1]
            gap = float(last_full[name]) - target
            rel = "above" if gap > 0 else ("below" if gap < 0 else "level with")
            s += f"; the latest full year ({last_full['Financial year']}) is " + (
                f"{fmt(abs(gap))} {rel} it" if gap else "level with it"
            )
        sents.append(s + ".")
    if not plot["complete"].all():
        sents.append("Hatched bars with a dashed outline are years not yet complete.")
    for fy, words in brk.items():
        sents.append(f"Series break in {fy}: {words}; years before and after it are not like for like.")
    alt_text = " ".join(sents)

    table = plot[["Financial year", name, "Months", "Status"]].copy()
    if target is not None:
        table[tlabel] = target
    notes = []
    if not plot["complete"].all():
        notes.append("Hatched bar with dashed outline: year to date, not a full year")
    if target is not None:
        notes.append(f"Dashed orange line: {_with_value(tlabel, fmt(target))}")
    for fy, words in brk.items():
        notes.append(f"Series break in {fy}: {words}")
    if brk:
        table["Series break"] = table["Financial year"].map(lambda f: brk.get(f, ""))
    subtitle = notes or None
    return _finish(chart, _title(title, subtitle), alt_text, 300), alt_text, table


# --------------------------------------------------------------------------------------------
# 3. / 6. ranked horizontal bars


def _ranked(
    df: pd.DataFrame, category_col: str, value_col: str, builder: str
) -> tuple[pd.DataFrame, list[str]]:
    _require(df, (category_col, value_col), builder)
    if df.empty:
        raise ValueError(f"{builder}: nothing to plot (the frame is empty)")
    d = df[[category_col, value_col]].copy()
    d[category_col] = d[category_col].astype(str)
    if d[category_col].duplicated().any():
        raise ValueError(
            f"{builder}: {category_col} {d.loc[d[category_col].duplicated(), category_col].iloc[0]!r} "
            "appears more than once"
        )
    blank = list(d.loc[d[value_col].isna(), category_col])
    d = d[d[value_col].notna()]
    if d.empty:
        raise ValueError(f"{builder}: every {value_col} value is missing")
    d[value_col] = d[value_col].astype(float).round(2)
    d = d.sort_values([value_col, category_col], ascending=[False, True], kind="mergesort").reset_index(
        drop=True
    )
    return d, blank


def _hbar_layers(
    plot: pd.DataFrame, cat: str, val: str, cat_title: str, x_max: float, top_row: str | None = None
):
    order = ([top_row] if top_row is not None else []) + list(plot[cat])
    y = alt.Y(
        f"{cat}:N",
        sort=order,
        scale=alt.Scale(domain=order),
        title=cat_title,
        axis=alt.Axis(labelLimit=260, ticks=False),
    )
    x = alt.X(
        f"{val}:Q",
        title=val,
        scale=alt.Scale(domain=[0, x_max * 1.18 if x_max > 0 else 1], nice=False),
        axis=alt.Axis(tickCount=6),
    )
    base = alt.Chart(plot)
    bars = base.mark_bar(color=PALETTE["blue"], height={"band": 0.75}).encode(
        x=x, y=y, tooltip=[alt.Tooltip(f"{cat}:N"), alt.Tooltip(f"{val}:Q", format=",.1f")]
    )
    text = base.mark_text(align="left", baseline="middle", dx=4, color=TEXT_COLOUR).encode(
        x=x, y=y, text="label:N"
    )
    return x, y, [bars, text]


@memoize(maxsize=256, copy=False)
def breakdown_bars(
    df: pd.DataFrame, title: str, category_col: str, value_col: str, value_label: str, additive: bool = True
):
    """Horizontal bars sorted largest first with value labels (e.g. hate crime by type).

    ``additive=False`` for overlapping categories (hate crime strands): the description then states
    no total, because the parts do not add up to one."""
    d, blank = _ranked(df, category_col, value_col, "breakdown_bars")
    cat_title = _humanise(category_col)
    val = _cap(value_label)
    if val == cat_title:
        val = f"{val} (value)"
    plot = pd.DataFrame({cat_title: d[category_col], val: d[value_col]})
    plot["label"] = plot[val].map(fmt)
    _, _, layers = _hbar_layers(plot, cat_title, val, cat_title, float(plot[val].max()))
    chart = alt.layer(*layers)

    n = len(plot)
    total = float(plot[val].sum())
    top = [f"{r[cat_title]} ({fmt(r[val])})" for _, r in plot.head(3).iterrows()]
    sents = [
        f"{title}: {_plural(n, 'category', 'categories')}, total {fmt(total)}."
        if additive
        else f"{title}: {_plural(n, 'category', 'categories')}, which overlap, so they are not added up."
    ]
    if n > 3:
        low = plot.iloc[-1]
        sents.append(f"Largest: {', '.join(top)}. Smallest: {low[cat_title]} ({fmt(low[val])}).")
    else:
        sents.append(f"In order: {', '.join(top)}.")
    if blank:
        sents[-1] = sents[-1][:-1] + f"; not shown (no value): {', '.join(blank)}."
    alt_text = " ".join(sents)
    table = plot[[cat_title, val]].copy()
    height = max(120, 30 * n) + 90  # Streamlit fits title and axes into the height too
    return _finish(chart, _title(title), alt_text, height), alt_text, table


@memoize(maxsize=256, copy=False)
def ward_bars(df: pd.DataFrame, title: str, value_col: str, value_label: str, average: float | None = None):
    """Wards ranked by ``value_col`` with the borough average as a labelled rule.

    The ward name comes from ``ward_name`` (or ``Ward`` / ``ward``). ``average`` defaults to the mean of the
    ward values; pass the borough figure explicitly for rates (borough total / borough population is
    not the mean of ward rates).
    """
    cols = getattr(df, "columns", ())
    ward_col = next((c for c in ("ward_name", "Ward", "ward") if c in cols), "ward_name")
    d, blank = _ranked(df, ward_col, value_col, "ward_bars")
    val = _cap(value_label)
    plot = pd.DataFrame({"Ward": d[ward_col], val: d[value_col]})
    plot["label"] = plot[val].map(fmt)
    avg = _num(average)
    if avg is None:
        avg = float(plot[val].mean())
    avg = round(avg, 2)
    plot["Compared with borough average"] = plot[val].map(
        lambda v: "above" if v > avg else ("below" if v < avg else "equal")
    )
    plot.insert(0, "Rank", range(1, len(plot) + 1))
    # an empty first row on the ward axis gives the rule's label a clear space above the bars
    x, y, layers = _hbar_layers(plot, "Ward", val, "Ward", max(float(plot[val].max()), avg), top_row=" ")
    # A value label the average rule would cross (it starts 4 px after its bar and is about 7 px a
    # character wide) moves to 5 px right of the rule. Pixels as drawn (Vega's ``scale``).
    rule = f"scale('x', {avg!r})"
    bar = "scale('x', datum.bar)"
    crossed = f"{rule} > {bar} + 2 && {rule} < {bar} + 7 + 7 * length(datum.label)"
    layers[1] = (
        alt.Chart(plot.assign(bar=plot[val]))
        .mark_text(
            align="left",
            baseline="middle",
            dx={"expr": f"{crossed} ? {rule} - {bar} + 5 : 4"},
            color=TEXT_COLOUR,
        )
        .encode(x=x, y=y, text="label:N")
    )
    text = f"Borough average: {fmt(avg)}"
    adf = pd.DataFrame({val: [avg], "Ward": [" "], "text": [text]})
    layers.append(
        alt.Chart(adf)
        .mark_rule(color=PALETTE["orange"], strokeDash=[8, 4], strokeWidth=2.5)
        .encode(x=x, tooltip=[alt.Tooltip("text:N", title="Borough average")])
    )
    # right of the rule, or left of it when the plot is too narrow for that (bold: ~8 px a character)
    left = f"{rule} + 5 + {8 * len(text)} > width"
    layers.append(
        alt.Chart(adf)
        .mark_text(
            align={"expr": f"{left} ? 'right' : 'left'"},
            baseline="middle",
            dx={"expr": f"{left} ? -5 : 5"},
            fontWeight="bold",
            color=PALETTE["orange"],
        )
        .encode(x=x, y=y, text="text:N")
    )
    chart = alt.layer(*layers)

    n = len(plot)
    top = [f"{r['Ward']} ({fmt(r[val])})" for _, r in plot.head(3).iterrows()]
    low = plot.iloc[-1]
    above = int((plot[val] > avg).sum())
    sents = [
        f"{title}: {_plural(n, 'ward')} ranked by {value_label.lower()}.",
        f"Highest: {', '.join(top)}; lowest: {low['Ward']} ({fmt(low[val])}).",
        f"Borough average {fmt(avg)}; {_plural(above, 'ward')} above it.",
    ]
    if blank:
        sents[-1] = sents[-1][:-1] + f"; not shown (no value): {', '.join(blank)}."
    alt_text = " ".join(sents)
    table = plot[["Rank", "Ward", val, "Compared with borough average"]].copy()
    height = max(140, 24 * (n + 1) + 20) + 90  # title and axes are inside the height
    return _finish(chart, _title(title), alt_text, height), alt_text, table


def _target_phrase(name: str, target: float) -> str:
    """'previous plan target 10%' - the label as given, adding the value if the label lacks it."""
    name = _lower_first(name)
    return name if f"{target:g}%" in name else f"{name} ({target:g}%)"


# --------------------------------------------------------------------------------------------
# 4. positive outcome rates with intervals


@memoize(maxsize=256, copy=False)
def outcome_rate_chart(df: pd.DataFrame, title: str, target_pct: float | None, target_label: str = ""):
    """Positive outcome rate per period as points with interval bars, and a dashed target rule.

    ``df`` columns: period (text or date), offences, positive_outcomes, rate_pct (None when
    offences < 10), rate_low, rate_high (may be None).
    """
    _require(df, OUTCOME_COLUMNS, "outcome_rate_chart")
    if df.empty:
        raise ValueError("outcome_rate_chart: no periods to plot (the frame is empty)")
    d = df.loc[:, list(OUTCOME_COLUMNS)].copy().reset_index(drop=True)

    def period_text(v) -> str:
        if isinstance(v, (pd.Timestamp, datetime, date)):
            return month_text(v)
        return str(v)

    d["period"] = d["period"].map(period_text)
    if d["period"].duplicated().any():
        raise ValueError(
            f"outcome_rate_chart: period {d.loc[d['period'].duplicated(), 'period'].iloc[0]!r} "
            "appears more than once"
        )
    target = _num(target_pct)
    rate = "Positive outcome rate (%)"
    plot = pd.DataFrame(
        {
            "Period": d["period"],
            "Offences": d["offences"].map(lambda v: None if _missing(v) else int(v)),
            "Positive outcomes": d["positive_outcomes"].map(lambda v: None if _missing(v) else int(v)),
            rate: d["rate_pct"].map(_round),
            "Interval low (%)": d["rate_low"].map(_round),
            "Interval high (%)": d["rate_high"].map(_round),
        }
    )
    plot["Note"] = plot[rate].map(lambda v: "Rate not shown: fewer than 10 offences" if _missing(v) else "")
    order = list(plot["Period"])
    tops = [v for v in list(plot[rate]) + list(plot["Interval high (%)"]) + [target] if v is not None]
    top = max(tops) if tops else 10.0
    y_scale = alt.Scale(domain=[0, max(5.0, top * 1.2)], nice=False)
    x = alt.X("Period:N", sort=order, title="Period", axis=alt.Axis(labelAngle=0, labelOverlap="greedy"))
    y = alt.Y(f"{rate}:Q", title=rate, scale=y_scale)
    tooltip = [
        alt.Tooltip("Period:N"),
        alt.Tooltip("Offences:Q", format=",d"),
        alt.Tooltip("Positive outcomes:Q", format=",d"),
        alt.Tooltip(f"{rate}:Q", format=".1f"),
        alt.Tooltip("Interval low (%):Q", format=".1f"),
        alt.Tooltip("Interval high (%):Q", format=".1f"),
        alt.Tooltip("Note:N"),
    ]
    shown = plot[plot[rate].notna()]
    tname = target_label or (f"Target {target:g}%" if target is not None else "")
    ci = shown[shown["Interval low (%)"].notna() & shown["Interval high (%)"].notna()]
    layers = []
    if len(ci):
        ci_base = alt.Chart(ci)
        layers.append(
            ci_base.mark_rule(color=PALETTE["blue"], strokeWidth=2).encode(
                x=x,
                y=alt.Y("Interval low (%):Q", scale=y_scale, title=rate),
                y2="Interval high (%):Q",
                tooltip=tooltip,
            )
        )
        for edge in ("Interval low (%)", "Interval high (%)"):
            layers.append(
                ci_base.mark_tick(color=PALETTE["blue"], thickness=2, size=14, orient="horizontal").encode(
                    x=x, y=alt.Y(f"{edge}:Q", scale=y_scale, title=rate)
                )
            )
    # the points layer always exists (over every period) so the x axis lists every period
    layers.append(
        alt.Chart(plot)
        .mark_point(filled=True, size=110, shape="circle", color=PALETTE["blue"], opacity=1, invalid="filter")
        .encode(x=x, y=y, tooltip=tooltip)
    )
    # A rate's label (16 px tall, centred on its dot) keeps clear of the target rule: when the
    # rule would cross it, it moves to whichever side of the rule is nearer. Pixels as drawn
    # (Vega's ``scale``).
    dy: dict | int = 0
    if target is not None:
        dot, rule = "scale('y', datum.rate)", f"scale('y', {target!r})"
        up, down = f"({rule} - 11 - {dot})", f"({rule} + 11 - {dot})"
        dy = {
            "expr": f"{dot} + 8 > {rule} - 2 && {dot} - 8 < {rule} + 2 "
            f"? (abs({up}) < abs({down}) ? {up} : {down}) : 0"
        }
    layers.append(
        alt.Chart(shown.assign(label=shown[rate].map(_pct), rate=shown[rate]))
        .mark_text(align="left", dx=9, dy=dy, baseline="middle", color=TEXT_COLOUR)
        .encode(x=x, y=y, text="label:N")
    )
    hidden = plot[plot[rate].isna()]
    if len(hidden):
        layers.append(
            alt.Chart(hidden.assign(zero=0, label="<10 offences"))
            .mark_text(baseline="bottom", dy=-4, color=TEXT_COLOUR, fontStyle="italic")
            .encode(x=x, y=alt.Y("zero:Q", scale=y_scale, title=rate), text="label:N", tooltip=tooltip)
        )
    if target is not None:
        tdf = pd.DataFrame({"target": [target], "Target": [tname]})
        # named in a legend entry under the plot: a label on the rule would cross the dots and
        # interval lines of the periods it runs past
        layers.append(
            alt.Chart(tdf)
            .mark_rule(strokeDash=[8, 4], strokeWidth=2.5)
            .encode(
                y=alt.Y("target:Q", scale=y_scale, title=rate),
                color=alt.Color(
                    "Target:N",
                    scale=alt.Scale(domain=[tname], range=[PALETTE["orange"]]),
                    legend=alt.Legend(
                        **_BOTTOM,
                        title=None,
                        symbolType="stroke",
                        symbolStrokeWidth=2.5,
                        symbolDash=[8, 4],
                        symbolSize=400,
                    ),
                ),
                tooltip=["Target:N"],
            )
        )
    chart = alt.layer(*layers)

    sents = [f"{title}, {order[0]} to {order[-1]}." if len(order) > 1 else f"{title}, {order[0]}."]
    if len(shown):
        r = shown.iloc[-1]
        s = (
            f"Latest period {r['Period']}: {_pct(r[rate])}, {fmt(r['Positive outcomes'])} positive outcomes "
            f"from {fmt(r['Offences'])} offences"
        )
        lo, hi = r["Interval low (%)"], r["Interval high (%)"]
        if not (_missing(lo) or _missing(hi)):
            s += f" (interval {_pct(lo)} to {_pct(hi)})"
        if target is not None:
            s += f"; {_target_phrase(tname, target)}"
            if not (_missing(lo) or _missing(hi)):
                if lo > target:
                    s += ", which the whole interval is above"
                elif hi < target:
                    s += ", which the whole interval is below"
                else:
                    s += ", which is within the interval"
        sents.append(s + ".")
    else:
        s = "No period has 10 or more offences, so no rate is shown"
        if target is not None:
            s += f"; {_target_phrase(tname, target)}"
        sents.append(s + ".")
    if len(hidden) and len(shown):
        sents.append(
            f"{_plural(len(hidden), 'period')} with fewer than 10 offences "
            f"{'has' if len(hidden) == 1 else 'have'} no rate shown."
        )
    alt_text = " ".join(sents)
    subtitle = "Dots: rate; vertical lines: confidence interval"
    if target is not None:
        subtitle += "; dashed line: target"
    if len(hidden):
        subtitle += "; rates are not shown for fewer than 10 offences"
    # with a target, its legend entry goes under a plot as tall as the whole chart's 300 px left it
    below = target is not None
    return (
        _finish(chart, _title(title, subtitle), alt_text, 200 if below else 300, legend_below=below),
        alt_text,
        plot.reset_index(drop=True),
    )


# --------------------------------------------------------------------------------------------
# 5. target gauge (bullet chart)

_DIRECTIONS = {
    "lower": "lower",
    "down": "lower",
    "lower is better": "lower",
    "decrease": "lower",
    "reduce": "lower",
    "higher": "higher",
    "up": "higher",
    "higher is better": "higher",
    "increase": "higher",
}


@memoize(maxsize=256, copy=False)
def gauge(
    baseline: float,
    latest: float | None,
    target: float,
    direction: str,
    label: str,
    status: str,
    path_value: float | None = None,
):
    """A compact horizontal bullet chart: grey range 0..max, a bar for the latest value, markers
    (distinct shapes, in the legend) for baseline, target and where the path to target expects to be
    now. Status is written in the title. ``latest=None`` shows only baseline and target."""
    base_v, target_v = _num(baseline), _num(target)
    if base_v is None:
        raise ValueError("gauge: baseline is missing")
    if target_v is None:
        raise ValueError("gauge: target is missing")
    key = str(direction).strip().lower()
    if key not in _DIRECTIONS:
        raise ValueError(f"gauge: direction {direction!r} is not one of {sorted(set(_DIRECTIONS))}")
    better = _DIRECTIONS[key]
    latest_v = _num(latest)
    path_v = _num(path_value) if latest_v is not None else None
    awaiting = latest_v is None

    markers = [
        ("Baseline", base_v, PALETTE["grey"], _BASELINE_SHAPE),
        ("Target", target_v, PALETTE["orange"], "diamond"),
    ]
    if path_v is not None:
        markers.append(("Expected now on the path to target", path_v, PALETTE["purple"], "triangle-down"))
    values = [v for _, v, *_ in markers] + ([latest_v] if latest_v is not None else [])
    top = max(values + [0.0])
    top = top * 1.15 if top > 0 else 1.0
    value_title = label

    # legend: one colour+shape scale over latest and the markers, so one legend explains them all
    dom = (["Latest"] if not awaiting else []) + [m[0] for m in markers]
    colours = ([PALETTE["blue"]] if not awaiting else []) + [m[2] for m in markers]
    shapes = (["square"] if not awaiting else []) + [m[3] for m in markers]
    legend = alt.Legend(**_BOTTOM, title=None, symbolSize=160)
    colour = alt.Color("What:N", scale=alt.Scale(domain=dom, range=colours), legend=legend)
    shape = alt.Shape("What:N", scale=alt.Scale(domain=dom, range=shapes), legend=legend)
    x_scale = alt.Scale(domain=[0, top], nice=False)
    row = alt.Y("row:N", axis=None, title=None)
    tooltip = [alt.Tooltip("What:N"), alt.Tooltip("Value:Q", format=",.1f")]

    rng = (
        alt.Chart(pd.DataFrame({"row": [""], "start": [0.0], "end": [round(top, 2)]}))
        .mark_bar(color=RANGE_FILL, size=34)
        .encode(x=alt.X("start:Q", scale=x_scale, title=value_title), x2="end:Q", y=row)
    )
    layers = [rng]
    if latest_v is not None:
        ldf = pd.DataFrame({"row": [""], "What": ["Latest"], "Value": [round(latest_v, 2)], "zero": [0.0]})
        layers.append(
            alt.Chart(ldf)
            .mark_bar(size=14)
            .encode(
                x=alt.X("zero:Q", scale=x_scale, title=value_title),
                x2="Value:Q",
                y=row,
                color=colour,
                tooltip=tooltip,
            )
        )
    mdf = pd.DataFrame(
        {
            "row": [""] * len(markers),
            "What": [m[0] for m in markers],
            "Value": [round(m[1], 2) for m in markers],
        }
    )
    layers.append(
        alt.Chart(mdf)
        .mark_point(filled=True, size=360, opacity=1, stroke="#ffffff", strokeWidth=1)
        .encode(
            x=alt.X("Value:Q", scale=x_scale, title=value_title),
            y=row,
            color=colour,
            shape=shape,
            tooltip=tooltip,
        )
    )
    chart = alt.layer(*layers)

    rule = f"{better} is better"
    if awaiting:
        head = f"{label}: awaiting data"
        alt_text = f"{head}. Baseline {fmt(base_v)}; target {fmt(target_v)} ({rule})."
        subtitle = f"Awaiting data · baseline {fmt(base_v)} · target {fmt(target_v)} ({rule})"
        title_text = f"{label}: awaiting data"
    else:
        alt_text = (
            f"{label}: {_plain(status)}. Latest {fmt(latest_v)} against a baseline of {fmt(base_v)} "
            f"and a target of {fmt(target_v)} ({rule})."
        )
        if path_v is not None:
            alt_text += f" The path to the target expects about {fmt(path_v)} by now."
        subtitle = f"Latest {fmt(latest_v)} · baseline {fmt(base_v)} · target {fmt(target_v)} ({rule})"
        if path_v is not None:
            subtitle += f" · expected now {fmt(path_v)}"
        title_text = f"{label}: {status}"

    rows = []
    if latest_v is not None:
        rows.append(("Latest", round(latest_v, 2)))
    rows += [(m[0], round(m[1], 2)) for m in markers]
    table = pd.DataFrame(rows, columns=["Item", "Value"])
    return _finish(chart, _title(title_text, subtitle), alt_text, 90, legend_below=True), alt_text, table


@memoize(maxsize=256, copy=False)
def trajectory_chart(df: pd.DataFrame, title: str, measure_label: str):
    """Recorded counts per financial year against the straight path to the target.

    df columns: fy, months (months held), recorded (None when no month is held), expected (what the
    path expects for the same months; for a year with no data, the full year), full_year (the path's
    full-year value). Bars are recorded counts (hatched and labelled when the year is incomplete); the
    path is a dashed line with diamond markers, so the two differ by shape as well as colour.
    """
    for col in ("fy", "months", "recorded", "expected", "full_year"):
        _require(df, [col], "trajectory_chart")
    if df.empty:
        raise ValueError("trajectory_chart: no rows to plot")
    name = _cap(measure_label)
    plot = pd.DataFrame(
        {
            "Financial year": df["fy"].astype(str),
            "Months held": df["months"].astype(int),
            f"{name} recorded": pd.to_numeric(df["recorded"], errors="coerce"),
            "Expected on the path (same months)": pd.to_numeric(df["expected"], errors="coerce").round(1),
            "Path, full year": pd.to_numeric(df["full_year"], errors="coerce").round(1),
        }
    )
    rec, exp = f"{name} recorded", "Expected on the path (same months)"
    plot["complete"] = plot["Months held"] == 12
    plot["label"] = ""
    # part years say so on the axis (the bar's value labels would collide with the path's markers)
    plot["Financial year"] = [
        fy if c or m == 0 else f"{fy} ({m} months)"
        for fy, c, m in zip(plot["Financial year"], plot["complete"], plot["Months held"])
    ]
    x = alt.X(
        "Financial year:N", sort=None, title="Financial year (April to March)", axis=alt.Axis(labelAngle=0)
    )
    top = float(pd.concat([plot[rec], plot["Path, full year"]]).max(skipna=True)) * 1.15
    y_scale = alt.Scale(domain=[0, top])
    base = alt.Chart(plot)
    bars = base.mark_bar(color=PALETTE["blue"], size=38).encode(
        x=x,
        y=alt.Y(f"{rec}:Q", title=name, scale=y_scale),
        fill=alt.condition("datum.complete", alt.value(PALETTE["blue"]), alt.value(_hatch(PALETTE["blue"]))),
        strokeDash=alt.condition("datum.complete", alt.value([1, 0]), alt.value([4, 3])),
        stroke=alt.value(PALETTE["blue"]),
        tooltip=[
            "Financial year:N",
            "Months held:Q",
            alt.Tooltip(f"{rec}:Q", format=","),
            alt.Tooltip(f"{exp}:Q", format=",.1f"),
        ],
    )
    path = base.mark_line(
        color=PALETTE["orange"],
        strokeDash=[8, 4],
        strokeWidth=2.5,
        point=alt.OverlayMarkDef(shape="diamond", size=110, color=PALETTE["orange"]),
    ).encode(
        x=x,
        y=alt.Y(f"{exp}:Q", scale=y_scale),
        tooltip=[
            "Financial year:N",
            alt.Tooltip(f"{exp}:Q", format=",.1f"),
            alt.Tooltip("Path, full year:Q", format=",.1f"),
        ],
    )
    chart = alt.layer(bars, path)
    items = []
    for _, r in plot.iterrows():
        if _missing(r[rec]):
            items.append(f"{r['Financial year']}: no data yet, path {fmt(r['Path, full year'])}")
        else:
            items.append(f"{r['Financial year']}: {fmt(r[rec])} against {fmt(r[exp])} on the path")
    alt_text = f"{title}. " + "; ".join(items) + "."
    subtitle = [
        "Bars: recorded (hatched with dashed outline: year to date)",
        "Dashed orange line with diamonds: expected on the straight path to the target, same months",
    ]
    table = plot.drop(columns=["complete", "label"]).reset_index(drop=True)
    return _finish(chart, _title(title, subtitle), alt_text, 320), alt_text, table


@memoize(maxsize=256, copy=False)
def small_trend(df: pd.DataFrame, title: str, measure_label: str):
    """A small monthly line chart for one category (ward profiles): dots on every month, the
    latest month labelled. df columns: month (date), count."""
    _require(df, ["month", "count"], "small_trend")
    if df.empty:
        raise ValueError("small_trend: no months to plot")
    name = _cap(measure_label)
    plot = pd.DataFrame(
        {
            "Month": [month_text(m) for m in df["month"]],
            "month_ts": [_to_timestamp(m) for m in df["month"]],
            name: pd.to_numeric(df["count"], errors="coerce"),
        }
    )
    base = alt.Chart(plot)
    x = alt.X("month_ts:T", title=None, axis=alt.Axis(format="%b %Y", tickCount=4, labelAngle=0))
    y = alt.Y(f"{name}:Q", title="Offences", axis=alt.Axis(tickCount=3))
    line = base.mark_line(
        color=PALETTE["blue"], strokeWidth=2, point=alt.OverlayMarkDef(size=30, color=PALETTE["blue"])
    ).encode(x=x, y=y, tooltip=["Month:N", alt.Tooltip(f"{name}:Q", format=",")])
    last = plot.iloc[[-1]].assign(label=lambda d: d[name].map(fmt))
    label = (
        alt.Chart(last)
        .mark_text(align="left", dx=6, color=TEXT_COLOUR, fontWeight="bold")
        .encode(x="month_ts:T", y=f"{name}:Q", text="label:N")
    )
    chart = alt.layer(line, label)
    first, latest = plot.iloc[0], plot.iloc[-1]
    peak = plot.loc[plot[name].idxmax()]
    alt_text = (
        f"{title}: {fmt(first[name])} in {first['Month']} and {fmt(latest[name])} in {latest['Month']}; "
        f"the highest month was {peak['Month']} with {fmt(peak[name])}."
    )
    table = plot[["Month", name]].reset_index(drop=True)
    return _finish(chart, _title(title), alt_text, 150), alt_text, table


# --------------------------------------------------------------------------------------------
# 9. monthly counts with a rolling average (no control limits), rates with intervals by group,
#    day-of-week x hour-of-day heatmap (first used by the stop-and-search page)

MONTHLY_COLUMNS = ("month", "count", "rolling12")
INTERVAL_COLUMNS = ("group", "n", "k", "rate_pct", "low_pct", "high_pct")
HEATMAP_COLUMNS = ("weekday", "hour", "count")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
HEAT_LOW, HEAT_HIGH = "#eef4fb", PALETTE["blue"]  # heatmap ends; cells between are mixed in sRGB


def _srgb(hex_colour: str) -> tuple[float, ...]:
    h = hex_colour.lstrip("#")
    return tuple(int(h[i : i + 2], 16) / 255 for i in (0, 2, 4))


def _luminance(rgb: Sequence[float]) -> float:
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _label_colour(t: float) -> str:
    """Black or white, whichever contrasts more with the heatmap colour at ``t`` (0-1): at least
    4.5:1 everywhere on a light-to-dark ramp."""
    lo, hi = _srgb(HEAT_LOW), _srgb(HEAT_HIGH)
    lum = _luminance([a + (b - a) * t for a, b in zip(lo, hi)])
    return "#000000" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "#ffffff"


def _month_runs(months: Sequence[pd.Timestamp]) -> list[str]:
    """Consecutive months joined into spans: 'Mar 2019 to May 2021', 'Jan 2022'."""
    spans: list[list[pd.Timestamp]] = []
    run: list[pd.Timestamp] = []
    for m in sorted(months):
        if run and (m.year * 12 + m.month) != (run[-1].year * 12 + run[-1].month) + 1:
            spans.append(run)
            run = []
        run.append(m)
    if run:
        spans.append(run)
    return [month_text(r[0]) if len(r) == 1 else f"{month_text(r[0])} to {month_text(r[-1])}" for r in spans]


@memoize(maxsize=256, copy=False)
def monthly_with_average(df: pd.DataFrame, title: str, measure_label: str, note_col: str | None = None):
    """Monthly counts (solid line with dots) and a 12-month rolling average (dashed), with gaps where
    a month has no figure (the line breaks; the gap is named in the description and the table).

    ``df`` columns: month (date), count (NaN for a month with no data), rolling12 (NaN where not
    computed); optional ``note_col`` (text per month, e.g. why a month is incomplete).
    """
    _require(df, MONTHLY_COLUMNS, "monthly_with_average")
    if df.empty:
        raise ValueError("monthly_with_average: no months to plot (the frame is empty)")
    d = df.copy()
    d["month"] = d["month"].map(_to_timestamp)
    if d["month"].duplicated().any():
        raise ValueError(
            f"monthly_with_average: month {month_text(d.loc[d['month'].duplicated(), 'month'].iloc[0])} "
            "appears more than once"
        )
    d = d.sort_values("month").reset_index(drop=True)
    name = _cap(measure_label)
    avg = "12-month average"
    wide = pd.DataFrame(
        {
            "Month": d["month"].map(month_text),
            "month": d["month"],
            name: d["count"].map(lambda v: _round(v, 2)),
            avg: d["rolling12"].map(_round),
        }
    )
    if note_col:
        wide["Note"] = d[note_col].map(lambda v: "" if _missing(v) else str(v))
    series = [
        (f"Monthly {_lower_first(measure_label)}", name, PALETTE["blue"], [1, 0]),
        ("12-month rolling average", avg, PALETTE["orange"], [8, 4]),
    ]
    rows = [
        {"month": m, "series": s, "value": v}
        for s, col, *_ in series
        for m, v in zip(wide["month"], wide[col])
    ]
    long = pd.DataFrame(rows)
    long = long[(long["series"] == series[0][0]) | long["value"].notna()]
    present = [s for s in series if (long["series"] == s[0]).any()]
    n = len(d)
    step = next((s for s in (1, 2, 3, 6, 12) if n / s <= 8), 12 * math.ceil(n / 96))
    x = alt.X(
        "month:T",
        title="Month",
        axis=alt.Axis(
            format="%b %Y",
            labelAngle=0,
            labelOverlap="greedy",
            tickCount=alt.TimeIntervalStep(interval="month", step=step),
        ),
    )
    tooltip = [
        alt.Tooltip("Month:N"),
        alt.Tooltip(f"{name}:Q", format=",.0f"),
        alt.Tooltip(f"{avg}:Q", format=",.1f"),
    ]
    if note_col:
        tooltip.append(alt.Tooltip("Note:N"))
    lines = (
        alt.Chart(long)
        .mark_line(invalid="break-paths-show-domains", strokeWidth=2.5)
        .encode(
            x=x,
            y=alt.Y("value:Q", title=name),
            color=alt.Color(
                "series:N",
                title="Lines",
                scale=alt.Scale(domain=[p[0] for p in present], range=[p[2] for p in present]),
                legend=alt.Legend(orient="top", symbolType="stroke", symbolStrokeWidth=2.5, symbolSize=400),
            ),
            strokeDash=alt.StrokeDash(
                "series:N",
                title="Lines",
                scale=alt.Scale(domain=[p[0] for p in present], range=[p[3] for p in present]),
                legend=alt.Legend(orient="top", symbolType="stroke", symbolStrokeWidth=2.5, symbolSize=400),
            ),
        )
    )
    points = (
        alt.Chart(wide)
        .mark_point(filled=True, size=30, color=PALETTE["blue"], opacity=1, invalid="filter")
        .encode(x=x, y=alt.Y(f"{name}:Q"), tooltip=tooltip)
    )
    chart = alt.layer(lines, points)

    have = wide[wide[name].notna()]
    first, last = d["month"].iloc[0], d["month"].iloc[-1]
    sents = [f"{title}, {month_text(first)} to {month_text(last)}."]
    if len(have):
        latest = have.iloc[-1]
        peak = have.loc[have[name].astype(float).idxmax()]
        bits = f"Latest month ({latest['Month']}) {fmt(latest[name])}"
        if not _missing(latest[avg]):
            bits += f", 12-month average {fmt(latest[avg])}"
        bits += f"; highest {peak['Month']} ({fmt(peak[name])})"
        sents.append(bits + ".")
    gaps = list(d.loc[d["count"].isna(), "month"])
    if gaps:
        sents.append(f"No figures for {_plural(len(gaps), 'month')}: " + ", ".join(_month_runs(gaps)) + ".")
    alt_text = " ".join(sents)
    table = wide.drop(columns=["month"]).reset_index(drop=True)
    subtitle = "Solid line and dots: monthly figures; dashed: 12-month rolling average; breaks: months with no figure"
    return _finish(chart, _title(title, subtitle), alt_text, 360), alt_text, table


@memoize(maxsize=256, copy=False)
def interval_dots(
    df: pd.DataFrame,
    title: str,
    category_label: str,
    rate_label: str,
    count_label: str,
    overall_pct: float | None = None,
    overall_label: str = "All searches",
):
    """A rate per group as a dot with its confidence interval as a horizontal bar (ticks at the
    ends), in the order given, each labelled with the rate and n; an optional dashed reference
    rule for the overall rate.

    ``df`` columns: group, n (denominator), k (numerator), rate_pct, low_pct, high_pct (percent).
    """
    _require(df, INTERVAL_COLUMNS, "interval_dots")
    if df.empty:
        raise ValueError("interval_dots: no groups to plot (the frame is empty)")
    d = df.loc[:, list(INTERVAL_COLUMNS)].copy().reset_index(drop=True)
    d["group"] = d["group"].astype(str)
    if d["group"].duplicated().any():
        raise ValueError(
            f"interval_dots: group {d.loc[d['group'].duplicated(), 'group'].iloc[0]!r} appears more than once"
        )
    cat = _cap(category_label)
    rate = f"{_cap(rate_label)} (%)"
    plot = pd.DataFrame(
        {
            cat: d["group"],
            "Searches (n)": d["n"].map(lambda v: None if _missing(v) else int(v)),
            _cap(count_label): d["k"].map(lambda v: None if _missing(v) else int(v)),
            rate: d["rate_pct"].map(_round),
            "95% interval low (%)": d["low_pct"].map(_round),
            "95% interval high (%)": d["high_pct"].map(_round),
        }
    )
    plot["label"] = [
        ("no searches" if _missing(r) else f"{_pct(r)} (n = {fmt(n)})")
        for r, n in zip(plot[rate], plot["Searches (n)"])
    ]
    order = list(plot[cat])
    overall = _num(overall_pct)
    tops = [v for v in list(plot["95% interval high (%)"]) + [overall] if not _missing(v)]
    top = max(tops) if tops else 10.0
    x_scale = alt.Scale(domain=[0, max(5.0, min(100.0, top * 1.35))], nice=False)
    y = alt.Y(
        f"{cat}:N",
        sort=order,
        scale=alt.Scale(domain=order),
        title=cat,
        axis=alt.Axis(labelLimit=260, ticks=False),
    )
    x = alt.X(f"{rate}:Q", title=rate, scale=x_scale, axis=alt.Axis(tickCount=8))
    tooltip = [
        alt.Tooltip(f"{cat}:N"),
        alt.Tooltip("Searches (n):Q", format=",d"),
        alt.Tooltip(f"{_cap(count_label)}:Q", format=",d"),
        alt.Tooltip(f"{rate}:Q", format=".1f"),
        alt.Tooltip("95% interval low (%):Q", format=".1f"),
        alt.Tooltip("95% interval high (%):Q", format=".1f"),
    ]
    shown = plot[plot[rate].notna()]
    base = alt.Chart(shown)
    layers = [
        base.mark_rule(color=PALETTE["blue"], strokeWidth=2.5).encode(
            y=y,
            x=alt.X("95% interval low (%):Q", scale=x_scale, title=rate),
            x2="95% interval high (%):Q",
            tooltip=tooltip,
        ),
        base.mark_tick(color=PALETTE["blue"], thickness=2, size=14, orient="vertical").encode(
            y=y, x=alt.X("95% interval low (%):Q", scale=x_scale, title=rate)
        ),
        base.mark_tick(color=PALETTE["blue"], thickness=2, size=14, orient="vertical").encode(
            y=y, x=alt.X("95% interval high (%):Q", scale=x_scale, title=rate)
        ),
        alt.Chart(plot)
        .mark_point(filled=True, size=110, shape="circle", color=PALETTE["blue"], opacity=1, invalid="filter")
        .encode(x=x, y=y, tooltip=tooltip),
        base.mark_text(align="left", baseline="middle", dx=10, color=TEXT_COLOUR).encode(
            y=y, x=alt.X("95% interval high (%):Q", scale=x_scale, title=rate), text="label:N"
        ),
    ]
    if overall is not None:
        odf = pd.DataFrame({"overall": [overall], "Overall": [f"{overall_label}: {_pct(overall)}"]})
        layers.append(
            alt.Chart(odf)
            .mark_rule(color=PALETTE["orange"], strokeDash=[8, 4], strokeWidth=2.5)
            .encode(x=alt.X("overall:Q", scale=x_scale, title=rate), tooltip=["Overall:N"])
        )
    chart = alt.layer(*layers)

    items = [
        f"{r[cat]} {_pct(r[rate])} ({_pct(r['95% interval low (%)'])} to {_pct(r['95% interval high (%)'])}, "
        f"n = {fmt(r['Searches (n)'])})"
        for _, r in shown.iterrows()
    ]
    sents = [f"{title}: " + "; ".join(items) + "." if items else f"{title}: no group has any searches."]
    if overall is not None:
        sents.append(f"{overall_label}: {_pct(overall)}.")
    empty = [g for g in plot.loc[plot[rate].isna(), cat]]
    if empty:
        sents.append("No searches (no rate): " + ", ".join(empty) + ".")
    alt_text = " ".join(sents)
    subtitle = "Dots: rate; horizontal bars: 95% confidence interval (Wilson)"
    if overall is not None:
        subtitle += f"; dashed orange line: {overall_label.lower()} ({_pct(overall)})"
    table = plot.drop(columns=["label"]).reset_index(drop=True)
    height = 36 * len(order) + 120  # the whole chart: title, subtitle and axis take about 110 px
    return _finish(chart, _title(title, subtitle), alt_text, height), alt_text, table


@memoize(maxsize=256, copy=False)
def day_hour_heatmap(df: pd.DataFrame, title: str, measure_label: str):
    """A 7 x 24 grid (Monday first; hours 00 to 23) shaded by count, every cell labelled with its
    count so colour is not the only signal. ``df`` columns: weekday (1 = Monday ... 7 = Sunday),
    hour (0-23), count; missing cells count as 0. The table is the same grid turned round: a row per
    hour, a column per day, with totals."""
    _require(df, HEATMAP_COLUMNS, "day_hour_heatmap")
    d = df.loc[:, list(HEATMAP_COLUMNS)].copy()
    bad = d[~d["weekday"].isin(range(1, 8)) | ~d["hour"].isin(range(24))]
    if len(bad):
        raise ValueError(f"day_hour_heatmap: weekday must be 1-7 and hour 0-23; got {bad.iloc[0].to_dict()}")
    if d.duplicated(["weekday", "hour"]).any():
        raise ValueError("day_hour_heatmap: a weekday and hour appear more than once")
    grid = pd.MultiIndex.from_product([range(1, 8), range(24)], names=["weekday", "hour"])
    d = d.set_index(["weekday", "hour"]).reindex(grid).fillna({"count": 0}).reset_index()
    d["count"] = d["count"].astype(int)
    name = _cap(measure_label)
    plot = pd.DataFrame(
        {
            "Day": d["weekday"].map(lambda i: WEEKDAYS[int(i) - 1]),
            "Hour": d["hour"].map(lambda h: f"{int(h):02d}"),
            "Hours": d["hour"].map(lambda h: f"{int(h):02d}:00 to {int(h):02d}:59"),
            name: d["count"],
        }
    )
    top = int(plot[name].max())
    plot["ink"] = [_label_colour(v / top if top else 0.0) for v in plot[name]]
    x = alt.X(
        "Hour:O",
        title="Hour of the day (from 00:00 to 23:00)",
        sort=[f"{h:02d}" for h in range(24)],
        axis=alt.Axis(labelAngle=0),
    )
    y = alt.Y("Day:O", title="Day of the week", sort=list(WEEKDAYS))
    tooltip = [alt.Tooltip("Day:N"), alt.Tooltip("Hours:N"), alt.Tooltip(f"{name}:Q", format=",d")]
    base = alt.Chart(plot)
    rect = base.mark_rect(stroke="#ffffff", strokeWidth=1).encode(
        x=x,
        y=y,
        tooltip=tooltip,
        color=alt.Color(
            f"{name}:Q",
            title=name,
            scale=alt.Scale(domain=[0, max(top, 1)], range=[HEAT_LOW, HEAT_HIGH], interpolate="rgb"),
            legend=alt.Legend(orient="right", gradientLength=160),
        ),
    )
    text = base.mark_text(baseline="middle").encode(
        x=x, y=y, text=alt.Text(f"{name}:Q", format=",d"), color=alt.Color("ink:N", scale=None)
    )
    # the cells' colour scale (quantitative) and the labels' ink (literal colours) must not be merged:
    # a shared scale fails to render in the browser
    chart = alt.layer(rect, text).resolve_scale(color="independent")

    total = int(plot[name].sum())
    ranked = plot.sort_values([name, "Day"], ascending=[False, True], kind="mergesort")
    busiest = [f"{r.Day} {r.Hours} ({fmt(r[name])})" for _, r in ranked.head(3).iterrows()]
    by_day = plot.groupby("Day", sort=False)[name].sum()
    by_hour = plot.groupby("Hours", sort=False)[name].sum()
    quiet_hour = by_hour.idxmin()
    sents = [
        f"{title}: {fmt(total)} {_lower_first(measure_label)} in 168 day-and-hour cells.",
        f"Busiest cells: {', '.join(busiest)}.",
        f"Busiest day {by_day.idxmax()} ({fmt(by_day.max())}), quietest {by_day.idxmin()} ({fmt(by_day.min())}); "
        f"busiest hour {by_hour.idxmax()} ({fmt(by_hour.max())}), quietest {quiet_hour} ({fmt(by_hour.min())}).",
    ]
    alt_text = " ".join(sents)
    # A row per hour and a column per day (9 columns, not 26: the table fits the page without a
    # sideways-scrolling box), with each hour's total and, in the last row, each day's.
    grid = plot.pivot(index="Hour", columns="Day", values=name)[list(WEEKDAYS)]
    grid["All days"] = grid.sum(axis=1)
    grid.loc["All hours"] = grid.sum(axis=0)
    table = (
        grid.rename(index=lambda h: h if h == "All hours" else f"{h}:00").rename_axis("Hour").reset_index()
    )
    table.columns.name = None
    subtitle = "Darker cells: more; every cell is labelled with its count"
    return _finish(chart, _title(title, subtitle), alt_text, 320), alt_text, table


# ----------------------------------------------------------------------------- funnel plot

FUNNEL_AREA_COLUMNS = ("code", "name", "count", "population", "rate", "expected", "position")
FUNNEL_LIMIT_COLUMNS = ("population", "centre", "low_95", "high_95", "low_998", "high_998")
_FUNNEL_STYLE = {  # position -> (colour, shape): shape and words carry the meaning, colour repeats it
    "above 99.8% limit": (PALETTE["orange"], "triangle-up"),
    "above 95% limit": (PALETTE["orange"], "diamond"),
    "within the 95% limits": (PALETTE["grey"], "circle"),
    "below 95% limit": (PALETTE["blue"], "square"),
    "below 99.8% limit": (PALETTE["blue"], "triangle-down"),
}


@memoize(maxsize=256, copy=False)
def funnel_chart(
    areas: pd.DataFrame,
    limits: pd.DataFrame,
    title: str,
    area_word: str = "area",
    rate_label: str = "Offences per 1,000 residents",
    highlight: str | None = None,
    compact: bool = False,
):
    """A funnel plot: each area's rate against its residents, with the centre line (borough rate)
    and the 95% (dashed) and 99.8% (dotted) limits from :func:`csp_data.analysis.funnel.funnel`. Areas
    outside a limit are drawn as triangles or diamonds (not only in another colour) and named.

    ``areas`` columns: code, name, count, population, rate, expected, position; ``limits`` columns:
    population, centre, low_95, high_95, low_998, high_998. The table has one row per area with the
    limits at its own population. ``highlight`` (an area code) is always named and ringed in black.
    ``compact`` returns the table in two columns (area; rate, counts, position and limits in words)
    so it fits a 320 px phone screen without scrolling sideways."""
    import numpy as np

    _require(areas, FUNNEL_AREA_COLUMNS, "funnel_chart")
    _require(limits, FUNNEL_LIMIT_COLUMNS, "funnel_chart")
    if areas.empty or limits.empty:
        raise ValueError("funnel_chart: no areas to plot")
    rate = _cap(rate_label)
    pts = areas.loc[:, list(FUNNEL_AREA_COLUMNS)].copy().reset_index(drop=True)
    lim = limits.sort_values("population").reset_index(drop=True)

    def at(col: str) -> list[float]:
        return list(np.interp(pts["population"], lim["population"], lim[col]))

    word = _cap(area_word)
    table = pd.DataFrame(
        {
            word: pts["name"].astype(str),
            "Residents": pts["population"].astype(int),
            "Offences": pts["count"].astype(int),
            rate: pts["rate"].map(lambda v: _round(v, 2)),
            "Expected at the borough rate": pts["expected"].map(lambda v: _round(v, 1)),
            "95% limits": [f"{fmt(lo, 2)} to {fmt(hi, 2)}" for lo, hi in zip(at("low_95"), at("high_95"))],
            "99.8% limits": [
                f"{fmt(lo, 2)} to {fmt(hi, 2)}" for lo, hi in zip(at("low_998"), at("high_998"))
            ],
            "Position": pts["position"].astype(str),
        }
    )
    plot = table.copy()
    plot["Rate"] = pts["rate"]
    outside = plot["Position"] != "within the 95% limits"
    named = (
        outside if outside.sum() <= 8 else plot["Position"].str.contains("99.8%")
    )  # a readable number of names
    if highlight is not None:
        named = named | (pts["code"] == highlight)
    plot["Label"] = [n if k else "" for n, k in zip(plot[word], named)]
    order = [p for p in _FUNNEL_STYLE if p in set(plot["Position"])]
    x = alt.X(
        "Residents:Q",
        title="Residents (Census 2021)",
        scale=alt.Scale(zero=False, nice=True),
        axis=alt.Axis(format=",d", tickCount=6),
    )
    y_top = max(float(plot["Rate"].max()), float(lim["high_998"].max())) * 1.08
    y_scale = alt.Scale(domain=[0, y_top], nice=False)
    y = alt.Y("Rate:Q", title=rate, scale=y_scale)
    long = lim.melt(
        id_vars="population",
        value_vars=["centre", "low_95", "high_95", "low_998", "high_998"],
        var_name="line",
        value_name="value",
    )
    names = {
        "centre": "Borough rate",
        "low_95": "95% limits",
        "high_95": "95% limits",
        "low_998": "99.8% limits",
        "high_998": "99.8% limits",
    }
    long["Limit"] = long["line"].map(names)
    long["side"] = long["line"]
    dash = alt.Scale(domain=["Borough rate", "95% limits", "99.8% limits"], range=[[1, 0], [8, 4], [2, 3]])
    lines = (
        alt.Chart(long.rename(columns={"population": "Residents", "value": "Rate"}))
        .mark_line(color=AXIS_COLOUR, strokeWidth=1.8, clip=True)
        .encode(
            x=x,
            y=alt.Y("Rate:Q", title=rate, scale=y_scale),
            detail="side:N",
            strokeDash=alt.StrokeDash("Limit:N", scale=dash, legend=alt.Legend(title=None)),
        )
    )
    tooltip = [
        alt.Tooltip(f"{word}:N"),
        alt.Tooltip("Residents:Q", format=",d"),
        alt.Tooltip("Offences:Q", format=",d"),
        alt.Tooltip(f"{rate}:Q", format=".2f"),
        alt.Tooltip("95% limits:N"),
        alt.Tooltip("99.8% limits:N"),
        alt.Tooltip("Position:N"),
    ]
    points = (
        alt.Chart(plot)
        .mark_point(filled=True, size=90, opacity=0.9)
        .encode(
            x=x,
            y=y,
            tooltip=tooltip,
            color=alt.Color(
                "Position:N",
                scale=alt.Scale(domain=order, range=[_FUNNEL_STYLE[p][0] for p in order]),
                legend=alt.Legend(title=None),
            ),
            shape=alt.Shape(
                "Position:N",
                scale=alt.Scale(domain=order, range=[_FUNNEL_STYLE[p][1] for p in order]),
                legend=alt.Legend(title=None),
            ),
        )
    )
    labels = (
        alt.Chart(plot[plot["Label"] != ""])
        .mark_text(align="left", dx=8, dy=-6, color=TEXT_COLOUR)
        .encode(x=x, y=y, text="Label:N")
    )
    layers = [lines, points, labels]
    if highlight is not None and (pts["code"] == highlight).any():
        layers.append(
            alt.Chart(plot[(pts["code"] == highlight).to_numpy()])
            .mark_point(filled=False, size=420, strokeWidth=2.5, color=TEXT_COLOUR)
            .encode(x=x, y=y, tooltip=tooltip)
        )
    chart = alt.layer(*layers)
    centre = float(lim["centre"].iloc[0])
    out = plot[plot["Position"] != "within the 95% limits"]
    counts = plot["Position"].value_counts()
    sents = [f"{title}: {len(plot)} {area_word}s, borough rate {fmt(centre, 2)} per 1,000 residents."]
    sents.append(
        ", ".join(f"{_plural(int(counts[p]), area_word)} {p}" for p in _FUNNEL_STYLE if p in counts) + "."
    )
    if len(out):
        sents.append(
            "Outside the 95% limits: "
            + _listing([f"{r[word]} {fmt(r['Rate'], 2)} ({r['Position']})" for _, r in out.iterrows()], 6)
            + "."
        )
    if highlight is not None and (pts["code"] == highlight).any():
        h = plot[(pts["code"] == highlight).to_numpy()].iloc[0]
        sents.append(f"{h[word]} (ringed): {fmt(h['Rate'], 2)} per 1,000 residents, {h['Position']}.")
    alt_text = " ".join(sents)
    subtitle = [
        f"Each point is one {area_word}; solid line: borough rate; dashed: 95% limits; dotted: 99.8% limits",
        "(allowing for over-dispersion). Triangles and diamonds mark areas outside a limit.",
    ]
    if compact:
        table = pd.DataFrame(
            {
                word: table[word],
                "Rate and position": [
                    f"{r[rate]} per 1,000 ({r['Offences']:,d} offences, {r['Residents']:,d} residents): {r['Position']}; "
                    f"95% limits {r['95% limits']}, 99.8% limits {r['99.8% limits']}"
                    for _, r in table.iterrows()
                ],
            }
        )
    return _finish(chart, _title(title, subtitle), alt_text, 380), alt_text, table


@memoize(maxsize=64, copy=False)
def ratio_dots(df: pd.DataFrame, title: str, subtitle: str, value_label: str):
    """Ratios with 95% intervals on a log scale, one row per category and one colour and shape per
    series (e.g. a borough and London), with a reference rule at 1 and each value labelled.

    ``df`` columns: category, series, ratio, low, high (ratios; NaN: not drawn, named in the text)."""
    _require(df, ("category", "series", "ratio", "low", "high"), "ratio_dots")
    d = df.copy().reset_index(drop=True)
    d["label"] = d["ratio"].map(lambda v: "" if _missing(v) else f"{v:.2f}")
    shown = d[d["ratio"].notna() & d["low"].notna() & d["high"].notna() & ~d["high"].isin([float("inf")])]
    if shown.empty:
        raise ValueError("ratio_dots: no ratio to plot")
    lo = float(min(shown["low"].min(), 1.0))
    hi = float(max(shown["high"].max(), 1.0))
    x_scale = alt.Scale(type="log", domain=[lo / 1.25, hi * 1.6], nice=False)
    order = list(dict.fromkeys(d["category"]))
    series = list(dict.fromkeys(d["series"]))
    colours = [PALETTE["blue"], PALETTE["orange"], PALETTE["purple"]][: len(series)]
    shapes = ["circle", "diamond", "square"][: len(series)]
    # the ratio keeps its plain field name: a label such as "group's rate" is not a valid Vega field
    # path (the apostrophe reads as a quote), so it is only ever a title
    plot = shown.rename(columns={"category": "Group", "series": "Area"})
    y = alt.Y("Group:N", sort=order, scale=alt.Scale(domain=order), title=None, axis=alt.Axis(ticks=False))
    y_off = alt.YOffset("Area:N", sort=series, scale=alt.Scale(domain=series))
    colour = alt.Color("Area:N", scale=alt.Scale(domain=series, range=colours), title=None)
    shape = alt.Shape("Area:N", scale=alt.Scale(domain=series, range=shapes), title=None)
    tooltip = [
        alt.Tooltip("Group:N"),
        alt.Tooltip("Area:N"),
        alt.Tooltip("ratio:Q", title=value_label, format=".2f"),
        alt.Tooltip("low:Q", title="95% low", format=".2f"),
        alt.Tooltip("high:Q", title="95% high", format=".2f"),
    ]
    base = alt.Chart(plot)
    x = alt.X("ratio:Q", scale=x_scale, title=f"{value_label} (log scale)")
    layers = [
        alt.Chart(pd.DataFrame({"one": [1.0]}))
        .mark_rule(color=AXIS_COLOUR, strokeDash=[6, 4], strokeWidth=1.5)
        .encode(x=alt.X("one:Q", scale=x_scale)),
        base.mark_rule(strokeWidth=2.5).encode(
            y=y, yOffset=y_off, x=alt.X("low:Q", scale=x_scale), x2="high:Q", color=colour, tooltip=tooltip
        ),
        base.mark_point(filled=True, size=110, opacity=1).encode(
            y=y, yOffset=y_off, x=x, color=colour, shape=shape, tooltip=tooltip
        ),
        base.mark_text(align="left", baseline="middle", dx=8, color=TEXT_COLOUR).encode(
            y=y, yOffset=y_off, x=alt.X("high:Q", scale=x_scale), text="label:N"
        ),
    ]
    chart = alt.layer(*layers)
    items = [
        f"{r['Group']}, {r['Area']}: {fmt(r['ratio'], 2)} ({fmt(r['low'], 2)} to {fmt(r['high'], 2)})"
        for _, r in plot.iterrows()
    ]
    missing = [f"{r['category']} ({r['series']})" for i, r in d.iterrows() if i not in shown.index]
    sents = [f"{title}: " + "; ".join(items) + "."]
    if missing:
        sents.append("Not drawn (no ratio): " + ", ".join(missing) + ".")
    alt_text = " ".join(sents)
    table = d.drop(columns=["label"]).rename(
        columns={
            "category": "Group",
            "series": "Area",
            "ratio": value_label,
            "low": "95% low",
            "high": "95% high",
        }
    )
    table[[value_label, "95% low", "95% high"]] = table[[value_label, "95% low", "95% high"]].round(2)
    height = 56 * len(order) + 130
    return _finish(chart, _title(title, subtitle), alt_text, height), alt_text, table
