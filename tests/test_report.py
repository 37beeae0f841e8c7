"""The board paper's table: ``report.measures_for_period`` and ``python -m csp_data measures``.

Police-recorded values are checked against sums DuckDB computes straight from the warehouse parquet
files, using category lists written out here (not read from csp_data.plan.measures). A month counts as
held when the extract has any row for the borough that month (for the MPS dashboard: any row of that
crime type, as queries/dashboard/borough_monthly.sql documents); a period with a month not held is
"awaiting data" with the number of months held, never a partial sum.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tomllib
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from csp_data.analysis.stats import compare_counts, series_dispersion
from csp_data.config import REPO_ROOT
from csp_data.plan.measures import MEASURES
from csp_data.plan.periods import FORMS, parse
from csp_data.present.report import measures_for_period

TH_CODE = "E09000030"
TH_NAME = "Tower Hamlets"
PLAN = tomllib.loads((REPO_ROOT / "data" / "plan" / "E09000030.toml").read_text(encoding="utf-8"))
PARTNERSHIP_IDS = [m["id"] for m in PLAN["partnership_measures"]]
TARGET_MEASURES = {t["measure"]: t for t in PLAN["targets"]}  # each measure carries at most one target here

# Independent definitions of every police-recorded measure.
INDEPENDENT = {
    "robbery": ("crime", ["ROBBERY"], []),
    "burglary": ("crime", ["BURGLARY"], []),
    "theft": ("crime", ["THEFT"], []),
    "vehicle": ("crime", ["VEHICLE OFFENCES"], []),
    "business": ("business",),
    "violence_injury": ("crime", [], ["VIOLENCE WITH INJURY"]),
    "serious_violence": ("serious_violence",),  # tests/independent_sv.py: crime + dashboard knife parts
    "knife_crime": ("dashboard", "Knife Crime", "Knife Crime", "Offences"),
    "knife_injury": ("dashboard", "Knife Crime", "Knife Crime with Injury", "Offences"),
    "gun_crime": ("dashboard", "Gun Crime", "Gun Crime", "Offences"),
    "rape": ("crime", [], ["RAPE"]),
    "domestic_abuse": ("dashboard", "Domestic Abuse", "Domestic Abuse", "Offences"),
    "drug_trafficking": ("crime", [], ["TRAFFICKING OF DRUGS"]),
    "drug_possession": ("crime", [], ["POSSESSION OF DRUGS"]),
    "weapons": ("crime", ["POSSESSION OF WEAPONS"], []),
    "hate_crime": ("dashboard", "Hate crime", "Hate crime", "Offences"),
}


def independent_monthly(warehouse: Path, measure_id: str) -> dict[date, int]:
    spec = INDEPENDENT[measure_id]
    if spec[0] == "serious_violence":
        from independent_sv import independent_serious_violence

        return independent_serious_violence(warehouse)
    con = duckdb.connect()
    pq = lambda name: f"read_parquet('{(warehouse / f'{name}.parquet').as_posix()}')"  # noqa: E731
    try:
        if spec[0] == "crime":
            t = pq("crime_monthly")
            uni = con.execute(
                f"SELECT DISTINCT month FROM {t} WHERE level = 'borough' AND borough_code = ?", [TH_CODE]
            ).fetchall()
            hits = con.execute(
                f"""SELECT month, sum(count) FROM {t} WHERE level = 'borough' AND borough_code = ?
                                   AND (list_contains(?, major_category) OR list_contains(?, minor_category))
                                   GROUP BY month""",
                [TH_CODE, spec[1], spec[2]],
            ).fetchall()
        elif spec[0] == "business":
            t = pq("business_crime_monthly")
            uni = con.execute(f"SELECT DISTINCT month FROM {t} WHERE borough_name = ?", [TH_NAME]).fetchall()
            hits = con.execute(
                f"SELECT month, sum(count) FROM {t} WHERE borough_name = ? GROUP BY month", [TH_NAME]
            ).fetchall()
        else:
            _, ct, sub, meas = spec
            t = pq("dashboard_monthly")
            # covered = any month of a file that publishes this crime type (a month with no gun
            # crime has no Gun Crime row but is still covered, and counts 0)
            files = [
                f
                for (f,) in con.execute(
                    f"SELECT DISTINCT source_file FROM {t} WHERE area_code = ? AND crime_type = ?",
                    [TH_CODE, ct],
                ).fetchall()
            ]
            uni = con.execute(
                f"SELECT DISTINCT month FROM {t} WHERE area_code = ? AND list_contains(?, source_file)",
                [TH_CODE, files],
            ).fetchall()
            hits = con.execute(
                f"""SELECT month, sum(count) FROM {t} WHERE area_code = ? AND crime_type = ?
                                   AND crime_subtype = ? AND measure = ? GROUP BY month""",
                [TH_CODE, ct, sub, meas],
            ).fetchall()
    finally:
        con.close()
    got = {m: int(c) for m, c in hits}
    return {m: got.get(m, 0) for (m,) in uni}


def expected_cell(monthly: dict[date, int], period) -> tuple[int | None, str]:
    held = [m for m in period.months() if m in monthly]
    if len(held) == period.n_months:
        return sum(monthly[m] for m in held), ""
    return None, (
        f"awaiting data: {len(held)} of {period.n_months} months held"
        if held
        else "awaiting data: no months held"
    )


@pytest.fixture(scope="module")
def monthly(warehouse):
    return {m: independent_monthly(warehouse, m) for m in INDEPENDENT}


@pytest.fixture(scope="module")
def tables(warehouse):
    return {p: measures_for_period(parse(p)) for p in ("FY2023-24", "FY2024-25", "FY2025-26", "2027")}


def test_independent_definitions_cover_the_catalogue():
    assert list(INDEPENDENT) == [m.id for m in MEASURES]


@pytest.mark.parametrize("period", ["FY2023-24", "FY2024-25"])
def test_one_row_per_measure_with_independent_values(tables, monthly, period):
    df = tables[period]
    p = parse(period)
    assert len(df) == len(MEASURES) + len(PARTNERSHIP_IDS) == 28
    assert df["measure_id"].tolist() == [m.id for m in MEASURES] + PARTNERSHIP_IDS
    assert (df["period"] == period).all()
    assert df["kind"].tolist() == ["police-recorded"] * len(MEASURES) + ["partnership-recorded"] * len(
        PARTNERSHIP_IDS
    )
    police = df[df.kind == "police-recorded"].set_index("measure_id")
    complete = 0
    for mid, m in monthly.items():
        row = police.loc[mid]
        value, note = expected_cell(m, p)
        prev, _ = expected_cell(m, p.previous())
        assert row["note"] == note, mid
        if value is None:
            assert pd.isna(row["value"]), mid
        else:
            complete += 1
            assert row["value"] == value, mid
        assert pd.isna(row["previous_value"]) if prev is None else row["previous_value"] == prev, mid
        assert row["previous_period"] == p.previous().label
        if value is not None and prev is not None:
            # the one count model: the series' own dispersion over the 36 months to the period's end
            disp = series_dispersion(pd.DataFrame({"month": list(m), "count": list(m.values())}), end=p.end)
            c = compare_counts(value, prev, phi=disp.for_comparison(p.n_months))
            assert row["change"] == value - prev and row["verdict"] == c.verdict, mid
            assert row["dispersion"] == pytest.approx(c.phi, abs=0.006) and row["dispersion"] >= 1, mid
        else:
            assert pd.isna(row["change"]) and pd.isna(row["verdict"]), mid
    assert complete >= 14, "nearly every measure is fully held in these years"
    assert pd.api.types.is_integer_dtype(df["value"])


def test_the_real_fy2024_25_robbery_value(tables, monthly):
    row = tables["FY2024-25"].set_index("measure_id").loc["robbery"]
    fy = [date(2024, m, 1) for m in range(4, 13)] + [date(2025, m, 1) for m in range(1, 4)]
    assert row["value"] == sum(monthly["robbery"][m] for m in fy)
    assert row["baseline_value"] == row["value"]  # FY2024-25 is the robbery target's baseline year


@pytest.mark.parametrize("period", ["FY2023-24", "FY2024-25", "FY2025-26", "2027"])
def test_partnership_rows_await_data(tables, period):
    part = tables[period][tables[period].kind == "partnership-recorded"]
    assert len(part) == 12
    assert part["value"].isna().all()
    assert (part["note"] == "awaiting data").all()
    assert (part["source"] == "data/partnership/figures.csv").all()
    prio = {t["measure"]: t["priority"] for t in PLAN["targets"]}
    assert part["priority"].tolist() == [prio[m] for m in part["measure_id"]]


def test_a_period_beyond_the_data(tables):
    police = tables["2027"][tables["2027"].kind == "police-recorded"]
    assert police["value"].isna().all()
    assert (police["note"] == "awaiting data: no months held").all()
    assert police["previous_value"].isna().all()  # 2026 is not fully held either
    assert (police["period"] == "2027").all() and (police["previous_period"] == "2026").all()


def test_a_period_partly_covered(tables, monthly):
    df = tables["FY2025-26"].set_index("measure_id")
    p = parse("FY2025-26")
    for mid, m in monthly.items():
        held = sum(1 for x in p.months() if x in m)
        assert 0 < held < 12, mid
        assert df.loc[mid, "note"] == f"awaiting data: {held} of 12 months held", mid
        assert pd.isna(df.loc[mid, "value"])
    assert df.loc["robbery", "note"] == "awaiting data: 11 of 12 months held"  # data to Feb 2026
    assert df.loc["business", "note"] == "awaiting data: 4 of 12 months held"  # data to Jul 2025


@pytest.mark.parametrize("period", ["FY2024-25", "2027"])
def test_target_columns_only_for_measures_with_targets(tables, period):
    df = tables[period]
    cols = ["target_id", "target", "baseline_period", "status"]
    for r in df.itertuples():
        t = TARGET_MEASURES.get(r.measure_id)
        if t is None:
            assert all(pd.isna(getattr(r, c)) for c in cols + ["baseline_value", "status_as_of"]), (
                r.measure_id
            )
            continue
        assert r.target_id == t["id"]
        assert isinstance(r.target, str) and r.target
        assert r.status in {"on track", "off track", "too early to tell", "awaiting data", "met"}
        if t["kind"] == "police_count":
            assert r.baseline_period == "FY2024-25" and r.baseline_value > 0
            assert r.target == f"{t['target_change_pct']:+g}% by FY2027-28"
            assert r.status_as_of == "Apr 2025 to " + (
                "Jul 2025" if r.measure_id == "business" else "Feb 2026"
            )
        else:
            assert r.status == "awaiting data" and pd.isna(r.baseline_value)
    with_targets = df[df.target_id.notna()]
    assert sorted(with_targets["measure_id"]) == sorted(TARGET_MEASURES)
    assert len(with_targets) == 16


# --------------------------------------------------------------------------- partnership figures in the report


def _write_figures(data_dir: Path, *rows: str) -> None:
    (data_dir / "partnership").mkdir(exist_ok=True)
    (data_dir / "partnership" / "figures.csv").write_text(
        "measure_id,period,value,unit,source,entered_by,entered_at,note\n" + "\n".join(rows) + "\n",
        encoding="utf-8",
    )


def test_synthetic_partnership_figure_for_the_period_is_shown(data_copy):
    _write_figures(
        data_copy,
        "fire_audits,FY2024-25,750,count,synthetic LFB return,synthetic tester,2025-05-01T09:00:00,",
    )
    row = measures_for_period(parse("FY2024-25")).set_index("measure_id").loc["fire_audits"]
    assert row["value"] == 750 and row["note"] == ""
    assert row["source"] == "synthetic LFB return" and row["snapshot"] == "2025-05-01T09:00:00"
    assert row["status"] == "on track"
    other = measures_for_period(parse("FY2023-24")).set_index("measure_id").loc["fire_audits"]
    assert pd.isna(other["value"]) and other["note"] == "awaiting data"


def test_synthetic_partnership_figure_entered_as_a_month_range_is_found(data_copy):
    _write_figures(
        data_copy,
        "fire_audits,2024-04..2025-03,750,count,synthetic LFB return,synthetic tester,2025-05-01T09:00:00,",
    )
    row = measures_for_period(parse("FY2024-25")).set_index("measure_id").loc["fire_audits"]
    assert row["status"] == "on track"  # the target evaluation sees the figure ...
    assert not pd.isna(row["value"]), row["note"]  # ... and so should the period's value
    assert row["value"] == 750


# --------------------------------------------------------------------------- the command line


@pytest.fixture(scope="module")
def cli(warehouse):
    env = {**os.environ, "CSP_DATA_DIR": str(warehouse.parent)}
    for k in ("CSP_BOROUGH", "CSP_BOROUGH_CODE", "CSP_MODE"):
        env.pop(k, None)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "csp_data", "measures", *args],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    return run


def test_cli_csv(cli, tables, monthly):
    res = cli("--period", "FY2024-25", "--format", "csv")
    assert res.returncode == 0, res.stderr
    df = pd.read_csv(io.StringIO(res.stdout))
    assert len(df) == 28
    assert list(df.columns) == list(tables["FY2024-25"].columns)
    robbery = df.set_index("measure_id").loc["robbery"]
    fy = parse("FY2024-25").months()
    assert robbery["value"] == sum(monthly["robbery"][m] for m in fy)
    assert robbery["target_id"] == "robbery" and robbery["period"] == "FY2024-25"
    assert pd.api.types.is_numeric_dtype(df["value"]) and pd.api.types.is_numeric_dtype(df["baseline_value"])
    assert (df.loc[df.kind == "partnership-recorded", "note"] == "awaiting data").all()


def test_cli_json(cli, monthly):
    res = cli("--period", "FY2024-25", "--format", "json")
    assert res.returncode == 0, res.stderr
    records = json.loads(res.stdout)
    assert len(records) == 28
    by_id = {r["measure_id"]: r for r in records}
    assert by_id["robbery"]["value"] == sum(monthly["robbery"][m] for m in parse("FY2024-25").months())
    assert by_id["fire_audits"]["value"] is None and by_id["fire_audits"]["note"] == "awaiting data"


def test_cli_table(cli):
    res = cli("--period", "2027")
    assert res.returncode == 0, res.stderr
    assert "awaiting data: no months held" in res.stdout
    assert "Robbery" in res.stdout


@pytest.mark.parametrize("bad", ["last year", "FY2024"])
def test_cli_bad_period_names_the_accepted_forms(cli, bad):
    res = cli("--period", bad)
    assert res.returncode == 2
    assert res.stdout == ""
    assert res.stderr.startswith("error:")
    assert FORMS in res.stderr


def test_cli_backwards_financial_year_is_refused(cli):
    res = cli("--period", "FY2024-26")
    assert res.returncode == 2
    assert res.stdout == ""
    assert res.stderr.startswith("error:") and "FY2024-26" in res.stderr


def test_cli_backwards_financial_year_names_the_accepted_forms(cli):
    res = cli("--period", "FY2024-26")
    assert res.returncode == 2 and res.stdout == ""
    assert FORMS in res.stderr
