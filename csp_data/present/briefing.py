"""The briefing pack: one self-contained HTML file for a CSP board or TTCG meeting.

``python -m csp_data briefing --period 2026-03 --out pack.html`` (or the download button in
``csp_data/ui/downloads.py``) writes one file with inline CSS and the charts as inline SVG: no
script, no font, image or style sheet from anywhere, so it opens offline and prints on A4 (each
section starts a page, table rows are never cut, status is in symbols and words, not colour).

Every figure comes from the embedded data through the functions the pages use:

1. the borough scorecard (:func:`csp_data.analysis.scorecard.scorecard`) as at the month;
2. every plan target (:func:`csp_data.analysis.targets.evaluate_all`) as at the month;
3. the LSOA hot spots (:func:`csp_data.analysis.hotspots.lsoa_hotspots`, Gi* with FDR) for a few main
   categories over the 12 months of LSOA data ending at the month (:func:`csp_data.analysis.ttcg.lsoa_window`);
4. the TTCG exceptions for the month (:func:`csp_data.analysis.ttcg.exceptions`);
5. the data sources, their snapshots and the caveats (``meta/coverage``, ``meta/sources``).

The datasets end in different months (borough recorded crime ends a month before the ward data;
the LSOA and dashboard extracts have their own ends), so each section uses the latest data held up
to the chosen month and says which months it covers. A month after all the data or before they
start is refused. The pack is for an internal audience: it holds LSOA-level analysis, but no
point-level or personal data. Nothing here imports Streamlit.
"""

from __future__ import annotations

import html
import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from csp_data.config import Settings
from csp_data.config import settings as get_settings
from csp_data.plan import periods
from csp_data.plan.measures import CONNECT_BREAK
from csp_data.plan.measures import get as get_measure
from csp_data.plan.periods import add_months, make
from csp_data.warehouse import sql
from csp_data.warehouse.fileio import atomic_write_bytes

# The sections' modules (geopandas, esda, altair, vl-convert behind them) are imported when a pack
# is built, so the command line stays quick for everything else.

HOTSPOT_CATEGORIES: tuple[str, ...] = ("robbery", "violence_injury", "burglary")
TOP_HOTSPOTS = 10  # hot spots listed per category (the count of all is given too)
CRIME_DATASETS = ("crime_borough", "crime_ward", "crime_lsoa")
CHART_WIDTH = 620  # px; fits the A4 text width when printed


class BriefingError(ValueError):
    """A month or output path the pack cannot be made for; the message says why."""


# ----------------------------------------------------------------------------- the month


@dataclass(frozen=True)
class Span:
    """First and last month held, and the snapshot, of one dataset (query ``meta/data_span``)."""

    dataset: str
    first: date
    last: date
    snapshot: str


def data_spans(cfg: Settings | None = None) -> dict[str, Span]:
    cfg = cfg or get_settings()
    df = sql.run("meta/data_span", borough_code=cfg.borough_code, cfg=cfg)
    out = {}
    for r in df.itertuples():
        if r.first_month is None or pd.isna(r.first_month):
            continue
        out[r.dataset] = Span(
            r.dataset, pd.Timestamp(r.first_month).date(), pd.Timestamp(r.last_month).date(), str(r.snapshot)
        )
    return out


def parse_month(text: str) -> date:
    """'2026-03' -> date(2026, 3, 1) (:func:`csp_data.plan.periods.parse_month`); anything else is a
    BriefingError naming the form."""
    try:
        return periods.parse_month(text)
    except periods.MonthError as exc:
        if exc.month is None:
            raise BriefingError(f"--period takes one month as YYYY-MM, e.g. 2026-03; got {text!r}") from None
        raise BriefingError(
            f"{text!r}: month {exc.month:02d} is not 01-12 (write the month as YYYY-MM, e.g. 2026-03)"
        ) from None


def internal_only(cfg: Settings) -> None:
    if cfg.mode == "public":
        raise BriefingError(
            "the briefing pack is internal (it holds LSOA hot spots): not available in public mode"
        )


def resolve_month(text: str | None, cfg: Settings | None = None, today: date | None = None) -> date:
    """The month a pack is for: ``text`` (YYYY-MM) checked against the recorded-crime data held, or
    the latest month held when ``text`` is None or empty."""
    cfg = cfg or get_settings()
    internal_only(cfg)
    if text is not None and str(text).strip():
        parse_month(text)  # a malformed month is refused before the data are read
    spans = data_spans(cfg)
    crime = [spans[d] for d in CRIME_DATASETS if d in spans]
    if not crime:
        raise BriefingError("the warehouse holds no recorded-crime months: nothing to brief on")
    first, last = min(s.first for s in crime), max(s.last for s in crime)
    if text is None or not str(text).strip():
        return last
    month = parse_month(text)
    today = today or date.today()
    if month > last:
        future = " (a month still to come)" if month > date(today.year, today.month, 1) else ""
        raise BriefingError(
            f"{month:%B %Y}{future} is after the latest data held: recorded crime runs from "
            f"{first:%b %Y} to {last:%b %Y}"
        )
    if month < first:
        raise BriefingError(
            f"{month:%B %Y} is before the data start: recorded crime runs from {first:%b %Y} to {last:%b %Y}"
        )
    return month


def available_months(cfg: Settings | None = None, n: int = 24) -> list[date]:
    """The months a pack can be made for, newest first: the last ``n`` months of recorded crime held."""
    last = resolve_month(None, cfg)
    first = min(s.first for d, s in data_spans(cfg).items() if d in CRIME_DATASETS)
    out: list[date] = []
    m = last
    while len(out) < n and m >= first:
        out.append(m)
        m = add_months(m, -1)
    return out


# ----------------------------------------------------------------------------- HTML helpers


def _e(x) -> str:
    return html.escape("" if x is None else str(x), quote=True)


def _table(
    df: pd.DataFrame,
    caption: str = "",
    numeric: tuple[str, ...] = (),
    cls: str = "",
    paths: tuple[str, ...] = (),
) -> str:
    """A plain HTML table; cells are escaped text. ``numeric`` columns are right-aligned; ``paths``
    columns (file names) may wrap after a / or _ instead of mid-word."""
    head = "".join(f'<th scope="col">{_e(c)}</th>' for c in df.columns)
    rows = []
    for row in df.itertuples(index=False):
        cells = []
        for col, v in zip(df.columns, row):
            text = _e("" if v is None or (isinstance(v, float) and pd.isna(v)) else v)
            if col in paths:
                text = text.replace("/", "/<wbr>").replace("_", "_<wbr>")
            cells.append(f'<td class="num">{text}</td>' if col in numeric else f"<td>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{_e(caption)}</caption>" if caption else ""
    klass = f' class="{cls}"' if cls else ""
    return f"<table{klass}>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _svg_inline(svg: bytes, prefix: str, label: str) -> str:
    """A vl-convert SVG ready to sit inside HTML with others: no XML prolog, ids made unique to this
    chart (two charts' ``gradient_1`` would otherwise clash), and an accessible name."""
    text = svg.decode("utf-8")
    text = re.sub(r"^\s*<\?xml[^>]*>\s*", "", text)
    ids = set(re.findall(r'\bid="([^"]+)"', text))
    for i in sorted(ids, key=len, reverse=True):
        text = text.replace(f'id="{i}"', f'id="{prefix}-{i}"').replace(f"url(#{i})", f"url(#{prefix}-{i})")
        text = text.replace(f'href="#{i}"', f'href="#{prefix}-{i}"')
    return text.replace("<svg ", f'<svg role="img" aria-label="{_e(label)}" ', 1)


def _month_words(d: date | None) -> str:
    return "no data" if d is None else f"{d:%b %Y}"


def _q(q: float) -> str:
    return "< 0.001" if q < 0.001 else f"{q:.3f}"


# ----------------------------------------------------------------------------- sections


@dataclass
class Section:
    key: str
    title: str
    covers: str  # the months the section's figures cover, in words
    body: str  # HTML
    glance: str = ""  # one line for the cover page


def _london_cell(row, cfg: Settings) -> str:
    """The London comparison of a scorecard row's 12-month change (csp_data/analysis/london.py), in words."""
    from csp_data.analysis import london

    c = london.for_score_row(row, cfg)["l12"] if row.l12 is not None else None
    if c is None:
        return "awaiting data"
    if c.relative is None:
        return c.verdict
    crosses = f"; crosses the {', '.join(c.straddles)}" if c.straddles else ""
    return (
        f"London {london._move(c.london_pct)}: {c.verdict} (relative {c.relative:.2f}, "
        f"{c.low:.2f} to {c.high:.2f}){crosses}"
    )


def _scorecard_section(month: date, cfg: Settings) -> Section:
    from csp_data.analysis import scorecard

    rows = scorecard.scorecard(cfg, as_of=month)
    table = scorecard.as_table(rows)
    groups: dict[tuple, list] = {}  # (has a 12-month comparison, latest month) -> rows
    for r in rows:
        if r.latest is not None:
            groups.setdefault((r.l12 is not None, r.latest), []).append(r)
    parts = []
    for i, (full, d) in enumerate(sorted(groups, reverse=True)):
        group = groups[(full, d)]
        who = (
            f"{len(group)} measures"
            if i == 0 and len(group) > 3
            else ", ".join(r.measure.label for r in group)
        )
        parts.append(
            f"12 months to {d:%b %Y} ({who})"
            if full
            else f"data to {d:%b %Y}, too few months for a 12-month comparison ({who})"
        )
    missing = [r.measure.label for r in rows if r.latest is None]
    if missing:
        parts.append("no data: " + ", ".join(missing))
    covers = "; ".join(parts) if parts else "no data"
    show = pd.DataFrame(
        {
            "Measure": [f"{m} (P{p})" for m, p in zip(table["Measure"], table["Priority"])],
            "Last 12 months": [
                f"{p}: {a} (previous 12: {b})" if p else "awaiting data"
                for p, a, b in zip(
                    table["Period (12 months)"], table["Last 12 months"], table["Previous 12 months"]
                )
            ],
            "Change": table["12-month change"],
            "Verdict (allowing for extra variation)": [
                f"{v}; {d}" if d else v
                for v, d in zip(table["12-month verdict"], table["Direction of travel"])
            ],
            "Financial year to date": [
                f"{p}: {a} vs {b}; {v}" if p else "awaiting data"
                for p, a, b, v in zip(
                    table["Year to date period"],
                    table["Year to date"],
                    table["Same months last year"],
                    table["Year-to-date verdict"],
                )
            ],
            "Against London (12 months)": [_london_cell(r, cfg) for r in rows],
            "London rank": table["London rank (12 months)"],
            "Snapshot": table["Snapshot"],
        }
    )
    sources = sorted(set(table["Source"]))
    notes = []
    later = [r for r in rows if r.latest is not None and r.latest < month]
    if later:
        notes.append(
            f"Asked for {month:%B %Y}: where a source ends earlier, its latest month is used and the "
            "row's period says so."
        )
    caveats = sorted({r.measure.caveat for r in rows if r.measure.caveat})
    defs = [f"{r.measure.label}: {r.measure.definition}" for r in rows if r.measure.id == "serious_violence"]
    body = (
        "<p>For each plan measure: the last 12 months against the 12 before, and the financial year to date "
        "against the same months a year earlier, each tested allowing for how much the measure's own months vary "
        "beyond chance (a quasi-Poisson test; ▲ significant rise, ▼ significant fall, ● no significant change; "
        "always in words too). London rank: 1st = most offences "
        "of the 32 boroughs.</p>"
        + "".join(f'<p class="note">{_e(n)}</p>' for n in notes)
        + _table(show, cls="scorecard")
        + '<p class="note">Sources: '
        + _e("; ".join(sources))
        + ". "
        + " ".join(_e(d) for d in defs)
        + "</p>"
        + '<h3>Caveats that travel with these measures</h3><ul class="note">'
        + "".join(f"<li>{_e(c)}</li>" for c in caveats)
        + "</ul>"
    )
    verdicts: dict[str, int] = {}
    for r in rows:
        if r.l12 is not None:
            verdicts[f"{r.l12.symbol} {r.l12.verdict.lower()}"] = (
                verdicts.get(f"{r.l12.symbol} {r.l12.verdict.lower()}", 0) + 1
            )
    glance = "Last 12 months against the 12 before: " + (
        ", ".join(
            f"{n} {v}" for v, n in sorted(verdicts.items(), key=lambda kv: ("▲▼●".find(kv[0][0]), kv[0]))
        )
        or "awaiting data"
    )
    return Section("scorecard", "Borough scorecard", covers, body, glance)


STATUS_ORDER = ("off track", "not met", "too early to tell", "on track", "met", "awaiting data")


def _targets_section(month: date, cfg: Settings) -> Section:
    from csp_data.analysis import targets
    from csp_data.analysis.stats import STATUS_SYMBOLS
    from csp_data.plan.document import load_plan
    from csp_data.present import charts
    from csp_data.present.exports import chart_svg

    plan = load_plan()
    if not plan.loaded:
        from csp_data.plan.document import no_plan_message

        text = no_plan_message(cfg.borough_name, cfg.borough_code)
        return Section("targets", "Plan targets", "no plan loaded", f"<p>{_e(text)}</p>", "no plan loaded")
    results = targets.evaluate_all(plan, cfg=cfg, as_of=month)
    table = targets.as_table(results)
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    summary = " · ".join(
        f"{STATUS_SYMBOLS.get(s, '')} {n} {s}" for s in STATUS_ORDER for n in [counts.get(s, 0)] if n
    )
    police = [r for r in results if r.target.kind == "police_count"]
    by_window: dict[str, list[str]] = {}
    for r in police:
        key = r.assessed_period.label if r.assessed_period is not None else "no months assessed"
        by_window.setdefault(key, []).append(r.target.label)
    awaiting = sum(r.target.kind != "police_count" and r.status == targets.AWAITING for r in results)
    recorded = sum(r.target.kind != "police_count" and r.observed is not None for r in results)
    covers = (
        "police-recorded: "
        + "; ".join(f"{k} ({', '.join(v)})" for k, v in by_window.items())
        + f". Partnership-recorded: {awaiting} of {len(results) - len(police)} awaiting data"
    )
    show = pd.DataFrame(
        {
            "Target": [f"{r.target.id}: {r.target.label} (P{r.target.priority})" for r in results],
            "Status": table["Status"],
            "Baseline and target": [
                f"{b} → {t}" if not b.startswith("not applicable") else t
                for b, t in zip(table["Baseline"], table["Target value"])
            ],
            "Latest (expected on the path)": [
                f"{l} (expected {x})" if x != "–" else l
                for l, x in zip(table["Latest"], table["Expected on the path"])
            ],
            "Why": table["Why"],
        }
    )
    figs = []
    for r in police:
        if r.trajectory is None or not len(r.trajectory):
            continue
        chart, alt_text, _ = charts.trajectory_chart(
            r.trajectory,
            f"{r.target.label}: recorded against the path, year by year",
            get_measure(r.target.measure).label,
        )
        svg = _svg_inline(chart_svg(chart, width=CHART_WIDTH), f"chart-{r.target.id}", alt_text)
        figs.append(
            f"<figure>{svg}<figcaption>Chart description: {_e(alt_text)} Source: {_e(r.source)}; "
            f"{_e(r.snapshot)}.</figcaption></figure>"
        )
    body = (
        f"<p>The {_e(plan.title)} sets {len(results)} targets for 2028. Status: ✔ on track when the 95% interval "
        "for recorded ÷ expected lies wholly on the right side of the straight path from the baseline to the "
        "target; ✖ off track when wholly on the wrong side; … too early to tell otherwise; ○ awaiting data when "
        "no figure is held (nothing is estimated).</p>"
        f'<p class="summary">{_e(summary)}</p>'
        f'<p class="note">{_e(plan.baseline_note)}</p>'
        + _table(show, cls="targets")
        + '<p class="note">Sources: police-recorded targets use MPS data as in the scorecard (source and snapshot '
        "under each chart); partnership-recorded targets read the figures the partnership has entered "
        f"(data/partnership/figures.csv), which hold {recorded or 'none'} for these targets.</p>"
        + "<h3>Police-recorded targets, year by year</h3>"
        + ("".join(figs) or "<p>No chart: the data held do not cover the baseline year.</p>")
    )
    return Section("targets", "Plan targets", covers, body, f"{len(results)} targets: {summary}")


def _hotspots_section(month: date, cfg: Settings) -> Section:
    from csp_data.analysis import hotspots, ttcg

    window = ttcg.lsoa_window(month, cfg)
    if window is None:
        body = f"<p>No LSOA (small-area) data are held up to {month:%B %Y}: no hot-spot test can be run.</p>"
        return Section("hotspots", "Small-area hot spots", "no LSOA data", body)
    start, end = window
    period = make(start, end)
    before = period.previous()
    has_before = before.start >= hotspots.FIRST_LSOA_MONTH
    wards = sql.run("meta/wards", cfg=cfg).set_index("ward_code")["ward_name"]
    parts, found = [], []
    for cid in HOTSPOT_CATEGORIES:
        m = get_measure(cid)
        gi = hotspots.lsoa_hotspots(list(m.majors), list(m.minors), start, end, cfg)
        hot = gi[gi["klass"].str.startswith("hot spot")].sort_values(["z", "code"], ascending=[False, True])
        classes = gi["klass"].value_counts()
        counted = [f"{classes[k]} {k}" for k in hotspots.CLASSES if k != "not significant" and k in classes]
        found.append(f"{m.label} {len(hot)}")
        parts.append(
            f"<h3>{_e(m.label)}: {len(hot)} hot spot{'s' if len(hot) != 1 else ''} of {len(gi)} LSOAs</h3>"
        )
        verdict = (
            ", ".join(counted) + f" (lowest q {_q(gi['q'].min())})"
            if counted
            else f"{hotspots.no_hotspot_sentence(len(gi))} The lowest q is {_q(gi['q'].min())}"
        )
        parts.append(f'<p class="note">{_e(m.definition)}. {_e(verdict)} ({_e(period.label)}).</p>')
        if len(hot):
            top = hot.head(TOP_HOTSPOTS)
            show = pd.DataFrame(
                {
                    "LSOA": [f"{c} {n}" for c, n in zip(top["code"], top["name"])],
                    "Ward": [wards.get(w, w) for w in top["ward_code"]],
                    "Offences": [f"{int(v):,d}" for v in top["count"]],
                    "Per 1,000 residents": [f"{v:.1f}" for v in top["rate_per_1000"]],
                    "Hot-spot class": top["klass"],
                    "Gi* z": [f"{v:.2f}" for v in top["z"]],
                    "p (permutation)": [_q(v) for v in top["p_sim"]],
                    "q (FDR)": [_q(v) for v in top["q"]],
                }
            )
            more = f"; {len(hot) - TOP_HOTSPOTS} more not listed" if len(hot) > TOP_HOTSPOTS else ""
            parts.append(
                _table(
                    show,
                    caption=f"Hottest first (largest Gi* z){more}.",
                    numeric=("Offences", "Per 1,000 residents", "Gi* z", "p (permutation)", "q (FDR)"),
                )
            )
        # what is robust whether or not any area is a hot spot: concentration and the busiest areas
        prev = (
            hotspots.lsoa_period_counts(
                list(m.majors), list(m.minors), before.start, before.end, cfg
            ).set_index("lsoa21_code")["count"]
            if has_before
            else None
        )
        conc = hotspots.concentration_table(
            gi["count"], prev.reindex(gi["code"]).to_numpy() if prev is not None else None
        )
        conc_show = pd.DataFrame(
            {
                "Busiest LSOAs": [f"Top {r.top_pct}% ({r.areas} LSOAs)" for r in conc.itertuples()],
                f"Share of offences, {period.label}": [
                    f"{v:.0%}" if pd.notna(v) else "no offences" for v in conc["share_now"]
                ],
                f"Share, {before.label}": [
                    f"{v:.0%}" if pd.notna(v) else "not held" for v in conc["share_before"]
                ],
            }
        )
        parts.append(
            _table(
                conc_show, caption=f"{m.label}: how concentrated offences are (a description, not a test)."
            )
        )
        table = gi.assign(ward=[wards.get(w, w) for w in gi["ward_code"]])
        by_count = hotspots.ranked(table, "count", 5)
        by_rate = hotspots.ranked(table, "rate", 5)
        ward_of = table.set_index("code")["ward"]
        rank_show = pd.DataFrame(
            {
                "Rank": by_count["rank"],
                "Most offences": [
                    f"{c} {n}, {ward_of[c]}: {v:,d}"
                    for c, n, v in zip(by_count["code"], by_count["name"], by_count["count"])
                ],
                "Highest rate per 1,000 residents": [
                    f"{c} {n}, {ward_of[c]}: {r:.1f} ({v:,d} offences)"
                    for c, n, r, v in zip(
                        by_rate["code"], by_rate["name"], by_rate["rate_per_1000"], by_rate["count"]
                    )
                ],
            }
        )
        parts.append(
            _table(
                rank_show,
                caption=f"{m.label}: the five LSOAs with most offences and with the highest rate "
                "(Census 2021 residents), " + period.label + ".",
            )
        )
    covers = f"{period.label} (MPS recorded crime, LSOA level)"
    short = (
        ""
        if period.n_months == 12
        else (
            f" Only {period.n_months} months of LSOA data are held for this window "
            f"(they start in {hotspots.FIRST_LSOA_MONTH:%b %Y})."
        )
    )
    lag = (
        f" LSOA data end in {end:%b %Y}, so the window ends there, not in {month:%b %Y}."
        if end < month
        else ""
    )
    body = (
        f"<p>Getis-Ord Gi* on offence counts per LSOA (small areas of about 1,500 residents), {_e(period.label)}, "
        "as on the Hotspots page: an LSOA is a hot spot when it and its neighbours together hold more offences than "
        f"{hotspots.PERMUTATIONS:,d} random rearrangements of the other LSOAs' counts give (conditional permutation), "
        "after controlling the false discovery rate across all LSOAs (q below 0.10, 0.05, 0.01 for 90%, 95%, 99%). "
        "Concentration and the busiest LSOAs are shown for every category: they need no test."
        f"{_e(short)}{_e(lag)}</p>" + "".join(parts) + f'<p class="note">{_e(hotspots.CAVEAT)}</p>'
    )
    return Section(
        "hotspots",
        "Small-area hot spots",
        covers,
        body,
        "Hot-spot LSOAs (Gi*, permutation, FDR): " + ", ".join(found),
    )


def _ttcg_section(month: date, cfg: Settings) -> Section:
    from csp_data.analysis import ttcg

    months = ttcg.ward_months(cfg)
    held = list(months["month"])
    target = min(month, held[-1]) if held else None
    selectable = ttcg.selectable_months_from(months)
    if target is None or target not in selectable:
        first = f"{selectable[0]:%b %Y}" if selectable else "no month"
        body = (
            f"<p>No TTCG check can be made for {month:%B %Y}: each month needs the 12 months of ward data "
            f"before it (the first month that can be judged is {first}).</p>"
        )
        return Section("ttcg", "TTCG exceptions", "not available", body)
    items = ttcg.exceptions(target, cfg=cfg)
    notes = ttcg.coverage_notes(target, cfg)
    if target < month:
        notes.insert(
            0, f"Ward data end in {target:%b %Y}: the exceptions are for that month, not {month:%b %Y}."
        )
    window = ttcg.lsoa_window(target, cfg)
    cats = ", ".join(get_measure(c).label for c in ttcg.DEFAULT_CATEGORIES)
    counts: dict[str, int] = {}
    for e in items:
        counts[e.severity_word] = counts.get(e.severity_word, 0) + 1
    summary = (
        ", ".join(f"{counts[w]} {w.lower()}" for w in ("High", "Medium", "Low") if w in counts) or "none"
    )
    area = [e for e in items if e.kind != "lsoa"]
    small = [e for e in items if e.kind == "lsoa"]
    parts = []
    if area:
        show = pd.DataFrame(
            {
                "Severity": [e.severity_word for e in area],
                "Check": [
                    "borough control chart" if e.kind == "borough" else "ward against expected" for e in area
                ],
                "Signal": [f"{e.symbol} {'below' if 'below' in e.what else 'above'}" for e in area],
                "Where": [e.where for e in area],
                "What": [e.what for e in area],
                "Figures": [e.figure for e in area],
            }
        )
        parts.append("<h3>Borough and wards</h3>" + _table(show, cls="ttcg"))
    else:
        parts.append(
            "<h3>Borough and wards</h3><p><strong>No exceptions:</strong> no control-chart breach and no "
            "ward well above expected.</p>"
        )
    if small and window is not None:
        lines = ttcg.display_lines(small)
        show = pd.DataFrame(
            {
                "Severity": [e.severity_word for e in small],
                "Category": [get_measure(e.category).label for e in small],
                "Class": [f"◆ {e.extra.get('class', '')}" for e in small],
                "LSOA": [e.detail for e in small],
                "Ward": [e.where for e in small],
                f"Offences in {window[1]:%b %Y}": [f"{int(e.extra.get('count', 0)):,d}" for e in small],
            }
        )
        parts.append(
            f"<h3>Small areas: new and intensifying hot spots ({window[0]:%b %Y} to {window[1]:%b %Y}, month by month)</h3>"
            "<ul>"
            + "".join(f"<li><strong>{_e(ln.where)}:</strong> {_e(ln.text)}</li>" for ln in lines)
            + "</ul>"
            + _table(show, cls="ttcg", numeric=(f"Offences in {window[1]:%b %Y}",))
            + '<p class="note">Gi* judges an area together with its neighbours, so a hot-spot LSOA may itself hold '
            "few offences. New: a hot spot in the latest month only; intensifying: in most of the 12 months, getting "
            "hotter.</p>"
        )
    else:
        parts.append(
            "<h3>Small areas</h3><p>No new or intensifying LSOA hot spots"
            + (f" ({window[0]:%b %Y} to {window[1]:%b %Y})." if window else ": no LSOA data for this month.")
            + "</p>"
        )
    if window is not None:
        parts.append(
            f'<p class="note">{_e(ttcg.lsoa_hotspot_note(target, ttcg.DEFAULT_CATEGORIES, cfg))}</p>'
        )
    body = (
        f"<p>Everything unusual in {target:%B %Y} for {_e(cats)}, most severe first ({_e(summary)}): the borough "
        "control chart (a count beyond its 3-sigma limit), wards well above what their previous 12 months "
        "lead us to expect, and LSOAs that have become new or intensifying hot spots.</p>"
        + "".join(f'<p class="note">{_e(n)}</p>' for n in notes)
        + "".join(parts)
        + f'<p class="note">{_e(ttcg.METHOD)}</p>'
    )
    covers = f"{target:%b %Y} (ward data)" + ("; " + " ".join(notes) if notes else "")
    return Section(
        "ttcg",
        "TTCG exceptions",
        covers,
        body,
        f"{len(items)} exception{'s' if len(items) != 1 else ''} in {target:%b %Y}: {summary}",
    )


def _sources_section(cfg: Settings) -> Section:
    cov = sql.run("meta/coverage", cfg=cfg)
    cov_show = pd.DataFrame(
        {
            "Dataset": cov["dataset"],
            "File": cov["source_file"],
            "Snapshot": cov["snapshot"],
            "First month": [
                _month_words(pd.Timestamp(d).date()) if not pd.isna(d) else "" for d in cov["first_month"]
            ],
            "Last month": [
                _month_words(pd.Timestamp(d).date()) if not pd.isna(d) else "" for d in cov["last_month"]
            ],
        }
    )
    src = sql.run("meta/sources", cfg=cfg)
    src_show = pd.DataFrame(
        {
            "File": src["path"],
            "As of": src["as_of"],
            "Publisher": src["publisher"],
            "Licence": src["licence"],
            "Origin": src["origin"],
        }
    )
    caveats = [
        "Borough, ward and LSOA figures come from separate MPS extracts with their own last months; finer levels "
        "lose crimes that could not be placed, so wards and LSOAs add up to less than the borough.",
        CONNECT_BREAK,
        "Recorded crime counts what is reported to and recorded by the police; changes in reporting or recording "
        "move the figures as well as changes in crime.",
    ]
    body = (
        "<p>Every figure in this pack comes from the files below, as built into the dashboard's warehouse. "
        "Snapshot: the extract and the month its data run to.</p>"
        "<h3>What each dataset covers</h3>"
        + _table(cov_show, cls="sources", paths=("Dataset", "File"))
        + "<h3>Source files</h3>"
        + _table(src_show, cls="sources files", paths=("File",))
        + '<h3>General caveats</h3><ul class="note">'
        + "".join(f"<li>{_e(c)}</li>" for c in caveats)
        + "</ul>"
    )
    return Section(
        "sources",
        "Data sources, snapshots and caveats",
        "as listed",
        body,
        f"{len(src)} source files, {len(cov)} extracts",
    )


# ----------------------------------------------------------------------------- the pack

CSS = """
@page { size: A4 portrait; margin: 14mm 12mm 14mm 12mm; }
* { box-sizing: border-box; }
html { font-family: "Liberation Sans", "DejaVu Sans", Arial, Helvetica, sans-serif; font-size: 10pt;
       line-height: 1.35; color: #000; background: #fff; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0 auto; padding: 10mm; max-width: 210mm; }
h1 { font-size: 20pt; margin: 0 0 4pt; }
h2 { font-size: 15pt; margin: 0 0 6pt; border-bottom: 1.5pt solid #000; padding-bottom: 2pt; }
h3 { font-size: 11.5pt; margin: 10pt 0 4pt; }
h1, h2, h3 { break-after: avoid; page-break-after: avoid; }
p { margin: 4pt 0; }
.meta { font-size: 11pt; margin: 2pt 0; }
.marking { border: 1.5pt solid #000; padding: 4pt 6pt; font-weight: bold; margin: 8pt 0; }
.summary { font-weight: bold; }
.note { font-size: 8.5pt; color: #222; }
ul.note { margin: 2pt 0; padding-left: 14pt; }
table { border-collapse: collapse; width: 100%; margin: 4pt 0 8pt; font-size: 8pt; }
caption { caption-side: bottom; text-align: left; font-size: 8pt; padding-top: 2pt; }
th, td { border: 0.6pt solid #444; padding: 2pt 3pt; text-align: left; vertical-align: top; overflow-wrap: break-word; }
th { background: #e6e6e6; font-weight: bold; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
thead { display: table-header-group; }
tr, figure, .keep { break-inside: avoid; page-break-inside: avoid; }
table.covers td:first-child { font-weight: bold; white-space: nowrap; }
table.targets td:nth-child(2), table.ttcg td:nth-child(1) { font-weight: bold; white-space: nowrap; }
table.scorecard td:nth-child(3), table.ttcg td:nth-child(3) { white-space: nowrap; }
table.sources { font-size: 7.5pt; }
table.files td:nth-child(2) { white-space: nowrap; }
figure { margin: 6pt 0 10pt; }
figure svg { display: block; max-width: 100%; height: auto; }
figcaption { font-size: 8pt; margin-top: 2pt; }
section { margin-top: 14pt; }
@media print {
  body { padding: 0; max-width: none; }
  section { break-before: page; page-break-before: always; margin-top: 0; }
}
"""


def build(month: date, cfg: Settings | None = None, generated: date | None = None) -> str:
    """The pack for ``month`` (a first-of-month date, already checked by :func:`resolve_month`)
    as one HTML document."""
    cfg = cfg or get_settings()
    internal_only(cfg)
    generated = generated or date.today()
    sections = [
        _scorecard_section(month, cfg),
        _targets_section(month, cfg),
        _hotspots_section(month, cfg),
        _ttcg_section(month, cfg),
        _sources_section(cfg),
    ]
    covers = pd.DataFrame(
        {
            "Section": [f"{i}. {s.title}" for i, s in enumerate(sections, 1)],
            "Months covered": [s.covers for s in sections],
            "At a glance": [s.glance for s in sections],
        }
    )
    spans = data_spans(cfg)
    held = pd.DataFrame(
        {
            "Dataset": [s.dataset for s in spans.values()],
            "Months held": [f"{s.first:%b %Y} to {s.last:%b %Y}" for s in spans.values()],
            "Latest snapshot": [s.snapshot for s in spans.values()],
        }
    )
    title = f"{cfg.borough_name} Community Safety Partnership: briefing pack"
    lag = ""
    b, w = spans.get("crime_borough"), spans.get("crime_ward")
    if b and w and b.last < w.last and month > b.last:
        lag = (
            f"Borough-level recorded crime is published to {b.last:%b %Y}, ward-level to {w.last:%b %Y}: each "
            f"section uses the latest data held up to {month:%B %Y} and says which months it covers."
        )
    head = (
        f'<header class="keep"><h1>{_e(title)}</h1>'
        f'<p class="meta"><strong>Period:</strong> {month:%B %Y} · <strong>Borough:</strong> {_e(cfg.borough_name)} '
        f"({_e(cfg.borough_code)}) · <strong>Generated:</strong> {generated.day} {generated:%B %Y}</p>"
        '<p class="marking">For the Community Safety Partnership board and TTCG: internal. It contains '
        "small-area (LSOA) analysis; it holds no point-level or personal data. Not for publication.</p>"
        + (f"<p><strong>Note on dates.</strong> {_e(lag)}</p>" if lag else "")
        + "<h2>What each section covers</h2>"
        + _table(covers, cls="covers")
        + "<h3>Data held</h3>"
        + _table(held, cls="covers")
        + '<p class="note">Every figure is real published data (Metropolitan Police via the London Datastore; '
        "data.police.uk; ONS), with its source, period and snapshot date beside it. "
        f"Made by the {_e(cfg.borough_name)} community safety dashboard (python -m csp_data briefing).</p>"
        "</header>"
    )
    body = "".join(
        f'<section id="{s.key}"><h2>{i}. {_e(s.title)}</h2>'
        f'<p class="meta"><strong>Covers:</strong> {_e(s.covers)}</p>{s.body}</section>'
        for i, s in enumerate(sections, 1)
    )
    return (
        '<!DOCTYPE html>\n<html lang="en-GB"><head><meta charset="utf-8">'
        f"<title>{_e(title)}: {month:%B %Y}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<style>{CSS}</style></head><body>{head}{body}</body></html>\n"
    )


# ----------------------------------------------------------------------------- writing


def check_out(out: Path | str) -> Path:
    """The output path, refused when it is a directory or its folder does not exist."""
    path = Path(out).expanduser()
    if str(out).endswith(os.sep) or path.is_dir():
        raise BriefingError(
            f"--out {out} is a directory: give a file name, e.g. {Path(out) / 'briefing.html'}"
        )
    if not path.parent.is_dir():
        raise BriefingError(f"--out {out}: the folder {path.parent} does not exist")
    return path


def write_atomic(text: str, out: Path | str) -> int:
    """Write ``text`` (UTF-8) to ``out`` through a temporary file in the same folder and an atomic
    rename: a failure leaves any existing file as it was and no temporary file behind. Returns the
    size in bytes."""
    path = check_out(out)
    data = text.encode("utf-8")
    atomic_write_bytes(path, data)
    return len(data)


def generate(
    period: str | None, out: Path | str, cfg: Settings | None = None, generated: date | None = None
) -> tuple[Path, int, date]:
    """Check the month and the path, build the pack, write it atomically: (path, bytes, month)."""
    cfg = cfg or get_settings()
    path = check_out(out)
    month = resolve_month(period, cfg)
    text = build(month, cfg, generated)
    return path, write_atomic(text, path), month


def pack_bytes(period: str | None = None, cfg: Settings | None = None) -> bytes:
    """The pack for a download button: the HTML as UTF-8 bytes."""
    cfg = cfg or get_settings()
    return build(resolve_month(period, cfg), cfg).encode("utf-8")
