"""Statistical disclosure control for public pages: the ONS "10-5" rule.

Figures about *people* that come from partnership data (survey respondents, IOM individuals,
victims, referrals) must not let a resident single anyone out. On the public site they follow the
ONS 10-5 rule, applied here and nowhere else:

* **Counts.** A count of 1 to 9 is shown as "fewer than 10". Any other count is rounded to the
  nearest 5 (12 -> "10", 13 -> "15", 14 -> "15", 17 -> "15", 18 -> "20", 1,234 -> "1,235").
  Zero is a true zero and is shown as "0" by default: saying "nobody" discloses nothing about a
  person, and hiding every zero makes tables unreadable. Pass ``show_zero=False`` to :func:`count`
  where even a zero is sensitive (e.g. "no victims in this ward"); it is then shown as
  "fewer than 10" (which is still true of 0).
* **Rounding** is to the nearest 5 with ties going *up* (:func:`round_half_up`). Whole-number
  counts never tie (12.5 can't happen), but a non-integer such as a weighted survey estimate of
  7.5 or 12.5 rounds up to 10 or 15; Python's built-in ``round`` would send 12.5 to 10 ("banker's
  rounding"), so it is not used. Counts must be non-negative whole numbers (``int`` or a numpy
  integer; never ``bool`` or ``float``, even 3.0): anything else raises ``ValueError`` naming it.
* **Percentages** are shown only when their base (denominator) is at least 10; otherwise the text
  is "not shown (fewer than 10)". They are computed from the *unrounded* counts and rounded
  half-up to a whole percent (2.5% -> "3%"), so 1 out of 400 shows as "0%" and 399 out of 400 as
  "100%". Caution: a percentage published next to its base can reveal a small numerator (6% of
  50 is 3); publish one or the other where that matters.
* **Tables** (:func:`protect_table`, :func:`protect_series`). Totals are computed from the
  unrounded counts and then rounded like any other count, so rows need not add up exactly to their
  rounded totals; a total of 1 to 9 is itself hidden. Because a total lets a reader subtract the
  visible cells from it, a row or column (totals included) that hides exactly one number must hide
  a second one too: *secondary suppression*. The smallest non-zero number still showing in that
  row or column is hidden (ties go to the first by position, the total last, so results are
  deterministic), and this is repeated over rows *and* columns until nothing changes, because a
  secondary suppression in a row can leave a column with a single hidden number.

  Two hidden numbers per row and column is necessary but not quite sufficient: two separate
  blocks of hidden cells joined by a single hidden cell still let that cell be worked out by adding
  and subtracting whole rows and columns. So the table is also checked as a graph (rows and columns
  as nodes, hidden numbers as edges: a hidden number is recoverable exactly when its edge lies on
  no cycle), and any such cell is protected by also hiding the cheapest chain of numbers (smallest
  total value) that closes a cycle through it. The result: even someone who knew every published
  number *unrounded* could not pin down any hidden number.

  Finally the table is read the way a resident could read it: a shown "45" means 43 to 47,
  "fewer than 10" means 1 to 9, "not shown" means at least 10, and rows and columns add up. Those
  bounds alone can pin a number: two "fewer than 10" cells in a column whose other cells are 0
  and whose total shows as "20" must both be 9 (the total is at least 18). Each hidden number's
  smallest and largest possible values are found exactly (a small linear programme; the table's
  structure guarantees whole-number answers), and while any is pinned to one value, the smallest
  non-zero number still shown in its row or column is hidden too. What remains unguarded is
  someone holding the *unrounded* totals from elsewhere *and* using the 1 to 9 bounds, which can
  still pin a number in rare patterns; publish totals only through this module.

  Hidden numbers read "fewer than 10" (primary: the count is 1 to 9) or "not shown" (secondary:
  the count is not small, it is hidden to protect another cell). :data:`NOTE` explains both in plain
  words for the page.

The suppression pattern travels with the output as ``out.attrs["disclosure"]``, a
:class:`Protection` (use :func:`protection` to read it safely). It is held in one object that
compares by identity, because pandas compares ``attrs`` when concatenating frames and a DataFrame
stored directly in ``attrs`` makes ``pd.concat`` raise. It never holds the unrounded counts.

Nothing here imports streamlit.
"""

from __future__ import annotations

import heapq
import math
import numbers
from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pandas as pd
from scipy.optimize import linprog

PUBLIC_THRESHOLD = 10
"""Counts below this (but above 0) are never shown; percentages need a base of at least this."""

ROUND_TO = 5
"""Shown counts are rounded to the nearest multiple of this."""

TOTAL_LABEL = "Total"

TEXT_SMALL = "fewer than 10"
TEXT_HIDDEN = "not shown"
TEXT_SMALL_BASE = "not shown (fewer than 10)"

REASON_NONE = ""
REASON_PRIMARY = "primary: 1-9"
REASON_ZERO = "primary: zero not shown"
REASON_SMALL_BASE = "primary: base fewer than 10"
REASON_SECONDARY = "secondary: protects a hidden cell in the same row/column"

NOTE = (
    "Numbers are rounded to the nearest 5 to protect people's privacy, and totals are rounded "
    "separately, so figures may not add up exactly. 'fewer than 10' means between 1 and 9. "
    "'not shown' hides a number so that a small number cannot be worked out from the totals."
)
"""Plain-language footnote for any page that shows protected figures."""


@dataclass(frozen=True)
class Cell:
    """One published figure.

    ``value`` is the number to publish (already rounded; a whole percent for percentages) or
    ``None`` when hidden; ``text`` is what to print ("fewer than 10", "75", "1,235", "0", "43%",
    "not shown", "not shown (fewer than 10)"); ``reason`` is ``""`` for a shown figure, else one of
    the ``REASON_*`` constants.
    """

    value: int | None
    text: str
    suppressed: bool
    reason: str = REASON_NONE


@dataclass(frozen=True, eq=False)
class Protection:
    """The suppression pattern of a protected table or series (same labels, totals included).

    ``suppressed`` is boolean, ``reasons`` holds ``REASON_*`` strings and ``values`` the published
    whole numbers (``None`` where hidden). ``eq=False``: compared by identity, so pandas can
    compare ``attrs`` in ``pd.concat`` without raising.
    """

    suppressed: pd.DataFrame | pd.Series
    reasons: pd.DataFrame | pd.Series
    values: pd.DataFrame | pd.Series
    note: str = NOTE


# --------------------------------------------------------------------------- single figures


def _check_count(n: object, what: str = "count") -> int:
    """``n`` as a Python int, or ValueError naming it (bools, floats, NA and negatives refused)."""
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)):
        raise ValueError(f"{what} must be a non-negative whole number, got {n!r} ({type(n).__name__})")
    value = int(n)
    if value < 0:
        raise ValueError(f"{what} must be a non-negative whole number, got {value!r}")
    return value


def round_half_up(x: float | Decimal, to: int = ROUND_TO) -> int:
    """``x`` rounded to the nearest multiple of ``to``, exact ties going up (7.5 -> 10, 12.5 -> 15).

    Exact arithmetic (``Fraction``), so a float such as 7.5 is not nudged by binary rounding.
    Not for deciding what to hide: :func:`count` does that.
    """
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (numbers.Real, Decimal)):
        raise ValueError(f"cannot round {x!r}: not a number")
    if not isinstance(to, int) or isinstance(to, bool) or to <= 0:
        raise ValueError(f"rounding base must be a positive whole number, got {to!r}")
    try:
        q = Fraction(x) / to
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"cannot round {x!r}: not a finite number") from exc
    return math.floor(q + Fraction(1, 2)) * to


def _shown(value: int) -> str:
    return f"{value:,}"


def count(n: int, show_zero: bool = True) -> Cell:
    """A count of people for a public page: 1-9 hidden as "fewer than 10", others rounded to 5.

    0 is shown as "0" (a true zero) unless ``show_zero=False``, when it too reads "fewer than 10".
    Raises ``ValueError`` for negatives and for anything that is not a whole number (including
    ``True``/``False`` and floats such as 3.0).
    """
    value = _check_count(n)
    if value == 0:
        if show_zero:
            return Cell(0, "0", False, REASON_NONE)
        return Cell(None, TEXT_SMALL, True, REASON_ZERO)
    if value < PUBLIC_THRESHOLD:
        return Cell(None, TEXT_SMALL, True, REASON_PRIMARY)
    shown = round_half_up(value)
    return Cell(shown, _shown(shown), False, REASON_NONE)


def percentage(numerator: int, denominator: int) -> Cell:
    """``numerator`` as a whole percent of ``denominator``, hidden when the base is under 10.

    Computed from the unrounded counts, rounded half-up ("43%"). A base of 0 to 9 gives
    "not shown (fewer than 10)". Raises ``ValueError`` if either is not a non-negative whole number
    or the numerator exceeds the denominator.
    """
    num = _check_count(numerator, "numerator")
    den = _check_count(denominator, "denominator")
    if num > den:
        raise ValueError(f"numerator {num} is larger than its base {den}")
    if den < PUBLIC_THRESHOLD:
        return Cell(None, TEXT_SMALL_BASE, True, REASON_SMALL_BASE)
    pct = math.floor(Fraction(100 * num, den) + Fraction(1, 2))
    return Cell(pct, f"{pct}%", False, REASON_NONE)


# --------------------------------------------------------------------------- tables


_FREE = -1  # every row/column that no published total constrains


def _node_ids(n_rows: int, n_cols: int, rows_constrained: bool, cols_constrained: bool):
    def row_node(i: int) -> int:
        return i if rows_constrained else _FREE

    def col_node(j: int) -> int:
        return n_rows + j if cols_constrained else _FREE

    return row_node, col_node


def _connected_without(start: int, goal: int, adjacency: dict[int, list[tuple[int, int]]], skip: int) -> bool:
    """Whether ``goal`` is reachable from ``start`` without using edge number ``skip``."""
    seen = {start}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            return True
        for nxt, edge in adjacency.get(node, ()):
            if edge != skip and nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return False


def _suppress(
    grid: list[list[int]], rows_constrained: bool, cols_constrained: bool
) -> tuple[list[list[bool]], list[list[str]]]:
    """Primary and secondary suppression of an augmented grid (totals already in it).

    Row ``i`` of the grid says "cells of row i add up to the row's total" when ``rows_constrained``
    (a total column is published), likewise columns. Returns the hidden mask and the reasons.
    """
    n_rows = len(grid)
    n_cols = len(grid[0]) if n_rows else 0
    hidden = [[0 < grid[i][j] < PUBLIC_THRESHOLD for j in range(n_cols)] for i in range(n_rows)]
    reasons = [
        [REASON_PRIMARY if hidden[i][j] else REASON_NONE for j in range(n_cols)] for i in range(n_rows)
    ]

    lines: list[list[tuple[int, int]]] = []
    if rows_constrained:
        lines += [[(i, j) for j in range(n_cols)] for i in range(n_rows)]
    if cols_constrained:
        lines += [[(i, j) for i in range(n_rows)] for j in range(n_cols)]
    if not lines:
        return hidden, reasons

    def hide(i: int, j: int) -> None:
        hidden[i][j] = True
        reasons[i][j] = REASON_SECONDARY

    def fix_single_lines() -> None:
        # The stated rule: a row or column (total included) with exactly one hidden number hides
        # its smallest non-zero shown number too (first by position on ties; the total is last).
        changed = True
        while changed:
            changed = False
            for line in lines:
                if sum(hidden[i][j] for i, j in line) != 1:
                    continue
                candidates = [
                    (grid[i][j], pos)
                    for pos, (i, j) in enumerate(line)
                    if not hidden[i][j] and grid[i][j] > 0
                ]
                if not candidates:  # impossible: the lone hidden number would have to be 0
                    raise RuntimeError("secondary suppression found no cell to hide")
                _, pos = min(candidates)
                hide(*line[pos])
                changed = True

    row_node, col_node = _node_ids(n_rows, n_cols, rows_constrained, cols_constrained)
    cells = [(i, j) for i in range(n_rows) for j in range(n_cols)]  # edge number = position here

    while True:
        fix_single_lines()
        # A hidden number is recoverable exactly when its edge is a bridge of the hidden graph.
        adjacency: dict[int, list[tuple[int, int]]] = {}
        for e, (i, j) in enumerate(cells):
            if hidden[i][j]:
                u, v = row_node(i), col_node(j)
                adjacency.setdefault(u, []).append((v, e))
                adjacency.setdefault(v, []).append((u, e))
        bridge = next(
            (
                e
                for e, (i, j) in enumerate(cells)
                if hidden[i][j]
                and row_node(i) != col_node(j)
                and not _connected_without(row_node(i), col_node(j), adjacency, e)
            ),
            None,
        )
        if bridge is None:
            pinned = _pinned_cell(grid, hidden, reasons, rows_constrained, cols_constrained)
            if pinned is None:
                return hidden, reasons
            extra = _widen(grid, hidden, pinned, rows_constrained, cols_constrained)
            if extra is None:  # every non-zero number is already hidden: nothing more to do
                return hidden, reasons
            hide(*extra)
            continue
        # Close a cycle through it along the cheapest chain of non-zero numbers (hidden ones are
        # free), fewest new cells next, then by position: Dijkstra over rows and columns.
        bi, bj = cells[bridge]
        start, goal = row_node(bi), col_node(bj)
        graph: dict[int, list[tuple[int, int]]] = {}
        for e, (i, j) in enumerate(cells):
            if e != bridge and grid[i][j] > 0:
                u, v = row_node(i), col_node(j)
                graph.setdefault(u, []).append((v, e))
                graph.setdefault(v, []).append((u, e))
        best: dict[int, tuple[int, int]] = {start: (0, 0)}
        came_by: dict[int, tuple[int, int]] = {}
        heap = [(0, 0, start)]
        while heap:
            cost, new, node = heapq.heappop(heap)
            if (cost, new) != best[node]:
                continue  # a stale heap entry
            if node == goal:
                break
            for nxt, e in graph.get(node, ()):
                i, j = cells[e]
                step = (0, 0) if hidden[i][j] else (grid[i][j], 1)
                key = (cost + step[0], new + step[1])
                if nxt not in best or key < best[nxt]:
                    best[nxt] = key
                    came_by[nxt] = (node, e)
                    heapq.heappush(heap, (key[0], key[1], nxt))
        if goal not in came_by:  # impossible for consistent non-negative counts
            raise RuntimeError("secondary suppression could not protect a hidden cell")
        node = goal
        while node != start:
            node, e = came_by[node]
            i, j = cells[e]
            if not hidden[i][j]:
                hide(i, j)


def _attacker_bounds(value: int, is_hidden: bool, reason: str) -> tuple[int, int | None]:
    """What a reader of the published table knows about one true number.

    Shown "p" (p >= 10): the true count rounds to p, so it is p-2..p+2 (and at least 10). "0": 0.
    "fewer than 10": 1..9. "not shown": a secondary suppression, so (knowing this module) at least 10.
    """
    if is_hidden:
        return (1, PUBLIC_THRESHOLD - 1) if reason == REASON_PRIMARY else (PUBLIC_THRESHOLD, None)
    if value == 0:
        return (0, 0)
    shown = round_half_up(value)
    half = ROUND_TO // 2
    return (max(PUBLIC_THRESHOLD, shown - half), shown + half)


def _pinned_cell(
    grid, hidden, reasons, rows_constrained: bool, cols_constrained: bool
) -> tuple[int, int] | None:
    """The first hidden number (by position) that the published table pins to a single value.

    The reader's view as a linear programme: every true number within the bounds of
    :func:`_attacker_bounds`, every published row/column adding up to its total. The constraint
    matrix is that of a network flow (totally unimodular), so the LP optimum is a whole number and
    equals the integer one: a hidden number is pinned when both its LP minimum and maximum equal
    its true value. The last column (row) of ``grid`` is the total when rows (columns) are
    constrained.
    """
    n_rows, n_cols = len(grid), len(grid[0])
    rows_eq: list[np.ndarray] = []
    if rows_constrained:
        for i in range(n_rows):
            row = np.zeros(n_rows * n_cols)
            row[i * n_cols : (i + 1) * n_cols - 1] = 1
            row[(i + 1) * n_cols - 1] = -1
            rows_eq.append(row)
    if cols_constrained:
        for j in range(n_cols):
            row = np.zeros(n_rows * n_cols)
            row[j : (n_rows - 1) * n_cols : n_cols] = 1
            row[(n_rows - 1) * n_cols + j] = -1
            rows_eq.append(row)
    if not rows_eq:
        return None
    a_eq, b_eq = np.vstack(rows_eq), np.zeros(len(rows_eq))
    bounds = [
        _attacker_bounds(grid[i][j], hidden[i][j], reasons[i][j])
        for i in range(n_rows)
        for j in range(n_cols)
    ]
    for k, (i, j) in enumerate((i, j) for i in range(n_rows) for j in range(n_cols)):
        if not hidden[i][j]:
            continue
        truth = grid[i][j]
        for sign in (1, -1):  # can it be smaller than the truth? larger?
            objective = np.zeros(n_rows * n_cols)
            objective[k] = sign
            res = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
            if res.status == 3:  # unbounded above: certainly not pinned
                break
            if res.status != 0:
                raise RuntimeError(f"disclosure check failed to solve ({res.message})")
            if abs(sign * res.fun - truth) > 0.5:
                break
        else:
            return (i, j)
    return None


def _widen(
    grid, hidden, pinned: tuple[int, int], rows_constrained: bool, cols_constrained: bool
) -> tuple[int, int] | None:
    """The cell to hide so a pinned number gains room: the smallest non-zero shown number in its
    row or column (first by position on ties), else in the whole table; None if none is left."""
    pi, pj = pinned
    n_rows, n_cols = len(grid), len(grid[0])
    near = set()
    if rows_constrained:
        near |= {(pi, j) for j in range(n_cols)}
    if cols_constrained:
        near |= {(i, pj) for i in range(n_rows)}
    everywhere = {(i, j) for i in range(n_rows) for j in range(n_cols)}
    for pool in (near, everywhere):
        candidates = [(grid[i][j], i, j) for i, j in pool if not hidden[i][j] and grid[i][j] > 0]
        if candidates:
            _, i, j = min(candidates)
            return (i, j)
    return None


def _check_labels(labels: pd.Index, what: str) -> None:
    if isinstance(labels, pd.MultiIndex):
        raise ValueError(f"{what} must be a flat index (not a MultiIndex): flatten the labels first")
    if labels.has_duplicates:
        raise ValueError(
            f"{what} has duplicate labels: {sorted({str(x) for x in labels[labels.duplicated()]})}"
        )
    if TOTAL_LABEL in list(labels):
        raise ValueError(f"{what} already has a {TOTAL_LABEL!r} label; pass the counts without totals")


def _cell_texts(grid, hidden, reasons):
    texts, values = [], []
    for row, hrow, rrow in zip(grid, hidden, reasons):
        trow: list[str] = []
        vrow: list[int | None] = []
        for value, is_hidden, reason in zip(row, hrow, rrow):
            if is_hidden:
                trow.append(TEXT_SMALL if reason == REASON_PRIMARY else TEXT_HIDDEN)
                vrow.append(None)
            else:
                shown = round_half_up(value) if value else 0
                trow.append(_shown(shown))
                vrow.append(shown)
        texts.append(trow)
        values.append(vrow)
    return texts, values


def protect_table(df: pd.DataFrame, row_totals: bool = True, col_totals: bool = True) -> pd.DataFrame:
    """A table of counts made safe to publish, as display strings, with totals added.

    ``df``: non-negative whole-number counts, index = row labels, columns = categories (no totals).
    ``row_totals`` adds a "Total" column (each row's total), ``col_totals`` a "Total" row; with
    both there is a grand total. Totals are summed from the unrounded counts, then rounded.
    Primary suppression hides 1-9 (totals included), secondary suppression then hides further
    numbers so no hidden number can be worked out from the published totals (see the module
    docstring), and everything shown is rounded to the nearest 5.

    Returns a frame of strings ("fewer than 10", "not shown", "0", "75", "1,235") with
    ``attrs["disclosure"]``: a :class:`Protection` with boolean ``suppressed``, ``reasons`` and
    published ``values`` frames of the same shape (totals included). Raises ``ValueError`` for any
    cell that is not a non-negative whole number (naming it and its row and column), duplicate
    labels, a MultiIndex, or a label already called "Total".
    """
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"protect_table needs a DataFrame, got {type(df).__name__}")
    _check_labels(df.index, "index")
    _check_labels(df.columns, "columns")
    raw = df.to_numpy(dtype=object)
    counts = [
        [
            _check_count(raw[i, j], f"count at row {df.index[i]!r}, column {df.columns[j]!r}")
            for j in range(df.shape[1])
        ]
        for i in range(df.shape[0])
    ]
    grid = [list(row) for row in counts]
    if row_totals:
        for row in grid:
            row.append(sum(row))
    if col_totals:
        width = len(grid[0]) if grid else (df.shape[1] + (1 if row_totals else 0))
        grid.append([sum(row[j] for row in grid) for j in range(width)])
    hidden, reasons = _suppress(grid, rows_constrained=row_totals, cols_constrained=col_totals)
    texts, values = _cell_texts(grid, hidden, reasons)

    index = pd.Index(list(df.index) + ([TOTAL_LABEL] if col_totals else []), name=df.index.name)
    columns = pd.Index(list(df.columns) + ([TOTAL_LABEL] if row_totals else []), name=df.columns.name)

    def frame(data, dtype=None) -> pd.DataFrame:
        return pd.DataFrame(data, index=index, columns=columns, dtype=dtype)

    out = frame(texts, dtype=object)
    out.attrs["disclosure"] = Protection(
        suppressed=frame(hidden, dtype=bool),
        reasons=frame(reasons, dtype=object),
        values=frame(values, dtype=object),
    )
    return out


def protect_series(s: pd.Series, total: bool = True) -> pd.Series:
    """One row of counts made safe to publish, with a "Total" entry when ``total``.

    The one-dimensional :func:`protect_table`: 1-9 hidden, and when a total is shown a lone hidden
    number is joined by the smallest non-zero other one (the total being the last resort), so it
    cannot be found by subtraction. Returns display strings named like ``s`` with
    ``attrs["disclosure"]`` holding Series-shaped ``suppressed``, ``reasons`` and ``values``.
    """
    if not isinstance(s, pd.Series):
        raise ValueError(f"protect_series needs a Series, got {type(s).__name__}")
    _check_labels(s.index, "index")
    counts = [_check_count(v, f"count at {label!r}") for label, v in zip(s.index, s.to_numpy(dtype=object))]
    table = protect_table(pd.DataFrame([counts], columns=s.index), row_totals=total, col_totals=False)
    prot: Protection = table.attrs["disclosure"]
    index = pd.Index(list(s.index) + ([TOTAL_LABEL] if total else []), name=s.index.name)

    def series(frame: pd.DataFrame, dtype=None) -> pd.Series:
        return pd.Series(frame.iloc[0].tolist(), index=index, name=s.name, dtype=dtype)

    out = series(table, dtype=object)
    out.attrs["disclosure"] = Protection(
        suppressed=series(prot.suppressed, dtype=bool),
        reasons=series(prot.reasons, dtype=object),
        values=series(prot.values, dtype=object),
    )
    return out


def protection(out: pd.DataFrame | pd.Series) -> Protection:
    """The :class:`Protection` attached by :func:`protect_table` / :func:`protect_series`.

    Raises ``ValueError`` if there is none, or if ``out`` has been reshaped or relabelled since
    (the pattern would no longer line up with it).
    """
    prot = out.attrs.get("disclosure")
    if not isinstance(prot, Protection):
        raise ValueError("no suppression pattern attached: was this made by protect_table/protect_series?")
    same = prot.suppressed.index.equals(out.index) and (
        isinstance(out, pd.Series) or prot.suppressed.columns.equals(out.columns)
    )
    if not same:
        raise ValueError(
            "the table has been reshaped since it was protected; protect the final table instead"
        )
    return prot


# --------------------------------------------------------------------------- checks


def _parse_shown(value: object) -> float | None:
    """A shown number as a float, or None for hidden/blank/non-numeric text."""
    if value is None or isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (numbers.Real, Decimal)):
        return None if pd.isna(value) else float(value)
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        try:
            return float(text)
        except ValueError:
            return None
    return None


def is_safe(df_display: pd.DataFrame | pd.Series) -> bool:
    """True if no shown number is 1-9 and every shown number is a whole multiple of 5 (or 0).

    Accepts display strings ("1,235", "fewer than 10", "not shown") or raw numbers; text that is
    not a number counts as hidden, blanks and NA too. A quick check for tests and page guards, not
    a proof that hidden cells can't be recovered (that is :func:`protect_table`'s job).
    """
    data = df_display.to_numpy(dtype=object).ravel()
    for value in data:
        number = _parse_shown(value)
        if number is None:
            continue
        if not math.isfinite(number) or number < 0 or not number.is_integer():
            return False
        if 0 < number < PUBLIC_THRESHOLD or int(number) % ROUND_TO:
            return False
    return True
