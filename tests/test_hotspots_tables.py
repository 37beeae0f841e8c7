"""The display tables and small figures the Hotspots and TTCG pages draw (csp_data/present/hotspots_tables.py
and present/ttcg_tables.py), on the real embedded data: the pages hold only layout and words, so what a
reader sees in their tables is built and checked here."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from csp_data.analysis import areas, hotspots, ttcg
from csp_data.analysis.ward_profile import wards as all_wards
from csp_data.plan.periods import make
from csp_data.present import hotspots_tables as ht
from csp_data.present import ttcg_tables as tt
from csp_data.present.maps import HOTSPOT_COLOURS


@pytest.fixture(scope="module")
def names(warehouse) -> dict[str, str]:
    return {w.code: w.name for w in all_wards()}


@pytest.fixture(scope="module")
def robbery(warehouse):
    return next(c for c in areas.categories() if c.label == "Robbery")


@pytest.fixture(scope="module")
def period(warehouse):
    return areas.resolve_period("Last 12 months", areas.latest_month("LSOAs"))


@pytest.fixture(scope="module")
def lsoa_table(robbery, period) -> pd.DataFrame:
    return areas.area_table(robbery, period, "LSOAs", None)


@pytest.fixture(scope="module")
def gi(robbery, period) -> pd.DataFrame:
    return hotspots.lsoa_hotspots(list(robbery.majors), list(robbery.minors), period.start, period.end)


def test_custom_months_run_thirty_months_back_to_the_latest():
    months = ht.custom_months(date(2026, 2, 1))
    assert len(months) == 31 and months[0] == "2023-08" and months[-1] == "2026-02"
    assert months == sorted(months)


def test_emerging_window_is_two_years_or_from_the_first_lsoa_month():
    assert ht.emerging_start(date(2026, 2, 1)) == date(2024, 3, 1)
    assert ht.emerging_start(date(2024, 6, 1)) == areas.FIRST_LSOA_MONTH == date(2023, 8, 1)


def test_ranked_table_names_wards_and_gi_columns(lsoa_table, gi, names, period):
    ranked = ht.with_wards(lsoa_table, gi, names)
    assert len(ranked) == len(lsoa_table) and ranked["ward"].notna().all()
    assert set(ranked["ward"]) <= set(names.values())
    assert (ranked["verdict"] == lsoa_table["symbol"] + " " + lsoa_table["verdict"]).all()
    prev = lsoa_table.attrs.get("previous")
    show = ht.ranked_table(ranked, "LSOAs", period.label, prev)
    assert list(show.columns) == [
        "Area",
        "Ward",
        f"Offences {period.label}",
        f"Before ({prev})",
        "Change",
        "Is the change real?",
        "Per 1,000 residents",
        "Hot spot test (Gi*, FDR)",
        "Gi* z",
    ]
    assert show[f"Offences {period.label}"].sum() == lsoa_table["count"].sum()
    no_gi = ht.ranked_table(ht.with_wards(lsoa_table, None, names), "LSOAs", period.label, prev)
    assert "Gi* z" not in no_gi.columns and "Ward" in no_gi.columns


def test_ward_ranking_has_no_ward_column(robbery, period, names):
    table = areas.area_table(robbery, period, "Wards", None)
    show = ht.ranked_table(ht.with_wards(table, None, names), "Wards", period.label, "x")
    assert "Ward" not in show.columns and len(show) == len(names) == 20


def test_hotspot_counts_and_lowest_q(gi):
    found = ht.hotspot_counts(gi)
    counts = gi["klass"].value_counts()
    expected = [f"{counts[k]} {k}" for k in HOTSPOT_COLOURS if k != "not significant" and k in counts]
    assert found == expected
    assert sum(int(piece.split(" ")[0]) for piece in found) == int((gi["klass"] != "not significant").sum())
    assert ht.lowest_q(gi) == pytest.approx(gi["q"].min()) and 0 <= ht.lowest_q(gi) <= 1


def test_concentration_display_matches_the_counts(lsoa_table, period):
    prev = lsoa_table.attrs.get("previous")
    conc = ht.concentration_display(lsoa_table, period.label, prev)
    assert list(conc.columns) == [
        "Busiest LSOAs",
        "LSOAs",
        f"Share of offences, {period.label}",
        f"Share, {prev}",
    ]
    assert list(conc["Busiest LSOAs"]) == ["Top 5%", "Top 10%"]
    counts = lsoa_table["count"].sort_values(ascending=False)
    k = int(conc["LSOAs"].iloc[1])
    assert k == -(-len(counts) // 10)
    assert conc.iloc[1, 2] == f"{counts.head(k).sum() / counts.sum():.0%}"
    no_prev = ht.concentration_display(lsoa_table, period.label, None)
    assert list(no_prev.columns)[-1] == "Share, previous period" and (no_prev.iloc[:, -1] == "not held").all()


@pytest.mark.parametrize("by", ["count", "rate"])
def test_top_lsoas_are_the_busiest_with_their_wards(lsoa_table, names, by):
    top = ht.top_lsoas(lsoa_table, by, names)
    assert list(top.columns) == ["Rank", "LSOA", "Ward", "Offences", "Residents", "Per 1,000 residents"]
    assert list(top["Rank"]) == list(range(1, 11)) and top["Ward"].isin(names.values()).all()
    col = "Offences" if by == "count" else "Per 1,000 residents"
    assert top[col].is_monotonic_decreasing
    if by == "count":
        assert top["Offences"].iloc[0] == lsoa_table["count"].max()


def test_emerging_counts_and_notable_lsoas(robbery, names):
    last = areas.latest_month("LSOAs")
    em = hotspots.lsoa_emerging(
        list(robbery.majors), list(robbery.minors), ht.emerging_start(last), last, months_per_period=3
    )
    counts = ht.emerging_counts(em)
    assert list(counts["Class"]) == list(hotspots.EMERGING) and counts["LSOAs"].sum() == len(em)
    notable = ht.notable_lsoas(em, hotspots.lsoa_geometry(), names)
    assert len(notable) == int((em["emerging"] != "none").sum())
    if len(notable):
        assert list(notable.columns) == ["Area", "Ward", "Class", "Quarters as a hot spot", "Latest Gi* z"]
        assert notable["Area"].notna().all() and notable["Ward"].isin(names.values()).all()
        assert notable["Quarters as a hot spot"].is_monotonic_decreasing


def test_points_by_ward_add_up(names):
    period = make(date(2025, 2, 1), date(2025, 2, 1))
    pts = areas.street_points("Burglary", period, None)
    assert len(pts) and ht.months_with_points(pts) == 1
    by_ward = ht.points_by_ward(pts, names)
    assert list(by_ward.columns) == ["Ward", "Records"] and by_ward["Records"].sum() == len(pts)
    assert by_ward["Records"].is_monotonic_decreasing and by_ward["Ward"].isin(names.values()).all()
    assert ht.months_with_points(pts.iloc[:0]) == 0


def test_volt_tables(robbery, period, warehouse):
    from csp_data.config import settings

    vic = areas.victims(settings().borough_code, period)
    if len(vic):
        shown = ht.victims_table(vic)
        assert "Offences or victims" in shown.columns and "crime_type" not in shown.columns
        assert ht.months_held(vic) == int(vic["months"].max()) <= period.n_months
    out = areas.burglary_outcomes(period, None)
    if len(out):
        shown = ht.outcomes_table(out)
        assert list(shown.columns) == ["Last outcome", "Burglaries", "Share %"]
        assert (shown["Share %"] == out["share_pct"].round(1)).all() and "share_pct" in out.columns
    sea = areas.seasonality(robbery)
    peak, low = ht.peak_and_low(sea)
    assert peak["index"] == sea["index"].max() and low["index"] == sea["index"].min()
    table = ht.seasonality_table(sea)
    assert list(table.columns) == ["Month", "Average offences", "Index (100 = average)", "Years"]
    assert len(table) == 12


def test_busiest_areas_in_order(lsoa_table):
    top = ht.busiest(lsoa_table, 5)
    assert [c for _, c in top] == list(lsoa_table["count"].head(5))
    assert [n for n, _ in top] == list(lsoa_table["name"].head(5))


# ------------------------------------------------------------------------------------------- TTCG


def test_ttcg_snapshot_flags_and_download(warehouse):
    months = ttcg.ward_months()
    month = date(2024, 3, 1)  # a month with one ward flagged in the standard categories
    assert tt.month_snapshot(months, month) == months.loc[months["month"] == month, "snapshot"].iloc[0]
    frame = ttcg.ward_expected(month, ttcg.DEFAULT_CATEGORIES)
    table = ttcg.grid(frame, ttcg.DEFAULT_CATEGORIES, None)
    n, keep = tt.flagged_wards(table, None, 5)
    assert n == frame.loc[frame["flag"] != "", "ward_code"].nunique() == len(keep) >= 1
    n_focus, keep_focus = tt.flagged_wards(
        ttcg.grid(frame, ttcg.DEFAULT_CATEGORIES, "E05009333"), "E05009333", 5
    )
    assert n_focus == n and "E05009333" in set(keep_focus["ward_code"]) and len(keep_focus) == n + 1
    assert tt.flagged_wards(table, None, 0)[1].empty
    down = tt.download_table(frame, month)
    assert len(down) == len(frame) and "category" not in down.columns
    assert {"Ward code", "Ward", "Category", "Offences Mar 2024", "Expected", "Flag"} <= set(down.columns)
