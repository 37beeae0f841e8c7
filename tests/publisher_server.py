"""A stand-in for the two publishers `python -m csp_data update` talks to, on the loopback interface.

Everything it serves is built from the EMBEDDED REAL files in data/sources/ (nothing invented):

* London Datastore (base ``<url>/datastore/api``): ``/action/package_show?id=ID`` describes datasets
  CKAN-style (``{"success": true, "result": {"resources": [{"title", "url", "format",
  "last_modified"}]}}``) and ``/download/<file>`` serves the files: the MPS borough, ward and LSOA
  "most recent 24 months" parquet copies re-shaped into the publisher's wide CSV (its column names,
  one column per month YYYYMM), the Monthly Crime Dashboard (knife-only snapshot) and business crime
  offences as CSV. A historical resource is listed too (update must not pick it).
* police.uk (base ``<url>/police/api``): ``/crimes-street-dates`` (the months the stand-in holds:
  the all-crime street months, and the newest stop-and-search month with ``metropolitan`` in its
  ``stop-and-search`` list), and ``/crimes-street/all-crime``, ``/outcomes-at-location`` and
  ``/stops-street`` for a ``poly`` and ``date``, GET or POST (form body), answering the real rows
  whose point lies in the polygon (boundary included, as police.uk's own results are), in the API's
  JSON shapes. More matches than ``limit`` (10,000 by default) gives 503, as police.uk does.

Faults (set attributes on the server, see ``Faults``): 429 for the first N requests, a delay
longer than the client's timeout, a body cut short, a renamed column, a newest month only partly
there, an edge tolerance (points near a ward edge returned for both wards), a hidden newest month.

Use as a context manager (``with PublisherServer() as srv``); it binds an ephemeral port on
127.0.0.1 and stops itself on exit. ``srv.log`` lists every request (method, path).
"""

from __future__ import annotations

import io
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from functools import cached_property
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import ingest_fixtures  # the publisher layouts of the MPS dashboard and business files (tests/)
import numpy as np
import pandas as pd
import shapely

REPO = Path(__file__).resolve().parent.parent
SOURCES = REPO / "data" / "sources"
MPS = SOURCES / "mps"
PUK = SOURCES / "police_uk"
MET_STOPS = REPO / "tests" / "fixtures" / "met_stop_and_search_2024-07_2024-08.parquet"

SLUG = {
    "Anti-social behaviour": "anti-social-behaviour",
    "Bicycle theft": "bicycle-theft",
    "Burglary": "burglary",
    "Criminal damage and arson": "criminal-damage-arson",
    "Drugs": "drugs",
    "Other crime": "other-crime",
    "Other theft": "other-theft",
    "Possession of weapons": "possession-of-weapons",
    "Public order": "public-order",
    "Robbery": "robbery",
    "Shoplifting": "shoplifting",
    "Theft from the person": "theft-from-the-person",
    "Vehicle crime": "vehicle-crime",
    "Violence and sexual offences": "violent-crime",
}
# The London Datastore's own column names for the wide files (the parquet copies were lower-cased).
CAMEL = {
    "majortext": "MajorText",
    "minortext": "MinorText",
    "boroughname": "BoroughName",
    "wardname": "WardName",
    "wardcode": "WardCode",
    "lookup_boroughname": "LookUp_BoroughName",
    "lsoa_code": "LSOA Code",
    "lsoa_name": "LSOA Name",
    "borough": "Borough",
    "major_category": "Major Category",
    "minor_category": "Minor Category",
}

# dataset id -> [(resource title, file name served, embedded source file)]
DATASETS = {
    "exy3m": [
        (
            "MPS Borough Level Crime (Historical)",
            "MPS_Borough_Level_Crime_Historical.csv",
            "mps_borough_crime_historical_2010-04_2024-02.parquet",
        ),
        (
            "MPS Borough Level Crime (most recent 24 months)",
            "MPS_Borough_Level_Crime_most_recent_24_months.csv",
            "mps_borough_crime_2024-03_2026-02.parquet",
        ),
        (
            "MPS Ward Level Crime (most recent 24 months)",
            "MPS_Ward_Level_Crime_most_recent_24_months.csv",
            "mps_ward_crime_2024-03_2026-03.parquet",
        ),
        (
            "MPS LSOA Level Crime (most recent 24 months)",
            "MPS_LSOA_Level_Crime_most_recent_24_months.csv",
            "mps_lsoa_crime_2024-02_2026-02.parquet",
        ),
    ],
    "e5n6w": [
        (
            "MPS Monthly Crime Dashboard Data",
            "MPS_Monthly_Crime_Dashboard_Data.csv",
            "mps_monthly_crime_dashboard_knife_2022-03_2026-02.parquet",
        )
    ],
    "2zpjy": [
        (
            "MPS Business Crime Dashboard OffencesData",
            "OffencesData.csv",
            "mps_business_crime_offences.parquet",
        )
    ],
}
STREET_FILES = ["th_street_all_crime_2025-02.csv.gz", "th_street_all_crime_2026-01.csv.gz"]


@dataclass
class Faults:
    too_many_first: int = 0  # answer 429 (Retry-After: 0) to the first N requests
    delay: dict = field(default_factory=dict)  # path substring -> seconds to wait before answering
    delay_times: int = 10**9  # ... for at most this many requests
    truncate: set = field(default_factory=set)  # path substrings whose body is cut in half
    rename_column: dict = field(default_factory=dict)  # served CSV column -> new name
    partial_month: str = ""  # YYYY-MM served only partly (a third of a wide column; every other police row)
    hide_newest: bool = False  # hide the newest month (wide CSV column, police.uk month)
    edge_tolerance: float = 0.0  # degrees: points this close outside a polygon are returned too
    limit: int = 10_000  # more matches than this -> 503, as police.uk


class PublisherServer:
    def __init__(self):
        self.faults = Faults()
        self.log: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> PublisherServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                server._handle(self, None)

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                server._handle(self, self.rfile.read(n).decode("ascii", "replace"))

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def datastore_api(self) -> str:
        return f"{self.url}/datastore/api"

    @property
    def police_api(self) -> str:
        return f"{self.url}/police/api"

    def reset_log(self) -> None:
        with self._lock:
            self.log.clear()

    # ------------------------------------------------------------------ data (built once, lazily)
    @cached_property
    def _wide(self) -> dict[str, pd.DataFrame]:
        return {}

    def _file_frame(self, source: str) -> pd.DataFrame:
        if source not in self._wide:
            if "dashboard" in source:
                df = ingest_fixtures.dashboard_frame(MPS / source)  # the published headers
            elif "business" in source:
                df = ingest_fixtures.business_frame()
            else:
                df = pd.read_parquet(MPS / source)
                df = df.rename(columns={c: CAMEL.get(c, c) for c in df.columns})
            self._wide[source] = df
        return self._wide[source]

    def csv_bytes(self, source: str) -> bytes:
        df = self._file_frame(source).copy()
        months = [c for c in df.columns if str(c).isdigit() and len(str(c)) == 6]
        if months and self.faults.hide_newest:
            df = df.drop(columns=[max(months)])
            months.remove(max(months))
        part = self.faults.partial_month.replace("-", "")
        if months and part in months:
            df[part] = pd.to_numeric(df[part]) // 3
        if self.faults.rename_column:
            df = df.rename(columns=self.faults.rename_column)
        for c in df.columns:  # whole counts stay whole in the CSV
            if (
                pd.api.types.is_float_dtype(df[c])
                and c in months
                and df[c].dropna().eq(df[c].dropna().round()).all()
            ):
                df[c] = df[c].astype("Int64")
        buf = io.StringIO()
        df.to_csv(buf, index=False)
        return buf.getvalue().encode("utf-8")

    @cached_property
    def street(self) -> pd.DataFrame:
        frames = [pd.read_csv(PUK / f, dtype=str, keep_default_na=False) for f in STREET_FILES]
        df = pd.concat(frames, ignore_index=True)
        df["api_id"] = np.arange(100_000_001, 100_000_001 + len(df))
        df["lon"], df["lat"] = (
            pd.to_numeric(df["Longitude"], errors="coerce"),
            pd.to_numeric(df["Latitude"], errors="coerce"),
        )
        return df

    @cached_property
    def outcomes(self) -> pd.DataFrame:
        df = pd.read_csv(
            PUK / "th_outcomes_burglary_subset_2012-01_2025-02.csv.gz", dtype=str, keep_default_na=False
        )
        df["api_id"] = np.arange(200_000_001, 200_000_001 + len(df))
        df["lon"], df["lat"] = (
            pd.to_numeric(df["Longitude"], errors="coerce"),
            pd.to_numeric(df["Latitude"], errors="coerce"),
        )
        return df

    @cached_property
    def stops(self) -> pd.DataFrame:
        # the real Met-wide rows of Jul and Aug 2024 as published (the area query picks the borough's)
        df = pd.read_parquet(MET_STOPS).drop(columns="source_month")
        df["lon"], df["lat"] = df["Longitude"], df["Latitude"]
        df[["Longitude", "Latitude"]] = (
            df[["Longitude", "Latitude"]].astype(object).where(df["lon"].notna(), "")
        )
        text = [c for c in df.columns if c not in ("lon", "lat")]
        df[text] = df[text].astype(object).fillna("")
        df["Month"] = df["Date"].str.slice(0, 7)
        return df

    def street_months(self) -> list[str]:
        return sorted(set(self.street["Month"]))

    def stop_months(self) -> list[str]:
        return [max(self.stops["Month"])]  # the newest stop-and-search month only

    def months(self) -> list[dict]:
        street, stops = self.street_months(), self.stop_months()
        ms = sorted(set(street) | set(stops), reverse=True)
        if self.faults.hide_newest:
            ms = ms[1:]
        return [{"date": m, "stop-and-search": ["metropolitan"] if m in stops else []} for m in ms]

    # ------------------------------------------------------------------ request handling
    def _handle(self, h: BaseHTTPRequestHandler, body: str | None) -> None:
        parts = urllib.parse.urlsplit(h.path)
        path = parts.path
        with self._lock:
            self.log.append((h.command, path))
            n = len(self.log)
        if n <= self.faults.too_many_first:
            return self._send(h, 429, b'{"error": "Too Many Requests"}', extra={"Retry-After": "0"})
        for key, seconds in self.faults.delay.items():
            if key in path and n <= self.faults.delay_times:
                time.sleep(seconds)
        params = urllib.parse.parse_qs(parts.query)
        if body is not None:
            params.update(urllib.parse.parse_qs(body))
        p = {k: v[-1] for k, v in params.items()}
        try:
            if path == "/datastore/api/action/package_show":
                return self._package(h, p.get("id", ""))
            if path.startswith("/datastore/download/"):
                name = path.rsplit("/", 1)[-1]
                for entries in DATASETS.values():
                    for _, fname, src in entries:
                        if fname == name:
                            return self._send(h, 200, self.csv_bytes(src), "text/csv", truncate=path)
                return self._send(h, 404, b"not found")
            if path == "/police/api/crimes-street-dates":
                return self._send(h, 200, json.dumps(self.months()).encode(), truncate=path)
            if path in (
                "/police/api/crimes-street/all-crime",
                "/police/api/outcomes-at-location",
                "/police/api/stops-street",
            ):
                return self._area(h, path, p)
        except Exception as exc:
            return self._send(h, 500, repr(exc).encode())
        return self._send(h, 404, b"not found")

    def _send(
        self,
        h,
        code: int,
        body: bytes,
        ctype: str = "application/json",
        extra: dict | None = None,
        truncate: str = "",
    ) -> None:
        cut = any(k in truncate for k in self.faults.truncate) if truncate else False
        h.send_response(code)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            h.send_header(k, v)
        if cut:
            h.send_header("Connection", "close")
        h.end_headers()
        h.wfile.write(body[: len(body) // 2] if cut else body)
        if cut:
            h.wfile.flush()
            h.close_connection = True

    def _package(self, h, dataset_id: str) -> None:
        if dataset_id not in DATASETS:
            return self._send(
                h, 404, json.dumps({"success": False, "error": {"message": "Not found"}}).encode()
            )
        # revealing the newest month is a refresh: the datastore gives the file a new modification time
        modified = "2026-10-20T09:00:00" if self.faults.hide_newest else "2026-11-20T09:00:00"
        res = [
            {
                "id": f"{dataset_id}-{i}",
                "title": title,
                "format": "csv",
                "url": f"{self.url}/datastore/download/{fname}",
                "last_modified": modified,
            }
            for i, (title, fname, _) in enumerate(DATASETS[dataset_id])
        ]
        body = {"success": True, "result": {"id": dataset_id, "resources": res}}
        return self._send(h, 200, json.dumps(body).encode(), truncate=h.path)

    def _match(self, df: pd.DataFrame, poly_text: str, month: str) -> pd.DataFrame:
        pts = [tuple(map(float, p.split(","))) for p in poly_text.split(":") if p]
        polygon = shapely.Polygon([(lng, lat) for lat, lng in pts])
        if self.faults.edge_tolerance:
            polygon = polygon.buffer(self.faults.edge_tolerance)
        rows = df[(df["Month"] == month) & df["lon"].notna() & df["lat"].notna()]
        inside = shapely.intersects_xy(polygon, rows["lon"].to_numpy(), rows["lat"].to_numpy())
        rows = rows[inside]
        if self.faults.partial_month == month:
            rows = rows.iloc[::2]
        return rows

    def _area(self, h, path: str, p: dict) -> None:
        month, poly = p.get("date", ""), p.get("poly", "")
        if not poly or not month:
            return self._send(h, 400, b'{"error": "poly and date are required"}')
        if self.faults.hide_newest and month == max(self.street_months() + self.stop_months()):
            return self._send(h, 404, b"[]")
        if path.endswith("all-crime"):
            rows = self._match(self.street, poly, month)
            out = [street_record(r) for r in rows.to_dict("records")]
        elif path.endswith("outcomes-at-location"):
            rows = self._match(self.outcomes, poly, month)
            out = [outcome_record(r) for r in rows.to_dict("records")]
        else:
            rows = self._match(self.stops, poly, month)
            out = [stop_record(r) for r in rows.to_dict("records")]
        if len(out) > self.faults.limit:
            return self._send(h, 503, b"")
        return self._send(h, 200, json.dumps(out).encode(), truncate=path)


def _location(r: dict, street_name: str) -> dict:
    return {
        "latitude": f"{r['lat']:.6f}",
        "street": {"id": 0, "name": street_name},
        "longitude": f"{r['lon']:.6f}",
    }


def street_record(r: dict) -> dict:
    outcome = r["Last outcome category"]
    return {
        "category": SLUG.get(r["Crime type"], r["Crime type"]),
        "location_type": "Force",
        "location": _location(r, r["Location"]),
        "context": r["Context"],
        "outcome_status": {"category": outcome, "date": r["Month"]} if outcome else None,
        "persistent_id": r["Crime ID"],
        "id": int(r["api_id"]),
        "location_subtype": "",
        "month": r["Month"],
    }


def outcome_record(r: dict) -> dict:
    name = r["Outcome type"]
    return {
        "category": {"code": name.lower().replace(" ", "-"), "name": name},
        "date": r["Month"],
        "person_id": None,
        "crime": {
            "category": "burglary",
            "location_type": "Force",
            "location": _location(r, r["Location"]),
            "context": "",
            "persistent_id": r["Crime ID"],
            "id": int(r["api_id"]),
            "location_subtype": "",
            "month": r["Month"],
        },
    }


def _tf(v: str):
    return {"True": True, "False": False, "true": True, "false": False}.get(v)


def stop_record(r: dict) -> dict:
    return {
        "age_range": r["Age range"] or None,
        "outcome": r["Outcome"] or None,
        "involved_person": True,
        "self_defined_ethnicity": r["Self-defined ethnicity"] or None,
        "gender": r["Gender"] or None,
        "legislation": r["Legislation"] or None,
        "outcome_linked_to_object_of_search": _tf(r["Outcome linked to object of search"]),
        "datetime": r["Date"],
        "removal_of_more_than_outer_clothing": _tf(r["Removal of more than just outer clothing"]),
        "outcome_object": {"id": "", "name": r["Outcome"]} if r["Outcome"] else None,
        "location": _location(r, ""),
        "operation": _tf(r["Part of a policing operation"]),
        "officer_defined_ethnicity": r["Officer-defined ethnicity"] or None,
        "type": r["Type"],
        "operation_name": r["Policing operation"] or None,
        "object_of_search": r["Object of search"] or None,
    }
