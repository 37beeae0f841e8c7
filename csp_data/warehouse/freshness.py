"""How current each source is: the newest month held against the month that should by now be published.

Each source's cadence and usual lag are data (``data/sources/publishers.toml``): month M is expected
once the last day of M plus ``lag_days`` has passed. A source is *behind* when the warehouse's newest
month is older than that expected month; the words say so ("data to Feb 2026 — about 8 months
behind"). The last check and last update come from the state file ``update`` writes
(``<data>/update_state.json``). Pure logic: the caller passes the newest month per dataset (from the
``meta/data_span`` queries), so this module reads no warehouse table itself.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from csp_data.warehouse import catalogue

# Short names for one line on every page (the long labels are in publishers.toml)
SHORT = {
    "crime_borough": "Borough crime",
    "crime_ward": "Ward crime",
    "crime_lsoa": "LSOA crime",
    "dashboard": "Crime dashboard (hate crime, domestic abuse, knife crime)",
    "business_crime": "Business crime",
    "street_crime": "police.uk street crime and ASB",
    "street_outcomes": "police.uk outcomes",
    "stop_search": "Stop and search",
}


def _first(d: date) -> date:
    return date(d.year, d.month, 1)


def add_months(d: date, n: int) -> date:
    y, m = divmod(d.year * 12 + d.month - 1 + n, 12)
    return date(y, m + 1, 1)


def month_end(d: date) -> date:
    return date(d.year, d.month, calendar.monthrange(d.year, d.month)[1])


def months_between(a: date, b: date) -> int:
    """Whole months from a to b (b later is positive)."""
    return (b.year - a.year) * 12 + b.month - a.month


def due_date(month: date, lag_days: int) -> date:
    """When ``month`` is usually published."""
    return month_end(month) + timedelta(days=lag_days)


def expected_month(
    today: date, lag_days: int, cadence_months: int = 1, first_month: date | None = None
) -> date:
    """The newest month that should be published by ``today`` (first day of that month).

    With a cadence of N months, publications come every N months counted from ``first_month``;
    monthly sources (N = 1) expect every month."""
    m = add_months(_first(today), -1)
    while due_date(m, lag_days) > today:
        m = add_months(m, -1)
    if cadence_months > 1 and first_month is not None:
        m = add_months(m, -(months_between(_first(first_month), m) % cadence_months))
    return m


def label_month(d: date | None) -> str:
    return f"{d:%b %Y}" if d else "no data"


@dataclass(frozen=True)
class Freshness:
    source: str
    label: str
    dataset: str
    newest: date | None  # newest month held (first day), None if nothing is held
    expected: date  # the month that should be published by now
    next_month: date  # the next month to expect after the newest held one
    next_due: date  # when that month is usually published
    last_check: str | None = None
    last_update: str | None = None
    last_result: str | None = None

    @property
    def months_behind(self) -> int:
        if self.newest is None:
            return 0
        return max(0, months_between(self.newest, self.expected))

    @property
    def behind(self) -> bool:
        return self.months_behind > 0

    @property
    def short(self) -> str:
        return SHORT.get(self.dataset, self.label)

    @property
    def words(self) -> str:
        """ "data to Feb 2026 — about 8 months behind" (or "— up to date")."""
        if self.newest is None:
            return "awaiting data"
        n = self.months_behind
        if n == 0:
            return f"data to {label_month(self.newest)} — up to date"
        return f"data to {label_month(self.newest)} — about {n} month{'s' if n != 1 else ''} behind"


def _month(value) -> date | None:
    if value is None:
        return None
    try:
        if hasattr(value, "year") and hasattr(value, "month"):
            return date(value.year, value.month, 1)
        s = str(value)
        return date(int(s[:4]), int(s[5:7]), 1)
    except (ValueError, TypeError):
        return None


def status(
    newest_by_dataset: dict,
    today: date | None = None,
    state: dict | None = None,
    sources: list[catalogue.Source] | None = None,
) -> list[Freshness]:
    """One Freshness per source whose dataset the caller knows (``newest_by_dataset``: dataset ->
    newest month as a date, datetime or ``YYYY-MM``). Sources of datasets the caller cannot see
    (a public viewer) are left out."""
    today = today or date.today()
    sources = sources if sources is not None else catalogue.load_sources()
    state = state or {"sources": {}}
    out = []
    for src in sources:
        if src.dataset not in newest_by_dataset:
            continue
        newest = _month(newest_by_dataset[src.dataset])
        first = _month(src.first_month)
        expected = expected_month(today, src.lag_days, src.cadence_months, first)
        nxt = add_months(newest, src.cadence_months) if newest else expected
        st = state.get("sources", {}).get(src.name, {})
        out.append(
            Freshness(
                source=src.name,
                label=src.label,
                dataset=src.dataset,
                newest=newest,
                expected=expected,
                next_month=nxt,
                next_due=due_date(nxt, src.lag_days),
                last_check=st.get("last_check"),
                last_update=st.get("last_update"),
                last_result=st.get("last_result"),
            )
        )
    return out


def behind_line(items: list[Freshness]) -> str | None:
    """One short line for the top of every page, or None when no source is behind.

    The headline source (borough crime, which every plan measure uses) is named with its words;
    other sources that are behind are counted."""
    late = [f for f in items if f.behind]
    if not late:
        return None
    order = [
        "crime_borough",
        "crime_ward",
        "dashboard",
        "business_crime",
        "street_crime",
        "stop_search",
        "crime_lsoa",
        "street_outcomes",
    ]
    late.sort(key=lambda f: (order.index(f.dataset) if f.dataset in order else len(order), f.source))
    first = late[0]
    line = f"{first.short}: {first.words}"
    if len(late) > 1:
        line += f"; {len(late) - 1} other source{'s' if len(late) > 2 else ''} behind too (see Data coverage)"
    return line


def age_words(month: date, today: date | None = None) -> str:
    """How old a month's figures are, for the TTCG header: "Feb 2026 — 10 months ago"."""
    today = today or date.today()
    n = months_between(_first(month), _first(today))
    if n <= 0:
        return f"{label_month(month)} — this month"
    return f"{label_month(month)} — {n} month{'s' if n != 1 else ''} ago"


def when(stamp: str | None) -> str:
    """An ISO time from the state file as "7 Dec 2026 02:15 UTC" (or "never")."""
    if not stamp:
        return "never"
    try:
        t = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return stamp
    return f"{t.day} {t:%b %Y %H:%M} UTC"


def table(items: list[Freshness]):
    """The Data status table: one row per source."""
    import pandas as pd

    rows = [
        {
            "Source": f.label,
            "Data to": label_month(f.newest),
            "Should be published by now": label_month(f.expected),
            "Freshness": f.words,
            "Last check": when(f.last_check),
            "Last update": when(f.last_update),
            "Next expected month": f"{label_month(f.next_month)} (usually by {f.next_due.day} {f.next_due:%b %Y})",
            "Last result": f.last_result or "—",
        }
        for f in items
    ]
    return pd.DataFrame(
        rows,
        columns=[
            "Source",
            "Data to",
            "Should be published by now",
            "Freshness",
            "Last check",
            "Last update",
            "Next expected month",
            "Last result",
        ],
    )
