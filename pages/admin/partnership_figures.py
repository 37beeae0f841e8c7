"""Partnership figures: record the plan's non-police measures (issue 6), officer role."""

from datetime import date

import streamlit as st

from csp_data.ui import access, admin, cache, site
from csp_data.ui import partnership as ui

viewer = access.require_page(__file__)  # first: the role this page needs (csp_data.config.pages)

plan = cache.plan()
today = date.today()

st.title("Partnership figures")
st.markdown(
    "Record the figures the police data cannot give: fire audits, business crime partnership members, survey "
    "results, joint operations, organised crime groups disrupted, IOM, drug treatment completions and the "
    "education offer. The Targets page uses them as soon as they are saved."
)
st.markdown(
    f"Figures you save are recorded as entered by {ui.who_line(viewer)}, with the time. Nothing is ever overwritten: "
    "to correct a figure, save the right one for the same period and say why in the note. Both stay in the audit "
    "trail below."
)

if not plan.loaded:  # no plan file for the borough: no partnership measures to record
    st.info(site.no_plan_message())
    st.stop()

figures = ui.load(plan)
ui.flash()

if figures is not None:
    st.header("Enter a figure", divider="gray")
    ui.entry_form(viewer, plan, figures, today)

    st.header("Latest figure for each measure", divider="gray")
    ui.latest_table(plan, figures)

    st.header("Upload several figures at once", divider="gray")
    st.markdown(
        "Download the template, fill in one row per figure (value and source; a note if useful), delete the rows "
        "you have no figure for, and upload it. Keep the columns as they are. Periods are written `FY2025-26`, "
        "`2025`, `2025-04..2025-06` or `2025-09`; if your spreadsheet turns `2025-09` into a date, format the "
        "period column as text. The whole file is checked first: if any row has a mistake, nothing is saved and "
        f"each problem is listed with its line number. At most {admin.MAX_UPLOAD_ROWS} rows and "
        f"{admin.MAX_UPLOAD_BYTES / 1_000_000:g} MB per file."
    )
    ui.upload_section(viewer, plan, figures, today)

    st.header("Audit trail", divider="gray")
    st.markdown(
        "Every figure ever saved, with who saved it, when, the value, the value it replaced, and the note."
    )
    ui.audit_section(plan, figures)
