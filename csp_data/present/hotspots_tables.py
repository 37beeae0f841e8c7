"""Display tables and small figures for the Hotspots and VOLT page (pages/analysis/hotspots.py), built from
the frames of :mod:`csp_data.analysis.areas` and :mod:`csp_data.analysis.hotspots`. No Streamlit: the
page draws what these return (through :mod:`csp_data.ui.hotspots`); the sentences around them stay in
the page."""

from __future__ import annotations

from datetime import date

import pandas as pd

from csp_data.analysis.areas import FIRST_LSOA_MONTH
from csp_data.analysis.hotspots import EMERGING, concentration_table
from csp_data.analysis.hotspots import ranked as ranked_areas
from csp_data.plan.periods import add_months, make
from csp_data.present.maps import HOTSPOT_COLOURS
from csp_data.present.memo import memoize

CUSTOM_MONTHS = 30  # "Custom months" offers the latest month and this many before it


def custom_months(latest: date) -> list[str]:
    """The months ("YYYY-MM") the custom period's From and To choose among, oldest first."""
    return [m.strftime("%Y-%m") for m in make(add_months(latest, -CUSTOM_MONTHS), latest).months()]


def emerging_start(last: date, months: int = 24) -> date:
    """The first month of the emerging-hot-spot window ending at ``last``: ``months`` months, or from
    the first month the MPS LSOA series holds."""
    return max(add_months(last, -(months - 1)), FIRST_LSOA_MONTH)


@memoize(maxsize=64)
def with_wards(table: pd.DataFrame, gi: pd.DataFrame | None, ward_names: dict[str, str]) -> pd.DataFrame:
    """The page's area ``table`` with the Gi* columns (z, q, klass) when ``gi`` is given, the verdict
    prefixed by its symbol and each area's ward name (column ``ward``). The CSV download is this frame
    without ``symbol``."""
    ranked = table.copy()
    if gi is not None:
        ranked = ranked.merge(gi[["code", "z", "q", "klass"]], on="code", how="left")
    ranked["verdict"] = ranked["symbol"] + " " + ranked["verdict"]
    ranked["ward"] = ranked["ward_code"].map(ward_names)
    return ranked


@memoize(maxsize=64)
def ranked_table(ranked: pd.DataFrame, geo: str, period_label: str, prev_label: str | None) -> pd.DataFrame:
    """The ranked-areas table as shown (every area; the page shows the first 40): ``ranked`` from
    :func:`with_wards`, columns renamed for readers, no Ward column for wards."""
    cols = {
        "name": "Area",
        "ward": "Ward",
        "count": f"Offences {period_label}",
        "previous": f"Before ({prev_label})",
        "change": "Change",
        "verdict": "Is the change real?",
        "rate_per_1000": "Per 1,000 residents",
    }
    if "klass" in ranked.columns:
        cols.update({"klass": "Hot spot test (Gi*, FDR)", "z": "Gi* z"})
    show = ranked[list(cols)].rename(columns=cols)
    if geo == "Wards":
        show = show.drop(columns=["Ward"])
    return show


@memoize(maxsize=64)
def hotspot_counts(gi: pd.DataFrame) -> list[str]:
    """How many LSOAs fall in each significant hot/cold-spot class, as "3 hot spot (95%)" pieces in the
    map key's order (none when nothing is significant)."""
    counts = gi["klass"].value_counts()
    return [f"{counts[kl]} {kl}" for kl in HOTSPOT_COLOURS if kl != "not significant" and kl in counts]


def lowest_q(gi: pd.DataFrame) -> float:
    """The smallest FDR-adjusted q of the Gi* result."""
    return float(gi["q"].min())


@memoize(maxsize=64)
def concentration_display(whole: pd.DataFrame, period_label: str, prev_label: str | None) -> pd.DataFrame:
    """How concentrated offences are in the busiest LSOAs (top 5% and 10%), now and in the previous
    period, with the shares as whole percentages."""
    conc = concentration_table(whole["count"], whole["previous"] if prev_label else None)
    share_now = f"Share of offences, {period_label}"
    share_before = f"Share, {prev_label}" if prev_label else "Share, previous period"
    return pd.DataFrame(
        {
            "Busiest LSOAs": [f"Top {r.top_pct}%" for r in conc.itertuples()],
            "LSOAs": conc["areas"],
            share_now: [f"{v:.0%}" if pd.notna(v) else "no offences" for v in conc["share_now"]],
            share_before: [f"{v:.0%}" if pd.notna(v) else "not held" for v in conc["share_before"]],
        }
    )


@memoize(maxsize=64)
def top_lsoas(whole: pd.DataFrame, by: str, ward_names: dict[str, str], n: int = 10) -> pd.DataFrame:
    """The ``n`` LSOAs with the most offences (``by="count"``) or the highest rate (``by="rate"``),
    with their ward names, as shown."""
    top = ranked_areas(whole, by, n)
    top["ward"] = top["code"].map(whole.set_index("code")["ward_code"]).map(ward_names)
    return (
        top[["rank", "name", "ward", "count", "population", "rate_per_1000"]]
        .rename(
            columns={
                "rank": "Rank",
                "name": "LSOA",
                "ward": "Ward",
                "count": "Offences",
                "population": "Residents",
                "rate_per_1000": "Per 1,000 residents",
            }
        )
        .round({"Per 1,000 residents": 1})
    )


@memoize(maxsize=64)
def emerging_counts(em: pd.DataFrame) -> pd.DataFrame:
    """How many LSOAs fall in each emerging-hot-spot class (every class, in order, zeros kept)."""
    counts = em["emerging"].value_counts().reindex(list(EMERGING), fill_value=0)
    return counts.rename_axis("Class").reset_index(name="LSOAs")


@memoize(maxsize=64)
def notable_lsoas(em: pd.DataFrame, lsoas: pd.DataFrame, ward_names: dict[str, str]) -> pd.DataFrame:
    """The LSOAs that were a hot spot in any quarter (empty when none), most quarters first, with
    names and wards from ``lsoas`` (code, name, ward_code)."""
    notable = em[em["emerging"] != "none"].copy()
    if not len(notable):
        return notable
    by_code = lsoas.set_index("code")
    notable["Area"] = notable["code"].map(by_code["name"])
    notable["Ward"] = notable["code"].map(by_code["ward_code"].map(ward_names))
    return (
        notable[["Area", "Ward", "emerging", "hot_periods", "z_final"]]
        .rename(
            columns={
                "emerging": "Class",
                "hot_periods": "Quarters as a hot spot",
                "z_final": "Latest Gi* z",
            }
        )
        .sort_values("Quarters as a hot spot", ascending=False)
    )


def months_with_points(pts: pd.DataFrame) -> int:
    """How many distinct months the street-level records cover."""
    return int(pts["month"].nunique()) if len(pts) else 0


@memoize(maxsize=64)
def points_by_ward(pts: pd.DataFrame, ward_names: dict[str, str]) -> pd.DataFrame:
    """Street-level records per ward, most first."""
    by_ward = pts.assign(Ward=pts["ward_code"].map(ward_names)).groupby("Ward", as_index=False).size()
    return by_ward.rename(columns={"size": "Records"}).sort_values("Records", ascending=False)


@memoize(maxsize=64)
def victims_table(vic: pd.DataFrame) -> pd.DataFrame:
    """The victim-related figures of the MPS dashboard, as shown."""
    return vic.rename(
        columns={
            "crime_type": "Type",
            "subtype": "Measure",
            "offences": "Offences or victims",
            "positive_outcomes": "Positive outcomes",
            "positive_outcome_rate_pct": "Positive outcome rate %",
            "months": "Months held",
        }
    )


def months_held(vic: pd.DataFrame) -> int:
    """The most months any victim figure is held for."""
    return int(vic["months"].max())


@memoize(maxsize=64)
def outcomes_table(out: pd.DataFrame) -> pd.DataFrame:
    """police.uk burglary last outcomes, as shown (shares to one decimal)."""
    out = out.assign(share_pct=out["share_pct"].round(1))
    return out.rename(
        columns={"last_outcome": "Last outcome", "records": "Burglaries", "share_pct": "Share %"}
    )


@memoize(maxsize=64)
def busiest(table: pd.DataFrame, n: int = 5) -> list[tuple[str, int]]:
    """The first ``n`` areas of the (busiest-first) area table as (name, count)."""
    return [(r.name, r.count) for r in table.head(n).itertuples()]


@memoize(maxsize=64)
def peak_and_low(sea: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """The month-of-year rows with the highest and the lowest seasonal index."""
    return sea.loc[sea["index"].idxmax()], sea.loc[sea["index"].idxmin()]


@memoize(maxsize=64)
def seasonality_table(sea: pd.DataFrame) -> pd.DataFrame:
    """The month-of-year pattern, as shown."""
    return (
        sea.assign(mean=sea["mean"].round(1), index=sea["index"].round(0))
        .rename(
            columns={
                "month_name": "Month",
                "mean": "Average offences",
                "index": "Index (100 = average)",
                "years": "Years",
            }
        )
        .drop(columns=["calendar_month"])
    )
