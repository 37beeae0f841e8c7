"""Overview: the borough scorecard — each plan priority's headline police-recorded measures."""

import streamlit as st

from csp_data.ui import cache, peers, site
from csp_data.ui.components import about_figure, caption_text, plain_table, score_detail
from csp_data.ui.public import help_box

st.title("Borough scorecard")
rows = cache.borough_scorecard()
# The answer first: one line per measure. Each measure's full detail is one click away below.
plain_table(site.scorecard_grid(rows), link_cols=("Priority",), download=None)
caption_text(site.periods_and_sources(rows))
with about_figure("About these figures"):
    st.markdown(
        f"How police-recorded crime in {site.borough_name()} has changed, measure by measure, for each priority "
        + ("of the Community Safety Plan 2025–2029" if cache.plan().loaded else "this dashboard follows")
        + ". Each figure compares the **latest 12 months** with the "
        "**12 months before**, and the **financial year to date** with the same months a year earlier."
    )
    st.info(
        f"**Is the change real?** Each change is tested at the {int(site.ALPHA * 100)}% level, allowing for how much each "
        "measure's own months vary beyond chance (a quasi-Poisson test; the dispersion is shown in each measure's "
        "detail). ▲ means a significant rise, ▼ a significant fall, ● no significant change: the symbol and words "
        "carry the meaning, colour is not used for it."
    )
    st.caption(
        "London rank compares offence counts across the 32 London boroughs policed by the MPS for the same "
        "12 months (1 = most offences); it is a count, not a rate: rates per 1,000 residents against similar "
        "boroughs are at the end of this page. "
        "Hate crime, knife crime and domestic abuse come from the MPS Monthly Crime Dashboard and have no London rank."
    )
    st.caption(
        "Against London: each measure's change is compared with London's over the same months (the 32 "
        "boroughs, same source). A recording change such as the MPS move to CONNECT in March–April 2024 moved "
        f"every borough at once, so when a comparison crosses it, how {site.borough_name()} changed relative to London is "
        "the fairer reading. 'About as much as London' means the 95% interval of the relative change includes no "
        "difference."
    )

# Each measure in detail: the year to date, the test, London, definition, notes and source.
for number, name, mine in site.by_priority(rows, site.PRIORITIES):
    st.header(f"Priority {number}: {name}", divider="gray")
    for row in mine:
        with st.expander(f"{row.measure.label}: the detail"):
            score_detail(row)

st.header("All measures as a table", divider="gray")
# Each priority links to its plain-English account on the summary page.
plain_table(
    site.scorecard_table(rows),
    link_cols=("Priority",),
    download=None,
    caption="The same figures as the grid above, with the year to date, London rank, period, source and "
    "snapshot for each row. Each priority links to what has changed and what the partnership is doing about it.",
)
st.download_button(
    "Download the scorecard (CSV)",
    site.scorecard_csv(rows),
    file_name=f"{site.borough_name().lower().replace(' ', '-')}-scorecard.csv",
    mime="text/csv",
)

st.header("Compared with similar boroughs", divider="gray")
group = peers.peer_group()
if group is None:
    st.info("The figures the peer boroughs are chosen on are not held, so no comparison is shown.")
else:
    st.markdown(
        peers.peers_sentence(group)
        + " Peers are chosen from the data, not by hand: the boroughs nearest to this one in residents per km², "
        "average deprivation and the share of very deprived neighbourhoods (no crime figure is used, so peers "
        "are not chosen by the outcome compared)."
    )
    plain_table(
        peers.group_table(group),
        caption=f"The borough and its {peers.K} peers. {peers.SOURCE}.",
        download=None,
    )
    table, every, words = peers.comparison()
    if table.empty:
        st.info("No police-recorded measure with a London rank has 12 months of data for the comparison.")
    else:
        for sentence in words:
            st.markdown(f"- {sentence}")
        plain_table(
            table,
            caption="Offences per 1,000 residents (Census 2021 usual residents, all ages) over the same 12 months "
            "as the London rank. Source: MPS recorded crime by borough (London Datastore); "
            f"{peers.SOURCE}.",
            link_cols=("Measure",),
            download=None,
        )
        plain_table(
            every,
            caption="Offences per 1,000 residents in each borough of the group.",
            link_cols=("Measure",),
            download=None,
        )
        st.caption(
            "A rate per resident is a guide only: boroughs with many workers and visitors (the daytime "
            "population) have more offences per resident for the same risk to each person present."
        )

help_box()
