"""Stop and search in the borough: who is searched, for what, with what result, when and where.

Plan priority 4 asks the partnership to understand stop-and-search disproportionality. This module
turns the police.uk records held (warehouse table ``stop_search``; queries in
``queries/stop_search/``) into the figures the Stop and search page shows. It imports no Streamlit.

What the figures mean, in plain words
-------------------------------------
* **Ethnicity, two ways.** police.uk publishes the officer's view (``officer_defined_ethnicity``:
  Asian, Black, White, Other; no Mixed category) and the person's own answer
  (``self_defined_ethnicity``: the 16+1 or 18+1 census categories as free text, in two spellings
  over the years). Self-defined answers are grouped into the five broad ONS 2021 groups plus
  "Not stated" by :func:`ethnic_group` (rules in :data:`ETHNIC_GROUP_RULES`).
* **"Find rate"** (:data:`NFA_OUTCOMES`): the share of searches whose outcome is anything other
  than no further action. police.uk has used two wordings for no further action:
  "Nothing found - no further action" (to Dec 2017) and "A no further action disposal" (from Jan
  2018). Every other outcome (arrest, summons, caution, community resolution, penalty notice,
  drugs or khat warning, local resolution, "Article found - detailed outcome unavailable") counts
  as a find. It is an *outcome* rate: an arrest need not mean the item searched for was found, and
  a no-further-action search may still have found something.
* **"Linked" share**: searches whose outcome the officer recorded as linked to the object of the
  search (``outcome_linked`` true), over searches where that field is filled in. Searches where it
  is blank are left out of that denominator.
* **Group differences** are tested group against all other groups together with Fisher's exact
  test on the 2 x 2 table, and the p-values are adjusted with Benjamini-Hochberg across the
  groups compared (so looking at six groups does not give six chances of a false alarm). A
  difference is called *clear* when the adjusted p-value is below 0.05. Non-overlapping 95%
  intervals are a stricter (conservative) visual check; overlapping intervals do not rule out a
  real difference.
* **Disproportionality rates** (searches per 1,000 residents of each ethnic group, and each group's
  rate against the White group's) are in :mod:`csp_data.analysis.search_rates`, from the Census 2021
  residents by ethnic group in the warehouse (``borough_population``); for a borough without them
  the page says so (:func:`awaiting_ethnicity_sentence`) and no population is ever assumed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats as _st

from csp_data.analysis.scorecard import fmt_change
from csp_data.analysis.stats import Comparison
from csp_data.analysis.trends import wilson_interval
from csp_data.config import Settings
from csp_data.config import settings as get_settings
from csp_data.plan.periods import Period, add_months, financial_year, fy_of, make, months_between
from csp_data.warehouse import sql

# ------------------------------------------------------------------------------------- constants

NFA_OUTCOMES = ("A no further action disposal", "Nothing found - no further action")
ETHNIC_GROUPS = ("Asian", "Black", "Mixed", "White", "Other", "Not stated")
UNMAPPED = "Unmapped"
NOT_RECORDED = "Not recorded"
OFFICER_GROUPS = ("Asian", "Black", "White", "Other", NOT_RECORDED)
AGE_ORDER = ("under 10", "10-17", "18-24", "25-34", "over 34", NOT_RECORDED)
ALPHA = 0.05
SMALL_N = 30  # fewer searches than this in a group: "small numbers"
INCOMPLETE_SHARE = 0.25  # a month held with fewer than this share of the median month is flagged

# Rules applied in order to the self-defined text (case-insensitive, surrounding space ignored).
# (how it is matched, the text, the group, why)
ETHNIC_GROUP_RULES: tuple[tuple[str, str, str, str], ...] = (
    ("blank", "", "Not stated", "no self-defined ethnicity recorded"),
    ("contains", "not stated", "Not stated", "'Not Stated (NS)' and 'Other ethnic group - Not stated'"),
    ("starts with", "asian", "Asian", "'Asian/Asian British - …' and 'Asian or Asian British - … (A1-A9)'"),
    (
        "starts with",
        "chinese or other ethnic group - chinese",
        "Asian",
        "the 2001 code O1: Chinese has been in the Asian group since the 2011 census",
    ),
    (
        "starts with",
        "black",
        "Black",
        "'Black/African/Caribbean/Black British - …' and 'Black or Black British - … (B1-B9)'",
    ),
    ("starts with", "mixed", "Mixed", "'Mixed/Multiple ethnic groups - …' and 'Mixed - … (M1-M9)'"),
    (
        "starts with",
        "white",
        "White",
        "includes Irish, Gypsy or Irish Traveller and any other White background",
    ),
    ("starts with", "other ethnic group", "Other", "includes Arab and any other ethnic group"),
    ("starts with", "chinese or other ethnic group", "Other", "the 2001 code O9 (any other ethnic group)"),
)


class Dimension(NamedTuple):
    """One way of breaking searches down: the one home of its labels."""

    column: str  # column in the grouped profile (:func:`grouped`)
    title: str  # what it is, in words ("Self-defined ethnicity (grouped)")
    heading: str  # its column heading in charts and tables ("Group")


DIMENSIONS: dict[str, Dimension] = {
    "self": Dimension("self_group", "Self-defined ethnicity (grouped)", "Group"),
    "officer": Dimension("officer_group", "Officer-defined ethnicity", "Ethnicity"),
    "age": Dimension("age_group", "Age group", "Age group"),
    "gender": Dimension("gender_group", "Gender", "Gender"),
    "object": Dimension("object_group", "Object of search", "Object of search"),
    "outcome": Dimension("outcome_group", "Outcome", "Outcome"),
}
# The two ethnicity fields a reader may choose between, as the choice is labelled.
BASIS_LABELS: dict[str, str] = {"self": "Self-defined (grouped)", "officer": "Officer-defined"}
ORDERS: dict[str, tuple[str, ...]] = {
    "self": ETHNIC_GROUPS + (UNMAPPED,),
    "officer": OFFICER_GROUPS,
    "age": AGE_ORDER,
}

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


# ------------------------------------------------------------------------------------- ethnicity


def ethnic_group(value) -> str | None:
    """The broad group for a self-defined ethnicity text, or None if no rule matches."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "Not stated"
    text = " ".join(str(value).split()).lower()
    for how, pattern, group, _why in ETHNIC_GROUP_RULES:
        if how == "blank" and text == "":
            return group
        if how == "contains" and pattern in text:
            return group
        if how == "starts with" and text.startswith(pattern):
            return group
    return None


def unmapped(values) -> list[str]:
    """Distinct self-defined values that no rule maps to a group (should be empty)."""
    return sorted({str(v) for v in values if ethnic_group(v) is None})


def rules_table() -> pd.DataFrame:
    """The grouping rules as a readable table (for the page's documentation)."""
    how = {"blank": "Blank or missing", "contains": "Contains", "starts with": "Starts with"}
    return pd.DataFrame(
        [
            {"Order": i, "Rule": how[h] + (f" “{p}”" if p else ""), "Group": g, "Covers": w}
            for i, (h, p, g, w) in enumerate(ETHNIC_GROUP_RULES, start=1)
        ]
    )


def mapping_table(profile: pd.DataFrame) -> pd.DataFrame:
    """Every distinct self-defined value in ``profile`` with its group and number of searches."""
    raw = (
        profile["self_defined_ethnicity"]
        .astype(object)
        .where(profile["self_defined_ethnicity"].notna(), None)
    )
    df = pd.DataFrame(
        {
            "value": raw.map(lambda v: "(blank)" if v is None else v),
            "group": raw.map(lambda v: ethnic_group(v) or UNMAPPED),
            "searches": profile["searches"].astype(int),
        }
    )
    out = df.groupby(["group", "value"], as_index=False)["searches"].sum()
    order = {g: i for i, g in enumerate(ORDERS["self"])}
    out = out.sort_values(
        ["group", "searches", "value"],
        key=lambda s: s.map(order) if s.name == "group" else s,
        ascending=[True, False, True],
        kind="mergesort",
    )
    return out.rename(
        columns={"value": "Self-defined ethnicity (as published)", "group": "Group", "searches": "Searches"}
    ).reset_index(drop=True)


def unmapped_answers(mapping: pd.DataFrame) -> list[str]:
    """The published answers in a :func:`mapping_table` that no rule groups (shown as 'Unmapped')."""
    return list(mapping.loc[mapping["Group"] == UNMAPPED, "Self-defined ethnicity (as published)"])


# ------------------------------------------------------------------------------------- coverage


@dataclass(frozen=True)
class Coverage:
    first_month: date
    last_month: date
    months_held: int
    searches: int
    with_timestamp: int
    with_location: int
    snapshot: str
    missing: tuple[date, ...] = field(default_factory=tuple)  # months in the span with no records
    incomplete: tuple[date, ...] = field(default_factory=tuple)  # months held but far below the usual

    @property
    def span_months(self) -> int:
        return months_between(self.first_month, self.last_month) + 1


def _as_date(v) -> date:
    ts = pd.Timestamp(v)
    return date(ts.year, ts.month, 1)


def month_runs(months) -> list[str]:
    """Consecutive months as spans: ['Mar 2019 to May 2021', 'Jan 2022']."""
    spans: list[list[date]] = []
    for m in sorted(months):
        if spans and months_between(spans[-1][-1], m) == 1:
            spans[-1].append(m)
        else:
            spans.append([m])
    return [f"{s[0]:%b %Y}" if len(s) == 1 else f"{s[0]:%b %Y} to {s[-1]:%b %Y}" for s in spans]


def incomplete_months(monthly: pd.DataFrame) -> list[date]:
    """Months held whose count is below a quarter of the median month held (partly published)."""
    if monthly.empty:
        return []
    median = float(monthly["searches"].median())
    return [
        _as_date(m) for m, n in zip(monthly["month"], monthly["searches"]) if n < INCOMPLETE_SHARE * median
    ]


def coverage(cov: pd.DataFrame, monthly: pd.DataFrame) -> Coverage:
    """Coverage from ``stop_search/coverage`` and the borough-wide ``stop_search/monthly``."""
    r = cov.iloc[0]
    held = {_as_date(m) for m in monthly["month"]}
    first, last = _as_date(r["first_month"]), _as_date(r["last_month"])
    span = [add_months(first, i) for i in range(months_between(first, last) + 1)]
    return Coverage(
        first,
        last,
        int(r["months_held"]),
        int(r["searches"]),
        int(r["with_timestamp"]),
        int(r["with_location"]),
        str(r["snapshot"]),
        tuple(m for m in span if m not in held),
        tuple(incomplete_months(monthly)),
    )


@dataclass(frozen=True)
class PeriodChoice:
    key: str
    label: str
    period: Period
    months_held: int

    @property
    def complete(self) -> bool:
        return self.months_held == self.period.n_months


def period_choices(monthly: pd.DataFrame) -> list[PeriodChoice]:
    """Last 12 months to the latest month held, each financial year with data (newest first), all data."""
    held = sorted({_as_date(m) for m in monthly["month"]})
    if not held:
        return []
    latest, first = held[-1], held[0]

    def n_held(p: Period) -> int:
        return sum(1 for m in held if m in p)

    def held_words(p: Period, n: int) -> str:
        return "all months held" if n == p.n_months else f"{n} of {p.n_months} months held"

    out = []
    last12 = make(add_months(latest, -11), latest)
    n = n_held(last12)
    out.append(PeriodChoice("last12", f"Last 12 months ({last12.label}; {held_words(last12, n)})", last12, n))
    fy = fy_of(latest)
    while fy.end >= first:
        n = n_held(fy)
        if n:
            clipped = fy.end > latest
            words = (
                f"{fy.label} to date ({n} months held, to {latest:%b %Y})"
                if clipped
                else f"{fy.label} ({held_words(fy, n)})"
            )
            out.append(PeriodChoice(fy.label, words, fy, n))
        fy = financial_year(fy.start.year - 1)
    whole = make(first, latest)
    out.append(
        PeriodChoice(
            "all", f"All data ({first:%b %Y} to {latest:%b %Y}; {len(held)} months held)", whole, len(held)
        )
    )
    return out


def previous_comparable(choice: PeriodChoice, monthly: pd.DataFrame) -> Period | None:
    """The equal period before ``choice`` when both have every month held (else None: no fair comparison)."""
    if choice.key == "all" or not choice.complete:
        return None
    prev = choice.period.previous()
    held = {_as_date(m) for m in monthly["month"]}
    return prev if all(m in held for m in prev.months()) else None


def headline_change(total: int, before: int, period: Period, monthly: pd.DataFrame) -> Comparison:
    """The headline verdict on searches in ``period`` against the equal period before: the one count
    model (:func:`csp_data.analysis.stats.compare_counts` with the search series' own dispersion, from
    :func:`csp_data.analysis.stats.series_dispersion` over the 36 months to the period's end; months with no
    published records or far fewer than usual are left out of that estimate, never taken as 0)."""
    from csp_data.analysis.stats import compare_counts, series_dispersion

    low = set(incomplete_months(monthly))
    series = pd.DataFrame({"month": [_as_date(m) for m in monthly["month"]], "count": monthly["searches"]})
    series = series[~series["month"].isin(low)]
    disp = series_dispersion(series, end=period.end)
    return compare_counts(total, before, phi=disp.for_comparison(period.n_months))


def headline_words(c: Comparison) -> str:
    """The caption under the headline count: symbol, verdict, plain words and the test used."""
    from csp_data.analysis.stats import plain_words

    return f"{c.symbol} {c.verdict}: {plain_words(c, None)} ({c.test_words})."


def find_totals(g: pd.DataFrame) -> tuple[int, int]:
    """(searches with a find, searches with an outcome recorded) in a grouped profile: the figures
    behind the headline find rate (the same totals :func:`rates_by` keeps in its ``attrs``)."""
    rec = g[g["found"].notna()]
    return int(round(float((rec["found"] * rec["searches"]).sum()))), int(rec["searches"].sum())


@dataclass(frozen=True)
class Headline:
    """The page's headline figures for one period and ward: searches, the find rate with its 95%
    Wilson interval, and the change against the equal period before when that comparison is fair."""

    searches: int
    found: int  # searches whose outcome is other than no further action
    recorded: int  # searches with an outcome recorded (the find rate's denominator)
    find_low: float  # 95% Wilson interval of the find rate, as fractions
    find_high: float
    previous: Period | None = None  # the equal period before (None: no fair comparison)
    before: int | None = None  # searches in it
    change: Comparison | None = None

    @property
    def find_pct(self) -> float:
        return self.found / self.recorded * 100 if self.recorded else float("nan")

    @property
    def change_figures(self) -> str:
        """'-1,591 (-22.8%)': the change in searches against the period before."""
        return fmt_change(self.change)

    @property
    def change_words(self) -> str:
        """The verdict on that change in words (:func:`headline_words`); empty without a comparison."""
        return headline_words(self.change) if self.change is not None else ""


def headline(
    g: pd.DataFrame,
    choice: PeriodChoice,
    monthly: pd.DataFrame,
    load_before: Callable[[Period], pd.DataFrame],
) -> Headline:
    """The headline figures from the grouped profile ``g`` of ``choice``'s period and the monthly
    counts of the same area. ``load_before(period)`` gives the grouped profile of the equal period
    before; it is called only when :func:`previous_comparable` finds a fair comparison."""
    total = int(g["searches"].sum())
    k, n = find_totals(g)
    lo, hi = wilson_interval(k, n)
    prev = previous_comparable(choice, monthly)
    if prev is None or total == 0:
        return Headline(total, k, n, lo, hi)
    before = int(load_before(prev)["searches"].sum())
    change = headline_change(total, before, choice.period, monthly)
    return Headline(total, k, n, lo, hi, prev, before, change)


# ------------------------------------------------------------------------------------- breakdowns


def _label(v) -> str:
    return (
        NOT_RECORDED
        if v is None or (not isinstance(v, str) and pd.isna(v)) or str(v).strip() == ""
        else str(v)
    )


def grouped(profile: pd.DataFrame) -> pd.DataFrame:
    """The profile with one readable column per dimension, plus the find and linked flags.

    ``found``: 1 if the outcome is other than no further action, 0 if no further action, NaN if no
    outcome is recorded. ``linked``: 1/0 from ``outcome_linked``, NaN where blank.
    """
    p = profile.copy()
    p["searches"] = p["searches"].astype(int)
    p["self_group"] = p["self_defined_ethnicity"].astype(object).map(lambda v: ethnic_group(v) or UNMAPPED)
    p["officer_group"] = p["officer_defined_ethnicity"].map(_label)
    p["age_group"] = p["age_range"].map(_label)
    p["gender_group"] = p["gender"].map(_label)
    p["object_group"] = p["object_of_search"].map(_label)
    p["outcome_group"] = p["outcome"].map(_label)
    out = p["outcome"].astype(object)
    p["found"] = [
        np.nan if (o is None or (not isinstance(o, str) and pd.isna(o))) else float(o not in NFA_OUTCOMES)
        for o in out
    ]
    p["linked"] = [np.nan if pd.isna(v) else float(bool(v)) for v in p["outcome_linked"].astype(object)]
    return p


def _ordered(df: pd.DataFrame, dim: str, col: str) -> pd.DataFrame:
    order = ORDERS.get(dim)
    if order:
        rank = {g: i for i, g in enumerate(order)}
        return df.sort_values(col, key=lambda s: s.map(lambda v: rank.get(v, len(rank))), kind="mergesort")
    return df.sort_values(["searches", col], ascending=[False, True], kind="mergesort")


def counts_by(g: pd.DataFrame, dim: str) -> pd.DataFrame:
    """Searches per category of ``dim`` (a key of :data:`DIMENSIONS`) with each one's share (%)."""
    col = DIMENSIONS[dim].column
    out = g.groupby(col, as_index=False)["searches"].sum()
    out = out[out["searches"] > 0]
    total = int(out["searches"].sum())
    out["share_pct"] = out["searches"] / total * 100 if total else np.nan
    out = _ordered(out, dim, col).rename(columns={col: "category"})
    return out[["category", "searches", "share_pct"]].reset_index(drop=True)


# ------------------------------------------------------------------------------------- rates


def _fisher(k: int, n: int, rk: int, rn: int) -> float:
    if n <= 0 or rn <= 0:
        return float("nan")
    return float(_st.fisher_exact([[k, n - k], [rk, rn - rk]], alternative="two-sided").pvalue)


def bh_adjust(p: list[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values; NaN (not tested) stays NaN and is not counted."""
    arr = np.asarray(p, dtype=float)
    out = np.full(arr.shape, np.nan)
    ok = ~np.isnan(arr)
    if ok.any():
        out[ok] = _st.false_discovery_control(arr[ok], method="bh")
    return list(out)


def rates_by(g: pd.DataFrame, dim: str, measure: str = "found") -> pd.DataFrame:
    """Rate of ``measure`` ('found' or 'linked') per category of ``dim``, with a 95% Wilson
    interval, the rate among all other categories, Fisher's exact p (category vs the rest), the
    Benjamini-Hochberg adjusted p across categories, and a verdict in words.

    The denominator ``n`` is searches where ``measure`` is recorded; ``k`` those where it is 1.
    """
    col = DIMENSIONS[dim].column
    rec = g[g[measure].notna()]
    agg = (
        rec.assign(k=rec[measure] * rec["searches"])
        .groupby(col, as_index=False)
        .agg(n=("searches", "sum"), k=("k", "sum"))
    )
    agg = agg[agg["n"] > 0]
    agg["k"] = agg["k"].round().astype(int)
    agg["n"] = agg["n"].astype(int)
    agg = (
        _ordered(agg.assign(searches=agg["n"]), dim, col)
        .drop(columns=["searches"])
        .rename(columns={col: "group"})
    )
    N, K = int(agg["n"].sum()), int(agg["k"].sum())
    rows = []
    for r in agg.itertuples(index=False):
        lo, hi = wilson_interval(r.k, r.n)
        rn, rk = N - r.n, K - r.k
        rlo, rhi = wilson_interval(rk, rn)
        rows.append(
            {
                "group": r.group,
                "n": r.n,
                "k": r.k,
                "rate_pct": r.k / r.n * 100,
                "low_pct": lo * 100,
                "high_pct": hi * 100,
                "rest_n": rn,
                "rest_k": rk,
                "rest_rate_pct": rk / rn * 100 if rn else np.nan,
                "rest_low_pct": rlo * 100,
                "rest_high_pct": rhi * 100,
                "p_value": _fisher(r.k, r.n, rk, rn),
            }
        )
    out = pd.DataFrame(
        rows,
        columns=[
            "group",
            "n",
            "k",
            "rate_pct",
            "low_pct",
            "high_pct",
            "rest_n",
            "rest_k",
            "rest_rate_pct",
            "rest_low_pct",
            "rest_high_pct",
            "p_value",
        ],
    )
    out["p_adjusted"] = bh_adjust(list(out["p_value"]))
    out["intervals_separate"] = (out["low_pct"] > out["rest_high_pct"]) | (
        out["high_pct"] < out["rest_low_pct"]
    )
    out["small_numbers"] = out["n"] < SMALL_N
    out["verdict"] = [_verdict(r, K) for r in out.itertuples(index=False)]
    out.attrs.update(n=N, k=K, rate_pct=K / N * 100 if N else np.nan, measure=measure)
    return out


def _verdict(r, total_k: int) -> str:
    if total_k == 0:
        return "cannot be compared (no search has this outcome)"
    if math.isnan(r.p_adjusted):
        return "not tested (no other group to compare with)"
    if r.p_adjusted < ALPHA:
        side = "higher" if r.rate_pct > r.rest_rate_pct else "lower"
        return f"clearly {side} than the other groups"
    return "no clear difference from the other groups"


def rate_sentences(rates: pd.DataFrame, what: str) -> list[str]:
    """Plain-words summary of which groups differ clearly and which do not."""
    if rates.empty:
        return [f"No searches in this selection have {what} recorded."]
    if rates.attrs.get("k", 0) == 0:
        return [
            f"None of the {rates.attrs.get('n', 0):,d} searches has {what}, so groups cannot be compared."
        ]

    def item(r) -> str:
        p = _p(r.p_adjusted)
        return (
            f"{r.group} ({r.rate_pct:.1f}% against {r.rest_rate_pct:.1f}% for the rest; "
            f"adjusted p {p if p.startswith('<') else '= ' + p})"
        )

    higher = [item(r) for r in rates.itertuples() if r.verdict.startswith("clearly higher")]
    lower = [item(r) for r in rates.itertuples() if r.verdict.startswith("clearly lower")]
    unclear = [
        r.group + (" (small numbers)" if r.small_numbers else "")
        for r in rates.itertuples()
        if r.verdict.startswith("no clear")
    ]
    out = []
    if higher:
        out.append("Clearly higher than the other groups combined: " + "; ".join(higher) + ".")
    if lower:
        out.append("Clearly lower than the other groups combined: " + "; ".join(lower) + ".")
    if unclear:
        out.append(
            "No clear difference from the other groups (the gap could be chance): " + _and(unclear) + "."
        )
    if not (higher or lower):
        out.insert(0, "No group differs clearly from the others.")
    sep_clear = [
        r.group for r in rates.itertuples() if r.intervals_separate and r.verdict.startswith("clearly")
    ]
    sep_unclear = [
        r.group for r in rates.itertuples() if r.intervals_separate and not r.verdict.startswith("clearly")
    ]
    if sep_clear:
        out.append(
            f"For {_and(sep_clear)}, the 95% interval does not even overlap the interval of the other groups "
            "combined (a stricter check)."
        )
    if sep_unclear:
        out.append(
            f"For {_and(sep_unclear)}, the intervals do not overlap, but once the number of groups compared is "
            "allowed for, the difference is not clear: treat it as a possible difference only."
        )
    return out


def _and(items: list[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _p(p: float) -> str:
    if math.isnan(p):
        return "n/a"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def rate_table(rates: pd.DataFrame, group_label: str, count_label: str) -> pd.DataFrame:
    """The rates with readable column names, for a table and its CSV."""
    return pd.DataFrame(
        {
            group_label: rates["group"],
            "Searches (n)": rates["n"].astype(int),
            count_label: rates["k"].astype(int),
            "Rate (%)": rates["rate_pct"].round(1),
            "95% low (%)": rates["low_pct"].round(1),
            "95% high (%)": rates["high_pct"].round(1),
            "Other groups (%)": rates["rest_rate_pct"].round(1),
            "p (Fisher)": rates["p_value"].map(_p),
            "Adjusted p (BH)": rates["p_adjusted"].map(_p),
            "Difference": rates["verdict"]
            + rates["small_numbers"].map(lambda s: "; small numbers" if s else ""),
        }
    )


# ------------------------------------------------------------------------------------- time


def monthly_series(monthly: pd.DataFrame) -> pd.DataFrame:
    """Every month from the first to the last held (NaN where none held), a note for incomplete
    months, and a 12-month rolling average computed only over 12 full months held."""
    if monthly.empty:
        return pd.DataFrame(columns=["month", "count", "rolling12", "note"])
    counts = {_as_date(m): int(n) for m, n in zip(monthly["month"], monthly["searches"])}
    first, last = min(counts), max(counts)
    months = [add_months(first, i) for i in range(months_between(first, last) + 1)]
    low = set(incomplete_months(monthly))
    df = pd.DataFrame({"month": months, "count": [counts.get(m, np.nan) for m in months]})
    df["note"] = [
        "no records published"
        if m not in counts
        else ("far fewer records than usual (most could not be placed)" if m in low else "")
        for m in months
    ]
    usable = df["count"].where(df["note"] == "")
    df["rolling12"] = usable.rolling(12, min_periods=12).mean()
    return df[["month", "count", "rolling12", "note"]]


def heatmap_frame(hm: pd.DataFrame) -> pd.DataFrame:
    """The 7 x 24 grid from ``stop_search/heatmap`` with day names, for the chart builder."""
    out = hm.rename(columns={"searches": "count"})[["weekday", "hour", "count"]].copy()
    out["day"] = out["weekday"].map(lambda i: WEEKDAYS[int(i) - 1])
    return out


# ------------------------------------------------------------------------------------- place


def ward_table(wards: pd.DataFrame) -> pd.DataFrame:
    """Searches per ward with share and searches per 1,000 residents."""
    df = wards.copy()
    total = int(df["searches"].sum())
    df["share_pct"] = df["searches"] / total * 100 if total else np.nan
    df["per_1000_residents"] = df["searches"] / df["population"] * 1000
    return df.sort_values(["searches", "ward_name"], ascending=[False, True]).reset_index(drop=True)


def ward_display_table(wards: pd.DataFrame) -> pd.DataFrame:
    """A :func:`ward_table` with readable column names and rounded figures, for a table and its CSV."""
    return pd.DataFrame(
        {
            "Ward": wards["ward_name"],
            "Searches": wards["searches"].astype(int),
            "Share of borough (%)": wards["share_pct"].round(1),
            "Per 1,000 residents": wards["per_1000_residents"].round(1),
            "Residents (Census 2021)": wards["population"].astype(int),
        }
    )


def located(points: pd.DataFrame) -> tuple[pd.DataFrame, int, int]:
    """(points with a location, number without, total)."""
    ok = points.dropna(subset=["longitude", "latitude"])
    return ok.reset_index(drop=True), len(points) - len(ok), len(points)


# ------------------------------------------------------------------------------------- denominators


def awaiting_ethnicity_sentence(cfg: Settings | None = None) -> str:
    cfg = cfg or get_settings()
    return f"Awaiting data: Census 2021 population by ethnic group for {cfg.borough_name} is not held."


# ------------------------------------------------------------------------------------- loaders


def load_monthly(ward_code: str = "") -> pd.DataFrame:
    return sql.run("stop_search/monthly", ward_code=ward_code)


def load_profile(period: Period, ward_code: str = "") -> pd.DataFrame:
    return sql.run("stop_search/profile", start=period.start, end=period.end, ward_code=ward_code)


def load_heatmap(period: Period, ward_code: str = "") -> pd.DataFrame:
    return sql.run("stop_search/heatmap", start=period.start, end=period.end, ward_code=ward_code)


def load_points(period: Period, ward_code: str = "") -> pd.DataFrame:
    return sql.run("stop_search/points", start=period.start, end=period.end, ward_code=ward_code)


def load_wards(period: Period) -> pd.DataFrame:
    return sql.run("stop_search/wards", start=period.start, end=period.end)


def load_coverage() -> Coverage:
    return coverage(sql.run("stop_search/coverage"), load_monthly(""))
