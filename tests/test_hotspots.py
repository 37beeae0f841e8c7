"""Hot spots (csp_data/analysis/hotspots.py): Gi* on a synthetic grid with known clusters, FDR, emerging
classes on synthetic period sequences, and the real LSOA data, queries and map GeoJSON."""

from __future__ import annotations

import math
import warnings
from datetime import date

import duckdb
import esda
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from csp_data.analysis import hotspots as hs
from csp_data.config import settings
from csp_data.warehouse import sql

N = 10  # synthetic grid is N x N unit squares
CODES = [f"S{r:02d}{c:02d}" for r in range(N) for c in range(N)]  # S<row><col>; row 0 / col 0 = one corner
HOT_CORNER = ["S0000", "S0001", "S0100", "S0101"]  # inside a 3x3 block of high values
FAR = [f"S{r:02d}{c:02d}" for r in range(6, N) for c in range(6, N)]  # the opposite 4x4 corner


@pytest.fixture(scope="module")
def grid() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": CODES}, geometry=[box(c, r, c + 1, r + 1) for r in range(N) for c in range(N)]
    )


@pytest.fixture(scope="module")
def w(grid):
    return hs.queen_weights(grid)


def noise(seed: int, low: float = 1.0, high: float = 3.0) -> pd.Series:
    return pd.Series(np.random.default_rng(seed).uniform(low, high, N * N), index=CODES)


def with_block(values: pd.Series, level: float, size: int = 3) -> pd.Series:
    out = values.copy()
    for r in range(size):
        for c in range(size):
            out[f"S{r:02d}{c:02d}"] = level
    return out


def textbook_gi_star(y: np.ndarray, wmat: np.ndarray) -> np.ndarray:
    """Getis & Ord (1992) / Ord & Getis (1995) Gi* z with binary weights including self, written out."""
    n = len(y)
    xbar = y.mean()
    s = math.sqrt((y**2).mean() - xbar**2)
    wsum = wmat.sum(axis=1)
    w2 = (wmat**2).sum(axis=1)
    return (wmat @ y - xbar * wsum) / (s * np.sqrt((n * w2 - wsum**2) / (n - 1)))


def independent_bh(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg by hand: sort, multiply by n/rank, cumulative min from the end, clip at 1."""
    p = np.asarray(p, dtype=float)
    n = len(p)
    order = np.argsort(p, kind="mergesort")
    scaled = p[order] * n / np.arange(1, n + 1)
    q_sorted = np.minimum.accumulate(scaled[::-1])[::-1]
    q = np.empty(n)
    q[order] = np.minimum(q_sorted, 1.0)
    return q


# ----------------------------------------------------------------------------- weights


def test_queen_weights_on_the_grid(w):
    assert w.n == N * N and w.islands == [] and w.transform == "B"
    assert w.cardinalities["S0000"] == 3  # a corner touches 3 squares (2 edges, 1 corner)
    assert w.cardinalities["S0005"] == 5
    assert w.cardinalities["S0505"] == 8  # an inner square touches 8
    assert set(w.neighbors["S0000"]) == {"S0001", "S0100", "S0101"}
    assert all(v == 1.0 for ws in w.weights.values() for v in ws)  # binary, not row-standardised


def test_an_island_is_reported_and_kept(grid):
    with_island = pd.concat(
        [grid, gpd.GeoDataFrame({"code": ["SISLE"]}, geometry=[box(20, 20, 21, 21)])], ignore_index=True
    )
    with pytest.warns(UserWarning, match="SISLE"):
        w2 = hs.queen_weights(with_island)
    assert w2.islands == ["SISLE"]
    vals = pd.concat([with_block(noise(1), 20.0), pd.Series({"SISLE": 2.0})])
    out = hs.gi_star(vals, w2).set_index("code")
    assert out.loc["SISLE", "neighbours"] == 0
    assert np.isfinite(out["z"]).all()
    # nothing can be rearranged around an island: conditional permutation cannot call it anything
    assert out.loc["SISLE", "p_sim"] == 1 and out.loc["SISLE", "klass"] == "not significant"


def test_duplicate_codes_are_refused(grid):
    with pytest.raises(hs.HotspotError, match="duplicate"):
        hs.queen_weights(pd.concat([grid, grid.iloc[:1]], ignore_index=True))


# ----------------------------------------------------------------------------- Gi*


def test_hot_corner_is_a_hot_spot_after_fdr_and_far_cells_are_not(w):
    out = hs.gi_star(with_block(noise(7), 20.0), w).set_index("code")
    assert out.loc[HOT_CORNER, "klass"].str.startswith("hot spot").all(), out.loc[HOT_CORNER]
    assert (out.loc[HOT_CORNER, "q"] < 0.05).all() and (out.loc[HOT_CORNER, "confidence"] >= 95).all()
    # the block's centre (8 neighbours, all high) is 99%; the grid's corner cell has only 3
    # neighbours, so under conditional permutation its evidence is weaker: P(3 random others are
    # all block cells) = C(8,3)/C(99,3) = 3.6e-4 one-sided, which BH over 100 cells puts near 0.01
    assert out.loc["S0101", "klass"] == "hot spot 99%"
    assert (out.loc[FAR, "klass"] == "not significant").all(), out.loc[FAR, ["z", "q"]]
    assert (out.loc[FAR, "confidence"] == 0).all()
    assert not out["klass"].str.startswith("cold").any()
    assert set(out["klass"]) <= set(hs.CLASSES)


def test_cold_corner_gives_cold_spots(w):
    out = hs.gi_star(with_block(noise(11, 8, 12), 0.0), w).set_index("code")
    assert (out.loc[HOT_CORNER, "klass"] == "cold spot 99%").all(), out.loc[HOT_CORNER]
    assert (out.loc[HOT_CORNER, "z"] < 0).all()
    assert (out.loc[FAR, "klass"] == "not significant").all()
    assert not out["klass"].str.startswith("hot").any()


def test_pure_noise_finds_nothing(w):
    out = hs.gi_star(noise(3), w)
    assert (out["klass"] == "not significant").all()


def test_z_equals_esda_and_the_textbook_formula(w):
    for seed in (1, 2, 3):
        vals = with_block(noise(seed), 6.0 + seed) if seed != 3 else noise(seed)
        out = hs.gi_star(vals, w, permutations=99)
        y = vals.reindex(w.id_order).to_numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = esda.G_Local(y, w, transform="B", star=True, permutations=0)
        assert list(out["code"]) == list(w.id_order)
        np.testing.assert_allclose(out["z"].to_numpy(), ref.Zs, rtol=0, atol=1e-10)
        wmat = w.full()[0] + np.eye(w.n)  # binary Queen weights plus the area itself
        np.testing.assert_allclose(out["z"].to_numpy(), textbook_gi_star(y, wmat), rtol=0, atol=1e-10)
        # two-sided analytical p: twice esda's one-sided p_norm
        np.testing.assert_allclose(
            out["p_norm"].to_numpy(), np.minimum(1, 2 * ref.p_norm), rtol=0, atol=1e-15
        )


def test_input_order_does_not_matter(w):
    vals = with_block(noise(5), 9.0)
    a = hs.gi_star(vals, w, seed=3)
    b = hs.gi_star(vals.sample(frac=1, random_state=0), w, seed=3)
    pd.testing.assert_frame_equal(a, b)


def test_q_values_are_benjamini_hochberg(w):
    out = hs.gi_star(with_block(noise(13), 5.0), w)
    # classes rest on the permutation p; the normal-approximation q is kept only for comparison
    np.testing.assert_allclose(
        out["q"].to_numpy(), independent_bh(out["p_sim"].to_numpy()), rtol=0, atol=1e-12
    )
    np.testing.assert_allclose(
        out["q_norm"].to_numpy(), independent_bh(out["p_norm"].to_numpy()), rtol=0, atol=1e-12
    )
    assert ((out["q"] >= out["p_sim"] - 1e-15) & (out["q"] <= 1)).all()
    rng = np.random.default_rng(0)
    for _ in range(20):
        p = np.concatenate([rng.uniform(0, 1, 80), rng.uniform(0, 0.01, 20)])
        np.testing.assert_allclose(hs.bh_fdr(p), independent_bh(p), rtol=0, atol=1e-12)
        # and the areas called significant at 5% are exactly those under esda's FDR cut-off
        assert ((hs.bh_fdr(p) < 0.05) == (p < esda.fdr(p, 0.05))).all()


def test_classes_follow_q_thresholds(w):
    out = hs.gi_star(with_block(noise(21), 4.0), w)
    for row in out.itertuples():
        if row.q < 0.01:
            want = 99
        elif row.q < 0.05:
            want = 95
        elif row.q < 0.10:
            want = 90
        else:
            want = 0
        assert row.confidence == want
        if want:
            assert row.klass == f"{'hot' if row.z > 0 else 'cold'} spot {want}%"
        else:
            assert row.klass == "not significant"
        assert row.significant == (row.q < 0.05)
    assert out["confidence"].gt(0).any()


def test_class_boundaries_are_strict():
    q = np.array([0.0099, 0.01, 0.0499, 0.05, 0.0999, 0.1, 0.5, 0.0099, 0.05])
    z = np.array([3.0, 3.0, 2.5, 2.5, 2.0, 2.0, 1.0, -3.0, -2.5])
    klass, conf = hs._classify(z, q)
    assert conf == [99, 95, 95, 90, 90, 0, 0, 99, 90]
    assert klass == [
        "hot spot 99%",
        "hot spot 95%",
        "hot spot 95%",
        "hot spot 90%",
        "hot spot 90%",
        "not significant",
        "not significant",
        "cold spot 99%",
        "cold spot 90%",
    ]


def test_permutation_p_is_deterministic_with_a_seed(w):
    vals = with_block(noise(17), 12.0)
    a = hs.gi_star(vals, w, permutations=999, seed=12345)
    b = hs.gi_star(vals, w, permutations=999, seed=12345)
    np.testing.assert_array_equal(a["p_sim"].to_numpy(), b["p_sim"].to_numpy())
    c = hs.gi_star(vals, w, permutations=999, seed=54321)
    assert not np.array_equal(a["p_sim"].to_numpy(), c["p_sim"].to_numpy())
    assert ((a["p_sim"] >= 2 / 1000) & (a["p_sim"] <= 1)).all()  # two-sided: twice the smaller tail
    assert (a.set_index("code").loc[HOT_CORNER, "p_sim"] <= 0.01).all()
    assert a.attrs["permutations"] == 999 and a.attrs["seed"] == 12345
    with pytest.raises(hs.HotspotError, match="at least 99 permutations"):
        hs.gi_star(vals, w, permutations=0)


def test_permutation_counts_equal_esda_given_esda_draws(w):
    """Given esda's own random draws, the upper- and lower-tail counts are esda's to the draw."""
    from esda.crand import vec_permutations

    for seed, vals in (
        (1, with_block(noise(17), 12.0)),
        (2, noise(4)),
        (3, pd.Series(np.random.default_rng(8).poisson(2.0, N * N).astype(float), index=CODES)),
    ):
        y = vals.reindex(w.id_order).to_numpy()
        nb = hs.neighbour_lists(w)
        ids = vec_permutations(max(len(a) for a in nb), len(y), 999, seed)
        n_ge, n_le = hs.permutation_tails(y, nb, 999, draws=ids)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = esda.G_Local(
                y, w, transform="B", star=True, permutations=999, seed=seed, n_jobs=1, keep_simulations=True
            )
        np.testing.assert_array_equal(n_ge, (ref.rGs >= ref.Gs[:, None]).sum(axis=1))
        np.testing.assert_array_equal(n_le, (ref.rGs <= ref.Gs[:, None]).sum(axis=1))
        # esda's own folded p_sim equals our upper tail wherever the upper tail is the smaller one
        upper = n_ge <= 999 - n_ge
        np.testing.assert_allclose(ref.p_sim[upper], (n_ge[upper] + 1) / 1000, rtol=0, atol=1e-7)


def test_ties_count_on_both_sides_for_whole_counts(w):
    """Counts tie often; a tie is never counted as more extreme than the observation is not (esda's
    folded lower tail uses '<', which makes cold spots look stronger than they are)."""
    y = np.zeros(N * N)
    y[:5] = 1.0
    nb = hs.neighbour_lists(w)
    n_ge, n_le = hs.permutation_tails(y, nb, 999, seed=5)
    far = [w.id_order.index(c) for c in FAR]
    assert (n_ge[far] == 999).all()  # an all-zero neighbourhood: every draw is >= it, and most tie
    p, _ = hs.permutation_p(n_ge, n_le, 999)
    assert (p[far] > 0.5).all()  # so it is no evidence of a cold spot at all
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = esda.G_Local(y, w, transform="B", star=True, permutations=999, seed=5, n_jobs=1)
    assert (ref.p_sim[far] == 1 / 1000).all()  # esda's folded p calls the same cells as extreme as can be


def test_constant_values_are_not_significant(w):
    out = hs.gi_star(pd.Series(4.0, index=CODES), w)
    assert (out["z"] == 0).all() and (out["q"] == 1).all()
    assert (out["klass"] == "not significant").all()


def test_values_must_match_the_weights(w):
    vals = noise(1)
    with pytest.raises(hs.HotspotError, match="missing"):
        hs.gi_star(vals.drop("S0000"), w)
    with pytest.raises(hs.HotspotError, match="extra"):
        hs.gi_star(pd.concat([vals, pd.Series({"ZZZ": 1.0})]), w)
    with pytest.raises(hs.HotspotError, match="finite"):
        hs.gi_star(vals.where(vals.index != "S0505"), w)


# ----------------------------------------------------------------------------- persistence / emerging

PERIODS = [f"P{i}" for i in range(8)]


def sequence(levels: list[float | None], fixed_noise: bool = False) -> pd.DataFrame:
    """Period values: a 3x3 high block at the corner at ``levels[i]`` (None: no block), noise elsewhere."""
    rows = []
    for i, (period, level) in enumerate(zip(PERIODS, levels)):
        base = noise(100 if fixed_noise else 100 + i)
        vals = with_block(base, level) if level is not None else base
        rows.append(pd.DataFrame({"code": vals.index, "period": period, "value": vals.to_numpy()}))
    return pd.concat(rows, ignore_index=True)


def emerging_of(w, levels, fixed_noise=False) -> pd.DataFrame:
    return hs.persistence(sequence(levels, fixed_noise), w, PERIODS).set_index("code")


def test_hot_all_along_with_rising_z_is_intensifying(w):
    out = emerging_of(w, list(np.linspace(4, 8, 8)), fixed_noise=True)
    row = out.loc["S0000"]
    assert row.hot_periods == 8 and row.hot_final
    assert row.trend_tau > 0 and row.trend_p < 0.05
    assert row.emerging == "intensifying"
    assert (out.loc[FAR, "emerging"] == "none").all()


def test_hot_all_along_with_falling_z_is_diminishing(w):
    out = emerging_of(w, list(np.linspace(8, 4, 8)), fixed_noise=True)
    assert out.loc["S0000", "emerging"] == "diminishing"
    assert out.loc["S0000", "trend_tau"] < 0


def test_constant_hot_spot_is_persistent(w):
    out = emerging_of(w, [20.0] * 8, fixed_noise=True)
    row = out.loc["S0000"]
    assert row.hot_periods == 8 and row.emerging == "persistent" and math.isnan(row.trend_p)
    assert (out.loc[HOT_CORNER, "emerging"] == "persistent").all()


def test_hot_only_in_the_last_period_is_new(w):
    out = emerging_of(w, [None] * 7 + [20.0])
    assert out.loc["S0000", "hot_periods"] == 1
    assert (out.loc[HOT_CORNER, "emerging"] == "new").all()


def test_hot_before_but_not_now_is_historical(w):
    out = emerging_of(w, [20.0] * 5 + [None] * 3)
    assert not out.loc["S0000", "hot_final"] and out.loc["S0000", "hot_periods"] == 5
    assert (out.loc[HOT_CORNER, "emerging"] == "historical").all()


def test_on_and_off_ending_hot_is_sporadic(w):
    out = emerging_of(w, [None, 20.0] * 4)
    assert out.loc["S0000", "hot_periods"] == 4 and out.loc["S0000", "hot_final"]
    assert (out.loc[HOT_CORNER, "emerging"] == "sporadic").all()
    assert set(out["emerging"]) <= set(hs.EMERGING)


def test_persistence_needs_every_period(w):
    pv = sequence([20.0] * 8)
    with pytest.raises(hs.HotspotError, match="P9"):
        hs.persistence(pv, w, PERIODS + ["P9"])


def test_periods_ending_groups_whole_periods_from_the_latest_month():
    months = [date(2024, m, 1) for m in range(1, 13)] + [date(2025, 1, 1)]
    groups = hs.periods_ending(months, 3)
    assert [g[0] for g in groups] == [date(2024, 2, 1), date(2024, 5, 1), date(2024, 8, 1), date(2024, 11, 1)]
    assert groups[-1][1] == [date(2024, 11, 1), date(2024, 12, 1), date(2025, 1, 1)]


# ----------------------------------------------------------------------------- real data

ROBBERY = (["ROBBERY"], [])


@pytest.fixture(scope="module")
def raw(warehouse):
    """An independent DuckDB connection straight onto the warehouse Parquet."""
    con = duckdb.connect()
    yield con, warehouse
    con.close()


@pytest.fixture(scope="module")
def latest_year(raw):
    con, wh = raw
    last = con.execute(
        "SELECT max(month) FROM read_parquet($p) WHERE level = 'lsoa' AND borough_code = $b",
        {"p": str(wh / "crime_monthly.parquet"), "b": settings().borough_code},
    ).fetchone()[0]
    start = date(last.year - (1 if last.month < 12 else 0), last.month % 12 + 1, 1)
    return start, last


def test_lsoa_period_counts_cover_every_lsoa_and_match_an_independent_sum(raw, latest_year):
    con, wh = raw
    start, end = latest_year
    n_lsoas = con.execute(
        "SELECT count(*) FROM read_parquet($p)", {"p": str(wh / "lsoas.parquet")}
    ).fetchone()[0]
    total = con.execute(
        "SELECT coalesce(sum(count), 0) FROM read_parquet($p) WHERE level = 'lsoa' AND borough_code = $b "
        "AND major_category = 'ROBBERY' AND month BETWEEN $s AND $e",
        {"p": str(wh / "crime_monthly.parquet"), "b": settings().borough_code, "s": start, "e": end},
    ).fetchone()[0]
    df = hs.lsoa_period_counts(*ROBBERY, start, end)
    assert list(df.columns) == ["lsoa21_code", "lsoa21_name", "ward_code", "population", "count"]
    assert len(df) == n_lsoas == df["lsoa21_code"].nunique() and n_lsoas > 100
    assert int(df["count"].sum()) == int(total) > 0
    assert (df["count"] >= 0).all()
    assert (df["count"] == 0).any()  # some LSOAs had no robbery: they are there as 0, not missing
    monthly = hs.lsoa_monthly_counts(*ROBBERY, start, end)
    assert monthly["month"].nunique() == 12 and len(monthly) == 12 * n_lsoas
    assert int(monthly["count"].sum()) == int(total)
    # months before the LSOA series starts are absent, not zero
    early = hs.lsoa_monthly_counts(*ROBBERY, date(2023, 1, 1), date(2023, 7, 1))
    assert early.empty


def test_real_lsoa_hotspots(latest_year):
    start, end = latest_year
    out = hs.lsoa_hotspots(*ROBBERY, start, end)
    shapes = hs.lsoa_geometry()
    assert len(out) == len(shapes) and set(out["code"]) == set(shapes["code"])
    assert np.isfinite(out["z"]).all() and np.isfinite(out["q"]).all() and out["p_sim"].between(0, 1).all()
    assert out.crs.to_epsg() == 4326
    np.testing.assert_allclose(out["rate_per_1000"], out["count"] / out["population"] * 1000)
    assert "counts, not rates" in out.attrs["caveat"] and "Canary Wharf" in out.attrs["caveat"]
    w = hs.lsoa_weights()
    y = out.set_index("code")["count"].reindex(w.id_order).astype(float).to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = esda.G_Local(y, w, transform="B", star=True, permutations=0)
    np.testing.assert_allclose(
        out.set_index("code").loc[list(w.id_order), "z"].to_numpy(), ref.Zs, atol=1e-10, rtol=0
    )


def test_real_queen_weights_have_no_islands():
    w = hs.lsoa_weights()
    shapes = hs.lsoa_geometry()
    assert w.n == len(shapes) and w.islands == []
    assert set(w.id_order) == set(shapes["code"])
    assert min(w.cardinalities.values()) >= 1
    assert hs.lsoa_weights() is w  # cached per process


def test_lsoa_geometry_is_cached_and_complete():
    g = hs.lsoa_geometry()
    assert list(g.columns) == ["code", "name", "ward_code", "population", "geometry"]
    assert hs.lsoa_geometry() is g
    assert g["code"].is_unique and g.geometry.notna().all() and g.geometry.is_valid.all()
    assert (g["population"] > 0).all() and g["ward_code"].notna().all()


def test_lsoa_emerging_runs_on_real_data():
    out = hs.lsoa_emerging(*ROBBERY, date(2023, 8, 1), date(2026, 12, 1))
    assert len(out) == len(hs.lsoa_geometry()) and set(out["emerging"]) <= set(hs.EMERGING)
    assert out["periods"].iloc[0] >= 4


def test_public_mode_refuses_lsoa_hot_spots(warehouse, monkeypatch):
    monkeypatch.setenv("CSP_MODE", "public")
    with pytest.raises(hs.HotspotError, match="internal only"):
        hs.lsoa_hotspots(*ROBBERY, date(2025, 1, 1), date(2025, 12, 1))
    with pytest.raises(hs.HotspotError, match="internal only"):
        hs.lsoa_geometry()


# ----------------------------------------------------------------------------- SQL contract


@pytest.mark.parametrize("name", ["hotspots/lsoa_period_counts", "crime/area_monthly_counts"])
def test_query_files_load_and_run_with_their_examples(name, warehouse):
    q = sql.load(name)
    level = ("level",) if name == "crime/area_monthly_counts" else ()
    assert q.params == (*level, "borough_code", "majors", "minors", "start", "end")
    assert q.param_types["majors"] == "VARCHAR[]" and q.param_types["start"] == "DATE"
    df = sql.run(name, **q.example)
    assert list(df.columns) == list(q.columns) and len(df) > 0
    assert df["count"].sum() > 0


def test_results_are_cached_by_content_and_returned_as_copies(w):
    vals = with_block(noise(29), 9.0)
    a = hs.gi_star(vals, w)
    a.loc[0, "klass"] = "tampered"
    b = hs.gi_star(vals, w)
    assert b.loc[0, "klass"] != "tampered"
    pd.testing.assert_frame_equal(b, hs.gi_star(vals, w, use_cache=False))
    changed = vals.copy()
    changed.iloc[50] += 1.0
    assert not hs.gi_star(changed, w)["value"].equals(b["value"])  # new values, new answer
