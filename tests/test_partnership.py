"""Partnership-entered figures: the shipped figures.csv, and each rule on small synthetic CSVs."""

from __future__ import annotations

import csv
import io
import math
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from csp_data.config import REPO_ROOT
from csp_data.plan import partnership
from csp_data.plan.document import PartnershipMeasure, Plan, load_plan
from csp_data.plan.partnership import COLUMNS, PartnershipError, latest, load_figures, validate_rows

FIGURES = REPO_ROOT / "data" / "partnership" / "figures.csv"
HEADER = "measure_id,period,value,unit,source,entered_by,entered_at,note"
TODAY = date(2026, 11, 29)


def synthetic_plan() -> Plan:
    """A plan with one measure of each unit and frequency the rules care about."""

    def m(id_, unit, freq, lo=None, hi=None):
        return PartnershipMeasure(id_, id_, unit, freq, "synthetic owner", "synthetic", lo, hi)

    return Plan(
        title="Synthetic",
        years="2025-04..2029-03",
        source="synthetic",
        adopted="2025-04",
        default_baseline="FY2024-25",
        default_deadline="FY2027-28",
        baseline_note="synthetic",
        priorities=(),
        targets=(),
        definitions={},
        partnership_measures=(
            m("audits", "count", "annual", 0.0),
            m("safe_pct", "percent", "annual", 0.0, 100.0),
            m("ops", "count", "monthly", 0.0),
            m("offer", "status", "once"),
            m("launched", "date", "once"),
        ),
    )


GOOD_ROWS = [
    "audits,FY2025-26,731,count,synthetic LFB return,synthetic tester,2026-05-01T09:00:00,",
    "safe_pct,2025,61.5,percent,synthetic survey,synthetic tester,2026-02-01T09:00:00+00:00,weighted",
    "ops,2026-11,4,count,synthetic police log,synthetic tester,2026-11-28T17:00:00,current month is allowed",
    "offer,2026-04..2026-09,in progress,status,synthetic board paper,synthetic tester,2026-10-01T10:00:00,",
    "launched,2026-09,2026-09-15,date,synthetic board paper,synthetic tester,2026-10-01T10:00:00,",
]


def write(tmp_path: Path, *rows: str, header: str = HEADER, name: str = "synthetic_figures.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def problems_for(tmp_path: Path, *rows: str) -> list[str]:
    """Load synthetic rows (after the header, so the first is line 2) and return the problems."""
    path = write(tmp_path, *rows)
    with pytest.raises(PartnershipError) as e:
        load_figures(path, plan=synthetic_plan(), today=TODAY)
    assert all(p.startswith(f"{path}, line ") for p in e.value.problems)
    assert str(path) in str(e.value)
    return e.value.problems


# --- the shipped file -----------------------------------------------------------------------------


def test_shipped_figures_file_has_the_exact_header_and_valid_rows():
    first = FIGURES.read_text(encoding="utf-8").splitlines()[0]
    assert first == HEADER
    df = load_figures(FIGURES, plan=load_plan(), today=TODAY)
    assert list(df.columns)[: len(COLUMNS)] == list(COLUMNS)
    plan = load_plan()
    for _, row in df.iterrows():  # only figures the plan documents publish, each cited
        assert row["entered_by"] == "plan documents (shipped)"
        assert "Community Safety Plan" in row["source"]
        plan.partnership_measure(row["measure_id"])


def test_shipped_readme_documents_the_rules():
    text = (FIGURES.parent / "README.md").read_text(encoding="utf-8")
    assert HEADER in text and "append-only" in text.lower() and "latest `entered_at`" in text


def test_default_path_falls_back_to_repo_copy(tmp_path, monkeypatch):
    monkeypatch.setenv("CSP_DATA_DIR", str(tmp_path))
    assert partnership.default_path() == FIGURES
    (tmp_path / "partnership").mkdir()
    own = write(tmp_path / "partnership", GOOD_ROWS[0], name="figures.csv")
    assert partnership.default_path() == own


def test_missing_file_is_an_empty_frame_with_the_columns(tmp_path):
    df = load_figures(tmp_path / "none.csv", plan=synthetic_plan(), today=TODAY)
    assert df.empty and list(df.columns) == [*COLUMNS, "value_num"]


# --- reading: file-level problems -----------------------------------------------------------------


def test_synthetic_good_rows_load_with_numbers(tmp_path):
    df = load_figures(write(tmp_path, *GOOD_ROWS), plan=synthetic_plan(), today=TODAY)
    assert list(df.index) == [2, 3, 4, 5, 6] and df.index.name == "line"
    assert df.loc[2, "value_num"] == 731 and df.loc[3, "value_num"] == 61.5
    assert math.isnan(df.loc[5, "value_num"])  # a status has no number
    assert df.loc[3, "note"] == "weighted"


def test_synthetic_header_only_is_an_empty_frame(tmp_path):
    df = load_figures(write(tmp_path), plan=synthetic_plan(), today=TODAY)
    assert df.empty and list(df.columns) == [*COLUMNS, "value_num"]


def test_synthetic_empty_file_is_refused(tmp_path):
    path = tmp_path / "synthetic_figures.csv"
    path.write_text("", encoding="utf-8")
    with pytest.raises(PartnershipError, match=r"synthetic_figures\.csv, line 1: the file is empty"):
        load_figures(path, plan=synthetic_plan(), today=TODAY)


def test_synthetic_wrong_header_is_refused(tmp_path):
    path = write(tmp_path, GOOD_ROWS[0], header=HEADER.replace("measure_id", "measure"))
    with pytest.raises(PartnershipError) as e:
        load_figures(path, plan=synthetic_plan(), today=TODAY)
    assert "synthetic_figures.csv, line 1" in str(e.value) and "missing column(s) measure_id" in str(e.value)


def test_synthetic_wrong_field_count_names_the_line(tmp_path):
    path = write(
        tmp_path, GOOD_ROWS[0], "audits,FY2024-25,1,234,count,synthetic,synthetic tester,2026-05-01T09:00:00,"
    )
    with pytest.raises(
        PartnershipError, match=r"synthetic_figures\.csv, line 3: expected 8 fields .* found 9"
    ):
        load_figures(path, plan=synthetic_plan(), today=TODAY)


def test_synthetic_malformed_quoting_is_refused(tmp_path):
    path = write(
        tmp_path, GOOD_ROWS[0], 'audits,FY2024-25,"7"31,count,synthetic,synthetic tester,2026-05-01T09:00:00,'
    )
    with pytest.raises(PartnershipError, match=r"synthetic_figures\.csv, line 3: malformed CSV"):
        load_figures(path, plan=synthetic_plan(), today=TODAY)


def test_synthetic_multiline_note_keeps_line_numbers_right(tmp_path):
    note_row = 'audits,FY2024-25,700,count,synthetic,synthetic tester,2026-05-01T09:00:00,"two\nlines"'
    problems = problems_for(
        tmp_path, note_row, "audits,FY2023-24,-1,count,synthetic,synthetic tester,2026-05-01T09:00:00,"
    )
    assert len(problems) == 1 and ", line 4, column 'value'" in problems[0]


# --- the row rules --------------------------------------------------------------------------------


def row(**changes: str) -> str:
    """The first good synthetic row with some fields changed."""
    values = dict(zip(COLUMNS, next(csv.reader(io.StringIO(GOOD_ROWS[0])))))
    values.update(changes)
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow([values[c] for c in COLUMNS])
    return out.getvalue()


@pytest.mark.parametrize(
    "changes, column, words",
    [
        ({"measure_id": "audit"}, "measure_id", "not a partnership measure"),
        ({"unit": "audits"}, "unit", "does not match audits's unit 'count'"),
        ({"value": "seven hundred"}, "value", "not a number"),
        ({"value": "1,234"}, "value", "without commas"),
        ({"value": "73.5"}, "value", "whole number"),
        ({"value": "-3"}, "value", "below the minimum 0"),
        ({"value": "nan"}, "value", "not a number"),
        ({"period": "FY2024-26"}, "period", "a financial year runs into the next year"),
        ({"period": "last year"}, "period", "is not a period"),
        ({"period": "FY2026-27"}, "period", "in the future"),
        ({"period": "2025-04..2025-06"}, "period", "annual figure, so its period must be 12 months"),
        ({"source": ""}, "source", "must not be empty"),
        ({"entered_by": " "}, "entered_by", "must not be empty"),
        ({"entered_at": "29/11/2026 10:00"}, "entered_at", "not an ISO date and time"),
        ({"entered_at": "2026-11-29"}, "entered_at", "has no time"),
        ({"entered_at": "2026-12-01T09:00:00"}, "entered_at", "in the future"),
    ],
)
def test_synthetic_row_rule(tmp_path, changes, column, words):
    problems = problems_for(tmp_path, GOOD_ROWS[1], row(**changes))
    assert len(problems) == 1, problems
    assert f", line 3, column {column!r}: " in problems[0] and words in problems[0]


def test_synthetic_percent_101_is_refused(tmp_path):
    problems = problems_for(tmp_path, GOOD_ROWS[1].replace(",61.5,", ",101,"))
    assert len(problems) == 1 and ", line 2, column 'value': 101 is above the maximum 100" in problems[0]


def test_synthetic_status_and_date_values(tmp_path):
    problems = problems_for(
        tmp_path,
        GOOD_ROWS[3].replace("in progress", "nearly done"),
        GOOD_ROWS[4].replace(",2026-09-15,", ",15/09/2026,"),
    )
    assert ", line 2, column 'value': 'nearly done' is not a status" in problems[0]
    assert ", line 3, column 'value': '15/09/2026' is not a date" in problems[1]


def test_synthetic_future_period_is_judged_against_today():
    frame = pd.DataFrame([dict(zip(COLUMNS, next(csv.reader(io.StringIO(GOOD_ROWS[2])))))])
    assert validate_rows(frame, synthetic_plan(), TODAY) == []  # Nov 2026 in Nov 2026: allowed
    problems = validate_rows(frame, synthetic_plan(), date(2026, 10, 31))
    assert problems == [
        "line 2, column 'period': '2026-11' ends in November 2026, which is in the future",
        "line 2, column 'entered_at': '2026-11-28T17:00:00' is in the future",
    ]


def test_synthetic_all_problems_are_listed(tmp_path):
    problems = problems_for(tmp_path, row(value="x"), row(period="2030"), GOOD_ROWS[1])
    assert [p.split(": ")[0].split(", ", 1)[1] for p in problems] == [
        "line 2, column 'value'",
        "line 3, column 'period'",
    ]


def test_validate_rows_on_the_real_plan(tmp_path):
    """The shipped plan's measures accept a plausible entry and refuse a 101% survey result."""
    path = write(
        tmp_path,
        "fire_audits,FY2025-26,735,count,synthetic LFB return,synthetic tester,2026-05-01T09:00:00,",
        "women_safe_night,FY2025-26,101,percent,synthetic survey,synthetic tester,2026-05-01T09:00:00,",
    )
    with pytest.raises(PartnershipError) as e:
        load_figures(path, plan=load_plan(), today=TODAY)
    assert e.value.problems == [
        f"{path}, line 3, column 'value': 101 is above the maximum 100 (allowed 0 to 100)"
    ]


# --- latest: append-only corrections --------------------------------------------------------------


def test_latest_takes_the_last_entered_row_per_measure_and_period(tmp_path):
    path = write(
        tmp_path,
        "audits,FY2025-26,731,count,synthetic,synthetic tester,2026-05-01T09:00:00,first",
        "audits,FY2024-25,700,count,synthetic,synthetic tester,2025-05-01T09:00:00,",
        "audits,FY2025-26,745,count,synthetic,synthetic tester,2026-06-01T09:00:00+01:00,correction",
        "audits,2025-04..2026-03,740,count,synthetic,synthetic tester,2026-05-15T09:00:00,older than line 4",
        "safe_pct,2025,60,percent,synthetic,synthetic tester,2026-02-01T09:00:00,tie A",
        "safe_pct,2025,62,percent,synthetic,synthetic tester,2026-02-01T09:00:00,tie B (later line)",
    )
    df = latest(load_figures(path, plan=synthetic_plan(), today=TODAY))
    assert list(zip(df["measure_id"], df["period"], df["value"])) == [
        ("audits", "FY2024-25", "700"),
        ("audits", "FY2025-26", "745"),
        ("safe_pct", "2025", "62"),
    ]
    assert df.loc[4, "note"] == "correction"


def test_latest_of_nothing_is_empty():
    assert latest(partnership.empty_frame()).empty
