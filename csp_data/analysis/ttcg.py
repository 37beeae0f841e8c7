"""The Tactical Tasking and Co-ordination Group (TTCG) view: what is unusual this month, and where.

Three questions, each answered with a test that does not cry wolf:

* **Which wards are well above (or below) what we would expect?** :func:`ward_expected` compares
  each ward's count in the chosen month with *expected* = the mean of the same ward's previous 12
  months (not the same month last year: one month's count is itself a noisy Poisson draw, so
  judging against it would call chance a change; twelve months give a settled level). The verdict
  is the one count model's tail probability treating that mean as the expected rate:
  ``p_high = P(X >= latest)`` and ``p_low = P(X <= latest)`` for a quasi-Poisson X with that mean
  and the category's *prediction dispersion* (:func:`prediction_dispersion`: how far, pooled over
  the wards and the 24 months before, a ward's month has actually strayed from the mean of its
  previous 12, relative to Poisson chance; this takes in seasons, the uncertainty of the mean and
  the extra variation of recorded crime). The two-sided p-values of all wards x categories shown
  are then put under false-discovery control (Benjamini-Hochberg, ``q``): a cell is "well above
  expected" when ``q < 0.05``, the count is above expected and at least :data:`MIN_HIGH_COUNT`
  offences were recorded (so 2 offences where 0.1 were expected is not an alert), and "well below
  expected" when ``q < 0.05`` below expected.
* **Is the borough as a whole unusual this month?** :func:`borough_control` runs
  :func:`csp_data.analysis.stats.monthly_control` (a c-chart with limits widened for over-dispersion,
  judged against the 24 months before the latest 12) on the borough series up to the chosen
  month. When the borough extract does not yet hold that month (the ward extract is often a month
  ahead) the same chart is drawn on the sum of the wards, and the exception says so.
* **Which small areas are becoming hot spots?** :func:`lsoa_emerging` classes each LSOA by its
  Gi* history over the last 12 months of LSOA data, one period per month
  (:func:`csp_data.analysis.hotspots.lsoa_emerging`: each month tested as the Hotspots page tests a period,
  by 9,999 conditional permutations with the false discovery rate controlled across the 169
  LSOAs); "new" and "intensifying" LSOAs are exceptions. :func:`lsoa_hotspot_note` says in words
  which categories have no LSOA hot spot at all.

:func:`exceptions` gathers all three into one list sorted by severity. Nothing here imports
Streamlit; ``csp_data/ui/ttcg.py`` caches these functions, ``present/ttcg_map.py`` draws the
map and ``pages/operations/ttcg.py`` lays them out.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
from scipy import stats as _st

from csp_data.analysis import hotspots
from csp_data.analysis.stats import monthly_control, quasi_poisson_tails
from csp_data.analysis.trends import area_monthly
from csp_data.config import Settings
from csp_data.config import settings as get_settings
from csp_data.plan.measures import BY_ID, Measure, get
from csp_data.plan.periods import add_months
from csp_data.warehouse import sql

DEFAULT_CATEGORIES: tuple[str, ...] = (
    "robbery",
    "burglary",
    "theft",
    "vehicle",
    "violence_injury",
    "drug_trafficking",
    "weapons",
)
# Any measure counted from MPS recorded crime can be chosen (ward-level data exist for those only).
ALLOWED_CATEGORIES: tuple[str, ...] = tuple(m.id for m in BY_ID.values() if m.source == "crime")

EXPECTED_MONTHS = 12  # expected = mean of this many previous months of the same ward
ALPHA = 0.05  # a false-discovery q below this is "well above / below expected"
PREDICTION_MONTHS = 24  # months over which the prediction dispersion is pooled
MIN_HIGH_COUNT = 5  # and "well above" needs at least this many offences in the month
LSOA_MONTHS = 12  # emerging hot spots: this many months of LSOA data, one period per month
HIGH, MEDIUM, LOW = 3, 2, 1
SEVERITY_WORDS = {HIGH: "High", MEDIUM: "Medium", LOW: "Low"}

FLAG_HIGH = "well above expected"
FLAG_LOW = "well below expected"

METHOD = (
    "Expected = the ward's mean over the previous 12 months. The chance of a count this far from it "
    "allows for how far ward months have strayed from such a mean over the previous two years (seasons "
    'and the extra variation of recorded crime included), and "well above" / "well below" '
    f"hold after allowing for every ward and category tested at once (false discovery rate 5%; "
    f'"well above" also needs at least {MIN_HIGH_COUNT} offences). Treat flags as prompts to look, '
    "not proof."
)

# The wall screen's caption points to the method (in the help beside each heading) instead of
# repeating it, so the view still fits one 1080p screen.
METHOD_POINTER = "Flags allow for every ward and category tested at once; the ? beside each heading says how."

MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
WARD_RE = re.compile(r"^E05\d{6}$")


class TTCGError(ValueError):
    """A month, category or ward the TTCG view cannot show, with a message fit for the page."""


# ----------------------------------------------------------------------------- inputs


def _cfg(cfg: Settings | None) -> Settings:
    return cfg or get_settings()


def ward_months(cfg: Settings | None = None) -> pd.DataFrame:
    """month (date), snapshot: every month the ward data cover, oldest first."""
    cfg = _cfg(cfg)
    df = sql.run("ttcg/ward_months", borough_code=cfg.borough_code, cfg=cfg)
    df["month"] = [pd.Timestamp(m).date() for m in df["month"]]
    return df


def selectable_months_from(frame: pd.DataFrame) -> list[date]:
    """Months that can be judged: covered by the ward data with a full year of ward data before them
    (``frame`` is :func:`ward_months`)."""
    return list(frame["month"])[EXPECTED_MONTHS:]


def selectable_months(cfg: Settings | None = None) -> list[date]:
    return selectable_months_from(ward_months(cfg))


def parse_month(text: str) -> date:
    """'2026-02' -> date(2026, 2, 1) (:func:`csp_data.plan.periods.parse_month`); anything else
    raises TTCGError (never evaluated)."""
    from csp_data.plan import periods

    try:
        return periods.parse_month(text)
    except periods.MonthError:
        raise TTCGError(f"“{text}” is not a month: write it as YYYY-MM, e.g. 2026-02") from None


def parse_categories(text: str) -> tuple[list[str], list[str]]:
    """Comma-separated measure ids -> (known ids in the order given, unknown items)."""
    known, unknown = [], []
    for item in (text or "").split(","):
        item = item.strip().lower()
        if not item:
            continue
        if item in ALLOWED_CATEGORIES:
            if item not in known:
                known.append(item)
        else:
            unknown.append(item)
    return known, unknown


def measures(categories) -> list[Measure]:
    out = []
    for c in categories:
        if c not in ALLOWED_CATEGORIES:
            raise TTCGError(f"unknown TTCG category {c!r}; choose from {', '.join(ALLOWED_CATEGORIES)}")
        out.append(get(c))
    return out


# ----------------------------------------------------------------------------- ward x category


def ward_monthly(category: str, start: date, end: date, cfg: Settings | None = None) -> pd.DataFrame:
    """ward_code, ward_name, month, count for one category, every ward and each month the ward data
    cover (query ``crime/area_monthly_counts`` at ward level; names from ``meta/wards``)."""
    cfg = _cfg(cfg)
    m = measures([category])[0]
    df = area_monthly("ward", m.majors, m.minors, start, end, cfg).rename(columns={"area_code": "ward_code"})
    names = sql.run("meta/wards", cfg=cfg).set_index("ward_code")["ward_name"]
    df.insert(1, "ward_name", df["ward_code"].map(names))
    df["month"] = [pd.Timestamp(x).date() for x in df["month"]]
    return df


def poisson_tails(latest: int, expected: float, phi: float = 1.0) -> tuple[float, float]:
    """(P(X >= latest), P(X <= latest)) for X with mean ``expected`` and variance ``phi`` times it
    (Poisson when ``phi`` = 1; :func:`csp_data.analysis.stats.quasi_poisson_tails`); NaN when nothing is
    expected to test."""
    if expected is None or not np.isfinite(expected):
        return float("nan"), float("nan")
    return quasi_poisson_tails(int(latest), float(expected), phi)


def prediction_dispersion(df: pd.DataFrame, month: date) -> float:
    """How far a ward's month strays from the mean of its previous 12, relative to Poisson chance,
    pooled over every ward and the :data:`PREDICTION_MONTHS` months before ``month``: the mean of
    ``(count - expected)^2 / expected`` over those ward-months (``expected`` > 0 and 12 previous
    months held), floored at 1. Because it measures the very prediction the flags use, it takes in
    seasons, trend, the uncertainty of a 12-month mean and the extra variation of recorded crime.
    ``df``: ward_code, month, count (months the ward data cover). 1 when no month can be judged."""
    wide = df.pivot_table(index="month", columns="ward_code", values="count", aggfunc="sum").sort_index()
    wide = wide.reindex(pd.Index(sorted(set(wide.index)), name="month"))
    terms: list[np.ndarray] = []
    months = list(wide.index)
    for i, m in enumerate(months):
        if m >= month or m < add_months(month, -PREDICTION_MONTHS):
            continue
        prev = [p for p in months[:i] if p >= add_months(m, -EXPECTED_MONTHS)]
        if len(prev) < EXPECTED_MONTHS:
            continue
        e = wide.loc[prev].mean().to_numpy(dtype=float)
        y = wide.loc[m].to_numpy(dtype=float)
        ok = np.isfinite(e) & np.isfinite(y) & (e > 0)
        terms.append((y[ok] - e[ok]) ** 2 / e[ok])
    if not terms:
        return 1.0
    allt = np.concatenate(terms)
    return max(1.0, float(allt.mean())) if allt.size else 1.0


def cell_q_values(p_high: np.ndarray, p_low: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values of the cells' two-sided p-values (twice the smaller tail),
    over every cell with an expectation (NaN elsewhere)."""
    two = np.minimum(1.0, 2 * np.minimum(p_high, p_low))
    q = np.full(two.shape, np.nan)
    ok = np.isfinite(two)
    if ok.sum() > 1:
        q[ok] = _st.false_discovery_control(two[ok], method="bh")
    elif ok.sum() == 1:
        q[ok] = two[ok]
    return q


def flag_for(latest: int, p_high: float, p_low: float, alpha: float = ALPHA) -> str:
    if np.isfinite(p_high) and p_high < alpha and latest >= MIN_HIGH_COUNT:
        return FLAG_HIGH
    if np.isfinite(p_low) and p_low < alpha:
        return FLAG_LOW
    return ""


def ward_expected(month: date, categories=DEFAULT_CATEGORIES, cfg: Settings | None = None) -> pd.DataFrame:
    """Each ward x category: the month's count against the mean of the ward's previous 12 months.

    Columns: ward_code, ward_name, category, label, latest, expected, expected_months, ratio,
    p_high, p_low, flag ("well above expected" / "well below expected" / ""). One row per ward and
    category, in the order of ``categories`` then ward name. ``expected`` averages only the
    previous months the ward data cover (a missing month is never a zero; ``expected_months`` says
    how many); with none, expected, ratio and p are NaN and there is no flag. ``ratio`` is NaN when
    expected is 0.
    """
    cfg = _cfg(cfg)
    months = set(ward_months(cfg)["month"])
    if month not in months:
        raise TTCGError(f"the ward data do not cover {month:%B %Y}")
    frames = []
    for m in measures(categories):
        df = ward_monthly(m.id, add_months(month, -(EXPECTED_MONTHS + PREDICTION_MONTHS)), month, cfg)
        phi = prediction_dispersion(df, month)
        df = df[df["month"] >= add_months(month, -EXPECTED_MONTHS)]
        latest = df[df["month"] == month].set_index("ward_code")
        prev = df[df["month"] < month].groupby("ward_code")["count"].agg(["mean", "size"])
        out = latest[["ward_name", "count"]].rename(columns={"count": "latest"}).join(prev, how="left")
        out = out.reset_index().rename(columns={"mean": "expected", "size": "expected_months"})
        out["expected_months"] = out["expected_months"].fillna(0).astype(int)
        out["category"], out["label"], out["dispersion"] = m.id, m.label, phi
        frames.append(out)
    res = pd.concat(frames, ignore_index=True)
    res["latest"] = res["latest"].astype(int)
    res["expected"] = res["expected"].astype(float)
    tails = [
        poisson_tails(int(k), e, ph) for k, e, ph in zip(res["latest"], res["expected"], res["dispersion"])
    ]
    res["p_high"] = [t[0] for t in tails]
    res["p_low"] = [t[1] for t in tails]
    with np.errstate(divide="ignore", invalid="ignore"):
        res["ratio"] = np.where(res["expected"] > 0, res["latest"] / res["expected"], np.nan)
    res["q"] = cell_q_values(res["p_high"].to_numpy(), res["p_low"].to_numpy())
    res["flag"] = [
        flag_for(int(k), q if k > e else 1.0, q if k < e else 1.0)
        for k, e, q in zip(res["latest"], res["expected"], res["q"])
    ]
    order = {c: i for i, c in enumerate(categories)}
    res = res.assign(_o=res["category"].map(order)).sort_values(["_o", "ward_name"]).drop(columns="_o")
    cols = [
        "ward_code",
        "ward_name",
        "category",
        "label",
        "latest",
        "expected",
        "expected_months",
        "ratio",
        "p_high",
        "p_low",
        "flag",
        "q",
        "dispersion",
    ]
    return res[cols].reset_index(drop=True)


# ----------------------------------------------------------------------------- borough control chart


@dataclass(frozen=True)
class BoroughCheck:
    category: str
    label: str
    month: date
    count: int | None
    centre: float | None
    lcl: float | None
    ucl: float | None
    signal: str  # "above" / "below" / "run above" / "run below" / "" (see stats.monthly_control)
    source: str  # "borough" or "sum of wards"
    note: str


def borough_control(month: date, category: str, cfg: Settings | None = None) -> BoroughCheck:
    """The borough control chart for one category, judged at ``month`` (later months ignored)."""
    cfg = _cfg(cfg)
    m = measures([category])[0]
    df = sql.run(
        "crime/borough_monthly",
        borough_code=cfg.borough_code,
        majors=list(m.majors),
        minors=list(m.minors),
        cfg=cfg,
    )
    df["month"] = [pd.Timestamp(x).date() for x in df["month"]]
    source = "borough"
    if month not in set(df["month"]):
        wards = ward_monthly(category, date(1900, 1, 1), month, cfg)
        df = wards.groupby("month", as_index=False)["count"].sum()
        source = "sum of wards"
    df = df[df["month"] <= month][["month", "count"]]
    chart = monthly_control(df)
    row = chart[chart["month"] == month]
    if row.empty:
        return BoroughCheck(
            category, m.label, month, None, None, None, None, "", source, chart.attrs.get("note", "")
        )
    r = row.iloc[0]
    return BoroughCheck(
        category,
        m.label,
        month,
        int(r["count"]),
        float(r["centre"]),
        float(r["lcl"]),
        float(r["ucl"]),
        str(r["signal"]),
        source,
        chart.attrs.get("note", ""),
    )


# ----------------------------------------------------------------------------- LSOA hot spots


def lsoa_window(month: date, cfg: Settings | None = None) -> tuple[date, date] | None:
    """The 12 months of LSOA data ending at ``month`` (or at the latest LSOA month, if earlier);
    None when the LSOA data do not reach back to that point."""
    cfg = _cfg(cfg)
    last = sql.run("crime/level_last_month", level="lsoa", borough_code=cfg.borough_code, cfg=cfg)[
        "last_month"
    ].iloc[0]
    if last is None or pd.isna(last):
        return None
    end = min(month, pd.Timestamp(last).date())
    if end < hotspots.FIRST_LSOA_MONTH:
        return None
    return max(add_months(end, -(LSOA_MONTHS - 1)), hotspots.FIRST_LSOA_MONTH), end


def lsoa_emerging(month: date, category: str, cfg: Settings | None = None) -> pd.DataFrame:
    """Emerging hot-spot class of every LSOA for one category over :func:`lsoa_window`, monthly periods.

    Columns: code, name, ward_code, ward_name, emerging, hot_periods, periods, z_final, count (the
    final month's offences). Empty when there is no LSOA window.
    """
    cfg = _cfg(cfg)
    cols = [
        "code",
        "name",
        "ward_code",
        "ward_name",
        "emerging",
        "hot_periods",
        "periods",
        "z_final",
        "count",
    ]
    window = lsoa_window(month, cfg)
    if window is None:
        return pd.DataFrame(columns=cols)
    start, end = window
    m = measures([category])[0]
    em = hotspots.lsoa_emerging(list(m.majors), list(m.minors), start, end, cfg, months_per_period=1)
    last = hotspots.lsoa_period_counts(list(m.majors), list(m.minors), end, end, cfg)
    wards = sql.run("meta/wards", cfg=cfg)[["ward_code", "ward_name"]]
    last = last.merge(wards, on="ward_code", how="left").rename(
        columns={"lsoa21_code": "code", "lsoa21_name": "name"}
    )
    out = em.merge(last[["code", "name", "ward_code", "ward_name", "count"]], on="code", how="left")
    return out[cols]


HOT_FINAL = (
    "new",
    "intensifying",
    "persistent",
    "diminishing",
    "sporadic",
)  # emerging classes hot in the final month


def lsoa_hotspot_note(
    month: date,
    categories=DEFAULT_CATEGORIES,
    cfg: Settings | None = None,
    emerging: dict | None = None,
    short: bool = False,
) -> str:
    """One plain sentence on small-area hot spots in the final month of :func:`lsoa_window`: which
    categories have none after permutation and FDR, and how many the others have. ``emerging``
    is a dict category -> :func:`lsoa_emerging` frame (computed when missing). Empty without LSOA data.
    ``short`` (the wall screen, which must fit 1080 px) names only the categories with none."""
    cfg = _cfg(cfg)
    window = lsoa_window(month, cfg)
    if window is None:
        return ""
    none: list[str] = []
    some: list[str] = []
    n_areas = 0
    for c in categories:
        em = emerging[c] if emerging is not None and c in emerging else lsoa_emerging(month, c, cfg)
        n_areas = max(n_areas, len(em))
        hot = int(em["emerging"].isin(HOT_FINAL).sum())
        (some if hot else none).append(f"{get(c).label} {hot}" if hot else get(c).label.lower())
    when = f"{window[1]:%b %Y}"
    parts = []
    if none:
        sentence = hotspots.no_hotspot_sentence(n_areas)
        parts.append(f"Small areas, {when}: for {', '.join(none)}, {sentence[0].lower()}{sentence[1:]}")
    if short:
        return (
            f"No LSOA hot spot in {when} after allowing for {n_areas} areas tested at once: {', '.join(none)}."
            if none
            else ""
        )
    if some:
        parts.append(
            f"LSOA hot spots in {when} (Gi*, {hotspots.PERMUTATIONS:,d} permutations, false discovery "
            f"rate across {n_areas} LSOAs): {', '.join(some)}."
        )
    return " ".join(parts)


# ----------------------------------------------------------------------------- exceptions


@dataclass(frozen=True)
class ExceptionItem:
    kind: str  # "borough" | "ward" | "lsoa"
    where: str  # a ward name, or the borough
    what: str  # e.g. "Robbery above its control limit"
    figure: str  # the numbers in words
    severity: int  # 3 high, 2 medium, 1 low
    category: str
    ward_code: str = ""
    detail: str = ""  # e.g. the LSOA code and name
    rank: float = 0.0  # within a severity, smaller first (a p-value, or minus a z-score)
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def severity_word(self) -> str:
        return SEVERITY_WORDS[self.severity]

    @property
    def symbol(self) -> str:
        return "▼" if "below" in self.what else "▲"


KIND_ORDER = {"borough": 0, "ward": 1, "lsoa": 2}


def sort_key(e: ExceptionItem):
    return (-e.severity, KIND_ORDER.get(e.kind, 9), e.rank, e.where, e.category, e.detail)


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if x >= 10 else f"{x:,.1f}"


def _p_words(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _q_words(q: float) -> str:
    """A false-discovery q-value in words: it already allows for every cell tested at once."""
    return ("q < 0.001" if q < 0.001 else f"q = {q:.3f}") + ", after allowing for every ward and category"


def exceptions(
    month: date,
    categories=DEFAULT_CATEGORIES,
    cfg: Settings | None = None,
    frame: pd.DataFrame | None = None,
    emerging: dict | None = None,
) -> list[ExceptionItem]:
    """Everything unusual in ``month`` for the categories, most severe first.

    (a) borough control-chart breaches (count beyond a 3-sigma limit: above = high severity,
    below = low); (b) ward x category cells "well above expected" (high when q < 0.001, otherwise
    medium); (c) LSOAs whose emerging hot-spot class is "intensifying" (medium) or "new" (low).
    ``frame`` may pass an already computed :func:`ward_expected` for the same month and categories,
    and ``emerging`` a dict category -> :func:`lsoa_emerging` frame (both must match ``month``).
    """
    cfg = _cfg(cfg)
    cats = list(categories)
    out: list[ExceptionItem] = []
    for c in cats:
        b = borough_control(month, c, cfg)
        if b.signal in ("above", "below") and b.count is not None and b.centre is not None:
            where = cfg.borough_name + (" (all wards)" if b.source == "sum of wards" else "")
            limit = b.ucl if b.signal == "above" else b.lcl
            assert limit is not None  # a judged month has both limits (see borough_control)
            out.append(
                ExceptionItem(
                    kind="borough",
                    where=where,
                    what=f"{b.label} {b.signal} its control limit",
                    figure=f"{b.count:,d} offences; usual {_fmt(b.centre)}, limit {_fmt(limit)}",
                    severity=HIGH if b.signal == "above" else LOW,
                    category=c,
                    rank=-(b.count - b.centre) / max(b.centre, 1.0) if b.signal == "above" else 0.0,
                    extra={"count": b.count, "centre": b.centre, "limit": limit, "source": b.source},
                )
            )
    frame = ward_expected(month, cats, cfg) if frame is None else frame
    for r in frame[frame["flag"] == FLAG_HIGH].itertuples():
        out.append(
            ExceptionItem(
                kind="ward",
                where=r.ward_name,
                what=f"{r.label} well above expected",
                figure=f"{r.latest:,d} offences; expected {_fmt(r.expected)} ({_q_words(r.q)})",
                severity=HIGH if r.q < 0.001 else MEDIUM,
                category=r.category,
                ward_code=r.ward_code,
                rank=float(r.q),
                extra={"latest": int(r.latest), "expected": float(r.expected)},
            )
        )
    for c in cats:
        em = emerging[c] if emerging is not None and c in emerging else lsoa_emerging(month, c, cfg)
        label = get(c).label
        for r in em[em["emerging"].isin(["intensifying", "new"])].itertuples():
            # Gi* judges an area together with its neighbours, so a hot LSOA may itself hold few offences.
            words = (
                "in a hot-spot cluster (with its neighbours) for most of the last 12 months, getting hotter"
                if r.emerging == "intensifying"
                else "in a hot-spot cluster (with its neighbours) this month, not in the 11 months before"
            )
            out.append(
                ExceptionItem(
                    kind="lsoa",
                    where=r.ward_name,
                    what=f"{label}: {r.emerging} hot spot",
                    figure=f"{r.name}: {int(r.count):,d} offence{'s' if int(r.count) != 1 else ''} this month; {words}",
                    severity=MEDIUM if r.emerging == "intensifying" else LOW,
                    category=c,
                    ward_code=r.ward_code,
                    detail=f"{r.code} {r.name}",
                    rank=-float(r.z_final),
                    extra={"lsoa": r.code, "class": r.emerging, "count": int(r.count)},
                )
            )
    return sorted(out, key=sort_key)


def coverage_notes(month: date, cfg: Settings | None = None) -> list[str]:
    """Plain words about data that lag the chosen month (borough and LSOA extracts)."""
    cfg = _cfg(cfg)
    notes = []
    last_b = sql.run("crime/level_last_month", level="borough", borough_code=cfg.borough_code, cfg=cfg)[
        "last_month"
    ].iloc[0]
    if last_b is not None and not pd.isna(last_b) and pd.Timestamp(last_b).date() < month:
        notes.append(
            f"Borough figures are published to {pd.Timestamp(last_b):%b %Y}: the borough check "
            f"for {month:%b %Y} uses the sum of the wards."
        )
    window = lsoa_window(month, cfg)
    if window is None:
        notes.append("No LSOA data for this period: no small-area hot spots.")
    elif window[1] < month:
        notes.append(f"Small-area (LSOA) data end in {window[1]:%b %Y}: hot spots are judged to then.")
    return notes


@dataclass(frozen=True)
class Line:
    """One line of the projected exception list: LSOA hot spots are grouped per category and class."""

    severity: int
    symbol: str
    where: str
    text: str

    @property
    def severity_word(self) -> str:
        return SEVERITY_WORDS[self.severity]


def _short_line(e: ExceptionItem) -> Line:
    x = e.extra
    if e.kind == "borough":
        side = "above" if "above" in e.what else "below"
        text = (
            f"{get(e.category).label} {x['count']:,d}, {side} the control limit {_fmt(x['limit'])} "
            f"(usual {_fmt(x['centre'])})"
        )
    else:
        text = f"{get(e.category).label} {x['latest']:,d} vs {_fmt(x['expected'])} expected"
    return Line(e.severity, e.symbol, e.where, text)


def display_lines(items: list[ExceptionItem], max_wards: int = 3) -> list[Line]:
    """The exception list as the room reads it, most severe first: borough and ward exceptions one
    per line ("Lansbury: Theft 67 vs 40 expected"); LSOA hot spots one line per category and class
    ("Vehicle crime: 6 new hot spots in Bromley South (2), Lansbury (2), +2 wards")."""
    keyed: list[tuple[tuple, Line]] = []
    groups: dict[tuple[str, str], list[ExceptionItem]] = {}
    for e in items:
        if e.kind == "lsoa":
            groups.setdefault((e.category, e.extra.get("class", "")), []).append(e)
        else:
            keyed.append((sort_key(e), _short_line(e)))
    for (cat, klass), es in groups.items():
        counts: dict[str, int] = {}
        for e in es:
            counts[e.where] = counts.get(e.where, 0) + 1
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        wards = ", ".join(f"{w} ({n})" if n > 1 else w for w, n in ranked[:max_wards])
        if len(ranked) > max_wards:
            wards += f", +{len(ranked) - max_wards} more ward{'s' if len(ranked) - max_wards > 1 else ''}"
        n = len(es)
        best = min(es, key=sort_key)
        line = Line(
            best.severity, "◆", get(cat).label, f"{n} {klass} hot spot{'s' if n != 1 else ''} in {wards}"
        )
        keyed.append(((-best.severity, KIND_ORDER["lsoa"], -n, best.rank, cat), line))
    return [ln for _, ln in sorted(keyed, key=lambda t: t[0])]


def fmt_month(d: date) -> str:
    return f"{d:%B %Y}"


def cell_text(row) -> str:
    """A ward x category cell, symbols and words: '▲ 67 (40)' is 67 against 40 expected, well above;
    '▼ 0 (5)' well below; '5 (4)' within what chance allows. Expected is '–' with no history."""
    exp = "–" if not math.isfinite(row.expected) else f"{row.expected:.0f}"
    base = f"{row.latest:,d} ({exp})"
    if row.flag == FLAG_HIGH:
        return f"▲ {base}"
    if row.flag == FLAG_LOW:
        return f"▼ {base}"
    return base


def grid(frame: pd.DataFrame, categories, focus_ward: str | None = None) -> pd.DataFrame:
    """Wards as rows, categories as columns, cells from :func:`cell_text`; ``flags`` counts each
    ward's flagged cells. The focus ward comes first (marked '▶'), then wards with the most
    "well above" flags, then the most flags of either kind, then by name."""
    f = frame.assign(cell=[cell_text(r) for r in frame.itertuples()])
    wide = f.pivot(index=["ward_code", "ward_name"], columns="category", values="cell")
    wide = wide[[c for c in categories if c in wide.columns]].reset_index()
    highs = frame.assign(n=frame["flag"].eq(FLAG_HIGH)).groupby("ward_code")["n"].sum()
    flags = frame.assign(n=frame["flag"].ne("")).groupby("ward_code")["n"].sum()
    wide["flags"] = wide["ward_code"].map(flags).fillna(0).astype(int)
    wide["_h"] = wide["ward_code"].map(highs).fillna(0)
    wide["_f"] = wide["ward_code"].eq(focus_ward or "")
    wide = wide.sort_values(["_f", "_h", "flags", "ward_name"], ascending=[False, False, False, True])
    wide["Ward"] = [("▶ " if f else "") + n for n, f in zip(wide["ward_name"], wide["_f"])]
    labels = {c: get(c).label for c in categories}
    wide = wide.rename(columns=labels)
    cols = ["ward_code", "Ward"] + [labels[c] for c in categories if labels[c] in wide.columns] + ["flags"]
    return wide[cols].reset_index(drop=True)


def _md_cell(text: str) -> str:
    """A table cell as Markdown: flagged cells bold; characters Markdown would act on escaped."""
    safe = re.sub(r"([\\`*_{}\[\]<>()#+!|~])", r"\\\1", str(text))
    return f"**{safe}**" if str(text).startswith(("▲", "▼", "▶")) else safe


# Column heads short enough for seven categories beside the map (the full names are in the expander).
SHORT_LABELS = {
    "violence_injury": "Violence w. injury",
    "drug_trafficking": "Drug supply",
    "weapons": "Weapons",
    "serious_violence": "Serious violence",
    "drug_possession": "Drug possession",
    "vehicle": "Vehicle",
}
SHORT_NOTE = (
    "▲ well above expected, ▼ well below; figures are the month's count with the expected count "
    "(mean of the previous 12 months) in brackets."
)


def grid_markdown(table: pd.DataFrame, short: bool = False) -> str:
    """A :func:`grid` frame as a Markdown table (rendered at body size, larger than ``st.table``);
    ``short`` uses :data:`SHORT_LABELS` for the column heads."""
    cols = [c for c in table.columns if c not in ("ward_code", "flags")]
    by_label = {m.label: m.id for m in BY_ID.values()}
    heads = [SHORT_LABELS.get(by_label.get(c, ""), c) if short else c for c in cols]
    lines = [
        "| " + " | ".join(_md_cell(c) for c in heads) + " |",
        "|" + "|".join([":---"] + ["---:"] * (len(cols) - 1)) + "|",
    ]
    for row in table[cols].itertuples(index=False):
        lines.append("| " + " | ".join(_md_cell(v) for v in row) + " |")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- the view from the URL


@dataclass(frozen=True)
class View:
    """What the projector shows, resolved from URL parameters (``?month=&categories=&ward=&map=``)."""

    month: date
    categories: tuple[str, ...]
    ward: str | None
    map_category: str | None  # None: the page picks (see :func:`map_category`)
    warnings: tuple[str, ...]


def _shown(text: str, limit: int = 40) -> str:
    """A URL value made safe to quote in a Markdown message: only plain characters, short."""
    clean = re.sub(r"[^A-Za-z0-9 _,.\-]", "?", text or "")
    short = clean[:limit] + ("…" if len(clean) > limit else "")
    return short.replace("_", "\\_")  # shown literally, never as Markdown emphasis


def resolve_view(params: dict[str, str], months: list[date], wards: dict[str, str]) -> View:
    """Validate URL parameters against the data; anything unknown falls back with a warning.

    ``params`` maps names to text exactly as the URL gives them (nothing is evaluated);
    ``months`` are the selectable months (oldest first); ``wards`` maps ward code to name.
    Defaults: the latest month, :data:`DEFAULT_CATEGORIES`, no focus ward, map chosen by the page.
    """
    if not months:
        raise TTCGError("the warehouse holds no ward-level months")
    warnings: list[str] = []
    month = months[-1]
    raw = (params.get("month") or "").strip()
    if raw:
        try:
            wanted = parse_month(raw)
        except TTCGError:
            warnings.append(
                f"“{_shown(raw)}” is not a month (write YYYY-MM, e.g. {months[-1]:%Y-%m}): "
                f"showing the latest, {month:%B %Y}."
            )
        else:
            if wanted in months:
                month = wanted
            else:
                warnings.append(
                    f"{wanted:%B %Y} cannot be shown: months from {months[0]:%b %Y} to "
                    f"{months[-1]:%b %Y} can (each needs the 12 months of ward data before it). "
                    f"Showing the latest, {month:%B %Y}."
                )
    cats = list(DEFAULT_CATEGORIES)
    raw_cats = params.get("categories")
    if raw_cats is not None and raw_cats.strip():
        known, unknown = parse_categories(raw_cats)
        if unknown:
            warnings.append(
                f"Unknown categor{'ies' if len(unknown) > 1 else 'y'} "
                f"{', '.join('“' + _shown(u, 30) + '”' for u in unknown[:5])}"
                f"{'…' if len(unknown) > 5 else ''} left out. Known: {', '.join(ALLOWED_CATEGORIES)}."
            )
        if known:
            cats = known
        else:
            warnings.append("No known category given: showing the standard TTCG set.")
    ward = None
    raw = (params.get("ward") or "").strip()
    if raw:
        code = raw.upper()
        if WARD_RE.match(code) and code in wards:
            ward = code
        else:
            warnings.append(
                f"“{_shown(raw)}” is not a ward of this borough (use a code such as "
                f"{next(iter(sorted(wards)), 'E05009333')}): no ward is highlighted."
            )
    map_cat = None
    raw = (params.get("map") or "").strip().lower()
    if raw:
        if raw in cats:
            map_cat = raw
        else:
            warnings.append(f"The map cannot show “{_shown(raw)}”: it shows one of the chosen categories.")
    return View(month, tuple(cats), ward, map_cat, tuple(warnings))


def map_category(view: View, items: list[ExceptionItem]) -> str:
    """The category the map colours: the URL's ``map`` if given, else that of the most severe
    borough or ward exception (where the room's attention goes first), else the first category."""
    if view.map_category:
        return view.map_category
    for e in items:
        if e.kind in ("borough", "ward") and e.category in view.categories and "below" not in e.what:
            return e.category
    return view.categories[0]


def query_string(month: date, categories, ward: str | None = None, map_cat: str | None = None) -> str:
    """The URL query that reproduces a view (for the 'share this view' line)."""
    parts = [f"month={month:%Y-%m}", "categories=" + ",".join(categories)]
    if ward:
        parts.append(f"ward={ward}")
    if map_cat:
        parts.append(f"map={map_cat}")
    return "?" + "&".join(parts)
