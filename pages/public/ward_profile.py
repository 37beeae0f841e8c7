"""Your ward: crime over the last 12 months against the 12 before, and against the borough."""

import streamlit as st

from csp_data.ui import cache, site
from csp_data.ui.components import caption_text, plain, plain_table
from csp_data.ui.priority import chart_block
from csp_data.ui.public import help_box

st.title("Crime in your ward")
st.markdown(
    "Choose a ward to see the crimes recorded there over the last 12 months, how that compares with the "
    f"12 months before, and how the ward's rate per 1,000 residents compares with {site.borough_name()} as a whole."
)

wards = cache.wards()
codes = [w.code for w in wards]
names = {w.code: w.name for w in wards}
asked = st.query_params.get("ward")
problem = None
from_url = None
if asked is not None:
    try:
        from_url = cache.resolve_ward(asked).code
    except site.WardError as exc:
        problem = str(exc)
# A link (or a new link in the same session) sets the picker; otherwise the picker keeps the
# reader's own choice. Keyed, so a second choice is never lost.
if asked != st.session_state.get("_ward_url_seen"):
    st.session_state["_ward_url_seen"] = asked
    st.session_state["ward_choice"] = from_url
if problem:
    st.warning(problem)
choice = st.selectbox(
    "Ward",
    codes,
    index=None,
    key="ward_choice",
    format_func=lambda c: names.get(c, c),
    placeholder="Choose a ward",
)
if choice:
    st.query_params["ward"] = choice
    st.session_state["_ward_url_seen"] = choice
elif "ward" in st.query_params and problem is None:
    del st.query_params["ward"]

prof = None
if choice:
    try:
        prof = cache.ward_profile(choice)
    except site.WardError as exc:
        st.warning(str(exc))
if prof is not None:
    w = prof.ward
    now, before = site.ward_totals(prof.table)
    st.header(plain(w.name), divider="gray")  # names from the ONS lookup: data, shown literally
    st.markdown(
        f"{plain(w.name)} had **{now:,d} recorded crimes** in the 12 months "
        f"{prof.period.label}, against {before:,d} in the 12 months before. "
        f"About {w.population:,d} people live here (Census 2021)."
    )
    table = site.ward_verdicts(prof.table)
    # Two narrower tables rather than one of eight columns, so each fits a 320 px phone screen.
    st.subheader("Crimes recorded")
    plain_table(
        table[["category", "count", "previous", "verdict"]].rename(
            columns={
                "category": "Type of crime",
                "count": "Last 12 months",
                "previous": "12 months before",
                "verdict": "Change, and is it real?",
            }
        ),
        caption=(
            f"Last 12 months: {prof.period.label}; 12 months before: {prof.previous.label}. "
            f"Source: {prof.snapshot}."
        ),
    )
    st.subheader("Compared with the borough")
    plain_table(
        table[["category", "ward_rate", "borough_rate", "versus_borough"]].rename(
            columns={
                "category": "Type of crime",
                "ward_rate": "Ward per 1,000",
                "borough_rate": "Borough per 1,000",
                "versus_borough": "Compared with the borough",
            }
        ),
        caption=(
            f"Crimes in the last 12 months ({prof.period.label}) per 1,000 residents. Rates use Census 2021 "
            "residents; areas with many workers and visitors have high rates because crimes against "
            "non-residents are counted too."
        ),
    )
    st.subheader("Compared with every ward")
    kinds = list(prof.table["category"])
    kind = st.selectbox("Type of crime", kinds, key="funnel_kind")
    f_areas, f_limits = site.ward_funnel(kind, prof.period.start, prof.period.end)
    st.markdown(
        f"Each ward's rate of {kind.lower()} per 1,000 residents against how many people live there, "
        f"{plain(w.name)} ringed. Wards with fewer residents vary more by chance, so the lines fan out to the left: a ward "
        "outside the dashed lines would be there about 1 time in 20 by chance, outside the dotted lines about 1 in 500. "
        "The lines allow for wards differing more than chance alone."
    )
    if f_areas.attrs["total"] == 0:
        st.info(f"No {kind.lower()} was recorded in {prof.period.label}.")
    else:
        chart_block(
            site.funnel_chart(
                f_areas,
                f_limits,
                f"{kind}: rate by ward, {prof.period.label}",
                "ward",
                highlight=w.code,
                compact=True,
            ),
            key=f"funnel-{kind}",
            table_caption="Each ward with its own 95% and 99.8% limits.",
            name=f"ward-funnel-{prof.period.label}",
        )
        caption_text(
            f"Source: {prof.snapshot}; {prof.period.label}. Residents: ONS Census 2021. "
            "Method: Spiegelhalter (2005) funnel plot allowing for over-dispersion."
        )
    st.subheader("Month by month")
    for cat, one in site.ward_monthly(prof.table, prof.monthly):
        chart_block(site.small_trend(one, f"{cat} in {w.name}, per month", cat), key=f"small-{cat}")
    st.info(
        "**About locations.** Ward figures count crimes the police could place in the ward. Police maps place "
        'each crime at the nearest of a set of anonymous points ("on or near" a street), so a crime near a '
        "ward boundary may be counted on the other side of it."
    )

help_box()
