"""Figures the partnership enters itself: ``data/partnership/figures.csv``.

Targets that police data cannot measure (fire audits, survey results, joint operations...) are
counted in partnership measures defined in the plan file. Their figures live in one CSV that is
append-only: a correction is a new row, and for each measure and period the row with the latest
``entered_at`` wins (:func:`latest`). :func:`load_figures` refuses a file with mistakes, naming
the file, the line and the column of each one. No Streamlit here: pages read the frame.

Writing (the *Partnership figures* page, officer role) goes through :func:`append_entries` only:

* every new row is checked with the loader's own rules (:func:`validate_rows`) plus a few that only
  matter for new rows (no control characters, length limits, one figure per measure and period per
  save); ``entered_by`` comes from the signed-in viewer and ``entered_at`` from the server's UTC
  clock, never from the form or the uploaded file;
* the existing file is validated too, and nothing is written when anything is wrong
  (all-or-nothing; :class:`PartnershipError` lists every problem);
* under an exclusive ``flock`` on the file's folder (no lock file) it reads the file, checks, and
  writes the old bytes unchanged plus the new rows to a temporary file in the same folder, fsyncs it and
  moves it over ``figures.csv`` with ``os.replace``. A crash leaves the old file or the new one, never a
  half-written row, and readers (which do not lock) never see a partial file;
* optimistic concurrency: the caller says which entry it showed for each measure and period
  (:func:`entry_token`); if someone else has saved one since, :class:`SaveConflict` names who saved
  what, and nothing is written.

The previous value shown in the audit trail is derived from the file itself (:func:`with_previous`):
for each row, the value that was current for its measure and period just before it was added. The
file is its own history, so the derived value can never disagree with it; the format stays at the
eight documented columns.

Formula-like text: the file keeps what was typed (it is data), but :func:`formula_warnings` (the
loader's report, shown on the *Partnership figures* page) flags every text field (source,
entered_by, note) whose value begins with ``=``, ``+``, ``-`` or ``@``, which a spreadsheet opening
the file directly would run as a formula. Downloads from the app and the command line neutralise
such cells (:mod:`csp_data.present.exports`); pages show them as plain text.

Bulk upload: :func:`parse_upload` checks an uploaded CSV (size, UTF-8 text, no NUL bytes, the
:data:`UPLOAD_COLUMNS` header, at most :data:`MAX_UPLOAD_ROWS` rows, every row valid) and returns
:class:`Entry` objects for :func:`append_entries`. Messages give the uploaded file's line numbers.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd

from csp_data.config import REPO_ROOT, settings
from csp_data.plan import periods
from csp_data.plan.document import PartnershipMeasure, Plan, load_plan
from csp_data.warehouse.fileio import atomic_write_bytes, folder_lock

COLUMNS = ("measure_id", "period", "value", "unit", "source", "entered_by", "entered_at", "note")
STATUS_VALUES = ("not started", "in progress", "complete", "not met")
FREQUENCY_MONTHS = {"annual": 12, "quarterly": 3, "monthly": 1}  # "once": any length
UNIT_WORDS = {
    "count": "a whole number",
    "percent": "a percentage (0 to 100)",
    "date": "a date",
    "status": "a status",
}

# Bulk upload: what the file must look like. entered_by and entered_at are not columns: the
# dashboard fills them in from the signed-in person and the server clock.
UPLOAD_COLUMNS = ("measure_id", "period", "value", "unit", "source", "note")
MAX_UPLOAD_BYTES = 1_000_000  # 1 MB: thousands of rows; a larger file is not a figures upload
MAX_UPLOAD_ROWS = 500
MAX_TEXT = 1000  # characters in a source or note
LOCK_TIMEOUT_S = 15.0  # how long a save waits for another save to finish
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # tab and newline are allowed (in notes)


class PartnershipError(ValueError):
    """The figures file cannot be read or has rows that break the rules; ``problems`` lists each."""

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or [message]


class SaveConflict(PartnershipError):
    """Someone saved a figure for the same measure and period after the form showed the latest one."""


def default_path() -> Path:
    """``<data dir>/partnership/figures.csv``, or the repository's copy when the data dir has none."""
    path = settings().data_dir / "partnership" / "figures.csv"
    return path if path.exists() else REPO_ROOT / "data" / "partnership" / "figures.csv"


figures_path = default_path  # the name the UI cache uses


def write_path() -> Path:
    """Where new figures are saved: ``<data dir>/partnership/figures.csv``. When that file does not
    exist yet, the first save starts it from the file :func:`default_path` reads (the repository's
    copy), so no earlier figure is lost and the app reads the saved file from then on."""
    return settings().data_dir / "partnership" / "figures.csv"


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
            rows, lines = _read_rows(f, str(path), COLUMNS)
    except UnicodeDecodeError as e:
        raise PartnershipError(f"{path}: not UTF-8 text ({e})") from None
    df = pd.DataFrame(rows, columns=list(COLUMNS), index=pd.Index(lines, name="line"), dtype=object)
    return df if len(df) else empty_frame().drop(columns="value_num")


def _read_rows(
    f, where: str, columns: tuple[str, ...], max_rows: int | None = None
) -> tuple[list[list[str]], list[int]]:
    """The rows of a CSV stream with header ``columns`` (fields stripped) and the line each starts
    on; blank lines skipped. Messages start with ``where`` (the file, or "the uploaded file")."""
    reader = csv.reader(f, strict=True)
    try:
        rows, lines, end = [], [], 0
        header = next(reader, None)
        if header is None:
            raise PartnershipError(
                f"{where}, line 1: the file is empty; its first line must be the header {','.join(columns)}"
            )
        if tuple(h.strip() for h in header) != columns:
            missing = [c for c in columns if c not in [h.strip() for h in header]]
            extra = [h for h in header if h.strip() not in columns]
            detail = "; ".join(
                filter(
                    None,
                    [
                        f"missing column(s) {', '.join(missing)}" if missing else "",
                        f"unexpected column(s) {', '.join(extra)}" if extra else "",
                    ],
                )
            )
            raise PartnershipError(
                f"{where}, line 1: the header must be exactly {','.join(columns)}"
                + (f" ({detail})" if detail else " (in that order)")
            )
        end = reader.line_num
        for row in reader:
            start, end = end + 1, reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank line
            if len(row) != len(columns):
                raise PartnershipError(
                    f"{where}, line {start}: expected {len(columns)} fields "
                    f"({','.join(columns)}), found {len(row)}; "
                    "put quotes around values that contain commas"
                )
            rows.append([c.strip() for c in row])
            lines.append(start)
            if max_rows is not None and len(rows) > max_rows:
                raise PartnershipError(
                    f"{where} has more than {max_rows} rows of figures; upload at most "
                    f"{max_rows} at a time (split the file)"
                )
    except csv.Error as e:
        raise PartnershipError(f"{where}, line {reader.line_num}: malformed CSV: {e}") from None
    return rows, lines


def _line_numbers(df: pd.DataFrame) -> list[int]:
    if df.index.name == "line":
        return [int(i) for i in df.index]
    return list(range(2, len(df) + 2))  # header is line 1


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
        return f"{value} is below the minimum {lo:g}" + (
            f" (allowed {lo:g} to {hi:g})" if hi is not None else ""
        )
    if hi is not None and number > hi:
        return f"{value} is above the maximum {hi:g}" + (
            f" (allowed {lo:g} to {hi:g})" if lo is not None else ""
        )
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


def _row_problems(
    get, measures: Mapping[str, PartnershipMeasure], this_month: date, today: date
) -> list[tuple[str, str]]:
    """(column, message) for each rule one row breaks; ``get(column)`` gives its stripped text."""
    problems: list[tuple[str, str]] = []
    measure = measures.get(get("measure_id"))
    if measure is None:
        problems.append(
            (
                "measure_id",
                f"{get('measure_id')!r} is not a partnership measure in the plan; known: "
                f"{', '.join(measures)}",
            )
        )
    elif get("unit") != measure.unit:
        problems.append(("unit", f"{get('unit')!r} does not match {measure.id}'s unit {measure.unit!r}"))
    elif problem := _check_value(get("value"), measure.unit, measure.min, measure.max):
        problems.append(("value", problem))
    try:
        period = periods.parse(get("period"))
    except periods.PeriodError as e:
        problems.append(("period", str(e)))
    else:
        if period.end > this_month:
            problems.append(
                ("period", f"{get('period')!r} ends in {period.end:%B %Y}, which is in the future")
            )
        want = FREQUENCY_MONTHS.get(measure.frequency) if measure else None
        if measure is not None and want and period.n_months != want:
            article = "an" if measure.frequency[0] in "aeiou" else "a"
            problems.append(
                (
                    "period",
                    f"{measure.id} is {article} {measure.frequency} figure, so its period must be "
                    f"{want} month{'s' if want > 1 else ''}; {get('period')!r} is {period.n_months}",
                )
            )
    if not get("source"):
        problems.append(("source", "must not be empty: say where the figure comes from"))
    if not get("entered_by"):
        problems.append(("entered_by", "must not be empty: say who entered the figure"))
    if problem := _check_entered_at(get("entered_at"), today):
        problems.append(("entered_at", problem))
    return problems


def validate_rows(df: pd.DataFrame, plan: Plan, today: date) -> list[str]:
    """Problems with each row, as ``line N, column 'c': ...`` (line counts the header as 1)."""
    measures = {m.id: m for m in plan.partnership_measures}
    this_month = date(today.year, today.month, 1)
    problems: list[str] = []
    for line, (_, row) in zip(_line_numbers(df), df.iterrows()):

        def get(c, row=row):
            return "" if pd.isna(row.get(c)) else str(row.get(c)).strip()

        problems += [
            f"line {line}, column {column!r}: {message}"
            for column, message in _row_problems(get, measures, this_month, today)
        ]
    return problems


def _with_numbers(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    numeric = df["unit"].isin(["count", "percent"])
    df["value_num"] = pd.to_numeric(df["value"].where(numeric), errors="coerce").astype(float)
    return df


def load_figures(
    path: Path | None = None, plan: Plan | None = None, today: date | None = None
) -> pd.DataFrame:
    """All entered rows (text columns plus ``value_num``), validated. Missing file: an empty frame.

    Raises :class:`PartnershipError` listing every problem, each naming the file, line and column.
    """
    path = Path(path) if path is not None else default_path()
    if not path.exists():
        return empty_frame()
    plan = plan or load_plan()
    if not plan.loaded:  # no plan for the borough: no partnership measures to hold figures for
        return empty_frame()
    df = read_csv(path)
    if df.empty:
        return empty_frame()
    problems = validate_rows(df, plan, today or date.today())
    if problems:
        n = len(problems)
        lines = [f"{path}, {p}" for p in problems]
        raise PartnershipError(
            f"{path}: {n} problem{'s' if n != 1 else ''} in the partnership figures:\n  "
            + "\n  ".join(lines),
            lines,
        )
    return _with_numbers(df)


TEXT_FIELDS = ("source", "entered_by", "note")
FORMULA_CHARS = ("=", "+", "-", "@")


def formula_warnings(df: pd.DataFrame, where: str = "figures.csv") -> list[str]:
    """The loader's report on formula-like text: one line per text field (:data:`TEXT_FIELDS`) whose
    value begins with ``=``, ``+``, ``-`` or ``@`` (after spaces), naming the line and the column, not
    the value. Such a value is kept as typed; it is flagged because a spreadsheet opening the file
    itself would run it as a formula."""
    out: list[str] = []
    if df is None or df.empty:
        return out
    for line, (_, row) in zip(_line_numbers(df), df.iterrows()):
        for column in TEXT_FIELDS:
            value = row.get(column)
            text = "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
            if text.lstrip().startswith(FORMULA_CHARS):
                out.append(
                    f"{where}, line {line}, column {column!r}: begins with {text.lstrip()[0]!r}, which a "
                    "spreadsheet opening this file would run as a formula. It is kept and shown as typed; "
                    "downloads neutralise it. Check whether it was meant."
                )
    return out


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


# --- history: previous values and the audit trail ---------------------------------------------------


def figure_key(measure_id: str, period: str) -> tuple[str, str]:
    """What identifies one figure: the measure and the months its period covers, so ``FY2025-26``
    and ``2025-04..2026-03`` are the same figure. An unreadable period keys on its text."""
    try:
        p = periods.parse(str(period))
    except periods.PeriodError:
        return (str(measure_id).strip(), str(period).strip())
    return (str(measure_id).strip(), f"{p.start:%Y-%m}..{p.end:%Y-%m}")


def entered_time(text: str) -> datetime:
    """``entered_at`` as an aware UTC time (times without an offset are UTC, as the README says)."""
    when = datetime.fromisoformat(str(text))
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


_when = entered_time


def entry_token(line: int, entered_at: str) -> str:
    """Identifies one saved row (the file is append-only, so its line never changes hands)."""
    return f"{int(line)}@{entered_at}"


def _current_entries(df: pd.DataFrame) -> dict[tuple[str, str], dict]:
    """For each figure key, the row in force (latest ``entered_at``; a later line wins a tie), as a
    dict of its columns plus ``line``; the same rule as :func:`latest`."""
    current: dict[tuple[str, str], dict] = {}
    for line, (_, row) in zip(_line_numbers(df), df.iterrows()):
        key = figure_key(row["measure_id"], row["period"])
        when = _when(row["entered_at"])
        held = current.get(key)
        if held is None or when >= held["_when"]:
            current[key] = {**{c: row[c] for c in COLUMNS}, "line": line, "_when": when}
    return current


def current_entry(df: pd.DataFrame, measure_id: str, period: str) -> dict | None:
    """The row in force for a measure and period (its columns plus ``line`` and ``token``), or None."""
    row = _current_entries(df).get(figure_key(measure_id, period))
    return None if row is None else _public(row)


def _public(row: dict) -> dict:
    out = {k: v for k, v in row.items() if not k.startswith("_")}
    out["token"] = entry_token(row["line"], row["entered_at"])
    return out


def expectations(df: pd.DataFrame, entries: Iterable[Entry]) -> dict[tuple[str, str], str | None]:
    """What a form or upload preview showed: for each entry's measure and period, the token of the
    row in force (None: none yet). Pass it back as ``append_entries(expected_latest=...)``."""
    current = _current_entries(df)
    out = {}
    for e in entries:
        key = figure_key(e.measure_id, e.period)
        row = current.get(key)
        out[key] = None if row is None else entry_token(row["line"], row["entered_at"])
    return out


def with_previous(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` plus ``previous_value``: for each row, in file order, the value that was in force for
    its measure and period just before it was added ("" for the first). Derived from the file, which
    is its own history: a correction's previous value is the figure it replaced."""
    out = df.copy()
    current: dict[tuple[str, str], tuple[datetime, str]] = {}
    previous = []
    for _, row in df.iterrows():
        key = figure_key(row["measure_id"], row["period"])
        held = current.get(key)
        previous.append("" if held is None else held[1])
        when = _when(row["entered_at"])
        if held is None or when >= held[0]:
            current[key] = (when, str(row["value"]))
    out["previous_value"] = pd.Series(previous, index=df.index, dtype=object)
    return out


def audit_trail(df: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """Every row ever entered, newest first, as officers read it: when, who, measure, period, value,
    previous value, unit, source, note and the file line. Text cells; the CSV download uses it too."""
    cols = [
        "Entered at (UTC)",
        "Entered by",
        "Measure",
        "Measure id",
        "Period",
        "Value",
        "Previous value",
        "Unit",
        "Source",
        "Note",
        "Line",
    ]
    if df.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    labels = {m.id: m.label for m in plan.partnership_measures}
    work = with_previous(df)
    rows = []
    for line, (_, row) in zip(_line_numbers(df), work.iterrows()):
        rows.append(
            {
                "Entered at (UTC)": f"{_when(row['entered_at']):%Y-%m-%d %H:%M:%S}",
                "Entered by": row["entered_by"],
                "Measure": labels.get(row["measure_id"], row["measure_id"]),
                "Measure id": row["measure_id"],
                "Period": row["period"],
                "Value": row["value"],
                "Previous value": row["previous_value"] or "none (first figure)",
                "Unit": row["unit"],
                "Source": row["source"],
                "Note": row["note"],
                "Line": int(line),
            }
        )
    out = pd.DataFrame(rows, columns=cols)
    return out.iloc[::-1].reset_index(drop=True)


def latest_by_measure(df: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """One row per partnership measure in plan order: its most recent period's figure in force
    (value, period, source, who and when), or "awaiting data" when nothing is recorded."""
    current = _current_entries(df) if len(df) else {}
    rows = []
    for m in plan.partnership_measures:
        mine = [r for (mid, _), r in current.items() if mid == m.id]
        if mine:
            r = max(mine, key=lambda r: (periods.parse(r["period"]).end, periods.parse(r["period"]).start))
            rows.append(
                {
                    "Measure": m.label,
                    "Unit": m.unit,
                    "Frequency": m.frequency,
                    "Period": r["period"],
                    "Latest figure": r["value"],
                    "Source": r["source"],
                    "Entered by": r["entered_by"],
                    "Entered at (UTC)": f"{r['_when']:%Y-%m-%d %H:%M}",
                }
            )
        else:
            rows.append(
                {
                    "Measure": m.label,
                    "Unit": m.unit,
                    "Frequency": m.frequency,
                    "Period": "–",
                    "Latest figure": "awaiting data",
                    "Source": "–",
                    "Entered by": "–",
                    "Entered at (UTC)": "–",
                }
            )
    return pd.DataFrame(rows)


# --- periods a form offers ------------------------------------------------------------------------


def period_text(p: periods.Period) -> str:
    """How a period is written in the file: ``FY2025-26``, ``2025``, ``2025-09`` or ``2025-04..2025-06``."""
    if p.n_months == 12 and p.start.month == 4:
        return f"FY{p.start.year}-{str(p.start.year + 1)[-2:]}"
    if p.n_months == 12 and p.start.month == 1:
        return str(p.start.year)
    if p.n_months == 1:
        return f"{p.start:%Y-%m}"
    return f"{p.start:%Y-%m}..{p.end:%Y-%m}"


def period_words(p: periods.Period) -> str:
    """A period as an officer reads it, e.g. "FY2025-26 (April 2025 to March 2026)"."""
    span = f"{p.start:%B %Y}" if p.n_months == 1 else f"{p.start:%B %Y} to {p.end:%B %Y}"
    if p.n_months == 12 and p.start.month in (1, 4):
        kind = "calendar year" if p.start.month == 1 else "financial year"
        return f"{period_text(p)} ({kind}, {span})"
    if p.n_months == 3 and p.start.month in (1, 4, 7, 10):
        fy = periods.fy_of(p.start)
        q = (p.start.month - 4) % 12 // 3 + 1
        return f"{span} (quarter {q} of {fy.label})"
    return span


def period_choices(frequency: str, today: date) -> list[periods.Period]:
    """Recent periods a figure of this frequency can be entered for, newest first, none ending after
    the current month: annual, the last 6 financial years then the last 5 calendar years; quarterly,
    the last 12 quarters (April to June, July to September...); monthly, the last 24 months;
    once, the last 24 months then the last 6 financial years."""
    this_month = date(today.year, today.month, 1)

    def months(n: int) -> list[periods.Period]:
        return [periods.make(m, m) for m in (periods.add_months(this_month, -i) for i in range(n))]

    def fys(n: int) -> list[periods.Period]:
        fy = periods.fy_of(this_month)
        if fy.end > this_month:
            fy = fy.shift(-12)
        return [fy.shift(-12 * i) for i in range(n)]

    if frequency == "annual":
        year = today.year if this_month.month == 12 else today.year - 1
        return fys(6) + [periods.make(date(y, 1, 1), date(y, 12, 1)) for y in range(year, year - 5, -1)]
    if frequency == "quarterly":
        end = this_month
        while end.month not in (3, 6, 9, 12):
            end = periods.add_months(end, -1)
        return [
            periods.make(periods.add_months(end, -3 * i - 2), periods.add_months(end, -3 * i))
            for i in range(12)
        ]
    if frequency == "monthly":
        return months(24)
    return months(24) + fys(6)


def value_text(value, unit: str) -> str:
    """A form's value as the file writes it: a whole number for a count (7.0 -> "7"), up to ten
    significant digits for a percentage, ``YYYY-MM-DD`` for a date, the status as chosen; "" for
    nothing. Anything else is passed through as text, for :func:`check_entries` to judge."""
    if value is None:
        return ""
    if isinstance(value, (date, datetime)):
        return value.isoformat()[:10]
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)) and unit in ("count", "percent"):
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value) if isinstance(value, int) else format(value, ".10g")
    return str(value).strip()


# --- new entries ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One figure to save, as the form or an uploaded row gives it. There is no ``entered_by`` or
    ``entered_at``: :func:`append_entries` sets them from the viewer and the server clock.

    ``unit`` None means "the measure's unit" (the form); an upload states it and it must match.
    ``line`` is the line in the uploaded file (None for the form), used in messages."""

    measure_id: str
    period: str
    value: str
    source: str
    note: str = ""
    unit: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class Recorded:
    """A row :func:`append_entries` wrote: its columns, its line in the file, and the value it
    replaced for that measure and period ("" when it is the first)."""

    measure_id: str
    period: str
    value: str
    unit: str
    source: str
    entered_by: str
    entered_at: str
    note: str
    line: int
    previous_value: str

    def as_row(self) -> list[str]:
        return [getattr(self, c) for c in COLUMNS]


def _clean(text) -> str:
    return "" if text is None else str(text).replace("\r\n", "\n").replace("\r", "\n").strip()


def _where(e: Entry, n: int) -> str:
    if e.line is not None:
        return f"line {e.line}"
    return "" if n == 1 else f"{e.measure_id or 'no measure'} {e.period or 'no period'}"


def _say(where: str, column: str, message: str, upload: bool) -> str:
    if upload:
        return f"{where}, column {column!r}: {message}"
    words = {
        "measure_id": "Measure",
        "period": "Period",
        "value": "Value",
        "unit": "Unit",
        "source": "Source",
        "note": "Note",
        "entered_by": "Entered by",
        "entered_at": "Entered at",
    }[column]
    return f"{where}: {words}: {message}" if where else f"{words}: {message}"


def check_entries(
    entries: list[Entry], plan: Plan, *, who: str, entered_at: str, today: date
) -> tuple[list[list[str]], list[str]]:
    """The rows the entries would add (``COLUMNS`` order) and every problem with them: the loader's
    rules (:func:`validate_rows`), text limits, and one figure per measure and period."""
    measures = {m.id: m for m in plan.partnership_measures}
    this_month = date(today.year, today.month, 1)
    rows: list[list[str]] = []
    problems: list[str] = []
    seen: dict[tuple[str, str], str] = {}
    for e in entries:
        upload = e.line is not None
        where = _where(e, len(entries))
        measure = measures.get(_clean(e.measure_id))
        unit = _clean(e.unit) if e.unit is not None else (measure.unit if measure else "")
        values = {
            "measure_id": _clean(e.measure_id),
            "period": _clean(e.period),
            "value": _clean(e.value),
            "unit": unit,
            "source": _clean(e.source),
            "entered_by": _clean(who),
            "entered_at": entered_at,
            "note": _clean(e.note),
        }
        mine: list[tuple[str, str]] = []
        for column in ("measure_id", "period", "value", "unit", "source", "note"):
            if _CONTROL.search(values[column]):
                mine.append(
                    (column, "contains a control character (such as a NUL byte); type it as plain text")
                )
            elif "\n" in values[column] and column != "note":
                mine.append((column, "must be on one line"))
        for column in ("source", "note"):
            if len(values[column]) > MAX_TEXT:
                mine.append(
                    (column, f"is {len(values[column]):,} characters long; keep it under {MAX_TEXT:,}")
                )
        if not values["value"]:
            mine.append(("value", "is missing: enter the figure"))
        mine += [
            (c, m)
            for c, m in _row_problems(values.get, measures, this_month, today)
            if not (c == "value" and not values["value"])
        ]
        problems += [_say(where, c, m, upload) for c, m in mine]
        key = figure_key(values["measure_id"], values["period"])
        if key in seen and values["measure_id"] and values["period"]:
            problems.append(
                f"{where}: the same measure and period as {seen[key]} ({values['measure_id']} "
                f"{values['period']}); give one figure per measure and period"
            )
        seen.setdefault(key, where or "another entry")
        rows.append([values[c] for c in COLUMNS])
    return rows, problems


def _now_utc(now: datetime | None) -> datetime:
    now = now or datetime.now(UTC)
    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    return now.replace(microsecond=0)


def _value_words(row: dict) -> str:
    return (
        f"{row['value']} ({row['unit']})" if row.get("unit") in ("count", "percent") else f"{row['value']!r}"
    )


def _conflicts(
    rows: list[list[str]],
    entries: list[Entry],
    current: dict,
    now: datetime,
    expected: Mapping[tuple[str, str], str | None] | None,
) -> tuple[list[str], list[str]]:
    """(conflicts, problems): saves since the form was shown, and figures time-stamped after now."""
    conflicts, problems = [], []
    for values, e in zip(rows, entries):
        row = dict(zip(COLUMNS, values))
        key = figure_key(row["measure_id"], row["period"])
        held = current.get(key)
        name = f"{row['measure_id']} {row['period']}"
        where = _where(e, len(entries))
        if expected is not None and key in expected:
            shown = expected[key]
            now_token = None if held is None else entry_token(held["line"], held["entered_at"])
            if now_token != shown:
                prefix = f"{where}: " if where else ""
                if held is None:
                    conflicts.append(
                        f"{prefix}{name}: the figure the form showed is no longer in the file; "
                        "reload the page and check before saving."
                    )
                else:
                    note = f", note: {held['note']}" if held["note"] else ""
                    conflicts.append(
                        f"{prefix}{name}: {held['entered_by']} saved {_value_words(held)} at "
                        f"{held['_when']:%Y-%m-%d %H:%M:%S} UTC (source: {held['source']}{note}) after this "
                        "page showed you the figures, so your figure was not saved. Check their figure; "
                        "if yours should replace it, save it again."
                    )
        if held is not None and held["_when"] > now:
            problems.append(
                f"{where + ': ' if where else ''}{name}: the figure already recorded is time-stamped "
                f"{held['entered_at']}, later than now ({now:%Y-%m-%d %H:%M:%S} UTC), so a new "
                "figure would not replace it; ask the dashboard administrator to check the file."
            )
    return conflicts, problems


def _locked(path: Path, timeout: float = LOCK_TIMEOUT_S):
    """An exclusive ``flock`` on the folder holding ``path`` (the folder is never replaced, so every
    writer locks the same inode, and no lock file is left behind:
    :func:`csp_data.warehouse.fileio.folder_lock`). Waits up to ``timeout`` seconds for another save."""
    return folder_lock(
        path.parent,
        timeout=timeout,
        busy=lambda: PartnershipError(
            "Another save of partnership figures is taking too long; nothing was saved. Try again in a minute."
        ),
    )


_replace_atomically = (
    atomic_write_bytes  # the one atomic write (csp_data/warehouse/fileio.py); tests patch this name
)


def _csv_lines(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def append_entries(
    entries: Iterable[Entry],
    *,
    viewer_who: str,
    path: Path | None = None,
    plan: Plan | None = None,
    now: datetime | None = None,
    today: date | None = None,
    expected_latest: Mapping[tuple[str, str], str | None] | None = None,
) -> list[Recorded]:
    """Check the new figures and append them to the figures file, all or nothing.

    ``entries``: :class:`Entry` objects (the form's one figure, or :func:`parse_upload`'s rows).
    ``viewer_who``: who is saving (``Viewer.who``: the signed-in address); written as ``entered_by``.
    ``path``: the file (default :func:`write_path`). ``now``: the server time written as
    ``entered_at`` (default: the UTC clock; for tests). ``today``: the date the "not in the future"
    rules are judged against (default ``now``'s date when ``now`` is given, else the local date, as
    the loader uses). ``expected_latest``: from :func:`expectations`, what the form showed for each
    measure and period (a token, or None for "nothing yet"); a key that is absent is not checked.

    Under the file's lock: validates the existing file and every new row, refuses figures someone
    saved meanwhile, then writes the old bytes unchanged plus the new rows atomically. Returns what
    was recorded. Raises :class:`SaveConflict` (someone else saved first) or
    :class:`PartnershipError` (each problem listed, per row) and then writes nothing.
    """
    entries = list(entries)
    if not entries:
        raise PartnershipError("There is nothing to save.")
    if not _clean(viewer_who):
        raise PartnershipError("Nobody is signed in, so the figure cannot be attributed; nothing was saved.")
    plan = plan or load_plan()
    when = _now_utc(now)
    today = today or (when.date() if now is not None else date.today())
    entered_at = when.isoformat(timespec="seconds")
    target = Path(path) if path is not None else write_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    with _locked(target):
        source = target
        if path is None and not target.exists():
            source = default_path()  # the first save starts from the repository's copy
        existing_bytes = source.read_bytes() if source.exists() else b""
        if not existing_bytes:
            existing_bytes = (",".join(COLUMNS) + "\n").encode("utf-8")
        try:
            existing = load_figures(source, plan=plan, today=today) if source.exists() else empty_frame()
        except PartnershipError as e:
            raise PartnershipError(
                "The figures file already has problems, so nothing was saved until they are "
                "fixed (ask the dashboard administrator):\n  " + "\n  ".join(e.problems),
                [
                    "The figures file already has problems, so nothing was saved until they "
                    "are fixed (ask the dashboard administrator):",
                    *e.problems,
                ],
            ) from None
        rows, problems = check_entries(entries, plan, who=viewer_who, entered_at=entered_at, today=today)
        current = _current_entries(existing) if len(existing) else {}
        conflicts, clock = _conflicts(rows, entries, current, when, expected_latest)
        if conflicts:
            raise SaveConflict(
                "Someone else saved a figure first; nothing was saved:\n  " + "\n  ".join(conflicts),
                conflicts,
            )
        problems += clock
        if problems:
            n = len(problems)
            raise PartnershipError(
                f"{n} problem{'s' if n != 1 else ''}; nothing was saved:\n  " + "\n  ".join(problems),
                problems,
            )
        if not existing_bytes.endswith(b"\n"):
            existing_bytes += b"\n"
        first_line = existing_bytes.count(b"\n") + 1
        block = _csv_lines(rows)
        _replace_atomically(target, existing_bytes + block)
    recorded, line = [], first_line
    in_force = {k: v["value"] for k, v in current.items()}
    for values in rows:
        row = dict(zip(COLUMNS, values))
        key = figure_key(row["measure_id"], row["period"])
        recorded.append(Recorded(**row, line=line, previous_value=in_force.get(key, "")))
        in_force[key] = row["value"]
        line += _csv_lines([values]).count(b"\n")
    return recorded


# --- bulk upload ----------------------------------------------------------------------------------


def upload_template(plan: Plan, today: date) -> pd.DataFrame:
    """The upload template: the header, and one row per partnership measure with its most recent
    period and unit filled in and the value, source and note left for the officer."""
    rows = [
        {
            "measure_id": m.id,
            "period": period_text(period_choices(m.frequency, today)[0]),
            "value": "",
            "unit": m.unit,
            "source": "",
            "note": "",
        }
        for m in plan.partnership_measures
    ]
    return pd.DataFrame(rows, columns=list(UPLOAD_COLUMNS))


def parse_upload(
    data: bytes,
    *,
    plan: Plan | None = None,
    today: date | None = None,
    max_bytes: int = MAX_UPLOAD_BYTES,
    max_rows: int = MAX_UPLOAD_ROWS,
) -> list[Entry]:
    """The figures in an uploaded CSV, every row checked; raises :class:`PartnershipError` listing
    each problem (with the uploaded file's line numbers, the header being line 1) if anything is
    wrong, so a bad row rejects the whole file.

    Checked here, on the server, whatever the browser allowed: at most ``max_bytes`` bytes, no NUL
    bytes (not a binary file), UTF-8 text (a byte-order mark is fine), exactly the header
    :data:`UPLOAD_COLUMNS`, at most ``max_rows`` rows, and every row by :func:`check_entries`. Takes
    bytes only: the uploaded file's name is never used for anything.
    """
    if not isinstance(data, (bytes, bytearray)):
        raise PartnershipError("The upload could not be read.")
    where = "The uploaded file"
    if len(data) > max_bytes:
        raise PartnershipError(
            f"{where} is {len(data) / 1_000_000:.1f} MB; the limit is "
            f"{max_bytes / 1_000_000:g} MB ({max_rows} rows). Split it into smaller files."
        )
    if not data.strip():
        raise PartnershipError(f"{where} is empty. Download the template, fill it in and upload it.")
    if b"\x00" in data:
        raise PartnershipError(
            f"{where} is not a CSV text file (it contains binary data). Save it from your "
            "spreadsheet as 'CSV UTF-8 (comma delimited)' and upload that."
        )
    try:
        text = bytes(data).decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = bytes(data)[: e.start].count(b"\n") + 1
        raise PartnershipError(
            f"{where}, line {line}: not UTF-8 text. Save it from your spreadsheet as "
            "'CSV UTF-8 (comma delimited)' and upload that."
        ) from None
    try:
        first = next(csv.reader(io.StringIO(text, newline="")), [])
    except csv.Error as e:
        raise PartnershipError(f"{where}, line 1: malformed CSV: {e}") from None
    header = tuple(h.strip() for h in first)
    if header == COLUMNS:
        raise PartnershipError(
            f"{where}, line 1: this looks like the figures file itself. Uploads have the "
            f"columns {','.join(UPLOAD_COLUMNS)}: leave out entered_by and entered_at, "
            "which the dashboard fills in from your sign-in and the time of saving."
        )
    rows, lines = _read_rows(io.StringIO(text, newline=""), where, UPLOAD_COLUMNS, max_rows=max_rows)
    if not rows:
        raise PartnershipError(f"{where} has the header but no figures.")
    entries = [Entry(**dict(zip(UPLOAD_COLUMNS, r)), line=n) for r, n in zip(rows, lines)]
    plan = plan or load_plan()
    today = today or date.today()
    _, problems = check_entries(
        entries,
        plan,
        who="upload preview",
        entered_at=datetime.combine(today, datetime.min.time()).isoformat(),
        today=today,
    )
    if problems:
        n = len(problems)
        raise PartnershipError(
            f"{where} has {n} problem{'s' if n != 1 else ''}, so none of its rows were saved:\n  "
            + "\n  ".join(problems),
            problems,
        )
    return entries


def upload_digest(data: bytes) -> str:
    """A short fingerprint of an upload, to tie a preview to the file it showed."""
    return hashlib.sha256(bytes(data)).hexdigest()[:16]
