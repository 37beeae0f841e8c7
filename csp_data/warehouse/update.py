"""``python -m csp_data update``: fetch what is new from each publisher and pass it through ingest.

Sources, their dataset identifiers, resource titles, cadence and usual lag are data, in
``data/sources/publishers.toml``. Two publishers:

* **London Datastore** (MPS recorded crime borough / ward / LSOA, Monthly Crime Dashboard,
  business crime): the dataset JSON API (``<CSP_DATASTORE_API>/action/package_show?id=ID``, CKAN
  style) lists the dataset's resources; the resource is chosen by its title and its *current*
  download address used (the datastore changes addresses when a file is refreshed). The file is
  downloaded into a private work folder, its length and columns checked, its newest month checked
  for being only partly there, and then handed to :func:`csp_data.warehouse.ingest.ingest_file`, which
  validates, lands and rebuilds (or says "already ingested").
* **police.uk** (street-level crime including anti-social behaviour, outcomes, stop and search):
  the availability list (``<CSP_POLICE_API>/crimes-street-dates``) says which months exist; every
  month the warehouse lacks (at most ``max_new_months`` of the newest) is fetched with one
  custom-area query per ward polygon (``poly=lat,lng:...``; POST when the address would be longer
  than a GET allows), at most 15 requests a second with bursts of 30 (the published limit), backing
  off on 429 and 503. police.uk answers 503 when an area holds more than 10,000 records: the
  polygon is then split in two and each half asked for. Each record is kept exactly once: crimes
  by their API ``id``; outcomes and stop-and-search records (no id) by content, taking each
  distinct record as many times as the one query that returned it most often (a point on a shared
  ward edge comes back from both wards, a genuine repeat comes back repeated in every query). Every
  month is fetched and checked before any is landed; each month then goes to ingest as one JSON
  file, the records exactly as police.uk returned them (ingest places them in the borough).

A source that fails (network, timeout, truncated body, changed columns, a month only partly
there, a refusal by ingest) leaves the warehouse as it was; the others still update. The report
says, per source: checked, new months, revised months, or failed and why. Each run records, per
source, the last check and the last update in ``<data>/update_state.json`` (written atomically),
which the Data status page reads.

Exit codes: 0 every source checked (updated or nothing new); 1 at least one source failed (the
others were still updated); 2 the command itself could not run (unknown ``--source``, bad
settings, unusable manifest or publishers file).
"""

from __future__ import annotations

import csv
import gzip
import http.client
import json
import os
import re
import shutil
import socket
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import BinaryIO, overload

from csp_data.config import Settings
from csp_data.config import settings as get_settings
from csp_data.warehouse.catalogue import (
    Source,
    UsageError,
    load_sources,
    load_state,
    publishers_path,
    save_state,
)

POLICE_API_DEFAULT = "https://data.police.uk/api"
DATASTORE_API_DEFAULT = "https://data.london.gov.uk/api"
GET_LIMIT = 4000  # police.uk answers 400 to a GET longer than 4094 characters: POST beyond this
MAX_SPLIT_DEPTH = 8  # a ward halved 8 times is about 1/256 of it; still over the limit is an error
PARTIAL_SHARE = 0.7  # a new month under 70% of the usual size is "only partly there" (months vary ±15%)
USER_AGENT = "csp-dashboard-update/1 (+Tower Hamlets Community Safety Partnership)"


class UpdateError(Exception):
    """One source could not be updated; the message says why. Nothing of it was landed."""


# ----------------------------------------------------------------------------- HTTP


class RateLimiter:
    """Token bucket: ``rate`` requests a second on average, at most ``burst`` at once."""

    def __init__(self, rate: float = 15.0, burst: int = 30, clock=time.monotonic, sleep=time.sleep):
        self.rate, self.burst, self.clock, self.sleep = rate, burst, clock, sleep
        self.tokens = float(burst)
        self.last = clock()
        self.lock = threading.Lock()

    def acquire(self) -> None:
        with self.lock:
            while True:
                now = self.clock()
                self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
                self.last = now
                if self.tokens >= 1 - 1e-9:  # float rounding must not leave a sliver to wait for
                    self.tokens = max(0.0, self.tokens - 1)
                    return
                self.sleep(max((1 - self.tokens) / self.rate, 1e-4))


class OverLimit(Exception):
    """police.uk said 503 to a custom-area query: more than 10,000 records (split the polygon)."""


@dataclass
class Options:
    timeout: float = 60.0
    retries: int = 4  # attempts after the first, for 429, 5xx, timeouts and broken bodies
    backoff: float = 2.0  # seconds before the first retry; doubles each time (Retry-After wins)
    rate: float = 15.0
    burst: int = 30
    max_bytes: int = 512 << 20  # a download larger than this is refused
    sleep: Callable[[float], object] = time.sleep


class Http:
    def __init__(self, opts: Options):
        self.opts = opts
        self.limiter = RateLimiter(opts.rate, opts.burst, sleep=opts.sleep)
        self.requests = 0

    def _open(self, url: str, data: bytes | None):
        req = urllib.request.Request(url, data=data, headers={"User-Agent": USER_AGENT, "Accept": "*/*"})
        if data is not None:
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
        self.limiter.acquire()
        self.requests += 1
        return urllib.request.urlopen(req, timeout=self.opts.timeout)

    @overload
    def fetch(
        self, url: str, data: bytes | None = None, sink: None = None, over_limit_503: bool = False
    ) -> bytes: ...

    @overload
    def fetch(
        self, url: str, data: bytes | None = None, *, sink: BinaryIO, over_limit_503: bool = False
    ) -> int: ...

    def fetch(
        self, url: str, data: bytes | None = None, sink: BinaryIO | None = None, over_limit_503: bool = False
    ) -> bytes | int:
        """GET (or POST ``data``) ``url``; the body as bytes, or streamed into ``sink`` (returns bytes
        written). Retries 429, 5xx, timeouts and short bodies with back-off; raises UpdateError when
        retries run out, OverLimit on a 503 when ``over_limit_503``."""
        scheme = urllib.parse.urlsplit(url).scheme
        if scheme not in ("http", "https"):
            raise UpdateError(f"refusing a {scheme or 'relative'} address: {url[:120]}")
        delay = self.opts.backoff
        last = ""
        for attempt in range(self.opts.retries + 1):
            retry_after = None
            try:
                with self._open(url, data) as resp:
                    expected = resp.headers.get("Content-Length")
                    if sink is None:
                        body = resp.read(self.opts.max_bytes + 1)
                        if len(body) > self.opts.max_bytes:
                            raise UpdateError(f"{_short(url)}: larger than {self.opts.max_bytes:,d} bytes")
                        got = len(body)
                    else:
                        sink.seek(0)
                        sink.truncate()
                        got = 0
                        while chunk := resp.read(1 << 20):
                            got += len(chunk)
                            if got > self.opts.max_bytes:
                                raise UpdateError(
                                    f"{_short(url)}: larger than {self.opts.max_bytes:,d} bytes"
                                )
                            sink.write(chunk)
                    if expected is not None and expected.isdigit() and int(expected) != got:
                        raise http.client.IncompleteRead(b"", int(expected) - got)
                    return body if sink is None else got
            except urllib.error.HTTPError as exc:
                code = exc.code
                last = f"HTTP {code}"
                if code == 503 and over_limit_503:
                    raise OverLimit() from exc
                if code not in (429, 500, 502, 503, 504):
                    raise UpdateError(f"{_short(url)}: HTTP {code} {exc.reason}") from exc
                ra = exc.headers.get("Retry-After") if exc.headers else None
                retry_after = float(ra) if ra and ra.replace(".", "", 1).isdigit() else None
            except http.client.IncompleteRead as exc:
                last = (
                    f"the body was cut short ({exc.partial and len(exc.partial) or 0} bytes then the connection closed)"
                    if not isinstance(exc.expected, int)
                    else f"the body was cut short ({exc.expected:,d} bytes missing)"
                )
            except TimeoutError:
                last = f"no answer within {self.opts.timeout:g} s"
            except urllib.error.URLError as exc:
                reason = exc.reason
                if isinstance(reason, (socket.timeout, TimeoutError)):
                    last = f"no answer within {self.opts.timeout:g} s"
                else:
                    last = f"cannot connect ({reason})"
            except (ConnectionError, http.client.HTTPException, OSError) as exc:
                last = f"connection failed ({type(exc).__name__}: {exc})"
            if attempt < self.opts.retries:
                self.opts.sleep(retry_after if retry_after is not None else delay)
                delay *= 2
        raise UpdateError(f"{_short(url)}: {last} (gave up after {self.opts.retries + 1} attempts)")

    def json(self, url: str, data: bytes | None = None, over_limit_503: bool = False):
        attempts = 0
        while True:
            body = self.fetch(url, data, over_limit_503=over_limit_503)
            try:
                return json.loads(body)
            except ValueError as exc:
                attempts += 1  # a body that parses as nothing: cut short without a Content-Length
                if attempts > self.opts.retries:
                    raise UpdateError(f"{_short(url)}: the answer is not valid JSON ({exc})") from exc
                self.opts.sleep(self.opts.backoff)


def _short(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


# ----------------------------------------------------------------------------- results


@dataclass
class SourceResult:
    name: str
    label: str
    status: str = "checked"  # updated, no change, failed, would update, up to date
    new_months: list[str] = field(default_factory=list)
    revised_months: list[str] = field(default_factory=list)
    why: str = ""
    detail: list[str] = field(default_factory=list)
    requests: int = 0
    seconds: float = 0.0
    extra_state: dict = field(default_factory=dict)  # what the state file remembers (resource address)

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    def line(self) -> str:
        head = f"{self.name}: "
        if self.failed:
            return head + f"FAILED: {self.why}. The warehouse keeps what it had for this source."
        if self.status == "would update":
            return head + f"checked; would fetch {self.why}"
        new = ", ".join(self.new_months) or "none"
        rev = ", ".join(self.revised_months) or "none"
        return head + f"checked; {self.status}; new months: {new}; revised months: {rev}"


# ----------------------------------------------------------------------------- helpers


def _ym_range(a: str, b: str) -> list[str]:
    y, m = int(a[:4]), int(a[5:7])
    out = []
    while f"{y:04d}-{m:02d}" <= b:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _norm(col: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(col).strip().lower()).strip("_")


def _median(values: Sequence[float]) -> float:
    v = sorted(values)
    if not v:
        return 0.0
    n = len(v)
    return float(v[n // 2]) if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def _ingest(path: Path, cfg: Settings, result: SourceResult) -> None:
    """Hand one file to ingest; fill the result from its report; IngestError -> UpdateError."""
    from csp_data.warehouse import ingest, manifest

    try:
        report = ingest.ingest_file(path, cfg)
    except (ingest.IngestError, manifest.ManifestError) as exc:
        raise UpdateError(f"ingest did not land the file: {exc}") from exc
    result.detail += report.lines
    if report.status == "ingested":
        for ch in report.changes.values():
            result.new_months += [m for m, _ in ch.added]
            result.revised_months += [m for m, *_ in ch.revised]
    result.new_months = sorted(set(result.new_months))
    result.revised_months = sorted(set(result.revised_months) - set(result.new_months))
    result.status = "updated" if (result.new_months or result.revised_months) else "no change"


# ----------------------------------------------------------------------------- London Datastore


def pick_resource(resources: list[dict], src: Source) -> dict:
    """The CSV resource whose title contains ``title_contains`` (not ``title_excludes``), newest first."""
    want, skip = src.title_contains.lower(), src.title_excludes.lower()
    hits = []
    for r in resources:
        if not isinstance(r, dict):
            continue
        title = str(r.get("title") or r.get("name") or "")
        url = str(r.get("url") or "")
        fmt = str(r.get("format") or "").lower()
        if not url or not (
            fmt in ("csv", "text/csv") or url.lower().split("?")[0].endswith((".csv", ".csv.gz", ".zip"))
        ):
            continue
        if want and want not in title.lower():
            continue
        if skip and skip in title.lower():
            continue
        hits.append(r)
    if not hits:
        titles = "; ".join(str(r.get("title") or r.get("name")) for r in resources[:8] if isinstance(r, dict))
        raise UpdateError(
            f"no CSV resource titled like {src.title_contains!r} in dataset {src.dataset_id} "
            f"(titles: {titles or 'none'})"
        )

    def stamp(r):
        return str(r.get("last_modified") or r.get("modified") or r.get("created") or "")

    return sorted(hits, key=stamp, reverse=True)[0]


def _check_columns(path: Path, src: Source) -> list[str]:
    """The file's header; UpdateError when a column the source needs is missing or months are unreadable."""
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:
            header = next(csv.reader(fh), [])
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise UpdateError(f"the file cannot be read as CSV text: {exc}") from exc
    have = {_norm(c) for c in header}
    missing = [c for c in src.columns if _norm(c) not in have]
    if missing:
        new = [
            c
            for c in header
            if _norm(c) not in {_norm(x) for x in src.columns} and not re.fullmatch(r"\d{6}", c.strip())
        ]
        raise UpdateError(
            f"the publisher changed the columns: missing {', '.join(missing)}"
            + (f"; new: {', '.join(new[:6])}" if new else "")
            + ". Nothing was landed; "
            "check the file and publishers.toml"
        )
    if src.wide_months:
        months = [c.strip() for c in header if re.fullmatch(r"\d{6}", c.strip())]
        if not months:
            raise UpdateError("the file has no YYYYMM month columns")
    return header


def _check_newest_month_complete(path: Path, src: Source, header: list[str]) -> None:
    """A wide file's newest month must not be a fraction of its usual size (a month only partly there)."""
    cols = [c for c in header if re.fullmatch(r"\d{6}", c.strip())]
    if len(cols) < 4:
        return
    totals = dict.fromkeys(cols, 0.0)
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            for c in cols:
                try:
                    totals[c] += float(row.get(c) or 0)
                except ValueError:
                    pass  # ingest refuses non-numeric counts with the row and column
    newest = max(cols, key=lambda c: c.strip())
    before = sorted((c for c in cols if c != newest), key=lambda c: c.strip())[-12:]
    usual = _median([totals[c] for c in before[1:]])  # the first column of a 24-month file is a stub
    if usual > 0 and totals[newest] < PARTIAL_SHARE * usual:
        m = newest.strip()
        raise UpdateError(
            f"month {m[:4]}-{m[4:]} looks only partly published: {totals[newest]:,.0f} offences "
            f"against a usual {usual:,.0f} a month. Nothing was landed; the next run tries again"
        )


def update_datastore(
    src: Source, cfg: Settings, http: Http, base: str, work: Path, dry_run: bool, state: dict
) -> SourceResult:
    res = SourceResult(src.name, src.label)
    url = f"{base.rstrip('/')}/action/package_show?" + urllib.parse.urlencode({"id": src.dataset_id})
    meta = http.json(url)
    if (
        not isinstance(meta, dict)
        or not meta.get("success", True)
        or not isinstance(meta.get("result"), dict)
    ):
        raise UpdateError(f"the datastore did not describe dataset {src.dataset_id} (success is not true)")
    resources = meta["result"].get("resources")
    if not isinstance(resources, list):
        raise UpdateError(f"dataset {src.dataset_id} lists no resources")
    r = pick_resource(resources, src)
    address = urllib.parse.urljoin(url, str(r["url"]))
    title = str(r.get("title") or r.get("name") or "")
    modified = str(r.get("last_modified") or r.get("modified") or "")
    res.detail.append(
        f"resource {title!r} at {_short(address)}" + (f", modified {modified}" if modified else "")
    )
    prev = state["sources"].get(src.name, {})
    if dry_run:
        same = prev.get("resource_url") == address and prev.get("resource_modified") == modified
        res.status = "up to date" if same else "would update"
        res.why = "nothing (same resource as the last update)" if same else f"{title!r} ({_short(address)})"
        return res
    if prev.get("resource_url") == address and modified and prev.get("resource_modified") == modified:
        res.status = "no change"  # the same file as last time: no need to download it again
        res.detail.append("unchanged since the last update (same address and modification time)")
        res.extra_state = {"resource_url": address, "resource_modified": modified, "resource_title": title}
        return res
    base_name = (
        urllib.parse.unquote(urllib.parse.urlsplit(address).path.rsplit("/", 1)[-1]) or f"{src.name}.csv"
    )
    dest = work / re.sub(r"[^A-Za-z0-9._-]", "_", base_name)[-120:]
    with open(dest, "wb") as fh:
        http.fetch(address, sink=fh)
    header = _check_columns(dest, src)
    if src.wide_months:
        _check_newest_month_complete(dest, src, header)
    _ingest(dest, cfg, res)
    res.extra_state = {"resource_url": address, "resource_modified": modified, "resource_title": title}
    return res


# ----------------------------------------------------------------------------- police.uk


def _ward_polygons(cfg: Settings):
    """[(ward_code, shapely polygon)] of the configured borough's wards (``geo.ward_polygons``)."""
    from csp_data.warehouse import geo, manifest

    try:
        gdf = geo.ward_polygons(cfg)
    except manifest.ManifestError as exc:
        raise UpdateError(f"no ward boundaries: cannot build area queries ({exc})") from exc
    out = []
    for code, geom in zip(gdf["code"], gdf.geometry):
        parts = list(geom.geoms) if geom.geom_type == "MultiPolygon" else [geom]
        out += [(code, p) for p in parts]
    return out


def poly_param(polygon) -> str:
    """police.uk's ``poly``: ``lat,lng:lat,lng:...`` around the exterior (not closed; 6 decimals)."""
    coords = list(polygon.exterior.coords)
    if len(coords) > 1 and coords[0] == coords[-1]:
        coords = coords[:-1]
    return ":".join(f"{lat:.6f},{lng:.6f}" for lng, lat in coords)


def split_polygon(polygon) -> list:
    """Two halves of a polygon, cut across its longer side (each may be several polygons)."""
    from shapely.geometry import box

    minx, miny, maxx, maxy = polygon.bounds
    if maxx - minx >= maxy - miny:
        mid = (minx + maxx) / 2
        halves = [box(minx, miny, mid, maxy), box(mid, miny, maxx, maxy)]
    else:
        mid = (miny + maxy) / 2
        halves = [box(minx, miny, maxx, mid), box(minx, mid, maxx, maxy)]
    out = []
    for h in halves:
        piece = polygon.intersection(h)
        for g in getattr(piece, "geoms", [piece]):
            if g.geom_type == "Polygon" and not g.is_empty and g.area > 0:
                out.append(g)
    return out


ENDPOINT_PATH = {
    "street": "crimes-street/all-crime",
    "outcomes": "outcomes-at-location",
    "stop_search": "stops-street",
}


def _area_query(http: Http, base: str, endpoint: str, month: str, polygon, depth: int = 0) -> list[list]:
    """The records of one month inside ``polygon``, as one list per query made (splitting on 503)."""
    poly = poly_param(polygon)
    url = f"{base.rstrip('/')}/{ENDPOINT_PATH[endpoint]}"
    query = urllib.parse.urlencode({"poly": poly, "date": month}, safe=",:")
    try:
        if len(url) + 1 + len(query) <= GET_LIMIT:
            body = http.json(f"{url}?{query}", over_limit_503=True)
        else:
            body = http.json(url, data=query.encode("ascii"), over_limit_503=True)
    except OverLimit:
        if depth >= MAX_SPLIT_DEPTH:
            raise UpdateError(
                f"{ENDPOINT_PATH[endpoint]} {month}: still over the 10,000-record limit (or the "
                f"service is unavailable) after splitting the area {depth} times"
            ) from None
        out = []
        for half in split_polygon(polygon):
            out += _area_query(http, base, endpoint, month, half, depth + 1)
        return out
    if not isinstance(body, list):
        raise UpdateError(
            f"{ENDPOINT_PATH[endpoint]} {month}: expected a JSON list, got {type(body).__name__}"
        )
    return [body]


def dedupe(endpoint: str, answers: list[list]) -> list[dict]:
    """Each record exactly once across overlapping queries (see the module docstring)."""
    if endpoint == "street":
        seen: dict[str, dict] = {}
        for ans in answers:
            for rec in ans:
                key = (
                    str(rec.get("id") or "")
                    or str(rec.get("persistent_id") or "")
                    or json.dumps(rec, sort_keys=True)
                )
                seen.setdefault(key, rec)
        return list(seen.values())
    best: dict[str, int] = {}
    first: dict[str, dict] = {}
    for ans in answers:
        counts: Counter[str] = Counter()
        for rec in ans:
            k = json.dumps(rec, sort_keys=True)
            counts[k] += 1
            first.setdefault(k, rec)
        for k, n in counts.items():
            best[k] = max(best.get(k, 0), n)
    return [first[k] for k in first for _ in range(best[k])]


def held_months(cfg: Settings) -> dict[str, dict[str, int]]:
    """{dataset: {month: records}} of the police.uk months the warehouse holds."""
    from csp_data.warehouse import build, db, sql

    if build.is_stale(cfg)[0]:
        build.ensure_built(cfg)
        db.reset()
    df = sql.run("meta/policeuk_months", cfg=cfg)
    out: dict[str, dict[str, int]] = {}
    for row in df.itertuples():
        out.setdefault(row.dataset, {})[f"{row.month:%Y-%m}"] = int(row.records)
    return out


def update_police(
    src: Source, cfg: Settings, http: Http, base: str, work: Path, dry_run: bool, today: date
) -> SourceResult:
    res = SourceResult(src.name, src.label)
    dates = http.json(f"{base.rstrip('/')}/crimes-street-dates")
    if not isinstance(dates, list):
        raise UpdateError("the availability list (crimes-street-dates) is not a JSON list")
    this_month = f"{today:%Y-%m}"
    available = []
    for d in dates:
        m = str((d or {}).get("date", "")) if isinstance(d, dict) else ""
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", m) or not (src.first_month <= m < this_month):
            continue  # a month in the future or before the source began is not real
        if src.endpoint == "stop_search" and src.force not in (d.get("stop-and-search") or []):
            continue
        available.append(m)
    held = held_months(cfg).get(src.dataset, {})
    missing = sorted(m for m in set(available) if m not in held)[-src.max_new_months :]
    res.detail.append(
        f"available {len(set(available))} month(s), held {len(held)}; to fetch: {', '.join(missing) or 'none'}"
    )
    if not missing:
        res.status = "no change"
        return res
    if dry_run:
        res.status = "would update"
        res.why = ", ".join(missing)
        return res
    wards = _ward_polygons(cfg)
    t0, n0 = time.perf_counter(), http.requests
    usual = _median(list(held.values())[-12:]) if held else 0.0
    fetched: list[tuple[str, list[dict]]] = []
    for month in missing:  # every month is fetched and checked before any is landed
        answers = []
        for _, poly in wards:
            answers += _area_query(http, base, src.endpoint, month, poly)
        records = dedupe(src.endpoint, answers)
        if not records:  # listed, but nothing anywhere in the borough: not published for this area yet
            res.detail.append(
                f"{month}: listed as available but no records came back; skipped (tried again next run)"
            )
            continue
        res.detail.append(f"{month}: {len(records):,d} records from {len(answers)} area queries")
        # outcomes of a month keep arriving for months afterwards, so their count says nothing about completeness
        if usual and src.endpoint != "outcomes" and len(records) < PARTIAL_SHARE * usual:
            raise UpdateError(
                f"month {month} looks only partly published: {len(records):,d} records against a usual "
                f"{usual:,.0f}. Nothing was landed; the next run tries again"
            )
        fetched.append((month, records))
    if not fetched:
        res.status = "no change"
        return res
    res.detail.append(f"fetched in {time.perf_counter() - t0:.1f} s with {http.requests - n0} area requests")
    kind = {"street": "street", "outcomes": "outcomes", "stop_search": "stop-and-search"}[src.endpoint]
    landed: list[str] = []
    for month, records in fetched:  # oldest first; one month and one kind per file, as police.uk returned it
        dest = work / f"{month}-{src.force}-{kind}-api.json"
        dest.write_text(json.dumps(records, separators=(",", ":")), encoding="utf-8")
        try:
            _ingest(dest, cfg, res)
        except UpdateError as exc:
            if landed:
                raise UpdateError(f"{exc} (months landed before it: {', '.join(landed)})") from exc
            raise
        landed.append(month)
    return res


# ----------------------------------------------------------------------------- run


def bases() -> tuple[str, str]:
    police = os.environ.get("CSP_POLICE_API", "").strip() or POLICE_API_DEFAULT
    store = os.environ.get("CSP_DATASTORE_API", "").strip() or DATASTORE_API_DEFAULT
    for name, value in (("CSP_POLICE_API", police), ("CSP_DATASTORE_API", store)):
        if urllib.parse.urlsplit(value).scheme not in ("http", "https"):
            raise UsageError(f"{name} must be an http(s) address; got {value!r}")
    return police, store


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def run(
    cfg: Settings | None = None,
    names: list[str] | None = None,
    dry_run: bool = False,
    opts: Options | None = None,
    today: date | None = None,
    progress=None,
) -> list[SourceResult]:
    """Check (and unless ``dry_run`` update) every source, or those named; one result per source."""
    cfg = cfg or get_settings()
    opts = opts or Options()
    today = today or date.today()
    sources = load_sources(publishers_path(cfg))
    if names:
        unknown = sorted(set(names) - {s.name for s in sources})
        if unknown:
            raise UsageError(
                f"unknown source {', '.join(unknown)}; sources are {', '.join(s.name for s in sources)}"
            )
        sources = [s for s in sources if s.name in names]
    if not cfg.manifest_path.exists():
        raise UsageError(f"no manifest at {cfg.manifest_path}: is CSP_DATA_DIR right?")
    police, store = bases()
    http = Http(opts)
    state = load_state(cfg)
    results = []
    for src in sources:
        if progress:
            progress(f"checking {src.name} …")
        t0, n0 = time.perf_counter(), http.requests
        work = Path(tempfile.mkdtemp(prefix=".update-", dir=cfg.data_dir))
        try:
            if src.publisher == "datastore":
                res = update_datastore(src, cfg, http, store, work, dry_run, state)
            else:
                res = update_police(src, cfg, http, police, work, dry_run, today)
        except UpdateError as exc:
            res = SourceResult(src.name, src.label, status="failed", why=str(exc))
        except Exception as exc:
            res = SourceResult(src.name, src.label, status="failed", why=f"{type(exc).__name__}: {exc}")
        finally:
            shutil.rmtree(work, ignore_errors=True)
        res.requests = http.requests - n0
        res.seconds = time.perf_counter() - t0
        results.append(res)
        if not dry_run:
            entry = state["sources"].setdefault(src.name, {})
            entry["last_check"] = _now()
            entry["last_result"] = res.status if not res.failed else f"failed: {res.why}"[:500]
            if res.status == "updated":
                entry["last_update"] = entry["last_check"]
                entry["last_new_months"] = res.new_months
            if res.failed:  # a file that did not land must be fetched again next time
                for k in ("resource_url", "resource_modified", "resource_title"):
                    entry.pop(k, None)
            else:
                entry.update(res.extra_state)
            save_state(cfg, state)
    return results


def main(names: list[str] | None = None, dry_run: bool = False) -> int:
    try:
        results = run(names=names, dry_run=dry_run, progress=lambda m: print(m, file=sys.stderr))
    except UsageError as exc:
        print(f"update: {exc}", file=sys.stderr)
        return 2
    for res in results:
        print(res.line())
        for d in res.detail:
            print(f"    {d}")
        print(f"    ({res.requests} request(s), {res.seconds:.1f} s)")
    failed = [r.name for r in results if r.failed]
    if failed:
        print(f"{len(failed)} of {len(results)} source(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0
