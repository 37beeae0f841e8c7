"""Hotspots and VOLT: where and when crime concentrates, whether a hotspot is real, and what the data
can say about victims, offenders, locations and times. Every filter is in the URL."""

import pandas as pd
import streamlit as st

from csp_data.analysis.areas import (
    COLOUR_BY,
    FIRST_LSOA_MONTH,
    GEOGRAPHIES,
    PERIOD_CHOICES,
    AnalysisError,
    concentration,
    resolve_period,
)
from csp_data.analysis.funnel import METHOD as FUNNEL_METHOD
from csp_data.analysis.hotspots import CAVEAT as GI_CAVEAT
from csp_data.analysis.hotspots import PERMUTATIONS as GI_PERMUTATIONS
from csp_data.analysis.hotspots import concentration_table, no_hotspot_sentence
from csp_data.analysis.hotspots import ranked as ranked_areas
from csp_data.config import settings
from csp_data.plan.periods import add_months, make
from csp_data.present import maps
from csp_data.present.charts import funnel_chart
from csp_data.present.exports import csv_bytes
from csp_data.ui import access, cache
from csp_data.ui import hotspots as hs
from csp_data.ui.components import caption_text, plain, plain_table
from csp_data.ui.priority import chart_block

viewer = access.require_page(__file__)  # first: the role this page needs (csp_data.config.pages)

cfg = settings()
st.title("Hotspots and VOLT analysis")
st.markdown(
    "Where and when crime concentrates in Tower Hamlets, and whether a hotspot is more than chance. Choose a "
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
period_choice = c2.selectbox("Period", PERIOD_CHOICES, index=2, key="period", bind="query-params")
geo = c3.radio("Areas", GEOGRAPHIES, index=1, key="areas", horizontal=True, bind="query-params")
c4, c5 = st.columns([2, 1.3])
colour = c4.radio("Colour the map by", COLOUR_BY, key="colour", horizontal=True, bind="query-params")
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
        months = [m.strftime("%Y-%m") for m in make(add_months(latest, -30), latest).months()]
        d1, d2 = st.columns(2)
        custom_from = d1.selectbox("From", months, index=len(months) - 12, key="from", bind="query-params")
        custom_to = d2.selectbox("To", months, index=len(months) - 1, key="to", bind="query-params")
    period = resolve_period(period_choice, latest, custom_from, custom_to)
    table = hs.area_table(cat, period, geo, ward)
except AnalysisError as exc:
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
share, k = concentration(table["count"])
AREA_WORD = {"LSOAs": "LSOAs", "Wards": "wards"}
st.markdown(
    f"The busiest **{k} of {len(table)}** {AREA_WORD[geo]} (the top 10%) hold **{share:.0%}** of these offences."
)
ranked = table.copy()
if gi is not None:
    ranked = ranked.merge(gi[["code", "z", "q", "klass"]], on="code", how="left")
ranked["verdict"] = ranked["symbol"] + " " + ranked["verdict"]
names = {w.code: w.name for w in wards}
ranked["ward"] = ranked["ward_code"].map(names)
cols = {
    "name": "Area",
    "ward": "Ward",
    "count": f"Offences {period.label}",
    "previous": f"Before ({prev_label})",
    "change": "Change",
    "verdict": "Is the change real?",
    "rate_per_1000": "Per 1,000 residents",
}
if gi is not None:
    cols.update({"klass": "Hot spot test (Gi*, FDR)", "z": "Gi* z"})
show = ranked[list(cols)].rename(columns=cols)
if geo == "Wards":
    show = show.drop(columns=["Ward"])
plain_table(
    show.head(40),
    download=None,
    caption=f"Most offences first; {min(40, len(show))} of {len(show)} areas shown. "
    "Download the table for all of them. " + table.attrs.get("method", ""),
)
st.download_button(
    "Download the area table (CSV)",
    csv_bytes(ranked.drop(columns=["symbol"])),
    file_name=f"hotspots-{geo.lower()}-{period.label}.csv",
    mime="text/csv",
)

# ------------------------------------------------------------------ hot spots and persistence
if gi is not None:
    st.header("Are the hot spots real?", divider="gray")
    n_lsoas = len(gi)
    counts = gi["klass"].value_counts()
    found = [f"{counts[kl]} {kl}" for kl in maps.HOTSPOT_COLOURS if kl != "not significant" and kl in counts]
    st.markdown(
        "Getis-Ord Gi* compares each LSOA and its neighbours (LSOAs that touch it) with the whole borough. "
        f"Whether a cluster could be chance is judged by rearranging the other LSOAs' counts at random "
        f"{gi.attrs.get('permutations', GI_PERMUTATIONS):,d} times around each LSOA (conditional permutation), then "
        f"allowing for {n_lsoas} LSOAs tested at once (false discovery rate): an LSOA is a 95% hot spot only when its "
        "adjusted q is below 0.05."
    )
    if found:
        st.markdown(f"For {shown_lower} in {period.label}: **{', '.join(found)}**.")
    else:
        st.markdown(
            f"For {shown_lower} in {period.label}: **{no_hotspot_sentence(n_lsoas)}** "
            f"The lowest adjusted q is {gi['q'].min():.2f} (a 90% hot spot needs below 0.10). Clusters that "
            "look hot on the map are within what chance rearrangements of these counts produce."
        )
    st.caption(GI_CAVEAT)
    st.subheader("What the figures do show")
    whole = hs.area_table(cat, period, "LSOAs", None)
    conc = concentration_table(whole["count"], whole["previous"] if prev_label else None)
    share_now = f"Share of offences, {period.label}"
    share_before = f"Share, {prev_label}" if prev_label else "Share, previous period"
    plain_table(
        pd.DataFrame(
            {
                "Busiest LSOAs": [f"Top {r.top_pct}%" for r in conc.itertuples()],
                "LSOAs": conc["areas"],
                share_now: [f"{v:.0%}" if pd.notna(v) else "no offences" for v in conc["share_now"]],
                share_before: [f"{v:.0%}" if pd.notna(v) else "not held" for v in conc["share_before"]],
            }
        ),
        caption=f"How concentrated {shown_lower} is: the share of all offences in the busiest LSOAs (each period "
        "ranks its own busiest). A description, not a test, so it needs no allowance for chance.",
    )
    r1, r2 = st.columns(2)
    for col, by, heading in (
        (r1, "count", "Most offences"),
        (r2, "rate", "Highest rate per 1,000 residents"),
    ):
        top = ranked_areas(whole, by, 10)
        top["ward"] = top["code"].map(whole.set_index("code")["ward_code"]).map(names)
        with col:
            plain_table(
                top[["rank", "name", "ward", "count", "population", "rate_per_1000"]]
                .rename(
                    columns={
                        "rank": "Rank",
                        "name": "LSOA",
                        "ward": "Ward",
                        "count": "Offences",
                        "population": "Residents",
                        "rate_per_1000": "Per 1,000 residents",
                    }
                )
                .round({"Per 1,000 residents": 1}),
                caption=f"{heading}, {period.label}. Residents: Census 2021.",
            )
    caption_text(
        f"Source: MPS recorded crime at LSOA level (London Datastore), {period.label}; "
        f"{hs.snapshot('LSOAs')}."
    )
    lsoa_last = hs.latest("LSOAs")
    start = max(add_months(lsoa_last, -23), FIRST_LSOA_MONTH)
    em = hs.emerging(cat, start, lsoa_last, 3)
    st.subheader("Hot spots over time")
    st.markdown(
        f"Quarter by quarter from {start:%b %Y} to {lsoa_last:%b %Y}: how often each LSOA was a hot spot "
        "(the same test as above, quarter by quarter), and whether its Gi* score is rising or falling."
    )
    em_counts = (
        em["emerging"]
        .value_counts()
        .reindex(
            ["new", "intensifying", "persistent", "diminishing", "sporadic", "historical", "none"],
            fill_value=0,
        )
    )
    plain_table(
        em_counts.rename_axis("Class").reset_index(name="LSOAs"),
        caption="new: hot only in the latest quarter; intensifying / persistent / diminishing: hot in nearly "
        "every quarter with a rising / steady / falling score; sporadic: on and off; historical: hot "
        "before but not now.",
    )
    notable = em[em["emerging"] != "none"].copy()
    if len(notable):
        lsoa_names = hs.shapes("LSOAs").set_index("code")["name"]
        lsoa_ward = hs.shapes("LSOAs").set_index("code")["ward_code"].map(names)
        notable["Area"] = notable["code"].map(lsoa_names)
        notable["Ward"] = notable["code"].map(lsoa_ward)
        plain_table(
            notable[["Area", "Ward", "emerging", "hot_periods", "z_final"]]
            .rename(
                columns={
                    "emerging": "Class",
                    "hot_periods": "Quarters as a hot spot",
                    "z_final": "Latest Gi* z",
                }
            )
            .sort_values("Quarters as a hot spot", ascending=False),
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
        funnel_chart(f_areas, f_limits, f"{label}: rate by {AREA_ONE[geo]}, {period.label}", AREA_ONE[geo]),
        key=f"funnel-{geo.lower()}",
        table_caption="Each area with its own 95% and 99.8% limits.",
        name=f"funnel-{geo.lower()}-{period.label}",
    )
    st.caption(FUNNEL_METHOD + " Residents are not the people at risk everywhere (see the caveat above).")
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
    held = pts["month"].nunique() if len(pts) else 0
    if pts.empty:
        st.info(f"No police.uk burglary records are held for {period.label}.")
    else:
        show_pts = st.checkbox("Also show each snap point", key="snap", bind="query-params")
        hx = maps.hexbins(pts, outline=outline, show_points=show_pts)
        st.pydeck_chart(hx.deck, height=520)
        st.caption(
            f"{len(pts):,d} burglary records in {held} of {period.n_months} months of {period.label}, "
            "binned into hexagons about 150 m across (darker: more records)."
        )
        by_ward = pts.assign(Ward=pts["ward_code"].map(names)).groupby("Ward", as_index=False).size()
        plain_table(
            by_ward.rename(columns={"size": "Records"}).sort_values("Records", ascending=False),
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
    months_held = int(vic["months"].max())
    plain_table(
        vic.rename(
            columns={
                "crime_type": "Type",
                "subtype": "Measure",
                "offences": "Offences or victims",
                "positive_outcomes": "Positive outcomes",
                "positive_outcome_rate_pct": "Positive outcome rate %",
                "months": "Months held",
            }
        ),
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
    out["share_pct"] = out["share_pct"].round(1)
    plain_table(
        out.rename(columns={"last_outcome": "Last outcome", "records": "Burglaries", "share_pct": "Share %"}),
        caption="police.uk 'last outcome' as published; recent crimes are often still under investigation.",
    )
st.subheader("Location")
top = table.head(5)
st.markdown(
    f"The top 10% of {AREA_WORD[geo]} hold **{share:.0%}** of {shown_lower} offences; the busiest are "
    + ", ".join(f"{plain(r.name)} ({r.count})" for r in top.itertuples())
    + "."
)
st.subheader("Time")
sea = hs.seasonality(cat)
peak, low = sea.loc[sea["index"].idxmax()], sea.loc[sea["index"].idxmin()]
st.markdown(
    f"Across the borough ({sea.attrs.get('span', '')}), {shown_lower} peaks in **{peak.month_name}** "
    f"({peak['index']:.0f}, where 100 is an average month) and is lowest in **{low.month_name}** "
    f"({low['index']:.0f})."
)
plain_table(
    sea.assign(mean=sea["mean"].round(1), index=sea["index"].round(0))
    .rename(
        columns={
            "month_name": "Month",
            "mean": "Average offences",
            "index": "Index (100 = average)",
            "years": "Years",
        }
    )
    .drop(columns=["calendar_month"]),
    caption="Month-of-year pattern, borough level.",
)
st.caption(
    "Time of day is not published for recorded crime. Stop and search records do carry a time: see the "
    "Stop and search page for searches by day of week and hour."
)
