"""The measure catalogue on the real data: serious violence as defined (reproduced by independent
SQL, no part counted twice, the same words in the plan and the catalogue) and the snapshot each
month of a dashboard measure names (the file its own rows came from)."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest
from independent_sv import independent_serious_violence

from csp_data.analysis import scorecard
from csp_data.plan.document import load_plan
from csp_data.plan.measures import BY_ID, COMPONENTS, MEASURES, get
from csp_data.plan.periods import parse

TH = "E09000030"


def test_serious_violence_reproduces_an_independent_sum(warehouse):
    want = independent_serious_violence(warehouse)
    got = {r.month: int(r.count) for r in scorecard.monthly_series(get("serious_violence")).itertuples()}
    assert got == want
    fy = parse("FY2024-25")
    assert sum(v for m, v in got.items() if fy.start <= m <= fy.end) == 3001
    assert min(got) == date(2021, 8, 1)  # the dashboard's first month: no month without every part


def test_serious_violence_parts_do_not_overlap():
    sv = get("serious_violence")
    parts = dict(sv.parts)
    assert parts == {
        "homicide": 1,
        "violence_injury": 1,
        "knife_crime": 1,
        "knife_injury": -1,
        "knife_robbery_injury": 1,
    }
    crime_minors = [m for pid in parts if get(pid).source == "crime" for m in get(pid).minors]
    assert sorted(crime_minors) == ["HOMICIDE", "VIOLENCE WITH INJURY"]  # each MPS category once
    # knife crime with injury is taken out again (it is inside homicide / violence with injury),
    # except the robberies, which the MPS records as robbery
    assert get("knife_robbery_injury").dashboard == (
        "Knife Crime",
        "Knife Crime with Injury (Personal Robbery)",
        "Offences",
    )
    assert "gun_crime" not in parts and "gun_crime" in sv.beside
    # every breakdown row names parts of the sum, and every part is in one row
    named = [pid for _, ids in sv.part_labels for pid in ids]
    assert sorted(named) == sorted(parts)


def test_knife_robbery_with_injury_is_inside_knife_crime_with_injury(warehouse):
    """The subtraction is safe only if the robbery subtype is a subset of knife crime with injury."""
    rows = (
        duckdb.connect()
        .execute(
            """SELECT month,
                  sum(count) FILTER (WHERE crime_subtype = 'Knife Crime with Injury'),
                  sum(count) FILTER (WHERE crime_subtype = 'Knife Crime with Injury (Personal Robbery)'),
                  sum(count) FILTER (WHERE crime_subtype = 'Knife Crime')
           FROM read_parquet(?) WHERE area_code = ? AND crime_type = 'Knife Crime' AND measure = 'Offences'
           GROUP BY month""",
            [str(warehouse / "dashboard_monthly.parquet"), TH],
        )
        .fetchall()
    )
    assert len(rows) > 40
    for _m, inj, rob, allk in rows:
        assert (rob or 0) <= (inj or 0) <= allk


def test_the_definition_is_the_same_text_everywhere():
    plan = load_plan()
    sv = get("serious_violence")
    assert plan.definitions["serious_violence"].text == sv.definition
    for words in (
        "HOMICIDE",
        "VIOLENCE WITH INJURY",
        "knife crime without injury",
        "Gun crime is shown beside it, not added",
    ):
        assert words in sv.definition
    assert sv.short_definition and "gun crime shown beside, not added" in sv.short_definition


def test_components_are_not_headline_measures():
    assert {m.id for m in COMPONENTS}.isdisjoint({m.id for m in MEASURES})
    assert all(m.id in BY_ID for m in COMPONENTS)


def test_each_dashboard_month_names_the_file_its_own_rows_came_from(warehouse):
    """Knife crime months to Jul 2025 are held in both dashboard files; the knife-only refresh wins
    them, so they must name that file, not whichever file any_value() picked."""
    s = scorecard.monthly_series(get("knife_crime"))
    want = dict(
        duckdb.connect()
        .execute(
            """SELECT month, any_value(snapshot) FROM read_parquet(?) WHERE area_code = ? AND crime_type = 'Knife Crime'
           GROUP BY month HAVING count(DISTINCT snapshot) = 1""",
            [str(warehouse / "dashboard_monthly.parquet"), TH],
        )
        .fetchall()
    )
    got = dict(zip(s["month"], s["snapshot"]))
    assert got == want
    knife_only = [m for m, snap in got.items() if "knife crime only" in snap]
    assert min(knife_only) == date(2022, 3, 1) and max(knife_only) == date(2026, 2, 1)
    assert all("knife crime only" in got[m] for m in got if date(2022, 3, 1) <= m <= date(2025, 7, 1))
    # hate crime is in the older file only
    hate = scorecard.monthly_series(get("hate_crime"))
    assert not hate["snapshot"].str.contains("knife crime only").any()


@pytest.mark.parametrize("measure_id", [m.id for m in MEASURES])
def test_every_measure_names_a_source_and_a_definition(measure_id):
    m = get(measure_id)
    assert m.definition and m.source_name.startswith("MPS")


def test_each_priority_page_shows_every_measure_of_that_priority_once():
    """PRIORITY_MEASURES orders the pages; membership comes from each measure's own priority."""
    from csp_data.plan.measures import PRIORITIES, PRIORITY_MEASURES, PUBLIC_HEADLINES, public_headlines

    assert set(PRIORITY_MEASURES) == set(PRIORITIES)
    for n, ids in PRIORITY_MEASURES.items():
        assert len(ids) == len(set(ids))
        assert set(ids) == {m.id for m in MEASURES if m.priority == n}
    assert PUBLIC_HEADLINES <= {m.id for m in MEASURES}
    assert public_headlines(2) == ["serious_violence", "knife_crime", "domestic_abuse"]
    assert public_headlines(9) == []


def test_dashboard_key_is_only_for_dashboard_measures():
    from csp_data.plan.measures import MEASURES

    for m in MEASURES:
        if m.source == "dashboard":
            assert m.dashboard_key == m.dashboard and len(m.dashboard_key) == 3
        else:
            with pytest.raises(ValueError, match="not read from the MPS dashboard"):
                _ = m.dashboard_key
