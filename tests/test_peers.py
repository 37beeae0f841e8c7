"""Peer boroughs: the features checked against the raw embedded files (areas by an independent
geodesic calculation), the grouping deterministic and sane, the rate comparison recomputed, and the
Overview's "Compared with similar boroughs" section rendered in AppTest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import shown
from streamlit.testing.v1 import AppTest

from csp_data.analysis import peers
from csp_data.config import REPO_ROOT
from csp_data.warehouse import sql

SOURCES = REPO_ROOT / "data" / "sources"
ETHNIC19 = SOURCES / "census" / "london_census2021_ts021_ethnic19_lad.csv"
IMD = SOURCES / "census" / "london_imd2019_lsoa11.csv.gz"
LSOA = SOURCES / "boundaries" / "london_lsoa21_bsc.geojson"
TH = "E09000030"
# ONS's two definitions of Inner London (the London Government Act 1963 boroughs, and the statistical
# definition, which has Haringey and Newham instead of Greenwich): documented lists, not peers picked here.
INNER_LONDON = {
    "Camden",
    "Greenwich",
    "Hackney",
    "Hammersmith and Fulham",
    "Haringey",
    "Islington",
    "Kensington and Chelsea",
    "Lambeth",
    "Lewisham",
    "Newham",
    "Southwark",
    "Tower Hamlets",
    "Wandsworth",
    "Westminster",
}


@pytest.fixture(scope="module")
def raw(warehouse):
    return peers.load_features()


@pytest.fixture(scope="module")
def features(raw):
    return peers.feature_table(raw)


def test_features_match_the_raw_files(raw, features):
    """Residents from the Census borough file, IMD figures from the LSOA file, land areas by a
    geodesic calculation on the ellipsoid (not the build's projection): within 0.5%."""
    gpd = pytest.importorskip("geopandas")
    from pyproj import Geod

    assert len(features) == 32 and peers.CITY_OF_LONDON not in features.index
    census = pd.read_csv(ETHNIC19).set_index("ltla21_code")
    imd = pd.read_csv(IMD)
    lad = "Local Authority District code (2019)"
    score = "Index of Multiple Deprivation (IMD) Score"
    decile = "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)"
    lsoa = gpd.read_file(LSOA)
    geod = Geod(ellps="WGS84")
    area = lsoa.geometry.map(lambda g: abs(geod.geometry_area_perimeter(g)[0]) / 1e6)
    by_name = area.groupby(lsoa["lad_name"]).sum()
    for code, r in features.iterrows():
        assert r["residents"] == census.loc[code, "sum_19_groups"]
        mine = imd[imd[lad] == code]
        assert r["imd_mean_score"] == pytest.approx(mine[score].mean(), abs=1e-6)
        assert r["imd_decile1_share"] == pytest.approx((mine[decile] == 1).mean())
        assert r["area_km2"] == pytest.approx(by_name[census.loc[code, "ltla21_name"]], rel=0.005)
        assert r["log_density"] == pytest.approx(np.log10(r["residents"] / r["area_km2"]))
    # Tower Hamlets: 310,306 residents on about 20 km²
    assert features.loc[TH, "residents"] == 310_306
    assert 19 < features.loc[TH, "area_km2"] < 21


def test_standardised_features_have_mean_0_and_sd_1(features):
    z = peers.standardised(features)
    assert np.allclose(z.mean(), 0) and np.allclose(z.std(ddof=0), 1)


def test_peer_groups_are_deterministic_and_nearest(features):
    groups = peers.peer_groups(features)
    shuffled = features.sample(frac=1, random_state=7)
    assert peers.peer_groups(shuffled) == groups  # the order of the rows does not matter
    d = peers.distances(features)
    assert np.allclose(d.to_numpy(), d.to_numpy().T) and np.allclose(np.diag(d), 0)
    for code, mine in groups.items():
        assert len(mine) == peers.K and code not in mine and len(set(mine)) == peers.K
        others = d.loc[code].drop([code, *mine])
        assert d.loc[code, mine].max() <= others.min()  # no non-peer is nearer than a peer
        assert list(d.loc[code, mine]) == sorted(d.loc[code, mine])  # nearest first


def test_peer_relation_is_mostly_mutual(features):
    groups = peers.peer_groups(features)
    links = [(a, b) for a, bs in groups.items() for b in bs]
    mutual = sum(a in groups[b] for a, b in links)
    assert mutual / len(links) > 0.5, f"only {mutual} of {len(links)} peer links are mutual"


def test_tower_hamlets_peers_are_inner_london_boroughs(raw):
    group = peers.peer_group(raw, TH)
    assert group is not None
    print("\nTower Hamlets' peers:", ", ".join(group.names))
    assert set(group.names) <= INNER_LONDON
    assert group.table["Borough"].iloc[0] == "Tower Hamlets" and len(group.table) == peers.K + 1


def test_no_peer_group_without_features(raw):
    assert peers.peer_group(raw, "E09000001") is None  # City of London: its own police force
    assert peers.peer_group(raw.iloc[0:0], TH) is None


def test_rate_comparison_recomputed(raw):
    group = peers.peer_group(raw, TH)
    counts = sql.run("crime/london_rank", majors=["ROBBERY"], minors=[], start="2025-03-01", end="2026-02-01")
    c = peers.rate_comparison(group, counts, raw)
    residents = raw.set_index("borough_code")["residents"]
    n = counts.set_index("borough_code")["count"]
    want = {code: n[code] / residents[code] * 1000 for code in [TH, *group.peers]}
    assert c["rate"] == pytest.approx(want[TH])
    assert c["peer_mean"] == pytest.approx(np.mean([want[p] for p in group.peers]))
    assert c["position"] == 1 + sum(want[p] > want[TH] for p in group.peers)
    sentence = peers.rate_sentence(group, "Robbery", c)
    assert sentence.startswith(f"Robbery: {want[TH]:.1f} per 1,000 residents in Tower Hamlets")


def test_overview_shows_the_similar_boroughs_section(warehouse, monkeypatch):
    monkeypatch.setenv("CSP_MODE", "public")
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/public/overview.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Compared with similar boroughs" in [h.value for h in at.header]
    group = peers.peer_group(peers.load_features(), TH)
    assert any(m.value.startswith(peers.peers_sentence(group).replace(".", "")[:40]) for m in at.markdown)
    tables = [t.value.rename(columns=shown) for t in at.main.table]
    # the group's table is narrow enough for a phone (no distance or residents columns)
    assert any(list(t.columns)[:2] == ["Borough", "Residents per km²"] and len(t) == 6 for t in tables)
    rates = [t for t in tables if "Peers' average per 1,000" in list(t.columns)]
    # each measure links to its priority on the summary page (keyboard access to a wide table)
    assert rates and "[Robbery](summary#priority-1)" in [shown(v) for v in rates[0]["Measure"]]
