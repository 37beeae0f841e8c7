"""Freshness: the newest month held against the month each publisher should have published by now,
on the real embedded data (borough crime to Feb 2026, ward crime to Mar 2026, ...)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from csp_data.config import settings
from csp_data.warehouse import catalogue, freshness, sql

DEC_2026 = date(2026, 12, 7)


def real_span() -> dict:
    span = sql.run("meta/data_span", borough_code=settings().borough_code)
    return dict(zip(span["dataset"], span["last_month"]))


def by_source(items):
    return {f.source: f for f in items}


def test_expected_month_follows_the_lag():
    assert freshness.expected_month(DEC_2026, 21) == date(2026, 10, 1)  # Nov is due 21 Dec
    assert freshness.expected_month(DEC_2026, 0) == date(2026, 11, 1)
    assert freshness.expected_month(DEC_2026, 50) == date(2026, 9, 1)  # Oct is due 20 Dec
    assert freshness.expected_month(date(2026, 12, 21), 21) == date(2026, 11, 1)  # due that very day
    # quarterly from January: Jan, Apr, Jul, Oct
    assert freshness.expected_month(DEC_2026, 0, 3, date(2021, 1, 1)) == date(2026, 10, 1)


def test_real_data_in_december_2026_is_months_behind(warehouse):
    items = by_source(freshness.status(real_span(), today=DEC_2026))
    b = items["mps_borough"]
    assert b.newest == date(2026, 2, 1) and b.expected == date(2026, 10, 1)
    assert b.words == "data to Feb 2026 — about 8 months behind"
    assert items["mps_ward"].words == "data to Mar 2026 — about 7 months behind"
    assert items["mps_business"].words == "data to Jul 2025 — about 15 months behind"
    assert b.next_month == date(2026, 3, 1) and b.next_due == date(2026, 4, 21)
    # outcomes are not in meta/data_span: a source whose dataset the caller did not give is left out
    assert "police_uk_outcomes" not in items


def test_up_to_date_when_the_newest_month_is_not_yet_due(warehouse):
    items = by_source(freshness.status(real_span(), today=date(2026, 3, 15)))
    assert items["mps_borough"].words == "data to Feb 2026 — up to date"
    assert not items["mps_borough"].behind
    assert items["mps_ward"].months_behind == 0


def test_behind_line_names_the_headline_source_and_counts_the_rest(warehouse):
    line = freshness.behind_line(freshness.status(real_span(), today=DEC_2026))
    assert line.startswith("Borough crime: data to Feb 2026 — about 8 months behind; ")
    assert "other sources behind too" in line
    ok = freshness.status({"crime_borough": "2026-02"}, today=date(2026, 3, 1))
    assert freshness.behind_line(ok) is None


def test_last_check_and_update_come_from_the_state_file(data_copy):
    cfg = settings()
    state = {
        "sources": {
            "mps_borough": {
                "last_check": "2026-12-07T02:00:00Z",
                "last_update": "2026-11-20T02:00:00Z",
                "last_result": "no change",
            }
        }
    }
    (cfg.data_dir / catalogue.STATE_FILE).write_text(json.dumps(state))
    f = by_source(
        freshness.status({"crime_borough": date(2026, 2, 1)}, today=DEC_2026, state=catalogue.load_state(cfg))
    )
    assert freshness.when(f["mps_borough"].last_check) == "7 Dec 2026 02:00 UTC"
    assert freshness.when(f["mps_borough"].last_update) == "20 Nov 2026 02:00 UTC"
    assert freshness.when(None) == "never"


def test_a_broken_state_file_reads_as_no_history(data_copy):
    cfg = settings()
    (cfg.data_dir / catalogue.STATE_FILE).write_text("{not json")
    assert catalogue.load_state(cfg) == {"sources": {}}


def test_age_words():
    assert freshness.age_words(date(2026, 2, 1), DEC_2026) == "Feb 2026 — 10 months ago"
    assert freshness.age_words(date(2026, 11, 1), DEC_2026) == "Nov 2026 — 1 month ago"
    assert freshness.age_words(date(2026, 12, 1), DEC_2026) == "Dec 2026 — this month"


def test_cadence_and_lag_are_data_not_code(tmp_path):
    text = catalogue.publishers_path().read_text()
    assert "lag_days" in text and "cadence_months" in text
    bad = tmp_path / "publishers.toml"
    bad.write_text(
        '[[source]]\nname = "x"\nlabel = "x"\npublisher = "ftp"\ndataset = "d"\n'
        'cadence_months = 1\nlag_days = 1\nfirst_month = "2020-01"\n'
    )
    with pytest.raises(catalogue.UsageError, match="publisher must be"):
        catalogue.load_sources(bad)


# ---------------------------------------------------------------- what the pages show (AppTest)


def _captions(at) -> list[str]:
    return [c.value for c in at.main.caption]


def test_every_page_but_the_wall_screen_shows_the_behind_line(app_env):
    """The real data is months behind today's publications: the frame says so in one line, and the
    sidebar coverage says by how much per dataset. The TTCG wall screen has its own header line."""
    from test_app import PAGES, open_page

    line = freshness.behind_line(freshness.status(real_span()))
    assert line and line.startswith("Borough crime: data to Feb 2026 — about ")
    for spec in [p for p in PAGES if p.script in ("pages/public/overview.py", "pages/admin/data_status.py")]:
        at = open_page(spec)
        assert line in _captions(at), (spec.script, _captions(at))
        sidebar = "\n".join(m.value for m in at.sidebar.markdown)
        assert "to **Feb 2026** — about " in sidebar and " months behind" in sidebar


def test_data_status_lists_freshness_last_check_and_next_expected_month(app_env):
    from test_app import PAGES, open_page, table_df

    at = open_page(next(p for p in PAGES if p.script == "pages/admin/data_status.py"))
    assert not at.exception and not at.error
    assert "Freshness and updates" in [h.value for h in at.main.header]
    tables = [table_df(t) for t in at.main.table]
    fresh = next(t for t in tables if "Next expected month" in t.columns)
    sources = {s.name: s for s in catalogue.load_sources()}
    assert set(fresh["Source"]) == {s.label for s in sources.values()}  # outcomes too (meta/policeuk_months)
    row = fresh[fresh["Source"] == sources["mps_borough"].label].iloc[0]
    assert row["Data to"] == "Feb 2026"
    assert row["Next expected month"] == "Mar 2026 (usually by 21 Apr 2026)"
    assert row["Freshness"].startswith("data to Feb 2026 — about ")
    assert row["Last check"] in ("never",) or "UTC" in row["Last check"]


def test_ttcg_header_says_how_old_its_month_is(app_env):
    from test_ttcg import open_ttcg, page_text

    at = open_ttcg(month="2026-02")
    assert not at.exception
    expected = freshness.age_words(date(2026, 2, 1))
    assert f"Data for {expected}." in page_text(at)
    line = freshness.behind_line(freshness.status(real_span()))
    assert line not in _captions(at)  # the wall screen keeps to one 1080p screen
