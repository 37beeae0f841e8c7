"""Stop and search (internal): who is searched, for what, with what result, when and where.

Plan priority 4 asks the partnership to understand stop-and-search disproportionality. The figures
come from the police.uk stop-and-search records held for the borough; the rules behind them are
documented in csp_data/analysis/stop_search.py and repeated here in plain words.
"""

import streamlit as st

from csp_data.ui import access, cache
from csp_data.ui import stop_search as data
from csp_data.ui.components import plain, plain_table
from csp_data.ui.priority import chart_block

viewer = access.require_page(__file__)  # first: the role this page needs (csp_data.config.pages)

SOURCE = "Source: police.uk stop and search (Home Office, Open Government Licence v3.0)"

st.title("Stop and search")
st.markdown(
    "Who the police searched in the borough, what they were looking for, what happened next, and when and "
    "where the searches took place, from the Metropolitan Police's published stop-and-search records. "
    "This page is for partnership analysts: it is not part of the public site."
)

if not data.held():  # no records for this borough (police.uk files cover one borough each)
    st.info(data.awaiting_text())
    st.stop()

cov = data.coverage()
st.markdown(
    f"**Data held:** {cov.searches:,d} searches from {cov.first_month:%B %Y} to **{cov.last_month:%B %Y}** "
    f"({cov.months_held} months). _{cov.snapshot}._"
)
notes = []
if cov.missing:
    notes.append(
        f"No records were published for {len(cov.missing)} months: "
        + ", ".join(data.month_runs(cov.missing))
        + "."
    )
if cov.incomplete:
    notes.append(
        "Far fewer records than usual in "
        + ", ".join(data.month_runs(cov.incomplete))
        + ": most searches in those months had no location, so they could not be placed in the borough."
    )
notes.append(
    "The published file has no area column: a search counts here when its map point falls inside the "
    "borough, so searches recorded without a location are not in these figures at all."
)
st.caption(" ".join(notes))

# ----------------------------------------------------------------------------------- filters

monthly_all = data.monthly("")
choices = {c.key: c for c in data.period_choices(monthly_all)}
ward_names = {w.code: w.name for w in cache.wards()}
c1, c2, c3 = st.columns([2, 2, 1.4])
with c1:
    key = st.selectbox("Period", list(choices), format_func=lambda k: choices[k].label, key="ss-period")
with c2:
    ward = st.selectbox(
        "Ward",
        [""] + sorted(ward_names, key=ward_names.get),
        format_func=lambda c: "All wards (whole borough)" if c == "" else ward_names[c],
        key="ss-ward",
    )
with c3:
    basis = st.radio(
        "Ethnicity as",
        ["self", "officer"],
        key="ss-basis",
        format_func=data.BASIS_LABELS.get,
    )
choice = choices[key]
period = choice.period
where = "the whole borough" if not ward else ward_names[ward]
place = "" if not ward else f", {ward_names[ward]}"
when = choice.period.label if choice.key != "all" else "all data held"
if not choice.complete:
    st.caption(
        f"{choice.label}: some months in this period have no published records, so its figures cover only "
        "the months held and its total should not be compared with a full period."
    )

head = data.headline(choice, ward)

# ----------------------------------------------------------------------------------- headline

st.header(f"Searches in {when}{place}", divider="gray")
if head.searches == 0:
    st.info(f"No searches are recorded for {where} in {when}.")
    st.stop()
m1, m2 = st.columns(2)
with m1:
    if head.previous is not None:
        st.metric(
            f"Searches ({period.label})",
            f"{head.searches:,d}",
            delta=f"{head.change_figures} vs {head.previous.label}",
            delta_color="off",
        )
        st.caption(head.change_words)
    else:
        st.metric(f"Searches ({when})", f"{head.searches:,d}")
        st.caption(
            "No comparison with the period before: one of the two periods has months with no published records."
        )
with m2:
    st.metric("Find rate (outcome other than no further action)", f"{head.find_pct:.1f}%")
    st.caption(
        f"{head.found:,d} of {head.recorded:,d} searches; "
        f"95% interval {head.find_low * 100:.1f}% to {head.find_high * 100:.1f}%."
    )

# ----------------------------------------------------------------------------------- who


def breakdown(dim: str, note: str = "") -> None:
    title = data.DIMENSIONS[dim].title
    chart_block(
        data.breakdown_for(
            period.start, period.end, ward, dim, f"Searches by {title.lower()}, {when}{place}"
        ),
        key=f"bd-{dim}",
        table_caption=f"{SOURCE}. {note}".strip(),
        name=f"stop-search-by-{dim}-{period.start:%Y-%m}-{period.end:%Y-%m}{('-' + ward) if ward else ''}",
    )


st.header("Who was searched", divider="gray")
st.subheader("Ethnicity as the person described it (grouped)")
breakdown("self", "Grouped from the self-defined text: see the rules below.")
with st.expander("How self-defined ethnicity is grouped"):
    st.markdown(
        "police.uk publishes the person's own answer as text, in two spellings over the years (for example "
        "'Asian/Asian British - Bangladeshi' and 'Asian or Asian British - Bangladeshi (A3)'). Each answer is put "
        "in one of the five broad groups the ONS used for the 2021 Census (Asian, Black, Mixed, White, Other) or "
        "'Not stated', by these rules, applied in order:"
    )
    plain_table(data.rules_table())
    mapping = data.mapping_for(period.start, period.end, ward)
    if unmapped := data.unmapped_answers(mapping):
        st.warning("Some answers match no rule and are shown as 'Unmapped': " + ", ".join(unmapped))
    plain_table(mapping, download=None, caption=f"Every self-defined answer in {when}{place} and its group.")
    data.download(
        mapping, "the grouping of every answer", f"ethnicity-mapping-{period.start:%Y-%m}-{period.end:%Y-%m}"
    )
st.subheader("Ethnicity as the officer saw it")
breakdown("officer", "The officer's view has four groups and no Mixed group.")
st.caption(
    "The two ethnicity fields often disagree: many people who are recorded by the officer as Asian, Black or "
    "White did not state their own ethnicity. Neither field is complete on its own."
)
st.subheader("Age and gender")
breakdown("age")
breakdown("gender")
st.caption(
    "'Other' gender is rare in the records until February 2024 (a handful a year) and then about 18% of searches "
    "from March 2024 to August 2024. That looks like a change in how the Met records or publishes gender, not a change "
    "in who is searched, so compare gender shares across that date with care."
)

# ----------------------------------------------------------------------------------- what for / result

st.header("What for, and with what result", divider="gray")
breakdown("object", "The object is what the officer was looking for, which sets the legal power used.")
breakdown("outcome")

st.header("Searches month by month", divider="gray")
chart_block(
    data.monthly_chart(data.monthly(ward), f"Stop and search per month{place}"),
    key="trend",
    table_caption=f"{SOURCE}. {cov.snapshot}.",
    name=f"stop-search-monthly{('-' + ward) if ward else ''}",
)
st.caption(
    "This chart shows every month held, whatever period is chosen above. The 12-month average is drawn only "
    "where all 12 months are fully published; gaps are months with no published records."
)

# ----------------------------------------------------------------------------------- find rate

st.header("Find rate: what happened after a search", divider="gray")
st.markdown(
    "The **find rate** is the share of searches whose recorded outcome is anything other than **no further "
    'action**. police.uk has used two wordings for that: *"Nothing found - no further action"* (to December '
    '2017) and *"A no further action disposal"* (from January 2018). Every other outcome counts as a find: '
    "arrest, summons, caution, community resolution, penalty notice, drugs or khat warning, local resolution and "
    '"article found". It is an outcome rate, not proof that the item looked for was found.'
)
st.markdown(
    "**Is a difference real?** Each group is compared with all the other groups together using Fisher's exact "
    "test, and the p-values are adjusted for comparing several groups at once (Benjamini-Hochberg). A difference is "
    "called *clear* when the adjusted p-value is below 0.05. The bars show 95% intervals: when a group's interval "
    "does not overlap the others' the difference is clear, but overlapping intervals do not prove there is none."
)

eth_title = data.DIMENSIONS[basis].title


def rate_block(dim: str, measure: str, what: str, count_label: str, title: str, name: str) -> None:
    rates = data.rates(period.start, period.end, ward, dim, measure)
    if rates.empty:
        st.info(f"No searches in {when}{place} have this recorded.")
        return
    chart_block(
        data.rate_chart(rates, dim, title, count_label),
        key=f"rate-{name}",
        table_caption=f"{SOURCE}. n = searches with this recorded.",
    )
    for sentence in data.rate_sentences(rates, what):
        st.markdown(f"- {plain(sentence)}")  # names groups from the police.uk files: plain text
    shown, table = data.rate_tables(rates, dim, count_label)
    plain_table(
        shown,
        download=None,
        caption="Rate with its 95% Wilson interval; 'Other groups' is every other group together; "
        "p from Fisher's exact test of this group against the rest; adjusted p across the "
        "groups (Benjamini-Hochberg).",
    )
    data.download(
        table,
        f"the table: {title}",
        f"{name}-{period.start:%Y-%m}-{period.end:%Y-%m}{('-' + ward) if ward else ''}",
    )


st.subheader(f"Find rate by {eth_title.lower()}")
rate_block(
    basis,
    "found",
    "a find",
    "Searches with a find",
    f"Find rate by {eth_title.lower()}, {when}{place}",
    f"find-{basis}",
)
st.subheader("Find rate by object of search")
rate_block(
    "object",
    "found",
    "a find",
    "Searches with a find",
    f"Find rate by object of search, {when}{place}",
    "find-object",
)

st.subheader("Outcome linked to the object of search")
linked = data.rates(period.start, period.end, ward, basis, "linked")
st.markdown(
    "police.uk also says whether the outcome was **linked to what the officer was looking for** (for example, an "
    "arrest for possessing the drugs searched for). That is a stricter measure of a search's grounds than the find "
    "rate. Searches where the field is blank are left out of it."
)
if linked.empty:
    st.info(
        f"The Met did not fill in this field for any search in {when}{place}, so there is no linked rate. "
        "It is filled in only from February 2024 in the data held."
    )
else:
    if linked.attrs["k"] == 0:
        st.warning(
            f"Every one of the {linked.attrs['n']:,d} searches with this field filled in is recorded as **not** linked, "
            "including searches that ended in arrest. That looks like how the Met publishes the field, not a real "
            "finding: treat the 0% below as 'not usable', not as 'no search was linked'."
        )
    rate_block(
        basis,
        "linked",
        "an outcome linked to the object of search",
        "Searches with a linked outcome",
        f"Linked outcome rate by {eth_title.lower()}, {when}{place}",
        f"linked-{basis}",
    )
    rate_block(
        "object",
        "linked",
        "an outcome linked to the object of search",
        "Searches with a linked outcome",
        f"Linked outcome rate by object of search, {when}{place}",
        "linked-object",
    )

# ----------------------------------------------------------------------------------- disproportionality

st.header("Disproportionality: search rates by ethnic group", divider="gray")
st.markdown(
    "Whether one ethnic group is searched more than another, **relative to how many people of that group live "
    "here**, needs the number of residents in each ethnic group: searches per 1,000 residents of each group. "
    "The share of searches alone cannot say this, because the groups are of different sizes."
)
rates = data.ethnic_rates(period.start, period.end, basis)
if rates is None:
    st.info(data.awaiting_ethnicity_sentence() + " No search rate by ethnic group is shown.")
else:
    b_rates, l_rates = rates
    b_months, l_months = data.months_held(period.start, period.end)
    st.markdown(
        f"Searches per 1,000 residents of each group, {when}, for the whole borough (the ward filter does not "
        f"apply) beside London (the 32 boroughs the Met covers). Residents: **{data.POPULATION_LABEL}**. "
        f"Ethnicity as: {data.RATE_BASES[basis].lower()}. The **ratio** is a group's rate divided by the White "
        "group's rate (1 = searched at the same rate), with a 95% interval (exact, for the ratio of two "
        "Poisson rates)."
    )
    if choice.key == "all" or not choice.complete or b_months != l_months:
        st.caption(
            f"Rates are over the months held, not per year: {b_months} months for the borough and {l_months} "
            "for London in this period."
        )
    chart_block(
        data.ratio_chart(b_rates, l_rates, f"Search rate against the White group's, by ethnic group, {when}"),
        key=f"ratio-{basis}",
        table_caption=f"{SOURCE}; residents: Census 2021 TS021 (ONS). {cov.snapshot}.",
        name=f"stop-search-ratio-{basis}-{period.start:%Y-%m}-{period.end:%Y-%m}",
    )
    for sentence in data.ratio_sentences(b_rates, l_rates):
        st.markdown(f"- {plain(sentence)}")
    shown, table = data.rates_tables(b_rates, l_rates)
    plain_table(
        shown,
        download=None,
        caption=f"Searches per 1,000 residents ({data.POPULATION_LABEL}), {when}. {SOURCE}; residents: ONS "
        f"Census 2021 TS021. {cov.snapshot}.",
    )
    data.download(table, "the rates table", f"rates-{basis}-{period.start:%Y-%m}-{period.end:%Y-%m}")
    st.caption(data.excluded_sentence(b_rates, l_rates))
    if basis == "officer":
        st.caption(
            "The officer's view has no Mixed group: people of Mixed ethnicity are recorded in one of the four "
            "other groups, so no Mixed rate is given and the other groups' rates are slightly too high."
        )
    st.markdown(
        "**Read with care.** Residents are not the people present: many people searched here are visitors, "
        "workers or people passing through (the borough's daytime population is larger than its residents, "
        "and its mix differs), so a rate per resident is not the chance that a resident is searched. The "
        "population is as counted in March 2021. Searches the Met recorded with no location are in no "
        "borough's figures, and a point near the borough's edge may belong to its neighbour."
    )
    st.subheader("Year by year")
    years = data.yearly_rates(basis)
    plain_table(
        years,
        caption=f"Searches per 1,000 residents ({data.POPULATION_LABEL}) and the ratio to the White group, each "
        f"financial year with data, whole borough beside London. A year with fewer months held has lower rates. "
        f"{SOURCE}; residents: ONS Census 2021 TS021. {cov.snapshot}.",
        download=None,
    )
    data.download(years, "the year-by-year rates", f"rates-by-year-{basis}")
    with st.expander("Records that could not be placed, month by month (Met-wide)"):
        plain_table(
            data.unplaced_table(),
            caption="Every Met stop-and-search record of each month held, by where its map point falls. Records "
            "with no location cannot be placed in any borough: they are in the London count of no month. "
            f"{SOURCE}. {cov.snapshot}.",
            download=None,
        )
st.markdown(
    "The **find rate comparison above does not need population figures**: it compares what happened to the people "
    "who *were* searched, group by group. A lower find rate for one group would suggest searches of that group "
    "rest on weaker grounds; it says nothing about how often that group is searched compared with its share of "
    "residents. Residents are also not the only people searched here: many searches are of visitors and people "
    "passing through."
)

# ----------------------------------------------------------------------------------- when

st.header("When searches happen", divider="gray")
chart_block(
    data.heatmap_chart(
        data.heatmap(period.start, period.end, ward), f"Searches by day of the week and hour, {when}{place}"
    ),
    key="heatmap",
    table_caption=f"{SOURCE}. Hours in UK local time.",
    name=f"stop-search-day-hour-{period.start:%Y-%m}-{period.end:%Y-%m}{('-' + ward) if ward else ''}",
)
st.caption(
    "Times are as police.uk publishes them (stated in UTC and shown here in UK local time). Many are "
    "rounded to the hour or half hour, and the time recorded may not be the exact time of the search."
)

# ----------------------------------------------------------------------------------- where

st.header("Where searches happen", divider="gray")
spec, no_location, of = data.hex_map(period.start, period.end, ward)
st.caption(
    f"Locations are anonymised to the nearest of a set of map points; searches with no location are "
    f"excluded: {no_location:,d} of {of:,d}. (Searches the Met recorded with no location at all could not be "
    "placed in the borough and are not in these figures.)"
)
if spec is None:
    st.info(f"No search in {when}{place} has a location.")
else:
    st.pydeck_chart(spec.deck, height=560)
    st.caption(
        f"Map description: hexagons about 300 m across shaded by the number of searches at the map points "
        f"inside them, {of - no_location:,d} searches in {when}{place}; palest: fewest, darkest: most. The same "
        "figures by ward are in the table below. Hover over a hexagon for its count."
    )
    plain_table(spec.legend, caption="Map colours", download=None)
shown, table = data.ward_tables(data.wards(period.start, period.end))
plain_table(
    shown,
    download=None,
    caption=(
        f"Searches by ward, {when}, all wards (the ward filter does not apply to this table). The rate per 1,000 "
        "residents is a guide only: people searched in a ward often do not live there, especially around Whitechapel "
        "and Brick Lane."
    ),
)
data.download(table, "the ward table", f"wards-{period.start:%Y-%m}-{period.end:%Y-%m}")
st.caption(SOURCE + ".")
