"""Page speed: each page's warm server time, as a ratio to *Getting help*, and its settle time in Chromium.

1. **Server time** (Streamlit's AppTest, every page of the internal deployment): the time from the
   start of a script run to its end, measured inside the script thread (the app's code plus
   Streamlit's marshalling of what it draws; not the test harness's parsing of the result). Each
   page is run ``--warmup`` times untimed (caches fill), then ``--repeat`` times timed; median and
   p90 are reported, and the median's ratio to the *Getting help* page's median in the same run
   (the cheapest page: the frame plus a little text), so a busy machine moves both.
2. **Browser** (``--browser``; a real server on a temporary built copy of the data and
   ``/usr/bin/chromium``): each page is opened once to warm the server, then ``--browser-repeat``
   times in a fresh tab; the time from navigation to settled (script finished, every element
   drawn: the browser tests' own rule, ``tests/e2e/conftest.py``) and the bytes the websocket
   received for the page (charts, maps, tables).

Writes ``benchmarks/results/pages.json`` and, with ``--doc docs/PERFORMANCE.md``, the table between
the ``<!-- pages:table -->`` markers. Figures are from one machine and one run; the tests assert none.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS_JSON = REPO / "benchmarks" / "results" / "pages.json"
DOC_START, DOC_END = "<!-- pages:table -->", "<!-- /pages:table -->"
REFERENCE = "help"  # the Getting help page
BUDGET_MS, BUDGET_RATIO = 250.0, 6.0  # issue 16: at most 250 ms warm, and at most 6x Getting help

sys.path.insert(0, str(REPO))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


# ----------------------------------------------------------------------------- 1. server time


def chosen(pages, only: list[str]):
    return [p for p in pages if not only or p.url_path in only or p.url_path == REFERENCE]


def server_times(warmup: int, repeat: int, only: list[str]) -> list[dict]:
    os.environ.setdefault("CSP_MODE", "internal")
    import logging

    import streamlit.runtime.scriptrunner.script_runner as script_runner
    from streamlit.testing.v1 import AppTest

    from csp_data.config import REPO_ROOT
    from csp_data.config.pages import PAGES

    logging.disable(logging.WARNING)
    run_ms: list[float] = []
    original = script_runner.exec_func_with_error_handling

    def timed(func, ctx):  # the script run itself, in the script thread
        t0 = time.perf_counter()
        try:
            return original(func, ctx)
        finally:
            run_ms.append((time.perf_counter() - t0) * 1000)

    script_runner.exec_func_with_error_handling = timed
    rows = []
    try:
        for spec in chosen(PAGES, only):
            at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=300)
            at.run()
            samples = []
            for i in range(warmup + repeat):
                run_ms.clear()
                if spec.default:
                    at.run()
                else:
                    at.switch_page(spec.script).run()
                if at.exception:
                    raise SystemExit(f"{spec.url_path} raised: {at.exception[0].value[:300]}")
                if i >= warmup:
                    samples.append(sum(run_ms))
            rows.append(
                {
                    "page": spec.url_path,
                    "title": spec.title,
                    "median_ms": statistics.median(samples),
                    "p90_ms": pct(samples, 0.9),
                    "samples_ms": [round(s, 2) for s in samples],
                }
            )
            print(f"{spec.url_path:22s} median {rows[-1]['median_ms']:7.1f} ms", flush=True)
    finally:
        script_runner.exec_func_with_error_handling = original
    ref = next(r for r in rows if r["page"] == REFERENCE)["median_ms"]
    for r in rows:
        r["ratio_to_help"] = r["median_ms"] / ref
        r["within_budget"] = r["median_ms"] <= BUDGET_MS and r["ratio_to_help"] <= BUDGET_RATIO
    return rows


# ----------------------------------------------------------------------------- 2. browser


def browser_times(repeat: int, only: list[str]) -> list[dict]:
    from capacity import prepare_data, start_server, stop_server  # benchmarks/capacity.py
    from playwright.sync_api import sync_playwright

    from csp_data.config.pages import PAGES
    from tests.e2e.conftest import APP, CHART, CHROMIUM, CHROMIUM_ARGS, DECK, SETTLED_JS, SKELETON, STALE

    rows = []
    with tempfile.TemporaryDirectory(prefix="csp_pages_") as tmp_name:
        tmp = Path(tmp_name)
        data = prepare_data(tmp, sys.executable)
        proc, port = start_server(data, "internal", tmp / "server.log", sys.executable)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                ctx = browser.new_context(viewport={"width": 1366, "height": 900})
                for spec in chosen(PAGES, only):
                    url = f"http://127.0.0.1:{port}/{'' if spec.default else spec.url_path}"
                    samples, sizes = [], []
                    for i in range(repeat + 1):
                        page = ctx.new_page()
                        received = [0]

                        def on_ws(ws, received=received):
                            ws.on(
                                "framereceived",
                                lambda payload: received.__setitem__(0, received[0] + len(payload)),
                            )

                        page.on("websocket", on_ws)
                        t0 = time.perf_counter()
                        page.goto(url, wait_until="domcontentloaded")
                        page.wait_for_selector(
                            f"{APP}[data-test-connection-state=CONNECTED]", timeout=300_000
                        )
                        page.locator("[data-testid=stMain] h1, [data-testid=stException]").first.wait_for(
                            state="attached", timeout=300_000
                        )
                        page.wait_for_function(
                            SETTLED_JS, arg=[APP, SKELETON, STALE, CHART, DECK], polling=50, timeout=300_000
                        )
                        elapsed = (time.perf_counter() - t0) * 1000
                        page.close()
                        if i:  # the first open warms the server's caches for this page
                            samples.append(elapsed)
                            sizes.append(received[0])
                    rows.append(
                        {
                            "page": spec.url_path,
                            "median_ms": statistics.median(samples),
                            "max_ms": max(samples),
                            "ws_kb": statistics.median(sizes) / 1024,
                            "samples_ms": [round(s) for s in samples],
                        }
                    )
                    print(
                        f"{spec.url_path:22s} settle {rows[-1]['median_ms']:7.0f} ms, {rows[-1]['ws_kb']:7.1f} KB",
                        flush=True,
                    )
                browser.close()
        finally:
            stop_server(proc)
    return rows


# ----------------------------------------------------------------------------- report


def table(server: list[dict], browser: list[dict] | None) -> str:
    by_page = {b["page"]: b for b in browser or []}
    head = "| page | server median ms | p90 ms | × Getting help | within budget |"
    rule = "|---|---:|---:|---:|---|"
    if browser:
        head += " browser settle median ms | websocket KB |"
        rule += "---:|---:|"
    lines = [head, rule]
    for r in server:
        line = (
            f"| {r['title']} | {r['median_ms']:.0f} | {r['p90_ms']:.0f} | {r['ratio_to_help']:.1f} "
            f"| {'yes' if r['within_budget'] else 'no'} |"
        )
        if browser:
            b = by_page.get(r["page"])
            line += f" {b['median_ms']:,.0f} | {b['ws_kb']:,.0f} |" if b else " — | — |"
        lines.append(line)
    return "\n".join(lines)


def write_doc(doc: Path, report: dict) -> None:
    body = (
        f"Run on {report['when']}, {report['machine']['cpus']} CPUs, load average at start "
        f"{report['machine']['load_at_start']}; {report['warmup']} untimed then {report['repeat']} timed runs "
        f"per page (server), {report['browser_repeat']} timed opens per page (browser)."
        + (f" Note: {report['note']}." if report["note"] else "")
        + f" Budget: at most {BUDGET_MS:.0f} ms and at most {BUDGET_RATIO:.0f}× Getting help.\n\n"
        + table(report["server"], report.get("browser"))
    )
    from capacity import replace_section  # benchmarks/capacity.py

    replace_section(doc, DOC_START, DOC_END, body)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--browser", action="store_true", help="also time every page in Chromium")
    ap.add_argument("--browser-repeat", type=int, default=3)
    ap.add_argument("--note", default="")
    ap.add_argument("--pages", default="", help="comma-separated URL paths to time (default: every page)")
    ap.add_argument("--out", type=Path, default=RESULTS_JSON)
    ap.add_argument("--doc", type=Path, help="rewrite the pages table in this file (docs/PERFORMANCE.md)")
    args = ap.parse_args(argv)
    only = [p.strip() for p in args.pages.split(",") if p.strip()]
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_at_start": ", ".join(f"{x:.1f}" for x in os.getloadavg()),
        },
        "warmup": args.warmup,
        "repeat": args.repeat,
        "browser_repeat": args.browser_repeat if args.browser else 0,
        "note": args.note,
        "server": server_times(args.warmup, args.repeat, only),
    }
    if args.browser:
        report["browser"] = browser_times(args.browser_repeat, only)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    if args.doc:
        write_doc(args.doc, report)
    print(table(report["server"], report.get("browser")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
