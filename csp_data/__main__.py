"""Command line: ``python -m csp_data build | boroughs | ingest | query | checks | measures | briefing | hotspots``."""

from __future__ import annotations

import argparse
import json
import sys

from csp_data.config import ConfigError


def _parse_param(text: str) -> tuple[str, object]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"--param takes name=value, got {text!r}")
    key, value = text.split("=", 1)
    key = key.strip()
    value = value.strip()
    if value.startswith("["):
        # A value that opens a list must be a whole JSON list: a missing bracket
        # would otherwise bind as one string and silently count nothing.
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as exc:
            raise argparse.ArgumentTypeError(
                f'--param {key}: list values are JSON, e.g. ["ROBBERY"]: {exc}'
            ) from exc
        if not isinstance(parsed, list):
            raise argparse.ArgumentTypeError(f"--param {key}: expected a JSON list")
        return key, parsed
    return key, value


def _emit(df, fmt: str) -> None:
    if fmt == "csv":
        from csp_data.present.exports import csv_text

        # The app's downloads' neutralising: a text cell starting = + - @ (tab, CR) gets a leading '.
        sys.stdout.write(csv_text(df))
    elif fmt == "json":
        sys.stdout.write(df.to_json(orient="records", date_format="iso", indent=1) + "\n")
    else:
        with __import__("pandas").option_context("display.max_rows", 500, "display.width", 200):
            print(df.to_string(index=False) if len(df) else "(no rows)")


def cmd_build(args) -> int:
    from csp_data.warehouse import build, db

    counts = build.build(progress=lambda f, m: print(f"[{f:4.0%}] {m}", file=sys.stderr))
    db.reset()
    for name, n in counts.items():
        print(f"{name:24s} {n:>9,d} rows")
    return 0


def cmd_boroughs(args) -> int:
    from csp_data.config import CITY_OF_LONDON, LONDON_BOROUGHS, settings

    try:
        chosen = settings().borough_code
    except ConfigError:  # the list is how to find a right code: print it anyway
        chosen = None
    for code, name in LONDON_BOROUGHS.items():
        note = " (own police force: not served)" if code == CITY_OF_LONDON else ""
        print(f"{'*' if code == chosen else ' '} {code}  {name}{note}")
    return 0


def cmd_query(args) -> int:
    from csp_data.config import settings
    from csp_data.warehouse import sql

    if args.list:
        for name in sql.names():
            q = sql.load(name)
            print(f"{name:36s} params: {', '.join(q.params) or '-'}")
        return 0
    if not args.name:
        print("query: name a query (see --list)", file=sys.stderr)
        return 2
    q = sql.load(args.name)
    params = sql.coerce(args.name, dict(args.param or []))
    cfg = settings()
    if "borough_code" in q.params and "borough_code" not in params:
        params["borough_code"] = cfg.borough_code
    _emit(sql.run(args.name, cfg=cfg, **params), args.format)
    return 0


def cmd_checks(args) -> int:
    from csp_data.config import settings
    from csp_data.warehouse import sql

    failed = 0
    for name, _, params in sql.check_specs(settings().borough_code):
        rows = sql.run(name, **params)
        status = "ok" if rows.empty else f"FAILED ({len(rows)} rows)"
        failed += not rows.empty
        print(f"{name:40s} {status}")
        if not rows.empty:
            print(rows.head(10).to_string(index=False))
    return 1 if failed else 0


def cmd_measures(args) -> int:
    from csp_data.config import settings
    from csp_data.plan.periods import parse
    from csp_data.present import report
    from csp_data.warehouse import build

    period = parse(args.period)
    cfg = settings()
    if build.is_stale(cfg)[0]:
        build.ensure_built(cfg, progress=lambda f, m: print(f"[{f:4.0%}] {m}", file=sys.stderr))
    df = report.measures_for_period(period, cfg)
    if args.format == "table":
        df = df[
            [
                "priority",
                "measure",
                "period",
                "value",
                "note",
                "previous_value",
                "pct_change",
                "verdict",
                "target",
                "baseline_period",
                "baseline_value",
                "status",
                "status_as_of",
                "snapshot",
            ]
        ]
    _emit(df, args.format)
    return 0


def cmd_briefing(args) -> int:
    import time

    from csp_data.config import settings
    from csp_data.present import briefing
    from csp_data.warehouse import build

    cfg = settings()
    briefing.internal_only(cfg)
    briefing.check_out(args.out)  # a wrong path is refused before any work
    if args.period:
        briefing.parse_month(args.period)
    if build.is_stale(cfg)[0]:
        build.ensure_built(cfg, progress=lambda f, m: print(f"[{f:4.0%}] {m}", file=sys.stderr))
    t0 = time.perf_counter()
    path, size, month = briefing.generate(args.period, args.out, cfg)
    print(
        f"wrote {path} ({size / 1024:,.0f} KB): briefing pack for {month:%B %Y} "
        f"in {time.perf_counter() - t0:.1f} s"
    )
    return 0


def cmd_ingest(args) -> int:
    from csp_data.warehouse import ingest

    return ingest.main(args.paths, force=args.force)


def cmd_sources(args) -> int:
    from csp_data.warehouse import ingest

    return ingest.sources_main(args.action, args.id, force=args.force)


def cmd_hotspots(args) -> int:
    from csp_data.analysis import hotspots
    from csp_data.analysis.areas import AnalysisError
    from csp_data.config import settings
    from csp_data.present.exports import csv_bytes
    from csp_data.warehouse import build

    cfg = settings()
    try:
        start = hotspots.parse_month(args.from_month, "--from")
        end = hotspots.parse_month(args.to_month, "--to")
        if build.is_stale(cfg)[0]:
            build.ensure_built(cfg, progress=lambda f, m: print(f"[{f:4.0%}] {m}", file=sys.stderr))
        df = hotspots.area_report(args.category, start, end, args.level, cfg)
    except (hotspots.HotspotError, AnalysisError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.format == "csv":
        sys.stdout.flush()
        sys.stdout.buffer.write(csv_bytes(df))  # text cells that a spreadsheet would run are neutralised
        sys.stdout.buffer.flush()
    else:
        _emit(df, args.format)
    if args.format == "table":
        a = df.attrs
        print(
            f"\n{a['category']}, {a['period']} (previous: {a['previous'] or 'not held'}), {len(df)} {a['level']}s. "
            f"Gi* z from esda; p from {a['permutations']:,d} conditional permutations (seed {a['seed']}), "
            "two-sided; q Benjamini-Hochberg across the areas.",
            file=sys.stderr,
        )
    return 0


def cmd_update(args) -> int:
    from csp_data.warehouse import update

    return update.main(args.source or None, dry_run=args.dry_run)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m csp_data", description="Community safety dashboard data tools"
    )
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("build", help="build data/warehouse/ from data/sources/").set_defaults(func=cmd_build)
    sub.add_parser(
        "boroughs", help="list the London boroughs and their ONS codes (CSP_BOROUGH_CODE; * = configured)"
    ).set_defaults(func=cmd_boroughs)
    q = sub.add_parser("query", help="run a named query from queries/")
    q.add_argument("name", nargs="?", help="e.g. crime/borough_monthly")
    q.add_argument(
        "--param",
        action="append",
        type=_parse_param,
        metavar="NAME=VALUE",
        help="a bound parameter; lists as JSON, e.g. --param majors='[\"ROBBERY\"]'",
    )
    q.add_argument("--format", choices=("table", "csv", "json"), default="table")
    q.add_argument("--list", action="store_true", help="list the named queries and their parameters")
    q.set_defaults(func=cmd_query)
    sub.add_parser("checks", help="run the data-quality checks in queries/checks/").set_defaults(
        func=cmd_checks
    )
    ms = sub.add_parser("measures", help="every plan measure's value for a period, with targets and status")
    ms.add_argument("--period", required=True, help="FY2024-25, 2025, 2025-04..2026-03 or 2026-03")
    ms.add_argument("--format", choices=("table", "csv", "json"), default="table")
    ms.set_defaults(func=cmd_measures)
    b = sub.add_parser("briefing", help="write the briefing pack (one self-contained HTML file) for a month")
    b.add_argument(
        "--period",
        default=None,
        metavar="YYYY-MM",
        help="the month, e.g. 2026-03 (default: the latest month with data)",
    )
    b.add_argument(
        "--out", required=True, metavar="PATH", help="the HTML file to write (replaced only on success)"
    )
    b.set_defaults(func=cmd_briefing)
    i = sub.add_parser("ingest", help="land and load new police.uk or MPS files")
    i.add_argument(
        "paths",
        nargs="+",
        help="police.uk street / stop-and-search CSV or archive zip, police.uk API JSON "
        "(street, stops, outcomes), MPS borough / ward / LSOA, Monthly Crime Dashboard or business crime CSV",
    )
    i.add_argument(
        "--force",
        action="store_true",
        help="accept a file older than months already held, one whose "
        "months shrink sharply, or one with categories never held before",
    )
    i.set_defaults(func=cmd_ingest)
    so = sub.add_parser("sources", help="list the manifest's sources, or retract one (remove ID) and rebuild")
    so.add_argument("action", choices=("list", "remove"))
    so.add_argument("id", nargs="?", help="for remove: the id shown by 'sources list' (or the path)")
    so.add_argument(
        "--force", action="store_true", help="remove an embedded source from the manifest (the file is kept)"
    )
    so.set_defaults(func=cmd_sources)
    u = sub.add_parser(
        "update", help="fetch what is new from each publisher and ingest it (docs/OPERATIONS.md)"
    )
    u.add_argument(
        "--source",
        action="append",
        metavar="NAME",
        help="only this source (repeatable); names in data/sources/publishers.toml",
    )
    u.add_argument(
        "--dry-run",
        action="store_true",
        help="check what is new without downloading data or changing anything",
    )
    u.set_defaults(func=cmd_update)
    hs = sub.add_parser(
        "hotspots",
        help="one row per area: count, change verdict and Gi* hot-spot test (as the Hotspots page)",
    )
    hs.add_argument(
        "--category",
        required=True,
        help="as the Hotspots page's filter, e.g. ROBBERY, BURGLARY, 'Theft: shoplifting'",
    )
    hs.add_argument("--from", dest="from_month", required=True, metavar="YYYY-MM", help="first month")
    hs.add_argument("--to", dest="to_month", required=True, metavar="YYYY-MM", help="last month")
    hs.add_argument("--level", choices=("lsoa", "ward"), default="lsoa")
    hs.add_argument("--format", choices=("table", "csv", "json"), default="table")
    hs.set_defaults(func=cmd_hotspots)
    args = p.parse_args(argv)
    from csp_data.plan.document import PlanError
    from csp_data.plan.partnership import PartnershipError
    from csp_data.plan.periods import PeriodError
    from csp_data.present.briefing import BriefingError
    from csp_data.warehouse.manifest import ManifestError
    from csp_data.warehouse.sources import SourceError
    from csp_data.warehouse.sql import QueryError

    try:
        return args.func(args)
    except (
        QueryError,
        SourceError,
        ManifestError,
        ConfigError,
        PeriodError,
        PlanError,
        PartnershipError,
        BriefingError,
        FileNotFoundError,
    ) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
