"""A ward's crime profile for residents: categories over 12 months against the 12 before, rates per
1,000 residents against the borough, and a monthly series per category.

Ward codes arrive from URLs (``?ward=E05009333``), so they are validated here before any query:
a malformed code and an unknown ward are different, friendly errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import pandas as pd

from csp_data.analysis.stats import (
    DISPERSION_MONTHS,
    area_dispersion,
    compare_areas,
    compare_counts,
    rate_per_1000,
)
from csp_data.config import Settings
from csp_data.config import settings as get_settings
from csp_data.plan.periods import Period, add_months, make
from csp_data.warehouse import sql

WARD_CODE = re.compile(r"^E05[0-9]{6}$")  # ASCII digits only
MIN_RATE_COUNT = 10  # the ward-vs-borough comparison needs a few offences to mean anything


class WardError(ValueError):
    """A ward code that is malformed or not a ward of this borough. The message is fit to show."""


@dataclass(frozen=True)
class Ward:
    code: str
    name: str
    population: int


def wards(cfg: Settings | None = None) -> list[Ward]:
    df = sql.run("meta/wards", cfg=cfg)
    return [Ward(r.ward_code, r.ward_name, int(r.population)) for r in df.itertuples()]


def resolve(code: str | None, cfg: Settings | None = None) -> Ward:
    """The ward for a code from a URL or a picker, or a WardError saying what is wrong."""
    cfg = cfg or get_settings()
    text = (code or "").strip().upper()
    if not text:
        raise WardError("No ward was chosen.")
    if not WARD_CODE.match(text):
        raise WardError(
            "That is not a ward code. Ward codes look like E05009333 (the letter E, then 05, "
            "then six digits). Choose a ward from the list instead."
        )
    for w in wards(cfg):
        if w.code == text:
            return w
    raise WardError(
        f"There is no ward with the code {text} in {cfg.borough_name}. Wards changed in 2022; "
        "choose a current ward from the list."
    )


def common_last_month(cfg: Settings | None = None) -> date | None:
    """The latest month both the ward and the borough data hold, so a comparison uses the same months."""
    cfg = cfg or get_settings()
    lasts = []
    for level in ("ward", "borough"):
        df = sql.run("crime/level_last_month", level=level, borough_code=cfg.borough_code, cfg=cfg)
        v = df["last_month"].iloc[0] if len(df) else None
        if v is None or pd.isna(v):
            return None
        lasts.append(pd.Timestamp(v).date())
    return min(lasts)


@dataclass(frozen=True)
class Profile:
    ward: Ward
    period: Period
    previous: Period
    table: pd.DataFrame  # one row per category (see category_table)
    monthly: pd.DataFrame  # month, category, count for the 24 months to the period's end
    borough_population: int
    snapshot: str


def ward_verdicts(ward: Ward, period: Period, cfg: Settings) -> dict:
    """category -> this ward's change verdict, judged as every ward's would be on the ward tables:
    for each category, all wards' changes are tested together with the category's pooled ward
    dispersion and false-discovery control across the wards (:func:`csp_data.analysis.stats.compare_areas`),
    so the ward profile and the ward tables never disagree. Categories the ward data lack get the
    verdict from a test of its counts alone."""
    prev = period.previous()
    df = sql.run(
        "crime/ward_major_monthly_all",
        borough_code=cfg.borough_code,
        start=add_months(period.end, -(DISPERSION_MONTHS - 1)),
        end=period.end,
        cfg=cfg,
    )
    df["month"] = pd.to_datetime(df["month"]).dt.date
    out = {}
    for cat, sub in df.groupby("major_category"):
        disp = area_dispersion(sub, area="ward_code", end=period.end)
        cur = sub[(sub.month >= period.start) & (sub.month <= period.end)].groupby("ward_code")["count"].sum()
        before = sub[(sub.month >= prev.start) & (sub.month <= prev.end)].groupby("ward_code")["count"].sum()
        codes = sorted(set(cur.index) | set(before.index))
        comps = compare_areas(
            [int(cur.get(c, 0)) for c in codes],
            [int(before.get(c, 0)) for c in codes],
            disp,
            period.n_months,
            family=f"{len(codes)} wards",
        )
        out[cat] = dict(zip(codes, comps)).get(ward.code)
    return out


def category_table(ward: Ward, period: Period, borough_population: int, cfg: Settings) -> pd.DataFrame:
    prev = period.previous()

    def totals(level: str, code: str, p: Period) -> pd.DataFrame:
        df = sql.run("crime/major_totals", level=level, area_code=code, start=p.start, end=p.end, cfg=cfg)
        months = int(df["months"].iloc[0]) if len(df) else 0
        if months and months != p.n_months:
            raise WardError(f"The data for {p.label} is incomplete ({months} of {p.n_months} months).")
        return df.set_index("major_category")["count"]

    cur, before = totals("ward", ward.code, period), totals("ward", ward.code, prev)
    boro = totals("borough", cfg.borough_code, period)
    cats = sorted(set(cur.index) | set(before.index), key=lambda c: (-int(cur.get(c, 0)), c))
    verdicts = ward_verdicts(ward, period, cfg)
    rows = []
    for cat in cats:
        n, p = int(cur.get(cat, 0)), int(before.get(cat, 0))
        c = verdicts.get(cat)
        if c is None or (c.current, c.previous) != (n, p):  # not in the ward x month table: its own test
            c = compare_counts(n, p)
        ward_rate = rate_per_1000(n, ward.population)
        boro_rate = rate_per_1000(int(boro.get(cat, 0)), borough_population)
        if n < MIN_RATE_COUNT or not boro_rate or ward_rate is None:
            versus = "too few offences to compare"
        else:
            ratio = ward_rate / boro_rate
            versus = (
                "about the same as the borough"
                if 0.9 <= ratio <= 1.1
                else f"{ratio:.1f} times the borough rate"
                if ratio > 1
                else f"{ratio:.1f} times the borough rate (lower)"
            )
        rows.append(
            {
                "category": cat.capitalize(),
                "count": n,
                "previous": p,
                "change": c.change,
                "pct_change": c.pct_change,
                "verdict": c.verdict,
                "symbol": c.symbol,
                "words": c.words,
                "ward_rate": ward_rate,
                "borough_rate": boro_rate,
                "versus_borough": versus,
            }
        )
    return pd.DataFrame(rows)


def profile(code: str | None, cfg: Settings | None = None) -> Profile:
    cfg = cfg or get_settings()
    ward = resolve(code, cfg)
    last = common_last_month(cfg)
    if last is None:
        raise WardError("Ward figures are awaiting data.")
    period = make(add_months(last, -11), last)
    boro_pop = sum(w.population for w in wards(cfg))
    table = category_table(ward, period, boro_pop, cfg)
    start = add_months(last, -23)
    m = sql.run("crime/ward_major_monthly", ward_code=ward.code, start=start, end=last, cfg=cfg)
    m["month"] = pd.to_datetime(m["month"]).dt.date
    months = make(start, last).months()
    grid = pd.MultiIndex.from_product(
        [months, sorted(m["major_category"].unique())], names=["month", "major_category"]
    )
    monthly = (
        m.set_index(["month", "major_category"])
        .reindex(grid, fill_value=0)
        .reset_index()
        .rename(columns={"major_category": "category"})
    )
    monthly["category"] = monthly["category"].str.capitalize()
    snap = sql.run("meta/data_span_public", borough_code=cfg.borough_code, cfg=cfg)
    row = snap[snap.dataset == "crime_ward"]
    snapshot = str(row["snapshot"].iloc[0]) if len(row) else ""
    return Profile(ward, period, period.previous(), table, monthly, boro_pop, snapshot)
