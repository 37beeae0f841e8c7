"""Known series breaks: recording changes that make counts before and after a date not like for like.

The one home of this knowledge is ``data/plan/series_breaks.csv`` (one row per break, with the
evidence and the document that records it). Charts mark the breaks, captions and caveats quote
them, and any comparison whose two periods straddle a ``level`` break carries a London comparison
(:mod:`csp_data.analysis.london`), because London went through the same change over the same months.

Kinds:

* ``level`` — the whole series may step (a new recording system): comparisons across it need the
  London comparison.
* ``category`` — categories were renamed or split while the total stayed continuous: the total's
  comparison is unaffected, breakdowns by type across the date are not like for like.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from csp_data.plan.periods import Period

BREAKS_FILE = Path(__file__).resolve().parents[2] / "data" / "plan" / "series_breaks.csv"
COLUMNS = (
    "id",
    "first_month",
    "settled_month",
    "kind",
    "measures",
    "categories",
    "label",
    "description",
    "evidence",
    "documented_by",
)
KINDS = ("level", "category")


class BreaksError(ValueError):
    """The breaks file is malformed (the message names the line)."""


@dataclass(frozen=True)
class SeriesBreak:
    id: str
    first_month: date  # first month recorded (at least partly) the new way
    settled_month: date  # first month wholly recorded the new way
    kind: str  # "level" | "category"
    measures: tuple[str, ...]  # measure ids, or ("*",) for every police-recorded measure
    categories: str
    label: str
    description: str
    evidence: str
    documented_by: str

    def applies_to(self, measure_id: str) -> bool:
        return "*" in self.measures or measure_id in self.measures

    def straddled_by(self, earlier: Period, later: Period) -> bool:
        """True when the months compared lie on both sides of the change: some of the span from the
        start of ``earlier`` to the end of ``later`` is before the first changed month, and some of
        it at or after the month the change settled."""
        start, end = min(earlier.start, later.start), max(earlier.end, later.end)
        return start < self.first_month and end >= self.first_month

    @property
    def when(self) -> str:
        a, b = self.first_month.strftime("%b %Y"), self.settled_month.strftime("%b %Y")
        return a if a == b else f"{a} to {b}"

    @property
    def caveat(self) -> str:
        """One sentence for captions and CSV notes."""
        if self.kind == "level":
            return (
                f"{self.label} ({self.when}): counts before and after are not like for like, so a comparison "
                "across it is shown against London's change over the same months."
            )
        return (
            f"{self.label} ({self.when}): {self.categories}; the total is continuous, but a breakdown by type "
            "across this date compares different categories."
        )


def _month(text: str, line: int, col: str) -> date:
    try:
        y, m = text.strip().split("-")
        return date(int(y), int(m), 1)
    except (ValueError, TypeError):
        raise BreaksError(f"line {line}: {col} must be YYYY-MM, got {text!r}") from None


def parse(text: str) -> tuple[SeriesBreak, ...]:
    """Breaks from the CSV text; errors name the line."""
    from csp_data.plan.measures import BY_ID

    rows = list(csv.DictReader(text.splitlines()))
    header = tuple(next(csv.reader(text.splitlines()), ()))
    if header != COLUMNS:
        raise BreaksError(f"line 1: columns must be {', '.join(COLUMNS)}; got {', '.join(header)}")
    out, seen = [], set()
    for i, r in enumerate(rows, start=2):
        if any(r.get(c) in (None, "") for c in COLUMNS):
            empty = [c for c in COLUMNS if r.get(c) in (None, "")]
            raise BreaksError(f"line {i}: empty {', '.join(empty)}")
        if r["id"] in seen:
            raise BreaksError(f"line {i}: duplicate id {r['id']!r}")
        seen.add(r["id"])
        if r["kind"] not in KINDS:
            raise BreaksError(f"line {i}: kind must be one of {', '.join(KINDS)}, got {r['kind']!r}")
        measures = tuple(x.strip() for x in r["measures"].split(";") if x.strip())
        unknown = [x for x in measures if x != "*" and x not in BY_ID]
        if unknown:
            raise BreaksError(f"line {i}: unknown measure(s) {', '.join(unknown)}")
        first, settled = (
            _month(r["first_month"], i, "first_month"),
            _month(r["settled_month"], i, "settled_month"),
        )
        if settled < first:
            raise BreaksError(f"line {i}: settled_month is before first_month")
        out.append(
            SeriesBreak(
                r["id"],
                first,
                settled,
                r["kind"],
                measures,
                r["categories"],
                r["label"],
                r["description"],
                r["evidence"],
                r["documented_by"],
            )
        )
    return tuple(out)


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> tuple[SeriesBreak, ...]:
    return parse(Path(path).read_text(encoding="utf-8"))


def load(path: Path | None = None) -> tuple[SeriesBreak, ...]:
    p = Path(path or BREAKS_FILE)
    return _load(str(p), p.stat().st_mtime)


def get(break_id: str) -> SeriesBreak:
    for b in load():
        if b.id == break_id:
            return b
    raise KeyError(break_id)


def for_measure(measure_id: str, kind: str | None = None) -> list[SeriesBreak]:
    return [b for b in load() if b.applies_to(measure_id) and (kind is None or b.kind == kind)]


def chart_marks(
    measure_id: str, kind: str | None = None, since: date | None = None
) -> list[tuple[date, str]]:
    """(month, label) pairs for :func:`csp_data.present.charts.trend_chart`: the month each break starts.
    ``kind`` keeps only breaks of that kind (``"level"`` for yearly totals, where a category break does
    not show); ``since`` keeps only breaks starting in or after that month (the first month charted)."""
    return [
        (b.first_month, b.label + ("" if b.kind == "level" else " (total continuous)"))
        for b in for_measure(measure_id, kind)
        if since is None or b.first_month >= since
    ]


def notes(measure_id: str) -> list[str]:
    """One sentence per break affecting a measure, for the caption under its charts."""
    return [f"Series break, {b.when}: {b.label}. {b.description}" for b in for_measure(measure_id)]


def straddling(measure_id: str, earlier: Period, later: Period, kind: str = "level") -> list[SeriesBreak]:
    """The breaks of ``kind`` affecting a measure that a comparison of ``later`` with ``earlier`` crosses."""
    return [b for b in for_measure(measure_id, kind) if b.straddled_by(earlier, later)]


def caveats(measure_id: str) -> list[str]:
    return [b.caveat for b in for_measure(measure_id)]
