"""Hot spots: where crime clusters among the borough's LSOAs, and whether the clusters last.

What this module does, in plain words:

* **Gi\\* (Getis-Ord "G i star")** asks of each LSOA: are this area *and its neighbours together*
  higher (a hot spot) or lower (a cold spot) than the borough as a whole, by more than chance
  would give? The z-score shown is ``esda.G_Local(star=True)``'s to the last digit
  (``tests/test_hotspots.py`` checks that). Whether it could be chance is *not* read off the normal
  curve (crime counts are skewed and an LSOA has about 5.5 neighbours, so that overstates
  significance): each area's p-value comes from 9,999 **conditional permutations** of the other
  areas' counts around it, with a fixed seed (``gi_star``, ``permutation_tails``).
* **Neighbours** are LSOAs that touch, even at a corner ("Queen" contiguity), with weight 1 each
  and the area itself included with weight 1 (esda's convention for Gi\\* with *binary* weights,
  ``transform="B"``). Weights are not row-standardised: Gi\\* is defined on binary weights.
* **Many areas, many chances to be wrong.** With 169 LSOAs, about 8 would look "95% significant"
  by chance alone. The permutation p-values are therefore adjusted with the Benjamini-Hochberg
  false discovery rate (FDR) over all areas, and an area is called a hot or cold spot at
  confidence c only when its adjusted p-value ``q`` is below 1 - c. docs/STATISTICS.md section 4
  has the method, its p-value floor and its calibration on the real lattice.
* **Counts, not rates.** Gi\\* is run on offence counts. LSOAs are drawn to hold similar numbers
  of residents (about 1,500; 1,002 to 4,274 in Tower Hamlets in Census 2021), so counts and
  resident rates rank areas much alike, and counts avoid inflating areas with few residents.
  Residents are not the people at risk everywhere, though: the daytime population of Canary
  Wharf, Spitalfields and Whitechapel is many times the resident one, so a rate per 1,000
  residents there overstates the risk to a person. The rate is shown, the test is on counts.
* **Persistence / emerging hot spots** repeat Gi\\* period by period and sort each area by its
  hot-spot history and the trend of its z-scores (Mann-Kendall). The classes follow the spirit of
  ArcGIS Pro's *Emerging Hot Spot Analysis*, simplified: no space-time cube, no cold-spot classes.

LSOA crime data are internal-only (public pages stop at ward level), start in August 2023, and
add up to less than the borough total (crimes that cannot be placed drop out at finer levels).
Nothing here imports Streamlit; pages cache the results.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
import warnings
from collections import OrderedDict
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import stats

from csp_data.config import Settings
from csp_data.config import settings as get_settings
from csp_data.warehouse import geo, manifest, sql

if TYPE_CHECKING:  # esda and libpysal take 1-2 s to import: loaded only when a hot-spot is computed
    from libpysal.weights import W

# Gi* classes from hottest to coldest, and the confidence each needs (q < 1 - confidence).
CLASSES = (
    "hot spot 99%",
    "hot spot 95%",
    "hot spot 90%",
    "not significant",
    "cold spot 90%",
    "cold spot 95%",
    "cold spot 99%",
)
CONFIDENCES = (99, 95, 90)
_LEVELS = ((99, 0.01), (95, 0.05), (90, 0.10))  # confidence % and the q it must be below (exact decimals)

# Emerging hot-spot classes (see ``persistence``).
EMERGING = ("new", "intensifying", "persistent", "diminishing", "sporadic", "historical", "none")

CAVEAT = (
    "Hot spots are tested on offence counts, not rates: LSOAs hold similar numbers of residents "
    "(about 1,500), so the two rank areas much alike. Rates per 1,000 use Census 2021 residents; "
    "daytime populations are far larger in Canary Wharf, Spitalfields and Whitechapel, so resident "
    "rates overstate the risk to a person there. LSOA data start in August 2023 and miss crimes "
    "that could not be placed, so LSOA totals are below the borough's."
)

FIRST_LSOA_MONTH = date(2023, 8, 1)  # the MPS LSOA series starts here; earlier months are absent


class HotspotError(ValueError):
    """Inputs that cannot give a meaningful hot-spot answer (misaligned areas, public mode)."""


# ----------------------------------------------------------------------------- geometry and weights


def _boundary_path(cfg: Settings) -> Path:
    try:
        return geo.geography(cfg).lsoa_boundaries
    except manifest.ManifestError as exc:
        raise HotspotError(f"LSOA hot spots need LSOA polygons: {exc}") from exc


def _internal_only(cfg: Settings) -> None:
    if cfg.mode == "public":
        raise HotspotError("LSOA hot spots are internal only: public pages show ward level or coarser")


def _lsoa_attributes(cfg: Settings) -> pd.DataFrame:
    """Code, name, ward and Census 2021 residents of every borough LSOA, from the warehouse.

    Read through the period-count query with no crime categories (every count is then 0), so the
    list of LSOAs comes from exactly the table the counts are joined to.
    """
    df = lsoa_period_counts([], [], FIRST_LSOA_MONTH, FIRST_LSOA_MONTH, cfg)
    return df.drop(columns="count")


@lru_cache(maxsize=4)
def _geometry_cached(cfg: Settings, path: str, mtime: float, wh_mtime: float) -> gpd.GeoDataFrame:
    polys = geo.lsoa_polygons(cfg)
    attrs = _lsoa_attributes(cfg)
    missing = sorted(set(attrs["lsoa21_code"]) - set(polys["code"]))
    if missing:
        raise HotspotError(
            f"{Path(path).name} has no polygon for {len(missing)} borough LSOA(s), e.g. {missing[:3]}"
        )
    out = attrs.rename(columns={"lsoa21_code": "code", "lsoa21_name": "name"}).merge(
        polys[["code", "geometry"]], on="code", how="left"
    )
    out = gpd.GeoDataFrame(out, geometry="geometry", crs=polys.crs)
    return out.sort_values("code").reset_index(drop=True)[
        ["code", "name", "ward_code", "population", "geometry"]
    ]


def lsoa_geometry(cfg: Settings | None = None) -> gpd.GeoDataFrame:
    """The borough's LSOA 2021 polygons in WGS84: code, name, ward_code, population, geometry.

    Polygons come from the embedded boundary file (the newest ``boundary_lsoa21`` in the manifest,
    read with ``geo.boundaries``); names, wards and Census 2021 residents from the warehouse's
    ``lsoas`` table. Cached per process, refreshed when the boundary file or the warehouse changes.
    The result is shared: do not change it in place (take ``.copy()`` first).
    """
    cfg = cfg or get_settings()
    _internal_only(cfg)
    path = _boundary_path(cfg)
    lsoas = cfg.warehouse_dir / "lsoas.parquet"
    wh_mtime = lsoas.stat().st_mtime if lsoas.exists() else 0.0
    return _geometry_cached(cfg, str(path), path.stat().st_mtime, wh_mtime)


def queen_weights(gdf: gpd.GeoDataFrame, code_col: str = "code") -> W:
    """Queen contiguity weights: two areas are neighbours when they share an edge or a corner.

    Ids are the area codes in ``code_col``. The weights are binary (``transform="B"``: 1 for a
    neighbour, 0 otherwise) and carry no self-weight; ``gi_star`` lets esda add the area itself
    with weight 1, which is what makes it Gi* rather than Gi. They are not row-standardised.

    Islands (areas touching no other) are reported with a warning and kept: esda's Gi* for an
    island compares only its own value with the whole borough (``gi_star`` shows 0 neighbours).
    """
    from libpysal.weights import Queen

    if gdf[code_col].duplicated().any():
        raise HotspotError(f"duplicate codes in {code_col!r}: weights need one polygon per area")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # libpysal's own island warning is replaced by ours below
        w = Queen.from_dataframe(gdf, ids=code_col, use_index=False)
    w.transform = "B"
    if w.islands:
        warnings.warn(
            f"{len(w.islands)} area(s) have no Queen neighbour (islands): {sorted(w.islands)}",
            UserWarning,
            stacklevel=2,
        )
    return w


def lsoa_weights(cfg: Settings | None = None) -> W:
    """Queen weights on the borough's LSOAs (``queen_weights(lsoa_geometry(cfg))``), cached per process."""
    cfg = cfg or get_settings()
    gdf = lsoa_geometry(cfg)
    return _weights_for(gdf)


_WEIGHTS: dict[int, tuple[gpd.GeoDataFrame, W]] = {}


def _weights_for(gdf: gpd.GeoDataFrame) -> W:
    # lsoa_geometry returns the same cached object until its inputs change, so its identity is the key.
    hit = _WEIGHTS.get(id(gdf))
    if hit is not None and hit[0] is gdf:
        return hit[1]
    w = queen_weights(gdf)
    if len(_WEIGHTS) >= 4:
        _WEIGHTS.clear()
    _WEIGHTS[id(gdf)] = (gdf, w)
    return w


# ----------------------------------------------------------------------------- statistics

PERMUTATIONS = 9999  # conditional permutations per Gi* run (the smallest two-sided p is 2 / 10,000)
SEED = 12345  # fixed, so every page, the TTCG view, the briefing pack and the CLI agree exactly
MIN_PERMUTATIONS = 99


def bh_fdr(p: np.ndarray | pd.Series) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values) for a set of p-values.

    An area with ``q < 0.05`` is significant with the expected share of false alarms among all
    areas called significant held at 5%. (``esda.fdr`` gives only the cut-off; this gives a q per
    area so each can be classed at 90, 95 and 99%.) Same as ``scipy.stats.false_discovery_control``.
    """
    p = np.asarray(p, dtype=float)
    if p.size == 0:
        return p.copy()
    return np.asarray(stats.false_discovery_control(p, method="bh"), dtype=float)


def _classify(z: np.ndarray, q: np.ndarray) -> tuple[list[str], list[int]]:
    klass, conf = [], []
    for zi, qi in zip(z, q):
        c = next((c for c, limit in _LEVELS if qi < limit), 0)
        if c and zi > 0:
            klass.append(f"hot spot {c}%")
        elif c and zi < 0:
            klass.append(f"cold spot {c}%")
        else:
            klass.append("not significant")
            c = 0
        conf.append(c)
    return klass, conf


_NEIGHBOURS: dict[int, tuple[W, list[np.ndarray], str]] = {}


def _structure(w: W) -> tuple[list[np.ndarray], str]:
    hit = _NEIGHBOURS.get(id(w))
    if hit is not None and hit[0] is w:
        return hit[1], hit[2]
    pos = {c: i for i, c in enumerate(w.id_order)}
    lists = [np.array(sorted(pos[j] for j in w.neighbors[c] if j != c), dtype=np.int64) for c in w.id_order]
    digest = hashlib.sha256(
        json.dumps([list(map(str, w.id_order)), [a.tolist() for a in lists]]).encode()
    ).hexdigest()
    if len(_NEIGHBOURS) >= 8:
        _NEIGHBOURS.clear()
    _NEIGHBOURS[id(w)] = (w, lists, digest)
    return lists, digest


def neighbour_lists(w: W) -> list[np.ndarray]:
    """For each area of ``w`` (in ``w.id_order``), the positions of its neighbours, itself excluded."""
    return _structure(w)[0]


@lru_cache(maxsize=8)
def _draws(n_others: int, k_max: int, permutations: int, seed: int) -> np.ndarray:
    """``permutations`` rows of ``k_max`` distinct positions among ``n_others``, in random order.

    Row r's first k entries are a uniformly random k-subset, for every k <= k_max (the k smallest
    of n_others independent uniform keys), so one matrix serves every area, as in esda's ``crand``.
    Read-only and shared: the same seed gives the same draws in every run.
    """
    rng = np.random.default_rng(seed)
    k = min(k_max, n_others)
    out = np.empty((permutations, k), dtype=np.int64)
    step = max(1, 4_000_000 // max(n_others, 1))  # rows per chunk: about 32 MB of keys at a time
    for r0 in range(0, permutations, step):
        keys = rng.random((min(step, permutations - r0), n_others))
        part = (
            np.argpartition(keys, k - 1, axis=1)[:, :k]
            if k < n_others
            else np.tile(np.arange(n_others), (keys.shape[0], 1))
        )
        order = np.argsort(np.take_along_axis(keys, part, axis=1), axis=1, kind="stable")
        out[r0 : r0 + keys.shape[0]] = np.take_along_axis(part, order, axis=1)
    out.setflags(write=False)
    return out


def permutation_tails(
    y: np.ndarray,
    neighbours: list[np.ndarray],
    permutations: int = PERMUTATIONS,
    seed: int = SEED,
    draws: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Conditional-permutation counts for Gi*: for each area i, of ``permutations`` random
    rearrangements that keep y_i in place and give i's k_i neighbour slots k_i values drawn without
    replacement from the other n - 1 areas, how many give a neighbour sum >= the observed one
    (``n_ge``) and how many <= it (``n_le``).

    With binary weights Gi*_i = (y_i + neighbour sum) / sum(y); y_i and sum(y) are fixed under
    conditional randomisation, so comparing neighbour sums is comparing Gi* itself, and for whole
    counts the sums are exact (no rounding decides a tie). Ties count on both sides, so each tail
    p-value, (n + 1) / (permutations + 1), is valid (never too small) for discrete data.
    ``draws`` (permutations x max neighbours) replaces the seeded draws (tests pass esda's own).
    """
    y = np.asarray(y, dtype=float)
    n = len(y)
    k_max = max((len(nb) for nb in neighbours), default=0)
    n_ge = np.zeros(n, dtype=np.int64)
    n_le = np.zeros(n, dtype=np.int64)
    if k_max == 0 or n < 2:
        return n_ge + permutations, n_le + permutations
    if draws is None:
        draws = _draws(n - 1, k_max, permutations, seed)
    for i, nb in enumerate(neighbours):
        k = len(nb)
        if k == 0:  # an island: nothing to rearrange, every rearrangement ties with the observation
            n_ge[i] = n_le[i] = draws.shape[0]
            continue
        others = np.delete(y, i)
        sims = others[draws[:, :k]].sum(axis=1)
        obs = y[nb].sum()
        n_ge[i] = int(np.count_nonzero(sims >= obs))
        n_le[i] = int(np.count_nonzero(sims <= obs))
    return n_ge, n_le


def permutation_p(n_ge: np.ndarray, n_le: np.ndarray, permutations: int) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided pseudo p-value (twice the smaller tail, at most 1) and the side (+1 upper, -1 lower)."""
    p_hi = (np.asarray(n_ge) + 1.0) / (permutations + 1.0)
    p_lo = (np.asarray(n_le) + 1.0) / (permutations + 1.0)
    side = np.where(p_hi < p_lo, 1, np.where(p_lo < p_hi, -1, 0))
    return np.minimum(1.0, 2.0 * np.minimum(p_hi, p_lo)), side


def gi_z(y: np.ndarray, w: W) -> np.ndarray:
    """Gi* z-scores, exactly ``esda.G_Local(y, w, transform="B", star=True).Zs`` (without permutations)."""
    import esda

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        # islands are reported by queen_weights; libpysal repeats it as "not fully connected"
        warnings.filterwarnings("ignore", message="The weights matrix is not fully connected")
        g = esda.G_Local(y, w, transform="B", star=True, permutations=0)
    return np.asarray(g.Zs, dtype=float)


def gi_star(
    values: pd.Series,
    w: W,
    permutations: int = PERMUTATIONS,
    seed: int = SEED,
    alpha: float = 0.05,
    *,
    use_cache: bool = True,
) -> pd.DataFrame:
    """Getis-Ord Gi* for every area: esda's z-score, a conditional-permutation p-value, and hot/cold
    classes after Benjamini-Hochberg false discovery rate control across all areas.

    ``values`` is indexed by area code and must hold exactly the areas of ``w``. Returns one row
    per area, in ``w.id_order``:

    * ``value``: the input value; ``neighbours``: how many areas touch it (0 for an island);
    * ``z``: the Gi* z-score, exactly ``esda.G_Local(y, w, transform="B", star=True).Zs``: the
      score shown (how far above or below the borough the area and its neighbours are);
    * ``p_sim``: the two-sided conditional-permutation pseudo p-value (``permutation_tails``:
      ``permutations`` rearrangements of the other areas' values around the area, fixed ``seed``),
      twice the smaller tail; never below 2 / (permutations + 1);
    * ``q``: Benjamini-Hochberg FDR-adjusted ``p_sim`` over all areas: the inference every class rests on;
    * ``klass``: "hot spot 99%" ... "cold spot 99%" (see ``CLASSES``): confidence c needs q < 1 - c,
      hot when the observed Gi* is in the upper tail of its permutation distribution, cold in the
      lower; ``confidence``: 99, 95, 90 or 0; ``significant``: q < ``alpha``;
    * ``p_norm``, ``q_norm``: the normal-approximation two-sided p (from z) and its BH q, kept for
      comparison only: crime counts are skewed and each area has few neighbours, so the normal
      approximation overstates significance (docs/STATISTICS.md section 4); no class uses them.

    Results are cached per process by lattice, values, permutations and seed (``use_cache=False``
    recomputes, for timing).

    With 9,999 permutations and 169 LSOAs, q for the single most extreme area is at least
    169 x 2/10,000 = 0.034: one area alone can be a 95% hot spot but not a 99% one (that needs at
    least four areas at the floor). If every value is the same there is nothing to find: z = 0,
    p = q = 1, not significant.
    """
    if permutations < MIN_PERMUTATIONS:
        raise HotspotError(f"Gi* needs at least {MIN_PERMUTATIONS} permutations (got {permutations})")
    codes = list(w.id_order)
    vals = pd.Series(values)
    if vals.index.duplicated().any():
        raise HotspotError("values has duplicate area codes")
    missing, extra = sorted(set(codes) - set(vals.index)), sorted(set(vals.index) - set(codes))
    if missing or extra:
        raise HotspotError(
            f"values and weights cover different areas: missing {missing[:5]}, extra {extra[:5]}"
        )
    y = vals.reindex(codes).astype(float).to_numpy()
    if not np.isfinite(y).all():
        raise HotspotError("values must all be finite numbers (a missing count is not a zero)")
    key = (
        _structure(w)[1],
        hashlib.sha256(y.tobytes()).hexdigest(),
        int(permutations),
        int(seed),
        float(alpha),
    )
    if use_cache:
        with _GI_LOCK:
            hit = _GI_CACHE.get(key)
            if hit is not None:
                _GI_CACHE.move_to_end(key)
                return hit.copy()
    out = _gi_star(y, codes, w, permutations, seed, alpha)
    with _GI_LOCK:  # Streamlit sessions run in threads
        _GI_CACHE[key] = out
        while len(_GI_CACHE) > _GI_CACHE_SIZE:
            _GI_CACHE.popitem(last=False)
    return out.copy()


# Gi* results by (lattice, values, permutations, seed, alpha): a page, the TTCG view, the briefing
# pack and the CLI asking about the same data, category and period in one process compute it once.
# Keyed on the values themselves, so a rebuilt warehouse with new figures can never be served old ones.
_GI_CACHE: OrderedDict[tuple, pd.DataFrame] = OrderedDict()
_GI_CACHE_SIZE = 512
_GI_LOCK = threading.Lock()


def _gi_star(y: np.ndarray, codes: list, w: W, permutations: int, seed: int, alpha: float) -> pd.DataFrame:
    n = len(y)
    neighbours = np.array([w.cardinalities[c] for c in codes], dtype=int)
    if n < 3 or np.ptp(y) == 0:
        z, p_norm, p_sim, side = np.zeros(n), np.ones(n), np.ones(n), np.zeros(n, dtype=int)
    else:
        z = gi_z(y, w)
        p_norm = np.minimum(1.0, 2.0 * stats.norm.sf(np.abs(z)))
        n_ge, n_le = permutation_tails(y, neighbour_lists(w), permutations, seed)
        p_sim, side = permutation_p(n_ge, n_le, permutations)
    q = bh_fdr(p_sim)
    klass, conf = _classify(np.where(side != 0, side, z), q)
    out = pd.DataFrame(
        {
            "code": codes,
            "value": y,
            "neighbours": neighbours,
            "z": z,
            "p_sim": p_sim,
            "q": q,
            "klass": klass,
            "confidence": conf,
            "significant": (q < alpha) & (np.asarray(conf) > 0),
            "p_norm": p_norm,
            "q_norm": bh_fdr(p_norm),
        }
    )
    out.attrs.update({"permutations": permutations, "seed": seed})
    return out


def null_calibration(
    values: pd.Series,
    w: W,
    runs: int = 2000,
    permutations: int = PERMUTATIONS,
    seed: int = SEED,
    alpha: float = 0.05,
) -> dict:
    """How often Gi* finds hot or cold spots where there are none, on a real lattice.

    Each of ``runs`` null data sets scatters the real ``values`` (whole counts) over the areas of
    ``w`` at random (spatial randomness with the real, skewed distribution of counts), then tests
    every area as :func:`gi_star` does: ``permutations`` conditional permutations, two-sided
    pseudo p, Benjamini-Hochberg across areas, and, for contrast, the normal approximation (z from
    the Getis-Ord moments, two-sided p, the same BH). Returns the share of runs with at least one
    area called significant at ``alpha`` (any hot or cold spot: under a null with no clusters
    anywhere, that is the false discovery rate BH controls), the share with a hot spot, and the
    per-area rate of a raw p below ``alpha``, for both rules, with Monte Carlo standard errors.

    Speed: with the multiset of values fixed, area i's permutation distribution depends only on
    its own value and its number of neighbours, so the reference draws are made once per (value,
    neighbours) pair with the seeded draws ``gi_star`` uses, and each run only looks its observed
    neighbour sums up in them. Each run's p-values are still valid Monte Carlo p-values (the draws
    do not depend on the run); runs share reference draws, which adds a little to the Monte Carlo
    error of the rates but no bias. Full 9,999 permutations, so the p-value floor is the real one.
    """
    codes = list(w.id_order)
    y = pd.Series(values).reindex(codes).astype(float).to_numpy()
    if not np.isfinite(y).all() or (y != np.round(y)).any() or (y < 0).any():
        raise HotspotError("null_calibration needs a whole, non-negative count for every area of w")
    n = len(y)
    nb = neighbour_lists(w)
    card = np.array([len(a) for a in nb])
    k_max = int(card.max())
    draws = _draws(n - 1, k_max, permutations, seed)
    values_u = np.unique(y)
    ks = np.unique(card[card > 0])
    big = float(y.sum()) + 1.0
    ref_blocks: list[np.ndarray] = []
    combo: dict[tuple[float, int], int] = {}
    for v in values_u:
        others = np.delete(y, int(np.flatnonzero(y == v)[0]))
        cums = np.cumsum(others[draws], axis=1)
        for k in ks:
            combo[(v, int(k))] = len(ref_blocks)
            ref_blocks.append(np.sort(cums[:, k - 1]) + len(ref_blocks) * big)
    ref_all = np.concatenate(ref_blocks)
    rng = np.random.default_rng(seed + 1)
    Y = rng.permuted(np.tile(y, (runs, 1)), axis=1)
    adj = np.zeros((n, n))
    for i, a in enumerate(nb):
        adj[i, a] = 1.0
    S = Y @ adj.T  # neighbour sums (self excluded), runs x areas
    cidx = np.vectorize(lambda v, k: combo.get((v, int(k)), -1))(Y, np.broadcast_to(card, Y.shape))
    island = cidx < 0
    cidx = np.where(island, 0, cidx)
    qv = S + cidx * big
    n_le = np.searchsorted(ref_all, qv, side="right") - cidx * permutations
    n_ge = permutations - (np.searchsorted(ref_all, qv, side="left") - cidx * permutations)
    n_le = np.where(island, permutations, n_le)
    n_ge = np.where(island, permutations, n_ge)
    p_perm, side = permutation_p(n_ge, n_le, permutations)
    # normal approximation: Getis-Ord Gi* z (binary weights with self), as esda computes it
    wstar = adj + np.eye(n)
    wsum = wstar.sum(axis=1)
    xbar, sd = y.mean(), math.sqrt((y**2).mean() - y.mean() ** 2)
    z = (Y @ wstar.T - xbar * wsum) / (sd * np.sqrt((n * wsum - wsum**2) / (n - 1)))
    p_norm = np.minimum(1.0, 2.0 * stats.norm.sf(np.abs(z)))
    q_perm = np.vstack([bh_fdr(r) for r in p_perm])
    q_norm = np.vstack([bh_fdr(r) for r in p_norm])

    def rate(x: np.ndarray | np.generic) -> dict:
        a = np.asarray(x, dtype=float)
        m = float(a.mean())
        return {"rate": m, "se": math.sqrt(max(m * (1 - m), 1e-12) / a.size)}

    sig_p, sig_n = q_perm < alpha, q_norm < alpha
    return {
        "runs": runs,
        "areas": n,
        "permutations": permutations,
        "alpha": alpha,
        "total": int(y.sum()),
        "perm_any": rate(sig_p.any(axis=1)),
        "perm_any_hot": rate((sig_p & (side > 0)).any(axis=1)),
        "perm_area_q": rate(sig_p),
        "perm_area_raw": rate(p_perm < alpha),
        "norm_any": rate(sig_n.any(axis=1)),
        "norm_any_hot": rate((sig_n & (z > 0)).any(axis=1)),
        "norm_area_q": rate(sig_n),
        "norm_area_raw": rate(p_norm < alpha),
        "null_values": Y[:3].copy(),
        "null_p": p_perm[:3].copy(),
    }


def _is_hot(klass: pd.Series) -> pd.Series:
    return klass.str.startswith("hot spot")


def persistence(
    period_values: pd.DataFrame,
    w: W,
    periods: list,
    *,
    hot_share: float = 0.9,
    trend_alpha: float = 0.05,
    permutations: int = PERMUTATIONS,
    seed: int = SEED,
) -> pd.DataFrame:
    """How long each area has been a hot spot, and whether it is heating up or cooling down.

    ``period_values`` has columns code, period, value (one row per area and period; every area of
    ``w`` in every period). ``periods`` lists the periods to use, oldest first; the last is "now".
    Gi* (``gi_star``: conditional permutations, FDR-adjusted across areas within each period, the
    same inference as the single-period map) is run for each period. For each area:

    * ``hot_periods``: in how many of the periods it was a hot spot (any confidence);
    * ``hot_final``: whether it is a hot spot in the final period;
    * ``trend_tau``, ``trend_p``: Mann-Kendall trend of its Gi* z-scores over the periods
      (``scipy.stats.kendalltau`` of z against time); significant when ``trend_p < trend_alpha``;
    * ``emerging``, the first that applies:
        - "new": hot in the final period only;
        - "intensifying": hot in at least ``hot_share`` (90%) of the periods including the final
          one, with z rising significantly;
        - "diminishing": the same history, z falling significantly;
        - "persistent": the same history, no significant trend;
        - "sporadic": hot in the final period, on and off before;
        - "historical": hot in some earlier period but not in the final one;
        - "none": never a hot spot.

    These follow the spirit of ArcGIS Pro's Emerging Hot Spot Analysis, simplified (no
    space-time cube or time-neighbours, no cold-spot classes, no "consecutive" and "oscillating").
    """
    periods = list(periods)
    if not periods:
        raise HotspotError("persistence needs at least one period")
    need = {"code", "period", "value"}
    if not need <= set(period_values.columns):
        raise HotspotError(f"period_values needs columns {sorted(need)}")
    absent = [p for p in periods if p not in set(period_values["period"])]
    if absent:
        raise HotspotError(f"no values for period(s) {absent[:5]}")
    wide = period_values[period_values["period"].isin(periods)].pivot(
        index="code", columns="period", values="value"
    )
    zs, hots = {}, {}
    for p in periods:
        r = gi_star(wide[p].dropna(), w, permutations=permutations, seed=seed).set_index("code")
        zs[p], hots[p] = r["z"], _is_hot(r["klass"])
    z = pd.DataFrame(zs)[periods]
    hot = pd.DataFrame(hots)[periods]
    n = len(periods)
    t = np.arange(n)
    rows = []
    for code in z.index:
        zrow = z.loc[code].to_numpy(dtype=float)
        hrow = hot.loc[code].to_numpy(dtype=bool)
        tau, p = (np.nan, np.nan)
        if n >= 3 and np.ptp(zrow) > 0:
            res = stats.kendalltau(t, zrow)
            tau, p = float(res.statistic), float(res.pvalue)
        n_hot, final = int(hrow.sum()), bool(hrow[-1])
        rising = not math.isnan(p) and p < trend_alpha and tau > 0
        falling = not math.isnan(p) and p < trend_alpha and tau < 0
        if final and n_hot == 1:
            cls = "new"
        elif final and n_hot / n >= hot_share:
            cls = "intensifying" if rising else "diminishing" if falling else "persistent"
        elif final:
            cls = "sporadic"
        elif n_hot:
            cls = "historical"
        else:
            cls = "none"
        rows.append(
            {
                "code": code,
                "periods": n,
                "hot_periods": n_hot,
                "hot_final": final,
                "z_final": float(zrow[-1]),
                "trend_tau": tau,
                "trend_p": p,
                "emerging": cls,
            }
        )
    return pd.DataFrame(rows).reset_index(drop=True)


# ----------------------------------------------------------------------------- the warehouse


def lsoa_period_counts(
    majors: list[str], minors: list[str], start: date, end: date, cfg: Settings | None = None
) -> pd.DataFrame:
    """Offences per borough LSOA over ``start``..``end`` (first days of months), 0 where none:
    lsoa21_code, lsoa21_name, ward_code, population, count (query ``hotspots/lsoa_period_counts``)."""
    cfg = cfg or get_settings()
    _internal_only(cfg)
    return sql.run(
        "hotspots/lsoa_period_counts",
        borough_code=cfg.borough_code,
        majors=list(majors),
        minors=list(minors),
        start=start,
        end=end,
        cfg=cfg,
    )


def lsoa_monthly_counts(
    majors: list[str], minors: list[str], start: date, end: date, cfg: Settings | None = None
) -> pd.DataFrame:
    """Offences per borough LSOA and month, for months the LSOA data cover within ``start``..``end``:
    lsoa21_code, month, count, by month then LSOA (query ``crime/area_monthly_counts`` at LSOA level)."""
    cfg = cfg or get_settings()
    _internal_only(cfg)
    from csp_data.analysis.trends import area_monthly

    df = area_monthly("lsoa", majors, minors, start, end, cfg).rename(columns={"area_code": "lsoa21_code"})
    return df.sort_values(["month", "lsoa21_code"]).reset_index(drop=True)


def lsoa_hotspots(
    majors: list[str],
    minors: list[str],
    start: date,
    end: date,
    cfg: Settings | None = None,
    *,
    permutations: int = PERMUTATIONS,
    seed: int = SEED,
) -> gpd.GeoDataFrame:
    """Gi* hot spots of the borough's LSOAs for MPS categories over a period, ready to map.

    One row per LSOA (WGS84): code, name, ward_code, population, count, rate_per_1000 (Census 2021
    residents) and the ``gi_star`` columns (z, p_sim, q, klass, confidence, p_norm, q_norm, ...).
    Gi* runs on counts, not rates (see the module notes and ``CAVEAT``, also in ``.attrs["caveat"]``).
    Classes come from conditional permutations (``permutations``, fixed ``seed``) and BH across LSOAs.
    """
    cfg = cfg or get_settings()
    counts = lsoa_period_counts(majors, minors, start, end, cfg)
    shapes = lsoa_geometry(cfg)
    if set(counts["lsoa21_code"]) != set(shapes["code"]):
        raise HotspotError("the LSOAs in the counts and in the boundary file differ")
    w = _weights_for(shapes)
    gi = gi_star(counts.set_index("lsoa21_code")["count"], w, permutations=permutations, seed=seed)
    out = shapes.copy()
    out = out.merge(counts[["lsoa21_code", "count"]].rename(columns={"lsoa21_code": "code"}), on="code")
    out["rate_per_1000"] = out["count"] / out["population"] * 1000
    out = out.merge(gi.drop(columns="value"), on="code")
    out = gpd.GeoDataFrame(out, geometry="geometry", crs=shapes.crs)
    out.attrs.update(
        {"caveat": CAVEAT, "start": str(start), "end": str(end), "permutations": permutations, "seed": seed}
    )
    return out


def ward_hotspots(
    majors: list[str],
    minors: list[str],
    start: date,
    end: date,
    cfg: Settings | None = None,
    *,
    permutations: int = PERMUTATIONS,
    seed: int = SEED,
) -> gpd.GeoDataFrame:
    """Gi* on the borough's wards (20 in Tower Hamlets; Queen contiguity on the ward polygons), as ``lsoa_hotspots``:
    code, name, population, count, rate_per_1000 and the ``gi_star`` columns. With 20 areas a ward
    needs a two-sided permutation p below 0.0025 (0.05 / 20) to be a 95% hot spot on its own."""
    cfg = cfg or get_settings()
    counts = sql.run(
        "crime/ward_period_totals",
        borough_code=cfg.borough_code,
        majors=list(majors),
        minors=list(minors),
        start=start,
        end=end,
        cfg=cfg,
    )
    shapes = geo.ward_geometry(cfg)
    if set(counts["ward_code"]) != set(shapes["code"]):
        raise HotspotError("the wards in the counts and in the boundary file differ")
    shapes = shapes.sort_values("code").reset_index(drop=True)
    w = _ward_weights(shapes)
    gi = gi_star(counts.set_index("ward_code")["count"], w, permutations=permutations, seed=seed)
    out = shapes[["code", "name", "geometry"]].merge(
        counts[["ward_code", "population", "count"]].rename(columns={"ward_code": "code"}), on="code"
    )
    out["rate_per_1000"] = out["count"] / out["population"] * 1000
    out = out.merge(gi.drop(columns="value"), on="code")
    out = gpd.GeoDataFrame(out, geometry="geometry", crs=shapes.crs)
    out.attrs.update({"start": str(start), "end": str(end), "permutations": permutations, "seed": seed})
    return out


_WARD_WEIGHTS: dict[tuple, W] = {}


def _ward_weights(shapes: gpd.GeoDataFrame) -> W:
    key = (
        tuple(shapes["code"]),
        hashlib.sha256(b"".join(shapely.to_wkb(shapes.geometry.to_numpy()))).hexdigest(),
    )
    if key not in _WARD_WEIGHTS:
        _WARD_WEIGHTS.clear()
        _WARD_WEIGHTS[key] = queen_weights(shapes)
    return _WARD_WEIGHTS[key]


# ----------------------------------------------------------------------------- what is robust


def no_hotspot_sentence(n_areas: int, area_word: str = "LSOA") -> str:
    """The plain statement when no area survives permutation and FDR control."""
    return f"No {area_word} is a hot spot after allowing for {n_areas} areas tested at once."


def concentration_table(
    current: pd.Series, previous: pd.Series | None, shares: tuple[float, ...] = (0.05, 0.10)
) -> pd.DataFrame:
    """How concentrated offences are: for each share of areas (top 5%, top 10% by count), how many
    areas that is and what share of all offences they hold, now and in the previous equal period
    (each period ranks its own busiest areas). Needs no test of significance: it is a description.

    Columns: top_pct, areas, share_now, share_before (NaN when no previous period is held or it
    had no offences)."""
    cur = np.sort(np.asarray(current, dtype=float))[::-1]
    prev = None if previous is None else np.sort(np.asarray(pd.Series(previous).dropna(), dtype=float))[::-1]
    if prev is not None and len(prev) != len(cur):
        prev = None
    rows = []
    for s in shares:
        k = max(1, int(np.ceil(s * cur.size))) if cur.size else 0
        now = float(cur[:k].sum() / cur.sum()) if cur.size and cur.sum() > 0 else float("nan")
        before = (
            float(prev[:k].sum() / prev.sum())
            if prev is not None and prev.size and prev.sum() > 0
            else float("nan")
        )
        rows.append({"top_pct": round(s * 100), "areas": k, "share_now": now, "share_before": before})
    return pd.DataFrame(rows)


def ranked(table: pd.DataFrame, by: str, n: int = 10) -> pd.DataFrame:
    """The ``n`` areas with the most offences (``by="count"``) or the highest rate per 1,000
    residents (``by="rate"``), ties broken by name. Needs columns code, name, count, population."""
    if by not in ("count", "rate"):
        raise HotspotError(f"rank by 'count' or 'rate', not {by!r}")
    t = table.copy()
    t["rate_per_1000"] = t["count"] / t["population"] * 1000
    col = "count" if by == "count" else "rate_per_1000"
    t = t.sort_values([col, "name"], ascending=[False, True]).head(n).reset_index(drop=True)
    t.insert(0, "rank", range(1, len(t) + 1))
    return t[["rank", "code", "name", "count", "population", "rate_per_1000"]]


# ----------------------------------------------------------------------------- one row per area (CLI)

LEVELS = ("lsoa", "ward")
REPORT_COLUMNS = (
    "area_code",
    "area_name",
    "count",
    "previous_count",
    "change_verdict",
    "gi_z",
    "gi_p",
    "gi_q",
    "hotspot_class",
)
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(text: str, what: str = "month") -> date:
    """``YYYY-MM`` as the first day of that month; anything else (2026-13, 2026-1, March) is refused."""
    m = _MONTH_RE.match(str(text).strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise HotspotError(f"{what} must be a month written YYYY-MM, e.g. 2026-02 (got {text!r})")
    return date(int(m.group(1)), int(m.group(2)), 1)


def resolve_category(text: str, cfg: Settings | None = None):
    """The hotspots page's category for ``text``: a label from the page's filter ("Robbery",
    "All theft", "Theft: shoplifting"), a plan measure id ("robbery"), or an MPS major or minor
    category name ("ROBBERY", "SHOPLIFTING"), all case-insensitive. Unknown names are refused with
    the labels that come closest."""
    import difflib

    from csp_data.analysis import areas as analysis

    cats = analysis.categories(cfg)
    want = " ".join(str(text).split()).casefold()
    if not want:
        raise HotspotError("--category is empty: name a category, e.g. ROBBERY")
    by_label = {c.label.casefold(): c for c in cats}
    if want in by_label:
        return by_label[want]
    from csp_data.plan.measures import BY_ID

    m = BY_ID.get(want)
    if m is not None and m.label.casefold() in by_label:
        return by_label[m.label.casefold()]
    for c in cats:
        if (
            c.majors
            and not c.minors
            and len(c.majors) == 1
            and c.majors[0].casefold() == want
            and c.label.casefold().startswith("all ")
        ):
            return c
    for c in cats:
        if c.minors and not c.majors and len(c.minors) == 1 and c.minors[0].casefold() == want:
            return c
    close = difflib.get_close_matches(want, list(by_label), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(repr(by_label[c].label) for c in close)}?" if close else ""
    raise HotspotError(
        f"unknown category {text!r}{hint} (the hotspots page's categories, a measure id such as "
        "'robbery', or an MPS category such as 'ROBBERY')"
    )


def months_held(level: str, cfg: Settings | None = None) -> tuple[date, date]:
    """First and last month of MPS recorded crime held at ``level`` ("lsoa" or "ward")."""
    cfg = cfg or get_settings()
    if level not in LEVELS:
        raise HotspotError(f"level must be one of {', '.join(LEVELS)} (got {level!r})")
    span = sql.run("meta/data_span", borough_code=cfg.borough_code, cfg=cfg).set_index("dataset")
    key = f"crime_{level}"
    if key not in span.index or pd.isna(span.at[key, "first_month"]):
        raise HotspotError(f"no {level.upper()} crime data are held")
    return pd.Timestamp(span.at[key, "first_month"]).date(), pd.Timestamp(span.at[key, "last_month"]).date()


def area_report(
    category: str, start: date, end: date, level: str = "lsoa", cfg: Settings | None = None
) -> pd.DataFrame:
    """One row per area for a category and period: the figures the hotspots page, the TTCG view
    and the briefing pack show, from the same functions (``analysis.area_table`` for counts and
    the change verdict, ``lsoa_hotspots`` / ``ward_hotspots`` for Gi*).

    Columns ``REPORT_COLUMNS``: area_code, area_name, count, previous_count (the equal period just
    before; empty when it is not held), change_verdict, gi_z (esda's Gi* z), gi_p (two-sided
    conditional-permutation p, 9,999 permutations, fixed seed), gi_q (Benjamini-Hochberg across
    the areas), hotspot_class. Most offences first. ``.attrs`` carries the category, the period,
    the previous period and the method.
    """
    from csp_data.analysis import areas as analysis
    from csp_data.plan.periods import make

    cfg = cfg or get_settings()
    if level not in LEVELS:
        raise HotspotError(f"level must be one of {', '.join(LEVELS)} (got {level!r})")
    _internal_only(cfg)
    cat = resolve_category(category, cfg)
    if start > end:
        raise HotspotError(f"--from {start:%Y-%m} is after --to {end:%Y-%m}")
    first, last = months_held(level, cfg)
    if end > last:
        raise HotspotError(f"{level.upper()} data end in {last:%Y-%m}: --to {end:%Y-%m} is after the data")
    if start < first:
        raise HotspotError(
            f"{level.upper()} data start in {first:%Y-%m}: --from {start:%Y-%m} is before the data"
        )
    period = make(start, end)
    table = analysis.area_table(cat, period, "LSOAs" if level == "lsoa" else "Wards", None, cfg)
    gi = (lsoa_hotspots if level == "lsoa" else ward_hotspots)(
        list(cat.majors), list(cat.minors), start, end, cfg
    )
    merged = table.merge(pd.DataFrame(gi[["code", "z", "p_sim", "q", "klass"]]), on="code", how="left")
    if merged["klass"].isna().any():
        raise HotspotError("the area table and the hot-spot test cover different areas")
    out = pd.DataFrame(
        {
            "area_code": merged["code"],
            "area_name": merged["name"],
            "count": merged["count"].astype(int),
            "previous_count": merged["previous"].astype("Int64"),
            "change_verdict": merged["verdict"],
            "gi_z": merged["z"].astype(float),
            "gi_p": merged["p_sim"].astype(float),
            "gi_q": merged["q"].astype(float),
            "hotspot_class": merged["klass"],
        }
    )
    out.attrs.update(
        {
            "category": cat.label,
            "period": period.label,
            "previous": table.attrs.get("previous"),
            "level": level,
            "permutations": PERMUTATIONS,
            "seed": SEED,
        }
    )
    return out[list(REPORT_COLUMNS)]


def periods_ending(months: list[date], months_per_period: int) -> list[tuple[date, list[date]]]:
    """Group months (oldest first) into whole periods of ``months_per_period`` that end with the
    latest month; an incomplete oldest group is dropped. Each period is named by its first month."""
    months = sorted(months)
    k = int(months_per_period)
    if k < 1:
        raise HotspotError("months_per_period must be at least 1")
    whole = len(months) - len(months) % k
    kept = months[len(months) - whole :]
    return [(kept[i], kept[i : i + k]) for i in range(0, whole, k)]


def lsoa_emerging(
    majors: list[str],
    minors: list[str],
    start: date,
    end: date,
    cfg: Settings | None = None,
    *,
    months_per_period: int = 3,
) -> pd.DataFrame:
    """Emerging hot-spot classes of the borough's LSOAs (``persistence``) over ``start``..``end``,
    with months grouped into periods of ``months_per_period`` (quarters by default: one month of
    one offence type is usually too few crimes per LSOA for Gi* to find anything)."""
    cfg = cfg or get_settings()
    monthly = lsoa_monthly_counts(majors, minors, start, end, cfg)
    months = sorted({pd.Timestamp(m).date() for m in monthly["month"]})
    groups = periods_ending(months, months_per_period)
    if not groups:
        raise HotspotError("no whole period of LSOA data in the chosen months")
    label = {m: first for first, ms in groups for m in ms}
    monthly = monthly.assign(period=[label.get(pd.Timestamp(m).date()) for m in monthly["month"]])
    monthly = monthly.dropna(subset=["period"])
    pv = (
        monthly.groupby(["lsoa21_code", "period"], as_index=False)["count"]
        .sum()
        .rename(columns={"lsoa21_code": "code", "count": "value"})
    )
    w = _weights_for(lsoa_geometry(cfg))
    return persistence(pv, w, [first for first, _ in groups])
