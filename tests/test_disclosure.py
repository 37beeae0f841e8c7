"""Tests of ``csp_data.analysis.disclosure``: the ONS 10-5 rule and secondary suppression.

Single counts and percentages are pinned by hand. For tables, expected suppression patterns are
worked out by hand for small cases, and an independent brute-force reader checks that no hidden
number can be recovered: a constraint search (interval propagation plus exhaustive branching over
whole numbers, no LP) looks, for every hidden cell, for a table that agrees with everything
published but has a *different* value in that cell. It reads the table two ways:

* **published**: what a resident sees. "45" means 43..47 (and at least 10), "0" means 0,
  "fewer than 10" means 1..9, "not shown" means at least 10; published rows and columns add up.
* **exact**: a worst case where every shown number (totals included) is known *unrounded*, and
  hidden numbers are only known to be non-negative: pure subtraction from the totals.

Both must leave every hidden cell with at least two possible values.
"""

from __future__ import annotations

import random
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from csp_data.analysis.disclosure import (
    NOTE,
    PUBLIC_THRESHOLD,
    REASON_NONE,
    REASON_PRIMARY,
    REASON_SECONDARY,
    REASON_SMALL_BASE,
    REASON_ZERO,
    ROUND_TO,
    TEXT_HIDDEN,
    TEXT_SMALL,
    TEXT_SMALL_BASE,
    Cell,
    Protection,
    count,
    is_safe,
    percentage,
    protect_series,
    protect_table,
    protection,
    round_half_up,
)

# --------------------------------------------------------------------------- independent reader

Var = tuple[int, int]


def augmented(df: pd.DataFrame, row_totals: bool, col_totals: bool) -> list[list[int]]:
    """The true table with its totals, summed here with numpy (independently of the module)."""
    g = df.to_numpy(dtype=np.int64)
    if row_totals:
        g = np.hstack([g, g.sum(axis=1, keepdims=True)])
    if col_totals:
        g = np.vstack([g, g.sum(axis=0, keepdims=True)])
    return g.tolist()


def equations(n_rows: int, n_cols: int, row_totals: bool, col_totals: bool) -> list[list[tuple[Var, int]]]:
    """Each published total as "cells - total = 0" (the totals are the last column/row)."""
    eqs = []
    if row_totals:
        eqs += [[((i, j), 1) for j in range(n_cols - 1)] + [((i, n_cols - 1), -1)] for i in range(n_rows)]
    if col_totals:
        eqs += [[((i, j), 1) for i in range(n_rows - 1)] + [((n_rows - 1, j), -1)] for j in range(n_cols)]
    return eqs


def _propagate(doms: dict[Var, tuple[int, int]], eqs) -> bool:
    """Shrink every interval to what the equations allow; False if some interval empties."""
    changed = True
    while changed:
        changed = False
        for eq in eqs:
            for v, c in eq:
                lo_rest = sum(min(c2 * doms[u][0], c2 * doms[u][1]) for u, c2 in eq if u != v)
                hi_rest = sum(max(c2 * doms[u][0], c2 * doms[u][1]) for u, c2 in eq if u != v)
                lo, hi = doms[v]
                # c * x_v = -(rest), c = +1 or -1
                new = (
                    (max(lo, -hi_rest), min(hi, -lo_rest)) if c == 1 else (max(lo, lo_rest), min(hi, hi_rest))
                )
                if new[0] > new[1]:
                    return False
                if new != (lo, hi):
                    doms[v] = new
                    changed = True
    return True


def _feasible(doms: dict[Var, tuple[int, int]], eqs, prefer: dict[Var, int]) -> bool:
    """Is there a whole-number table within ``doms`` satisfying ``eqs``? Exhaustive branching."""
    doms = dict(doms)
    if not _propagate(doms, eqs):
        return False
    open_vars = [v for v in doms if doms[v][0] < doms[v][1]]
    if not open_vars:
        return True
    v = min(open_vars, key=lambda u: (doms[u][1] - doms[u][0], u))
    lo, hi = doms[v]
    for x in sorted(range(lo, hi + 1), key=lambda x: (abs(x - prefer[v]), x)):  # order only speeds it up
        if _feasible({**doms, v: (x, x)}, eqs, prefer):
            return True
    return False


def _parse(text: str) -> int:
    return int(text.replace(",", ""))


def reader_domains(out: pd.DataFrame, truth: list[list[int]], how: str) -> dict[Var, tuple[int, int]]:
    """What a reader knows about each true number, from the display strings alone (``published``)
    or from the unrounded shown values (``exact``)."""
    texts = out.to_numpy(dtype=object)
    cap = 2 * sum(max(row) for row in truth) + 50
    doms = {}
    for (i, j), text in np.ndenumerate(texts):
        if text == TEXT_SMALL:
            doms[(i, j)] = (1, 9) if how == "published" else (0, cap)
        elif text == TEXT_HIDDEN:
            doms[(i, j)] = (10, cap) if how == "published" else (0, cap)
        elif how == "exact":
            doms[(i, j)] = (truth[i][j], truth[i][j])
        else:
            p = _parse(text)
            doms[(i, j)] = (0, 0) if p == 0 else (max(10, p - 2), p + 2)
    return doms


def recoverable_cells(
    df: pd.DataFrame, out: pd.DataFrame, row_totals: bool, col_totals: bool, how: str
) -> list[Var]:
    """Hidden cells whose true value is the only one consistent with what is published."""
    truth = augmented(df, row_totals, col_totals)
    assert out.shape == (len(truth), len(truth[0]))
    doms = reader_domains(out, truth, how)
    eqs = equations(len(truth), len(truth[0]), row_totals, col_totals)
    prefer = {(i, j): truth[i][j] for i in range(len(truth)) for j in range(len(truth[0]))}
    assert _feasible(doms, eqs, prefer), "the true table must itself be consistent with the publication"
    pinned = []
    for (i, j), text in np.ndenumerate(out.to_numpy(dtype=object)):
        if text not in (TEXT_SMALL, TEXT_HIDDEN):
            continue
        t = truth[i][j]
        lo, hi = doms[(i, j)]
        others = [(a, b) for a, b in ((lo, t - 1), (t + 1, hi)) if a <= b]
        if not any(_feasible({**doms, (i, j): r}, eqs, prefer) for r in others):
            pinned.append((i, j))
    return pinned


def naive(df: pd.DataFrame, pattern: list[list[bool]], row_totals=True, col_totals=True) -> pd.DataFrame:
    """A display table with a given hidden pattern (to show the reader catches weak patterns)."""
    truth = augmented(df, row_totals, col_totals)
    return pd.DataFrame(
        [
            [(TEXT_SMALL if 0 < v < 10 else TEXT_HIDDEN) if h else count(v).text for v, h in zip(r, hr)]
            for r, hr in zip(truth, pattern)
        ]
    )


def line_rule_only(df: pd.DataFrame) -> list[list[bool]]:
    """The bare stated rule (both totals): a row/column with one hidden cell hides its smallest
    non-zero shown cell; repeated until stable. Independent re-implementation."""
    g = augmented(df, True, True)
    n_rows, n_cols = len(g), len(g[0])
    hidden = [[0 < v < 10 for v in row] for row in g]
    lines = [[(i, j) for j in range(n_cols)] for i in range(n_rows)] + [
        [(i, j) for i in range(n_rows)] for j in range(n_cols)
    ]
    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(hidden[i][j] for i, j in line) == 1:
                _, pos = min(
                    (g[i][j], p) for p, (i, j) in enumerate(line) if not hidden[i][j] and g[i][j] > 0
                )
                i, j = line[pos]
                hidden[i][j] = changed = True
    return hidden


def hidden_of(out) -> np.ndarray:
    return protection(out).suppressed.to_numpy()


def assert_protected(df: pd.DataFrame, row_totals: bool = True, col_totals: bool = True) -> pd.DataFrame:
    out = protect_table(df, row_totals=row_totals, col_totals=col_totals)
    assert is_safe(out)
    for how in ("published", "exact"):
        assert recoverable_cells(df, out, row_totals, col_totals, how) == [], how
    # and the stated rule holds: no published row/column hides exactly one number
    h = hidden_of(out)
    if row_totals:
        assert all(n != 1 for n in h.sum(axis=1)), h
    if col_totals:
        assert all(n != 1 for n in h.sum(axis=0)), h
    return out


def frame(rows, index=None, columns=None) -> pd.DataFrame:
    rows = [list(r) for r in rows]
    return pd.DataFrame(
        rows,
        index=index or [f"r{i + 1}" for i in range(len(rows))],
        columns=columns or [chr(ord("a") + j) for j in range(len(rows[0]))],
    )


# --------------------------------------------------------------------------- constants and counts


def test_constants():
    assert PUBLIC_THRESHOLD == 10 and ROUND_TO == 5
    assert "nearest 5" in NOTE and "fewer than 10" in NOTE and "not shown" in NOTE


@pytest.mark.parametrize(
    ("n", "text", "value"),
    [
        (0, "0", 0),
        (1, TEXT_SMALL, None),
        (5, TEXT_SMALL, None),
        (9, TEXT_SMALL, None),
        (10, "10", 10),
        (12, "10", 10),
        (13, "15", 15),
        (14, "15", 15),
        (15, "15", 15),
        (17, "15", 15),
        (18, "20", 20),
        (22, "20", 20),
        (23, "25", 25),
        (100, "100", 100),
        (1232, "1,230", 1230),
        (1233, "1,235", 1235),
        (1234, "1,235", 1235),
    ],
)
def test_count_rule(n, text, value):
    cell = count(n)
    assert cell.text == text and cell.value == value
    assert cell.suppressed is (value is None)
    assert cell.reason == (REASON_PRIMARY if value is None else REASON_NONE)


def test_count_every_value_up_to_500():
    for n in range(501):
        cell = count(n)
        if n == 0:
            assert cell == Cell(0, "0", False, "")
        elif n < 10:
            assert cell == Cell(None, "fewer than 10", True, "primary: 1-9")
        else:
            assert cell.value % 5 == 0 and abs(cell.value - n) <= 2 and cell.value >= 10
            assert cell.text == f"{cell.value:,}"


def test_zero_is_a_true_zero_unless_asked():
    assert count(0).text == "0" and not count(0).suppressed
    hidden_zero = count(0, show_zero=False)
    assert hidden_zero == Cell(None, TEXT_SMALL, True, REASON_ZERO)
    assert count(7, show_zero=False) == count(7)
    assert count(23, show_zero=False) == count(23)


def test_count_accepts_numpy_integers():
    assert count(np.int64(13)).text == "15"
    assert count(np.uint8(4)).text == TEXT_SMALL


@pytest.mark.parametrize(
    "bad",
    [-1, -10, 3.0, 2.5, float("nan"), True, False, np.bool_(True), np.float64(12), "12", None, Decimal(12)],
)
def test_count_rejects_non_counts(bad):
    with pytest.raises(ValueError, match="non-negative whole number") as exc:
        count(bad)
    assert repr(int(bad) if isinstance(bad, int) and not isinstance(bad, bool) else bad)[:3] in str(exc.value)


def test_cell_is_frozen():
    with pytest.raises(AttributeError):
        count(12).text = "12"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        (7.5, 10),
        (12.5, 15),
        (2.5, 5),
        (7.4999, 5),
        (0, 0),
        (12, 10),
        (13, 15),
        (Decimal("7.5"), 10),
        (Fraction(25, 2), 15),
        (-7.5, -5),
    ],
)
def test_round_half_up(x, expected):
    assert round_half_up(x) == expected


def test_round_half_up_is_not_bankers_rounding():
    assert round(12.5 / 5) * 5 == 10  # what the built-in would publish
    assert round_half_up(12.5) == 15
    assert round_half_up(0.5, to=1) == 1 and round_half_up(2.5, to=1) == 3


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), True, "7.5"])
def test_round_half_up_rejects(bad):
    with pytest.raises(ValueError):
        round_half_up(bad)


# --------------------------------------------------------------------------- percentages


def test_percentage_base_threshold():
    assert percentage(4, 9) == Cell(None, TEXT_SMALL_BASE, True, REASON_SMALL_BASE)
    assert percentage(0, 0).text == "not shown (fewer than 10)"
    assert percentage(3, 7).suppressed
    assert percentage(4, 10) == Cell(40, "40%", False, REASON_NONE)


@pytest.mark.parametrize(
    ("num", "den", "text"),
    [
        (0, 10, "0%"),
        (10, 10, "100%"),
        (43, 100, "43%"),
        (1, 40, "3%"),
        (1, 3 * 40, "1%"),
        (10, 30, "33%"),
        (20, 30, "67%"),
        (1, 400, "0%"),
        (399, 400, "100%"),
    ],
)
def test_percentage_values(num, den, text):
    assert percentage(num, den).text == text


def test_percentage_uses_unrounded_counts():
    # 13 of 26 is 50%; the published counts would read 15 of 25 (60%)
    assert percentage(13, 26).text == "50%"
    assert count(13).text == "15" and count(26).text == "25"


def test_percentage_small_numerator_with_big_base_is_shown():
    assert percentage(3, 50).text == "6%"


@pytest.mark.parametrize(("num", "den"), [(11, 10), (-1, 10), (5, -10), (2.0, 10), (True, 10), (3, 10.0)])
def test_percentage_rejects(num, den):
    with pytest.raises(ValueError):
        percentage(num, den)


def test_percentage_numerator_over_base_message():
    with pytest.raises(ValueError, match="numerator 11 is larger than its base 10"):
        percentage(11, 10)


# --------------------------------------------------------------------------- tables: hand-worked patterns


def test_one_small_cell_gets_secondary_in_its_row_and_column():
    df = frame([[4, 20, 30], [25, 35, 40]])
    out = assert_protected(df)
    assert list(out.index) == ["r1", "r2", "Total"] and list(out.columns) == ["a", "b", "c", "Total"]
    reasons = protection(out).reasons
    assert reasons.loc["r1", "a"] == REASON_PRIMARY
    # the row's smallest other number (20) and the column's (25) are hidden...
    assert reasons.loc["r1", "b"] == REASON_SECONDARY
    assert reasons.loc["r2", "a"] == REASON_SECONDARY
    # ...which leaves column b and row r2 with one each, closed by 35
    assert reasons.loc["r2", "b"] == REASON_SECONDARY
    expected = [
        [TEXT_SMALL, TEXT_HIDDEN, "30", "55"],  # 54
        [TEXT_HIDDEN, TEXT_HIDDEN, "40", "100"],
        ["30", "55", "70", "155"],  # 29, 55, 70, 154
    ]
    assert out.to_numpy().tolist() == expected
    assert hidden_of(out).sum() == 4


def test_secondary_suppression_cascades_until_stable():
    df = frame([[3, 15, 50], [40, 90, 12], [45, 20, 80]])
    out = assert_protected(df)
    h = protection(out).suppressed
    # r1 hides b (15); column a hides r2 (40); column b hides r3 (20); then row r2 hides c (12)
    # and row r3 hides a (45); that leaves column c with one, so r1's c (50) goes too.
    expected_hidden = {
        ("r1", "a"),
        ("r1", "b"),
        ("r1", "c"),
        ("r2", "a"),
        ("r2", "c"),
        ("r3", "a"),
        ("r3", "b"),
    }
    got = {(r, c) for r in h.index for c in h.columns if h.loc[r, c]}
    assert got == expected_hidden
    assert out.loc["r2", "b"] == "90" and out.loc["r3", "c"] == "80"
    assert all(out.loc["Total"] != TEXT_HIDDEN) and all(out["Total"] != TEXT_HIDDEN)


def test_two_small_cells_in_a_row_need_no_extra_in_that_row():
    df = frame([[3, 4, 50, 60], [20, 25, 70, 80]])
    out = assert_protected(df)
    h = protection(out).suppressed
    assert h.loc["r1"].tolist() == [True, True, False, False, False]
    assert (protection(out).reasons.loc["r1", ["a", "b"]] == REASON_PRIMARY).all()
    # the columns still need a partner each: r2's a and b
    assert h.loc["r2"].tolist() == [True, True, False, False, False]
    assert out.loc["r1", "Total"] == "115"  # 117


def test_large_numbers_only_rounded_and_totals_from_unrounded():
    df = frame([[12, 12], [13, 14], [100, 1234]])
    out = assert_protected(df)
    assert not hidden_of(out).any()
    assert out.to_numpy().tolist() == [
        ["10", "10", "25"],  # 24 -> 25, although the shown cells add to 20
        ["15", "15", "25"],  # 27 -> 25
        ["100", "1,235", "1,335"],  # 1334 -> 1,335
        ["125", "1,260", "1,385"],  # 125, 1260, 1385
    ]
    values = protection(out).values
    assert values.loc["r1", "Total"] == 25 and values.loc["Total", "b"] == 1260


def test_small_totals_are_hidden():
    df = frame([[2, 3, 0], [40, 50, 60], [45, 55, 70]])
    out = assert_protected(df)
    reasons = protection(out).reasons
    assert out.loc["r1", "Total"] == TEXT_SMALL and reasons.loc["r1", "Total"] == REASON_PRIMARY
    assert out.loc["r1", "c"] == "0"
    col = frame([[4, 30], [3, 40], [0, 50]])
    out = assert_protected(col)
    assert out.loc["Total", "a"] == TEXT_SMALL  # 7
    assert protection(out).reasons.loc["Total", "a"] == REASON_PRIMARY


def test_zeros_stay_zero_and_are_never_used_as_partners():
    df = frame([[4, 0, 0], [30, 0, 45]])
    out = assert_protected(df)
    assert (out.loc[:, "b"] == "0").all()
    assert out.loc["r1", "c"] == "0"
    # r1 = 4 + 0 + 0: its total is 4 too, so the row already hides two numbers
    assert out.loc["r1", "Total"] == TEXT_SMALL


def test_a_single_bridging_cell_is_caught():
    """Two rings of hidden cells joined by one hidden cell: every row and column hides two or
    more numbers, yet adding and subtracting whole rows and columns recovers the joining cell."""
    df = frame([[40, 8, 0], [35, 0, 0], [0, 49, 60]])
    weak = line_rule_only(df)
    assert all(sum(r) != 1 for r in weak) and all(sum(c) != 1 for c in zip(*weak))
    assert recoverable_cells(df, naive(df, weak), True, True, "exact") == [(0, 1)]  # the 8
    out = assert_protected(df)
    assert out.loc["r1", "b"] == TEXT_SMALL


def test_bounds_of_fewer_than_10_are_taken_into_account():
    """Two "fewer than 10" cells in a column of zeros whose total shows as "20" must both be 9."""
    df = frame([[17, 0], [29, 9], [30, 9], [3, 0]])
    weak = line_rule_only(df)
    assert sorted(recoverable_cells(df, naive(df, weak), True, True, "published")) == [(1, 1), (2, 1)]
    out = assert_protected(df)
    assert out.loc["r2", "b"] == TEXT_SMALL and out.loc["Total", "b"] == TEXT_HIDDEN


def test_reader_catches_primary_only_suppression():
    """The checker is not vacuous: hiding only the 1-9 cells leaves them recoverable."""
    df = frame([[4, 20, 30], [25, 35, 40]])
    primary_only = [[0 < v < 10 for v in row] for row in augmented(df, True, True)]
    weak = naive(df, primary_only)
    assert recoverable_cells(df, weak, True, True, "exact") == [(0, 0)]
    assert is_safe(weak)  # is_safe alone cannot see this


def _random_table(rng: random.Random) -> pd.DataFrame:
    n_rows, n_cols = rng.randint(1, 5), rng.randint(1, 5)

    def value() -> int:
        x = rng.random()
        return rng.randint(1, 9) if x < 0.3 else 0 if x < 0.4 else rng.randint(10, 60)

    return frame([[value() for _ in range(n_cols)] for _ in range(n_rows)])


@pytest.mark.parametrize("seed", range(6))
def test_random_tables_cannot_be_recovered(seed):
    rng = random.Random(seed)
    for _ in range(10):
        df = _random_table(rng)
        for row_totals, col_totals in ((True, True), (True, False), (False, True), (False, False)):
            out = assert_protected(df, row_totals, col_totals)
            truth = augmented(df, row_totals, col_totals)
            for (i, j), text in np.ndenumerate(out.to_numpy(dtype=object)):
                t = truth[i][j]
                if 0 < t < 10:
                    assert text == TEXT_SMALL
                elif text not in (TEXT_SMALL, TEXT_HIDDEN):
                    assert _parse(text) == (round_half_up(t) if t else 0)


def test_no_totals_means_primary_suppression_only():
    df = frame([[4, 20, 30], [25, 35, 40]])
    out = protect_table(df, row_totals=False, col_totals=False)
    assert out.shape == df.shape and "Total" not in out.index and "Total" not in out.columns
    assert hidden_of(out).sum() == 1


def test_row_totals_only_protects_rows_not_columns():
    df = frame([[4, 20, 30], [25, 35, 40]])
    out = assert_protected(df, row_totals=True, col_totals=False)
    assert list(out.columns)[-1] == "Total" and "Total" not in out.index
    assert hidden_of(out).tolist() == [[True, True, False, False], [False, False, False, False]]
    out = assert_protected(df, row_totals=False, col_totals=True)
    assert hidden_of(out).tolist() == [[True, False, False], [True, False, False], [False, False, False]]


def test_deterministic():
    df = frame([[3, 15, 50, 7], [40, 90, 12, 33], [45, 20, 80, 9], [11, 11, 11, 11]])
    first = protect_table(df)
    for _ in range(3):
        again = protect_table(df.copy())
        assert again.equals(first)
        assert protection(again).suppressed.equals(protection(first).suppressed)
        assert protection(again).reasons.equals(protection(first).reasons)
    assert protect_table(df.astype("int32")).equals(first)


def test_ties_broken_by_position():
    df = frame([[4, 20, 20], [20, 20, 20]])
    h = hidden_of(assert_protected(df))
    assert h.tolist()[:2] == [[True, True, False, False], [True, True, False, False]]


# --------------------------------------------------------------------------- series


def test_series_with_total():
    s = pd.Series([4, 20, 30], index=["x", "y", "z"], name="victims")
    out = protect_series(s)
    assert out.name == "victims"
    assert out.to_dict() == {"x": TEXT_SMALL, "y": TEXT_HIDDEN, "z": "30", "Total": "55"}
    prot = protection(out)
    assert prot.suppressed.tolist() == [True, True, False, False]
    assert prot.reasons.tolist() == [REASON_PRIMARY, REASON_SECONDARY, "", ""]
    assert prot.values.tolist() == [None, None, 30, 55]
    assert is_safe(out)


def test_series_cases():
    assert protect_series(pd.Series([4, 20, 30]), total=False).tolist() == [TEXT_SMALL, "20", "30"]
    # a lone small item: the total equals it, so the total is hidden too and nothing else is
    assert protect_series(pd.Series([4, 0, 0], index=list("abc"))).tolist() == [
        TEXT_SMALL,
        "0",
        "0",
        TEXT_SMALL,
    ]
    assert protect_series(pd.Series([3, 4, 50], index=list("abc"))).tolist() == [
        TEXT_SMALL,
        TEXT_SMALL,
        "50",
        "55",
    ]
    assert protect_series(pd.Series([5])).tolist() == [TEXT_SMALL, TEXT_SMALL]
    assert protect_series(pd.Series([12, 13])).tolist() == ["10", "15", "25"]
    assert protect_series(pd.Series([], dtype="int64")).tolist() == ["0"]


def test_series_rejects():
    with pytest.raises(ValueError, match=r"count at 'b'.*2\.5"):
        protect_series(pd.Series([1, 2.5], index=["a", "b"], dtype=object))
    with pytest.raises(ValueError, match="Total"):
        protect_series(pd.Series([1, 2], index=["a", "Total"]))
    with pytest.raises(ValueError):
        protect_series(pd.DataFrame({"a": [1]}))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- validation and attrs


def test_table_rejects_bad_counts_naming_them():
    mixed = pd.DataFrame([[1, 2], [3, 2.5]], index=["r1", "r2"], columns=["a", "b"], dtype=object)
    mixed.loc["r1", "b"] = 2
    with pytest.raises(ValueError, match=r"row 'r2', column 'b'.*2\.5"):
        protect_table(mixed)
    with pytest.raises(ValueError, match=r"row 'r1', column 'b'.*2\.0"):
        protect_table(frame([[1, 2], [3, 2.5]]))  # a float column: its first value is named
    with pytest.raises(ValueError, match="-3"):
        protect_table(frame([[1, -3]]))
    with pytest.raises(ValueError, match="True"):
        protect_table(frame([[True, False]]))
    with pytest.raises(ValueError, match="NA"):
        protect_table(frame([[1, 2]]).astype("Int64").where(lambda d: d < 2))
    with pytest.raises(ValueError, match="3.0"):
        protect_table(frame([[3.0, 4.0]]))  # whole-valued floats are refused too


def test_table_rejects_bad_labels():
    with pytest.raises(ValueError, match="Total"):
        protect_table(frame([[1, 2]], columns=["a", "Total"]))
    with pytest.raises(ValueError, match="Total"):
        protect_table(frame([[1, 2]], index=["Total"]))
    with pytest.raises(ValueError, match="duplicate"):
        protect_table(frame([[1, 2]], columns=["a", "a"]))
    with pytest.raises(ValueError, match="MultiIndex"):
        protect_table(pd.DataFrame([[1, 2]], columns=pd.MultiIndex.from_tuples([("a", 1), ("a", 2)])))


def test_empty_table():
    out = protect_table(pd.DataFrame({"a": pd.Series([], dtype="int64"), "b": pd.Series([], dtype="int64")}))
    assert out.to_numpy().tolist() == [["0", "0", "0"]]


def test_labels_and_names_kept():
    df = frame([[12, 30]], index=["Bow East"], columns=["Under 18", "18 and over"])
    df.index.name, df.columns.name = "ward", "age"
    out = protect_table(df)
    assert out.index.name == "ward" and out.columns.name == "age"
    assert list(out.index) == ["Bow East", "Total"] and list(out.columns) == [
        "Under 18",
        "18 and over",
        "Total",
    ]


def test_attrs_pattern_shapes_and_no_raw_counts():
    df = frame([[4, 20, 13], [25, 35, 41]])
    out = protect_table(df)
    prot = out.attrs["disclosure"]
    assert isinstance(prot, Protection) and prot is protection(out)
    for part in (prot.suppressed, prot.reasons, prot.values):
        assert part.shape == out.shape and part.index.equals(out.index) and part.columns.equals(out.columns)
    assert prot.suppressed.dtypes.eq(bool).all()
    published = {v for row in prot.values.to_numpy().tolist() for v in row if v is not None}
    assert all(v % 5 == 0 for v in published) and 13 not in published and 41 not in published


def test_protected_frames_can_be_concatenated():
    a = protect_table(frame([[4, 20], [25, 35]]))
    b = protect_table(frame([[40, 20], [25, 35]]))
    both = pd.concat([a, b])  # a DataFrame kept directly in attrs would make this raise
    assert both.shape == (6, 3)
    with pytest.raises(ValueError):
        protection(both)


def test_protection_refuses_a_reshaped_table():
    out = protect_table(frame([[4, 20], [25, 35]]))
    with pytest.raises(ValueError, match="reshaped"):
        protection(out.T)
    with pytest.raises(ValueError, match="no suppression pattern"):
        protection(frame([[1]]))


# --------------------------------------------------------------------------- is_safe


def test_is_safe():
    assert is_safe(protect_table(frame([[4, 20, 13], [25, 35, 41]])))
    assert not is_safe(frame([[7, 20], [25, 35]]))
    assert not is_safe(frame([[12, 20]]))
    assert is_safe(frame([[0, 10, 15]]))
    assert is_safe(pd.DataFrame([["1,235", TEXT_SMALL, TEXT_HIDDEN, "0", "", None, np.nan]]))
    assert not is_safe(pd.DataFrame([["7"]]))
    assert not is_safe(pd.DataFrame([["1,234"]]))
    assert not is_safe(pd.DataFrame([["12.5"]]))
    assert not is_safe(pd.DataFrame([["-5"]]))
    assert is_safe(pd.Series(["15", TEXT_SMALL]))
    assert not is_safe(pd.Series([3]))
