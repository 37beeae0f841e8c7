"""Priority 4: tackling hate crime and improving community cohesion; trust and confidence."""

import streamlit as st

from csp_data.ui import access, cache
from csp_data.ui import priority as ui

viewer = access.require_page(__file__)  # first: the role this page needs (csp_data.config.pages)

NUMBER = 4
MEASURES = ui.priority_measures(NUMBER)  # csp_data/plan/measures.py: PRIORITY_MEASURES

plan, prio, results, by_measure = ui.priority_intro(NUMBER)


ui.headline_and_targets(MEASURES, results)

st.header("Hate crime trend", divider="gray")
m = ui.get("hate_crime")
ui.trend_and_years(m, by_measure.get(m.id))
view = cache.measure_view(m.id)
if view.latest is not None:
    last12 = ui.trailing(view.latest)
    st.header(f"Hate crime by strand, {last12.label}", divider="gray")
    ui.bars_block(
        ui.hate_crime_strands(last12),
        f"Hate crime offences by strand, {last12.label}",
        "Strand",
        "offences",
        "Offences",
        additive=False,
        key="strands",
        table_caption=f"Source: {m.source_name}; {view.snapshot}.",
    )
    with ui.about_figure():
        st.caption(
            "Strands overlap: one offence can be flagged racist and faith-related, and 'Racist and Religious' "
            "combines the two, so strands do not add up to the total."
        )
    ui.ward_block(m, last12)

st.header("Positive outcomes for hate crime", divider="gray")
if plan.loaded:
    st.markdown(
        "The previous plan (2021–2024) aimed for a **10% positive outcome rate** for hate crime; the 2025 plan "
        "reports it finished at 8.86%."
    )
    ui.outcome_block(m, 10.0, "Previous plan target 10%")
else:
    ui.outcome_block(m)

st.header("Trust and confidence", divider="gray")
cc = plan.cross_cutting
if cc is not None:
    st.markdown(f"**{cc.title}.** {cc.summary}")
st.markdown(
    "Trust, confidence and cohesion are measured by surveys the partnership runs; "
    + (
        "their targets above show the recorded survey results, or 'awaiting data' until a result is entered."
        if plan.loaded
        else "no survey results are held without a plan."
    )
)
