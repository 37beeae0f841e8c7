"""Hot-spot timings for the benchmark report: Gi* and the map payload on the embedded LSOAs, and Gi*
on a scaled-up copy the size of all London.

The scaled-up copy uses the real 12-month robbery counts of every London LSOA in the embedded MPS
LSOA file (4,988 LSOAs). London LSOA boundaries are not embedded, so its neighbours come from a
square lattice of the same number of cells with queen contiguity (8 neighbours inside, fewer at the
edge; Tower Hamlets' real LSOAs average 5.5): the cost of Gi* depends on the number of areas and
links, not on where they are, so this measures the London-scale cost without inventing boundaries.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date

import numpy as np
import pandas as pd


def run(timed: Callable, summary: Callable, repeat: int, cfg) -> dict:
    from libpysal.weights import lat2W

    from csp_data.analysis import hotspots
    from csp_data.present import maps
    from csp_data.warehouse import geo

    out: dict = {}
    latest = pd.Timestamp(
        hotspots.lsoa_monthly_counts(["ROBBERY"], [], date(2023, 8, 1), date(2030, 1, 1), cfg)["month"].max()
    ).date()
    start = date(latest.year - 1 if latest.month < 12 else latest.year, (latest.month % 12) + 1, 1)
    geom = hotspots.lsoa_geometry(cfg)
    w = hotspots.queen_weights(geom)
    counts = hotspots.lsoa_period_counts(["ROBBERY"], [], start, latest, cfg).set_index("lsoa21_code")[
        "count"
    ]

    s, _ = timed(lambda: hotspots.gi_star(counts, w, use_cache=False), repeat)
    out["gi_embedded_999"] = {"areas": len(counts), **summary(s)}
    y_emb = counts.reindex(w.id_order).astype(float).to_numpy()
    s, _ = timed(lambda: hotspots.gi_z(y_emb, w), repeat)
    out["gi_embedded_analytic"] = {"areas": len(counts), **summary(s)}
    # gi_star caches results by content: clear it before each call so these time the computation
    s, _ = timed(
        lambda: hotspots.lsoa_hotspots(["ROBBERY"], [], start, latest, cfg),
        repeat,
        setup=hotspots._GI_CACHE.clear,
    )
    out["lsoa_hotspots_page"] = {"areas": len(counts), **summary(s)}
    s, _ = timed(
        lambda: hotspots.lsoa_emerging(["ROBBERY"], [], date(2023, 8, 1), latest, cfg),
        max(5, repeat // 3),
        setup=hotspots._GI_CACHE.clear,
    )
    out["emerging_quarters"] = {"areas": len(counts), **summary(s)}

    simple = geo.simplify(geom)
    spec = maps.choropleth(
        simple.assign(count=counts.reindex(simple["code"]).fillna(0).to_numpy())[
            ["code", "name", "count", "geometry"]
        ],
        "count",
        "{name}",
        outline=geo.simplify(geo.ward_geometry(cfg)),
    )
    raw = maps.choropleth(geom.assign(count=0)[["code", "name", "count", "geometry"]], "count", "{name}")
    out["map_payload"] = {"simplified_bytes": spec.payload_bytes, "unsimplified_bytes": raw.payload_bytes}

    # scaled-up: every London LSOA's real robbery count over the same 12 months
    src = next((cfg.sources_dir / "mps").glob("mps_lsoa_crime_*.parquet"))
    wide = pd.read_parquet(src)
    months = [
        c for c in wide.columns if c.isdigit() and start.strftime("%Y%m") <= c <= latest.strftime("%Y%m")
    ]
    lon = wide[wide["major_category"] == "ROBBERY"].groupby("lsoa_code")[months].sum().sum(axis=1)
    all_codes = sorted(wide["lsoa_code"].unique())
    london = lon.reindex(all_codes, fill_value=0)
    side = math.ceil(math.sqrt(len(london)))
    lattice = lat2W(side, side, rook=False, id_type="int")
    n = side * side
    values = np.zeros(n)
    values[: len(london)] = london.to_numpy()
    series = pd.Series(values, index=list(range(n)))
    s, _ = timed(lambda: hotspots.gi_star(series, lattice, use_cache=False), max(5, repeat // 3))
    out["gi_london_999"] = {"areas": n, "lsoas_with_counts": len(london), **summary(s)}
    s, _ = timed(lambda: hotspots.gi_z(values, lattice), repeat)
    out["gi_london_analytic"] = {"areas": n, **summary(s)}
    out["period"] = f"{start:%b %Y} to {latest:%b %Y}"
    return out


def section(h: dict) -> str:
    rows = [
        ("Gi*, 9,999 conditional permutations + FDR, embedded LSOAs", h["gi_embedded_999"]),
        ("Gi* z only (no inference), embedded LSOAs", h["gi_embedded_analytic"]),
        ("Page hot spots (counts query + Gi* + join), embedded", h["lsoa_hotspots_page"]),
        ("Emerging classes (quarters since Aug 2023), embedded", h["emerging_quarters"]),
        ("Gi*, 9,999 conditional permutations + FDR, London-size lattice", h["gi_london_999"]),
        ("Gi* z only (no inference), London-size lattice", h["gi_london_analytic"]),
    ]
    lines = ["| computation | areas | p50 ms | p95 ms |", "|---|---:|---:|---:|"]
    lines += [f"| {name} | {x['areas']:,} | {x['p50_ms']:.1f} | {x['p95_ms']:.1f} |" for name, x in rows]
    emb, lon = h["gi_embedded_999"]["p50_ms"], h["gi_london_999"]["p50_ms"]
    mp = h["map_payload"]
    return f"""## Hot spots (robbery, {h["period"]})

{chr(10).join(lines)}

London-size Gi* with permutations costs **{lon / emb:.0f}x** the embedded borough's
({h["gi_london_999"]["areas"]:,} lattice cells holding the real counts of {h["gi_london_999"]["lsoas_with_counts"]:,}
London LSOAs; see `benchmarks/hotspots_bench.py` for why a lattice). The LSOA map's deck JSON is
**{mp["simplified_bytes"] / 1024:.0f} KB** with simplified boundaries and compact JSON, against
{mp["unsimplified_bytes"] / 1024:.0f} KB unsimplified ({mp["unsimplified_bytes"] / mp["simplified_bytes"]:.1f}x).
"""
