"""Reporting periods as people write them: ``FY2024-25``, ``2025``, ``2025-04..2026-03``, ``2026-03``.

A :class:`Period` is a run of whole calendar months (first of month dates, inclusive). Financial
years run April to March, as the CSP board reports them. Anything else is refused with a message
that shows the accepted forms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

FORMS = (
    "FY2024-25 (financial year), 2025 (calendar year), 2025-04..2026-03 (month range) or 2026-03 (one month)"
)


class PeriodError(ValueError):
    """A period string that is not one of the accepted forms, or is backwards."""


class MonthError(PeriodError):
    """Text that is not one month written ``YYYY-MM``. ``month`` is the out-of-range month number
    when the form was right but the month is not 01-12, else None (the form itself is wrong)."""

    def __init__(self, message: str, month: int | None = None):
        super().__init__(message)
        self.month = month


def add_months(d: date, n: int) -> date:
    y, m = divmod(d.year * 12 + (d.month - 1) + n, 12)
    return date(y, m + 1, 1)


def months_between(a: date, b: date) -> int:
    """Whole months from month ``a`` to month ``b`` (b - a)."""
    return (b.year - a.year) * 12 + (b.month - a.month)


def month_index(d: date) -> int:
    """Months since year 0: consecutive months have consecutive indexes."""
    return d.year * 12 + d.month - 1


def fy_start(d: date) -> date:
    """1 April of the financial year containing month ``d``."""
    return date(d.year if d.month >= 4 else d.year - 1, 4, 1)


def fy_label(d: date) -> str:
    """The name of the financial year containing month ``d``, e.g. ``FY2025-26``."""
    s = fy_start(d).year
    return f"FY{s}-{str(s + 1)[-2:]}"


def month_label(d: date) -> str:
    return d.strftime("%b %Y")


def period_label(start: date, end: date) -> str:
    """Months in words: "Mar 2025" or "Apr 2025 to Feb 2026" (never a financial-year name)."""
    return month_label(start) if start == end else f"{month_label(start)} to {month_label(end)}"


@dataclass(frozen=True, order=True)
class Period:
    start: date  # first month (1st of month)
    end: date  # last month (1st of month), inclusive
    label: str = ""

    def __post_init__(self):
        if self.start.day != 1 or self.end.day != 1:
            raise PeriodError("period bounds must be first-of-month dates")
        if self.end < self.start:
            raise PeriodError(f"period ends ({self.end:%Y-%m}) before it starts ({self.start:%Y-%m})")

    @property
    def n_months(self) -> int:
        return months_between(self.start, self.end) + 1

    def months(self) -> list[date]:
        return [add_months(self.start, i) for i in range(self.n_months)]

    def shift(self, months: int) -> Period:
        """The same length of period ``months`` later (negative: earlier)."""
        return make(add_months(self.start, months), add_months(self.end, months))

    def previous(self) -> Period:
        """The equal-length period immediately before this one."""
        return self.shift(-self.n_months)

    def year_earlier(self) -> Period:
        return self.shift(-12)

    def clip_end(self, last: date) -> Period:
        """This period cut off at month ``last`` (for 'to date' figures)."""
        return make(self.start, min(self.end, last))

    def __contains__(self, d: date) -> bool:
        return self.start <= date(d.year, d.month, 1) <= self.end

    def __str__(self) -> str:
        return self.label


def make(start: date, end: date) -> Period:
    """A period with its canonical label (FY or calendar-year name when it is exactly one)."""
    if start.month == 4 and end == add_months(start, 11):
        label = f"FY{start.year}-{str(start.year + 1)[-2:]}"
    elif start.month == 1 and end == add_months(start, 11):
        label = str(start.year)
    else:
        label = period_label(start, end)
    return Period(start, end, label)


def span(start: date, end: date) -> Period:
    """The months ``start`` to ``end`` labelled in month words even when they make a financial or
    calendar year (:func:`period_label`), as the scorecard's windows are."""
    return Period(start, end, period_label(start, end))


def trailing(latest: date, n: int = 12) -> Period:
    """The ``n`` months ending with month ``latest`` (its canonical label, as :func:`make`)."""
    return make(add_months(latest, -(n - 1)), latest)


def financial_year(start_year: int) -> Period:
    return make(date(start_year, 4, 1), date(start_year + 1, 3, 1))


def fy_of(d: date) -> Period:
    """The financial year containing month ``d``."""
    return financial_year(fy_start(d).year)


_FY = re.compile(r"^FY\s?(\d{4})[-/](\d{2}|\d{4})$", re.I)
_YEAR = re.compile(r"^(\d{4})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_RANGE = re.compile(r"^(\d{4})-(\d{2})\s*\.\.\s*(\d{4})-(\d{2})$")


def _month(y: str, m: str, text: str) -> date:
    year, month = int(y), int(m)
    if not 1 <= month <= 12:
        raise PeriodError(f"{text!r}: month {month} is not 01-12")
    if not 2000 <= year <= 2100:
        raise PeriodError(f"{text!r}: year {year} is out of range")
    return date(year, month, 1)


def parse_month(text: str) -> date:
    """One month written ``YYYY-MM`` (surrounding spaces allowed) -> its first day:
    ``"2026-03"`` -> ``date(2026, 3, 1)``. Anything else raises :class:`MonthError`, never guessed."""
    m = _MONTH.match(str(text or "").strip())
    if not m:
        raise MonthError(f"{text!r} is not a month: write it as YYYY-MM, e.g. 2026-03")
    year, month = int(m.group(1)), int(m.group(2))
    if not 1 <= month <= 12:
        raise MonthError(f"{text!r}: month {month:02d} is not 01-12", month)
    return date(year, month, 1)


def parse(text: str) -> Period:
    """Parse a period string. Raises :class:`PeriodError` naming the accepted forms."""
    try:
        return _parse(text)
    except PeriodError as exc:
        msg = str(exc)
        raise PeriodError(msg if FORMS in msg else f"{msg} (accepted: {FORMS})") from None


def _parse(text: str) -> Period:
    if not isinstance(text, str):
        raise PeriodError(f"a period is text such as {FORMS}; got {text!r}")
    t = text.strip()
    if m := _FY.match(t):
        first = int(m.group(1))
        second = m.group(2)
        expected = str(first + 1)[-len(second) :]
        if second != expected:
            raise PeriodError(
                f"{text!r}: a financial year runs into the next year, e.g. FY{first}-{str(first + 1)[-2:]}"
            )
        if not 2000 <= first <= 2100:
            raise PeriodError(f"{text!r}: year {first} is out of range")
        return financial_year(first)
    if m := _YEAR.match(t):
        y = int(m.group(1))
        if not 2000 <= y <= 2100:
            raise PeriodError(f"{text!r}: year {y} is out of range")
        return make(date(y, 1, 1), date(y, 12, 1))
    if m := _RANGE.match(t):
        a = _month(m.group(1), m.group(2), text)
        b = _month(m.group(3), m.group(4), text)
        if b < a:
            raise PeriodError(f"{text!r}: the range ends before it starts")
        return make(a, b)
    if m := _MONTH.match(t):
        a = _month(m.group(1), m.group(2), text)
        return make(a, a)
    raise PeriodError(f"{text!r} is not a period: use {FORMS}")
