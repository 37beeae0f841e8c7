"""Priority 1: tackling acquisitive crime and anti-social behaviour."""

import streamlit as st

from csp_data.ui import access, street
from csp_data.ui import priority as ui

viewer = access.require_page(__file__)  # first: the role this page needs (csp_data.config.pages)

NUMBER = 1
MEASURES = ui.priority_measures(NUMBER)  # csp_data/plan/measures.py: PRIORITY_MEASURES

plan, prio, results, by_measure = ui.priority_intro(NUMBER)


ui.headline_and_targets(MEASURES, results)

st.header("Trends and breakdowns", divider="gray")
ui.trends_section(
    MEASURES,
    by_measure,
    key="p1-measure",
    breakdown_labels={"business": "Business crime type"},
    default_breakdown_label="Type of offence",
)

st.header("Anti-social behaviour and fire", divider="gray")
street.asb_block()
st.markdown(
    "**Fire audits and the Business Crime Reduction Partnership** are counted by the fire service and the council, "
    "not the police: "
    + (
        "see their targets above, which read the partnership's recorded figures."
        if plan.loaded
        else "with a plan loaded, their targets read the partnership's recorded figures."
    )
)

st.header("Two publishers, two counts", divider="gray")
st.markdown(
    "For the months police.uk's all-crime street files are held, the same categories are also in the MPS "
    "file this dashboard uses. Both are shown, with why they differ."
)
street.two_publishers_block(MEASURES)
