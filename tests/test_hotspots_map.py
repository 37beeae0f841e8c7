"""The hotspots page's map frame (csp_data.ui.hotspots.map_frame), on made-up areas."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import box

from csp_data.ui.hotspots import COLOUR_COLUMNS, map_frame

AREAS = gpd.GeoDataFrame(
    {"code": ["A", "B", "C"], "name": ["Shape A", "Shape B", "Shape C"]},
    geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1)],
    crs=4326,
)
TABLE = pd.DataFrame(
    {
        "code": ["A", "B"],
        "name": ["Area A", "Area B"],
        "ward_code": ["W1", "W1"],
        "population": [1500, 2000],
        "count": [12, 3],
        "rate_per_1000": [8.0, 1.23456],
        "change": [4.0, np.nan],
        "previous": [8.0, np.nan],
        "verdict": ["Likely a real rise", ""],
    }
)
GI = pd.DataFrame(
    {"code": ["A", "B"], "z": [3.1, 0.2], "q": [0.01, 0.9], "klass": ["hot spot 95%", "not significant"]}
)


def test_map_frame_joins_the_table_and_words_the_change():
    out = map_frame(AREAS, TABLE, None)
    assert list(out.columns) == ["code", "name", "count", "rate", "change", "change_text", "geometry"]
    assert list(out["code"]) == ["A", "B"]  # only areas in the table
    assert list(out["name"]) == ["Shape A", "Shape B"]  # names from the shapes
    assert list(out["rate"]) == [8.0, 1.23]
    assert list(out["change_text"]) == ["+4 vs 8 before, likely a real rise", ""]
    assert isinstance(out, gpd.GeoDataFrame)


def test_map_frame_with_gi_adds_the_class_and_its_label():
    out = map_frame(AREAS, TABLE, GI)
    assert list(out.columns)[-2:] == ["klass", "spot"]
    assert list(out["spot"]) == ["HOT 95%", ""]


def test_every_colour_choice_names_a_column():
    from csp_data.analysis.areas import COLOUR_BY

    assert set(COLOUR_COLUMNS) == set(COLOUR_BY) - {"Hot spots (Gi*)"}
    assert set(COLOUR_COLUMNS.values()) <= {"count", "rate", "change"}
