"""Hotspot and VOLT analysis for the analysts' page: categories, periods, area tables, concentration,
seasonality and what the data can say about victims and offenders.

Areas are wards (2022) or LSOAs (2021) of the configured borough, from MPS recorded crime at that
level. A change between two equal periods always carries a verdict from the one model for many areas
(:func:`csp_data.analysis.stats.compare_areas`): pooled over-dispersion, false-discovery control across the areas.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from csp_data.analysis.stats import (
    DISPERSION_MONTHS,
    Dispersion,
    area_dispersion,
    compare_areas,
    rate_per_1000,
)
from csp_data.config import Settings
from csp_data.config import settings as get_settings
from csp_data.plan.measures import MEASURES
from csp_data.plan.periods import Period, PeriodError, add_months, fy_of, make, parse
from csp_data.warehouse import sql

PERIOD_CHOICES = (
    "Latest month",
    "Last 3 months",
    "Last 12 months",
    "Financial year to date",
    "Custom months",
)
GEOGRAPHIES = ("Wards", "LSOAs")
COLOUR_BY = ("Count", "Rate per 1,000 residents", "Change vs previous period", "Hot spots (Gi*)")
FIRST_LSOA_MONTH = date(2023, 8, 1)


class AnalysisError(ValueError):
    """A selection that cannot be answered; the message is fit to show."""


@dataclass(frozen=True)
class Category:
    label: str
    majors: tuple[str, ...]
    minors: tuple[str, ...]


def categories(cfg: Settings | None = None) -> list[Category]:
    """Plan measures held at ward and LSOA level first, then every MPS major and minor category."""
    cfg = cfg or get_settings()
    out = [Category(m.label, m.majors, m.minors) for m in MEASURES if m.source == "crime"]
    cats = sql.run("crime/categories", level="lsoa", cfg=cfg)
    for major, grp in cats.groupby("major_category", sort=True):
        out.append(Category(f"All {major.lower()}", (major,), ()))
        for minor in sorted(grp["minor_category"].unique()):
            if minor != major:
                out.append(Category(f"{major.lower().capitalize()}: {minor.lower()}", (), (minor,)))
    seen, unique = set(), []
    for c in out:
        if c.label not in seen:
            seen.add(c.label)
            unique.append(c)
    return unique


def latest_month(geo: str, cfg: Settings | None = None) -> date:
    cfg = cfg or get_settings()
    level = "lsoa" if geo == "LSOAs" else "ward"
    df = sql.run("crime/level_last_month", level=level, borough_code=cfg.borough_code, cfg=cfg)
    v = df["last_month"].iloc[0] if len(df) else None
    if v is None or pd.isna(v):
        raise AnalysisError(f"No {geo.lower()} data are held.")
    return pd.Timestamp(v).date()


def resolve_period(
    choice: str,
    latest: date,
    custom_from: str | None = None,
    custom_to: str | None = None,
    first: date = FIRST_LSOA_MONTH,
) -> Period:
    """The months a period choice means, ending at the latest month held."""
    if choice == "Latest month":
        return make(latest, latest)
    if choice == "Last 3 months":
        return make(add_months(latest, -2), latest)
    if choice == "Last 12 months":
        return make(add_months(latest, -11), latest)
    if choice == "Financial year to date":
        return make(fy_of(latest).start, latest)
    if choice == "Custom months":
        if not custom_from or not custom_to:
            raise AnalysisError("Choose the first and last month of the custom period.")
        try:
            p = parse(f"{custom_from}..{custom_to}")
        except PeriodError:
            raise AnalysisError("Choose a 'From' month that is not after the 'To' month.") from None
        if p.start < first or p.end > latest:
            raise AnalysisError(f"Choose months between {first:%b %Y} and {latest:%b %Y}.")
        return p
    raise AnalysisError(f"Unknown period {choice!r}.")


def area_table(
    cat: Category, period: Period, geo: str, ward: str | None = None, cfg: Settings | None = None
) -> pd.DataFrame:
    """code, name, ward_code, population, count, previous, change, pct_change, verdict, symbol,
    q_value, rate_per_1000 for every area (ward, or LSOA optionally within one ward), most offences first.

    The verdicts are judged across every area of the level in the borough (also when one ward's
    LSOAs are shown, so a verdict never depends on the filter): each change is tested with the
    pooled area dispersion (:func:`area_dispersion_for`) and false-discovery control across the
    areas. ``attrs`` has ``dispersion`` and ``method`` (caption words)."""
    cfg = cfg or get_settings()
    prev: Period | None  # None: no earlier period to compare (LSOA counts start at FIRST_LSOA_MONTH)
    prev = period.previous()
    if geo == "LSOAs":
        if prev.start < FIRST_LSOA_MONTH:
            prev = None
        cur = sql.run(
            "hotspots/lsoa_period_counts",
            borough_code=cfg.borough_code,
            majors=list(cat.majors),
            minors=list(cat.minors),
            start=period.start,
            end=period.end,
            cfg=cfg,
        )
        cur = cur.rename(columns={"lsoa21_code": "code", "lsoa21_name": "name"})
        before = (
            sql.run(
                "hotspots/lsoa_period_counts",
                borough_code=cfg.borough_code,
                majors=list(cat.majors),
                minors=list(cat.minors),
                start=prev.start,
                end=prev.end,
                cfg=cfg,
            ).rename(columns={"lsoa21_code": "code"})
            if prev
            else None
        )
    else:
        cur = sql.run(
            "crime/ward_period_totals",
            borough_code=cfg.borough_code,
            majors=list(cat.majors),
            minors=list(cat.minors),
            start=period.start,
            end=period.end,
            cfg=cfg,
        )
        cur = cur.rename(columns={"ward_code": "code", "ward_name": "name"})
        cur["ward_code"] = cur["code"]
        before = sql.run(
            "crime/ward_period_totals",
            borough_code=cfg.borough_code,
            majors=list(cat.majors),
            minors=list(cat.minors),
            start=prev.start,
            end=prev.end,
            cfg=cfg,
        ).rename(columns={"ward_code": "code"})
    prev_counts = before.set_index("code")["count"] if before is not None else None
    prevs = [int(prev_counts.get(code, 0)) if prev_counts is not None else None for code in cur["code"]]
    unit = "LSOAs" if geo == "LSOAs" else "wards"
    disp = area_dispersion_for(cat, geo, period.end, cfg) if prev is not None else None
    comps = (
        compare_areas(
            cur["count"].astype(int).tolist(), prevs, disp, period.n_months, family=f"{len(cur)} {unit}"
        )
        if disp is not None
        else [None] * len(cur)
    )
    rows = []
    for r, p, c in zip(cur.itertuples(), prevs, comps):
        rows.append(
            {
                "code": r.code,
                "name": r.name,
                "ward_code": r.ward_code,
                "population": int(r.population),
                "count": int(r.count),
                "previous": p,
                "change": c.change if c else None,
                "pct_change": c.pct_change if c else None,
                "verdict": c.verdict if c else "no earlier period held",
                "symbol": c.symbol if c else "",
                "q_value": c.q_value if c else None,
                "rate_per_1000": rate_per_1000(r.count, r.population),
            }
        )
    out = pd.DataFrame(rows)
    if ward:
        out = out[out["ward_code"] == ward]
        if out.empty:
            raise AnalysisError("That ward has no areas at this level.")
    out = out.sort_values(["count", "name"], ascending=[False, True]).reset_index(drop=True)
    out.attrs.update(
        {
            "period": period.label,
            "previous": prev.label if prev else None,
            "dispersion": disp,
            "method": _method_words(disp, period.n_months, len(cur), unit) if disp else "",
        }
    )
    return out


def area_dispersion_for(cat: Category, geo: str, end: date, cfg: Settings | None = None) -> Dispersion:
    """Pooled dispersion of a category's area x month counts over the 36 months to ``end`` (LSOA
    data start in August 2023, so fewer there): :func:`csp_data.analysis.stats.area_dispersion`."""
    cfg = cfg or get_settings()
    start = add_months(end, -(DISPERSION_MONTHS - 1))
    from csp_data.analysis.trends import area_monthly

    if geo == "LSOAs":
        df = area_monthly("lsoa", cat.majors, cat.minors, max(start, FIRST_LSOA_MONTH), end, cfg)
    else:
        df = area_monthly("ward", cat.majors, cat.minors, start, end, cfg)
    return area_dispersion(df, area="area_code", end=end)


def _method_words(disp: Dispersion, months: int, n: int, unit: str) -> str:
    from csp_data.analysis.trends import area_method_words

    return area_method_words(disp, months, n, unit)


def concentration(counts: pd.Series, share_of_areas: float = 0.10) -> tuple[float, int]:
    """Share of all offences in the top ``share_of_areas`` of areas (by count), and how many areas that is."""
    v = np.sort(np.asarray(counts, dtype=float))[::-1]
    if v.size == 0 or v.sum() == 0:
        return 0.0, 0
    k = max(1, int(np.ceil(share_of_areas * v.size)))
    return float(v[:k].sum() / v.sum()), k


def seasonality(cat: Category, cfg: Settings | None = None, years: int = 5) -> pd.DataFrame:
    """Month-of-year pattern over the last ``years`` whole years of borough data: mean offences per
    calendar month and an index (100 = an average month)."""
    cfg = cfg or get_settings()
    df = sql.run(
        "crime/borough_monthly",
        borough_code=cfg.borough_code,
        majors=list(cat.majors),
        minors=list(cat.minors),
        cfg=cfg,
    )
    df["month"] = pd.to_datetime(df["month"]).dt.date
    if df.empty:
        raise AnalysisError("No borough figures are held for this category.")
    last = df["month"].max()
    end = date(last.year - 1, 12, 1) if last.month != 12 else last
    start = date(end.year - years + 1, 1, 1)
    sub = df[(df.month >= start) & (df.month <= end)].copy()
    sub["calendar_month"] = [m.month for m in sub["month"]]
    g = sub.groupby("calendar_month", as_index=False).agg(mean=("count", "mean"), years=("count", "size"))
    g["index"] = g["mean"] / g["mean"].mean() * 100
    g["month_name"] = [date(2000, m, 1).strftime("%B") for m in g["calendar_month"]]
    g.attrs["span"] = f"{start:%b %Y} to {end:%b %Y}"
    return g[["calendar_month", "month_name", "mean", "index", "years"]]


def street_points(
    crime_type: str, period: Period, ward: str | None = None, cfg: Settings | None = None
) -> pd.DataFrame:
    """police.uk street-level records (snap points) of one type in a period, optionally in one ward."""
    cfg = cfg or get_settings()
    return sql.run(
        "street/points", crime_type=crime_type, start=period.start, end=period.end, ward_code=ward, cfg=cfg
    )


def burglary_outcomes(period: Period, ward: str | None = None, cfg: Settings | None = None) -> pd.DataFrame:
    """Last outcome categories of police.uk burglary records in a period (the offender side of VOLT)."""
    cfg = cfg or get_settings()
    df = sql.run(
        "street/last_outcomes",
        crime_type="Burglary",
        start=period.start,
        end=period.end,
        ward_code=ward,
        cfg=cfg,
    )
    total = int(df["records"].sum())
    df["share_pct"] = df["records"] / total * 100 if total else np.nan
    return df


VICTIM_TYPES = ("Hate crime", "Domestic Abuse", "Knife Crime")


def victims(area_code: str, period: Period, cfg: Settings | None = None) -> pd.DataFrame:
    """The victim side of VOLT from the MPS Monthly Crime Dashboard for a borough or ward: hate crime
    by strand, domestic abuse, knife crime with injury and knife injury victims aged 1-24 (offences
    and positive outcomes recorded in the period). The dashboard ends earlier than recorded crime,
    so ``months`` says how many months of the period it covers."""
    rows = []
    for ct in VICTIM_TYPES:
        df = sql.run(
            "dashboard/subtype_totals",
            area_code=area_code,
            crime_type=ct,
            start=period.start,
            end=period.end,
            cfg=cfg,
        )
        for r in df.itertuples():
            rows.append(
                {
                    "crime_type": ct,
                    "subtype": r.crime_subtype,
                    "measure": r.measure,
                    "count": int(r.count),
                    "months": int(r.months),
                }
            )
    out = pd.DataFrame(rows, columns=["crime_type", "subtype", "measure", "count", "months"])
    if out.empty:
        return out
    wide = out.pivot_table(
        index=["crime_type", "subtype"], columns="measure", values="count", aggfunc="sum", fill_value=0
    ).reset_index()
    for col in ("Offences", "Positive Outcomes"):
        if col not in wide:
            wide[col] = 0
    # A measure the dashboard never publishes outcomes for (victim counts such as 'Knife Injury
    # Victims (1-24)') has no outcome figure: missing, not zero.
    published = set(
        out.loc[out["measure"] == "Positive Outcomes", "crime_type"]
        + "|"
        + out.loc[out["measure"] == "Positive Outcomes", "subtype"]
    )
    has_outcomes = (wide["crime_type"] + "|" + wide["subtype"]).isin(published) | ~wide[
        "subtype"
    ].str.contains("Victims")
    wide["Positive Outcomes"] = wide["Positive Outcomes"].where(has_outcomes)
    months = out.groupby(["crime_type", "subtype"])["months"].max().reset_index()
    wide = wide.merge(months, on=["crime_type", "subtype"])
    wide["positive_outcome_rate_pct"] = [
        (p / o * 100) if o >= 10 and p == p else np.nan
        for o, p in zip(wide["Offences"], wide["Positive Outcomes"])
    ]
    return wide.rename(columns={"Offences": "offences", "Positive Outcomes": "positive_outcomes"})[
        ["crime_type", "subtype", "offences", "positive_outcomes", "positive_outcome_rate_pct", "months"]
    ]
