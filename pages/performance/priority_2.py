"""Priority 2: tackling violence (serious violence, knife and gun crime, VAWG and domestic abuse)."""

import streamlit as st

from csp_data.ui import access, cache
from csp_data.ui import priority as ui

viewer = access.require_page(__file__)  # first: the role this page needs (csp_data.config.pages)

NUMBER = 2
MEASURES = ui.priority_measures(NUMBER)  # csp_data/plan/measures.py: PRIORITY_MEASURES

plan, prio, results, by_measure = ui.priority_intro(NUMBER)
sv = plan.definitions["serious_violence"]

st.info(f"**How this dashboard defines serious violence.** {sv.text}")
sv_view = cache.measure_view("serious_violence")
if sv_view.latest is not None:
    st.header(f"What serious violence counts, {ui.trailing(sv_view.latest).label}", divider="gray")
    ui.serious_violence_block(ui.trailing(sv_view.latest))

ui.headline_and_targets(MEASURES, results)

st.header("Trends and breakdowns", divider="gray")
ui.trends_section(MEASURES, by_measure, key="p2-measure", default_breakdown_label="Type")

st.header("Knife crime: injuries and young victims", divider="gray")
kv = cache.measure_view("knife_crime")
if kv.latest is not None:
    p12 = ui.trailing(kv.latest)
    knife = cache.dashboard_subtypes("Knife Crime", p12.start, p12.end)
    knife = knife.rename(
        columns={
            "subtype": "Knife crime measure",
            "offences": "Offences or victims",
            "positive_outcomes": "Positive outcomes",
        }
    )
    ui.plain_table(
        knife,
        caption=(
            f"{p12.label}. Source: {ui.get('knife_crime').source_name}; {kv.snapshot}. 'Knife Injury Victims (1-24)' counts "
            "victims aged 1 to 24 injured with a knife (non-domestic-abuse cases shown separately); the rows overlap and "
            "must not be added together."
        ),
    )

st.header("Positive outcomes", divider="gray")
st.markdown(
    "How often offences end in a charge, caution or other positive outcome. "
    + (
        "The previous plan (2021–2024) set a **15% positive outcome rate for rape**; it finished at 14.14% "
        "(as reported in the 2025 plan). "
        if plan.loaded
        else ""
    )
    + "Rape outcomes are not published in the data held here."
)
# One under the other, not side by side: in half the width each chart's table view (seven
# columns) scrolled sideways with nothing in it a keyboard could reach (axe: scrollable-region-focusable).
ui.outcome_block(ui.get("knife_crime"))
ui.outcome_block(ui.get("domestic_abuse"))
