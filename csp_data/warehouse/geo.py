"""Boundaries and point-in-polygon assignment of ward and LSOA 2021 codes.

The rule for a point (tested in tests/test_geo.py):
1. A point strictly inside one polygon takes that polygon's code.
2. A point exactly on a shared boundary (inside none, touching two or more) takes the code that
   sorts first, so the answer is deterministic and the point is counted once.
3. A point outside every polygon (outside the borough) gets no code and ``geo_status='outside'``;
   a record with no coordinates gets ``geo_status='no_location'``. Neither is dropped.
4. Ward polygons are generalised, so a point inside the borough (by the full-resolution LSOA
   polygons) can fall a few metres outside every ward: ``fill_nearest`` gives it the nearest ward
   within a stated distance (default 150 m), and leaves it blank beyond that.

Also the borough's ward shapes as the maps draw them (:func:`ward_geometry`, names as the
warehouse spells them) and their simplified copy for drawing (:func:`simplify`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely import points as make_points

from csp_data.config import Settings
from csp_data.config import settings as get_settings
from csp_data.warehouse import manifest

WGS84 = "EPSG:4326"
BNG = "EPSG:27700"  # British National Grid, metres


def read_boundaries(path: Path, code_col: str, name_col: str) -> gpd.GeoDataFrame:
    gdf = gpd.read_file(path)
    if code_col not in gdf or name_col not in gdf:
        raise ValueError(f"{path.name}: expected properties {code_col!r} and {name_col!r}")
    gdf = gdf[[code_col, name_col, "geometry"]].rename(columns={code_col: "code", name_col: "name"})
    if gdf.crs is None:
        gdf = gdf.set_crs(WGS84)
    return gdf.to_crs(WGS84).sort_values("code").reset_index(drop=True)


def assign_codes(lon: pd.Series, lat: pd.Series, polygons: gpd.GeoDataFrame) -> tuple[pd.Series, pd.Series]:
    """Return (code, geo_status) for each point under the module's rule."""
    index = lon.index
    codes = pd.Series(pd.NA, index=index, dtype="string")
    status = pd.Series("no_location", index=index, dtype="string")
    has = lon.notna() & lat.notna()
    if not has.any():
        return codes, status
    pts = gpd.GeoDataFrame(
        {"_i": np.flatnonzero(has.to_numpy())},
        geometry=make_points(lon[has].to_numpy(), lat[has].to_numpy()),
        crs=WGS84,
    )
    hit = gpd.sjoin(pts, polygons[["code", "geometry"]], how="left", predicate="intersects")
    # intersects = within or on the boundary; several matches only happen on a shared edge.
    first = hit.dropna(subset=["code"]).sort_values(["_i", "code"]).drop_duplicates("_i")
    pos = index[first["_i"].to_numpy()]
    codes.loc[pos] = first["code"].to_numpy()
    status.loc[index[pts["_i"].to_numpy()]] = "outside"
    status.loc[pos] = "inside"
    return codes, status


def fill_nearest(
    codes: pd.Series,
    lon: pd.Series,
    lat: pd.Series,
    polygons: gpd.GeoDataFrame,
    only: pd.Series,
    max_metres: float = 150.0,
) -> pd.Series:
    """Fill blank ``codes`` where ``only`` is true with the nearest polygon within ``max_metres``."""
    need = codes.isna() & only & lon.notna() & lat.notna()
    if not need.any():
        return codes
    pts = gpd.GeoDataFrame(
        {"_i": np.flatnonzero(need.to_numpy())},
        geometry=make_points(lon[need].to_numpy(), lat[need].to_numpy()),
        crs=WGS84,
    ).to_crs(BNG)
    near = gpd.sjoin_nearest(
        pts, polygons[["code", "geometry"]].to_crs(BNG), how="inner", max_distance=max_metres
    )
    near = near.sort_values(["_i", "code"]).drop_duplicates("_i")
    out = codes.copy()
    out.loc[codes.index[near["_i"].to_numpy()]] = near["code"].to_numpy()
    return out


@lru_cache(maxsize=8)
def _cached(path: str, mtime: float, code_col: str, name_col: str) -> gpd.GeoDataFrame:
    return read_boundaries(Path(path), code_col, name_col)


def boundaries(path: Path, code_col: str, name_col: str) -> gpd.GeoDataFrame:
    """Cached read, invalidated when the file changes. Callers must not mutate the result."""
    return _cached(str(path), path.stat().st_mtime, code_col, name_col)


class MapError(ValueError):
    """A map asked for with inputs it cannot draw."""


def _manifest_path(cfg: Settings, kind: str) -> Path:
    entries = [e for e in manifest.load(cfg.manifest_path) if e.kind == kind]
    if not entries:
        raise MapError(f"the manifest lists no {kind} file")
    return cfg.sources_dir / max(entries, key=lambda e: e.precedence).path


def ward_geometry(cfg: Settings | None = None) -> gpd.GeoDataFrame:
    """The borough's 2022 wards (code, name, geometry) in WGS84, from the embedded boundary file."""
    cfg = cfg or get_settings()
    path = _manifest_path(cfg, "boundary_wards")
    gdf = boundaries(path, "ward_code", "ward_name")
    gdf = gdf.to_crs(4326) if gdf.crs and gdf.crs.to_epsg() != 4326 else gdf
    # Names as every table shows them (the warehouse's ward lookup), not the boundary file's
    # spelling ("St. Dunstan's"), so a map label always matches its table row.
    from csp_data.warehouse import sql

    names = sql.run("meta/wards", cfg=cfg).set_index("ward_code")["ward_name"]
    return gdf.assign(name=gdf["code"].map(names).fillna(gdf["name"]))


def simplify(gdf: gpd.GeoDataFrame, tolerance_m: float = 10.0) -> gpd.GeoDataFrame:
    """Simplified copy in WGS84 for drawing (shared edges kept identical where the areas tile)."""
    metric = gdf.to_crs(27700)
    try:
        import shapely

        metric = metric.set_geometry(shapely.coverage_simplify(metric.geometry.values, tolerance_m))
    except (AttributeError, ImportError, ValueError):  # pragma: no cover - older shapely
        metric = metric.set_geometry(metric.geometry.simplify(tolerance_m, preserve_topology=True))
    return metric.to_crs(4326)
