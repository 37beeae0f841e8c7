"""Benchmark the warehouse: build time, latency of every named query, and a naive pandas baseline.

    cd /work/main && .venv/bin/python benchmarks/run.py [--repeat N] [--builds N] [--out docs/PERFORMANCE.md]

Everything runs against a temporary copy of ``data/sources`` (CSP_DATA_DIR points there), so the
repo's ``data/warehouse`` is never written. Writes the markdown report (``--out``) and the raw
numbers to ``benchmarks/results/latest.json``. Exits 1, writing nothing, if a naive baseline does
not give the same values as its SQL query.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

import duckdb  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pyarrow  # noqa: E402

from csp_data.config import settings  # noqa: E402
from csp_data.warehouse import build, db, sql  # noqa: E402
from csp_data.warehouse.sources.mps import PSEUDO_BOROUGHS  # noqa: E402

WARMUP = 2
RESULTS_JSON = REPO / "benchmarks" / "results" / "latest.json"


def timed(
    fn: Callable, repeat: int, warmup: int = WARMUP, setup: Callable | None = None
) -> tuple[list[float], object]:
    """Call ``fn`` ``warmup`` times untimed, then ``repeat`` times timed (``setup`` runs untimed
    before each call). Returns (milliseconds per timed call, the last result)."""
    result, samples = None, []
    for i in range(warmup + repeat):
        if setup:
            setup()
        t0 = time.perf_counter()
        result = fn()
        if i >= warmup:
            samples.append((time.perf_counter() - t0) * 1000)
    return samples, result


def summary(samples: list[float]) -> dict:
    return {
        "p50_ms": float(np.percentile(samples, 50)),
        "p95_ms": float(np.percentile(samples, 95)),
        "samples_ms": [round(s, 3) for s in samples],
    }


# ----------------------------------------------------------------------------- naive pandas baseline
# What an analyst would write without the warehouse: read the raw MPS files on every request,
# filter, melt the YYYYMM columns, and let the newer file win a month both files cover.

BOROUGH_FILES = [
    "mps_borough_crime_historical_2010-04_2024-02.parquet",  # oldest first
    "mps_borough_crime_2024-03_2026-02.parquet",
]
WARD_FILES = [
    "mps_ward_crime_historical_2010-04_2024-02.parquet",
    "mps_ward_crime_2024-02_2026-02.parquet",
    "mps_ward_crime_2024-03_2026-03.parquet",
]
DASHBOARD_FILE = "mps_monthly_crime_dashboard_2021-08_2025-07.parquet"


def _wide(src: Path, files: list[str], keep: Callable[[pd.DataFrame], pd.Series]) -> pd.DataFrame:
    """Rows ``keep`` selects from MPS wide files, melted to (..., month 'YYYYMM', count)."""
    frames = []
    for rank, name in enumerate(files):
        df = pd.read_parquet(src / "mps" / name).rename(columns=str.lower)
        df = df[keep(df)]
        months = [c for c in df.columns if c.isdigit()]
        ids = [c for c in df.columns if c not in months]
        frames.append(
            df.melt(id_vars=ids, value_vars=months, var_name="month", value_name="count").assign(rank=rank)
        )
    long = pd.concat(frames, ignore_index=True)
    return long[long["rank"] == long.groupby("month")["rank"].transform("max")]


def naive_borough_robbery(src: Path) -> pd.DataFrame:
    long = _wide(
        src, BOROUGH_FILES, lambda d: (d.boroughname == "Tower Hamlets") & (d.majortext == "ROBBERY")
    )
    return long.groupby("month", as_index=False)["count"].sum()


def naive_london_robbery_rank(src: Path) -> pd.DataFrame:
    long = _wide(src, BOROUGH_FILES, lambda d: d.majortext == "ROBBERY")
    long = long[long.month.between("202503", "202602") & ~long.boroughname.isin(PSEUDO_BOROUGHS)]
    per = (
        long.groupby("boroughname", as_index=False)["count"]
        .sum()
        .rename(columns={"boroughname": "borough_name"})
    )
    return per.assign(rank=per["count"].rank(method="min", ascending=False).astype(int), boroughs=len(per))


def naive_ward_violence_fy(src: Path) -> pd.DataFrame:
    long = _wide(
        src,
        WARD_FILES,
        lambda d: (d.lookup_boroughname == "Tower Hamlets") & (d.minortext == "VIOLENCE WITH INJURY"),
    )
    long = long[long.month.between("202504", "202603")]
    return long.groupby("wardcode", as_index=False)["count"].sum().rename(columns={"wardcode": "ward_code"})


def naive_hate_crime(src: Path) -> pd.DataFrame:
    df = pd.read_parquet(src / "mps" / DASHBOARD_FILE)
    df = df[
        (df.borough_snt == "Tower Hamlets")
        & (df.area_type == "Borough")
        & (df.crime_type == "Hate crime")
        & (df.crime_subtype == "Hate crime")
        & (df.measure == "Offences")
    ]
    return df.assign(month=df.month_year.dt.strftime("%Y%m")).groupby("month", as_index=False)["count"].sum()


# query (run with its example params) -> (what is computed, naive function, columns compared)
BASELINES = {
    "crime/borough_monthly": (
        "(a) Tower Hamlets robbery per month, 2010-04 to 2026-02",
        naive_borough_robbery,
        ["month", "count"],
    ),
    "crime/london_rank": (
        "(b) London boroughs ranked by robbery, 2025-03 to 2026-02",
        naive_london_robbery_rank,
        ["borough_name", "count", "rank", "boroughs"],
    ),
    "crime/ward_period_totals": (
        "(c) Violence with injury per ward, FY 2025/26",
        naive_ward_violence_fy,
        ["ward_code", "count"],
    ),
    "dashboard/borough_monthly": (
        "(d) Tower Hamlets hate crime offences per month (dashboard)",
        naive_hate_crime,
        ["month", "count"],
    ),
}


def _canon(df: pd.DataFrame, cols: list[str]) -> list[tuple]:
    """Sorted rows of ``cols`` as strings, months reduced to YYYYMM, for order-free comparison."""
    out = df[cols].copy()
    if "month" in out:
        out["month"] = out["month"].astype(str).str.replace("-", "").str[:6]
    return sorted(map(tuple, out.astype(str).to_numpy().tolist()))


def mismatch(name: str, sql_df: pd.DataFrame, naive_df: pd.DataFrame, cols: list[str]) -> str | None:
    a, b = _canon(sql_df, cols), _canon(naive_df, cols)
    if a == b:
        return None
    only_sql, only_naive = sorted(set(a) - set(b))[:5], sorted(set(b) - set(a))[:5]
    return (
        f"{name}: naive pandas result differs from the SQL result ({len(a)} vs {len(b)} rows; "
        f"columns {cols}).\n  only in SQL:   {only_sql}\n  only in naive: {only_naive}\n"
        f"  (has the query's example in queries/{name}.sql changed?)"
    )


# ----------------------------------------------------------------------------- report


def machine() -> dict:
    cpuinfo = Path("/proc/cpuinfo")
    models = (
        [
            ln.split(":", 1)[1].strip()
            for ln in cpuinfo.read_text().splitlines()
            if ln.startswith("model name")
        ]
        if cpuinfo.exists()
        else []
    )
    return {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu": models[0] if models else platform.processor(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "pandas": pd.__version__,
        "pyarrow": pyarrow.__version__,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def table(header: list[str], rows: list[list], text_cols: int = 1) -> str:
    """Markdown table; the first ``text_cols`` columns left-aligned, the rest (numbers) right-aligned."""
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" if i < text_cols else "---:" for i in range(len(header))) + "|",
    ]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in r) + " |" for r in rows])


def report(res: dict) -> str:
    m, b, n = res["machine"], res["build"], res["method"]
    queries = table(
        ["query", "rows", "p50 ms", "p95 ms"],
        [
            [f"`{k}`", q["rows"], f"{q['p50_ms']:.2f}", f"{q['p95_ms']:.2f}"]
            for k, q in res["queries"].items()
        ],
    )
    naive = table(
        ["aggregation", "SQL query", "naive p50 ms", "warehouse p50 ms", "ratio (naive / warehouse)"],
        [
            [
                x["what"],
                f"`{k}`",
                f"{x['naive']['p50_ms']:.1f}",
                f"{x['sql_p50_ms']:.2f}",
                f"{x['ratio']:.0f}x",
            ]
            for k, x in res["baselines"].items()
        ],
        text_cols=2,
    )
    builds = ", ".join(f"{s / 1000:.2f}" for s in b["samples_ms"])
    import hotspots_bench

    hotspots_section = hotspots_bench.section(res["hotspots"]) if "hotspots" in res else ""
    import exports_bench

    hotspots_section += ("\n" + exports_bench.section(res["exports"])) if "exports" in res else ""
    return f"""# Performance

Generated by `benchmarks/run.py` on {m["date"]}. **All figures, and the ratios in particular,
come from one run on one machine**; they show orders of magnitude, not guarantees. The test suite
contains no timed assertions: timings vary with the machine and its load.

## Machine

| fact | value |
|---|---|
| CPUs available (nproc) | {m["nproc"]} |
| CPU | {m["cpu"]} |
| OS | {m["platform"]} |
| Python | {m["python"]} |
| duckdb | {m["duckdb"]} |
| pandas | {m["pandas"]} |
| pyarrow | {m["pyarrow"]} |

## Method

- The harness copies `data/sources/` into a temporary directory and points `CSP_DATA_DIR` at it;
  the repo's `data/warehouse/` is never written.
- **Build**: `build.build(cfg)` into an empty warehouse directory, {n["builds"]} run(s) in one
  process (the warehouse is deleted, untimed, before each build); the median is reported.
- **Queries**: every named query in `queries/` (checks included) runs through `sql.run` with the
  `-- example:` parameters from its header, {n["warmup"]} untimed warm-up runs then {n["repeat"]}
  timed runs (`time.perf_counter`), on the app's own connection (DuckDB, 2 threads, views over
  the warehouse Parquet). A timed run includes the cursor, parameter binding and fetching the result
  into a pandas DataFrame. p50/p95 are numpy linear-interpolation percentiles.
- **Naive baseline**: the same aggregation written in plain pandas as an analyst would without the
  warehouse: read the raw MPS files from `data/sources/mps/` on every request, filter, melt the
  month columns, let the newer file win a month two files share, aggregate. Each is timed exactly like
  the queries, and its values are checked equal to the SQL result before timing (the harness stops
  with an error if they differ). Ratio = naive p50 / warehouse p50.

## Warehouse build

Cold build (sources to all {len(b["rows"])} Parquet tables): **{b["median_s"]:.2f} s** median
(runs: {builds} s). Rows: {", ".join(f"{k} {v:,}" for k, v in b["rows"].items())}.

## Named queries ({n["repeat"]} timed runs each)

{queries}

## Naive pandas vs the warehouse

{naive}

The naive versions read, filter and reshape the raw wide files on every call; the warehouse did
that work once, at build time, so a query only aggregates an already-tidy table.

{hotspots_section}
## How to reproduce

```sh
cd /work/main
.venv/bin/python benchmarks/run.py                 # writes docs/PERFORMANCE.md and benchmarks/results/latest.json
.venv/bin/python benchmarks/run.py --repeat 100 --builds 1 --out /tmp/perf.md
```

Close other heavy processes first; expect different absolute numbers on other machines.
"""


# ----------------------------------------------------------------------------- main


CAPACITY = "## Capacity: concurrent readers on one server"
REPRODUCE = "## How to reproduce"


def keep_capacity(new: str, out: Path) -> str:
    """The capacity section is written by ``benchmarks/capacity.py`` (a separate, slower run): keep
    the one already in ``out`` instead of dropping it."""
    old = out.read_text(encoding="utf-8") if out.exists() else ""
    if CAPACITY not in old or REPRODUCE not in new:
        return new
    section = old[old.index(CAPACITY) :]
    section = section[: section.index(REPRODUCE)] if REPRODUCE in section else section
    return new.replace(REPRODUCE, section.rstrip() + "\n\n" + REPRODUCE, 1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=30, help="timed runs per query and baseline (default 30)")
    ap.add_argument(
        "--builds", type=int, default=3, help="timed warehouse builds (default 3, median reported)"
    )
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "PERFORMANCE.md", help="markdown report path")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="csp-bench-") as tmp:
        shutil.copytree(REPO / "data" / "sources", Path(tmp) / "sources")
        os.environ["CSP_DATA_DIR"] = tmp
        cfg = settings()
        assert cfg.warehouse_dir.is_relative_to(Path(tmp).resolve()), cfg.warehouse_dir
        db.reset()

        print(f"building the warehouse {args.builds}x in {cfg.data_dir} ...", flush=True)
        samples, rows = timed(
            lambda: build.build(cfg),
            args.builds,
            warmup=0,
            setup=lambda: shutil.rmtree(cfg.warehouse_dir, ignore_errors=True),
        )
        res = {
            "machine": machine(),
            "method": {"repeat": args.repeat, "warmup": WARMUP, "builds": args.builds},
            "build": {
                "median_s": float(np.median(samples)) / 1000,
                "samples_ms": [round(s, 1) for s in samples],
                "rows": rows,
            },
            "queries": {},
            "baselines": {},
        }
        print(f"  median {res['build']['median_s']:.2f} s", flush=True)

        frames = {}
        for name in sql.names():
            params = sql.load(name).example
            samples, frames[name] = timed(
                lambda name=name, params=params: sql.run(name, **params), args.repeat
            )
            res["queries"][name] = {"rows": len(frames[name]), **summary(samples)}
            print(
                f"  {name:38s} {len(frames[name]):6d} rows  p50 {res['queries'][name]['p50_ms']:7.2f} ms",
                flush=True,
            )

        errors = [
            mismatch(name, frames[name], fn(cfg.sources_dir), cols)
            for name, (_, fn, cols) in BASELINES.items()
        ]
        if any(errors):
            print(
                "ERROR: naive baseline and warehouse disagree; nothing written.",
                *filter(None, errors),
                sep="\n",
                file=sys.stderr,
            )
            return 1
        for name, (what, fn, _) in BASELINES.items():
            samples, _ = timed(lambda fn=fn: fn(cfg.sources_dir), args.repeat)
            s, q = summary(samples), res["queries"][name]
            ratio = s["p50_ms"] / q["p50_ms"]
            res["baselines"][name] = {
                "what": what,
                "naive": s,
                "sql_p50_ms": q["p50_ms"],
                "ratio": ratio,
                "values_equal": True,
            }
            print(f"  naive {name:32s} p50 {s['p50_ms']:7.1f} ms  ratio {ratio:.0f}x", flush=True)
        import hotspots_bench

        res["hotspots"] = hotspots_bench.run(timed, summary, args.repeat, cfg)
        for k, v in res["hotspots"].items():
            if isinstance(v, dict) and "p50_ms" in v:
                print(f"  hotspots {k:30s} p50 {v['p50_ms']:8.1f} ms", flush=True)
        import exports_bench

        res["exports"] = exports_bench.run(timed, summary, args.repeat, cfg)
        for k, v in res["exports"].items():
            print(f"  exports {k:31s} p50 {v['p50_ms']:8.1f} ms", flush=True)
        db.reset()

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(keep_capacity(report(res), args.out), encoding="utf-8")
    RESULTS_JSON.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_JSON.write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out} and {RESULTS_JSON}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
