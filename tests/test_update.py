"""Tests of ``python -m csp_data update`` against the loopback stand-in (tests/publisher_server.py).

No test touches the internet: an autouse fixture refuses every connection that is not to a
loopback address. The warehouse under test is a private copy of data/ made "stale" from the real
embedded files, so that the stand-in, serving the embedded files, has something new for every
source: the newest borough (to Feb 2026), ward (to Mar 2026) and LSOA (to Feb 2026) snapshots,
the knife-crime dashboard snapshot (to Feb 2026) and the police.uk all-crime month (Jan 2026) are
left out, and the real rows of the newest month are removed from the business crime (Jul 2025),
outcomes (Feb 2025) and stop-and-search (Aug 2024) files. Fault tests assert the
data folder is byte-identical afterwards (nothing lost, nothing half-written) and the report right.
"""

from __future__ import annotations

import gzip
import hashlib
import ipaddress
import json
import shutil
import socket
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from publisher_server import PublisherServer
from shapely.geometry import Polygon

from csp_data import __main__ as cli
from csp_data.config import REPO_ROOT, settings
from csp_data.warehouse import build, catalogue, db, update

SOURCES = REPO_ROOT / "data" / "sources"
LEFT_OUT = (
    "mps/mps_borough_crime_2024-03_2026-02.parquet",
    "mps/mps_ward_crime_2024-03_2026-03.parquet",
    "mps/mps_lsoa_crime_2024-02_2026-02.parquet",
    "mps/mps_monthly_crime_dashboard_knife_2022-03_2026-02.parquet",
    "police_uk/th_street_all_crime_2026-01.csv.gz",
)
STOPS = "police_uk/met_stop_and_search_2015-04_2024-08.parquet"
OUTCOMES = "police_uk/th_outcomes_burglary_subset_2012-01_2025-02.csv.gz"
BUSINESS = "mps/mps_business_crime_offences.parquet"
NEW = {  # source -> the months the stand-in has that the stale copy lacks
    "mps_borough": [
        f"{y}-{m:02d}"
        for y in (2024, 2025, 2026)
        for m in range(1, 13)
        if "2024-03" <= f"{y}-{m:02d}" <= "2026-02"
    ],
    "mps_ward": ["2026-03"],
    "mps_lsoa": [
        f"{y}-{m:02d}" for y in (2025, 2026) for m in range(1, 13) if "2025-08" <= f"{y}-{m:02d}" <= "2026-02"
    ],
    "mps_dashboard": [
        f"{y}-{m:02d}" for y in (2025, 2026) for m in range(1, 13) if "2025-08" <= f"{y}-{m:02d}" <= "2026-02"
    ],
    "mps_business": ["2025-07"],
    "police_uk_street": ["2026-01"],
    "police_uk_outcomes": ["2025-02"],
    "police_uk_stop_search": ["2024-08"],
}
FAST = dict(timeout=5.0, retries=2, backoff=0.0, rate=1000.0, burst=1000, sleep=lambda s: None)


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(autouse=True)
def no_internet(monkeypatch):
    """Any connection to a non-loopback address fails the test."""
    real_connect = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        try:
            ok = ipaddress.ip_address(host).is_loopback
        except ValueError:
            ok = host == "localhost"
        if not ok:
            raise AssertionError(f"a test tried to connect to {address!r}: tests never touch the internet")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    yield


def tree(root: Path) -> dict[str, str]:
    out = {}
    for p in sorted(root.rglob("*")):
        out[str(p.relative_to(root))] = "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="session")
def _stale_template(tmp_path_factory) -> Path:
    """data/ with the newest ward snapshot, all-crime month and stop-and-search month left out, built once."""
    root = tmp_path_factory.mktemp("stale_data")
    shutil.copytree(SOURCES, root / "sources")
    man_path = root / "sources" / "manifest.json"
    man = json.loads(man_path.read_text())
    man["files"] = [f for f in man["files"] if f["path"] not in LEFT_OUT]
    for rel in LEFT_OUT:
        (root / "sources" / rel).unlink()
    # the real stop-and-search rows without Aug 2024 (by the local month the build uses)
    ss = pd.read_parquet(SOURCES / STOPS)
    local = ss["Date"].dt.tz_convert("Europe/London").dt.strftime("%Y-%m")
    ss = ss[(local != "2024-08") & (ss["Date"].dt.strftime("%Y-%m") != "2024-08")]
    ss.to_parquet(root / "sources" / STOPS, index=False)
    out = pd.read_csv(SOURCES / OUTCOMES, dtype=str, keep_default_na=False)
    with gzip.open(root / "sources" / OUTCOMES, "wt", encoding="utf-8", newline="") as fh:
        out[out["Month"] != "2025-02"].to_csv(fh, index=False)
    biz = pd.read_parquet(SOURCES / BUSINESS)
    biz[biz["date"] < "2025-07-01"].to_parquet(root / "sources" / BUSINESS, index=False)
    for f in man["files"]:
        cut = {STOPS: "2024-07", OUTCOMES: "2025-01", BUSINESS: None}
        if f["path"] in cut:
            data = (root / "sources" / f["path"]).read_bytes()
            f["sha256"], f["bytes"] = hashlib.sha256(data).hexdigest(), len(data)
            if cut[f["path"]]:
                f["as_of"] = cut[f["path"]]
            f["snapshot"] = f["snapshot"] + " (test copy without its newest month)"
    man_path.write_text(json.dumps(man, indent=1))
    cfg = settings().__class__(
        data_dir=root, mode="internal", borough_name="Tower Hamlets", borough_code="E09000030"
    )
    build.build(cfg)
    return root


@pytest.fixture
def stale(tmp_path, _stale_template, monkeypatch) -> Path:
    dest = tmp_path / "data"
    shutil.copytree(_stale_template, dest)
    monkeypatch.setenv("CSP_DATA_DIR", str(dest))
    db.reset()
    yield dest
    db.reset()


@pytest.fixture
def server(monkeypatch):
    with PublisherServer() as srv:
        monkeypatch.setenv("CSP_POLICE_API", srv.police_api)
        monkeypatch.setenv("CSP_DATASTORE_API", srv.datastore_api)
        yield srv


def run(names=None, dry_run=False, **opts):
    return {
        r.name: r
        for r in update.run(settings(), names, dry_run=dry_run, opts=update.Options(**{**FAST, **opts}))
    }


def wh(data: Path, sql: str):
    con = duckdb.connect()
    try:
        return con.execute(sql.replace("WH/", str(data / "warehouse") + "/")).fetchall()
    finally:
        con.close()


def ward_max(data: Path) -> str:
    month = wh(data, "SELECT max(month) FROM 'WH/crime_monthly.parquet' WHERE level = 'ward'")[0][0]
    return f"{month:%Y-%m}"


def real_street_rows(month: str) -> int:
    df = pd.read_csv(
        SOURCES / f"police_uk/th_street_all_crime_{month}.csv.gz", dtype=str, keep_default_na=False
    )
    return len(df)


# ----------------------------------------------------------------------------- the whole run


def test_update_brings_each_new_month_and_a_second_run_changes_nothing(stale, server, capsys):
    assert ward_max(stale) == "2026-02"
    rc = cli.main(["update"])
    out = capsys.readouterr().out
    with capsys.disabled():
        print(out)  # shown with -s: the report of a whole run
    state = json.loads((stale / "update_state.json").read_text())
    assert rc == 0, out
    for name, months in NEW.items():  # a new month of every source
        assert f"{name}: checked; updated; new months: {', '.join(months)};" in out, name
    assert set(state["sources"]) == {s.name for s in catalogue.load_sources()}
    assert state["sources"]["mps_ward"]["last_update"] == state["sources"]["mps_ward"]["last_check"]
    # the warehouse holds the new months, every record once
    assert ward_max(stale) == "2026-03"
    n = wh(stale, "SELECT count(*) FROM 'WH/street_crime.parquet' WHERE month = DATE '2026-01-01'")[0][0]
    assert n == real_street_rows("2026-01") == 3396
    asb = wh(
        stale,
        "SELECT count(*) FROM 'WH/street_crime.parquet' WHERE month = DATE '2026-01-01' "
        "AND crime_type = 'Anti-social behaviour'",
    )[0][0]
    assert asb == 703  # the ASB rows of the real Jan 2026 file
    real_ss = wh(
        REPO_ROOT / "data", "SELECT count(*) FROM 'WH/stop_search.parquet' WHERE month = DATE '2024-08-01'"
    )[0][0]
    assert (
        wh(stale, "SELECT count(*) FROM 'WH/stop_search.parquet' WHERE month = DATE '2024-08-01'")[0][0]
        == real_ss
        > 0
    )
    # run again: nothing new, nothing changed
    manifest_before = (stale / "sources" / "manifest.json").read_bytes()
    server.reset_log()
    rc2 = cli.main(["update"])
    out2 = capsys.readouterr().out
    for name in NEW:
        assert f"{name}: checked; no change; new months: none; revised months: none" in out2
    # same address and modification time as the file landed: not downloaded again
    assert not [p for _, p in server.log if p.startswith("/datastore/download/")]
    assert (stale / "sources" / "manifest.json").read_bytes() == manifest_before
    assert rc2 == 0


def test_one_police_month_requests_and_post_for_long_polygons(stale, server):
    """One police.uk month of the borough: the availability list, then one query per ward polygon
    (20 wards), long polygons by POST. The count is reported for the closing note."""
    server.reset_log()
    res = run(["police_uk_street"])["police_uk_street"]
    assert res.status == "updated" and res.new_months == ["2026-01"]
    area = [m for m, p in server.log if p.endswith("all-crime")]
    wards = wh(stale, "SELECT count(*) FROM 'WH/wards.parquet'")[0][0]
    assert wards == 20
    # the list, then 20 ward queries for Jan 2026 and 20 for Aug 2024 (listed for its stop-and-search
    # month; the stand-in holds no street rows for it, so it is skipped and tried again next run)
    assert len(area) == 2 * wards and res.requests == 1 + 2 * wards
    assert "POST" in area and "GET" in area
    print(f"\npolice.uk one month: {res.requests} requests, {res.seconds:.1f} s (incl. ingest and rebuild)")


def test_hidden_month_then_revealed(stale, server):
    server.faults.hide_newest = True
    res = run(["police_uk_street"])["police_uk_street"]
    assert res.status == "no change" and res.new_months == []
    server.faults.hide_newest = False
    res = run(["police_uk_street"])["police_uk_street"]
    assert res.status == "updated" and res.new_months == ["2026-01"]


def test_hidden_datastore_month_then_revealed(stale, server):
    """The ward file served first without its newest column (to Feb 2026), then refreshed with it."""
    server.faults.hide_newest = True
    first = run(["mps_ward"])["mps_ward"]
    assert not first.failed, first.why
    assert "2026-03" not in first.new_months and ward_max(stale) == "2026-02"
    server.faults.hide_newest = False
    second = run(["mps_ward"])["mps_ward"]
    assert second.status == "updated" and second.new_months == ["2026-03"]
    assert ward_max(stale) == "2026-03"


def test_over_limit_splits_and_edge_points_count_once(stale, server):
    """503 over the limit: the client halves the polygon until each query fits. With an edge
    tolerance the stand-in returns points near a ward edge for both wards: still each crime once."""
    server.faults.limit = 150
    server.faults.edge_tolerance = 0.0005
    res = run(["police_uk_street"])["police_uk_street"]
    assert res.status == "updated", res.why
    area = [p for _, p in server.log if p.endswith("all-crime")]
    assert len(area) > 40  # some wards had to be split
    assert (
        wh(stale, "SELECT count(*) FROM 'WH/street_crime.parquet' WHERE month = DATE '2026-01-01'")[0][0]
        == 3396
    )


# ----------------------------------------------------------------------------- faults: nothing changes


@pytest.mark.parametrize(
    "fault, source, why",
    [
        (dict(truncate={"/datastore/download/"}), "mps_ward", "cut short"),
        (
            dict(rename_column={"WardCode": "Ward Code"}),
            "mps_ward",
            "changed the columns: missing WardCode; new: Ward Code",
        ),
        (dict(partial_month="2026-03"), "mps_ward", "month 2026-03 looks only partly published"),
        (dict(partial_month="2026-01"), "police_uk_street", "month 2026-01 looks only partly published"),
        (dict(too_many_first=10**6), "police_uk_street", "HTTP 429"),
        (dict(truncate={"all-crime"}), "police_uk_street", "cut short"),
        (dict(limit=0), "police_uk_street", "still over the 10,000-record limit"),
        # a file ingest refuses (a month in the future): the source fails with ingest's reason
        (dict(rename_column={"202603": "209912"}), "mps_ward", "ingest did not land the file: "),
    ],
)
def test_fault_leaves_data_as_it_was(stale, server, fault, source, why):
    before = tree(stale)
    for k, v in fault.items():
        setattr(server.faults, k, v)
    res = run([source])[source]
    assert res.failed and why in res.why, res.why
    state = json.loads((stale / "update_state.json").read_text())["sources"][source]
    assert state["last_result"].startswith("failed:") and "last_update" not in state
    after = tree(stale)
    after.pop("update_state.json")
    assert after == before


def test_timeout_fails_the_source_only(stale, server):
    server.faults.delay = {"/datastore/": 3.0}
    before = tree(stale)
    res = run(["mps_ward"], timeout=0.3, retries=1)["mps_ward"]
    assert res.failed and "no answer within 0.3 s" in res.why
    after = tree(stale)
    after.pop("update_state.json")
    assert after == before


def test_429_backs_off_and_retries(stale, server):
    server.faults.too_many_first = 2
    res = run(["police_uk_street"], dry_run=True)["police_uk_street"]
    assert res.status == "would update" and res.why == "2024-08, 2026-01"
    assert len(server.log) == 3  # two 429s, then the availability list


def test_a_failing_source_does_not_stop_the_others(stale, server, capsys):
    server.faults.truncate = {"/datastore/download/"}
    rc = cli.main(["update", "--source", "mps_ward", "--source", "police_uk_street"])
    out, err = capsys.readouterr()
    assert rc == 1
    assert "mps_ward: FAILED: " in out and "cut short" in out
    assert "police_uk_street: checked; updated; new months: 2026-01" in out
    assert "1 of 2 source(s) failed: mps_ward" in err
    assert ward_max(stale) == "2026-02"


def test_dry_run_changes_nothing(stale, server, capsys):
    before = tree(stale)
    rc = cli.main(["update", "--dry-run"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "mps_ward: checked; would fetch 'MPS Ward Level Crime (most recent 24 months)'" in out
    assert "police_uk_street: checked; would fetch 2024-08, 2026-01" in out
    assert tree(stale) == before
    assert not any(p.endswith(".csv") for _, p in server.log)  # no data downloaded


def test_unknown_source_and_bad_address_exit_2(stale, server, monkeypatch, capsys):
    assert cli.main(["update", "--source", "nope"]) == 2
    assert "unknown source nope" in capsys.readouterr().err
    monkeypatch.setenv("CSP_POLICE_API", "file:///etc/passwd")
    assert cli.main(["update", "--source", "police_uk_street"]) == 2


def test_no_internet_guard_works():
    with pytest.raises(AssertionError, match="never touch the internet"):
        socket.create_connection(("192.0.2.1", 80), timeout=1)


# ----------------------------------------------------------------------------- units


def test_rate_limiter_allows_a_burst_of_30_then_15_a_second():
    now = [0.0]
    slept = []

    def sleep(s):
        slept.append(s)
        now[0] += s

    lim = update.RateLimiter(15, 30, clock=lambda: now[0], sleep=sleep)
    for _ in range(30):
        lim.acquire()
    assert slept == []
    for _ in range(15):
        lim.acquire()
    assert sum(slept) == pytest.approx(1.0)


def test_pick_resource_by_title_skips_historical_and_takes_newest():
    src = next(s for s in catalogue.load_sources() if s.name == "mps_borough")
    res = [
        {
            "title": "MPS Borough Level Crime (Historical)",
            "url": "h.csv",
            "format": "csv",
            "last_modified": "2026-12-01",
        },
        {
            "title": "MPS Borough Level Crime (most recent 24 months)",
            "url": "a.csv",
            "format": "csv",
            "last_modified": "2026-10-01",
        },
        {
            "title": "MPS Borough Level Crime (most recent 24 months)",
            "url": "b.csv",
            "format": "csv",
            "last_modified": "2026-11-01",
        },
        {"title": "MPS Borough Level Crime guide", "url": "g.pdf", "format": "pdf"},
    ]
    assert update.pick_resource(res, src)["url"] == "b.csv"
    with pytest.raises(update.UpdateError, match="no CSV resource titled like"):
        update.pick_resource(res[3:], src)


def test_dedupe_keeps_each_record_once_but_genuine_repeats():
    a = {"id": 1, "category": "burglary"}
    b = {"id": 2, "category": "drugs"}
    assert len(update.dedupe("street", [[a, b], [b]])) == 2
    s = {"datetime": "2024-08-01T10:00:00+00:00", "type": "Person search"}
    t = {"datetime": "2024-08-02T10:00:00+00:00", "type": "Person search"}
    # s twice in one ward's answer (two people searched together), once more from the neighbour's
    assert update.dedupe("stop_search", [[s, s, t], [s]]).count(s) == 2


def test_split_polygon_and_poly_param():
    sq = Polygon([(0, 51), (0.2, 51), (0.2, 51.1), (0, 51.1)])
    halves = update.split_polygon(sq)
    assert len(halves) == 2 and sum(h.area for h in halves) == pytest.approx(sq.area)
    assert update.poly_param(sq).split(":")[0] == "51.000000,0.000000"
    assert len(update.poly_param(sq).split(":")) == 4


# ----------------------------------------------------------------------------- the pages follow


def _page_text(script: str | None) -> tuple[list[str], str]:
    """Titles and every text element of a page, rendered by AppTest from the current data folder."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_data.clear()
    st.cache_resource.clear()
    db.reset()
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=180)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    if script:
        at.switch_page(script).run()
        assert not at.exception, [e.value for e in at.exception]
    parts = [
        e.value
        for kind in ("title", "header", "subheader", "markdown", "caption", "metric")
        for e in getattr(at.main, kind)
    ]
    return [t.value for t in at.main.title], "\n".join(str(p) for p in parts).replace("\\", "")


def test_pages_show_the_new_months_after_update(stale, server):
    """After one update the wall screen opens on the new ward month and the Overview's scorecard
    covers the new borough months: the pages read the warehouse update rebuilt."""
    titles, _ = _page_text("pages/operations/ttcg.py")
    assert titles == ["TTCG · February 2026"]
    _, overview = _page_text(None)
    assert "Mar 2025 to Feb 2026" not in overview
    assert not [r.line() for r in run().values() if r.failed]
    titles, _ = _page_text("pages/operations/ttcg.py")
    assert titles == ["TTCG · March 2026"]
    _, overview = _page_text(None)
    assert "Mar 2025 to Feb 2026" in overview
