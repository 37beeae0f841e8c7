"""Any London borough by one setting (issue 17): CSP_BOROUGH_CODE chooses the borough; its name,
geography, population, plan and every page follow, and boroughs never mix.

Each borough gets its own copy of data/ (sources only), built once per session (about 6 s each);
every page is rendered with AppTest for Tower Hamlets, Hackney and Westminster, and the CLI's
``measures --period FY2024-25`` is checked against totals computed here, independently, from the
MPS borough files with pandas."""

from __future__ import annotations

import glob
import json
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from conftest import borough_environment, run_cli

from csp_data.config import (
    CITY_OF_LONDON,
    LONDON_BOROUGHS,
    MET_BOROUGHS,
    REPO_ROOT,
    ConfigError,
    settings,
)
from csp_data.config.pages import pages_for
from csp_data.warehouse import build, db, geo
from csp_data.warehouse.sources import SourceError, mps
from tests.test_app import assert_clean, open_page

SOURCES = REPO_ROOT / "data" / "sources"
BOROUGHS = {"E09000030": "Tower Hamlets", "E09000012": "Hackney", "E09000033": "Westminster"}


def _cli(data_dir: Path, code: str | None, *args: str, **env_extra: str) -> subprocess.CompletedProcess:
    return run_cli(data_dir, *args, borough=code, **env_extra)


@pytest.fixture(scope="session")
def borough_data(tmp_path_factory):
    """code -> a data folder (sources copied, warehouse built for that borough), made on first use."""
    made: dict[str, Path] = {}

    def get(code: str) -> Path:
        if code not in made:
            root = tmp_path_factory.mktemp(f"data_{code}")
            shutil.copytree(SOURCES, root / "sources")
            with borough_environment(root, code):
                build.build(settings())
            made[code] = root
        return made[code]

    return get


@pytest.fixture
def borough_env(borough_data, monkeypatch):
    """Point the process at one borough's built data folder (internal mode)."""

    def use(code: str) -> Path:
        root = borough_data(code)
        monkeypatch.setenv("CSP_DATA_DIR", str(root))
        monkeypatch.setenv("CSP_BOROUGH_CODE", code)
        monkeypatch.delenv("CSP_BOROUGH", raising=False)
        monkeypatch.setenv("CSP_MODE", "internal")
        db.reset()
        return root

    yield use
    db.reset()


# --------------------------------------------------------------------------- the setting


def test_the_code_chooses_the_borough_and_the_name_follows(monkeypatch):
    monkeypatch.delenv("CSP_BOROUGH", raising=False)
    monkeypatch.delenv("CSP_BOROUGH_CODE", raising=False)
    assert (settings().borough_code, settings().borough_name) == ("E09000030", "Tower Hamlets")
    monkeypatch.setenv("CSP_BOROUGH_CODE", "E09000012")
    assert settings().borough_name == "Hackney"
    monkeypatch.setenv("CSP_BOROUGH", "Hackney")  # a matching name is accepted
    assert settings().borough_name == "Hackney"
    monkeypatch.setenv("CSP_BOROUGH", "Tower Hamlets")  # the issue's mixed case: refused, never mixed
    with pytest.raises(ConfigError, match="does not match CSP_BOROUGH_CODE=E09000012 \\(Hackney\\)"):
        settings()


def test_city_of_london_and_unknown_codes_are_refused(monkeypatch):
    monkeypatch.delenv("CSP_BOROUGH", raising=False)
    monkeypatch.setenv("CSP_BOROUGH_CODE", CITY_OF_LONDON)
    with pytest.raises(ConfigError, match="City of London Police"):
        settings()
    for code in ("E09000099", "E08000001", "hackney", "E0900003"):
        monkeypatch.setenv("CSP_BOROUGH_CODE", code)
        with pytest.raises(ConfigError, match="python -m csp_data boroughs"):
            settings()


def test_cli_refuses_city_and_unknown_codes_with_exit_code_2(tmp_path):
    for code, words in ((CITY_OF_LONDON, "City of London Police"), ("E09000099", "not a London borough")):
        r = _cli(tmp_path, code, "measures", "--period", "FY2024-25")
        assert r.returncode == 2, r.stderr
        assert words in r.stderr
    r = _cli(tmp_path, "E09000030", "build", CSP_BOROUGH="Hackney")
    assert r.returncode == 2 and "does not match" in r.stderr
    listing = _cli(tmp_path, "E09000099", "boroughs")  # the list of codes works whatever is set
    assert listing.returncode == 0 and "E09000012  Hackney" in listing.stdout


def test_the_borough_table_matches_the_lookup_and_the_mps_names():
    look = pd.read_csv(SOURCES / "boundaries" / "london_lsoa21_to_ward2025_bestfit.csv.gz", dtype=str)
    assert dict(look.drop_duplicates("lad_code")[["lad_code", "lad_name"]].values) == LONDON_BOROUGHS
    names = set()
    for f in glob.glob(str(SOURCES / "mps" / "mps_borough_crime*.parquet")):
        names |= set(pd.read_parquet(f)["boroughname"].astype(str))
    assert set(MET_BOROUGHS.values()) == names - set(mps.PSEUDO_BOROUGHS) - {"Unknown"}
    assert len(MET_BOROUGHS) == 32 and CITY_OF_LONDON not in MET_BOROUGHS


def test_every_mps_ward_code_is_in_the_london_lookup():
    """The 679 ward codes of the MPS ward files are all in the ONS best-fit lookup, in the borough
    the MPS files put them in (so a borough's ward rows always find their wards)."""
    look = pd.read_csv(SOURCES / "boundaries" / "london_lsoa21_to_ward2025_bestfit.csv.gz", dtype=str)
    lad_of = look.drop_duplicates("ward_code").set_index("ward_code")["lad_name"]
    codes: set[str] = set()
    for f in sorted(glob.glob(str(SOURCES / "mps" / "mps_ward_crime*.parquet"))):
        df = pd.read_parquet(f)
        df.columns = [mps.normalise_header(c) for c in df.columns]
        pairs = df[["wardcode", "lookup_boroughname"]].drop_duplicates()
        real = pairs[~pairs["lookup_boroughname"].isin(mps.PSEUDO_BOROUGHS)]  # e.g. Aviation Security (SO18)
        assert (real["wardcode"].map(lad_of) == real["lookup_boroughname"]).all(), f
        codes |= set(pairs["wardcode"])
    assert len(codes) == 679
    assert codes <= set(look["ward_code"])


# --------------------------------------------------------------------------- geography and no mixing


@pytest.mark.parametrize("code", list(BOROUGHS))
def test_each_borough_gets_only_its_own_wards_and_lsoas(borough_env, code):
    root = borough_env(code)
    wh = root / "warehouse"
    stamp = json.loads((wh / build.STAMP).read_text())
    assert stamp["borough_code"] == code
    look = pd.read_csv(SOURCES / "boundaries" / "london_lsoa21_to_ward2025_bestfit.csv.gz", dtype=str)
    mine = look[look["lad_code"] == code]
    wards = pd.read_parquet(wh / "wards.parquet")
    lsoas = pd.read_parquet(wh / "lsoas.parquet")
    assert set(wards["ward_code"]) == set(mine["ward_code"])
    assert set(lsoas["lsoa21_code"]) == set(mine["lsoa21_code"])
    crime = pd.read_parquet(wh / "crime_monthly.parquet")
    local = crime[crime["level"] != "borough"]
    assert set(local["borough_code"]) == {code}
    assert set(crime.loc[crime["level"] == "ward", "area_code"]) == set(wards["ward_code"])
    assert set(crime.loc[crime["level"] == "lsoa", "area_code"]) <= set(lsoas["lsoa21_code"])
    street = pd.read_parquet(wh / "street_crime.parquet")
    stop = pd.read_parquet(wh / "stop_search.parquet")
    if code == "E09000030":
        assert len(wards) == 20 and wards["population"].sum() == 310_303  # TH's own Census file
        assert len(street) and len(stop)
    else:  # the street files cover Tower Hamlets only: another borough gets none of their rows
        assert street.empty
        # the Met-wide stop-and-search file serves every borough: each record kept is placed inside
        # this borough's own LSOAs and wards (point in polygon at build)
        assert len(stop) and (stop["geo_status"] == "inside").all()
        assert set(stop["lsoa21_code"]) <= set(lsoas["lsoa21_code"])
        assert set(stop["ward_code"].dropna()) <= set(wards["ward_code"])
        res = pd.read_csv(SOURCES / "census" / "london_census2021_ts021_ethnic5_lsoa21.csv.gz", dtype=str)
        expect = res.loc[res["lad_cd"] == code, "all_usual_residents"].astype(int).sum()
        assert wards["population"].sum() == lsoas["population"].sum() == expect
        shapes = geo.ward_polygons(settings())
        assert set(shapes["code"]) == set(wards["ward_code"]) and shapes.is_valid.all()


def test_the_issue_mixed_case_cannot_happen(borough_env, monkeypatch):
    """Hackney's code with Tower Hamlets' warehouse: stale (rebuilt for Hackney); and a build fed
    another borough's wards stops instead of writing them."""
    th = borough_env("E09000030")
    monkeypatch.setenv("CSP_BOROUGH_CODE", "E09000012")
    assert build.is_stale(settings())[0]
    cfg = settings()
    tables = build.build_tables(cfg)
    other = pd.read_parquet(th / "warehouse" / "wards.parquet")
    tables["wards"] = pd.concat([tables["wards"], other], ignore_index=True)
    with pytest.raises(SourceError, match="wards of another borough"):
        build.check_one_borough(cfg, tables)
    tables = build.build_tables(cfg)
    th_crime = pd.read_parquet(th / "warehouse" / "crime_monthly.parquet")
    tables["crime_monthly"] = pd.concat(
        [tables["crime_monthly"], th_crime[th_crime["level"] == "ward"].head(5)], ignore_index=True
    )
    with pytest.raises(SourceError, match="outside Hackney"):
        build.check_one_borough(cfg, tables)


# --------------------------------------------------------------------------- measures match the MPS file


FY2024_25 = [f"2024{m:02d}" for m in range(4, 13)] + [f"2025{m:02d}" for m in range(1, 4)]


def _mps_borough_fy2024_25(borough: str) -> pd.DataFrame:
    """The borough's rows of the MPS borough files, FY2024-25 months only, each month from the newest
    file holding it (file names give their span): pandas alone, no project code."""
    files = sorted(glob.glob(str(SOURCES / "mps" / "mps_borough_crime*.parquet")))
    files.sort(key=lambda f: "historical" not in f)  # historical first, so the recent file wins
    by_month: dict[str, pd.DataFrame] = {}
    for f in files:
        df = pd.read_parquet(f)
        df = df[df["boroughname"] == borough]
        for m in FY2024_25:
            if m in df.columns:
                by_month[m] = df[["majortext", "minortext", m]].rename(columns={m: "count"})
    assert sorted(by_month) == FY2024_25
    return pd.concat(by_month.values(), ignore_index=True)


@pytest.mark.parametrize("code", list(BOROUGHS))
def test_measures_fy2024_25_match_the_mps_borough_file(borough_data, code):
    from csp_data.plan.measures import MEASURES

    root = borough_data(code)
    r = _cli(root, code, "measures", "--period", "FY2024-25", "--format", "json")
    assert r.returncode == 0, r.stderr
    rows = {row["measure_id"]: row for row in json.loads(r.stdout)}
    mps_rows = _mps_borough_fy2024_25(BOROUGHS[code])
    checked = 0
    for m in MEASURES:
        if m.source != "crime":
            continue
        hit = mps_rows["majortext"].isin(m.majors) | mps_rows["minortext"].isin(m.minors)
        assert rows[m.id]["value"] == int(mps_rows.loc[hit, "count"].sum()), m.id
        checked += 1
    assert checked >= 9
    if code == "E09000012":
        assert rows["robbery"]["value"] == 1780  # the issue's figure
    has_targets = any(row["target"] is not None for row in rows.values())
    assert has_targets == (code == "E09000030")  # only Tower Hamlets has a plan file


# --------------------------------------------------------------------------- every page renders


@pytest.mark.parametrize("code", list(BOROUGHS))
def test_every_page_renders_for_the_borough(borough_env, code):
    borough_env(code)
    name = BOROUGHS[code]
    for spec in pages_for("internal"):
        at = open_page(spec)
        assert_clean(at)
        parts = [*at.main.markdown, *at.main.title, *at.main.caption, *at.main.info, *at.main.header]
        text = " ".join(str(e.value) for e in parts) + " ".join(str(m.value) for m in at.sidebar.markdown)
        if code != "E09000030":
            assert "Tower Hamlets" not in text, spec.script
        if spec.script.endswith("summary.py"):
            assert at.main.title[0].value == f"Is {name} getting safer?"
        if code != "E09000030" and spec.script.endswith("targets.py"):
            assert any("No Community Safety Plan is loaded for" in i.value for i in at.info)


def test_public_pages_render_for_another_borough(borough_env, monkeypatch):
    """The public deployment (aggregate views only) serves Hackney's public pages too."""
    borough_env("E09000012")
    monkeypatch.setenv("CSP_MODE", "public")
    db.reset()
    for spec in pages_for("public"):
        at = open_page(spec)
        assert_clean(at)
        if spec.script.endswith("summary.py"):
            assert at.main.title[0].value == "Is Hackney getting safer?"
