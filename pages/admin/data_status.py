"""Data status: coverage per source, revisions between snapshots, quarantined rows, quality checks."""

import pandas as pd
import streamlit as st

from csp_data.config import settings
from csp_data.ui import access, cache
from csp_data.ui.components import plain_table
from csp_data.warehouse import catalogue, freshness, sql

viewer = access.require_page(__file__)  # first: the role this page needs (csp_data.config.pages)

cfg = settings()
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
span = cache.query("meta/data_span", borough_code=cfg.borough_code)
newest = dict(zip(span["dataset"], span["last_month"]))
held = cache.query("meta/policeuk_months")
if (held["dataset"] == "street_outcomes").any():
    newest["street_outcomes"] = held.loc[held["dataset"] == "street_outcomes", "month"].max()
plain_table(
    freshness.table(freshness.status(newest, state=catalogue.load_state(cfg))),
    caption="Each source against the month its publisher should have released by now (usual lag in "
    "data/sources/publishers.toml). Checks and updates are made by `python -m csp_data update`, "
    'normally on a schedule (docs/OPERATIONS.md); "never" means it has not run on this data folder.',
)

st.header("Levels: borough, wards, LSOAs")
lv = cache.query("meta/level_totals", borough_code=cfg.borough_code)
lv = lv[lv["borough"].notna()].tail(13)  # months the borough file covers (ward files may run a month later)
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
results = []
for name, description, params in sql.check_specs(cfg.borough_code):
    n = len(cache.query(name, **params))
    results.append(
        {
            "Check": name.removeprefix("checks/").replace("_", " "),
            "What it asserts": description,
            "Result": "✔ passes" if n == 0 else f"✖ {n} rows fail",
        }
    )
plain_table(pd.DataFrame(results))

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
    rows = access.role_map().describe()
    st.markdown(
        "Roles come from the `[access]` table of the secrets file. An address listed by name takes "
        "its role even if its domain is listed under another; anyone else signed in sees the public "
        "pages only."
    )
    plain_table(
        pd.DataFrame(rows, columns=["Address or @domain", "Role"])
        if rows
        else pd.DataFrame({"Address or @domain": ["(nobody)"], "Role": ["—"]})
    )
