"""csp_data/present/memo.py: drawing memoised on its inputs' content.

A memo that shares a result between two different inputs would show one area's or one borough's
figures for another's, so most of these tests are about keys that must differ."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Polygon

from csp_data.present import charts, memo
from csp_data.present.memo import fingerprint, memoize


def frame(**overrides) -> pd.DataFrame:
    base = {
        "ward": ["Bow East", "Bow West", "Mile End"],
        "count": [12, 7, 30],
        "rate": [1.5, 0.25, 3.0],
        "month": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-03-01"]),
    }
    base.update(overrides)
    return pd.DataFrame(base)


def test_equal_content_built_two_ways_has_one_fingerprint():
    a = frame()
    b = pd.concat([frame().iloc[:2], frame().iloc[2:]], ignore_index=True)  # other memory layout
    b["ward"] = [str(w) + "" for w in b["ward"]]  # equal strings, different objects
    assert a is not b and a.equals(b)
    assert fingerprint(a) == fingerprint(b)
    assert fingerprint(a.copy()) == fingerprint(a)


@pytest.mark.parametrize(
    "other",
    [
        frame(count=[12, 7, 31]),  # one value
        frame(count=[12.0, 7.0, 30.0]),  # same numbers, another dtype
        frame(ward=["Bow East", "Bow West", None]),  # None ...
        frame(ward=["Bow East", "Bow West", "None"]),  # ... is not 'None'
        frame().rename(columns={"count": "offences"}),  # column name
        frame()[["count", "ward", "rate", "month"]],  # column order
        frame().set_axis([1, 2, 3]),  # index
        frame(month=pd.to_datetime(["2026-01-01", "2026-02-01", "2026-04-01"])),  # a date
        frame().iloc[:2],  # a row fewer
    ],
)
def test_any_difference_in_a_frame_changes_its_fingerprint(other):
    assert fingerprint(other) != fingerprint(frame())


def test_attributes_and_category_order_are_part_of_the_content():
    a, b = frame(), frame()
    b.attrs["rate_pct"] = 12.5  # builders read attrs (the overall rate a chart draws)
    assert fingerprint(a) != fingerprint(b)
    c = frame(
        ward=pd.Categorical(
            ["Bow East", "Bow West", "Mile End"], categories=["Mile End", "Bow West", "Bow East"]
        )
    )
    d = frame(
        ward=pd.Categorical(
            ["Bow East", "Bow West", "Mile End"], categories=["Bow East", "Bow West", "Mile End"]
        )
    )
    assert fingerprint(c) != fingerprint(d)


def test_geometries_are_fingerprinted_by_their_shape():
    square = Polygon([(0, 0), (1, 0), (1, 1), (0, 1)])
    moved = Polygon([(0, 0), (1, 0), (1, 1.0001), (0, 1)])
    g1 = gpd.GeoDataFrame({"code": ["A"]}, geometry=[square], crs=4326)
    g2 = gpd.GeoDataFrame({"code": ["A"]}, geometry=[moved], crs=4326)
    g3 = gpd.GeoDataFrame({"code": ["A"]}, geometry=[Polygon(square.exterior.coords)], crs=4326)
    assert fingerprint(g1) != fingerprint(g2)
    assert fingerprint(g1) == fingerprint(g3)


def test_values_dataclasses_and_containers_by_value():
    @dataclass(frozen=True)
    class Period:
        start: date
        end: date

    assert fingerprint(Period(date(2025, 3, 1), date(2026, 2, 1))) == fingerprint(
        Period(date(2025, 3, 1), date(2026, 2, 1))
    )
    assert fingerprint(Period(date(2025, 3, 1), date(2026, 2, 1))) != fingerprint(
        Period(date(2025, 4, 1), date(2026, 2, 1))
    )
    assert fingerprint(1) != fingerprint(1.0) != fingerprint("1") != fingerprint(True)
    assert fingerprint([1, 2]) != fingerprint((1, 2))
    assert fingerprint({"a": 1, "b": 2}) == fingerprint({"b": 2, "a": 1})
    assert fingerprint(float("nan")) == fingerprint(float("nan"))
    assert fingerprint(np.int64(3)) == fingerprint(3)


def test_a_builder_runs_once_per_content_and_hands_out_copies():
    calls = []

    @memoize(maxsize=4)
    def build(df: pd.DataFrame, title: str):
        calls.append(title)
        return df.assign(total=df["count"].sum()), title.upper()

    first, label = build(frame(), "robbery")
    first.loc[0, "count"] = -999  # a caller changing its copy ...
    second, _ = build(frame(), "robbery")
    assert calls == ["robbery"] and label == "ROBBERY"
    assert second.loc[0, "count"] == 12  # ... changes nobody else's
    build(frame(count=[1, 2, 3]), "robbery")
    build(frame(), "burglary")
    assert calls == ["robbery", "robbery", "burglary"]


def test_the_data_folder_and_borough_are_part_of_every_key(monkeypatch, tmp_path):
    calls = []

    @memoize()
    def build(n: int):
        calls.append(n)
        return n

    build(1)
    build(1)
    monkeypatch.setenv("CSP_DATA_DIR", str(tmp_path))
    build(1)
    monkeypatch.setenv("CSP_BOROUGH_CODE", "E09000012")
    monkeypatch.setenv("CSP_BOROUGH", "Hackney")
    build(1)
    assert calls == [1, 1, 1]


def test_an_argument_it_cannot_describe_is_never_shared():
    calls = []

    class Opaque:
        pass

    @memoize()
    def build(x):
        calls.append(x)
        return len(calls)

    a, b = Opaque(), Opaque()
    assert build(a) == 1 and build(a) == 2 and build(b) == 3
    assert build.memo.bypassed == 3 and build.memo.hits == 0


def test_least_recently_used_results_are_dropped_and_clear_empties_every_memo():
    calls = []

    @memoize(maxsize=2)
    def build(n: int):
        calls.append(n)
        return n

    for n in (1, 2, 1, 3, 1, 2):
        build(n)
    assert calls == [1, 2, 3, 2]  # 2 was the least recently used when 3 came
    memo.clear()
    build(1)
    assert calls[-1] == 1 and len(calls) == 5


def test_real_chart_builders_share_one_chart_and_one_spec():
    series = pd.DataFrame(
        {"month": pd.date_range("2023-03-01", periods=36, freq="MS"), "count": np.arange(36) % 7 + 100}
    )
    a = charts.small_trend(series, "Robbery, per month", "Robbery")
    b = charts.small_trend(series.copy(), "Robbery, per month", "Robbery")
    assert a[0] is b[0]
    assert memo.vega_spec(a[0]) is memo.vega_spec(b[0])
    assert memo.vega_spec(a[0]) == a[0].to_dict()
    c = charts.small_trend(series.assign(count=series["count"] + 1), "Robbery, per month", "Robbery")
    assert c[0] is not a[0]


def test_derived_is_made_once_per_object():
    made = []

    class Thing:
        pass

    t, u = Thing(), Thing()
    assert memo.derived(t, "x", lambda o: made.append(o) or "value") == "value"
    memo.derived(t, "x", lambda o: made.append(o) or "value")
    memo.derived(u, "x", lambda o: made.append(o) or "value")
    memo.derived(t, "y", lambda o: made.append(o) or "other")
    assert made == [t, u, t]
