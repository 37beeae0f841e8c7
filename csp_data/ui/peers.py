"""Peer boroughs beside the London rank on the Overview: the borough's rate per 1,000 residents for
each ranked police-recorded measure against the boroughs most like it
(:mod:`csp_data.analysis.peers`). Public: aggregates over boroughs only."""

from __future__ import annotations

import pandas as pd

from csp_data.analysis import peers
from csp_data.config import settings
from csp_data.present.formatting import md_link
from csp_data.ui import cache

SOURCE = peers.SOURCE
K = peers.K


@cache.warehouse_cached(max_entries=8)
def peer_group() -> peers.PeerGroup | None:
    """The configured borough's peer group, or None when the features are not held."""
    return peers.peer_group(cache.query("peers/features"), settings().borough_code)


@cache.warehouse_cached(max_entries=8)
def comparison() -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """(one row per measure: the borough's rate per 1,000 against its peers'; every borough of the
    group's rate per measure; one sentence per measure) for the scorecard's measures with a London
    rank (police-recorded crime, the same 12 months as the rank)."""
    group = peer_group()
    if group is None:
        return pd.DataFrame(), pd.DataFrame(), []
    raw = cache.query("peers/features")
    out = []
    priority_of: dict[str, int] = {}
    for r in cache.borough_scorecard():
        m = r.measure
        if m.source != "crime" or not m.london_rank or r.last12 is None:
            continue
        counts = cache.query(
            "crime/london_rank",
            majors=list(m.majors),
            minors=list(m.minors),
            start=r.last12.start,
            end=r.last12.end,
        )
        out.append((m.label, r.last12.label, peers.rate_comparison(group, counts, raw)))
        priority_of[m.label] = m.priority
    words = [peers.rate_sentence(group, label, c) for label, _p, c in out if c is not None]
    table, every = peers.comparison_table(group, out), peers.peer_rates_table(group, out)
    # Each measure links to its priority on the summary page: on a phone these tables scroll
    # sideways, and a link is what lets the keyboard reach (and scroll) the box (as the scorecard's).
    for t in (table, every):
        if "Measure" in t.columns:
            t["Measure"] = [
                md_link(label, f"summary#priority-{priority_of[label]}") for label in t["Measure"]
            ]
    return table, every, words


def group_table(group: peers.PeerGroup) -> pd.DataFrame:
    """The peer group's features, narrow enough for a phone (the distance and residents are in
    the sentence above it and the method note)."""
    return group.table.drop(columns=["Distance", "Residents (Census 2021)"], errors="ignore")


def peers_sentence(group: peers.PeerGroup) -> str:
    return peers.peers_sentence(group)
