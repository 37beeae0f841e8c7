"""Capacity: N concurrent reader sessions against one server (issue 16, item 2).

    .venv/bin/python benchmarks/capacity.py [--sessions 1,10,25,50] [--rounds 1] [--mode internal]
        [--data-dir DIR] [--doc docs/PERFORMANCE.md]

Starts one server with the launcher (``python -m csp_data.ui.serve``, as ``make run``) over a
temporary, freshly built copy of ``data/sources`` (the repository's ``data/warehouse`` is never
written; ``--data-dir`` serves an already built folder instead), waits for ``/_stcore/health``, then
for each N opens N websocket sessions at once. Each session speaks Streamlit's own protocol on
``/_stcore/stream`` (what the browser does, without the browser): a ``BackMsg`` ``rerun_script``
naming the page (``page_name`` = the page's URL path, and its query string), then reads
``ForwardMsg``s until ``script_finished``. Each session loads the page mix (public ward profile,
Overview, a priority page, Targets) ``--rounds`` times, starting at a different page so every page
is under load at once. Nothing is drawn: the client only parses protobuf, so the server, not the
client, is the bottleneck (the report gives both CPU times).

Per page load: the time from sending the rerun request to ``script_finished``. Errors: an
exception element in the page, "page not found", a run that did not finish successfully, a dropped
connection, or no ``script_finished`` within ``--timeout``. Server CPU% (100% = one core) and RSS
are sampled from ``/proc/<pid>`` every 0.5 s during each level.

Writes a table to stdout and the raw numbers, every sample included, to
``benchmarks/results/capacity.json``. The server is stopped (its own process group only) at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS_JSON = REPO / "benchmarks" / "results" / "capacity.json"
HEALTH_DEADLINE = 120.0  # seconds for the server to answer /_stcore/health
SAMPLE_EVERY = 0.5  # seconds between /proc samples
TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")

# The page mix a reader opens: (label, url path, query string). A ward panel link is the public
# ward profile with ?ward=; the others are what an officer or analyst opens before a meeting.
SPITALFIELDS = "E05009333"  # Spitalfields & Banglatown
PAGES: tuple[tuple[str, str, str], ...] = (
    ("ward profile", "ward", f"ward={SPITALFIELDS}"),
    ("overview", "overview", ""),
    ("priority 1", "priority-1", ""),
    ("targets", "targets", ""),
)


# ----------------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare_data(tmp: Path, python: str) -> Path:
    """A copy of data/sources in ``tmp``, built with the CLI (as the deployment's build step)."""
    data = tmp / "data"
    shutil.copytree(REPO / "data" / "sources", data / "sources")
    env = {**os.environ, "CSP_DATA_DIR": str(data)}
    subprocess.run([python, "-m", "csp_data", "build"], cwd=REPO, env=env, check=True, capture_output=True)
    return data


def start_server(data: Path, mode: str, log_path: Path, python: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**os.environ, "CSP_DATA_DIR": str(data), "CSP_MODE": mode, "PYTHONUNBUFFERED": "1"}
    cmd = [
        python,
        "-m",
        "csp_data.ui.serve",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
    ]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd,
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    deadline = time.monotonic() + HEALTH_DEADLINE
    while True:
        if proc.poll() is not None:
            raise RuntimeError(
                f"server exited with {proc.returncode}:\n{log_path.read_text(errors='replace')}"
            )
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return proc, port
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        if time.monotonic() > deadline:
            stop_server(proc)
            raise RuntimeError(f"server not healthy within {HEALTH_DEADLINE:.0f}s")
        time.sleep(0.25)


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)  # the server's own process group only
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)
    except ProcessLookupError:
        pass


# ----------------------------------------------------------------------------- /proc sampling


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of the process (all its threads), in seconds."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # fields 14 and 15 of proc(5)


def proc_rss_mb(pid: int) -> float:
    pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return pages * PAGE_SIZE / 2**20


@dataclass
class Sampler:
    """Server CPU% (100 = one core) and RSS every ``SAMPLE_EVERY`` seconds while running."""

    pid: int
    cpu_pct: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    cpu_seconds: float = 0.0

    async def run(self, stop: asyncio.Event) -> None:
        start_cpu = last_cpu = proc_cpu_seconds(self.pid)
        last_t = time.monotonic()
        self.rss_mb.append(proc_rss_mb(self.pid))
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), SAMPLE_EVERY)
            except TimeoutError:
                pass
            cpu, now = proc_cpu_seconds(self.pid), time.monotonic()
            if now - last_t > 0.05:
                self.cpu_pct.append(100 * (cpu - last_cpu) / (now - last_t))
            self.rss_mb.append(proc_rss_mb(self.pid))
            last_cpu, last_t = cpu, now
        self.cpu_seconds = last_cpu - start_cpu


# ----------------------------------------------------------------------------- the websocket client


@dataclass
class Load:
    page: str
    session: int
    ms: float | None  # None: no script_finished (an error)
    error: str = ""
    messages: int = 0
    bytes: int = 0


def rerun_message(url_path: str, query: str, base_url: str) -> bytes:
    from streamlit.proto.BackMsg_pb2 import BackMsg

    msg = BackMsg()
    state = msg.rerun_script
    state.page_name = url_path  # st.navigation resolves this against each page's url_path
    state.query_string = query
    state.context_info.timezone = "Europe/London"
    state.context_info.timezone_offset = 0
    state.context_info.locale = "en-GB"
    state.context_info.url = f"{base_url}/{url_path}" + (f"?{query}" if query else "")
    state.context_info.is_embedded = False
    state.context_info.color_scheme = "light"
    return msg.SerializeToString()


async def load_page(
    ws, url_path: str, query: str, base_url: str, timeout: float
) -> tuple[float, str, int, int]:
    """Ask for one page run and read until it finishes: (ms, error, messages, bytes)."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    finished_ok = {ForwardMsg.FINISHED_SUCCESSFULLY}
    error, n, size = "", 0, 0
    t0 = time.perf_counter()
    await ws.send(rerun_message(url_path, query, base_url))
    deadline = t0 + timeout
    while True:
        left = deadline - time.perf_counter()
        if left <= 0:
            raise TimeoutError
        raw = await asyncio.wait_for(ws.recv(), left)
        n += 1
        size += len(raw)
        msg = ForwardMsg()
        msg.ParseFromString(raw)
        kind = msg.WhichOneof("type")
        if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            if msg.delta.new_element.WhichOneof("type") == "exception" and not error:
                ex = msg.delta.new_element.exception
                error = f"exception: {ex.type} {ex.message}"[:200]
        elif kind == "page_not_found" and not error:
            error = "page not found"
        elif kind == "script_finished":
            if msg.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                continue  # the page asked for a rerun (st.rerun); the run that follows counts
            if msg.script_finished not in finished_ok and not error:
                error = f"script finished with status {msg.script_finished}"
            return (time.perf_counter() - t0) * 1000, error, n, size


async def session(
    index: int, base_url: str, order: list[tuple[str, str, str]], timeout: float, loads: list[Load]
) -> None:
    """One reader: connect, load each page of ``order`` in turn, disconnect."""
    import websockets
    from websockets.typing import Subprotocol

    ws_url = base_url.replace("http://", "ws://") + "/_stcore/stream"
    try:
        async with websockets.connect(
            ws_url,
            subprotocols=[Subprotocol("streamlit")],
            max_size=None,
            open_timeout=timeout,
            ping_interval=None,
        ) as ws:
            for label, url_path, query in order:
                try:
                    ms, error, n, size = await load_page(ws, url_path, query, base_url, timeout)
                    loads.append(Load(label, index, ms, error, n, size))
                except TimeoutError:
                    loads.append(Load(label, index, None, f"timeout after {timeout:.0f}s"))
                    return
    except (OSError, websockets.exceptions.WebSocketException) as exc:
        loads.append(Load("connect", index, None, f"connection: {type(exc).__name__}: {exc}"[:200]))


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


async def level(n: int, rounds: int, base_url: str, pid: int, timeout: float) -> dict:
    """N sessions at once; each loads the page mix ``rounds`` times from its own starting page."""
    loads: list[Load] = []
    sampler = Sampler(pid)
    stop = asyncio.Event()
    sampling = asyncio.create_task(sampler.run(stop))
    client_cpu0, t0 = time.process_time(), time.perf_counter()
    tasks = []
    for i in range(n):
        start = i % len(PAGES)
        order = [PAGES[(start + k) % len(PAGES)] for k in range(len(PAGES) * rounds)]
        tasks.append(session(i, base_url, order, timeout, loads))
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - t0
    client_cpu = time.process_time() - client_cpu0
    stop.set()
    await sampling
    ok = [x.ms for x in loads if x.ms is not None and not x.error]
    errors = [x for x in loads if x.error]
    per_page = {}
    for label, _, _ in PAGES:
        ms = [x.ms for x in loads if x.page == label and x.ms is not None and not x.error]
        per_page[label] = {"loads": len(ms), "p50_ms": pct(ms, 50), "p95_ms": pct(ms, 95)}
    return {
        "sessions": n,
        "page_loads": len([x for x in loads if x.page != "connect"]),
        "ok": len(ok),
        "p50_ms": pct(ok, 50),
        "p95_ms": pct(ok, 95),
        "max_ms": max(ok) if ok else None,
        "errors": len(errors),
        "error_kinds": sorted({x.error for x in errors}),
        "wall_s": wall,
        "throughput_loads_per_s": len(ok) / wall if wall else None,
        "server_cpu_mean_pct": statistics.fmean(sampler.cpu_pct) if sampler.cpu_pct else None,
        "server_cpu_max_pct": max(sampler.cpu_pct) if sampler.cpu_pct else None,
        "server_cpu_s": sampler.cpu_seconds,
        "server_rss_max_mb": max(sampler.rss_mb),
        "client_cpu_s": client_cpu,
        "per_page": per_page,
        "samples": [
            {
                "page": x.page,
                "session": x.session,
                "ms": x.ms,
                "error": x.error,
                "messages": x.messages,
                "bytes": x.bytes,
            }
            for x in loads
        ],
        "cpu_pct_samples": [round(c, 1) for c in sampler.cpu_pct],
        "rss_mb_samples": [round(r, 1) for r in sampler.rss_mb],
    }


def fmt(v: float | None, digits: int = 0) -> str:
    return "—" if v is None else f"{v:,.{digits}f}"


def table(levels: list[dict]) -> str:
    head = (
        "| N | page loads | p50 ms | p95 ms | max ms | errors | server CPU mean / max % "
        "| server CPU s | client CPU s | RSS max MB |\n|---|---|---|---|---|---|---|---|---|---|"
    )
    rows = [
        f"| {r['sessions']} | {r['page_loads']} | {fmt(r['p50_ms'])} | {fmt(r['p95_ms'])} | {fmt(r['max_ms'])} "
        f"| {r['errors']} | {fmt(r['server_cpu_mean_pct'])} / {fmt(r['server_cpu_max_pct'])} "
        f"| {fmt(r['server_cpu_s'], 1)} | {fmt(r['client_cpu_s'], 1)} | {fmt(r['server_rss_max_mb'])} |"
        for r in levels
    ]
    return "\n".join([head, *rows])


DOC_START, DOC_END = "<!-- capacity:table -->", "<!-- /capacity:table -->"


def replace_section(doc: Path, start: str, end: str, body: str) -> None:
    """Put ``body`` between the ``start`` and ``end`` marker lines of ``doc`` (docs/PERFORMANCE.md),
    leaving the rest of the file as it is; stops with an error if a marker is missing. Every
    benchmark that writes a table there (capacity, pages, boroughs) uses this."""
    text = doc.read_text(encoding="utf-8")
    if start not in text or end not in text:
        raise SystemExit(f"{doc} has no {start} ... {end} markers")
    head, rest = text.split(start, 1)
    tail = rest.split(end, 1)[1]
    doc.write_text(f"{head}{start}\n{body}\n{end}{tail}", encoding="utf-8")


def write_doc(doc: Path, report: dict) -> None:
    """Replace the table between the capacity markers in ``doc`` (docs/PERFORMANCE.md) with this run's."""
    cold = ", ".join(f"{s['page']} {fmt(s['ms'])}" for s in report["warm_up"]["samples"])
    body = (
        f"Run on {report['when']}, {report['machine']['cpus']} CPUs, `--rounds {report['rounds']}`, "
        f"CSP_MODE={report['mode']}."
        + (f" Note: {report['note']}." if report["note"] else "")
        + f" First loads after start (cold caches, ms): {cold}.\n\n"
        + table(report["levels"])
    )
    replace_section(doc, DOC_START, DOC_END, body)


async def run(args, base_url: str, pid: int) -> dict:
    # Warm-up: one session opens every page once, so each level measures warm caches (the first
    # reader after a restart pays the cold cost; it is reported separately).
    warm = await level(1, 1, base_url, pid, args.timeout)
    levels = []
    for n in args.sessions:
        r = await level(n, args.rounds, base_url, pid, args.timeout)
        levels.append(r)
        print(
            f"N={n}: {r['page_loads']} loads, p50 {fmt(r['p50_ms'])} ms, p95 {fmt(r['p95_ms'])} ms, "
            f"{r['errors']} errors, server CPU {fmt(r['server_cpu_s'], 1)} s, client CPU {fmt(r['client_cpu_s'], 1)} s",
            flush=True,
        )
    return {"warm_up": warm, "levels": levels}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", default="1,10,25,50", help="comma-separated N (default 1,10,25,50)")
    ap.add_argument("--rounds", type=int, default=1, help="times each session loads the page mix (default 1)")
    ap.add_argument("--mode", default="internal", choices=("internal", "public"))
    ap.add_argument(
        "--timeout", type=float, default=300.0, help="seconds a page load may take before it is an error"
    )
    ap.add_argument("--out", type=Path, default=RESULTS_JSON)
    ap.add_argument("--note", default="", help="recorded in the JSON (e.g. 'machine busy')")
    ap.add_argument(
        "--data-dir", type=Path, help="serve this already built data folder, not a temporary copy"
    )
    ap.add_argument(
        "--doc", type=Path, help="also rewrite the capacity table in this file (docs/PERFORMANCE.md)"
    )
    args = ap.parse_args(argv)
    args.sessions = [int(s) for s in args.sessions.split(",") if s.strip()]
    global PAGES
    if args.mode == "public":  # restricted pages are not registered in the public deployment
        PAGES = tuple(p for p in PAGES if p[1] in ("ward", "overview"))
    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="csp_capacity_") as tmp_name:
        tmp = Path(tmp_name)
        t0 = time.perf_counter()
        if args.data_dir:
            data = args.data_dir.resolve()
        else:
            data = prepare_data(tmp, python)
            print(f"built a copy of the warehouse in {time.perf_counter() - t0:.1f} s", flush=True)
        proc, port = start_server(data, args.mode, tmp / "server.log", python)
        base_url = f"http://127.0.0.1:{port}"
        try:
            print(
                f"server pid {proc.pid} on {base_url}, RSS {proc_rss_mb(proc.pid):.0f} MB at start",
                flush=True,
            )
            result = asyncio.run(run(args, base_url, proc.pid))
        finally:
            stop_server(proc)
            log = (tmp / "server.log").read_text(errors="replace")
    report = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
        "note": args.note,
        "mode": args.mode,
        "rounds": args.rounds,
        "pages": [{"label": label, "url": f"/{path}" + (f"?{q}" if q else "")} for label, path, q in PAGES],
        "client": "asyncio + websockets, Streamlit's BackMsg/ForwardMsg protobuf on /_stcore/stream",
        **result,
        "server_log_tail": log[-4000:],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    w = result["warm_up"]
    print(f"\nfirst loads after start (cold caches): {[round(s['ms'] or -1) for s in w['samples']]} ms")
    print(table(result["levels"]))
    print(f"\nraw numbers: {args.out}")
    if args.doc:
        write_doc(args.doc, report)
        print(f"table written to {args.doc}")
    return 1 if any(r["errors"] for r in result["levels"]) else 0


if __name__ == "__main__":
    sys.exit(main())
