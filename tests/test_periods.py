"""Period strings as board papers write them."""

from datetime import date

import pytest

from csp_data.plan import periods
from csp_data.plan.periods import PeriodError, parse


@pytest.mark.parametrize(
    "text,start,end,label",
    [
        ("FY2024-25", date(2024, 4, 1), date(2025, 3, 1), "FY2024-25"),
        ("fy2023-24", date(2023, 4, 1), date(2024, 3, 1), "FY2023-24"),
        ("FY2024/2025", date(2024, 4, 1), date(2025, 3, 1), "FY2024-25"),
        ("2025", date(2025, 1, 1), date(2025, 12, 1), "2025"),
        ("2025-04..2026-03", date(2025, 4, 1), date(2026, 3, 1), "FY2025-26"),
        ("2025-05..2025-07", date(2025, 5, 1), date(2025, 7, 1), "May 2025 to Jul 2025"),
        ("2026-03", date(2026, 3, 1), date(2026, 3, 1), "Mar 2026"),
        (" 2026-03 ", date(2026, 3, 1), date(2026, 3, 1), "Mar 2026"),
    ],
)
def test_accepted_forms(text, start, end, label):
    p = parse(text)
    assert (p.start, p.end, p.label) == (start, end, label)


@pytest.mark.parametrize(
    "text,needle",
    [
        ("FY2024-26", "runs into the next year"),
        ("FY2024", "not a period"),
        ("2025-13", "month 13"),
        ("2025-00", "month 0"),
        ("2026-03..2025-04", "ends before it starts"),
        ("1999", "out of range"),
        ("", "not a period"),
        ("last year", "not a period"),
        ("2025-4", "not a period"),
    ],
)
def test_refused_forms_name_the_accepted_ones(text, needle):
    with pytest.raises(PeriodError) as e:
        parse(text)
    assert needle in str(e.value)


def test_non_string_is_refused():
    with pytest.raises(PeriodError):
        parse(2025)  # type: ignore[arg-type]


def test_month_arithmetic_and_navigation():
    fy = parse("FY2024-25")
    assert fy.n_months == 12 and len(fy.months()) == 12
    assert fy.months()[0] == date(2024, 4, 1) and fy.months()[-1] == date(2025, 3, 1)
    assert fy.previous().label == "FY2023-24"
    assert fy.year_earlier() == fy.previous()
    q = parse("2025-05..2025-07")
    assert q.previous().label == "Feb 2025 to Apr 2025"
    assert date(2024, 12, 17) in fy and date(2025, 4, 1) not in fy
    assert fy.clip_end(date(2024, 9, 1)).label == "Apr 2024 to Sep 2024"
    assert periods.fy_of(date(2026, 2, 1)).label == "FY2025-26"
    assert periods.fy_of(date(2026, 4, 1)).label == "FY2026-27"
    assert periods.add_months(date(2024, 11, 1), 3) == date(2025, 2, 1)
    assert periods.months_between(date(2024, 4, 1), date(2025, 3, 1)) == 11


def test_bounds_must_be_first_of_month_and_ordered():
    with pytest.raises(PeriodError):
        periods.Period(date(2025, 1, 2), date(2025, 2, 1))
    with pytest.raises(PeriodError):
        periods.Period(date(2025, 3, 1), date(2025, 2, 1))


# --- one month, written YYYY-MM (the one parser behind the briefing pack and the TTCG view)


def test_parse_month_reads_one_month():
    assert periods.parse_month("2026-03") == date(2026, 3, 1)
    assert periods.parse_month(" 2025-12 ") == date(2025, 12, 1)


@pytest.mark.parametrize("text", ["", None, "2026-3", "2026/03", "March 2026", "2026-03-01", "FY2025-26"])
def test_parse_month_refuses_other_forms(text):
    with pytest.raises(periods.MonthError, match="YYYY-MM") as e:
        periods.parse_month(text)
    assert e.value.month is None


@pytest.mark.parametrize("text,month", [("2026-13", 13), ("2026-00", 0)])
def test_parse_month_names_a_month_out_of_range(text, month):
    with pytest.raises(periods.MonthError, match="is not 01-12") as e:
        periods.parse_month(text)
    assert e.value.month == month


def test_windows_and_labels():
    assert periods.trailing(date(2026, 2, 1)).label == "Mar 2025 to Feb 2026"
    assert periods.trailing(date(2026, 3, 1)).label == "FY2025-26"
    assert periods.span(date(2025, 4, 1), date(2026, 3, 1)).label == "Apr 2025 to Mar 2026"
    assert periods.fy_label(date(2026, 3, 1)) == "FY2025-26" == periods.fy_of(date(2026, 3, 1)).label
    assert periods.month_index(date(2026, 1, 1)) - periods.month_index(date(2025, 12, 1)) == 1
