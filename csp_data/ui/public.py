"""Pieces every public page shares: the help box and plain-language change sentences."""

from __future__ import annotations

import streamlit as st

from csp_data.analysis.london import move_words as london_move  # noqa: F401  (pages: public.london_move)
from csp_data.analysis.scorecard import ordinal as ordinal  # pages: public.ordinal
from csp_data.analysis.targets import (
    public_value_text as public_value_text,  # pages: public.public_value_text
)
from csp_data.config import settings
from csp_data.plan.measures import public_headlines as public_headlines  # pages: public.public_headlines
from csp_data.present.formatting import md_escape
from csp_data.ui import cache


def help_box() -> None:
    """Where to get help: on every public page, from the plan's 'Need information and advice?'."""
    plan = cache.plan()
    st.header("Need help?", divider="gray")
    st.markdown(
        "**In an emergency, or if a crime is happening now, phone 999.** "
        "For non-emergencies phone 101, or report online at www.met.police.uk/report."
    )
    if not plan.help:  # no plan file for the borough: no local contacts are held
        return
    with st.expander("More places to get help and report problems"):
        for contact in plan.help:
            st.markdown(
                f"**{md_escape(contact.service)}**\n\n"
                + "\n".join(f"- {md_escape(line)}" for line in contact.lines)
            )
    st.caption(
        f"Contact details are from the {settings().borough_name} Community Safety Plan 2025–2029, "
        "'Need information and advice?' section."
    )
