"""Building blocks of the priority and targets pages: measure tiles, charts with alt text and a
table view, ward breakdowns and target gauges. Pages choose which blocks to show and write the words."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from streamlit import dataframe_util

from csp_data.analysis import stats
from csp_data.analysis.stats import STATUS_SYMBOLS as SYMBOL  # noqa: F401  (SYMBOL: pages use ui.SYMBOL)
from csp_data.analysis.targets import TargetResult
from csp_data.plan import breaks as series_breaks
from csp_data.plan.measures import Measure, get
from csp_data.plan.measures import priority_measures as priority_measures  # pages: ui.priority_measures
from csp_data.plan.periods import Period
from csp_data.plan.periods import trailing as trailing  # pages: ui.trailing
from csp_data.present import charts, memo, site
from csp_data.present.exports import csv_bytes
from csp_data.present.memo import vega_spec
from csp_data.ui import cache
from csp_data.ui.components import about_figure, caption_text, plain, plain_table, score_tile
from csp_data.ui.downloads import chart_downloads


def _with_arrow_datasets(chart) -> dict:
    spec = dict(vega_spec(chart))
    if isinstance(spec.get("datasets"), dict):
        spec["datasets"] = {
            name: (
                dataframe_util.convert_anything_to_arrow_bytes(rows)
                if isinstance(rows, list) and rows and all(isinstance(r, dict) for r in rows)
                else rows
            )
            for name, rows in spec["datasets"].items()
        }
    return spec


def drawable_spec(chart) -> dict:
    """The chart's Vega-Lite spec with its tables already in Arrow, as ``st.vega_lite_chart`` sends
    them, made once per chart object (charts come from memoised builders, so a warm page run
    only sends it). Streamlit copies the spec before changing it, so the cached one stays whole."""
    return memo.derived(chart, "streamlit-vega-lite", _with_arrow_datasets)


def chart_block(built: tuple, key: str, table_caption: str = "", name: str | None = None) -> None:
    """A chart, its text description (alt text, visible to everyone), PNG/SVG/CSV downloads (files
    named after ``name``, default ``key``) and the same figures as a table."""
    chart, alt, table = built
    st.vega_lite_chart(drawable_spec(chart), width="stretch")
    st.caption(f"Chart description: {plain(alt)}")  # names categories from the data: plain text
    with st.expander("Table view of this chart"):
        plain_table(table, caption=table_caption or None, download=None)
    chart_downloads(chart, name or key, table)  # PNG, SVG and the figures as CSV


def tiles(measure_ids: list[str]) -> None:
    """Scorecard tiles (12 months and financial year to date, with verdicts) for the given measures."""
    rows = {r.measure.id: r for r in cache.borough_scorecard()}
    chosen = [rows[i] for i in measure_ids if i in rows]
    for first in range(0, len(chosen), 3):
        cols = st.columns(3)
        for col, row in zip(cols, chosen[first : first + 3]):
            with col:
                score_tile(row)
                if row.l12 is not None:
                    st.caption(f"In plain words: {stats.plain_words(row.l12, row.measure.lower_is_better)}.")


def measure_picker(measure_ids: list[str], key: str) -> Measure:
    labels = {i: get(i).label for i in measure_ids}
    chosen = st.selectbox("Measure", measure_ids, format_func=lambda i: labels[i], key=key)
    return get(chosen if chosen is not None else measure_ids[0])


@st.fragment
def trends_section(
    measure_ids: list[str],
    targets_by_measure: dict[str, TargetResult],
    key: str,
    breakdown_labels: dict[str, str] | None = None,
    default_breakdown_label: str | None = None,
) -> None:
    """The measure picker and what it drives: the chosen measure's monthly trend and financial
    years, then (with a breakdown label) what makes it up, and its wards, over the latest 12 months.
    A fragment: choosing another measure reruns this section only, not the page around it.
    ``breakdown_labels`` names the breakdown's category per measure id (else
    ``default_breakdown_label``); with neither, no breakdown is drawn."""
    m = measure_picker(measure_ids, key=key)
    trend_and_years(m, targets_by_measure.get(m.id))
    view = cache.measure_view(m.id)
    if view.latest is None:
        return
    last12 = trailing(view.latest)
    label = (breakdown_labels or {}).get(m.id, default_breakdown_label)
    if label is not None:
        st.subheader(f"What makes up {m.label.lower()}, {last12.label}")
        breakdown_block(m, last12, f"{m.label} by type, {last12.label}", label)
    ward_block(m, last12)


def trend_and_years(m: Measure, target: TargetResult | None = None) -> None:
    """Monthly trend with rolling average, control limits and series breaks; then financial-year bars."""
    v = cache.measure_view(m.id)
    if v.latest is None:
        st.info(f"{m.label}: awaiting data.")
        return
    shown = cache.recent_control(m.id, shown_months=36, baseline_months=24)
    breaks = series_breaks.chart_marks(m.id, since=shown.month.min())
    st.subheader(f"{m.label}: monthly trend")
    chart_block(
        charts.trend_chart(shown, f"{m.label} per month", m.label, breaks),
        key=f"trend-{m.id}",
        table_caption=f"Source: {m.source_name}; {v.snapshot}.",
    )
    with about_figure():
        st.caption(
            "The shaded band is the range months would fall in by chance if nothing had changed since the 24 months "
            "before the latest year (a c-chart, widened for the extra month-to-month variation recorded crime shows). "
            "▲ / ▼ mark months outside it; a run of 8 months on one side of the centre is also marked."
        )
    fy = cache.fy_totals(m.id)
    fy = fy[fy.fy >= "FY2019-20"].reset_index(drop=True)
    target_value = target.target_value if target is not None and target.target_value is not None else None
    st.subheader(f"{m.label}: financial years")
    chart_block(
        charts.fy_bars(
            fy,
            f"{m.label} by financial year (April to March)",
            m.label,
            target=target_value,
            target_label=(
                f"{target.target.deadline} target" if target is not None and target_value is not None else ""
            ),
            breaks=series_breaks.chart_marks(m.id, kind="level"),
        ),
        key=f"fy-{m.id}",
        table_caption=f"Source: {m.source_name}; {v.snapshot}.",
    )
    notes = ([f"Note: {m.caveat}"] if m.caveat else []) + list(series_breaks.notes(m.id))
    if notes:
        with about_figure():
            for note in notes:
                st.caption(note)


def breakdown_block(m: Measure, period: Period, title: str, category_label: str = "Category") -> None:
    df = cache.breakdown(m.id, period.start, period.end)
    if df.empty:
        st.info(f"No breakdown of {m.label.lower()} is held for {period.label}.")
        return
    partial = df[df.months < period.n_months]
    chart_block(
        charts.breakdown_bars(
            df.rename(columns={"category": category_label}), title, category_label, "count", "Offences"
        ),
        key=f"bd-{m.id}",
        table_caption=f"{period.label}. Source: {m.source_name}.",
    )
    if len(partial):
        st.caption(
            "Categories with months missing in the period (none recorded in those months): "
            + ", ".join(
                f"{plain(r.category)} ({r.months} of {period.n_months} months)" for r in partial.itertuples()
            )
        )


def ward_block(m: Measure, period: Period) -> None:
    """Ward counts and rates per 1,000 residents with change against the equal period before."""
    wt = cache.ward_table(m.id, period.start, period.end)
    if wt is None:
        st.info(f"{m.label} is published for the borough only, so there is no ward breakdown.")
        return
    borough_rate = wt.attrs.get("borough_rate_per_1000")
    st.subheader(f"{m.label} by ward, {period.label}")
    chart_block(
        charts.ward_bars(
            wt.rename(columns={"ward_name": "Ward"}),
            f"{m.label} per 1,000 residents by ward, {period.label}",
            "rate_per_1000",
            "Rate per 1,000 residents",
            average=borough_rate,
        ),
        key=f"ward-{m.id}",
    )
    table = wt.rename(
        columns={
            "ward_name": "Ward",
            "count": f"Offences {period.label}",
            "previous": f"Offences {period.previous().label}",
            "change": "Change",
            "pct_change": "% change",
            "verdict": "Verdict",
            "q_value": "q (after allowing for all wards)",
            "rate_per_1000": "Rate per 1,000",
            "population": "Residents (Census 2021)",
        }
    )
    table = table.drop(columns=["ward_code"])
    plain_table(
        table,
        download=None,
        caption=(
            f"All {len(table)} wards, most offences first. Borough rate {borough_rate:.2f} per 1,000 residents. Ward figures "
            "are offences the police could place in a ward, so they sum to slightly less than the borough total. "
            + wt.attrs.get("method", "")
        ),
    )
    st.download_button(
        "Download the ward table (CSV)",
        csv_bytes(wt),
        file_name=f"{m.id}-wards-{period.label}.csv",
        mime="text/csv",
        key=f"dl-ward-{m.id}",
    )


def outcome_block(m: Measure, target_pct: float | None = None, target_label: str = "") -> None:
    df = cache.outcome_rates(m.id)
    if df.empty:
        st.info(f"Positive outcomes for {m.label.lower()} are not published in the data held.")
        return
    chart_block(
        charts.outcome_rate_chart(
            df, f"{m.label}: positive outcome rate by financial year", target_pct, target_label
        ),
        key=f"out-{m.id}",
        table_caption=f"Source: {m.source_name}. Rate = positive outcomes ÷ offences recorded in the same months.",
    )
    with about_figure():
        st.caption(
            "A positive outcome is a charge, caution, community resolution or similar. Outcomes are counted in "
            "the month they are recorded, which can be months after the offence, so a year's rate is an "
            "approximation. No rate is shown on fewer than 10 offences."
        )


def gauges(results: list[TargetResult]) -> None:
    """One bullet gauge per target with its status in words and symbol, and the reasoning."""
    for r in results:
        t = r.target
        with st.container(border=True):
            st.markdown(f"**{r.symbol} {r.status.capitalize()}** — {t.wording}")
            if r.baseline_value is not None and r.target_value is not None:
                latest = r.last12_value if r.last12_value is not None else r.observed
                chart_block(
                    charts.gauge(
                        r.baseline_value,
                        latest,
                        r.target_value,
                        t.direction,
                        t.label,
                        f"{r.symbol} {r.status}",
                        r.path_last12,
                    ),
                    key=f"gauge-{t.id}",
                )
            if r.trajectory is not None and len(r.trajectory):
                chart_block(
                    charts.trajectory_chart(
                        r.trajectory, f"{t.label}: recorded against the path, year by year", t.label
                    ),
                    key=f"path-{t.id}",
                )
            caption_text(r.reason)  # quotes a partnership figure's value and note: plain text
            bits = [f"Target: {r.target_text}"]
            if r.baseline_period is not None:
                bits.append(
                    f"baseline {r.baseline_period.label}"
                    + (f" = {r.baseline_value:,.0f}" if r.baseline_value is not None else "")
                )
            if r.definition:
                bits.append(f"definition: {r.definition}")
            with about_figure("About this target"):  # definition, caveats and source, one click away
                st.caption("; ".join(bits))
                for c in r.caveats:
                    st.caption(f"Caveat: {c}")
                caption_text(
                    f"Source: {r.source}" + (f"; {r.snapshot}" if r.snapshot else "")
                )  # who entered it, their source


def no_plan_notice() -> bool:
    """True, after an info box saying no plan is loaded and how to add one, when the configured
    borough has no plan file; False (nothing shown) when it has one."""
    from csp_data.plan.document import no_plan_message

    if cache.plan().loaded:
        return False
    st.info(no_plan_message())
    return True


def priority_intro(number: int):
    """Title, the opening strip (:func:`opening_strip`: the answer first), then the plan's summary
    and areas of focus for a priority; returns (plan, priority, that priority's target results,
    results by measure id)."""
    plan = cache.plan()
    prio = plan.priority(number)
    results = [r for r in cache.targets() if r.target.priority == number]
    st.title(f"Priority {number}: {prio.title}")
    opening_strip(priority_measures(number), results)
    if plan.loaded:
        st.markdown(prio.summary)
    else:
        no_plan_notice()
    if prio.focus:
        st.caption("Areas of focus: " + ", ".join(prio.focus))
    return plan, prio, results, {r.target.measure: r for r in results}


def opening_strip(measure_ids: list[str], results: list[TargetResult]) -> None:
    """One strip that answers "are we on course?" before anything else: each target's status
    (symbol and words) beside each headline measure's latest 12 months, change and verdict, with
    the periods, sources and snapshots under it. The detail (tiles, gauges, reasoning) follows."""
    rows = {r.measure.id: r for r in cache.borough_scorecard()}
    chosen = [rows[i] for i in measure_ids if i in rows]
    with st.container(border=True):
        left, right = st.columns([5, 6])
        with left:
            if results:
                plain_table(site.targets_strip(results), download=None)
            else:
                st.caption("No plan is loaded for this partnership, so there are no targets to show here.")
        with right:
            plain_table(site.headline_strip(chosen), download=None)
        caption_text(
            site.periods_and_sources(chosen)
            + " Each measure's tile and each target's reasoning are further down."
        )


def headline_and_targets(measure_ids: list[str], results: list[TargetResult]) -> None:
    st.header("Headline measures", divider="gray")
    tiles(measure_ids)
    st.header("Targets for 2028", divider="gray")
    if not no_plan_notice():
        gauges(results)


def serious_violence_block(period: Period) -> None:
    """The serious violence sum part by part for a period, with the measures shown beside it
    (labelled, not added), so a reader can see exactly what is counted."""
    from csp_data.analysis.trends import period_sum

    sv = get("serious_violence")
    parts = cache.composite_breakdown(sv.id, period.start, period.end)
    if parts.empty or (parts["months"] < period.n_months).any():
        st.info(f"Serious violence for {period.label}: awaiting data (a part of the sum lacks months).")
        return
    rows = [
        {"Part": r.category, "Offences": int(r.count), "In the total?": "added"} for r in parts.itertuples()
    ]
    rows.append(
        {
            "Part": "Serious violence (the total)",
            "Offences": int(parts["count"].sum()),
            "In the total?": "total",
        }
    )
    for mid in sv.beside:
        b = get(mid)
        v = cache.measure_view(mid)
        value = period_sum(v.series, period)
        why = (
            "already inside the total (violence with injury, homicide or knife robbery)"
            if mid == "knife_injury"
            else "not added: the data do not say which are already in violence with injury"
        )
        rows.append(
            {
                "Part": f"{b.label} (shown beside)",
                "Offences": value if value is not None else "awaiting data",
                "In the total?": why,
            }
        )
    plain_table(
        pd.DataFrame(rows),
        download=f"serious-violence-parts-{period.label}",
        caption=(
            f"Serious violence, {period.label}, part by part. Source: {sv.source_name}. Nothing is counted twice: the "
            "knife crime added is the part not already in homicide or violence with injury."
        ),
    )


def hate_crime_strands(period: Period) -> pd.DataFrame:
    """Hate crime offences by strand over ``period``, without the all-strands total row."""
    strands = cache.dashboard_subtypes("Hate crime", period.start, period.end)
    return strands[strands.subtype != "Hate crime"].rename(columns={"subtype": "Strand"})


def bars_block(
    frame: pd.DataFrame,
    title: str,
    category: str,
    value: str,
    value_title: str,
    *,
    key: str,
    table_caption: str,
    additive: bool = True,
) -> None:
    """A bar chart of ``frame[value]`` by ``category``, with its table and downloads."""
    chart_block(
        charts.breakdown_bars(frame, title, category, value, value_title, additive=additive),
        key=key,
        table_caption=table_caption,
    )
