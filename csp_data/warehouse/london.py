"""London-wide tables the build makes beside the configured borough's: where every Met stop and
search falls (borough by point-in-polygon), residents by ethnic group per borough, and the features
the peer boroughs are chosen on (:mod:`csp_data.analysis.peers`).

Placing a point in a borough
----------------------------
Stop-and-search records carry no area, only an anonymised map point. Each point is placed in the
London LSOA 2021 polygon it falls in (the ONS "BSC" set: generalised to about 200 m and clipped to
the coast; ``boundary_lsoa21_london`` in the manifest), and so in that LSOA's borough, under the
rule of :func:`csp_data.warehouse.geo.assign_codes` (a point on a shared edge takes the code that
sorts first). Points are placed once per distinct coordinate: the Met's 1.07 million records use
about 62,000 map points. Generalised polygons move some points near a borough edge into the
neighbour: for Tower Hamlets 1.3% more searches are placed in the borough by these polygons than
by its full-resolution LSOAs (``data/sources/SOURCES.md``), so the configured borough's own records
(table ``stop_search``) are placed by its own LSOA polygons where the manifest holds them, and
these London-wide placings are used only for London and for other boroughs.

Which file gives a month's London figures
-----------------------------------------
A stop-and-search file may be Met-wide (the published force file) or one borough's (a police.uk
area query made by ``update``). London figures for a month come from the newest force-wide file
holding that month: one whose records fall in at least :data:`FORCE_WIDE_BOROUGHS` boroughs. A
month no such file covers has no London figures.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from csp_data.warehouse import geo, manifest

LONDON_LSOA_KIND = "boundary_lsoa21_london"
ETHNICITY_KIND = "census_ethnicity_lad"
IMD_KIND = "imd2019_lsoa11"
CITY_OF_LONDON = "E09000001"  # its own police force: no Met borough figures
FORCE_WIDE_BOROUGHS = 20  # a month's records in at least this many boroughs: a force-wide file
EQUAL_AREA = "EPSG:3035"  # ETRS89 Lambert azimuthal equal-area: areas in square metres
ETHNIC_COLUMNS = {  # Census 2021 TS021 broad group -> column of the 19-group borough file
    "Asian": "asian_total",
    "Black": "black_total",
    "Mixed": "mixed_total",
    "White": "white_total",
    "Other": "other_total",
}


def latest(by_kind: dict[str, list[manifest.Entry]], kind: str) -> manifest.Entry | None:
    entries = by_kind.get(kind, [])
    return entries[-1] if entries else None


def lad_codes(sources: Path, by_kind: dict[str, list[manifest.Entry]]) -> dict[str, str]:
    """Borough name (as the ONS files spell it) -> ONS code, from the Census borough file."""
    e = latest(by_kind, ETHNICITY_KIND)
    if e is None:
        return {}
    df = pd.read_csv(sources / e.path, dtype=str)
    return dict(zip(df["ltla21_name"], df["ltla21_code"]))


def lsoa_polygons(sources: Path, by_kind: dict[str, list[manifest.Entry]]) -> gpd.GeoDataFrame | None:
    """London's LSOA 2021 polygons (code, name, borough_code, geometry) in WGS84, or None if not held."""
    e = latest(by_kind, LONDON_LSOA_KIND)
    codes = lad_codes(sources, by_kind)
    if e is None or not codes:
        return None
    gdf = gpd.read_file(sources / e.path)
    gdf = gdf.set_crs(geo.WGS84) if gdf.crs is None else gdf.to_crs(geo.WGS84)
    unknown = sorted(set(gdf["lad_name"]) - set(codes))
    if unknown:
        raise ValueError(f"{e.path}: boroughs not in the Census borough file: {unknown[:5]}")
    out = gpd.GeoDataFrame(
        {
            "code": gdf["lsoa21_code"],
            "name": gdf["lsoa21_name"],
            "borough_code": gdf["lad_name"].map(codes),
        },
        geometry=gdf.geometry,
        crs=geo.WGS84,
    )
    return out.sort_values("code").reset_index(drop=True)


def place_unique(lon: pd.Series, lat: pd.Series, polygons: gpd.GeoDataFrame) -> tuple[pd.Series, pd.Series]:
    """:func:`csp_data.warehouse.geo.assign_codes`, computed once per distinct coordinate."""
    pts = pd.DataFrame({"lon": lon.to_numpy(), "lat": lat.to_numpy()})
    uniq = pts.dropna().drop_duplicates().reset_index(drop=True)
    code, status = geo.assign_codes(uniq["lon"], uniq["lat"], polygons)
    uniq["code"], uniq["status"] = code.to_numpy(), status.to_numpy()
    got = pts.merge(uniq, on=["lon", "lat"], how="left")
    codes = pd.Series(got["code"].to_numpy(), index=lon.index, dtype="string")
    status = pd.Series(got["status"].fillna("no_location").to_numpy(), index=lon.index, dtype="string")
    return codes, status


def place_in_boroughs(tidy: pd.DataFrame, polygons: gpd.GeoDataFrame) -> pd.DataFrame:
    """``tidy`` stop-and-search rows with ``london_lsoa21_code``, ``borough_code`` and ``london_geo_status``."""
    code, status = place_unique(tidy["longitude"], tidy["latitude"], polygons)
    borough = dict(zip(polygons["code"], polygons["borough_code"]))
    return tidy.assign(
        london_lsoa21_code=code,
        borough_code=code.map(borough).astype("string"),
        london_geo_status=status,
    )


STOP_SEARCH_LONDON_COLUMNS = [
    "month",
    "borough_code",
    "geo_status",
    "self_defined_ethnicity",
    "officer_defined_ethnicity",
    "searches",
    "source_file",
    "snapshot",
]


def stop_search_counts(placed: pd.DataFrame, entry: manifest.Entry) -> pd.DataFrame:
    """Searches per month x borough (NULL: not placed) x placing status x the two ethnicity fields."""
    keys = [
        "month",
        "borough_code",
        "london_geo_status",
        "self_defined_ethnicity",
        "officer_defined_ethnicity",
    ]
    df = placed[keys].astype({"borough_code": object, "london_geo_status": object})
    df = df.astype({"self_defined_ethnicity": object, "officer_defined_ethnicity": object})
    out = df.groupby(keys, dropna=False, as_index=False).size().rename(columns={"size": "searches"})
    out = out.rename(columns={"london_geo_status": "geo_status"})
    out["searches"] = out["searches"].astype("int64")
    out["source_file"], out["snapshot"] = entry.path, entry.snapshot
    return out[STOP_SEARCH_LONDON_COLUMNS]


def stop_search_london(frames: list[tuple[manifest.Entry, pd.DataFrame]]) -> pd.DataFrame:
    """The London table from each file's :func:`stop_search_counts`: per month, the newest force-wide
    file (records in at least :data:`FORCE_WIDE_BOROUGHS` boroughs) holding it; other files give none."""
    keep = []
    for rank, (_entry, counts) in enumerate(sorted(frames, key=lambda f: f[0].precedence)):
        if counts["borough_code"].dropna().nunique() >= FORCE_WIDE_BOROUGHS:
            keep.append(counts.assign(_rank=rank))
    if not keep:
        return pd.DataFrame(columns=STOP_SEARCH_LONDON_COLUMNS)
    allrows = pd.concat(keep, ignore_index=True)
    best = allrows.groupby("month")["_rank"].transform("max")
    out = allrows[allrows["_rank"] == best].drop(columns="_rank")
    return out.sort_values(
        ["month", "borough_code", "geo_status", "self_defined_ethnicity", "officer_defined_ethnicity"],
        kind="mergesort",
        na_position="first",
    ).reset_index(drop=True)


def borough_population(sources: Path, by_kind: dict[str, list[manifest.Entry]]) -> pd.DataFrame:
    """Census 2021 usual residents (all ages) per London borough: all, and each of the five broad
    ethnic groups (TS021). Empty when the file is not held."""
    cols = ["borough_code", "borough_name", "ethnic_group", "residents"]
    e = latest(by_kind, ETHNICITY_KIND)
    if e is None:
        return pd.DataFrame(columns=cols)
    df = pd.read_csv(sources / e.path)
    rows = [
        pd.DataFrame(
            {
                "borough_code": df["ltla21_code"],
                "borough_name": df["ltla21_name"],
                "ethnic_group": group,
                "residents": df[col].astype("int64"),
            }
        )
        for group, col in {"All": "sum_19_groups", **ETHNIC_COLUMNS}.items()
    ]
    return (
        pd.concat(rows, ignore_index=True)[cols]
        .sort_values(["borough_code", "ethnic_group"])
        .reset_index(drop=True)
    )


def borough_features(
    sources: Path, by_kind: dict[str, list[manifest.Entry]], polygons: gpd.GeoDataFrame | None
) -> pd.DataFrame:
    """Per London borough: Census 2021 residents, land area (km², the LSOA polygons in an equal-area
    projection), and English Indices of Deprivation 2019 on LSOA 2011: number of LSOAs, their mean IMD
    score (unweighted: LSOAs hold similar numbers of people) and how many are in the most deprived 10%
    in England (national decile 1). Empty when a file is not held."""
    cols = [
        "borough_code",
        "borough_name",
        "residents",
        "area_km2",
        "imd_lsoas",
        "imd_mean_score",
        "imd_decile1_lsoas",
    ]
    e = latest(by_kind, IMD_KIND)
    pop = borough_population(sources, by_kind)
    if e is None or polygons is None or pop.empty:
        return pd.DataFrame(columns=cols)
    imd = pd.read_csv(sources / e.path)
    lad = "Local Authority District code (2019)"
    score = "Index of Multiple Deprivation (IMD) Score"
    decile = "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)"
    dep = imd.groupby(lad).agg(
        imd_lsoas=(score, "size"),
        imd_mean_score=(score, "mean"),
        imd_decile1_lsoas=(decile, lambda s: int((s == 1).sum())),
    )
    areas = polygons.to_crs(EQUAL_AREA).geometry.area
    area = (areas.groupby(polygons["borough_code"].to_numpy()).sum() / 1e6).rename("area_km2")
    out = pop[pop["ethnic_group"] == "All"].set_index("borough_code")[["borough_name", "residents"]]
    out = out.join(area).join(dep).reset_index(names="borough_code")
    out["imd_lsoas"] = out["imd_lsoas"].astype("int64")
    out["imd_decile1_lsoas"] = out["imd_decile1_lsoas"].astype("int64")
    out["imd_mean_score"] = out["imd_mean_score"].astype("float64").round(6)
    out["area_km2"] = out["area_km2"].astype("float64").round(6)
    return out[cols].sort_values("borough_code").reset_index(drop=True)


def in_borough(polygons: gpd.GeoDataFrame, borough_code: str) -> gpd.GeoDataFrame:
    """The London LSOA polygons of one borough, as :func:`csp_data.warehouse.geo.assign_codes` takes them."""
    return polygons[polygons["borough_code"] == borough_code][["code", "name", "geometry"]].reset_index(
        drop=True
    )


def covers(lsoa_poly: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame | None, borough_code: str) -> bool:
    """Whether the build's own LSOA polygons are the borough's (so its records are placed by them)."""
    if polygons is None:
        return True
    mine = set(polygons.loc[polygons["borough_code"] == borough_code, "code"])
    return bool(mine) and bool(np.isin(lsoa_poly["code"].to_numpy(), list(mine)).any())
