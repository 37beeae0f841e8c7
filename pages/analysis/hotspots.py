"""Hotspots and VOLT: where and when crime concentrates, whether a hotspot is real, and what the data
can say about victims, offenders, locations and times. Every filter is in the URL."""

import streamlit as st

from csp_data.ui import access, cache
from csp_data.ui import hotspots as hs
from csp_data.ui.components import caption_text, plain, plain_table
from csp_data.ui.priority import chart_block

viewer = access.require_page(__file__)  # first: the role this page needs (csp_data.config.pages)

cfg = hs.settings()
st.title("Hotspots and VOLT analysis")
st.markdown(
    f"Where and when crime concentrates in {cfg.borough_name}, and whether a hotspot is more than chance. Choose a "
    "category, a period and the areas to compare; the address bar keeps every choice, so a link reopens this "
    "exact view."
)

cats = hs.categories()
by_label = {c.label: c for c in cats}
wards = cache.wards()
ward_names = [w.name for w in wards]
ward_code = {w.name: w.code for w in wards}

c1, c2, c3 = st.columns([2, 1.3, 1])
label = c1.selectbox("Category", list(by_label), key="category", bind="query-params")
period_choice = c2.selectbox("Period", hs.PERIOD_CHOICES, index=2, key="period", bind="query-params")
geo = c3.radio("Areas", hs.GEOGRAPHIES, index=1, key="areas", horizontal=True, bind="query-params")
c4, c5 = st.columns([2, 1.3])
colour = c4.radio("Colour the map by", hs.COLOUR_BY, key="colour", horizontal=True, bind="query-params")
ward_name = c5.selectbox(
    "Drill down to one ward (its LSOAs)",
    ward_names,
    index=None,
    key="ward",
    placeholder="Whole borough",
    bind="query-params",
)
cat = by_label[label]
shown, shown_lower = plain(label), plain(label.lower())  # MPS category names from the files: plain text
ward = ward_code.get(ward_name) if ward_name else None
if ward:
    geo = "LSOAs"
if colour == "Hot spots (Gi*)" and geo != "LSOAs":
    st.info("Hot spots are tested between LSOAs (small areas of about 1,500 residents): showing LSOAs.")
    geo = "LSOAs"

try:
    latest = hs.latest(geo)
    custom_from = custom_to = None
    if period_choice == "Custom months":
        months = hs.custom_months(latest)
        d1, d2 = st.columns(2)
        custom_from = d1.selectbox("From", months, index=len(months) - 12, key="from", bind="query-params")
        custom_to = d2.selectbox("To", months, index=len(months) - 1, key="to", bind="query-params")
    period = hs.resolve_period(period_choice, latest, custom_from, custom_to)
    table = hs.area_table(cat, period, geo, ward)
except hs.AnalysisError as exc:
    st.warning(str(exc))
    st.stop()

prev_label = table.attrs.get("previous")
where = f"{ward_name} ward" if ward else cfg.borough_name
st.caption(
    f"{shown} · {period.label}"
    + (f" (compared with {prev_label})" if prev_label else "")
    + f" · {geo} of {where} · Source: MPS recorded crime at {'LSOA' if geo == 'LSOAs' else 'ward'} level "
    "(London Datastore). "
    "Finer levels lose crimes that could not be placed, so they add up to less than the borough."
)

# ------------------------------------------------------------------ the map
gi = hs.gi(cat, period) if geo == "LSOAs" else None
outline = hs.map_outline(ward)
spec = hs.area_map(table, geo, colour, gi, ward)
st.pydeck_chart(spec.deck, height=560)
st.caption(
    f"Map: {'LSOAs' if geo == 'LSOAs' else 'wards'} coloured by "
    f"{'hot-spot class (Gi*)' if colour == 'Hot spots (Gi*)' else colour[0].lower() + colour[1:]}. "
    + ("Significant hot and cold spots are also labelled on the map (HOT 95% …). " if gi is not None else "")
    + "No background map is loaded (the dashboard works offline): thick black lines are ward boundaries. "
    "The table below holds the same figures."
)
plain_table(spec.legend, caption="Map key", download=None)

# ------------------------------------------------------------------ ranked table
st.header(f"Areas ranked: {shown}, {period.label}", divider="gray")
share, k = hs.concentration(table["count"])
AREA_WORD = {"LSOAs": "LSOAs", "Wards": "wards"}
st.markdown(
    f"The busiest **{k} of {len(table)}** {AREA_WORD[geo]} (the top 10%) hold **{share:.0%}** of these offences."
)
names = {w.code: w.name for w in wards}
ranked = hs.with_wards(table, gi, names)
show = hs.ranked_table(ranked, geo, period.label, prev_label)
plain_table(
    show.head(40),
    download=None,
    caption=f"Most offences first; {min(40, len(show))} of {len(show)} areas shown. "
    "Download the table for all of them. " + table.attrs.get("method", ""),
)
st.download_button(
    "Download the area table (CSV)",
    hs.csv_bytes(ranked.drop(columns=["symbol"])),
    file_name=f"hotspots-{geo.lower()}-{period.label}.csv",
    mime="text/csv",
)

# ------------------------------------------------------------------ hot spots and persistence
if gi is not None:
    st.header("Are the hot spots real?", divider="gray")
    n_lsoas = len(gi)
    found = hs.hotspot_counts(gi)
    st.markdown(
        "Getis-Ord Gi* compares each LSOA and its neighbours (LSOAs that touch it) with the whole borough. "
        f"Whether a cluster could be chance is judged by rearranging the other LSOAs' counts at random "
        f"{gi.attrs.get('permutations', hs.GI_PERMUTATIONS):,d} times around each LSOA (conditional permutation), then "
        f"allowing for {n_lsoas} LSOAs tested at once (false discovery rate): an LSOA is a 95% hot spot only when its "
        "adjusted q is below 0.05."
    )
    if found:
        st.markdown(f"For {shown_lower} in {period.label}: **{', '.join(found)}**.")
    else:
        st.markdown(
            f"For {shown_lower} in {period.label}: **{hs.no_hotspot_sentence(n_lsoas)}** "
            f"The lowest adjusted q is {hs.lowest_q(gi):.2f} (a 90% hot spot needs below 0.10). Clusters that "
            "look hot on the map are within what chance rearrangements of these counts produce."
        )
    st.caption(hs.GI_CAVEAT)
    st.subheader("What the figures do show")
    whole = hs.area_table(cat, period, "LSOAs", None)
    plain_table(
        hs.concentration_display(whole, period.label, prev_label),
        caption=f"How concentrated {shown_lower} is: the share of all offences in the busiest LSOAs (each period "
        "ranks its own busiest). A description, not a test, so it needs no allowance for chance.",
    )
    r1, r2 = st.columns(2)
    for col, by, heading in (
        (r1, "count", "Most offences"),
        (r2, "rate", "Highest rate per 1,000 residents"),
    ):
        with col:
            plain_table(
                hs.top_lsoas(whole, by, names),
                caption=f"{heading}, {period.label}. Residents: Census 2021.",
            )
    caption_text(
        f"Source: MPS recorded crime at LSOA level (London Datastore), {period.label}; "
        f"{hs.snapshot('LSOAs')}."
    )
    lsoa_last = hs.latest("LSOAs")
    start = hs.emerging_start(lsoa_last)
    em = hs.emerging(cat, start, lsoa_last, 3)
    st.subheader("Hot spots over time")
    st.markdown(
        f"Quarter by quarter from {start:%b %Y} to {lsoa_last:%b %Y}: how often each LSOA was a hot spot "
        "(the same test as above, quarter by quarter), and whether its Gi* score is rising or falling."
    )
    plain_table(
        hs.emerging_counts(em),
        caption="new: hot only in the latest quarter; intensifying / persistent / diminishing: hot in nearly "
        "every quarter with a rising / steady / falling score; sporadic: on and off; historical: hot "
        "before but not now.",
    )
    notable = hs.notable_lsoas(em, hs.shapes("LSOAs"), names)
    if len(notable):
        plain_table(
            notable,
            caption="LSOAs that have been a hot spot in any quarter.",
        )

# ------------------------------------------------------------------ funnel plot
AREA_ONE = {"LSOAs": "LSOA", "Wards": "ward"}
st.header("Rates against residents (funnel plot)", divider="gray")
f_areas, f_limits = hs.funnel(cat, period, geo)
st.markdown(
    f"Each {AREA_ONE[geo]}'s {shown_lower} rate per 1,000 residents against its residents, around the borough rate. "
    f"Small areas wobble more by chance, so the limits narrow as residents grow: an {AREA_ONE[geo]} outside the 95% "
    "limits would be there about 1 time in 20 by chance, outside the 99.8% limits about 1 in 500. The limits allow "
    f"for {AREA_ONE[geo]}s differing more than chance alone (over-dispersion factor "
    f"{f_areas.attrs['phi']:.1f}). Unlike Gi*, this judges each area on its own, not with its neighbours."
)
if f_areas.attrs["total"] == 0:
    st.info(f"No {shown_lower} offences in {period.label}: nothing to plot.")
else:
    chart_block(
        hs.funnel_chart(
            f_areas, f_limits, f"{label}: rate by {AREA_ONE[geo]}, {period.label}", AREA_ONE[geo]
        ),
        key=f"funnel-{geo.lower()}",
        table_caption="Each area with its own 95% and 99.8% limits.",
        name=f"funnel-{geo.lower()}-{period.label}",
    )
    st.caption(hs.FUNNEL_METHOD + " Residents are not the people at risk everywhere (see the caveat above).")
    caption_text(
        f"Source: MPS recorded crime at {AREA_ONE[geo]} level (London Datastore), {period.label}; "
        f"{hs.snapshot(geo)}. Residents: ONS Census 2021."
    )

# ------------------------------------------------------------------ point data
st.header("Street-level records (police.uk)", divider="gray")
st.markdown(
    'police.uk publishes each crime at an anonymised **snap point** ("on or near" a street) rather than its '
    "address, so many crimes share one point and a crime near a boundary can fall on the wrong side of it. "
    "Burglary is held for every month since December 2010 (other crime types only for Feb 2025 and Jan 2026)."
)
if st.toggle("Show burglary density for this period", key="points", bind="query-params"):
    pts = hs.points("Burglary", period, ward)
    held = hs.months_with_points(pts)
    if pts.empty:
        st.info(f"No police.uk burglary records are held for {period.label}.")
    else:
        show_pts = st.checkbox("Also show each snap point", key="snap", bind="query-params")
        hx = hs.point_map(pts, outline, show_pts)
        st.pydeck_chart(hx.deck, height=520)
        st.caption(
            f"{len(pts):,d} burglary records in {held} of {period.n_months} months of {period.label}, "
            "binned into hexagons about 150 m across (darker: more records)."
        )
        plain_table(
            hs.points_by_ward(pts, names),
            caption="The same records by ward (the table equivalent of the map).",
        )

# ------------------------------------------------------------------ VOLT
st.header("VOLT: victim, offender, location, time", divider="gray")
area = ward or cfg.borough_code
st.subheader("Victim")
vic = hs.victims(area, period)
if vic.empty:
    st.info(f"The MPS dashboard holds no victim-related figures for {period.label}.")
else:
    months_held = hs.months_held(vic)
    plain_table(
        hs.victims_table(vic),
        caption=f"MPS Monthly Crime Dashboard for {where}, {period.label} ({months_held} of {period.n_months} months "
        "held). Hate crime strands overlap. Not held: victims' age, sex or ethnicity for other crimes, and "
        "repeat victimisation.",
    )
st.subheader("Offender")
st.markdown(
    "Recorded crime does not describe offenders. What the data can show is how often offences end in a "
    "positive outcome (above, from the dashboard) and what happened to police.uk burglary records:"
)
out = hs.burglary_outcomes(period, ward)
if out.empty:
    st.info(f"No police.uk burglary outcomes are held for {period.label}.")
else:
    plain_table(
        hs.outcomes_table(out),
        caption="police.uk 'last outcome' as published; recent crimes are often still under investigation.",
    )
st.subheader("Location")
st.markdown(
    f"The top 10% of {AREA_WORD[geo]} hold **{share:.0%}** of {shown_lower} offences; the busiest are "
    + ", ".join(f"{plain(name)} ({count})" for name, count in hs.busiest(table, 5))
    + "."
)
st.subheader("Time")
sea = hs.seasonality(cat)
peak, low = hs.peak_and_low(sea)
st.markdown(
    f"Across the borough ({sea.attrs.get('span', '')}), {shown_lower} peaks in **{peak.month_name}** "
    f"({peak['index']:.0f}, where 100 is an average month) and is lowest in **{low.month_name}** "
    f"({low['index']:.0f})."
)
plain_table(
    hs.seasonality_table(sea),
    caption="Month-of-year pattern, borough level.",
)
st.caption(
    "Time of day is not published for recorded crime. Stop and search records do carry a time: see the "
    "Stop and search page for searches by day of week and hour."
)
