"""Is Tower Hamlets getting safer? The borough in plain English, priority by priority."""

import streamlit as st

from csp_data.ui import cache, site
from csp_data.ui.public import help_box, london_move, ordinal, public_headlines, public_value_text

plan = cache.plan()
rows = {r.measure.id: r for r in cache.borough_scorecard()}
results = cache.targets()
borough = site.borough_name()

STATUS_WORDS = {
    "on track": "On track",
    "off track": "Not on track",
    "too early to tell": "Too early to tell",
    "awaiting data": "No figures yet",
    "met": "Done",
}


def change_sentence(row) -> str:
    c = row.l12
    m = row.measure
    if c is None:
        return f"**{m.label}:** no figures yet."
    if c.change == 0:
        amount = "the same number as the year before"
    else:
        amount = (
            f"{abs(c.change):,d} {'more' if c.change > 0 else 'fewer'} than the year before "
            f"({abs(c.pct_change):.0f}% {'higher' if c.change > 0 else 'lower'})"
        )
    if c.significant:
        verdict = (
            "This is a real rise, bigger than normal ups and downs."
            if c.direction == "up"
            else "This is a real fall, bigger than normal ups and downs."
        )
    else:
        verdict = "This is within normal ups and downs, so it is not a real change."
    return (
        f"**{m.label}:** {c.current:,d} offences in the 12 months {row.last12.label}, {amount}. "
        f"{c.symbol} {verdict}"
    )


st.title(f"Is {borough} getting safer?")
if plan.loaded:
    st.markdown(
        f"Crime in {borough}, explained simply. For each of the four priorities in the Community Safety "
        "Plan 2025–2029, this page says what has changed over the last 12 months, whether the change is real or "
        "just normal ups and downs, what the Community Safety Partnership (the council, police, fire service, "
        "health services and probation) is doing, and how its targets for 2028 are going."
    )
else:
    st.markdown(
        f"Crime in {borough}, explained simply. For each of the dashboard's four priorities, this page says what "
        "has changed over the last 12 months and whether the change is real or just normal ups and downs."
    )
    st.info(site.no_plan_message())
st.info(
    "**How we decide if a change is real.** Crime numbers go up and down from month to month by chance. "
    "We use a statistical test to check whether a change is bigger than those normal ups and downs. "
    "▲ means a real rise, ▼ a real fall and ● no real change. The words always say the same as the symbol."
)

for prio in plan.priorities:
    st.header(f"Priority {prio.number}: {prio.title}", divider="gray", anchor=f"priority-{prio.number}")
    st.subheader("What has changed")
    sources = set()
    for mid in public_headlines(prio.number):
        row = rows.get(mid)
        if row is None:
            continue
        st.markdown(change_sentence(row))
        lon = cache.london_comparisons().get(mid, {}).get("l12")
        if lon is not None and lon.relative is not None:
            st.caption(
                f"Over the same months London {london_move(lon.london_pct)}: {borough} {lon.verdict}"
                + (f" (the comparison crosses the {', '.join(lon.straddles)})." if lon.straddles else ".")
            )
        if row.measure.short_definition:
            st.caption(f"What {row.measure.label.lower()} counts here: {row.measure.short_definition}")
        if row.measure.caveat:
            st.caption(row.measure.caveat)
        sources.add(f"{row.measure.source_name} ({row.snapshot})")
    if sources:
        st.caption("Source: " + "; ".join(sorted(sources)) + f". Police-recorded offences in {borough}.")
    if not plan.loaded:
        continue
    st.subheader("What the partnership is doing")
    st.markdown(prio.summary)
    st.markdown("\n".join(f"- {a}" for a in prio.actions))
    st.subheader("How the targets are going")
    mine = [r for r in results if r.target.priority == prio.number]
    for r in mine:
        words = STATUS_WORDS.get(r.status, r.status)
        figure = public_value_text(r)
        st.markdown(
            f"- **{words}** ({r.symbol}): {r.target.wording}"
            + (f" *Latest figure: {figure}.*" if figure else "")
        )
    police = [r for r in mine if r.target.kind == "police_count" and r.assessed_period is not None]
    if police:
        st.caption(
            "Police-recorded targets are judged on "
            + "; ".join(f"{r.target.label}: {r.assessed_period.label}" for r in police)
            + ", against a steady path from 2024-25 to the 2028 target. 'No figures yet' means the partnership "
            "has not yet published a figure for that target."
        )

st.header(f"How {borough} compares with London", divider="gray")
ranked = [r for r in rows.values() if r.rank]
if ranked:
    st.markdown(
        "\n".join(
            f"- {r.measure.label}: {ordinal(r.rank)} highest number of offences of {r.rank_of} London boroughs "
            f"({r.last12.label})"
            for r in ranked
        )
    )
    st.caption(
        "Counts, not rates: boroughs with more people, workers and visitors have more crime. "
        "Source: MPS recorded crime (London Datastore)."
    )

help_box()
