"""Build time for every London borough the Met polices, one after another (issue 17).

    .venv/bin/python benchmarks/boroughs.py [--codes E09000012,E09000033] [--doc docs/PERFORMANCE.md]

For each of the 32 boroughs (``csp_data.config.MET_BOROUGHS``, or ``--codes``) in ONS code order:
copy ``data/sources`` to a fresh temporary folder, then run ``python -m csp_data build`` in a child
process with ``CSP_DATA_DIR`` at the copy and ``CSP_BOROUGH_CODE`` set, timing the whole command
(interpreter start, imports, reading every source, writing the warehouse). One child per borough
so no cache carries over; the copy is removed afterwards (the repository's ``data/warehouse`` is
never written). Also records the rows of the ``wards``, ``lsoas`` and ``crime_monthly`` tables
the build printed.

Writes a table to stdout, the numbers to ``benchmarks/results/boroughs.json`` and, with ``--doc``,
replaces the section between the ``<!-- boroughs:start -->`` and ``<!-- boroughs:end -->`` markers
of that file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from csp_data.config import MET_BOROUGHS  # noqa: E402

RESULTS_JSON = REPO / "benchmarks" / "results" / "boroughs.json"
START, END = "<!-- boroughs:start -->", "<!-- boroughs:end -->"
ROWS = re.compile(r"^(\w+)\s+([\d,]+) rows$", re.M)


def build_one(code: str) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"csp-bench-{code}-") as tmp:
        data = Path(tmp) / "data"
        shutil.copytree(REPO / "data" / "sources", data / "sources")
        env = {**os.environ, "CSP_DATA_DIR": str(data), "CSP_BOROUGH_CODE": code}
        env.pop("CSP_BOROUGH", None)
        t0 = time.perf_counter()
        r = subprocess.run(
            [sys.executable, "-m", "csp_data", "build"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        seconds = time.perf_counter() - t0
    rows = {name: int(n.replace(",", "")) for name, n in ROWS.findall(r.stdout)}
    return {
        "code": code,
        "borough": MET_BOROUGHS[code],
        "seconds": round(seconds, 2),
        "ok": r.returncode == 0,
        "error": r.stderr.strip().splitlines()[-1] if r.returncode else "",
        "wards": rows.get("wards"),
        "lsoas": rows.get("lsoas"),
        "crime_monthly": rows.get("crime_monthly"),
    }


def markdown(result: dict) -> str:
    runs = result["runs"]
    lines = [
        f"Run {result['when']} on {result['machine']} (Python {result['python']}): "
        f"`python -m csp_data build` for each of the {len(runs)} boroughs one after another, each on a fresh "
        "copy of `data/sources` in its own process (`benchmarks/boroughs.py`; numbers in "
        "`benchmarks/results/boroughs.json`).",
        "",
        f"**Total {result['total_seconds']:.0f} s**; per borough median {result['median_seconds']:.1f} s, "
        f"slowest {result['max_seconds']:.1f} s. Failures: {result['failures'] or 'none'}.",
        "",
        "| code | borough | build (s) | wards | LSOAs | crime rows |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in runs:
        lines.append(
            f"| {r['code']} | {r['borough']} | {r['seconds']:.1f}{'' if r['ok'] else ' (failed)'} | "
            f"{r['wards'] or ''} | {r['lsoas'] or ''} | {r['crime_monthly'] or 0:,} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--codes", default="", help="comma-separated ONS codes (default: all 32)")
    p.add_argument("--doc", default="", help="write the table into this Markdown file's marked section")
    args = p.parse_args(argv)
    codes = [c.strip() for c in args.codes.split(",") if c.strip()] or sorted(MET_BOROUGHS)
    runs = []
    t0 = time.perf_counter()
    for code in codes:
        r = build_one(code)
        runs.append(r)
        print(
            f"{code} {r['borough']:24s} {r['seconds']:6.1f} s {'ok' if r['ok'] else 'FAILED ' + r['error']}"
        )
    secs = sorted(r["seconds"] for r in runs)
    result = {
        "when": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "python": platform.python_version(),
        "total_seconds": round(time.perf_counter() - t0, 1),
        "median_seconds": secs[len(secs) // 2],
        "max_seconds": secs[-1],
        "failures": [r["code"] for r in runs if not r["ok"]],
        "runs": runs,
    }
    RESULTS_JSON.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"total {result['total_seconds']} s; wrote {RESULTS_JSON.relative_to(REPO)}")
    if args.doc:
        from capacity import replace_section  # benchmarks/capacity.py

        replace_section(Path(args.doc), START, END, markdown(result))
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
