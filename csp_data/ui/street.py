"""Internal blocks built on police.uk street-level records (staff-only data): the anti-social
behaviour held, and police.uk beside MPS for the same month and category. Kept apart from
``ui/priority.py``, which public pages import, so public code never names a restricted query."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from csp_data.plan.periods import make
from csp_data.ui import cache
from csp_data.ui.components import plain_table


@cache.warehouse_cached(max_entries=4, by="staff")
def _street_counts() -> pd.DataFrame:
    from csp_data.analysis import publisher_gap as publishers

    return publishers.street_counts()


@cache.warehouse_cached(max_entries=4, by="staff")
def _publisher_pairs() -> pd.DataFrame:
    from csp_data.analysis import publisher_gap as publishers

    return publishers.compare(counts=publishers.street_counts())


def asb_block() -> None:
    """What police.uk anti-social behaviour data is held: counts per month, a density map (offline
    pydeck hexagons over the ward outlines) with a table alternative, and why no trend is shown."""
    from csp_data.analysis import publisher_gap as publishers

    counts = _street_counts()
    asb = publishers.asb_summary(counts)
    if asb.empty:
        st.markdown(
            "**Anti-social behaviour:** awaiting data. police.uk publishes ASB incidents in its monthly "
            "street-level files, which an analyst can add with `python -m csp_data ingest`."
        )
        return
    months = [m.strftime("%b %Y") for m in asb["month"]]
    st.markdown(
        f"**Anti-social behaviour (police.uk):** {len(asb)} months are held — {' and '.join(months)} — from the two "
        "all-crime police.uk street-level files embedded here. ASB incidents are not police recorded crime and the "
        "MPS files hold none, so these are the only ASB figures. Two separate months cannot show a trend: that "
        "needs a run of consecutive months (add them with `python -m csp_data ingest`)."
    )
    table = pd.DataFrame(
        {
            "Month": months,
            "ASB records": asb["records"].astype(int),
            "Distinct lines": asb["distinct_lines"].astype(int),
            "Placed in the borough": asb["inside"].astype(int),
        }
    )
    plain_table(
        table,
        download="asb-records-held",
        caption=(
            "Source: data.police.uk street-level files (Open Government Licence v3.0), snapshots as embedded. police.uk "
            "publishes ASB without a Crime ID, so identical lines (same snap point and month) may be separate incidents: "
            "they are counted as published, with the number of distinct lines beside them."
        ),
    )
    asb_month_map(months, list(asb["month"]))


@st.fragment
def asb_month_map(months: list[str], month_starts: list) -> None:
    """The month chooser and its hexbin map: a fragment, so choosing a month redraws this map only."""
    from csp_data.analysis import publisher_gap as publishers
    from csp_data.present import maps
    from csp_data.ui import hotspots as hs  # restricted loaders: staff pages only (module doc)

    choice = st.radio("ASB month to map", months, index=len(months) - 1, horizontal=True, key="p1-asb-month")
    month = month_starts[months.index(choice)]
    pts = hs.points(publishers.ASB, make(month, month), None)
    if pts.empty:
        st.info(f"No located ASB records are held for {choice}.")
        return
    outline = hs.shapes("Wards")
    hx = maps.hexbins(pts, outline=outline)
    st.pydeck_chart(hx.deck, height=460)
    st.caption(
        f"{len(pts):,d} ASB records in {choice}, binned into hexagons about 150 m across (darker: more "
        "records), with ward boundaries. Points are police.uk's anonymised snap points, not addresses."
    )
    by_ward = pts.assign(Ward=pts["ward_code"].map(outline.set_index("code")["name"]))
    by_ward = by_ward.groupby("Ward", as_index=False).size().rename(columns={"size": "ASB records"})
    plain_table(
        by_ward.sort_values(["ASB records", "Ward"], ascending=[False, True]),
        download=f"asb-by-ward-{month:%Y-%m}",
        caption=f"The same ASB records by ward, {choice} (the table equivalent of the map).",
    )


def two_publishers_block(measure_ids: list[str]) -> None:
    """Where police.uk and the MPS both publish a month and category: both figures and why they differ."""
    from csp_data.analysis import publisher_gap as publishers

    pairs = _publisher_pairs()
    pairs = pairs[pairs.measure_id.isin(measure_ids)]
    if pairs.empty:
        return
    table = pd.DataFrame(
        {
            "Month": [m.strftime("%b %Y") for m in pairs["month"]],
            "Category": pairs["category"],
            "police.uk records": pairs["police_uk"],
            "MPS recorded crime": pairs["mps"],
            "MPS minus police.uk": pairs["difference"],
            "police.uk categories": pairs["police_uk_types"],
        }
    )
    plain_table(
        table,
        download="police-uk-and-mps",
        caption=(
            "The same month and category from two publishers: data.police.uk street-level records (the borough's "
            "snap points) and the MPS recorded crime borough file ("
            + str(pairs["mps_snapshot"].iloc[0])
            + "). "
            + publishers.WHY
            + " Headline figures on this dashboard use the MPS file."
        ),
    )
