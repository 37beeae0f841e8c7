"""Figures the partnership enters itself: ``data/partnership/figures.csv``.

Targets that police data cannot measure (fire audits, survey results, joint operations...) are
counted in partnership measures defined in the plan file. Their figures live in one CSV that is
append-only: a correction is a new row, and for each measure and period the row with the latest
``entered_at`` wins (:func:`latest`). :func:`load_figures` refuses a file with mistakes, naming
the file, the line and the column of each one. No Streamlit here: pages read the frame.
"""

from __future__ import annotations

import csv
import math
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from csp_data import periods
from csp_data.config import REPO_ROOT, settings
from csp_data.plan import Plan, load_plan

COLUMNS = ("measure_id", "period", "value", "unit", "source", "entered_by", "entered_at", "note")
STATUS_VALUES = ("not started", "in progress", "complete", "not met")
FREQUENCY_MONTHS = {"annual": 12, "quarterly": 3, "monthly": 1}   # "once": any length


class PartnershipError(ValueError):
    """The figures file cannot be read or has rows that break the rules; ``problems`` lists each."""

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or [message]


def default_path() -> Path:
    """``<data dir>/partnership/figures.csv``, or the repository's copy when the data dir has none."""
    path = settings().data_dir / "partnership" / "figures.csv"
    return path if path.exists() else REPO_ROOT / "data" / "partnership" / "figures.csv"


figures_path = default_path   # the name the UI cache uses


def empty_frame() -> pd.DataFrame:
    """No figures: the columns, plus ``value_num``, with a ``line`` index."""
    df = pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
    df["value_num"] = pd.Series(dtype=float)
    df.index.name = "line"
    return df


def read_csv(path: Path) -> pd.DataFrame:
    """Read the file as text, one row per entry, indexed by the CSV line each row starts on.

    Raises :class:`PartnershipError` for an empty file, a wrong header, bad quoting or a row
    with the wrong number of fields.
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f, strict=True)
            rows, lines, end = [], [], 0
            header = next(reader, None)
            if header is None:
                raise PartnershipError(f"{path}, line 1: the file is empty; its first line must be the header "
                                       f"{','.join(COLUMNS)}")
            if tuple(h.strip() for h in header) != COLUMNS:
                missing = [c for c in COLUMNS if c not in header]
                extra = [h for h in header if h.strip() not in COLUMNS]
                detail = "; ".join(filter(None, [missing and f"missing column(s) {', '.join(missing)}",
                                                 extra and f"unexpected column(s) {', '.join(extra)}"]))
                raise PartnershipError(f"{path}, line 1: the header must be exactly {','.join(COLUMNS)}"
                                       + (f" ({detail})" if detail else " (in that order)"))
            end = reader.line_num
            for row in reader:
                start, end = end + 1, reader.line_num
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue                                  # blank line
                if len(row) != len(COLUMNS):
                    raise PartnershipError(f"{path}, line {start}: expected {len(COLUMNS)} fields "
                                           f"({','.join(COLUMNS)}), found {len(row)}; "
                                           "put quotes around values that contain commas")
                rows.append([c.strip() for c in row])
                lines.append(start)
    except csv.Error as e:
        raise PartnershipError(f"{path}, line {reader.line_num}: malformed CSV: {e}") from None
    except UnicodeDecodeError as e:
        raise PartnershipError(f"{path}: not UTF-8 text ({e})") from None
    df = pd.DataFrame(rows, columns=list(COLUMNS), index=pd.Index(lines, name="line"), dtype=object)
    return df if len(df) else empty_frame().drop(columns="value_num")


def _line_numbers(df: pd.DataFrame) -> list[int]:
    if df.index.name == "line":
        return [int(i) for i in df.index]
    return list(range(2, len(df) + 2))      # header is line 1


def _check_value(value: str, unit: str, lo: float | None, hi: float | None) -> str | None:
    """What is wrong with ``value`` for a measure in ``unit`` (None if nothing)."""
    if unit == "status":
        if value not in STATUS_VALUES:
            return f"{value!r} is not a status; use one of: {', '.join(STATUS_VALUES)}"
        return None
    if unit == "date":
        try:
            date.fromisoformat(value)
        except ValueError:
            return f"{value!r} is not a date in the form YYYY-MM-DD"
        return None
    try:
        number = float(value)
    except ValueError:
        return f"{value!r} is not a number (write 1234 or 56.7, without commas or % signs)"
    if not math.isfinite(number):
        return f"{value!r} is not a number"
    if unit == "count" and number != int(number):
        return f"{value!r} is a count, so it must be a whole number"
    if lo is not None and number < lo:
        return f"{value} is below the minimum {lo:g}" + (f" (allowed {lo:g} to {hi:g})" if hi is not None else "")
    if hi is not None and number > hi:
        return f"{value} is above the maximum {hi:g}" + (f" (allowed {lo:g} to {hi:g})" if lo is not None else "")
    return None


def _check_entered_at(text: str, today: date) -> str | None:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return f"{text!r} is not an ISO date and time such as 2026-11-29T09:30:00"
    if len(text) <= 10:
        return f"{text!r} has no time; write it as e.g. {text}T09:30:00"
    if when.date() > today:
        return f"{text!r} is in the future"
    return None


def validate_rows(df: pd.DataFrame, plan: Plan, today: date) -> list[str]:
    """Problems with each row, as ``line N, column 'c': ...`` (line counts the header as 1)."""
    measures = {m.id: m for m in plan.partnership_measures}
    this_month = date(today.year, today.month, 1)
    problems: list[str] = []
    for line, (_, row) in zip(_line_numbers(df), df.iterrows()):
        def bad(column: str, message: str) -> None:
            problems.append(f"line {line}, column {column!r}: {message}")

        get = lambda c: "" if pd.isna(row.get(c)) else str(row.get(c)).strip()  # noqa: E731
        measure = measures.get(get("measure_id"))
        if measure is None:
            bad("measure_id", f"{get('measure_id')!r} is not a partnership measure in the plan; known: "
                              f"{', '.join(measures)}")
        elif get("unit") != measure.unit:
            bad("unit", f"{get('unit')!r} does not match {measure.id}'s unit {measure.unit!r}")
        elif problem := _check_value(get("value"), measure.unit, measure.min, measure.max):
            bad("value", problem)
        try:
            period = periods.parse(get("period"))
        except periods.PeriodError as e:
            bad("period", str(e))
        else:
            if period.end > this_month:
                bad("period", f"{get('period')!r} ends in {period.end:%B %Y}, which is in the future")
            want = FREQUENCY_MONTHS.get(measure.frequency) if measure else None
            if want and period.n_months != want:
                bad("period", f"{measure.id} is a {measure.frequency} figure, so its period must be {want} "
                              f"month{'s' if want > 1 else ''}; {get('period')!r} is {period.n_months}")
        for column in ("source", "entered_by"):
            if not get(column):
                bad(column, "must not be empty: say where the figure comes from and who entered it")
        if problem := _check_entered_at(get("entered_at"), today):
            bad("entered_at", problem)
    return problems


def _with_numbers(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    numeric = df["unit"].isin(["count", "percent"])
    df["value_num"] = pd.to_numeric(df["value"].where(numeric), errors="coerce").astype(float)
    return df


def load_figures(path: Path | None = None, plan: Plan | None = None, today: date | None = None) -> pd.DataFrame:
    """All entered rows (text columns plus ``value_num``), validated. Missing file: an empty frame.

    Raises :class:`PartnershipError` listing every problem, each naming the file, line and column.
    """
    path = Path(path) if path is not None else default_path()
    if not path.exists():
        return empty_frame()
    df = read_csv(path)
    if df.empty:
        return empty_frame()
    problems = validate_rows(df, plan or load_plan(), today or date.today())
    if problems:
        n = len(problems)
        lines = [f"{path}, {p}" for p in problems]
        raise PartnershipError(f"{path}: {n} problem{'s' if n != 1 else ''} in the partnership figures:\n  "
                               + "\n  ".join(lines), lines)
    return _with_numbers(df)


def latest(df: pd.DataFrame) -> pd.DataFrame:
    """For each measure and period, the row entered last (later line wins a tie).

    Periods are compared by the months they cover, so ``FY2025-26`` and ``2025-04..2026-03`` are
    the same period. Sorted by measure, then period.
    """
    if df.empty:
        return df.copy()
    work = df.copy()
    parsed = [periods.parse(p) for p in work["period"]]
    work["_pstart"] = [p.start for p in parsed]
    work["_pend"] = [p.end for p in parsed]
    work["_when"] = pd.to_datetime(work["entered_at"], utc=True, format="ISO8601")
    work["_order"] = range(len(work))
    work = work.sort_values(["_when", "_order"], kind="mergesort")
    last = work.groupby(["measure_id", "_pstart", "_pend"], sort=False).tail(1)
    last = last.sort_values(["measure_id", "_pstart", "_pend"], kind="mergesort")
    return last.drop(columns=["_pstart", "_pend", "_when", "_order"])
