"""Peer boroughs: for each of the 32 boroughs the Met polices, the boroughs most like it, chosen from
the data rather than by hand (method: docs/STATISTICS.md, "Peer boroughs").

Features (warehouse table ``borough_features``, built by :mod:`csp_data.warehouse.london`), none of
them a crime figure, so peers are not chosen by the outcome they are compared on:

* **density**: Census 2021 usual residents per km² of land (LSOA 2021 polygons, clipped to the
  coast, area in an equal-area projection), on a log scale (densities range over a factor of about
  twenty, and a log difference is a ratio);
* **deprivation**: the mean English IMD 2019 score of the borough's LSOAs (2011 LSOAs, unweighted:
  LSOAs hold similar numbers of people);
* **concentrated deprivation**: the share of those LSOAs among the most deprived 10% in England.

Each feature is standardised across the 32 boroughs (mean 0, standard deviation 1, so each counts
equally) and a borough's peers are the :data:`K` others nearest by Euclidean distance (ties: the
lower ONS code). City of London is left out: it has its own police force and 8,600 residents.
The relation need not be symmetric (A among B's nearest five does not make B among A's).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from csp_data.config import Settings
from csp_data.warehouse import sql

K = 5
CITY_OF_LONDON = "E09000001"
FEATURES: dict[str, str] = {
    "log_density": "Residents per km² (log10)",
    "imd_mean_score": "Mean IMD 2019 score of its LSOAs",
    "imd_decile1_share": "Share of LSOAs in England's most deprived 10%",
}
SOURCE = (
    "Peers: ONS Census 2021 usual residents (TS021), ONS LSOA 2021 boundaries (land area), "
    "MHCLG English Indices of Deprivation 2019"
)


def load_features(cfg: Settings | None = None) -> pd.DataFrame:
    return sql.run("peers/features", cfg=cfg)


def feature_table(raw: pd.DataFrame) -> pd.DataFrame:
    """The 32 Met boroughs (City of London left out), indexed by code: name, residents, area, density
    and the three features."""
    df = raw[raw["borough_code"] != CITY_OF_LONDON].copy().set_index("borough_code").sort_index()
    df["density"] = df["residents"] / df["area_km2"]
    df["log_density"] = np.log10(df["density"])
    df["imd_decile1_share"] = df["imd_decile1_lsoas"] / df["imd_lsoas"]
    return df[
        ["borough_name", "residents", "area_km2", "density", "imd_mean_score", "imd_decile1_share"]
    ].assign(log_density=df["log_density"])


def standardised(features: pd.DataFrame) -> pd.DataFrame:
    """Each feature as a z-score across the boroughs (population standard deviation)."""
    x = features[list(FEATURES)].astype(float)
    return (x - x.mean()) / x.std(ddof=0)


def distances(features: pd.DataFrame) -> pd.DataFrame:
    """Euclidean distance between every pair of boroughs on the standardised features (code x code)."""
    z = standardised(features).to_numpy()
    d = np.sqrt(((z[:, None, :] - z[None, :, :]) ** 2).sum(axis=2))
    return pd.DataFrame(d, index=features.index, columns=features.index)


def peer_groups(features: pd.DataFrame, k: int = K) -> dict[str, list[str]]:
    """Every borough's ``k`` nearest others, nearest first (ties: the lower code)."""
    d = distances(features)
    out = {}
    for code in d.index:
        row = d.loc[code].drop(code)
        order = sorted(row.index, key=lambda c: (round(float(row[c]), 12), c))
        out[code] = order[:k]
    return out


@dataclass(frozen=True)
class PeerGroup:
    borough_code: str
    borough_name: str
    peers: tuple[str, ...]  # codes, nearest first
    table: pd.DataFrame  # the borough then its peers: name, distance and features, for display

    @property
    def names(self) -> list[str]:
        return list(self.table["Borough"].iloc[1:])


def peer_group(raw: pd.DataFrame, code: str, k: int = K) -> PeerGroup | None:
    """The peer group of borough ``code`` with a display table, or None when its features are not held."""
    features = feature_table(raw)
    if code not in features.index or features[list(FEATURES)].isna().any().any():
        return None
    peers = peer_groups(features, k)[code]
    d = distances(features).loc[code]
    rows = [code, *peers]
    f = features.loc[rows]
    table = pd.DataFrame(
        {
            "Borough": f["borough_name"].to_list(),
            "Distance": ["0 (itself)"] + [f"{float(d[c]):.2f}" for c in peers],
            "Residents (Census 2021)": [f"{int(v):,d}" for v in f["residents"]],
            "Residents per km²": [f"{v:,.0f}" for v in f["density"]],
            "Mean IMD 2019 score": [f"{v:.1f}" for v in f["imd_mean_score"]],
            "LSOAs in England's most deprived 10% (%)": [f"{v * 100:.1f}" for v in f["imd_decile1_share"]],
        }
    )
    return PeerGroup(code, str(features.loc[code, "borough_name"]), tuple(peers), table)


def rate_comparison(group: PeerGroup, counts: pd.DataFrame, raw: pd.DataFrame) -> dict | None:
    """The borough's rate per 1,000 residents against its peers' for one measure, from per-borough
    counts (``borough_code``, ``count``; e.g. the ``crime/london_rank`` rows of a 12-month window).
    None when the borough or a peer has no count."""
    residents = feature_table(raw)["residents"]
    got = counts.set_index("borough_code")["count"]
    codes = [group.borough_code, *group.peers]
    if any(c not in got.index for c in codes):
        return None
    rates = {c: float(got[c]) / float(residents[c]) * 1000 for c in codes}
    mine = rates[group.borough_code]
    peer_rates = [rates[c] for c in group.peers]
    position = 1 + sum(r > mine for r in peer_rates)  # 1 = the highest rate of the six
    return {
        "rate": mine,
        "peer_mean": float(np.mean(peer_rates)),
        "peer_low": min(peer_rates),
        "peer_high": max(peer_rates),
        "position": position,
        "of": len(codes),
        "rates": rates,
    }


def comparison_table(group: PeerGroup, rows: list[tuple[str, str, dict | None]]) -> pd.DataFrame:
    """One row per measure: (label, period words, :func:`rate_comparison`) -> display table."""
    out = []
    for label, period, c in rows:
        if c is None:
            continue
        out.append(
            {
                "Measure": label,
                "Period": period,
                f"{group.borough_name} per 1,000 residents": f"{c['rate']:.1f}",
                "Peers' average per 1,000": f"{c['peer_mean']:.1f}",
                "Peers' range per 1,000": f"{c['peer_low']:.1f} to {c['peer_high']:.1f}",
                "Position among the six (1 = highest rate)": f"{c['position']} of {c['of']}",
            }
        )
    return pd.DataFrame(out)


def peer_rates_table(group: PeerGroup, rows: list[tuple[str, str, dict | None]]) -> pd.DataFrame:
    """Every borough of the group's rate per 1,000 for every measure (the table behind the words)."""
    names = dict(zip([group.borough_code, *group.peers], group.table["Borough"]))
    out = []
    for label, _period, c in rows:
        if c is None:
            continue
        out.append({"Measure": label, **{names[k]: f"{v:.1f}" for k, v in c["rates"].items()}})
    return pd.DataFrame(out)


def peers_sentence(group: PeerGroup) -> str:
    names = group.names
    listed = ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]
    return (
        f"The {len(names)} London boroughs most like {group.borough_name} in population density and "
        f"deprivation are {listed} (nearest first)."
    )


def rate_sentence(group: PeerGroup, label: str, c: dict) -> str:
    mine, mean = c["rate"], c["peer_mean"]
    ratio = mine / mean if mean else math.nan
    if c["position"] == 1:
        where = "the highest of the six"
    elif c["position"] == c["of"]:
        where = "the lowest of the six"
    else:
        where = f"{_ordinal(c['position'])} highest of the six"
    return (
        f"{label}: {mine:.1f} per 1,000 residents in {group.borough_name} against {mean:.1f} on average in its "
        f"peers ({ratio:.2f} times; {where})."
    )


def _ordinal(n: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")
