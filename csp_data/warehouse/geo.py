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
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely import points as make_points

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
