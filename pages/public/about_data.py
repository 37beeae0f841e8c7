"""About the data: where every figure comes from, how current it is, and its known limits."""

import streamlit as st

from csp_data.ui import site
from csp_data.ui.components import plain_table
from csp_data.ui.public import help_box

st.title("About the data")
st.markdown(
    "Every figure in this dashboard comes from published open data, copied into the dashboard with "
    "its origin and licence so that it works without an internet connection. Nothing is estimated "
    "or filled in: where a measure has no data, the page says **awaiting data**."
)

st.header("Sources")
# Two columns, so the table fits a 320 px phone screen without scrolling sideways; long file
# names wrap inside their cell (csp_data.present.site.sources_table).
plain_table(site.sources_table())

st.header("Things to know when reading the figures")
st.markdown(
    """
- **Borough, ward and LSOA totals differ.** Crimes the police cannot place are counted in the borough
  total but drop out of ward and neighbourhood (LSOA) figures, so borough > sum of wards > sum of LSOAs.
  Plan targets use borough totals; maps use ward and LSOA figures.
- **Recent months are revised.** Each police extract is a snapshot. Where two extracts cover the same
  month, the newer one is used and the difference is logged for analysts.
- **Category changes.** Residential burglary was re-categorised by the MPS in 2023; the dashboard joins the
  old and new names so trends are continuous.
- **Recording system change.** The MPS moved to a new recording system (CONNECT) in early 2024: London-wide
  counts step from March 2024 (fully from April 2024). Any comparison across that date may partly reflect
  recording, so the scorecard shows each change beside London's over the same months.
- **police.uk locations are approximate.** Street-level crimes are placed at the nearest of a set of
  anonymised map points ("On or near …"), so many crimes share one point and a crime near a boundary can
  appear on the wrong side of it.
- **Rates per 1,000 residents** use Census 2021 usual residents. Places with many workers and visitors
  (Canary Wharf, Spitalfields, Whitechapel) have far more people in them by day, which inflates their rates.
"""
)

help_box()
