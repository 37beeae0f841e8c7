"""Data status: coverage per source, revisions between snapshots, quarantined rows, quality checks."""

import streamlit as st

from csp_data.ui import access, admin, cache
from csp_data.ui.components import plain_table

viewer = access.require_page(__file__)  # first: the role this page needs (csp_data.config.pages)

st.title("Data status")
st.markdown("What the warehouse holds, from which files, and whether it passes its quality checks.")

st.header("Coverage by source file")
cov = cache.query("meta/coverage")
plain_table(
    cov.rename(
        columns={
            "dataset": "Dataset",
            "source_file": "File",
            "snapshot": "Snapshot",
            "first_month": "First month",
            "last_month": "Last month",
            "stub_months": "Stub months dropped",
        }
    )
)

st.header("Freshness and updates")
plain_table(
    admin.freshness_table(),
    caption="Each source against the month its publisher should have released by now (usual lag in "
    # the command as plain text: inline code in a caption (60% opacity) is 3:1 contrast, too faint
    'data/sources/publishers.toml). Checks and updates are made by "python -m csp_data update", '
    'normally on a schedule (docs/OPERATIONS.md); "never" means it has not run on this data folder.',
)

st.header("Levels: borough, wards, LSOAs")
lv = admin.level_totals(13)  # months the borough file covers (ward files may run a month later)
plain_table(
    lv.rename(
        columns={"month": "Month", "borough": "Borough", "wards": "Sum of wards", "lsoas": "Sum of LSOAs"}
    ),
    caption="Monthly totals of all offences at each level, for the last 13 months with a borough figure. "
    "Finer levels lose crimes that could not be placed, so borough ≥ wards ≥ LSOAs. A blank means "
    "that level has no data for the month.",
)

st.header("Revisions between snapshots")
rev = cache.query("meta/revisions")
if rev.empty:
    st.markdown("No overlapping snapshots disagree.")
else:
    plain_table(
        rev.head(40).rename(
            columns={
                "level": "Level",
                "month": "Month",
                "kept_source": "Used",
                "superseded_source": "Superseded",
                "cells_changed": "Counts changed",
                "net_change": "Net change (used − superseded)",
            }
        ),
        caption=f"{len(rev)} month-level revisions; the most recent 40 are shown.",
    )

st.header("Quarantined rows")
q = cache.query("meta/quarantine")
if q.empty:
    st.markdown("No rows are in quarantine: every row of every source passed validation.")
else:
    plain_table(q.rename(columns={"source_file": "File", "reason": "Reason", "rows": "Rows"}))

st.header("Quality checks")
plain_table(admin.check_results())

st.header("Who has access")
if viewer.role != "admin":
    st.markdown("Only administrators see who has which role.")
elif viewer.mode == "local":
    st.markdown(
        "This app is running in **local mode**: nobody signs in and every page is open to this "
        "computer only. To share it, configure sign-in and roles in `.streamlit/secrets.toml` "
        "(see `.streamlit/secrets.toml.example`)."
    )
elif problem := access.access_problem():
    st.error(f"The `[access]` table in the secrets file is wrong, so no account has staff access: {problem}")
else:
    st.markdown(
        "Roles come from the `[access]` table of the secrets file. An address listed by name takes "
        "its role even if its domain is listed under another; anyone else signed in sees the public "
        "pages only."
    )
    plain_table(admin.role_table())
