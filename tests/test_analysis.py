"""The analysts' hotspot/VOLT library (csp_data/analysis/areas.py) on the real warehouse.

Every figure is checked against an independent DuckDB query straight onto the warehouse Parquet
(``data/warehouse/*.parquet``), not against the project's own queries, so a wrong join, level or
date bound in ``queries/`` shows up here.
"""

from __future__ import annotations

import math
from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pytest

from csp_data.analysis import areas as analysis
from csp_data.analysis.areas import FIRST_LSOA_MONTH, PERIOD_CHOICES, AnalysisError
from csp_data.analysis.stats import compare_counts
from csp_data.config import settings
from csp_data.plan.measures import MEASURES
from csp_data.plan.periods import make

SPITALFIELDS = "E05009333"


# ---------------------------------------------------------------- fixtures and independent sums


@pytest.fixture(scope="module")
def raw(warehouse):
    """An independent DuckDB connection onto the warehouse Parquet (not csp_data.warehouse.db)."""
    con = duckdb.connect()
    yield con, warehouse
    con.close()


def parquet(wh, name: str) -> str:
    return str(wh / f"{name}.parquet")


def independent_counts(raw, level: str, majors: list[str], start: date, end: date) -> pd.Series:
    """Offences per area of the borough at ``level`` ('ward' or 'lsoa') for MPS majors over start..end."""
    con, wh = raw
    df = con.execute(
        "SELECT area_code, sum(count)::BIGINT AS n FROM read_parquet($p) "
        "WHERE level = $level AND borough_code = $b AND list_contains($majors, major_category) "
        "AND month BETWEEN $s AND $e GROUP BY area_code",
        {
            "p": parquet(wh, "crime_monthly"),
            "level": level,
            "b": settings().borough_code,
            "majors": majors,
            "s": start,
            "e": end,
        },
    ).df()
    return df.set_index("area_code")["n"].astype(int)


@pytest.fixture(scope="module")
def cats(warehouse):
    return analysis.categories()


@pytest.fixture(scope="module")
def robbery(cats):
    found = [c for c in cats if c.label == "Robbery"]
    assert len(found) == 1
    return found[0]


@pytest.fixture(scope="module")
def ward_codes(raw) -> list[str]:
    con, wh = raw
    return sorted(
        r[0]
        for r in con.execute("SELECT ward_code FROM read_parquet($p)", {"p": parquet(wh, "wards")}).fetchall()
    )


@pytest.fixture(scope="module")
def lsoas(raw) -> pd.DataFrame:
    con, wh = raw
    return con.execute(
        "SELECT lsoa21_code, ward_code, population FROM read_parquet($p)", {"p": parquet(wh, "lsoas")}
    ).df()


# ---------------------------------------------------------------- categories and latest month


def test_categories_start_with_the_plan_measures_then_every_mps_major(raw, cats):
    plan = [m for m in MEASURES if m.source == "crime"]
    assert len(plan) >= 5
    assert [c.label for c in cats[: len(plan)]] == [m.label for m in plan]
    for c, m in zip(cats, plan):
        assert (c.majors, c.minors) == (m.majors, m.minors), m.label
    labels = [c.label for c in cats]
    assert len(labels) == len(set(labels)), "category labels must be unique (they are URL values)"

    con, wh = raw
    pairs = con.execute(
        "SELECT DISTINCT major_category, minor_category FROM read_parquet($p) WHERE level = 'lsoa'",
        {"p": parquet(wh, "crime_monthly")},
    ).fetchall()
    majors = sorted({a for a, _ in pairs})
    assert len(majors) >= 8
    by_label = {c.label: c for c in cats}
    for major in majors:
        c = by_label.get(f"All {major.lower()}")
        assert c is not None, f"no category for the MPS major {major!r}"
        assert c.majors == (major,) and c.minors == ()
    # every minor held at LSOA level can be chosen on its own (or is its major's whole total)
    chosen_minors = {m for c in cats for m in c.minors if not c.majors and len(c.minors) == 1}
    for major, minor in pairs:
        assert minor == major or minor in chosen_minors, (major, minor)
    # the majors come after the plan measures, in alphabetical order
    all_majors = [c.label for c in cats[len(plan) :] if c.label.startswith("All ")]
    assert all_majors == [f"All {m.lower()}" for m in majors]


def test_latest_month_per_level_matches_the_warehouse(raw):
    con, wh = raw
    for geo, level in (("Wards", "ward"), ("LSOAs", "lsoa")):
        want = con.execute(
            "SELECT max(month) FROM read_parquet($p) WHERE level = $l AND borough_code = $b",
            {"p": parquet(wh, "crime_monthly"), "l": level, "b": settings().borough_code},
        ).fetchone()[0]
        assert analysis.latest_month(geo) == want


# ---------------------------------------------------------------- resolve_period

LATEST = date(2026, 2, 1)


@pytest.mark.parametrize(
    "choice, start, end, label",
    [
        ("Latest month", date(2026, 2, 1), date(2026, 2, 1), "Feb 2026"),
        ("Last 3 months", date(2025, 12, 1), date(2026, 2, 1), "Dec 2025 to Feb 2026"),
        ("Last 12 months", date(2025, 3, 1), date(2026, 2, 1), "Mar 2025 to Feb 2026"),
        ("Financial year to date", date(2025, 4, 1), date(2026, 2, 1), "Apr 2025 to Feb 2026"),
    ],
)
def test_resolve_period_choices(choice, start, end, label):
    p = analysis.resolve_period(choice, LATEST)
    assert (p.start, p.end, p.label) == (start, end, label)


def test_every_period_choice_is_resolved():
    for choice in PERIOD_CHOICES:
        if choice == "Custom months":
            p = analysis.resolve_period(choice, LATEST, "2025-01", "2025-06")
        else:
            p = analysis.resolve_period(choice, LATEST)
        assert p.end == LATEST or choice == "Custom months"


@pytest.mark.parametrize(
    "latest, start, label",
    [
        (
            date(2025, 4, 1),
            date(2025, 4, 1),
            "Apr 2025",
        ),  # April: the new year has one month, not the old year
        (date(2025, 3, 1), date(2024, 4, 1), "FY2024-25"),  # March: the whole year, labelled as one
        (
            date(2026, 1, 1),
            date(2025, 4, 1),
            "Apr 2025 to Jan 2026",
        ),  # January belongs to the FY begun last April
    ],
)
def test_financial_year_to_date_edges(latest, start, label):
    p = analysis.resolve_period("Financial year to date", latest)
    assert (p.start, p.end, p.label) == (start, latest, label)


def test_last_12_months_ending_in_march_is_a_financial_year():
    p = analysis.resolve_period("Last 12 months", date(2026, 3, 1))
    assert (p.start, p.end, p.label) == (date(2025, 4, 1), date(2026, 3, 1), "FY2025-26")


def test_custom_months_valid():
    p = analysis.resolve_period("Custom months", LATEST, "2025-01", "2025-06")
    assert (p.start, p.end, p.label) == (date(2025, 1, 1), date(2025, 6, 1), "Jan 2025 to Jun 2025")
    one = analysis.resolve_period(
        "Custom months", LATEST, "2023-08", "2023-08"
    )  # the first LSOA month itself
    assert (one.start, one.end) == (FIRST_LSOA_MONTH, FIRST_LSOA_MONTH)
    last = analysis.resolve_period("Custom months", LATEST, "2026-02", "2026-02")
    assert (last.start, last.end) == (LATEST, LATEST)


@pytest.mark.parametrize("frm, to", [(None, "2025-06"), ("2025-01", None), ("", ""), (None, None)])
def test_custom_months_need_both_ends(frm, to):
    with pytest.raises(AnalysisError, match="Choose the first and last month of the custom period"):
        analysis.resolve_period("Custom months", LATEST, frm, to)


@pytest.mark.parametrize("frm, to", [("2023-07", "2024-01"), ("2025-06", "2026-03"), ("2019-01", "2030-12")])
def test_custom_months_out_of_range(frm, to):
    with pytest.raises(AnalysisError) as info:
        analysis.resolve_period("Custom months", LATEST, frm, to)
    assert str(info.value) == "Choose months between Aug 2023 and Feb 2026."


@pytest.mark.parametrize("frm, to", [("2025-06", "2025-01"), ("2025-13", "2025-06"), ("June", "2025-06")])
def test_custom_months_invalid_is_a_friendly_analysis_error(frm, to):
    with pytest.raises(AnalysisError) as info:
        analysis.resolve_period("Custom months", LATEST, frm, to)
    assert "accepted:" not in str(info.value)


def test_unknown_period_choice():
    with pytest.raises(AnalysisError, match="Unknown period 'Last week'"):
        analysis.resolve_period("Last week", LATEST)


# ---------------------------------------------------------------- area_table


@pytest.fixture(scope="module")
def ward_period():
    latest = analysis.latest_month("Wards")
    return analysis.resolve_period("Last 12 months", latest)


@pytest.fixture(scope="module")
def ward_table(robbery, ward_period):
    return analysis.area_table(robbery, ward_period, "Wards")


def test_ward_table_matches_independent_sums(raw, ward_table, ward_period, ward_codes):
    t = ward_table
    assert len(t) == 20 == len(ward_codes)
    assert sorted(t["code"]) == ward_codes
    assert (t["ward_code"] == t["code"]).all()
    cur = independent_counts(raw, "ward", ["ROBBERY"], ward_period.start, ward_period.end)
    prev_p = ward_period.previous()
    assert prev_p.n_months == 12 and prev_p.end < ward_period.start
    prev = independent_counts(raw, "ward", ["ROBBERY"], prev_p.start, prev_p.end)
    got = t.set_index("code")
    assert got["count"].to_dict() == cur.reindex(ward_codes, fill_value=0).to_dict()
    assert got["previous"].astype(int).to_dict() == prev.reindex(ward_codes, fill_value=0).to_dict()
    assert int(t["count"].sum()) == int(cur.sum()) > 500
    assert (t.attrs["period"], t.attrs["previous"]) == (ward_period.label, prev_p.label)


def independent_area_dispersion(
    raw, level: str, majors: list[str], start: date, end: date
) -> tuple[float, float]:
    """(phi, rho) of an area x month table, independently: statsmodels' Poisson GLM with an effect
    per area and per month (Pearson scale, floored at 1) and the lag-1 autocorrelation of its Pearson
    residuals within areas, from counts read straight off the Parquet (zeros filled for areas and
    months the level covers)."""
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    con, wh = raw
    df = con.execute(
        "SELECT area_code, month, sum(count)::BIGINT AS n FROM read_parquet($p) "
        "WHERE level = $level AND borough_code = $b AND list_contains($majors, major_category) "
        "AND month BETWEEN $s AND $e GROUP BY area_code, month",
        {
            "p": parquet(wh, "crime_monthly"),
            "level": level,
            "b": settings().borough_code,
            "majors": majors,
            "s": start,
            "e": end,
        },
    ).df()
    months = con.execute(
        "SELECT DISTINCT month FROM read_parquet($p) WHERE level = $level AND borough_code = $b "
        "AND month BETWEEN $s AND $e ORDER BY month",
        {
            "p": parquet(wh, "crime_monthly"),
            "level": level,
            "b": settings().borough_code,
            "s": start,
            "e": end,
        },
    ).df()["month"]
    areas = (
        con.execute(
            f"SELECT {'ward_code' if level == 'ward' else 'lsoa21_code'} FROM read_parquet($p)",
            {"p": parquet(wh, "wards" if level == "ward" else "lsoas")},
        )
        .df()
        .iloc[:, 0]
    )
    tab = (
        df.pivot_table(index="area_code", columns="month", values="n", aggfunc="sum")
        .reindex(index=areas, columns=months)
        .fillna(0)
    )
    tab = tab[tab.sum(axis=1) > 0]
    long = tab.stack().rename("y").reset_index()
    long.columns = ["area", "month", "y"]
    long["month"] = long["month"].astype(str)
    fit = smf.glm("y ~ C(area) + C(month)", long, family=sm.families.Poisson()).fit(scale="X2")
    res = np.asarray(fit.resid_pearson).reshape(tab.shape)
    n_m = tab.shape[1]
    rho = float(np.sum(res[:, :-1] * res[:, 1:]) / np.sum(res**2) * n_m / (n_m - 1))
    return max(1.0, fit.scale), min(0.9, max(0.0, rho))


def ar1_difference_inflation(k: int, rho: float) -> float:
    w = [-1] * k + [1] * k
    return max(
        1.0, sum(w[i] * w[j] * rho ** abs(i - j) for i in range(2 * k) for j in range(2 * k)) / (2 * k)
    )


def test_ward_table_verdicts_rates_and_order(raw, ward_table, ward_period):
    from statsmodels.stats.multitest import multipletests

    con, wh = raw
    pops = dict(
        con.execute(
            "SELECT ward_code, population FROM read_parquet($p)", {"p": parquet(wh, "wards")}
        ).fetchall()
    )
    phi, rho = independent_area_dispersion(
        raw, "ward", ["ROBBERY"], analysis.add_months(ward_period.end, -35), ward_period.end
    )
    disp = ward_table.attrs["dispersion"]
    assert (disp.phi, disp.rho) == (pytest.approx(phi, rel=1e-6), pytest.approx(rho, rel=1e-5, abs=1e-9))
    eff = phi * ar1_difference_inflation(12, rho)
    raw_c = [compare_counts(r.count, r.previous, phi=eff) for r in ward_table.itertuples()]
    reject, q, _, _ = multipletests([c.p_value for c in raw_c], alpha=0.05, method="fdr_bh")
    assert ward_table["q_value"].to_numpy() == pytest.approx(q, rel=1e-9)
    for r, c, rej in zip(ward_table.itertuples(), raw_c, reject):
        want = (
            "No significant change"
            if not rej
            else "Significant rise"
            if r.count > r.previous
            else "Significant fall"
        )
        assert (r.change, r.verdict) == (c.change, want), r.code
        assert (
            r.symbol == {"No significant change": "●", "Significant rise": "▲", "Significant fall": "▼"}[want]
        )
        assert (r.pct_change is None and c.pct_change is None) or math.isclose(r.pct_change, c.pct_change)
        assert r.population == pops[r.code]
        assert math.isclose(r.rate_per_1000, r.count / pops[r.code] * 1000)
    keys = list(zip(-ward_table["count"], ward_table["name"]))
    assert keys == sorted(keys), "most offences first, then by name"
    assert set(ward_table["verdict"]) <= {"Significant rise", "Significant fall", "No significant change"}


@pytest.fixture(scope="module")
def lsoa_period():
    return analysis.resolve_period("Last 12 months", analysis.latest_month("LSOAs"))


def test_lsoa_table_matches_independent_sums(raw, robbery, lsoa_period, lsoas):
    t = analysis.area_table(robbery, lsoa_period, "LSOAs")
    assert len(t) == 169 == len(lsoas) == t["code"].nunique()
    cur = independent_counts(raw, "lsoa", ["ROBBERY"], lsoa_period.start, lsoa_period.end)
    assert int(t["count"].sum()) == int(cur.sum()) > 500
    assert t.set_index("code")["count"].to_dict() == cur.reindex(lsoas["lsoa21_code"], fill_value=0).to_dict()
    assert t.set_index("code")["ward_code"].to_dict() == lsoas.set_index("lsoa21_code")["ward_code"].to_dict()
    prev_p = lsoa_period.previous()
    assert prev_p.start >= FIRST_LSOA_MONTH
    prev = independent_counts(raw, "lsoa", ["ROBBERY"], prev_p.start, prev_p.end)
    assert (
        t.set_index("code")["previous"].astype(int).to_dict()
        == prev.reindex(lsoas["lsoa21_code"], fill_value=0).to_dict()
    )
    assert t.attrs["previous"] == prev_p.label


def test_lsoa_table_within_one_ward(raw, robbery, lsoa_period, lsoas):
    t = analysis.area_table(robbery, lsoa_period, "LSOAs", ward=SPITALFIELDS)
    mine = lsoas[lsoas["ward_code"] == SPITALFIELDS]["lsoa21_code"]
    assert 3 <= len(mine) < 169
    assert sorted(t["code"]) == sorted(mine)
    assert set(t["ward_code"]) == {SPITALFIELDS}
    cur = independent_counts(raw, "lsoa", ["ROBBERY"], lsoa_period.start, lsoa_period.end)
    assert int(t["count"].sum()) == int(cur.reindex(mine, fill_value=0).sum())


def test_unknown_ward_is_a_friendly_error(robbery, lsoa_period):
    with pytest.raises(AnalysisError, match="That ward has no areas at this level"):
        analysis.area_table(robbery, lsoa_period, "LSOAs", ward="E05000000")


def test_lsoa_previous_period_before_the_series_is_not_held(raw, robbery):
    period = make(date(2024, 1, 1), date(2024, 12, 1))  # previous: Jan-Dec 2023, before Aug 2023
    t = analysis.area_table(robbery, period, "LSOAs")
    assert len(t) == 169
    assert t["previous"].isna().all() and t["change"].isna().all() and t["pct_change"].isna().all()
    assert set(t["verdict"]) == {"no earlier period held"}
    assert set(t["symbol"]) == {""}
    assert (t.attrs["period"], t.attrs["previous"], t.attrs["dispersion"]) == ("2024", None, None)
    cur = independent_counts(raw, "lsoa", ["ROBBERY"], period.start, period.end)
    assert int(t["count"].sum()) == int(cur.sum())


def test_lsoa_previous_period_starting_at_the_first_lsoa_month_is_held(robbery):
    period = make(
        date(2024, 8, 1), date(2025, 7, 1)
    )  # previous: Aug 2023 - Jul 2024, exactly the first month
    t = analysis.area_table(robbery, period, "LSOAs")
    assert t["previous"].notna().all()
    assert "no earlier period held" not in set(t["verdict"])
    assert t.attrs["previous"] == "Aug 2023 to Jul 2024"


# ---------------------------------------------------------------- concentration


@pytest.mark.parametrize(
    "counts, share, k",
    [
        ([10] + [0] * 9, 1.0, 1),
        ([1] * 10, 0.1, 1),
        ([5, 0, 3, 2], 0.5, 1),  # unsorted; 10% of 4 areas rounds up to 1 area
        ([1] * 20, 0.1, 2),
        ([9, 1] + [0] * 18, 1.0, 2),
        ([1] * 11, 2 / 11, 2),  # 10% of 11 areas is 1.1: two areas
        ([1] * 169, 17 / 169, 17),
    ],
)
def test_concentration_hand_examples(counts, share, k):
    got_share, got_k = analysis.concentration(pd.Series(counts))
    assert got_k == k
    assert math.isclose(got_share, share)


@pytest.mark.parametrize("counts", [[], [0, 0, 0]])
def test_concentration_with_nothing_to_share(counts):
    assert analysis.concentration(pd.Series(counts, dtype=float)) == (0.0, 0)


def test_concentration_other_shares():
    assert analysis.concentration(pd.Series([4, 3, 2, 1]), share_of_areas=0.5) == (0.7, 2)
    assert analysis.concentration(pd.Series([4, 3, 2, 1]), share_of_areas=1.0) == (1.0, 4)


def test_concentration_top_tenth_is_exact_for_multiples_of_ten():
    for n in (10, 30, 60, 70, 170, 990):
        assert analysis.concentration(pd.Series(range(n, 0, -1)))[1] == n // 10, n
    share, k = analysis.concentration(pd.Series(range(30, 0, -1)))
    assert k == 3
    assert math.isclose(share, (30 + 29 + 28) / sum(range(1, 31)))


# ---------------------------------------------------------------- seasonality


def test_seasonality_uses_whole_calendar_years(raw, robbery):
    con, wh = raw
    g = analysis.seasonality(robbery)
    last = con.execute(
        "SELECT max(month) FROM read_parquet($p) WHERE level = 'borough' AND borough_code = $b",
        {"p": parquet(wh, "crime_monthly"), "b": settings().borough_code},
    ).fetchone()[0]
    end_year = last.year if last.month == 12 else last.year - 1
    start, end = date(end_year - 4, 1, 1), date(end_year, 12, 1)
    assert g.attrs["span"] == f"Jan {end_year - 4} to Dec {end_year}"
    assert list(g.columns) == ["calendar_month", "month_name", "mean", "index", "years"]
    assert list(g["calendar_month"]) == list(range(1, 13))
    assert list(g["month_name"]) == [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ]
    assert (g["years"] == 5).all(), "every calendar month counted once in each of 5 whole years"
    assert math.isclose(g["index"].mean(), 100.0)
    want = con.execute(
        "SELECT month(month) AS m, sum(count) / 5.0 AS mean FROM read_parquet($p) "
        "WHERE level = 'borough' AND borough_code = $b AND major_category = 'ROBBERY' "
        "AND month BETWEEN $s AND $e GROUP BY 1 ORDER BY 1",
        {"p": parquet(wh, "crime_monthly"), "b": settings().borough_code, "s": start, "e": end},
    ).df()
    assert np.allclose(g["mean"].to_numpy(), want["mean"].to_numpy())
    assert np.allclose(g["index"].to_numpy(), want["mean"].to_numpy() / want["mean"].mean() * 100)


# ---------------------------------------------------------------- street points and burglary outcomes


@pytest.fixture(scope="module")
def street_year(raw):
    con, wh = raw
    last = con.execute(
        "SELECT max(month) FROM read_parquet($p) WHERE crime_type = 'Burglary'",
        {"p": parquet(wh, "street_crime")},
    ).fetchone()[0]
    return analysis.resolve_period("Last 12 months", last)


def test_burglary_outcomes_shares_sum_to_100(raw, street_year):
    con, wh = raw
    df = analysis.burglary_outcomes(street_year)
    assert len(df) >= 2
    assert math.isclose(df["share_pct"].sum(), 100.0)
    total = con.execute(
        "SELECT count(*) FROM read_parquet($p) WHERE crime_type = 'Burglary' AND geo_status = 'inside' "
        "AND month BETWEEN $s AND $e",
        {"p": parquet(wh, "street_crime"), "s": street_year.start, "e": street_year.end},
    ).fetchone()[0]
    assert int(df["records"].sum()) == int(total) > 0
    assert np.allclose(df["share_pct"], df["records"] / total * 100)
    assert list(df["records"]) == sorted(df["records"], reverse=True)
    assert df["last_outcome"].str.strip().ne("").all()


def test_burglary_outcomes_in_one_ward_and_in_an_empty_period(street_year):
    ward = analysis.burglary_outcomes(street_year, SPITALFIELDS)
    borough = analysis.burglary_outcomes(street_year)
    assert 0 < int(ward["records"].sum()) < int(borough["records"].sum())
    assert math.isclose(ward["share_pct"].sum(), 100.0)
    empty = analysis.burglary_outcomes(make(date(2005, 1, 1), date(2005, 12, 1)))
    assert empty.empty


def test_street_points_match_the_outcome_records(street_year):
    pts = analysis.street_points("Burglary", street_year)
    assert len(pts) == int(analysis.burglary_outcomes(street_year)["records"].sum())
    assert {"month", "longitude", "latitude", "ward_code"} <= set(pts.columns)
    located = pts.dropna(subset=["longitude", "latitude"])
    assert located["longitude"].between(-0.2, 0.1).all() and located["latitude"].between(51.4, 51.6).all()
    mine = analysis.street_points("Burglary", street_year, SPITALFIELDS)
    assert 0 < len(mine) < len(pts) and set(mine["ward_code"]) == {SPITALFIELDS}


# ---------------------------------------------------------------- victims


def independent_dashboard(raw, area: str, crime_type: str, subtype: str, measure: str, period) -> int:
    con, wh = raw
    return int(
        con.execute(
            "SELECT coalesce(sum(count), 0) FROM read_parquet($p) WHERE area_code = $a AND crime_type = $t "
            "AND crime_subtype = $s AND measure = $m AND month BETWEEN $s0 AND $e0",
            {
                "p": parquet(wh, "dashboard_monthly"),
                "a": area,
                "t": crime_type,
                "s": subtype,
                "m": measure,
                "s0": period.start,
                "e0": period.end,
            },
        ).fetchone()[0]
    )


FY2425 = make(date(2024, 4, 1), date(2025, 3, 1))


def test_victims_borough_hate_crime_matches_the_dashboard(raw):
    borough = settings().borough_code
    v = analysis.victims(borough, FY2425)
    assert list(v.columns) == [
        "crime_type",
        "subtype",
        "offences",
        "positive_outcomes",
        "positive_outcome_rate_pct",
        "months",
    ]
    assert set(v["crime_type"]) == set(analysis.VICTIM_TYPES)
    hate = v[(v["crime_type"] == "Hate crime") & (v["subtype"] == "Hate crime")]
    assert len(hate) == 1
    row = hate.iloc[0]
    assert (
        row["offences"]
        == independent_dashboard(raw, borough, "Hate crime", "Hate crime", "Offences", FY2425)
        > 100
    )
    assert row["positive_outcomes"] == independent_dashboard(
        raw, borough, "Hate crime", "Hate crime", "Positive Outcomes", FY2425
    )
    assert math.isclose(row["positive_outcome_rate_pct"], row["positive_outcomes"] / row["offences"] * 100)
    assert row["months"] == 12
    for r in v.itertuples():
        assert r.offences == independent_dashboard(raw, borough, r.crime_type, r.subtype, "Offences", FY2425)
        if r.offences < 10 or "Victims" in r.subtype:  # victim counts have no published outcomes
            assert math.isnan(r.positive_outcome_rate_pct), r
        else:
            assert math.isclose(r.positive_outcome_rate_pct, r.positive_outcomes / r.offences * 100)


def test_victims_rate_is_nan_below_10_offences(raw):
    """One month of the borough: small strands (e.g. transphobic hate crime) have fewer than 10."""
    borough = settings().borough_code
    month = make(date(2025, 3, 1), date(2025, 3, 1))
    v = analysis.victims(borough, month)
    small = v[v["offences"] < 10]
    assert len(small) >= 2, "the check below would be vacuous"
    assert small["positive_outcome_rate_pct"].isna().all()
    big = v[(v["offences"] >= 10) & ~v["subtype"].str.contains("Victims")]
    assert len(big) >= 2 and big["positive_outcome_rate_pct"].notna().all()
    assert (v["months"] == 1).all()
    for r in v.itertuples():
        if "Victims" in r.subtype:
            assert math.isnan(r.positive_outcomes), r  # no outcomes are published for victim counts
            continue
        assert r.positive_outcomes == independent_dashboard(
            raw, borough, r.crime_type, r.subtype, "Positive Outcomes", month
        )


def test_victims_for_a_period_the_dashboard_does_not_hold():
    assert analysis.victims(settings().borough_code, make(date(2005, 1, 1), date(2005, 12, 1))).empty


def test_victims_no_outcome_rate_for_victim_counts():
    v = analysis.victims(settings().borough_code, FY2425)
    victims_rows = v[v["subtype"].str.startswith("Knife Injury Victims")]
    assert len(victims_rows) == 2 and (victims_rows["offences"] >= 10).all()
    assert victims_rows["positive_outcome_rate_pct"].isna().all()


def test_lsoa_robbery_changes_chance_alone_explains_are_not_called_real(robbery, lsoa_period):
    """Mar 2025-Feb 2026 against the 12 months before: the exact Poisson test alone calls several of
    the 169 LSOAs' changes real (about 5% would be by chance); with the pooled dispersion and
    false-discovery control across the 169 LSOAs none survives, and the caption says why."""
    t = analysis.area_table(robbery, lsoa_period, "LSOAs")
    raw_flags = sum(compare_counts(r.count, int(r.previous)).significant for r in t.itertuples())
    assert raw_flags >= 5
    assert set(t["verdict"]) == {"No significant change"}
    assert t["q_value"].min() > 0.05
    assert "169 LSOAs tested at once" in t.attrs["method"]
    assert t.attrs["dispersion"].phi > 1
