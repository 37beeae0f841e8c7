"""Display tables and text for the public pages (about the data, getting help, scorecard, your ward),
the admin pages and the targets page: the frame arithmetic, filtering and formatting those pages
used to do themselves. No Streamlit; :mod:`csp_data.ui.site` hands these to the pages."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from csp_data.analysis import scorecard, targets
from csp_data.present.exports import csv_bytes
from csp_data.present.formatting import md_escape, md_link

# ------------------------------------------------------------------------------------- about the data


def sources_table(src: pd.DataFrame) -> pd.DataFrame:
    """The ``meta/sources`` rows as two columns, so the table fits a 320 px phone screen."""
    # A zero-width space after each "_" and "/" lets long file names wrap inside their cell; without
    # it a name such as LSOA_(2021)_to_Electoral_Ward_..._v2.csv overflows the cell, which then
    # scrolls sideways and cannot be reached with the keyboard (axe: scrollable-region-focusable).
    # Screen readers do not announce the character.
    origin = src["origin"].str.replace(r"([_/])", "\\1\u200b", regex=True)
    return pd.DataFrame(
        {
            "Dataset and snapshot": src["snapshot"],
            "Publisher, licence and where it was copied from": (
                src["publisher"] + " · " + src["licence"] + " · copied from " + origin
            ),
        }
    )


# ------------------------------------------------------------------------------------- getting help


def help_lines(lines: Iterable[str]) -> str:
    """A contact's lines as a Markdown list, each line shown literally."""
    return "\n".join(f"- {md_escape(line)}" for line in lines)


# ------------------------------------------------------------------------------------- scorecard


def by_priority(rows: Sequence[Any], priorities: dict[int, str]) -> list[tuple[int, str, list[Any]]]:
    """(number, name, rows) for each priority with at least one scorecard row, in the plan's order."""
    out = []
    for number, name in priorities.items():
        mine = [r for r in rows if r.measure.priority == number]
        if mine:
            out.append((number, name, mine))
    return out


def scorecard_table(rows: list[scorecard.ScoreRow]) -> pd.DataFrame:
    """The scorecard as a table; each priority links to its plain-English account on the summary page."""
    table = scorecard.as_table(rows)
    table["Priority"] = [md_link(f"Priority {n}", f"summary#priority-{n}") for n in table["Priority"]]
    return table


def scorecard_csv(rows: list[scorecard.ScoreRow]) -> bytes:
    return csv_bytes(scorecard.as_records(rows))


# ------------------------------------------------------------------------------------- your ward


def ward_verdicts(table: pd.DataFrame) -> pd.DataFrame:
    """A ward profile's table with a ``verdict`` column: change, percentage change and the test's words."""
    return table.assign(
        verdict=[
            f"{r.change:+,d}" + (f" ({r.pct_change:+.0f}%)" if r.previous else "") + f": {r.symbol} {r.words}"
            for r in table.itertuples()
        ]
    )


def ward_totals(table: pd.DataFrame) -> tuple[int, int]:
    """(crimes in the last 12 months, crimes in the 12 before) over a ward profile's table."""
    return int(table["count"].sum()), int(table["previous"].sum())


def ward_monthly(table: pd.DataFrame, monthly: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """(category, its months) for each category of a ward profile's table, in the table's order."""
    return [(cat, monthly[monthly.category == cat]) for cat in table["category"]]


# ------------------------------------------------------------------------------------- data status


def newest_months(span: pd.DataFrame, held: pd.DataFrame) -> dict[str, Any]:
    """The newest month held per dataset (``meta/data_span``), street outcomes from ``meta/policeuk_months``."""
    newest = dict(zip(span["dataset"], span["last_month"]))
    if (held["dataset"] == "street_outcomes").any():
        newest["street_outcomes"] = held.loc[held["dataset"] == "street_outcomes", "month"].max()
    return newest


def recent_level_totals(levels: pd.DataFrame, months: int = 13) -> pd.DataFrame:
    """The last ``months`` months the borough file covers (ward files may run a month later)."""
    return levels[levels["borough"].notna()].tail(months)


def check_results(results: Iterable[tuple[str, str, int]]) -> pd.DataFrame:
    """(query name, what it asserts, rows failing) per quality check, as a table."""
    return pd.DataFrame(
        [
            {
                "Check": name.removeprefix("checks/").replace("_", " "),
                "What it asserts": description,
                "Result": "✔ passes" if n == 0 else f"✖ {n} rows fail",
            }
            for name, description, n in results
        ]
    )


def access_table(rows: list[tuple[str, str]]) -> pd.DataFrame:
    """Who has which role (addresses and @domains), or one '(nobody)' row."""
    return (
        pd.DataFrame(rows, columns=["Address or @domain", "Role"])
        if rows
        else pd.DataFrame({"Address or @domain": ["(nobody)"], "Role": ["—"]})
    )


# ------------------------------------------------------------------------------------- targets


def status_counts(results: Iterable[Any]) -> dict[str, int]:
    """How many targets have each status, in the order the statuses first appear."""
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    return counts


def targets_by_priority(priorities: Iterable[Any], results: Sequence[Any]) -> list[tuple[Any, list[Any]]]:
    """(priority, its target results) for each plan priority with at least one target."""
    out = []
    for prio in priorities:
        mine = [r for r in results if r.target.priority == prio.number]
        if mine:
            out.append((prio, mine))
    return out


def targets_table(results: list[targets.TargetResult]) -> pd.DataFrame:
    """Every target at a glance; the Priority cells are links to that priority's page
    (``priority-1``...), shown with ``plain_table(link_cols=("Priority",))``. The table is wider
    than the page: with a link in it, Tab enters its sideways-scrolling box and the arrow keys
    scroll it (Streamlit 1.67 gives the box itself no tabindex; axe: scrollable-region-focusable)."""
    table = targets.as_table(results)
    table["Priority"] = [md_link(f"Priority {n}", f"priority-{n}") for n in table["Priority"]]
    return table


def targets_csv(results: list[targets.TargetResult]) -> bytes:
    return csv_bytes(targets.as_records(results))


def previous_plan_table(outcomes: Iterable[Any]) -> pd.DataFrame:
    """The 2021-2024 plan's outcomes, one row each."""
    return pd.DataFrame(
        [
            {"Priority": o.priority, "Outcome": o.outcome, "Result": o.result, "Rating": o.rag}
            for o in outcomes
        ]
    )


# ------------------------------------------------------------------------------------- answer first


def london_words(c: Any) -> str:
    """The London comparison in a few words for a grid cell ('fell about as much as London'); the
    full sentence, with the interval and any recording change it crosses, is in the measure's detail."""
    if c is None:
        return "awaiting London data"
    return c.verdict


def scorecard_grid(rows: Sequence[scorecard.ScoreRow], london: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """The scorecard in one line per measure: the latest 12 months, the change on the 12 before,
    the verdict and direction of travel (the scorecard's own words) and how it compares with London.
    ``london`` is measure id -> {"l12": LondonComparison | None, ...} (ui.cache.london_comparisons)."""
    out = []
    for r in rows:
        c = r.l12
        out.append(
            {
                # the number alone keeps each row on one line; the column header names it
                "Priority": md_link(r.measure.priority, f"summary#priority-{r.measure.priority}"),
                "Measure": r.measure.label,
                "Last 12 months": f"{c.current:,d}" if c else targets.AWAITING,
                "Change": scorecard.fmt_change(c),
                "Is the change real?": f"{c.symbol} {c.verdict}" if c else targets.AWAITING,
                "Direction of travel": c.travel(r.measure.lower_is_better) if c else "",
                "Against London": london_words(london.get(r.measure.id, {}).get("l12")) if c else "",
            }
        )
    return pd.DataFrame(out)


def periods_and_sources(rows: Sequence[scorecard.ScoreRow]) -> str:
    """One plain-text line naming the 12-month periods, the sources and the snapshots of ``rows``
    (show it as plain text: snapshots are file labels)."""
    periods: dict[str, list[str]] = {}
    for r in rows:
        if r.last12 is not None:
            periods.setdefault(r.last12.label, []).append(r.measure.label)
    common = max(periods, key=lambda p: len(periods[p])) if periods else ""
    parts = [f"Last 12 months: {common}"] if common else []
    parts += [
        f"{', '.join(n.lower() for n in names)}: {label}"
        for label, names in periods.items()
        if label != common
    ]
    sources = dict.fromkeys(s for r in rows for s in r.measure.source_name.split(" + "))
    snapshots = dict.fromkeys(s for r in rows if r.snapshot for s in r.snapshot.split("; "))
    text = ("; ".join(parts) + "; each against the 12 months before.") if parts else ""
    return f"{text} Sources: {'; '.join(sources)}. Snapshots: {'; '.join(snapshots)}.".strip()


def headline_strip(rows: Sequence[scorecard.ScoreRow]) -> pd.DataFrame:
    """A priority's headline measures for its opening strip: latest 12 months, change and verdict."""
    return pd.DataFrame(
        [
            {
                "Measure": r.measure.label,
                "Last 12 months": f"{r.l12.current:,d}" if r.l12 else targets.AWAITING,
                "Change": scorecard.fmt_change(r.l12),
                "Is it real?": f"{r.l12.symbol} {r.l12.verdict}" if r.l12 else targets.AWAITING,
            }
            for r in rows
        ]
    )


def targets_strip(results: Iterable[targets.TargetResult]) -> pd.DataFrame:
    """A priority's targets for its opening strip: status (symbol and words) and the target's name."""
    return pd.DataFrame(
        [{"Status": f"{r.symbol} {r.status}", "Target for 2028": r.target.label} for r in results]
    )


def _n(v: float) -> str:
    return f"{v:,.0f}"


def targets_at_a_glance(results: Sequence[targets.TargetResult]) -> pd.DataFrame:
    """Every target in one line, status first (symbol and words): the target's name, its baseline
    and its latest figure against what the path expects for the same months. Narrow enough that
    each row stays on one line at 1366 px; the measure, target value, reasoning, definitions and
    caveats are in the gauges and the full table further down."""
    out = []
    for r in results:
        base = (
            f"{_n(r.baseline_value)} ({r.baseline_period.label})"
            if r.baseline_value is not None and r.baseline_period is not None
            else targets.AWAITING
            if r.baseline_period is not None
            else "not applicable"
        )
        latest = _n(r.observed) if r.observed is not None else targets.AWAITING
        if r.observed is not None and r.expected_path is not None:
            latest += f" vs {_n(r.expected_path)} on the path"
        out.append(
            {
                "Status": f"{r.symbol} {r.status}",
                "Target for 2028": r.target.label,
                "Baseline": base,
                "Latest, against the path": latest,
            }
        )
    return pd.DataFrame(out)


def targets_sources(results: Sequence[targets.TargetResult]) -> str:
    """The periods the latest figures cover and where the targets' figures come from, each once
    (plain text: it names files)."""
    periods: dict[str, list[str]] = {}
    for r in results:
        if r.observed is not None and r.assessed_period is not None:
            periods.setdefault(r.assessed_period.label, []).append(r.target.label)
    latest = "; ".join(f"{label} ({', '.join(names)})" for label, names in periods.items())
    sources = "; ".join(dict.fromkeys(r.source for r in results if r.source))
    return (
        (f"Latest figures: {latest}. " if latest else "")
        + f"Sources: {sources}. Each target's measure, target value, reasoning, definition, caveats, source and "
        "snapshot are with its gauge below, and in the full table further down."
    )
