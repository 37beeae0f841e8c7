"""TTCG projector view: one 1920x1080 screen the Tactical Tasking and Co-ordination Group reads
from across the room: what is unusual this month, where, and how sure we are.

The view is set by the URL, e.g. ``/ttcg?month=2026-02&categories=robbery,burglary&ward=E05009333``
(``&map=robbery`` picks the category the map colours). Everything below the title refreshes
itself every five minutes, so a wall screen shows a data rebuild without a reload.
"""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from csp_data.ui import access, cache
from csp_data.ui import ttcg as data
from csp_data.ui.downloads import table_download

viewer = access.require_page(__file__)  # first: the role this page needs (csp_data.config.pages)

MAX_LINES = 6  # exception lines that fit in large type beside the map (the rest are summed up)
MAX_WARDS = 5  # flagged wards in the on-screen table (all 20 are in the expander below)
MAP_HEIGHT = 620  # with MAP_WIDTH, the left column at 1920x1080 (under an h2 heading): the borough is zoomed to fill it
MAP_WIDTH = 760
BADGE = {
    data.HIGH: ":red-background[HIGH]",
    data.MEDIUM: ":orange-background[MEDIUM]",
    data.LOW: ":gray-background[LOW]",
}
PARAMS = ("month", "categories", "ward", "map")

# A projector has no use for the navigation sidebar: start this page with it folded away
# (a later set_page_config call overrides only what it names; the chevron brings it back).
st.set_page_config(initial_sidebar_state="collapsed")


def _url_params() -> dict[str, str]:
    """The view's URL parameters as plain text (repeated keys joined by commas); nothing evaluated."""
    out = {}
    for name in PARAMS:
        values = st.query_params.get_all(name)
        if values:
            out[name] = ",".join(values) if name == "categories" else values[-1]
    return out


def _set_param(name: str, widget_key: str) -> None:
    """Widget callback: write the choice into the URL, so the address bar always shares this view."""
    value = st.session_state[widget_key]
    if isinstance(value, list):
        value = ",".join(value)
    if value:
        st.query_params[name] = value
    elif name in st.query_params:
        del st.query_params[name]
    if name == "categories" and st.query_params.get("map") not in (value or "").split(","):
        if "map" in st.query_params:  # the map follows the categories rather than warn about them
            del st.query_params["map"]


def _controls(view: data.View, months: list, wards: dict[str, str], map_cat: str) -> None:
    """Change the view without editing the URL: folded away in a popover, so the screen stays clean."""
    with st.popover("Change view", icon="⚙️"):
        month_opts = [f"{m:%Y-%m}" for m in reversed(months)]
        st.selectbox(
            "Month",
            month_opts,
            index=month_opts.index(f"{view.month:%Y-%m}"),
            key="ttcg_month",
            on_change=_set_param,
            args=("month", "ttcg_month"),
        )
        st.multiselect(
            "Categories",
            list(data.ALLOWED_CATEGORIES),
            default=list(view.categories),
            format_func=data.label,
            key="ttcg_categories",
            on_change=_set_param,
            args=("categories", "ttcg_categories"),
        )
        ward_opts = [""] + sorted(wards, key=wards.get)
        st.selectbox(
            "Ward to highlight",
            ward_opts,
            index=ward_opts.index(view.ward or ""),
            format_func=lambda c: wards.get(c, "None"),
            key="ttcg_ward",
            on_change=_set_param,
            args=("ward", "ttcg_ward"),
        )
        st.selectbox(
            "Map shows",
            list(view.categories),
            index=list(view.categories).index(map_cat),
            format_func=data.label,
            key="ttcg_map",
            on_change=_set_param,
            args=("map", "ttcg_map"),
        )
        st.caption(
            "The address bar holds this view: bookmark or share it. "
            + data.query_string(view.month, view.categories, view.ward, view.map_category)
        )


@st.fragment(run_every="5m")
def projector() -> None:
    """Everything data-driven; reruns on its own every five minutes, and its cached queries are
    keyed on the warehouse stamp, so a rebuild shows up here without a reload."""
    month_frame = data.months()
    months = data.selectable_months_from(month_frame)
    wards = {w.code: w.name for w in cache.wards()}
    view = data.resolve_view(_url_params(), months, wards)
    snapshot = data.month_snapshot(month_frame, view.month)

    frame = data.ward_expected(view.month, view.categories)
    items = data.exceptions(view.month, view.categories)
    map_cat = data.map_category(view, items)
    notes = data.coverage_notes(view.month)

    head, stamp, tools = st.columns([9, 9, 2], vertical_alignment="bottom")
    with head:
        st.title(f"TTCG · {data.fmt_month(view.month)}", anchor=False)
    with stamp:
        local = f"  \n**{access.LOCAL_NOTICE}**" if viewer.mode == "local" else ""
        st.markdown(
            f"**{snapshot}**  \nData for {data.age_words(view.month)}. "
            f"Checked {datetime.now():%H:%M}; refreshes every 5 minutes{local}"
        )
    with tools:
        _controls(view, months, wards, map_cat)
    for w in view.warnings:
        st.warning(w)

    # Heading levels never skip (h1 title; h2 map and exceptions; h3 lines and the ward table's
    # title): the map's heading comes first in reading order, so it is an h2 as well.
    left, right = st.columns([9, 11], gap="large")
    with left:
        st.markdown(f"## Map: {data.label(map_cat)} against expected", help=data.METHOD, anchors=False)
        emerging = data.lsoa_emerging(view.month, map_cat)
        spec = data.ratio_map(frame, map_cat, emerging, view.ward, MAP_HEIGHT, MAP_WIDTH)
        st.pydeck_chart(
            spec.deck,
            height=MAP_HEIGHT,
            key="ttcg_map_chart",
            alt=f"Map of wards coloured by {data.label(map_cat).lower()} against expected; "
            "the same figures are in the table",
        )
        st.markdown(
            "**▲ dark red: well above expected** · light red above · grey as expected · light blue below · "
            "**▼ dark blue: well below** · **NEW / INTENSIFYING**: hot-spot LSOAs"
            + (f" · **black outline: {wards[view.ward]}**" if view.ward else "")
        )
    with right:
        lines = data.display_lines(items)
        with st.container(key="ttcg-exceptions"):
            st.markdown(
                f"## {len(lines)} exception{'s, most urgent first' if len(lines) != 1 else ''}",
                anchors=False,
                help=data.METHOD,
            )
            if not lines:
                st.markdown("### Nothing unusual this month in the chosen categories.", anchors=False)
            for ln in lines[:MAX_LINES]:
                st.markdown(f"### {BADGE[ln.severity]} {ln.symbol} {ln.where}: {ln.text}", anchors=False)
            hidden = lines[MAX_LINES:]
            if hidden:
                st.markdown(
                    f"### + {len(hidden)} more, {hidden[0].severity_word.lower()} or lower: "
                    + "; ".join(ln.where for ln in hidden[:3])
                    + ("…" if len(hidden) > 3 else ""),
                    anchors=False,
                )
        table = data.grid(frame, view.categories, view.ward)
        n_flagged, keep = data.flagged_wards(table, view.ward, MAX_WARDS)
        if n_flagged:
            more = f", top {len(keep)}" if n_flagged > len(keep) else ""
            heading = f"Wards with a flag: {n_flagged}{more} · count (expected)"
        else:
            heading = "No ward has a flag" + (" · highlighted ward, count (expected)" if view.ward else "")
        st.markdown(f"### {heading}", anchors=False)
        if keep.empty:
            st.markdown(
                "#### Every ward is within the expected range in every chosen category.", anchors=False
            )
        else:
            st.markdown(data.grid_markdown(keep, short=True))

    st.caption(" ".join(notes + [data.lsoa_note(view.month, view.categories)]) + " " + data.METHOD_POINTER)
    with st.expander(f"All {len(table)} wards × {len(view.categories)} categories"):
        st.markdown(data.grid_markdown(table))
        st.caption(data.SHORT_NOTE)
        table_download(data.download_table(frame, view.month), f"ttcg-wards-{view.month:%Y-%m}")


projector()
