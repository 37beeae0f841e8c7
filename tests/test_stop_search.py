"""Stop and search: figures checked against independent DuckDB counts on the real warehouse, the
statistics checked by hand formulas, the ethnicity grouping checked against every value in the data,
the rates per 1,000 residents by ethnic group recomputed from the raw Met and Census files (and their
interval checked against statsmodels), and the page rendered in AppTest (charts described, tables
behind every chart, the rates section, the ward filter).

The independent counts read ``stop_search.parquet`` with a fresh DuckDB connection of their own
and SQL written here, not the app's connection or the files in ``queries/stop_search/``.
"""

from __future__ import annotations

import json
import math
import re
from datetime import date

import altair as alt
import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from streamlit.testing.v1 import AppTest

from csp_data.analysis import search_rates as sr
from csp_data.analysis import stop_search as ss
from csp_data.config import REPO_ROOT, Settings
from csp_data.config.pages import PAGES
from csp_data.plan.periods import make
from csp_data.present import charts
from csp_data.ui.components import plain
from csp_data.warehouse import sql

APP = REPO_ROOT / "app.py"
SCRIPT = "pages/analysis/stop_search.py"
TIMEOUT = 120
Z = 1.959963984540054  # the 97.5th percentile of the standard normal, written out

# An independent grouping of the self-defined text, in SQL, used to cross-check the Python rules.
SELF_GROUP_SQL = """
CASE
  WHEN self_defined_ethnicity IS NULL OR trim(self_defined_ethnicity) = '' THEN 'Not stated'
  WHEN lower(self_defined_ethnicity) LIKE '%not stated%' THEN 'Not stated'
  WHEN lower(self_defined_ethnicity) LIKE 'asian%' THEN 'Asian'
  WHEN lower(self_defined_ethnicity) LIKE 'chinese or other ethnic group - chinese%' THEN 'Asian'
  WHEN lower(self_defined_ethnicity) LIKE 'black%' THEN 'Black'
  WHEN lower(self_defined_ethnicity) LIKE 'mixed%' THEN 'Mixed'
  WHEN lower(self_defined_ethnicity) LIKE 'white%' THEN 'White'
  WHEN lower(self_defined_ethnicity) LIKE 'other ethnic group%' THEN 'Other'
  WHEN lower(self_defined_ethnicity) LIKE 'chinese or other ethnic group%' THEN 'Other'
  ELSE 'Unmapped'
END
"""
RAW_COLUMNS = {
    "officer": "coalesce(officer_defined_ethnicity, 'Not recorded')",
    "self": SELF_GROUP_SQL,
    "age": "coalesce(age_range, 'Not recorded')",
    "gender": "coalesce(gender, 'Not recorded')",
    "object": "coalesce(object_of_search, 'Not recorded')",
    "outcome": "coalesce(outcome, 'Not recorded')",
}
NFA_SQL = "('A no further action disposal', 'Nothing found - no further action')"


# ----------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def raw(warehouse):
    """A separate DuckDB connection on the warehouse Parquet (not the app's connection)."""
    con = duckdb.connect()
    con.execute(f"CREATE VIEW s AS SELECT * FROM read_parquet('{warehouse / 'stop_search.parquet'}')")
    con.execute(f"CREATE VIEW w AS SELECT * FROM read_parquet('{warehouse / 'wards.parquet'}')")
    yield con
    con.close()


@pytest.fixture(scope="module")
def monthly(warehouse):
    return ss.load_monthly("")


@pytest.fixture(scope="module")
def last12(raw, monthly):
    latest = raw.execute("SELECT max(month) FROM s").fetchone()[0]
    choice = ss.period_choices(monthly)[0]
    assert choice.key == "last12"
    assert choice.period.end == latest and choice.period.n_months == 12
    return choice.period


@pytest.fixture(scope="module")
def busiest_ward(raw, last12):
    return raw.execute(
        "SELECT ward_code FROM s WHERE month BETWEEN ? AND ? GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
        [last12.start, last12.end],
    ).fetchone()[0]


def n_raw(raw, period, ward="", extra="TRUE") -> int:
    return raw.execute(
        f"SELECT count(*) FROM s WHERE month BETWEEN ? AND ? AND (? = '' OR ward_code = ?) AND {extra}",
        [period.start, period.end, ward, ward],
    ).fetchone()[0]


PERIODS = {
    "last12": None,  # filled from the fixture
    "FY2022-23": make(date(2022, 4, 1), date(2023, 3, 1)),
    "all": make(date(2016, 6, 1), date(2024, 8, 1)),
}


def period_for(name, last12):
    return last12 if name == "last12" else PERIODS[name]


# ----------------------------------------------------------------------------------- coverage and periods


def test_coverage_matches_the_table(raw, warehouse):
    cov = ss.load_coverage()
    first, last, months, n = raw.execute(
        "SELECT min(month), max(month), count(DISTINCT month), count(*) FROM s"
    ).fetchone()
    assert (cov.first_month, cov.last_month, cov.months_held, cov.searches) == (first, last, months, n)
    assert cov.months_held + len(cov.missing) == cov.span_months
    held = {r[0] for r in raw.execute("SELECT DISTINCT month FROM s").fetchall()}
    assert not set(cov.missing) & held
    assert cov.snapshot.startswith("police.uk stop and search")


def test_period_choices_cover_last12_financial_years_and_all(monthly, raw):
    choices = ss.period_choices(monthly)
    keys = [c.key for c in choices]
    assert keys[0] == "last12" and keys[-1] == "all"
    fys = [c for c in choices if c.key.startswith("FY")]
    assert fys and all(c.period.start.month == 4 and c.period.n_months == 12 for c in fys)
    held = {r[0] for r in raw.execute("SELECT DISTINCT month FROM s").fetchall()}
    for c in choices:
        assert c.months_held == sum(1 for m in held if m in c.period), c.key
    assert choices[-1].months_held == len(held)


# ----------------------------------------------------------------------------------- counts


@pytest.mark.parametrize("pname", list(PERIODS))
@pytest.mark.parametrize("dim", list(ss.DIMENSIONS))
def test_group_counts_sum_to_total_and_equal_independent_counts(raw, last12, dim, pname):
    period = period_for(pname, last12)
    g = ss.grouped(ss.load_profile(period))
    counts = ss.counts_by(g, dim)
    total = n_raw(raw, period)
    assert total > 0
    assert int(counts["searches"].sum()) == total
    assert counts["share_pct"].sum() == pytest.approx(100.0)
    expect = dict(
        raw.execute(
            f"SELECT {RAW_COLUMNS[dim]} AS c, count(*) FROM s WHERE month BETWEEN ? AND ? GROUP BY 1",
            [period.start, period.end],
        ).fetchall()
    )
    assert dict(zip(counts["category"], counts["searches"].astype(int))) == expect


@pytest.mark.parametrize("dim", ["self", "officer", "object"])
def test_group_counts_for_one_ward(raw, last12, busiest_ward, dim):
    counts = ss.counts_by(ss.grouped(ss.load_profile(last12, busiest_ward)), dim)
    expect = dict(
        raw.execute(
            f"SELECT {RAW_COLUMNS[dim]}, count(*) FROM s WHERE month BETWEEN ? AND ? AND ward_code = ? "
            "GROUP BY 1",
            [last12.start, last12.end, busiest_ward],
        ).fetchall()
    )
    assert dict(zip(counts["category"], counts["searches"].astype(int))) == expect
    assert int(counts["searches"].sum()) == n_raw(raw, last12, busiest_ward) < n_raw(raw, last12)


def test_ward_table_sums_to_the_located_total(raw, last12):
    wt = ss.load_wards(last12)
    n_wards = raw.execute("SELECT count(*) FROM w").fetchone()[0]
    assert len(wt) == n_wards == 20
    assert int(wt["searches"].sum()) == n_raw(raw, last12, extra="ward_code IS NOT NULL")
    expect = dict(
        raw.execute(
            "SELECT ward_code, count(*) FROM s WHERE month BETWEEN ? AND ? GROUP BY 1",
            [last12.start, last12.end],
        ).fetchall()
    )
    for r in ss.ward_table(wt).itertuples():
        assert r.searches == expect.get(r.ward_code, 0)
        assert r.per_1000_residents == pytest.approx(r.searches / r.population * 1000)


def test_points_and_the_no_location_count(raw, last12):
    pts, missing, total = ss.located(ss.load_points(last12))
    assert total == n_raw(raw, last12)
    assert missing == n_raw(raw, last12, extra="(longitude IS NULL OR latitude IS NULL)")
    assert len(pts) + missing == total


# ----------------------------------------------------------------------------------- find rate


def test_nfa_rule_names_real_outcome_values(raw):
    outcomes = {r[0] for r in raw.execute("SELECT DISTINCT outcome FROM s").fetchall()}
    assert set(ss.NFA_OUTCOMES) <= outcomes, "each no-further-action wording occurs in the data"


@pytest.mark.parametrize("pname", ["last12", "all"])
@pytest.mark.parametrize("dim", ["self", "officer", "object"])
def test_find_rate_numerator_and_denominator_recomputed(raw, last12, dim, pname):
    period = period_for(pname, last12)
    rates = ss.rates_by(ss.grouped(ss.load_profile(period)), dim, "found")
    rows = raw.execute(
        f"SELECT {RAW_COLUMNS[dim]} AS g, count(*) FILTER (WHERE outcome IS NOT NULL) AS n, "
        f"count(*) FILTER (WHERE outcome IS NOT NULL AND outcome NOT IN {NFA_SQL}) AS k "
        "FROM s WHERE month BETWEEN ? AND ? GROUP BY 1",
        [period.start, period.end],
    ).fetchall()
    expect = {g: (n, k) for g, n, k in rows if n > 0}
    got = {r.group: (r.n, r.k) for r in rates.itertuples()}
    assert got == expect
    N, K = sum(n for n, _ in expect.values()), sum(k for _, k in expect.values())
    assert (rates.attrs["n"], rates.attrs["k"]) == (N, K)
    for r in rates.itertuples():
        assert r.rate_pct == pytest.approx(r.k / r.n * 100)
        assert (r.rest_n, r.rest_k) == (N - r.n, K - r.k)


def test_linked_share_recomputed(raw, last12):
    rates = ss.rates_by(ss.grouped(ss.load_profile(last12)), "self", "linked")
    n, k = raw.execute(
        "SELECT count(outcome_linked), count(*) FILTER (WHERE outcome_linked) FROM s "
        "WHERE month BETWEEN ? AND ?",
        [last12.start, last12.end],
    ).fetchone()
    assert (rates.attrs["n"], rates.attrs["k"]) == (n, k)
    rows = raw.execute(
        f"SELECT {SELF_GROUP_SQL} AS g, count(outcome_linked), count(*) FILTER (WHERE outcome_linked) "
        "FROM s WHERE month BETWEEN ? AND ? GROUP BY 1",
        [last12.start, last12.end],
    ).fetchall()
    assert {r.group: (r.n, r.k) for r in rates.itertuples()} == {g: (a, b) for g, a, b in rows if a > 0}
    if k == 0:  # the Met publishes every filled-in value as false: nothing can be compared
        assert rates["verdict"].str.startswith("cannot be compared").all()
        assert ss.rate_sentences(rates, "x")[0].startswith(f"None of the {n:,d} searches")


def test_linked_share_is_empty_where_the_field_is_blank():
    rates = ss.rates_by(ss.grouped(ss.load_profile(PERIODS["FY2022-23"])), "self", "linked")
    assert rates.empty


def hand_wilson(k: int, n: int) -> tuple[float, float]:
    p = k / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z / (1 + Z * Z / n) * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def test_wilson_intervals_by_hand_formula(last12):
    for dim in ("self", "object"):
        rates = ss.rates_by(ss.grouped(ss.load_profile(last12)), dim, "found")
        for r in rates.itertuples():
            lo, hi = hand_wilson(r.k, r.n)
            assert r.low_pct == pytest.approx(lo * 100, abs=1e-9)
            assert r.high_pct == pytest.approx(hi * 100, abs=1e-9)
            assert r.low_pct <= r.rate_pct <= r.high_pct
    # a textbook value: 10 of 100 -> 5.52% to 17.44%
    lo, hi = hand_wilson(10, 100)
    assert (round(lo * 100, 2), round(hi * 100, 2)) == (5.52, 17.44)


def test_group_tests_fisher_and_benjamini_hochberg_by_hand(last12):
    rates = ss.rates_by(ss.grouped(ss.load_profile(last12)), "self", "found")
    N, K = rates.attrs["n"], rates.attrs["k"]
    ps = []
    for r in rates.itertuples():
        p = sps.fisher_exact([[r.k, r.n - r.k], [K - r.k, N - r.n - (K - r.k)]]).pvalue
        assert r.p_value == pytest.approx(p)
        ps.append(p)
    # Benjamini-Hochberg by hand: q_(i) = min over j >= i of p_(j) * m / j
    m = len(ps)
    order = np.argsort(ps)
    q = np.empty(m)
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, ps[i] * m / rank)
        q[i] = running
    assert list(rates["p_adjusted"]) == pytest.approx(list(q))
    for r in rates.itertuples():
        if r.p_adjusted < 0.05:
            assert r.verdict == (
                "clearly higher than the other groups"
                if r.rate_pct > r.rest_rate_pct
                else "clearly lower than the other groups"
            )
        else:
            assert r.verdict == "no clear difference from the other groups"
        # non-overlapping intervals imply a clear difference here (the conservative check)
        if r.intervals_separate:
            assert r.p_adjusted < 0.05 or r.small_numbers
    words = " ".join(ss.rate_sentences(rates, "a find"))
    for r in rates.itertuples():
        assert r.group in words


# ----------------------------------------------------------------------------------- ethnicity grouping


def test_every_self_defined_value_in_the_data_maps_to_a_group(raw):
    values = [r[0] for r in raw.execute("SELECT DISTINCT self_defined_ethnicity FROM s").fetchall()]
    assert len(values) > 20
    assert ss.unmapped(values) == []
    assert {ss.ethnic_group(v) for v in values} <= set(ss.ETHNIC_GROUPS)
    # the Python rules and the independent SQL grouping agree value by value
    sql_map = dict(raw.execute(f"SELECT DISTINCT self_defined_ethnicity, {SELF_GROUP_SQL} FROM s").fetchall())
    assert {v: ss.ethnic_group(v) for v in values} == sql_map


@pytest.mark.parametrize(
    "value, group",
    [
        (None, "Not stated"),
        ("", "Not stated"),
        ("Not Stated (NS)", "Not stated"),
        ("Other ethnic group - Not stated", "Not stated"),
        ("Asian/Asian British - Bangladeshi", "Asian"),
        ("Asian or Asian British - Bangladeshi (A3)", "Asian"),
        ("Chinese or other ethnic group - Chinese (O1)", "Asian"),
        ("Asian/Asian British - Chinese", "Asian"),
        ("Black or Black British - Caribbean (B1)", "Black"),
        ("Mixed - White and Asian (M3)", "Mixed"),
        ("White - Gypsy or Irish Traveller", "White"),
        ("Other ethnic group - Arab", "Other"),
        ("Chinese or other ethnic group - Any other ethnic group (O9)", "Other"),
        ("  white -  irish ", "White"),
        ("Martian", None),
    ],
)
def test_ethnic_group_rules(value, group):
    assert ss.ethnic_group(value) == group


def test_mapping_table_accounts_for_every_search(raw, last12):
    prof = ss.load_profile(last12)
    table = ss.mapping_table(prof)
    assert int(table["Searches"].sum()) == n_raw(raw, last12)
    assert set(table["Group"]) <= set(ss.ETHNIC_GROUPS)
    assert len(ss.rules_table()) == len(ss.ETHNIC_GROUP_RULES)


# ----------------------------------------------------------------------------------- time


@pytest.mark.parametrize("pname", list(PERIODS))
def test_heatmap_has_7_by_24_cells_summing_to_timestamped_searches(raw, last12, pname):
    period = period_for(pname, last12)
    hm = ss.heatmap_frame(ss.load_heatmap(period))
    assert len(hm) == 168
    assert set(zip(hm["weekday"], hm["hour"])) == {(d, h) for d in range(1, 8) for h in range(24)}
    assert int(hm["count"].sum()) == n_raw(raw, period, extra="searched_at IS NOT NULL")
    expect = dict(
        ((d, h), n)
        for d, h, n in raw.execute(
            "SELECT isodow(searched_at), hour(searched_at), count(*) FROM s WHERE searched_at IS NOT NULL "
            "AND month BETWEEN ? AND ? GROUP BY 1, 2",
            [period.start, period.end],
        ).fetchall()
    )
    for r in hm.itertuples():
        assert r.count == expect.get((r.weekday, r.hour), 0)
    assert hm.loc[hm["weekday"] == 1, "day"].unique().tolist() == ["Monday"]
    # the chart's table is the same grid turned round (it fits the page: 9 columns, not 26): a row
    # per hour, a column per day, each hour's total and each day's in the last row
    _, alt_text, table = charts.day_hour_heatmap(hm, "Searches", "searches")
    assert list(table.columns) == ["Hour", *ss.WEEKDAYS, "All days"]
    assert list(table["Hour"]) == [f"{h:02d}:00" for h in range(24)] + ["All hours"]
    body = table[table["Hour"] != "All hours"]
    for r in hm.itertuples():
        assert body.loc[body["Hour"] == f"{r.hour:02d}:00", r.day].item() == r.count
    totals = table[table["Hour"] == "All hours"].iloc[0]
    assert int(totals["All days"]) == int(body["All days"].sum()) == int(hm["count"].sum())
    for day in ss.WEEKDAYS:
        assert int(totals[day]) == int(hm.loc[hm["day"] == day, "count"].sum())
    assert f"{int(hm['count'].sum()):,d}" in alt_text


def test_monthly_series_gaps_and_rolling_average(raw, monthly):
    series = ss.monthly_series(monthly)
    held = dict(raw.execute("SELECT month, count(*) FROM s GROUP BY 1").fetchall())
    assert int(series["count"].sum()) == sum(held.values())
    assert series["month"].iloc[0] == min(held) and series["month"].iloc[-1] == max(held)
    for r in series.itertuples():
        assert (r.month in held) == (not math.isnan(r.count))
    # the average is the plain mean of 12 fully published months, and absent where a window has a gap
    usable = series["count"].where(series["note"] == "")
    for i in range(11, len(series)):
        window = usable.iloc[i - 11 : i + 1]
        if window.notna().all():
            assert series["rolling12"].iloc[i] == pytest.approx(window.mean())
        else:
            assert math.isnan(series["rolling12"].iloc[i])
    assert series["rolling12"].notna().any()


# ----------------------------------------------------------------------------------- denominators


ETHNIC19 = REPO_ROOT / "data" / "sources" / "census" / "london_census2021_ts021_ethnic19_lad.csv"
MET_FILE = REPO_ROOT / "data" / "sources" / "police_uk" / "met_stop_and_search_2015-04_2024-08.parquet"
LONDON_LSOA = REPO_ROOT / "data" / "sources" / "boundaries" / "london_lsoa21_bsc.geojson"
CENSUS_COLUMN = {
    "Asian": "asian_total",
    "Black": "black_total",
    "Mixed": "mixed_total",
    "White": "white_total",
}


@pytest.mark.parametrize(
    "k1, n1, k2, n2",
    [
        (743, 22693, 1217, 122266),
        (5, 1000, 40, 20000),
        (93, 12082, 1217, 122266),
        (0, 500, 30, 9000),
        (1, 10, 1, 10),
    ],
)
def test_ratio_interval_is_the_exact_conditional_interval_of_statsmodels(k1, n1, k2, n2):
    """At each end of the interval, statsmodels' exact conditional test of that ratio gives a one-sided
    p-value of exactly 2.5% (the interval is the inversion of those tests); for large counts it is close
    to the score interval."""
    rates = pytest.importorskip("statsmodels.stats.rates")
    ratio, low, high = sr.ratio_interval(k1, n1, k2, n2)
    assert ratio == pytest.approx((k1 / n1) / (k2 / n2))
    assert low <= ratio <= high
    if k1 > 0:
        p = rates.test_poisson_2indep(k1, n1, k2, n2, value=low, method="exact-cond", alternative="larger")
        assert p.pvalue == pytest.approx(0.025, abs=1e-9)
    else:
        assert low == 0
    p = rates.test_poisson_2indep(k1, n1, k2, n2, value=high, method="exact-cond", alternative="smaller")
    assert p.pvalue == pytest.approx(0.025, abs=1e-9)
    if min(k1, k2) >= 90:
        s_low, s_high = rates.confint_poisson_2indep(k1, n1, k2, n2, method="score")
        assert low == pytest.approx(s_low, rel=0.02) and high == pytest.approx(s_high, rel=0.02)


def test_ratio_interval_edge_cases():
    assert math.isnan(sr.ratio_interval(3, 100, 0, 100)[0])  # no reference searches: no ratio
    assert math.isinf(sr.ratio_interval(3, 100, 0, 100)[2])
    with pytest.raises(ValueError):
        sr.ratio_interval(1, 0, 1, 1)


def test_borough_rates_recomputed_from_the_records_and_the_census_file(raw, last12):
    """Searches per 1,000 residents: the warehouse records (own SQL grouping) over the raw Census file."""
    census = pd.read_csv(ETHNIC19).set_index("ltla21_code").loc["E09000030"]
    counts = ss.load_profile(last12)
    pop = sql.run("stop_search/population")
    got = sr.area_rates("Tower Hamlets", counts, sr.residents_of(pop, "E09000030"), "self")
    t = got.table.set_index("group")
    by_group = dict(
        raw.execute(
            f"SELECT {SELF_GROUP_SQL} AS g, count(*) FROM s WHERE month BETWEEN ? AND ? GROUP BY 1",
            [last12.start, last12.end],
        ).fetchall()
    )
    for g, col in {**CENSUS_COLUMN, "Other": "other_total"}.items():
        assert t.loc[g, "searches"] == by_group.get(g, 0)
        assert t.loc[g, "residents"] == census[col]
        assert t.loc[g, "rate_per_1000"] == pytest.approx(by_group.get(g, 0) / census[col] * 1000)
    assert got.excluded == by_group.get("Not stated", 0) + by_group.get("Unmapped", 0)
    assert got.searches == n_raw(raw, last12)
    w = t.loc["White", "rate_per_1000"]
    assert t.loc["Black", "ratio"] == pytest.approx(t.loc["Black", "rate_per_1000"] / w)
    assert t.loc["White", "ratio"] == 1.0


def test_officer_view_has_no_mixed_group(last12):
    pop = sql.run("stop_search/population")
    got = sr.area_rates(
        "Tower Hamlets", ss.load_profile(last12), sr.residents_of(pop, "E09000030"), "officer"
    )
    assert list(got.table["group"]) == ["Asian", "Black", "White", "Other"]


def test_london_counts_recomputed_from_the_raw_met_file(warehouse):
    """One month: the Met file placed in boroughs here with geopandas (not the build's code), City of
    London and unplaced records left out, grouped by self-defined ethnicity (the SQL grouping)."""
    gpd = pytest.importorskip("geopandas")
    met = pd.read_parquet(MET_FILE)
    local = met["Date"].dt.tz_convert("Europe/London")
    month = met[(local.dt.year == 2024) & (local.dt.month == 3)].dropna(subset=["Longitude", "Latitude"])
    pts = gpd.GeoDataFrame(
        month, geometry=gpd.points_from_xy(month["Longitude"], month["Latitude"]), crs=4326
    )
    lsoa = gpd.read_file(LONDON_LSOA)[["lsoa21_code", "lad_name", "geometry"]]
    hit = gpd.sjoin(pts, lsoa, how="inner", predicate="intersects")
    hit = hit.reset_index().sort_values(["index", "lsoa21_code"]).drop_duplicates("index")
    hit = hit[hit["lad_name"] != "City of London"]
    con = duckdb.connect()
    con.register(
        "h",
        hit[["Self-defined ethnicity"]].rename(columns={"Self-defined ethnicity": "self_defined_ethnicity"}),
    )
    want = dict(con.execute(f"SELECT {SELF_GROUP_SQL} AS g, count(*) FROM h GROUP BY 1").fetchall())
    got_rows = sql.run("stop_search/london_ethnicity", start=date(2024, 3, 1), end=date(2024, 3, 1))
    by_group, excluded = sr.searches_by_group(got_rows, "self")
    for g in sr.GROUPS:
        assert by_group[g] == want.get(g, 0), g
    assert excluded == want.get("Not stated", 0) + want.get("Unmapped", 0)
    # the month table accounts for every record of the month
    months = sql.run("stop_search/london_months")
    row = months[pd.to_datetime(months["month"]) == pd.Timestamp(2024, 3, 1)].iloc[0]
    assert row["records"] == int(((local.dt.year == 2024) & (local.dt.month == 3)).sum())
    assert row["placed"] == len(hit)
    assert row["no_location"] == int(
        met.loc[(local.dt.year == 2024) & (local.dt.month == 3), "Longitude"].isna().sum()
    )


def test_london_residents_are_the_32_met_boroughs():
    census = pd.read_csv(ETHNIC19)
    pop = sql.run("stop_search/population")
    london = sr.residents_of(pop, None)
    met = census[census["ltla21_code"] != "E09000001"]
    assert london["All"] == met["sum_19_groups"].sum() == 8_799_736 - 8_584
    for g, col in CENSUS_COLUMN.items():
        assert london[g] == met[col].sum()


def test_tower_hamlets_records_are_those_inside_its_own_lsoas(raw, warehouse):
    """The borough table is the Met records inside Tower Hamlets' full-resolution LSOAs: 40,657, the
    rows of the Tower Hamlets file it replaced; the generalised London polygons place 41,190 there."""
    assert raw.execute("SELECT count(*) FROM s").fetchone()[0] == 40_657
    con = duckdb.connect()
    n = con.execute(
        f"SELECT sum(searches) FROM read_parquet('{warehouse / 'stop_search_london.parquet'}') "
        "WHERE borough_code = 'E09000030'"
    ).fetchone()[0]
    assert n == 41_190


# ----------------------------------------------------------------------------------- chart builders


def built_charts(last12):
    g = ss.grouped(ss.load_profile(last12))
    rates = ss.rates_by(g, "self", "found")
    return {
        "monthly": charts.monthly_with_average(
            ss.monthly_series(ss.load_monthly("")), "Searches per month", "searches", note_col="note"
        ),
        "dots": charts.interval_dots(
            rates, "Find rate", "Group", "Rate", "Searches with a find", overall_pct=rates.attrs["rate_pct"]
        ),
        "heatmap": charts.day_hour_heatmap(
            ss.heatmap_frame(ss.load_heatmap(last12)), "Searches by day and hour", "searches"
        ),
    }


def test_new_builders_are_valid_described_offline_charts(last12):
    for name, (chart, alt_text, table) in built_charts(last12).items():
        assert isinstance(chart, alt.TopLevelMixin)
        spec = chart.to_dict()  # validates against the Vega-Lite schema
        assert spec["description"] == alt_text and spec["width"] == "container", name
        assert alt_text.endswith(".") and 1 <= len(re.findall(r"[.!?](?:\s|$)", alt_text)) <= 3, (
            name,
            alt_text,
        )
        assert isinstance(table, pd.DataFrame) and len(table) > 0
        assert all(isinstance(c, str) and c and "_" not in c for c in table.columns), (
            name,
            list(table.columns),
        )
        rest = json.dumps({k: v for k, v in spec.items() if k != "$schema"})
        assert "http" not in rest and '"url"' not in rest, name
        assert spec["config"]["axis"]["labelFontSize"] >= 12


def test_interval_dots_table_and_text_carry_the_real_figures(last12):
    rates = ss.rates_by(ss.grouped(ss.load_profile(last12)), "officer", "found")
    _, alt_text, table = charts.interval_dots(rates, "Find rate", "Ethnicity", "Rate", "Searches with a find")
    assert list(table["Ethnicity"]) == list(rates["group"])
    assert list(table["Searches (n)"]) == list(rates["n"])
    for r in rates.itertuples():
        assert f"{r.group} {r.rate_pct:.1f}%" in alt_text
    with pytest.raises(ValueError, match="missing column"):
        charts.interval_dots(rates.drop(columns=["k"]), "x", "g", "r", "c")


def test_monthly_chart_names_the_gaps(monthly):
    _, alt_text, table = charts.monthly_with_average(ss.monthly_series(monthly), "Searches", "searches")
    assert "No figures for 28 months: Mar 2019 to May 2021, Jan 2022." in alt_text
    assert len(table) == len(ss.monthly_series(monthly))


# ----------------------------------------------------------------------------------- the page (AppTest)


@pytest.fixture
def page(warehouse, monkeypatch) -> AppTest:  # caches: conftest's autouse fixture
    """app.py run once (registers the pages), then the Stop and search page opened in the frame."""
    monkeypatch.setenv("CSP_MODE", "internal")
    assert any(p.script == SCRIPT and not p.public for p in PAGES), "the page is registered, internal only"
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    at.switch_page(SCRIPT).run()
    assert_clean(at)
    return at


def assert_clean(at: AppTest) -> None:
    assert not at.exception, "page raised: " + "\n".join(e.value for e in at.exception)
    assert not at.error, "page showed an error: " + "\n".join(e.value for e in at.error)


def blocks(node):
    """Every container (the main area and the blocks inside it), depth first."""
    yield node
    for child in getattr(node, "children", {}).values():
        if hasattr(child, "children"):
            yield from blocks(child)


def charts_with_neighbours(at: AppTest) -> list[tuple[object, object, object]]:
    """(chart, next element, element after that) for every Altair chart on the page."""
    out = []
    for block in blocks(at.main):
        kids = list(block.children.values())
        for i, el in enumerate(kids):
            if getattr(el, "type", "") == "vega_lite_chart":
                out.append(
                    (
                        el,
                        kids[i + 1] if i + 1 < len(kids) else None,
                        kids[i + 2] if i + 2 < len(kids) else None,
                    )
                )
    return out


def metric_value(at: AppTest, label_start: str) -> str:
    found = [m.value for m in at.metric if m.label.startswith(label_start)]
    assert len(found) == 1, [m.label for m in at.metric]
    return found[0]


def all_text(at: AppTest) -> str:
    parts = [e.value for kind in ("markdown", "caption", "info", "warning") for e in getattr(at, kind)]
    return "\n".join(parts)


def test_page_renders_with_title_described_charts_and_tables(page, raw, last12):
    at = page
    assert [t.value for t in at.main.title] == ["Stop and search"]
    found = charts_with_neighbours(at)
    assert len(found) >= 10, "ethnicity x2, age, gender, object, outcome, trend, find rates, heatmap"
    for _chart, caption, expander in found:
        assert getattr(caption, "type", "") == "caption" and caption.value.startswith(
            "Chart description: "
        ), caption
        assert getattr(expander, "type", "") == "expander" and expander.label == "Table view of this chart"
        assert len(expander.table) >= 1, "the expander holds the chart's table"
    # the headline figure is the independent count for the last 12 months
    assert metric_value(at, "Searches") == f"{n_raw(raw, last12):,d}"
    # coverage and snapshot are stated
    cov = ss.load_coverage()
    text = all_text(at)
    assert f"{cov.searches:,d} searches from {cov.first_month:%B %Y}" in text
    assert cov.snapshot in text
    # the map with the snap-point caveat and its description, and a ward table of 20 wards
    assert len(at.get("deck_gl_json_chart")) == 1
    n = n_raw(raw, last12)
    no_loc = n_raw(raw, last12, extra="(longitude IS NULL OR latitude IS NULL)")
    assert (
        f"Locations are anonymised to the nearest of a set of map points; searches with no location are "
        f"excluded: {no_loc:,d} of {n:,d}."
    ) in text
    assert any(c.value.startswith("Map description: ") for c in at.caption)
    ward_tables = [t for t in at.main.table if "Ward" in list(t.value.columns)]
    assert len(ward_tables) == 1 and len(ward_tables[0].value) == 20
    # every table can be downloaded
    assert len(at.get("download_button")) >= len(found) + 1


def test_page_shows_rates_per_1000_residents_by_ethnic_group(page, last12):
    """The disproportionality section: the ratio chart with its table, the rates table, the words, the
    residents label and the searches left out, for the last 12 months."""
    text = all_text(page)
    assert "all-ages usual residents, Census 2021" in text
    pop = sql.run("stop_search/population")
    b = sr.area_rates("Tower Hamlets", ss.load_profile(last12), sr.residents_of(pop, "E09000030"))
    london = sr.area_rates(
        "London",
        sql.run("stop_search/london_ethnicity", start=last12.start, end=last12.end),
        sr.residents_of(pop, None),
    )
    assert sr.excluded_sentence(b, london) in [c.value for c in page.caption]
    shown = [m.value for m in page.markdown if m.value.startswith("- ")]
    for sentence in sr.ratio_sentences(b, london):
        assert f"- {plain(sentence)}" in shown
    tables = [t.value for t in page.main.table if "Group" in list(t.value.columns)]
    rates = [t for t in tables if any("per 1,000 residents" in str(c) for c in t.columns) and "Year" not in t]
    assert rates and list(rates[0]["Group"]) == list(sr.GROUPS)
    years = [t for t in tables if "Year" in list(t.columns)]
    assert years and set(years[0]["Group"]) == set(sr.GROUPS)
    assert any(
        c.value.startswith("Chart description: Search rate against the White group") for c in page.caption
    )
    assert not any("Awaiting data" in i.value for i in page.info)


def test_find_rate_words_name_clear_and_unclear_groups(page, last12):
    rates = ss.rates_by(ss.grouped(ss.load_profile(last12)), "self", "found")
    shown = [m.value for m in page.markdown if m.value.startswith("- ")]
    for sentence in ss.rate_sentences(rates, "a find"):
        assert f"- {plain(sentence)}" in shown  # group names come from the files: shown as plain text


def test_ward_filter_changes_every_figure(page, raw, last12, busiest_ward):
    at = page
    names = dict(raw.execute("SELECT ward_code, ward_name FROM w").fetchall())
    at.selectbox(key="ss-ward").set_value(busiest_ward).run()
    assert_clean(at)
    n = n_raw(raw, last12, busiest_ward)
    assert metric_value(at, "Searches") == f"{n:,d}"
    assert any(names[busiest_ward] in h.value for h in at.header)
    no_loc = n_raw(raw, last12, busiest_ward, extra="(longitude IS NULL OR latitude IS NULL)")
    assert f"searches with no location are excluded: {no_loc:,d} of {n:,d}." in all_text(at)
    # the self-defined ethnicity chart's table now holds the ward's counts
    first = charts_with_neighbours(at)[0]
    table = first[2].table[0].value
    assert sum(int(str(v).replace(",", "")) for v in table["Searches"]) == n
    # and back to the whole borough
    at.selectbox(key="ss-ward").set_value("").run()
    assert metric_value(at, "Searches") == f"{n_raw(raw, last12):,d}"


@pytest.mark.parametrize(
    "label_start, linked_note",
    [
        ("FY2022-23", "did not fill in this field"),
        ("All data", None),
    ],
)
def test_other_periods_render(page, raw, label_start, linked_note):
    at = page
    box = at.selectbox(key="ss-period")
    option = next(o for o in box.options if o.startswith(label_start))
    box.select(option).run()
    assert_clean(at)
    key = at.selectbox(key="ss-period").value
    period = ss.period_choices(ss.load_monthly(""))
    period = next(c for c in period if c.key == key).period
    assert metric_value(at, "Searches") == f"{n_raw(raw, period):,d}"
    for _, caption, expander in charts_with_neighbours(at):
        assert (
            caption.value.startswith("Chart description: ") and expander.label == "Table view of this chart"
        )
    if linked_note:
        assert any(linked_note in i.value for i in at.info)


def test_ethnicity_basis_switch(page):
    at = page
    at.radio(key="ss-basis").set_value("officer").run()
    assert_clean(at)
    assert "Find rate by officer-defined ethnicity" in [s.value for s in at.subheader]


def test_heatmap_cell_labels_contrast_with_their_cell(last12):
    chart, _, _ = charts.day_hour_heatmap(ss.heatmap_frame(ss.load_heatmap(last12)), "Searches", "searches")
    spec = chart.to_dict()
    rect, text = spec["layer"]
    assert spec["resolve"]["scale"]["color"] == "independent", "a shared colour scale does not render"
    scale = rect["encoding"]["color"]["scale"]
    assert scale["interpolate"] == "rgb" and len(scale["range"]) == 2
    rows = spec["datasets"][(text.get("data") or spec["data"])["name"]]
    top = scale["domain"][1]
    lo, hi = charts._srgb(scale["range"][0]), charts._srgb(scale["range"][1])
    for r in rows:
        t = r["Searches"] / top
        cell = charts._luminance([a + (b - a) * t for a, b in zip(lo, hi)])
        ink = charts._luminance(charts._srgb(r["ink"]))
        a, b = sorted([cell, ink], reverse=True)
        assert (a + 0.05) / (b + 0.05) >= 4.5, r


def test_headline_change_allows_for_the_search_series_own_variation(warehouse):
    """The headline verdict is the one count model: searches in the last 12 months against the 12
    before, tested with the dispersion of the monthly search series itself (searches rise and fall
    with operations far more than Poisson chance), not the exact Poisson test."""
    from csp_data.analysis.stats import compare_counts, series_dispersion
    from csp_data.warehouse import sql

    monthly = sql.run("stop_search/monthly", ward_code="")
    choice = ss.period_choices(monthly)[0]
    prev = ss.previous_comparable(choice, monthly)
    assert prev is not None
    months = pd.to_datetime(monthly["month"]).dt.date

    def total(p):
        return int(monthly.loc[[p.start <= m <= p.end for m in months], "searches"].sum())

    c = ss.headline_change(total(choice.period), total(prev), choice.period, monthly)
    low = set(ss.incomplete_months(monthly))
    series = pd.DataFrame({"month": months, "count": monthly["searches"]})
    disp = series_dispersion(series[~series["month"].isin(low)], end=choice.period.end)
    assert disp.phi > 1
    assert c == compare_counts(total(choice.period), total(prev), phi=disp.for_comparison(12))
    assert c.method.startswith("quasi-Poisson")
    words = ss.headline_words(c)
    assert words.startswith(f"{c.symbol} {c.verdict}: ") and "quasi-Poisson conditional test" in words


# ----------------------------------------------------------------------------------- moved out of the page
# The page's headline statistics, labels and display tables now live in csp_data; the figures below are
# what the page showed before the move (captured from the rendered page on the embedded data).

HEADLINES = [
    # (period key, ward name or "", searches, found, recorded, low %, high %, change, verdict words)
    (
        "last12",
        "",
        5391,
        1734,
        5391,
        "30.9",
        "33.4",
        "-1,591 (-22.8%) vs Sep 2022 to Aug 2023",
        "● No significant change: within normal variation (quasi-Poisson conditional test "
        "(dispersion 230.16), p = 0.42).",
    ),
    (
        "last12",
        "Bow West",
        162,
        73,
        162,
        "37.6",
        "52.7",
        "-71 (-30.5%) vs Sep 2022 to Aug 2023",
        "● No significant change: within normal variation (quasi-Poisson conditional test "
        "(dispersion 12.37), p = 0.402).",
    ),
    ("FY2022-23", "", 8188, 2180, 8188, "25.7", "27.6", None, ""),
    ("all", "", 40657, 11394, 40657, "27.6", "28.5", None, ""),
]


@pytest.mark.parametrize("key, ward_name, n, k, rec, lo, hi, change, words", HEADLINES)
def test_headline_figures_are_what_the_page_showed(raw, key, ward_name, n, k, rec, lo, hi, change, words):
    names = {name: code for code, name in raw.execute("SELECT ward_code, ward_name FROM w").fetchall()}
    ward = names[ward_name] if ward_name else ""
    choice = next(c for c in ss.period_choices(ss.load_monthly("")) if c.key == key)
    asked = []

    def before(p):
        asked.append(p)
        return ss.grouped(ss.load_profile(p, ward))

    h = ss.headline(ss.grouped(ss.load_profile(choice.period, ward)), choice, ss.load_monthly(ward), before)
    assert (h.searches, h.found, h.recorded) == (n, k, rec)
    assert h.searches == n_raw(raw, choice.period, ward)
    assert f"{h.find_pct:.1f}" == f"{k / rec * 100:.1f}"
    assert (f"{h.find_low * 100:.1f}", f"{h.find_high * 100:.1f}") == (lo, hi)
    if change is None:
        assert h.previous is None and h.change is None and asked == []
        assert h.change_words == ""
    else:
        assert asked == [h.previous] and h.before == n_raw(raw, h.previous, ward)
        assert f"{h.change_figures} vs {h.previous.label}" == change
        assert h.change_words == words


def test_headline_of_an_empty_selection_has_no_rate_and_asks_for_nothing(monthly):
    choice = ss.period_choices(monthly)[0]
    empty = ss.grouped(ss.load_profile(choice.period).iloc[0:0])
    h = ss.headline(empty, choice, monthly, lambda p: pytest.fail("no comparison for no searches"))
    assert (h.searches, h.found, h.recorded, h.previous) == (0, 0, 0, None)
    assert math.isnan(h.find_pct)


@pytest.mark.parametrize("pname", ["last12", "FY2022-23"])
def test_find_totals_are_the_rates_totals(last12, pname):
    g = ss.grouped(ss.load_profile(period_for(pname, last12)))
    for dim in ("self", "officer", "object"):
        r = ss.rates_by(g, dim, "found")
        assert ss.find_totals(g) == (r.attrs["k"], r.attrs["n"])


def test_dimension_labels_have_one_home():
    assert {d: (v.title, v.heading) for d, v in ss.DIMENSIONS.items()} == {
        "self": ("Self-defined ethnicity (grouped)", "Group"),
        "officer": ("Officer-defined ethnicity", "Ethnicity"),
        "age": ("Age group", "Age group"),
        "gender": ("Gender", "Gender"),
        "object": ("Object of search", "Object of search"),
        "outcome": ("Outcome", "Outcome"),
    }
    assert set(ss.BASIS_LABELS) <= set(ss.DIMENSIONS)


def test_unmapped_answers_are_the_unmapped_rows():
    mapping = pd.DataFrame(
        {
            "Self-defined ethnicity (as published)": ["White - English", "Martian", "Klingon"],
            "Group": ["White", ss.UNMAPPED, ss.UNMAPPED],
            "Searches": [3, 2, 1],
        }
    )
    assert ss.unmapped_answers(mapping) == ["Martian", "Klingon"]
    assert ss.unmapped_answers(mapping.iloc[:1]) == []


def test_display_tables_keep_numbers_for_the_csv_and_one_decimal_on_screen(last12):
    from csp_data.present import stop_search as pss

    wards = ss.ward_table(sql_wards(last12))
    shown, table = pss.ward_tables(wards)
    assert list(table.columns) == [
        "Ward",
        "Searches",
        "Share of borough (%)",
        "Per 1,000 residents",
        "Residents (Census 2021)",
    ]
    assert table["Searches"].sum() == wards["searches"].sum() and len(table) == 20
    assert shown["Share of borough (%)"].tolist() == [f"{v:,.1f}" for v in table["Share of borough (%)"]]
    rates = ss.rates_by(ss.grouped(ss.load_profile(last12)), "officer", "found")
    shown, table = pss.rate_tables(rates, "officer", "Searches with a find")
    assert table.columns[0] == "Ethnicity" and table["Searches with a find"].sum() == rates.attrs["k"]
    assert shown["Rate (%)"].tolist() == [f"{v:,.1f}" for v in table["Rate (%)"]]
    assert pss.one_dp(pd.DataFrame({"x": [1234.56, np.nan]}), ["x"])["x"].tolist() == ["1,234.6", ""]


def test_breakdown_chart_table_carries_each_share(last12):
    from csp_data.present import stop_search as pss

    g = ss.grouped(ss.load_profile(last12))
    _chart, words, table = pss.breakdown_chart(g, "self", "Searches by group")
    counts = ss.counts_by(g, "self")
    assert words.startswith("Searches by group")
    assert dict(zip(table["Group"], table["Share (%)"])) == {
        c: f"{s:.1f}" for c, s in zip(counts["category"], counts["share_pct"])
    }


def sql_wards(period):
    from csp_data.warehouse import sql

    return sql.run("stop_search/wards", start=period.start, end=period.end)


def test_another_boroughs_records_are_placed_by_the_london_polygons(warehouse):
    """For a borough whose own LSOA polygons the build does not hold (Hackney on this data), its
    records are those the London LSOA polygons place in it: the same count as the London table."""
    from csp_data.config import settings
    from csp_data.warehouse import build, geo, london, manifest

    here = settings()
    cfg = Settings(data_dir=here.data_dir, mode="internal", borough_name="Hackney", borough_code="E09000012")
    by_kind: dict = {}
    for e in sorted(manifest.load(cfg.manifest_path), key=lambda e: e.precedence):
        by_kind.setdefault(e.kind, []).append(e)
    own = geo.read_boundaries(
        cfg.sources_dir / by_kind["boundary_lsoa21"][-1].path, "lsoa21_code", "lsoa21_name"
    )
    wards = geo.read_boundaries(
        cfg.sources_dir / by_kind["boundary_wards"][-1].path, "ward_code", "ward_name"
    )
    poly = london.lsoa_polygons(cfg.sources_dir, by_kind)
    assert not london.covers(own, poly, "E09000012") and london.covers(own, poly, "E09000030")
    kept, _q, _cover, ldn = build._stop_search(cfg, by_kind, own, wards, poly)
    assert len(kept) == ldn.loc[ldn["borough_code"] == "E09000012", "searches"].sum() > 10_000
    hackney = set(poly.loc[poly["borough_code"] == "E09000012", "code"])
    assert set(kept["lsoa21_code"]) <= hackney
