"""The briefing pack button (staff pages only: the pack holds LSOA hot spots). Public pages never
import this module, so nothing a public page runs can reach the pack's restricted queries."""

from __future__ import annotations

from datetime import date

import streamlit as st

from csp_data.ui.cache import warehouse_cached
from csp_data.ui.downloads import _button


@warehouse_cached(max_entries=4, by="staff")
def briefing_months() -> list:
    """Months a briefing pack can be made for, newest first (staff only)."""
    from csp_data.present import briefing

    return briefing.available_months()


@warehouse_cached(max_entries=16, by="staff")
def _resolved(period: str | None, today: date) -> tuple[date | None, str]:
    """(the pack's month, "") or (None, why not): resolving reads the data spans, so it is cached."""
    from csp_data.present import briefing

    try:
        return briefing.resolve_month(period, today=today), ""
    except briefing.BriefingError as exc:
        return None, str(exc)


def briefing_button(period: str | None = None) -> None:
    """A button that builds the briefing pack for ``period`` (YYYY-MM; default the latest month with
    data) when pressed and downloads it as one HTML file. In public mode, or for a month the data do
    not cover, it says why instead."""
    from csp_data.config import settings
    from csp_data.present import briefing

    cfg = settings()
    if cfg.mode == "public":
        st.info("The briefing pack is for internal use (it holds small-area analysis): not available here.")
        return
    month, why_not = _resolved(period, date.today())
    if month is None:
        st.warning(f"No briefing pack: {why_not}.")
        return
    stem = f"csp-briefing-{month:%Y-%m}"
    _button(
        f"Download the briefing pack for {month:%B %Y} (HTML)",
        lambda: briefing.build(month, cfg).encode("utf-8"),
        stem,
        "html",
        "text/html",
        "One printable file: scorecard, targets, hot spots, TTCG exceptions and sources. "
        "It takes a few seconds to make after you press the button.",
    )


@st.fragment
def briefing_chooser() -> None:
    """The month chooser and the pack's button: a fragment, so choosing a month redraws this
    button only, not the page around it."""
    months = briefing_months()
    pack_month = st.selectbox("Month", months, format_func=lambda m: f"{m:%B %Y}", key="pack_month")
    briefing_button(f"{pack_month:%Y-%m}" if pack_month is not None else None)
