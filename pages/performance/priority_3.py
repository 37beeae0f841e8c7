"""Priority 3: tackling drug supply and substance misuse."""

import streamlit as st

from csp_data.ui import access, cache
from csp_data.ui import priority as ui

viewer = access.require_page(__file__)  # first: the role this page needs (csp_data.config.pages)

NUMBER = 3
MEASURES = ui.priority_measures(NUMBER)  # csp_data/plan/measures.py: PRIORITY_MEASURES

plan, prio, results, by_measure = ui.priority_intro(NUMBER)

st.warning(
    "**Read drug figures with care.** Drug trafficking and possession offences are mostly found by police activity "
    "(stop and search, warrants, patrols). More enforcement finds more offences, so a rise can mean more police work "
    "and a fall is not automatically good news."
    + (" The plan nonetheless sets a 15% reduction target for trafficking." if plan.loaded else "")
)

ui.headline_and_targets(MEASURES, results)

st.header("Trends and breakdowns", divider="gray")
ui.trends_section(MEASURES, by_measure, key="p3-measure")

st.header("Trafficking against possession", divider="gray")
tv = cache.measure_view("drug_trafficking")
pv = cache.measure_view("drug_possession")
fy = cache.fy_totals("drug_trafficking").merge(
    cache.fy_totals("drug_possession"),
    on=["fy", "months", "complete"],
    suffixes=(" trafficking", " possession"),
)
fy = fy[fy.fy >= "FY2019-20"]
fy["Trafficking share %"] = (
    fy["count trafficking"] / (fy["count trafficking"] + fy["count possession"]) * 100
).round(1)
ui.plain_table(
    fy.rename(
        columns={
            "fy": "Financial year",
            "months": "Months held",
            "complete": "Complete year",
            "count trafficking": "Trafficking",
            "count possession": "Possession",
        }
    ),
    caption=f"Source: MPS recorded crime; {tv.snapshot}. The share of drug offences that are trafficking "
    "rather than possession is one sign of whether enforcement reaches supply rather than users.",
)
