"""Stop-and-search rates per 1,000 residents by ethnic group, and the disproportionality ratios the
Home Office and MOPAC publish (each group's rate against the White group's), for the borough and for
London. Method and caveats: docs/STATISTICS.md, "Stop and search rates by ethnic group".

* **Searches**: the records placed in the area (:mod:`csp_data.warehouse.london`; a record with no
  map point cannot be placed and is in no area's count), in the months held of the period.
  Self-defined ethnicity is grouped by :func:`csp_data.analysis.stop_search.ethnic_group`; "Not
  stated" (and any answer no rule groups) is left out and counted. The officer-defined view maps
  the officer's four groups to the Census groups of the same name; it has no Mixed group, so people
  of Mixed ethnicity are counted in another group and no Mixed rate is given.
* **Residents**: Census 2021 usual residents of all ages (TS021) in each broad group: the people who
  live in the area in March 2021, not the people present when searches happen (workers, visitors,
  people passing through), and not today's population.
* **London**: the 32 boroughs the Metropolitan Police covers (City of London excluded from both the
  searches and the residents).
* **Rate** = searches / residents x 1,000 over the months held (not annualised: a period with fewer
  months held gives a lower rate, so the months held are always shown).
* **Ratio** = a group's rate / the White group's rate, with a 95% interval for the ratio of two
  Poisson rates, exact and conditional on the two groups' total (:func:`ratio_interval`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
from scipy import stats as _st

from csp_data.analysis.stop_search import ethnic_group

GROUPS = ("Asian", "Black", "Mixed", "White", "Other")
OFFICER_GROUPS = ("Asian", "Black", "White", "Other")  # the officer's view has no Mixed group
REFERENCE = "White"
CITY_OF_LONDON = "E09000001"
LEVEL = 0.95
POPULATION_LABEL = "all-ages usual residents, Census 2021"
BASES = {"self": "Self-defined ethnicity (grouped)", "officer": "Officer-defined ethnicity"}


def ratio_interval(
    k1: int, n1: float, k2: int, n2: float, level: float = LEVEL
) -> tuple[float, float, float]:
    """(ratio, low, high) for the ratio of two Poisson rates ``(k1/n1) / (k2/n2)``.

    Exact conditional interval: given ``k1 + k2`` events, ``k1`` is binomial with probability
    ``p = R n1 / (R n1 + n2)``; the Clopper-Pearson interval for ``p`` is turned into one for ``R``
    (``R = p / (1 - p) x n2 / n1``). It keeps at least its stated coverage with small counts. The
    ratio is NaN when ``k2`` is 0 (no reference searches); the low end is 0 when ``k1`` is 0."""
    if n1 <= 0 or n2 <= 0:
        raise ValueError("ratio_interval: exposures must be positive")
    ratio = (k1 / n1) / (k2 / n2) if k2 > 0 else math.nan
    total = k1 + k2
    if total == 0:
        return ratio, math.nan, math.nan
    a = (1 - level) / 2
    p_low = _st.beta.ppf(a, k1, total - k1 + 1) if k1 > 0 else 0.0
    p_high = _st.beta.ppf(1 - a, k1 + 1, total - k1) if k2 > 0 else 1.0
    scale = n2 / n1
    low = p_low / (1 - p_low) * scale
    high = p_high / (1 - p_high) * scale if p_high < 1 else math.inf
    return ratio, float(low), float(high)


def group_of(basis: str, self_defined, officer_defined) -> str | None:
    """The Census group a search counts in for ``basis`` ('self' or 'officer'), or None (excluded)."""
    if basis == "self":
        g = ethnic_group(self_defined)
        return g if g in GROUPS else None
    v = officer_defined if isinstance(officer_defined, str) else None
    return v if v in OFFICER_GROUPS else None


def searches_by_group(counts: pd.DataFrame, basis: str) -> tuple[dict[str, int], int]:
    """({group: searches}, searches left out) from rows with ``self_defined_ethnicity``,
    ``officer_defined_ethnicity`` and ``searches`` (the stop_search/profile shape)."""
    groups = [
        group_of(basis, s, o)
        for s, o in zip(counts["self_defined_ethnicity"].astype(object), counts["officer_defined_ethnicity"])
    ]
    df = pd.DataFrame({"group": groups, "searches": counts["searches"].astype("int64").to_numpy()})
    got = df.dropna(subset=["group"]).groupby("group")["searches"].sum()
    order = GROUPS if basis == "self" else OFFICER_GROUPS
    return {g: int(got.get(g, 0)) for g in order}, int(df.loc[df["group"].isna(), "searches"].sum())


@dataclass(frozen=True)
class AreaRates:
    """One area's rates in one period on one basis."""

    area: str
    basis: str
    table: pd.DataFrame  # group, searches, residents, rate_per_1000, ratio, ratio_low, ratio_high
    excluded: int  # searches with ethnicity not stated (or not grouped): in no rate
    searches: int  # all searches placed in the area in the period (excluded ones included)


def area_rates(area: str, counts: pd.DataFrame, residents: dict[str, int], basis: str = "self") -> AreaRates:
    """Rates per 1,000 residents and ratios to the White group for one area."""
    by_group, excluded = searches_by_group(counts, basis)
    ref_k, ref_n = by_group.get(REFERENCE, 0), residents.get(REFERENCE, 0)
    rows = []
    for g, k in by_group.items():
        n = residents.get(g, 0)
        rate = k / n * 1000 if n else math.nan
        if g == REFERENCE or not n or not ref_n:
            ratio, low, high = (1.0, math.nan, math.nan) if g == REFERENCE else (math.nan,) * 3
        else:
            ratio, low, high = ratio_interval(k, n, ref_k, ref_n)
        rows.append(
            {
                "group": g,
                "searches": k,
                "residents": n,
                "rate_per_1000": rate,
                "ratio": ratio,
                "ratio_low": low,
                "ratio_high": high,
            }
        )
    return AreaRates(area, basis, pd.DataFrame(rows), excluded, sum(by_group.values()) + excluded)


def residents_of(population: pd.DataFrame, borough_code: str | None) -> dict[str, int]:
    """{group: residents} of one borough, or of London (the 32 Met boroughs) when ``borough_code`` is None,
    from the ``stop_search/population`` rows (borough_code, ethnic_group, residents)."""
    if borough_code is None:
        rows = population[population["borough_code"] != CITY_OF_LONDON]
    else:
        rows = population[population["borough_code"] == borough_code]
    return {str(g): int(n) for g, n in rows.groupby("ethnic_group")["residents"].sum().items()}


def comparison_table(borough: AreaRates, london: AreaRates) -> pd.DataFrame:
    """The borough and London side by side, one row per group: the table behind the chart."""

    def ratio_text(r) -> str:
        if r["group"] == REFERENCE:
            return "1 (reference)"
        if math.isnan(r["ratio"]):
            return "n/a"
        high = "∞" if math.isinf(r["ratio_high"]) else f"{r['ratio_high']:.2f}"
        return f"{r['ratio']:.2f} ({r['ratio_low']:.2f} to {high})"

    b, ldn = borough.table.set_index("group"), london.table.set_index("group")
    out = pd.DataFrame(
        {
            "Group": list(b.index),
            f"{borough.area}: searches": b["searches"].astype(int).to_list(),
            f"{borough.area}: residents": b["residents"].astype(int).to_list(),
            f"{borough.area}: per 1,000 residents": b["rate_per_1000"].round(1).to_list(),
            f"{borough.area}: ratio to White (95% interval)": [
                ratio_text(r) for _, r in b.reset_index().iterrows()
            ],
            "London: searches": ldn["searches"].reindex(b.index).astype(int).to_list(),
            "London: per 1,000 residents": ldn["rate_per_1000"].reindex(b.index).round(1).to_list(),
            "London: ratio to White (95% interval)": [
                ratio_text(r) for _, r in ldn.reindex(b.index).reset_index().iterrows()
            ],
        }
    )
    return out


def ratio_sentences(borough: AreaRates, london: AreaRates) -> list[str]:
    """Plain words: each group's ratio in the borough (with interval) beside London's."""
    out = []
    lon = london.table.set_index("group")
    for _, r in borough.table.iterrows():
        g = r["group"]
        if g == REFERENCE or math.isnan(r["ratio"]):
            continue
        l_ratio = lon.loc[g, "ratio"] if g in lon.index else math.nan
        if r["ratio_low"] > 1:
            words = f"{r['ratio']:.1f} times the White group's rate"
        elif r["ratio_high"] < 1:
            words = f"{r['ratio']:.2f} times the White group's rate (lower)"
        else:
            words = f"{r['ratio']:.2f} times the White group's rate, not clearly different from it"
        high = "∞" if math.isinf(r["ratio_high"]) else f"{r['ratio_high']:.2f}"
        london_words = "" if math.isnan(l_ratio) else f"; London {l_ratio:.1f}"
        out.append(
            f"{g} residents of {borough.area} were searched at {words} "
            f"(95% interval {r['ratio_low']:.2f} to {high}{london_words})."
        )
    return out


def excluded_sentence(borough: AreaRates, london: AreaRates) -> str:
    what = "ethnicity not stated" if borough.basis == "self" else "no officer-defined ethnicity"
    return (
        f"Searches with {what} are in no rate: {borough.excluded:,d} of {borough.searches:,d} in "
        f"{borough.area} ({_pct(borough.excluded, borough.searches)}) and {london.excluded:,d} of "
        f"{london.searches:,d} in London ({_pct(london.excluded, london.searches)})."
    )


def _pct(k: int, n: int) -> str:
    return f"{k / n * 100:.1f}%" if n else "n/a"


def yearly_table(years: list[tuple[str, int, AreaRates, AreaRates]]) -> pd.DataFrame:
    """One row per year and group: (label, months held, borough rates, London rates) per year."""
    rows = []
    for label, months, b, ldn in years:
        lon = ldn.table.set_index("group")
        for _, r in b.table.iterrows():
            g = r["group"]
            rows.append(
                {
                    "Year": label,
                    "Months held": months,
                    "Group": g,
                    f"{b.area}: searches": int(r["searches"]),
                    f"{b.area}: per 1,000 residents": round(float(r["rate_per_1000"]), 1),
                    f"{b.area}: ratio to White": _ratio_or_blank(r["ratio"], g),
                    "London: per 1,000 residents": round(float(lon.loc[g, "rate_per_1000"]), 1),
                    "London: ratio to White": _ratio_or_blank(lon.loc[g, "ratio"], g),
                }
            )
    return pd.DataFrame(rows)


def _ratio_or_blank(v: float, group: str) -> float | None:
    if group == REFERENCE:
        return 1.0
    return None if math.isnan(v) else round(float(v), 2)
