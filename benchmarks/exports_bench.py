"""Export and write-path timings for the benchmark report: a real chart as PNG and SVG (against
drawing the chart itself), the briefing pack for the latest month (against the scorecard alone),
and saving one partnership figure (lock, validate, atomic replace) into a file in a temporary
folder — never the repository's ``data/partnership/figures.csv``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path


def run(timed: Callable, summary: Callable, repeat: int, cfg) -> dict:
    from csp_data.analysis import scorecard
    from csp_data.analysis.trends import view
    from csp_data.plan import partnership
    from csp_data.plan.document import load_plan
    from csp_data.plan.measures import get
    from csp_data.present import briefing, charts, exports

    out: dict = {}
    series = view(get("robbery"), cfg).series

    def draw():
        return charts.small_trend(series, "Robbery per month", "Robbery")[0]

    chart = draw()
    s, _ = timed(draw, repeat)
    out["chart_build"] = summary(s)
    s, png = timed(lambda: exports.chart_png(chart), max(5, repeat // 3))
    out["chart_png"] = {**summary(s), "bytes": len(png)}
    s, svg = timed(lambda: exports.chart_svg(chart), max(5, repeat // 3))
    out["chart_svg"] = {**summary(s), "bytes": len(svg)}

    month = briefing.resolve_month(None, cfg)
    s, _ = timed(lambda: scorecard.scorecard(cfg), 3, warmup=1)
    out["scorecard"] = summary(s)
    s, html = timed(lambda: briefing.build(month, cfg), 3, warmup=1)
    out["briefing"] = {**summary(s), "bytes": len(html.encode("utf-8")), "month": f"{month:%Y-%m}"}

    plan = load_plan()
    with tempfile.TemporaryDirectory(prefix="csp-bench-figures-") as tmp:
        path = Path(tmp) / "figures.csv"
        path.write_text(",".join(partnership.COLUMNS) + "\n", encoding="utf-8")
        n = [0]

        def save():
            n[0] += 1
            # a distinct financial year each time, so no save conflicts with the one before
            entry = partnership.Entry(
                "fire_audits",
                f"FY{1999 + n[0]}-{str(2000 + n[0])[-2:]}",
                "1",
                "benchmark timing row (temporary file)",
            )
            partnership.append_entries(
                [entry],
                viewer_who="benchmark",
                path=path,
                plan=plan,
                now=datetime(2026, 11, 30, 9, 0, tzinfo=UTC),
            )

        s, _ = timed(save, min(repeat, 25), warmup=0)  # FY2000-01 to FY2024-25 at most
        out["partnership_save"] = {**summary(s), "rows_after": n[0]}
    return out


def section(e: dict) -> str:
    c, p, v = e["chart_build"]["p50_ms"], e["chart_png"], e["chart_svg"]
    b, sc, ps = e["briefing"], e["scorecard"]["p50_ms"], e["partnership_save"]
    return f"""## Exports and saving figures

| step | p50 ms | p95 ms | size |
|---|---:|---:|---:|
| Build a chart (robbery per month, altair) | {c:.1f} | {e["chart_build"]["p95_ms"]:.1f} | |
| Chart as PNG (vl-convert, scale 2) | {p["p50_ms"]:.0f} | {p["p95_ms"]:.0f} | {p["bytes"] / 1024:.0f} KB |
| Chart as SVG (vl-convert) | {v["p50_ms"]:.0f} | {v["p95_ms"]:.0f} | {v["bytes"] / 1024:.0f} KB |
| Borough scorecard (16 measures) | {sc:.0f} | {e["scorecard"]["p95_ms"]:.0f} | |
| Briefing pack for {b["month"]} (one HTML file) | {b["p50_ms"]:.0f} | {b["p95_ms"]:.0f} | {b["bytes"] / 1024:.0f} KB |
| Save one partnership figure (lock, validate file, atomic replace; up to {ps["rows_after"]} rows) | {ps["p50_ms"]:.1f} | {ps["p95_ms"]:.1f} | |

A PNG costs **{p["p50_ms"] / c:.1f}x** drawing the chart and an SVG **{v["p50_ms"] / c:.1f}x**. Converting
eagerly would add about **{11 * (p["p50_ms"] + v["p50_ms"]) / 1000:.1f} s** to every draw of a ward profile
(11 charts), so the buttons convert only when pressed. The briefing pack costs **{b["p50_ms"] / sc:.1f}x** the
scorecard alone (it adds the targets, hot spots for three categories, TTCG exceptions and inline
SVG charts); it too is built only when its button is pressed.
"""
