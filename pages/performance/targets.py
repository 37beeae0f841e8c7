"""Targets: every target of the Community Safety Plan 2025-2029 at a glance."""

import streamlit as st

from csp_data.ui import access, cache, site
from csp_data.ui import priority as ui
from csp_data.ui.briefing import briefing_chooser
from csp_data.ui.components import caption_text, plain_table

viewer = access.require_page(__file__)  # first: the role this page needs (csp_data.config.pages)

plan = cache.plan()
results = cache.targets()

st.title("Targets: are we on course for 2028?")
if not plan.loaded:
    ui.no_plan_notice()
else:
    # The answer first: every target's status in one table, before the charts.
    plain_table(site.targets_at_a_glance(results), download=None)
    caption_text(site.targets_sources(results))
    counts = site.status_counts(results)
    st.markdown(" · ".join(f"{ui.SYMBOL.get(s, '')} **{n}** {s}" for s, n in counts.items()))
    st.markdown(
        f"The {plan.title} sets {len(results)} targets to achieve by 2028. For each, this page shows the baseline, "
        "the latest figure, the target, and a status."
    )
    with st.expander("How the status is decided"):
        st.markdown(
            f"- **Baseline.** {plan.baseline_note}\n"
            "- **The path.** A straight line from the baseline year to the target in the deadline year. The expected "
            "count for the months reported so far follows that line, month by month, comparing each month with the "
            "same month of the baseline year, so seasonal peaks are not mistaken for progress.\n"
            "- **Status.** ✔ *on track* when the 95% interval for recorded ÷ expected lies wholly on the right side of "
            "the path; ✖ *off track* when it lies wholly on the wrong side; … *too early to tell* when it includes the path "
            "or fewer than three months are in. Never from a percentage alone.\n"
            "- ○ **Awaiting data** means no figure is held: partnership-recorded measures show a value only once "
            "the partnership records one, with its source. Nothing is estimated."
        )

    for prio, mine in site.targets_by_priority(plan.priorities, results):
        st.header(f"Priority {prio.number}: {prio.title}", divider="gray")
        ui.gauges(mine)

    st.header("All targets as a table", divider="gray")
    plain_table(
        site.targets_table(results),
        caption="The same information as above, one row per target.",
        link_cols=("Priority",),
        download=None,
    )
    st.download_button(
        "Download the targets (CSV)", site.targets_csv(results), file_name="csp-targets.csv", mime="text/csv"
    )

st.header("Briefing pack for the board", divider="gray")
st.markdown(
    "One printable file for a CSP board or TTCG meeting: the borough scorecard, every target with its "
    "status, the top small-area hot spots, the TTCG exceptions, and the data sources and caveats. Choose "
    "the month; each section uses the latest data held up to it and says which months it covers."
)
briefing_chooser()

if plan.loaded:
    st.header("The previous plan, 2021–2024", divider="gray")
    st.markdown("The 2025 plan reviewed the outcomes of the 2021–2024 plan. They are kept here as history.")
    plain_table(site.previous_plan_table(plan.previous_plan_outcomes), caption=plan.rag_note or None)
