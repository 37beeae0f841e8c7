"""Tests of ``csp_data.warehouse.geo``: the boundary rule on tiny synthetic polygons, then the placement
of the real police.uk points in the built warehouse checked against the real boundary files.

Synthetic geometry: two 0.01-degree squares near Tower Hamlets sharing the edge lon = -0.04,
"SYNTH_B" (code E05999992) to the west and "SYNTH_A" (code E05999991) to the east. The frame
lists the higher code first so "lowest code wins" cannot pass by row order.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, box

from csp_data.config import settings
from csp_data.warehouse import geo

A, B = "E05999991", "E05999992"
LAT = 51.505


@pytest.fixture(scope="module")
def synthetic_wards() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": [B, A], "name": ["SYNTH_B (synthetic)", "SYNTH_A (synthetic)"]},
        geometry=[box(-0.05, 51.50, -0.04, 51.51), box(-0.04, 51.50, -0.03, 51.51)],
        crs=geo.WGS84,
    )


def _series(values, index):
    return pd.Series(values, index=index, dtype="float64")


def test_boundary_rule_on_synthetic_polygons(synthetic_wards):
    cases = {  # label: (lon, lat, expected code, expected status)
        "inside B": (-0.045, LAT, B, "inside"),
        "inside A": (-0.035, LAT, A, "inside"),
        "shared edge": (-0.04, LAT, A, "inside"),
        "shared corner": (-0.04, 51.50, A, "inside"),
        "outside": (-0.02, LAT, None, "outside"),
        "no coordinates": (np.nan, np.nan, None, "no_location"),
        "latitude only": (np.nan, LAT, None, "no_location"),
    }
    # an index that is neither 0..n-1 nor sorted, to catch positional mix-ups
    index = pd.Index([70, 10, 50, 30, 60, 20, 40])
    lon = _series([c[0] for c in cases.values()], index)
    lat = _series([c[1] for c in cases.values()], index)
    codes, status = geo.assign_codes(lon, lat, synthetic_wards)
    assert codes.index.equals(index) and status.index.equals(index)
    for (label, (_, _, code, st)), i in zip(cases.items(), index):
        got = codes.loc[i]
        if code is None:
            assert pd.isna(got), label
        else:
            assert got == code, label
        assert status.loc[i] == st, label


def test_shared_edge_point_is_really_on_both_polygons(synthetic_wards):
    """The premise of the shared-edge case: the point touches both squares and is inside neither."""
    p = Point(-0.04, LAT)
    assert all(g.intersects(p) and not g.contains(p) for g in synthetic_wards.geometry)


def test_no_points_with_coordinates(synthetic_wards):
    lon = _series([np.nan, np.nan], [0, 1])
    codes, status = geo.assign_codes(lon, lon.copy(), synthetic_wards)
    assert codes.isna().all()
    assert status.tolist() == ["no_location", "no_location"]


def _bng_distance(lon: float, lat: float, polygon) -> float:
    pt = gpd.GeoSeries([Point(lon, lat)], crs=geo.WGS84).to_crs(geo.BNG)
    poly = gpd.GeoSeries([polygon], crs=geo.WGS84).to_crs(geo.BNG)
    return float(pt.distance(poly, align=False).iloc[0])


def test_fill_nearest_within_150_metres_and_not_beyond(synthetic_wards):
    east_a = synthetic_wards.geometry.iloc[1]
    near = (-0.03 + 0.00145, LAT)  # ~100 m east of SYNTH_A
    far = (-0.03 + 0.0029, LAT)  # ~200 m east of SYNTH_A
    tie = (-0.04, 51.50 - 0.0009)  # ~100 m south of the shared corner: equally near both
    assert 60 < _bng_distance(*near, east_a) < 140
    assert 160 < _bng_distance(*far, east_a) < 260
    d_tie = [_bng_distance(*tie, g) for g in synthetic_wards.geometry]
    assert d_tie[0] == pytest.approx(d_tie[1]) and d_tie[0] < 150

    index = pd.Index(["near", "far", "tie", "near_not_eligible", "already", "no_coords"])
    lon = _series([near[0], far[0], tie[0], near[0], near[0], np.nan], index)
    lat = _series([near[1], far[1], tie[1], near[1], near[1], np.nan], index)
    codes = pd.Series([pd.NA, pd.NA, pd.NA, pd.NA, B, pd.NA], index=index, dtype="string")
    only = pd.Series([True, True, True, False, True, True], index=index)
    out = geo.fill_nearest(codes, lon, lat, synthetic_wards, only=only)
    assert out.loc["near"] == A
    assert pd.isna(out.loc["far"])
    assert out.loc["tie"] == A  # equidistant: the lowest code
    assert pd.isna(out.loc["near_not_eligible"])  # only where asked
    assert out.loc["already"] == B  # never overwrites a code it was given
    assert pd.isna(out.loc["no_coords"])
    assert codes.loc["near"] is pd.NA or pd.isna(codes.loc["near"])  # the input is not mutated

    tight = geo.fill_nearest(codes, lon, lat, synthetic_wards, only=only, max_metres=50)
    assert pd.isna(tight.loc["near"])


def test_read_boundaries_renames_sorts_and_checks_properties(tmp_path, synthetic_wards):
    path = tmp_path / "synthetic_wards.geojson"
    gdf = synthetic_wards.rename(columns={"code": "ward_code", "name": "ward_name"})
    path.write_text(gdf.to_json(), encoding="utf-8")
    got = geo.read_boundaries(path, "ward_code", "ward_name")
    assert list(got.columns) == ["code", "name", "geometry"]
    assert got["code"].tolist() == [A, B]
    assert got.crs.to_epsg() == 4326
    with pytest.raises(ValueError, match="expected properties 'lsoa21_code'"):
        geo.read_boundaries(path, "lsoa21_code", "ward_name")


# --------------------------------------------------------------------------- the real warehouse


@pytest.fixture(scope="module")
def real(warehouse):
    src = settings().sources_dir / "boundaries"
    return {
        "street": pd.read_parquet(warehouse / "street_crime.parquet"),
        "stop": pd.read_parquet(warehouse / "stop_search.parquet"),
        "wards": pd.read_parquet(warehouse / "wards.parquet"),
        "lsoas": pd.read_parquet(warehouse / "lsoas.parquet"),
        "lsoa_poly": gpd.read_file(src / "th_lsoa21.geojson").set_index("lsoa21_code"),
        "ward_poly": gpd.read_file(src / "th_wards_2022.geojson").set_index("ward_code"),
        "lookup": pd.read_csv(src / "th_lsoa21_to_ward_bestfit.csv", dtype=str),
    }


@pytest.mark.parametrize("table", ["street", "stop"])
def test_inside_points_have_known_codes(real, table):
    df = real[table]
    assert len(df) > 1000
    inside = df[df.geo_status == "inside"]
    assert len(inside) > 0.9 * len(df)
    assert inside.ward_code.notna().all() and inside.lsoa21_code.notna().all()
    assert set(inside.ward_code) <= set(real["wards"].ward_code)
    assert set(inside.lsoa21_code) <= set(real["lsoas"].lsoa21_code)


def test_statuses_are_consistent_in_street_crime(real):
    df = real["street"]
    assert set(df.geo_status) <= {"inside", "outside", "no_location"}
    outside = df[df.geo_status == "outside"]
    assert outside.ward_code.isna().all() and outside.lsoa21_code.isna().all()
    assert outside[["longitude", "latitude"]].notna().all().all()
    nowhere = df[df.geo_status == "no_location"]
    assert (nowhere.longitude.isna() | nowhere.latitude.isna()).all()
    assert nowhere.ward_code.isna().all()


def test_inside_points_lie_in_their_lsoa_and_ward_polygons(real):
    """Independent re-check with shapely: the LSOA polygon covers the point; the ward polygon
    covers it or (generalised ward edges) lies within 150 m of it."""
    inside = real["street"][real["street"].geo_status == "inside"]
    pts = shapely.points(inside.longitude.to_numpy(), inside.latitude.to_numpy())
    lsoa_geoms = real["lsoa_poly"].geometry.loc[inside.lsoa21_code].to_numpy()
    assert shapely.covers(lsoa_geoms, pts).all()

    ward_geoms = real["ward_poly"].geometry.loc[inside.ward_code].to_numpy()
    covered = shapely.covers(ward_geoms, pts)
    if not covered.all():
        gap_pts = gpd.GeoSeries(pts[~covered], crs=geo.WGS84).to_crs(geo.BNG)
        gap_wards = gpd.GeoSeries(ward_geoms[~covered], crs=geo.WGS84).to_crs(geo.BNG)
        assert (gap_pts.distance(gap_wards, align=False) <= 150.0 + 1e-6).all()


def test_lsoa_table_carries_the_lookup(real):
    look = real["lookup"]
    look = look[look.lad_code == "E09000030"].set_index("lsoa21_code")["ward_code"]
    lsoas = real["lsoas"].set_index("lsoa21_code")["ward_code"]
    assert lsoas.sort_index().to_dict() == look.sort_index().to_dict()


def test_point_wards_agree_with_the_lsoa_to_ward_lookup(real):
    """LSOAs do not nest exactly in wards, so a point's ward may differ from its LSOA's best-fit
    ward; but only for a ward next to that LSOA, and the LSOA's commonest ward is its best-fit
    ward for nearly every LSOA."""
    inside = real["street"][real["street"].geo_status == "inside"]
    best_fit = real["lsoas"].set_index("lsoa21_code")["ward_code"]

    pairs = inside[["lsoa21_code", "ward_code"]].drop_duplicates()
    lsoa_bng = real["lsoa_poly"].geometry.to_crs(geo.BNG)
    ward_bng = real["ward_poly"].geometry.to_crs(geo.BNG)
    dist = np.array([lsoa_bng.loc[l].distance(ward_bng.loc[w]) for l, w in pairs.itertuples(index=False)])
    far = pairs[dist > 150]
    assert far.empty, f"points placed in wards that do not border their LSOA:\n{far.head()}"

    modal = inside.groupby("lsoa21_code")["ward_code"].agg(lambda s: s.value_counts().index[0])
    agree = (modal == best_fit.loc[modal.index]).mean()
    assert agree >= 0.9, f"only {agree:.0%} of LSOAs have their best-fit ward as the commonest point ward"
