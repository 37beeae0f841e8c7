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

Which geography a borough gets (:func:`geography`): a borough with its own, finer files in the
manifest (the ``boundary_wards``, ``boundary_lsoa21``, ``lookup_lsoa21_ward``, ``lookup_ward_names``
and ``census_age_lsoa21`` kinds; today Tower Hamlets) keeps them; every other London borough the
Met polices gets the London-wide files: LSOAs from ``boundary_lsoa21_london`` (ONS BSC,
generalised), wards from the ONS best-fit lookup ``lookup_lsoa21_ward_london`` (ward polygons are
the union of their best-fit LSOAs, :func:`ward_polygons`), and Census 2021 usual residents per
LSOA from ``census_residents_lsoa21_london``. All are filtered by the configured ONS code, never
by a name (ONS also has a ward called "Tower Hamlets", in Dover).
"""

from __future__ import annotations

from dataclasses import dataclass
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


def ward_geometry(cfg: Settings | None = None) -> gpd.GeoDataFrame:
    """The borough's wards (code, name, geometry) in WGS84 (:func:`ward_polygons`)."""
    cfg = cfg or get_settings()
    gdf = ward_polygons(cfg)
    gdf = gdf.to_crs(4326) if gdf.crs and gdf.crs.to_epsg() != 4326 else gdf
    # Names as every table shows them (the warehouse's ward lookup), not the boundary file's
    # spelling ("St. Dunstan's"), so a map label always matches its table row.
    from csp_data.warehouse import sql

    names = sql.run("meta/wards", cfg=cfg).set_index("ward_code")["ward_name"]
    return gdf.assign(name=gdf["code"].map(names).fillna(gdf["name"]))


# ----------------------------------------------------------------------------- any London borough

OWN_KINDS = (
    "lookup_lsoa21_ward",
    "lookup_ward_names",
    "census_age_lsoa21",
    "boundary_wards",
    "boundary_lsoa21",
)
LONDON_KINDS = ("lookup_lsoa21_ward_london", "boundary_lsoa21_london", "census_residents_lsoa21_london")


@dataclass(frozen=True)
class Geography:
    """The files the configured borough's LSOAs, wards and residents come from."""

    borough_code: str
    own: bool  # the borough's own (finer) files; False: the London-wide ones
    lookup: (
        Path  # LSOA 2021 -> ward best fit (columns lsoa21_code, lsoa21_name, ward_code, ward_name, lad_code)
    )
    lsoa_boundaries: Path  # properties lsoa21_code, lsoa21_name
    population: (
        Path  # own: TS007A ("geography code", "Age: Total"); London: TS021 (lsoa21cd, all_usual_residents)
    )
    ward_boundaries: Path | None = None  # own only (properties ward_code, ward_name)
    ward_names: Path | None = None  # own only (ward_code, ward_name_ons_2025, ward_name_2014_to_2022)

    @property
    def sources(self) -> tuple[Path, ...]:
        return tuple(
            p for p in (self.lookup, self.lsoa_boundaries, self.population, self.ward_boundaries) if p
        )


def _newest(entries: list[manifest.Entry], kind: str) -> manifest.Entry | None:
    found = [e for e in entries if e.kind == kind]
    return max(found, key=lambda e: e.precedence) if found else None


@lru_cache(maxsize=8)
def _lookup_cached(path: str, mtime: float) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[])


def _lookup(path: Path) -> pd.DataFrame:
    return _lookup_cached(str(path), path.stat().st_mtime)


def geography(cfg: Settings | None = None, entries: list[manifest.Entry] | None = None) -> Geography:
    """The configured borough's geography files (see the module notes); ManifestError if the
    manifest holds neither the borough's own files nor the London-wide ones."""
    cfg = cfg or get_settings()
    entries = manifest.load(cfg.manifest_path) if entries is None else entries
    src = cfg.sources_dir
    own = {k: _newest(entries, k) for k in OWN_KINDS}
    look = own["lookup_lsoa21_ward"]
    if (
        all(own.values())
        and look is not None
        and (_lookup(src / look.path)["lad_code"] == cfg.borough_code).any()
    ):
        return Geography(
            borough_code=cfg.borough_code,
            own=True,
            lookup=src / look.path,
            lsoa_boundaries=src / own["boundary_lsoa21"].path,  # type: ignore[union-attr]
            population=src / own["census_age_lsoa21"].path,  # type: ignore[union-attr]
            ward_boundaries=src / own["boundary_wards"].path,  # type: ignore[union-attr]
            ward_names=src / own["lookup_ward_names"].path,  # type: ignore[union-attr]
        )
    london = {k: _newest(entries, k) for k in LONDON_KINDS}
    missing = [k for k, e in london.items() if e is None]
    if missing:
        raise manifest.ManifestError(
            f"the manifest lists no {missing[0]} file: the geography of {cfg.borough_name} ({cfg.borough_code}) "
            "cannot be built"
        )
    return Geography(
        borough_code=cfg.borough_code,
        own=False,
        lookup=src / london["lookup_lsoa21_ward_london"].path,  # type: ignore[union-attr]
        lsoa_boundaries=src / london["boundary_lsoa21_london"].path,  # type: ignore[union-attr]
        population=src / london["census_residents_lsoa21_london"].path,  # type: ignore[union-attr]
    )


def borough_lookup(g: Geography) -> pd.DataFrame:
    """The borough's rows of the LSOA-to-ward best-fit lookup (filtered by ONS code)."""
    look = _lookup(g.lookup)
    return look[look["lad_code"] == g.borough_code].reset_index(drop=True)


def london_lookup(cfg: Settings | None = None) -> pd.DataFrame:
    """Every London LSOA's best-fit ward and local authority (the London-wide lookup), or an
    empty frame when the manifest has none."""
    cfg = cfg or get_settings()
    e = _newest(manifest.load(cfg.manifest_path), "lookup_lsoa21_ward_london")
    if e is None:
        return pd.DataFrame(
            columns=["lsoa21_code", "lsoa21_name", "ward_code", "ward_name", "lad_code", "lad_name"]
        )
    return _lookup(cfg.sources_dir / e.path)


@lru_cache(maxsize=8)
def _lsoa_polygons_cached(g: Geography, mtimes: tuple[float, ...]) -> gpd.GeoDataFrame:
    polys = read_boundaries(g.lsoa_boundaries, "lsoa21_code", "lsoa21_name")
    if g.own:
        return polys
    codes = set(borough_lookup(g)["lsoa21_code"])
    return polys[polys["code"].isin(codes)].reset_index(drop=True)


@lru_cache(maxsize=8)
def _ward_polygons_cached(g: Geography, mtimes: tuple[float, ...]) -> gpd.GeoDataFrame:
    if g.own:
        assert g.ward_boundaries is not None
        return read_boundaries(g.ward_boundaries, "ward_code", "ward_name")
    look = borough_lookup(g)
    lsoas = _lsoa_polygons_cached(g, mtimes).merge(
        look[["lsoa21_code", "ward_code", "ward_name"]], left_on="code", right_on="lsoa21_code"
    )
    wards = lsoas[["ward_code", "ward_name", "geometry"]].dissolve(
        by=["ward_code", "ward_name"], as_index=False
    )
    wards = wards.set_geometry(wards.geometry.make_valid())
    wards = wards.rename(columns={"ward_code": "code", "ward_name": "name"})[["code", "name", "geometry"]]
    return wards.sort_values("code").reset_index(drop=True)


def _mtimes(g: Geography) -> tuple[float, ...]:
    return tuple(p.stat().st_mtime for p in g.sources)


def lsoa_polygons(cfg: Settings | None = None) -> gpd.GeoDataFrame:
    """The configured borough's LSOA 2021 polygons (code, name, geometry) in WGS84. Cached; shared:
    do not change in place."""
    g = geography(cfg)
    return _lsoa_polygons_cached(g, _mtimes(g))


def ward_polygons(cfg: Settings | None = None) -> gpd.GeoDataFrame:
    """The configured borough's ward polygons (code, name, geometry) in WGS84: its own boundary
    file, or the union of each ward's best-fit LSOAs. Cached; shared: do not change in place."""
    g = geography(cfg)
    return _ward_polygons_cached(g, _mtimes(g))


def simplify(gdf: gpd.GeoDataFrame, tolerance_m: float = 10.0) -> gpd.GeoDataFrame:
    """Simplified copy in WGS84 for drawing (shared edges kept identical where the areas tile)."""
    metric = gdf.to_crs(27700)
    try:
        import shapely

        metric = metric.set_geometry(shapely.coverage_simplify(metric.geometry.values, tolerance_m))
    except (AttributeError, ImportError, ValueError):  # pragma: no cover - older shapely
        metric = metric.set_geometry(metric.geometry.simplify(tolerance_m, preserve_topology=True))
    return metric.to_crs(4326)
