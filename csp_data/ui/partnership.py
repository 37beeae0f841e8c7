"""Widgets for the *Partnership figures* page: the one-figure form, the bulk upload with its
preview, and the tables. The rules, the file and its lock are in :mod:`csp_data.plan.partnership`.

Optimistic concurrency across reruns: a Streamlit button press reruns the script, which reads the
file again. So each widget remembers, in ``st.session_state``, the figure it *showed* in the
previous run (:func:`csp_data.plan.partnership.entry_token`), and a save sends that, not what the file
holds now. If a colleague saved in between, the save is refused and names them.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from csp_data.config.access import Viewer
from csp_data.plan import partnership as pf
from csp_data.plan.document import PartnershipMeasure, Plan
from csp_data.present.exports import csv_bytes
from csp_data.present.formatting import md_plain as esc  # user text: literal, never a link
from csp_data.ui.components import plain_table

FLASH = "pf_flash"
FREQUENCY_WORDS = {
    "annual": "once a year",
    "quarterly": "every quarter",
    "monthly": "every month",
    "once": "once (a milestone)",
}


def load(plan: Plan) -> pd.DataFrame | None:
    """Every row entered so far, or None (with the problems shown) when the file has mistakes."""
    try:
        figures = pf.load_figures(pf.default_path(), plan=plan)
    except pf.PartnershipError as e:
        st.error(
            "The partnership figures file has mistakes, so figures cannot be saved until the dashboard "
            "administrator fixes it:\n\n" + "\n".join(f"- {esc(p)}" for p in e.problems)
        )
        return None
    flagged = pf.formula_warnings(figures, pf.default_path().name)
    if flagged:
        st.warning(
            "Some text in the figures file looks like a spreadsheet formula (the loader's report):\n\n"
            + "\n".join(f"- {esc(w)}" for w in flagged)
        )
    return figures


def flash() -> None:
    """The message a save left before the page reloaded (shown once)."""
    lines = st.session_state.pop(FLASH, None)
    if lines:
        st.success("\n\n".join(lines))


def _problems(intro: str, e: pf.PartnershipError) -> None:
    """``intro`` (trusted words) and each problem, escaped: problems quote what was typed."""
    st.error(intro + "\n\n" + "\n".join(f"- {esc(p)}" for p in e.problems))


def _saved_words(r: pf.Recorded, m: PartnershipMeasure) -> str:
    before = (
        f"It replaces the previous figure, {esc(r.previous_value)}."
        if r.previous_value
        else "It is the first figure for this period."
    )
    return (
        f"**Saved:** {m.label}, {esc(r.period)}: **{esc(r.value)}** ({pf.UNIT_WORDS[m.unit]}). "
        f"Source: {esc(r.source)}. Recorded as entered by {esc(r.entered_by)} at "
        f"{pf.entered_time(r.entered_at):%Y-%m-%d %H:%M:%S} UTC (line {r.line} of the figures file). {before}"
    )


def who_line(viewer: Viewer) -> str:
    """Whom saved figures are attributed to, as Markdown."""
    return f"**{esc(viewer.who)}**"


def measure_details(m: PartnershipMeasure) -> None:
    st.markdown(f"**{m.label}**  \n{m.description}")
    st.markdown(
        f"- Unit: {pf.UNIT_WORDS[m.unit]}\n- Recorded: {FREQUENCY_WORDS.get(m.frequency, m.frequency)}\n"
        f"- Owner: {m.owner}"
    )


def value_input(m: PartnershipMeasure, key: str, today: date):
    """An input that fits the measure's unit; returns the value (None when nothing is entered)."""
    if m.unit == "count":
        return st.number_input(
            "Value (a whole number)",
            min_value=int(m.min) if m.min is not None else None,
            max_value=int(m.max) if m.max is not None else None,
            value=None,
            step=1,
            format="%d",
            key=key,
            placeholder="e.g. 735",
        )
    if m.unit == "percent":
        lo = float(m.min) if m.min is not None else 0.0
        hi = float(m.max) if m.max is not None else 100.0
        return st.number_input(
            f"Value (a percentage from {lo:g} to {hi:g}, without the % sign)",
            min_value=lo,
            max_value=hi,
            value=None,
            step=0.1,
            format="%.1f",
            key=key,
            placeholder="e.g. 61.5",
        )
    if m.unit == "date":
        return st.date_input("Value (the date)", value=None, max_value=today, format="DD/MM/YYYY", key=key)
    return st.selectbox(
        "Value (the status)", pf.STATUS_VALUES, index=None, placeholder="Choose a status", key=key
    )


def entry_form(viewer: Viewer, plan: Plan, figures: pd.DataFrame, today: date) -> None:
    """Pick a measure and period, see what is recorded, enter one figure and save it."""
    measures = {m.id: m for m in plan.partnership_measures}
    mid = st.selectbox("Measure", list(measures), format_func=lambda i: measures[i].label, key="pf_measure")
    m = measures[mid]
    measure_details(m)
    choices = pf.period_choices(m.frequency, today)
    words = {pf.period_text(p): pf.period_words(p) for p in choices}
    period = st.selectbox(
        "Period the figure covers",
        list(words),
        format_func=lambda p: words[p],
        key=f"pf_period_{m.frequency}",
        help="Only periods that have ended (or end this month) can be chosen. For an older "
        "period, use the bulk upload below.",
    )

    held = pf.current_entry(figures, mid, period)
    if held is None:
        st.markdown(f"Nothing is recorded for {words[period]} yet.")
    else:
        note = f" Note: {esc(held['note'])}" if held["note"] else ""
        st.markdown(
            f"Currently recorded for {words[period]}: **{esc(held['value'])}**, entered by "
            f"{esc(held['entered_by'])} at {pf.entered_time(held['entered_at']):%Y-%m-%d %H:%M} UTC. "
            f"Source: {esc(held['source'])}.{note}  \n"
            "Saving a new figure adds a correction; the earlier one stays in the audit trail."
        )
    shown_key = f"pf_shown::{pf.figure_key(mid, period)}"
    now_token = None if held is None else held["token"]
    shown = st.session_state.get(shown_key, now_token)  # what the page showed before this rerun

    n = st.session_state.get("pf_form_n", 0)  # bumped after a save: empties the form
    with st.form("pf_entry"):
        value = value_input(m, f"pf_value_{mid}_{n}", today)
        source = st.text_input(
            "Source (required): the document, report or system, and section",
            key=f"pf_source_{n}",
            max_chars=pf.MAX_TEXT,
        )
        note = st.text_area(
            "Note (optional): counting rule, caveat, or why you are correcting a figure",
            key=f"pf_note_{n}",
            max_chars=pf.MAX_TEXT,
        )
        submitted = st.form_submit_button("Save this figure", type="primary", key="pf_save")
    if submitted:
        entry = pf.Entry(mid, period, pf.value_text(value, m.unit), source or "", note or "")
        try:
            saved = pf.append_entries(
                [entry], viewer_who=viewer.who, plan=plan, expected_latest={pf.figure_key(mid, period): shown}
            )
        except pf.SaveConflict as e:
            _problems("**Not saved: a colleague saved a figure for this measure and period first.**", e)
        except pf.PartnershipError as e:
            _problems("**Not saved.** Please correct:", e)
        else:
            st.session_state[FLASH] = [_saved_words(r, m) for r in saved]
            st.session_state["pf_form_n"] = n + 1
            st.session_state.pop(shown_key, None)
            st.rerun()
    st.session_state[shown_key] = now_token


def upload_section(viewer: Viewer, plan: Plan, figures: pd.DataFrame, today: date) -> None:
    """Template download, file upload, preview and the explicit save button."""
    st.download_button(
        "Download the template (CSV)",
        csv_bytes(pf.upload_template(plan, today)),
        file_name="partnership-figures-template.csv",
        mime="text/csv",
        key="pf_template",
    )
    n = st.session_state.get("pf_upload_n", 0)  # bumped after a save: empties the uploader
    up = st.file_uploader(
        "Upload a CSV file of figures",
        type="csv",
        key=f"pf_upload_{n}",
        max_upload_size=max(1, pf.MAX_UPLOAD_BYTES // 1_000_000),
    )
    if up is None:
        return
    data = up.getvalue()
    try:
        entries = pf.parse_upload(data, plan=plan, today=today)
    except pf.PartnershipError as e:
        _problems("**This file cannot be saved.** Nothing from it has been saved. Please correct:", e)
        return
    measures = {m.id: m for m in plan.partnership_measures}
    rows = []
    for entry in entries:
        held = pf.current_entry(figures, entry.measure_id, entry.period)
        rows.append(
            {
                "Line": entry.line,
                "Measure": measures[entry.measure_id].label,
                "Period": entry.period,
                "Value": entry.value,
                "Unit": entry.unit,
                "Source": entry.source,
                "Note": entry.note,
                "Currently recorded": "nothing yet"
                if held is None
                else f"{held['value']} (by {held['entered_by']})",
            }
        )
    plain_table(
        pd.DataFrame(rows),
        caption=f"Preview: {len(entries)} row{'s' if len(entries) != 1 else ''} "
        "checked and ready. Nothing is saved until you press the button.",
    )
    shown_key = f"pf_upload_shown::{pf.upload_digest(data)}"
    now_expected = pf.expectations(figures, entries)
    shown = st.session_state.get(shown_key, now_expected)
    label = f"Save all {len(entries)} row{'s' if len(entries) != 1 else ''}"
    if st.button(label, type="primary", key="pf_upload_save"):
        try:
            saved = pf.append_entries(entries, viewer_who=viewer.who, plan=plan, expected_latest=shown)
        except pf.SaveConflict as e:
            _problems(
                "**Not saved: a colleague saved figures for some of these periods after the preview.** "
                "Nothing from the file was saved.",
                e,
            )
        except pf.PartnershipError as e:
            _problems("**Not saved.** Nothing from the file was saved. Please correct:", e)
        else:
            st.session_state[FLASH] = [
                f"**Saved all {len(saved)} rows** from the uploaded file, recorded as "
                f"entered by {esc(viewer.who)}."
            ]
            st.session_state["pf_upload_n"] = n + 1
            st.session_state.pop(shown_key, None)
            st.rerun()
    st.session_state[shown_key] = now_expected


def latest_table(plan: Plan, figures: pd.DataFrame) -> None:
    plain_table(
        pf.latest_by_measure(figures, plan),
        caption="For each measure, the figure in force for its most recent period.",
    )


def audit_section(plan: Plan, figures: pd.DataFrame) -> None:
    trail = pf.audit_trail(figures, plan)
    if trail.empty:
        st.markdown("Nothing has been recorded yet.")
        return
    plain_table(
        trail,
        download=None,
        caption=f"{len(trail)} row{'s' if len(trail) != 1 else ''}, newest first. 'Previous value' "
        "is the figure in force for that measure and period before the row was added.",
    )
    st.download_button(
        "Download the audit trail (CSV)",
        csv_bytes(trail),
        file_name="partnership-figures-audit.csv",
        mime="text/csv",
        key="pf_audit_csv",
    )
