"""The shared frame every page gets: warehouse bootstrap with progress, sidebar coverage."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from csp_data.config import settings
from csp_data.present.formatting import md_plain as md_escape  # data and addresses: literal, never a link
from csp_data.ui import access, cache
from csp_data.warehouse import build, db


def ensure_warehouse() -> None:
    """Build the warehouse on first start, or when the sources are newer, showing progress."""
    cfg = settings()
    stale, why = build.is_stale(cfg)
    if not stale:
        return
    if cfg.mode == "public":
        # The public process never builds: building reads point-level and other restricted source
        # files. The data is prepared by an internal process first (make run-public does both).
        st.error("The published figures are being updated. Please try again later.")
        st.stop()
    bar = st.progress(0.0, text=f"Preparing the data ({why})…")

    def show(f: float, msg: str) -> None:
        bar.progress(min(max(f, 0.0), 1.0), text=msg)

    try:
        build.ensure_built(cfg, progress=show)
    except Exception as exc:
        bar.empty()
        st.error(f"The data could not be prepared: {exc}. The previous data (if any) is unchanged.")
        st.stop()
    db.reset()
    cache.clear()
    bar.empty()


def _freshness(span) -> list:
    """Freshness of the datasets in ``span`` (csp_data/warehouse/freshness.py); none if publishers.toml is unusable."""
    from csp_data.warehouse import catalogue, freshness

    try:
        state = catalogue.load_state(settings())
        return freshness.status(dict(zip(span["dataset"], span["last_month"])), state=state)
    except (catalogue.UsageError, OSError, ValueError):
        return []


def sidebar_coverage(main_line: bool = True) -> None:
    """Coverage and snapshot of each dataset, in the sidebar of every page; with ``main_line``, one
    short line at the top of the page when a source is behind what should by now be published
    (the wall screen says how old its month is in its own header instead)."""
    from csp_data.warehouse import freshness

    cfg = settings()
    # Staff see every dataset's span; the public (and signed-out staff) the published ones only.
    name = "meta/data_span" if access.can("analyst") else "meta/data_span_public"
    span = cache.query(name, borough_code=cfg.borough_code)
    fresh = {f.dataset: f for f in _freshness(span)}
    if main_line and (line := freshness.behind_line(list(fresh.values()))):
        st.caption(line)
    labels = {
        "crime_borough": "Recorded crime (borough)",
        "crime_ward": "Recorded crime (wards)",
        "crime_lsoa": "Recorded crime (LSOAs)",
        "dashboard": "MPS crime dashboard",
        "business_crime": "Business crime",
        "street_crime": "police.uk street crime",
        "stop_search": "Stop and search",
    }
    with st.sidebar:
        st.markdown(f"**Data coverage: {cfg.borough_name}**")
        lines = []
        for row in span.itertuples():
            if row.dataset not in labels:
                continue
            if row.first_month is None or pd.isna(
                row.first_month
            ):  # e.g. police.uk for a borough with no files
                lines.append(f"- {labels[row.dataset]}: awaiting data (none held for {cfg.borough_name})")
                continue
            f = fresh.get(row.dataset)
            late = (
                f" — about {f.months_behind} month{'s' if f.months_behind != 1 else ''} behind"
                if f and f.behind
                else ""
            )
            lines.append(
                f"- {labels[row.dataset]}: {row.first_month:%b %Y} to **{row.last_month:%b %Y}**{late}  \n"
                f"  _{md_escape(row.snapshot)}_"  # the manifest's words: plain text
            )
        st.markdown("\n".join(lines))
        st.caption("Police figures are snapshots: later extracts revise recent months slightly.")
