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
