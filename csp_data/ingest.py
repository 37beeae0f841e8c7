"""Ingest new raw files: validate -> land -> add a manifest entry -> rebuild -> report the diff.

The warehouse is a pure function of the files listed in ``data/sources/manifest.json``, so an
ingest never edits warehouse tables itself. It copies the offered file byte for byte into
``data/sources/landed/<YYYY-MM-DD>/<sha256[:12]>-<safe name>``, adds a manifest entry, rebuilds
and reports what changed, month by month. Accepted inputs:

* a police.uk street-level CSV (plain or ``.csv.gz``), any force: rows whose ``LSOA name``
  starts with the configured borough are kept, the rest counted as outside the borough;
* a police.uk archive zip (``YYYY-MM/YYYY-MM-<force>-street.csv`` members, optionally
  ``-stop-and-search.csv`` and ``-outcomes.csv``): the zip is landed for its street members and
  each stop-and-search member is landed as its own (byte-identical) CSV; outcomes are ignored;
* a police.uk stop-and-search CSV (recognised by its header): placed in the borough spatially;
* an MPS "most recent 24 months" ward or LSOA CSV (London Datastore headers).

Rules (see tests/test_ingest.py):

* ``as_of`` is the newest month in the file (YYYY-MM): the newest ``Month`` of a street file,
  the newest local month of a stop-and-search file, the last month column of an MPS file, the
  newest of all members of a zip (every entry landed from one zip shares the zip's ``as_of``).
* Already ingested: the same bytes, the same CSV content compressed differently (plain vs
  ``.gz``), or a zip whose sha256 is recorded on the entries landed from it, is in the
  manifest -> "already ingested", exit 0, nothing written. Different bytes with the same
  ``as_of`` are a new snapshot: landed later, they win (precedence breaks ties on landed_at).
* Newer snapshot: if any partition the file covers (street: month x crime type; others: month)
  is held in the warehouse by an entry whose precedence is higher than the new entry's (in
  practice: a later ``as_of``), the file is refused unless ``force``. With ``force`` it is landed
  with its true ``as_of``; the newer snapshot keeps winning those partitions (it is reported).
* The offered file is first copied (hashing as it goes) into a private work folder under
  ``sources/``, and that copy is what is validated and then moved into ``landed/``.
* Refusals (empty, binary, unknown columns, a stop-and-search file named as street data, nothing
  in the borough, every row quarantined, newer snapshot) happen before anything is written.
  A failure after landing (the build) undoes the landing, so a failed ingest leaves nothing.
* police.uk bad rows are quarantined row by row (also written to ``quarantine/<landed stem>.csv``);
  MPS files have no row-level quarantine in the build, so a bad MPS value refuses the file.
* police.uk rows are never deduplicated (ASB rows have no Crime ID; repeats are as published).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import os
import re
import shutil
import sys
import tempfile
import zipfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd

from . import build, geo, manifest
from .config import Settings, settings as get_settings
from .sources import SourceError, mps, police_uk

LANDED = "landed"
SNIFF_BYTES = 1 << 16
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")

DEFAULT_PROVENANCE = {
    "policeuk_street": ("data.police.uk (Home Office)", "Open Government Licence v3.0"),
    "policeuk_stop_search": ("data.police.uk (Home Office)", "Open Government Licence v3.0"),
    "mps_wide_ward": ("Metropolitan Police Service via the London Datastore", "Open Government Licence v2.0"),
    "mps_wide_lsoa": ("Metropolitan Police Service via the London Datastore", "Open Government Licence v2.0"),
}

# dataset -> (label for the report, manifest kind)
DATASETS = {
    "street": ("street crime, rows a month in {b}", "policeuk_street"),
    "stop_search": ("stop and search, records a month located in {b}", "policeuk_stop_search"),
    "ward": ("MPS recorded crime, ward level, {b} offences a month", "mps_wide_ward"),
    "lsoa": ("MPS recorded crime, LSOA level, {b} offences a month", "mps_wide_lsoa"),
}

KIND_LABEL = {
    "policeuk_street": "police.uk street-level crime",
    "policeuk_stop_search": "police.uk stop and search",
    "mps_wide_ward": "MPS recorded crime, ward, most recent 24 months",
    "mps_wide_lsoa": "MPS recorded crime, LSOA, most recent 24 months",
}


class IngestError(ValueError):
    """The file was refused, or the ingest failed and was undone. Nothing was changed."""


@dataclass
class DatasetChange:
    dataset: str
    label: str
    added: list[tuple[str, int]] = field(default_factory=list)  # (month, total)
    revised: list[tuple[str, int, int]] = field(default_factory=list)  # (month, before, after)
    missing: list[str] = field(default_factory=list)  # months with no data inside the dataset's span
    kept_newer: list[str] = field(default_factory=list)  # partitions still won by a newer snapshot (force)


@dataclass
class IngestReport:
    path: str
    status: str  # "ingested" or "already ingested"
    kind: str = ""
    as_of: str = ""
    entries: list[manifest.Entry] = field(default_factory=list)
    read: int = 0
    landed: int = 0
    quarantined: int = 0
    outside: int = 0
    superseded: int = 0  # landed rows whose partitions a newer snapshot keeps (only with force)
    changes: dict[str, DatasetChange] = field(default_factory=dict)
    quarantine_files: list[Path] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        s = f"read {self.read}, landed {self.landed}, quarantined {self.quarantined}"
        if self.outside:
            s += f", outside borough {self.outside}"
        return s


@dataclass
class _Part:
    """One manifest entry to be added (a zip can give several)."""
    kind: str
    dataset: str
    file: Path  # the validated copy in the work folder
    name: str  # safe file name (without the sha prefix)
    sha256: str
    size: int
    read: int
    landed: int
    quarantined: int
    outside: int
    months: list[str]  # months of the kept rows
    partitions: pd.DataFrame  # month, part, n: what the build's precedence is decided on
    quarantine: pd.DataFrame
    as_of: str = ""
    snapshot_detail: str = ""
    extra: dict = field(default_factory=dict)
    no_location: int = 0


# ----------------------------------------------------------------------------- file names

def safe_name(name: str) -> str:
    """The user's file name reduced to [A-Za-z0-9._-]: no folders, no leading dots, no '..'."""
    base = str(name).replace("\\", "/").rsplit("/", 1)[-1]
    base = re.sub(r"[^A-Za-z0-9._-]", "_", base)
    base = re.sub(r"\.{2,}", ".", base)
    base = base.lstrip(".-_")
    return base[:120] or "upload"


def _with_suffix(name: str, fmt: str) -> str:
    """Give the name the suffix its content needs (the build picks the reader by suffix)."""
    stem = name
    for suffix in (".csv.gz", ".gz", ".csv", ".zip"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    stem = stem.rstrip(".") or "upload"
    return stem + {"text": ".csv", "gzip": ".csv.gz", "zip": ".zip"}[fmt]


def _stem(name: str) -> str:
    for suffix in (".csv.gz", ".csv", ".zip"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def landed_relpath(sha256: str, name: str, day: str) -> str:
    """``landed/<day>/<sha12>-<name>``; refuses anything that would leave that folder."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day) or not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise IngestError("internal: bad landing date or checksum")
    name = safe_name(name)
    rel = f"{LANDED}/{day}/{sha256[:12]}-{name}"
    parts = Path(rel).parts
    if len(parts) != 3 or any(p in ("", ".", "..") for p in parts):
        raise IngestError(f"refusing an unsafe file name: {name!r}")
    return rel


# ----------------------------------------------------------------------------- helpers

def _fmt(n: int) -> str:
    return f"{n:,d}"


def _month_label(ym: str) -> str:
    return datetime.strptime(ym, "%Y-%m").strftime("%b %Y")


def _ym(values) -> list[str]:
    return [str(v)[:7] for v in values]


def _copy_hashing(src: Path, dest: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(src, "rb") as fin, open(dest, "wb") as fout:
        for chunk in iter(lambda: fin.read(1 << 20), b""):
            h.update(chunk)
            fout.write(chunk)
            size += len(chunk)
        fout.flush()
        os.fsync(fout.fileno())
    return h.hexdigest(), size


def _gzip_content_sha(path: Path) -> str:
    h = hashlib.sha256()
    with gzip.open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _check_text(head: bytes, what: str) -> None:
    if head.startswith(PNG_MAGIC):
        raise IngestError(f"{what} is a PNG image, not a CSV file")
    if b"\x00" in head:
        raise IngestError(f"{what} is a binary file (it contains NUL bytes), not a CSV file")
    try:
        import codecs
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError as exc:
        raise IngestError(f"{what} is not UTF-8 text (binary file?): byte {exc.start}") from exc


def _header(head: bytes) -> list[str]:
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    first = text.splitlines()[0] if text.strip() else ""
    return [c.strip() for c in next(csv.reader([first]), [])]


def _has_data_row(head: bytes) -> bool:
    lines = [ln for ln in head.decode("utf-8", errors="replace").splitlines() if ln.strip()]
    return len(lines) > 1


def _sniff(path: Path, what: str) -> tuple[str, bytes]:
    """(format, first bytes of the content) where format is text, gzip or zip."""
    with open(path, "rb") as fh:
        head = fh.read(SNIFF_BYTES)
    if not head:
        raise IngestError(f"{what} is empty (0 bytes)")
    if head.startswith(ZIP_MAGICS):
        return "zip", head
    if head.startswith(GZIP_MAGIC):
        try:
            with gzip.open(path, "rb") as fh:
                inner = fh.read(SNIFF_BYTES)
        except (OSError, EOFError, zlib.error) as exc:
            raise IngestError(f"{what} looks like gzip but cannot be decompressed: {exc}") from exc
        if not inner.strip():
            raise IngestError(f"{what} is empty (a gzip file with no content)")
        _check_text(inner, what)
        return "gzip", inner
    if not head.strip():
        raise IngestError(f"{what} is empty (only blank space)")
    _check_text(head, what)
    return "text", head


_SS_NAME = re.compile(r"stop[-_ ]?(and[-_ ]?)?search", re.I)


def _classify(header: list[str], name: str, what: str) -> str:
    """Which dataset a CSV header belongs to: street, stop_search, ward or lsoa."""
    kind = police_uk.sniff_kind(header)
    says_street = "street" in name.lower()
    says_ss = bool(_SS_NAME.search(name))
    if kind == "stop_search":
        if says_street:
            raise IngestError(
                f"{what} is a stop-and-search file (its header is the police.uk stop-and-search header: "
                f"{', '.join(header[:4])}, ...), but its name says street-level crime. Rename it or offer the street file")
        return "stop_search"
    if kind == "street":
        if says_ss:
            raise IngestError(f"{what} is a street-level crime file, but its name says stop and search")
        return "street"
    if kind == "outcomes":
        raise IngestError(f"{what} is a police.uk outcomes file; ingest takes street-level crime and stop-and-search "
                          "files (outcomes inside an archive zip are skipped)")
    try:
        level = mps.detect_level(header)
    except SourceError:
        level = None
    if level in ("ward", "lsoa"):
        return level
    if level == "borough":
        raise IngestError(f"{what} is an MPS borough-level file; ingest takes the ward and LSOA files")
    shown = ", ".join(header[:8]) + (", ..." if len(header) > 8 else "")
    raise IngestError(
        f"{what} has unrecognised columns ({shown or 'no header'}). Expected a police.uk street-level CSV "
        f"({', '.join(police_uk.STREET_COLUMNS)}), a police.uk stop-and-search CSV ({', '.join(police_uk.STOP_SEARCH_COLUMNS[:4])}, ...), "
        "an MPS ward file (MajorText, MinorText, WardName, WardCode, LookUp_BoroughName, YYYYMM...) "
        "or an MPS LSOA file (LSOA Code, LSOA Name, Borough, Major Category, Minor Category, YYYYMM...)")


@contextmanager
def _lock(cfg: Settings):
    """One ingest at a time per data folder (an flock on the sources folder; no lock file)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    fd = os.open(cfg.sources_dir, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise IngestError("another ingest is running on this data folder; try again when it has finished") from exc
        yield
    finally:
        os.close(fd)


# ----------------------------------------------------------------------------- readers / validation

def _lsoa_polygons(cfg: Settings, entries: list[manifest.Entry]):
    polys = sorted((e for e in entries if e.kind == "boundary_lsoa21"), key=lambda e: e.precedence)
    if not polys:
        raise IngestError("the manifest lists no boundary_lsoa21 file: stop-and-search records cannot be placed")
    return geo.read_boundaries(cfg.sources_dir / polys[-1].path, "lsoa21_code", "lsoa21_name")


def _quarantine_frame(q: pd.DataFrame) -> pd.DataFrame:
    cols = ["source_row", "reason"] + [c for c in q.columns if c not in ("source_row", "reason")]
    return q[cols].reset_index(drop=True)


def _street_part(cfg: Settings, file: Path, name: str, sha: str, size: int, what: str) -> _Part:
    try:
        tidy, q, read, outside = build.read_street_source(cfg, file)
    except (SourceError, KeyError, ValueError) as exc:
        raise IngestError(f"{what}: cannot read as police.uk street-level CSV: {exc}") from exc
    if read == 0:
        raise IngestError(f"{what} has a header but no data rows")
    months = _ym(tidy["month"])
    parts = (pd.DataFrame({"month": months, "part": tidy["crime_type"].astype(str).to_numpy()})
             .groupby(["month", "part"], as_index=False).size().rename(columns={"size": "n"}))
    return _Part(kind="policeuk_street", dataset="street", file=file, name=name, sha256=sha, size=size,
                 read=read, landed=len(tidy), quarantined=len(q), outside=outside, months=sorted(set(months)),
                 partitions=parts, quarantine=_quarantine_frame(q))


def _street_as_of(cfg: Settings, file: Path) -> str | None:
    """Newest well-formed Month anywhere in the street file (zip: all street members)."""
    if file.name.lower().endswith(".zip"):
        raws = [police_uk.read_zip_member(file, m) for m in police_uk.zip_members(file, "street")]
    else:
        raws = [police_uk.read_csv_text(file)]
    months = [m for raw in raws for m in raw["Month"].astype(str).str.strip() if police_uk.MONTH_RE.match(m)]
    return max(months) if months else None


def _stop_search_part(cfg: Settings, entries, file: Path, name: str, sha: str, size: int, what: str) -> _Part:
    try:
        raw = police_uk.read_csv_text(file)
        tidy, q = police_uk.validate_stop_search(raw)
    except (KeyError, ValueError) as exc:
        raise IngestError(f"{what}: cannot read as a police.uk stop-and-search CSV: {exc}") from exc
    if len(raw) == 0:
        raise IngestError(f"{what} has a header but no data rows")
    _, status = geo.assign_codes(tidy["longitude"], tidy["latitude"], _lsoa_polygons(cfg, entries))
    inside = (status == "inside").to_numpy()
    # The build keeps, per month, the newest snapshot's rows and only then drops those outside the
    # borough: the partitions are the months of every valid row.
    all_months = _ym(tidy["month"])
    kept_months = [m for m, i in zip(all_months, inside) if i]
    parts = (pd.DataFrame({"month": all_months, "part": ""}).groupby(["month", "part"], as_index=False).size()
             .rename(columns={"size": "n"}))
    inside_n = pd.Series(kept_months, dtype=str).value_counts()
    parts["n"] = parts["month"].map(inside_n).fillna(0).astype("int64")
    return _Part(kind="policeuk_stop_search", dataset="stop_search", file=file, name=name, sha256=sha, size=size,
                 read=len(raw), landed=int(inside.sum()), quarantined=len(q), outside=int((~inside).sum()),
                 months=sorted(set(kept_months)), partitions=parts, quarantine=_quarantine_frame(q),
                 as_of=max(all_months) if all_months else "", no_location=int((status == "no_location").sum()))


def _mps_part(cfg: Settings, entries, file: Path, name: str, sha: str, size: int, level: str, what: str) -> _Part:
    try:
        frame = build._read_table(file)
        long, info = mps.read_wide(frame, level=level)
    except (SourceError, KeyError, ValueError) as exc:
        raise IngestError(f"{what}: not a valid MPS {level} file: {exc}") from exc
    if len(frame) == 0:
        raise IngestError(f"{what} has a header but no data rows")
    norm = frame.rename(columns={c: mps.normalise_header(c) for c in frame.columns})
    if level == "ward":
        mine = norm["lookup_boroughname"].astype(str) == cfg.borough_name  # exactly as the build filters
        ours = long[long["borough_name"] == cfg.borough_name]
        names = sorted((e for e in entries if e.kind == "lookup_ward_names"), key=lambda e: e.precedence)
        known = set(build._read_table(cfg.sources_dir / names[-1].path)["ward_code"]) if names else set()
        unknown = sorted(set(ours["area_code"]) - known)
        if unknown:
            raise IngestError(f"{what}: {len(unknown)} {cfg.borough_name} ward codes are not in the ward lookup "
                              f"(e.g. {', '.join(unknown[:3])}); the file's wards do not match this dashboard's")
    else:
        mine = norm["borough"].astype(str) == cfg.borough_code
        ours = long[long["borough_code"] == cfg.borough_code]
        bad = sorted(set(ours.loc[~ours["area_code"].str.match(police_uk.LSOA_RE), "area_code"]))
        if bad:
            raise IngestError(f"{what}: LSOA codes that are not ONS LSOA codes: {', '.join(bad[:3])}")
    months = [f"{m[:4]}-{m[4:]}" for m in info["months"]]
    n_by_month = ours.assign(month=_ym(ours["month"])).groupby("month")["count"].sum()
    parts = pd.DataFrame({"month": months, "part": "", "n": [int(n_by_month.get(m, 0)) for m in months]})
    landed = int(mine.sum())
    stubs = ", ".join(f"{m[:4]}-{m[4:]}" for m in info["stub_months"])
    detail = f"data to {_month_label(months[-1])}" if months else ""
    part = _Part(kind=f"mps_wide_{level}", dataset=level, file=file, name=name, sha256=sha, size=size,
                 read=len(frame), landed=landed, quarantined=0, outside=len(frame) - landed,
                 months=months if landed else [], partitions=parts if landed else parts.iloc[0:0],
                 quarantine=pd.DataFrame(), as_of=months[-1] if months else "", snapshot_detail=detail)
    part.extra = {"stub_months_dropped": stubs} if stubs else {}
    return part


def _zip_parts(cfg, entries, file: Path, name: str, sha: str, size: int, work: Path, what: str) -> tuple[list[_Part], list[str]]:
    try:
        with zipfile.ZipFile(file) as zf:
            bad = zf.testzip()
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise IngestError(f"{what} is not a readable zip archive: {exc}") from exc
    if bad is not None:
        raise IngestError(f"{what}: member {bad} is corrupt")
    street = police_uk.zip_members(file, "street")
    ss = police_uk.zip_members(file, "stop_search")
    outcomes = police_uk.zip_members(file, "outcomes")
    notes = [f"skipped {len(outcomes)} outcomes member(s)"] if outcomes else []
    if not street and not ss:
        raise IngestError(f"{what} holds no police.uk street or stop-and-search CSVs (expected members named "
                          f"YYYY-MM/YYYY-MM-<force>-street.csv); it has {len(names)} member(s)")
    with zipfile.ZipFile(file) as zf:
        for member in street + ss:
            with zf.open(member) as fh:
                head = fh.read(SNIFF_BYTES)
            mwhat = f"{what} member {member}"
            if not head.strip():
                raise IngestError(f"{mwhat} is empty")
            _check_text(head, mwhat)
            got = _classify(_header(head), member, mwhat)
            want = "street" if member in street else "stop_search"
            if got != want:
                raise IngestError(f"{mwhat} is named as {want.replace('_', ' ')} data but its header is {got.replace('_', ' ')}")
    parts: list[_Part] = []
    if street:
        p = _street_part(cfg, file, name, sha, size, what)
        p.extra = {"street_members": street}
        parts.append(p)
    known = {e.sha256 for e in entries}
    for member in ss:
        dest = work / safe_name(member.rsplit("/", 1)[-1])
        if dest.exists() or dest.name in ("incoming", name):
            dest = work / f"{len(parts)}-{dest.name}"
        with zipfile.ZipFile(file) as zf, zf.open(member) as fin, open(dest, "wb") as fout:
            shutil.copyfileobj(fin, fout)
        msha = manifest.sha256_file(dest)
        if msha in known:
            notes.append(f"skipped {member}: already ingested")
            continue
        p = _stop_search_part(cfg, entries, dest, _with_suffix(dest.name, "text"), msha, dest.stat().st_size, f"{what} member {member}")
        p.extra = {"zip_sha256": sha, "zip_name": name, "zip_member": member}
        p.snapshot_detail = f"member {member}"
        parts.append(p)
    return parts, notes


# ----------------------------------------------------------------------------- warehouse state

def _state(cfg: Settings, datasets: set[str]) -> dict[str, pd.DataFrame]:
    """Per dataset: month, part, source_file, n as the warehouse holds them now.

    Read from the warehouse when it is up to date with the manifest, else computed in memory
    (``build.build_tables``; nothing is written) so the comparison is with what the manifest says.
    """
    stale, _ = build.is_stale(cfg)
    need = {"street": "street_crime", "stop_search": "stop_search", "ward": "crime_monthly", "lsoa": "crime_monthly"}
    if stale:
        tables = build.build_tables(cfg)
    else:
        tables = {}
        for d in datasets:
            t = need[d]
            if t not in tables:
                tables[t] = pd.read_parquet(cfg.warehouse_dir / f"{t}.parquet")
    out = {}
    for d in datasets:
        df = tables[need[d]]
        if d == "street":
            s = pd.DataFrame({"month": _ym(df["month"]), "part": df["crime_type"].astype(str).to_numpy(),
                              "source_file": df["source_file"].astype(str).to_numpy(), "n": 1})
        elif d == "stop_search":
            s = pd.DataFrame({"month": _ym(df["month"]), "part": "", "source_file": df["source_file"].astype(str).to_numpy(), "n": 1})
        else:
            df = df[df["level"] == d]
            s = pd.DataFrame({"month": _ym(df["month"]), "part": "", "source_file": df["source_file"].astype(str).to_numpy(),
                              "n": df["count"].astype("int64").to_numpy()})
        out[d] = s.groupby(["month", "part", "source_file"], as_index=False)["n"].sum()
    return out


def _monthly(state: pd.DataFrame) -> dict[str, int]:
    return {m: int(n) for m, n in state.groupby("month")["n"].sum().items()}


def _month_range(first: str, last: str) -> list[str]:
    return [str(p) for p in pd.period_range(first, last, freq="M")]


def _runs(months: list[str]) -> list[str]:
    """Consecutive months as 'a to b (n months)' runs."""
    out, run = [], []
    for m in sorted(months):
        if run and str(pd.Period(run[-1], "M") + 1) != m:
            out.append(run)
            run = []
        run.append(m)
    if run:
        out.append(run)
    return [r[0] if len(r) == 1 else f"{r[0]} to {r[-1]} ({len(r)} months)" for r in out]


def _conflicts(part: _Part, entry: manifest.Entry, state: pd.DataFrame, by_path: dict[str, manifest.Entry]) -> pd.DataFrame:
    """Partitions of ``part`` that the warehouse holds from an entry that outranks ``entry``."""
    if part.partitions.empty or state.empty:
        return pd.DataFrame(columns=["month", "part", "n", "source_file"])
    winners = state.drop_duplicates(["month", "part"])[["month", "part", "source_file"]]
    m = part.partitions.merge(winners, on=["month", "part"], how="inner")
    newer = m["source_file"].map(lambda p: p in by_path and by_path[p].precedence > entry.precedence)
    return m[newer.astype(bool)].reset_index(drop=True)


# ----------------------------------------------------------------------------- the ingest

def _now_utc(now: datetime | None, entries: list[manifest.Entry]) -> datetime:
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(microsecond=0)
    # Precedence breaks as_of ties on landed_at: a later landing must sort later even if the
    # clock is behind an existing entry (e.g. the embedded files' nominal time).
    latest = max((e.landed_at for e in entries), default="")
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    if latest and stamp <= latest:
        try:
            now = datetime.strptime(latest, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc) + timedelta(seconds=1)
        except ValueError:
            pass
    return now


def _already(entries: list[manifest.Entry], cfg: Settings, sha: str, content_sha: str | None) -> tuple[manifest.Entry, str] | None:
    for e in entries:
        if sha in (e.sha256, e.extra.get("zip_sha256"), e.extra.get("content_sha256")):
            return e, ""
    if content_sha is None:
        return None
    for e in entries:
        if content_sha in (e.sha256, e.extra.get("content_sha256")):
            return e, "same data, compressed differently"
    for e in entries:
        if e.path.endswith(".gz") and "content_sha256" not in e.extra and e.kind.startswith(("policeuk_", "mps_")):
            try:
                if _gzip_content_sha(cfg.sources_dir / e.path) == content_sha:
                    return e, "same data, compressed differently"
            except (OSError, EOFError, zlib.error):
                continue
    return None


def ingest_file(path: str | Path, cfg: Settings | None = None, force: bool = False,
                now: datetime | None = None) -> IngestReport:
    """Validate, land, register and build one file. Raises IngestError on refusal (nothing changed)."""
    cfg = cfg or get_settings()
    given = str(path)
    src = Path(path)
    if not src.exists():
        raise IngestError(f"no such file: {given}")
    if not src.is_file():
        raise IngestError(f"not a regular file: {given}")
    if not cfg.manifest_path.exists():
        raise IngestError(f"no manifest at {cfg.manifest_path}: is CSP_DATA_DIR right?")
    with _lock(cfg):
        work = Path(tempfile.mkdtemp(prefix=".ingest-", dir=cfg.sources_dir))
        try:
            return _ingest(given, src, cfg, force, now, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)


def _ingest(given: str, src: Path, cfg: Settings, force: bool, now: datetime | None, work: Path) -> IngestReport:
    manifest_bytes = cfg.manifest_path.read_bytes()
    entries = manifest.load(cfg.manifest_path)
    by_path = {e.path: e for e in entries}
    what = safe_name(src.name)

    # 1. copy into the work folder first and validate the copy: what is validated is what lands
    tmp = work / "incoming"
    sha, size = _copy_hashing(src, tmp)
    fmt, head = _sniff(tmp, what)
    name = _with_suffix(what, fmt)
    copy = work / name
    os.replace(tmp, copy)
    content_sha = None
    if fmt == "gzip":
        try:
            content_sha = _gzip_content_sha(copy)
        except (OSError, EOFError, zlib.error) as exc:
            raise IngestError(f"{what} looks like gzip but cannot be decompressed: {exc}") from exc
    elif fmt == "text":
        content_sha = sha
    hit = _already(entries, cfg, sha, content_sha)
    if hit:
        e, why = hit
        note = f"; {why}" if why else ""
        line = f"already ingested: {given} (landed {e.landed_at[:10]} as {e.path}{note})"
        return IngestReport(path=given, status="already ingested", kind=e.kind, as_of=e.as_of, lines=[line])

    # 2. what is it, and is it valid?
    all_parts, notes = _validate(cfg, entries, copy, fmt, head, name, what, sha, size, content_sha, work)
    if not all_parts:  # a zip of stop-and-search members that are all in the manifest already
        return IngestReport(path=given, status="already ingested", kind="policeuk_stop_search",
                            lines=[f"already ingested: {given} (every member is in the manifest)"])
    parts = [p for p in all_parts if p.landed > 0]

    # 3. the would-be manifest entries, and 4. does a newer snapshot already hold these months?
    new_entries = _entries_for(parts, entries, _now_utc(now, entries), name, sha)
    clash = {e.path for e in new_entries} & set(by_path)
    if clash:
        raise IngestError(f"a different manifest entry already uses {sorted(clash)[0]}")
    datasets = {p.dataset for p in parts}
    before = _state(cfg, datasets)
    conflicts = [_conflicts(p, e, before[p.dataset], by_path) for p, e in zip(parts, new_entries)]
    if not force:
        for e, c in zip(new_entries, conflicts):
            if len(c):
                months = sorted(set(c["month"]))
                others = sorted({f"{s} (as of {by_path[s].as_of})" for s in c["source_file"]})
                raise IngestError(
                    f"{what} (as of {e.as_of}) covers {len(months)} month(s) that the warehouse already holds from a "
                    f"newer snapshot: {', '.join(_runs(months))} from {'; '.join(others)}. Use --force to land it "
                    "anyway (the newer snapshot is still used for those months)")

    # 5. land, register, build (undone if anything fails)
    quarantine_files = _land_and_build(cfg, parts, new_entries, manifest_bytes, entries, what)

    # 6. report
    after = _state(cfg, datasets)
    return _report(cfg, given, all_parts, parts, new_entries, conflicts, by_path, before, after, notes, quarantine_files)


def _validate(cfg, entries, copy: Path, fmt: str, head: bytes, name: str, what: str, sha: str, size: int,
              content_sha: str | None, work: Path) -> tuple[list[_Part], list[str]]:
    """The parts (future manifest entries) of a file, validated; IngestError if it is refused."""
    notes: list[str] = []
    if fmt == "zip":
        parts, notes = _zip_parts(cfg, entries, copy, name, sha, size, work, what)
        if not parts:
            return [], notes
        street_as_of = _street_as_of(cfg, copy) if any(p.dataset == "street" for p in parts) else None
        as_of = max(m for m in [street_as_of] + [p.as_of for p in parts if p.dataset == "stop_search"] if m)
        for p in parts:
            p.as_of = as_of  # every entry from one archive is as new as the archive
    else:
        if not _has_data_row(head):
            raise IngestError(f"{what} has a header but no data rows")
        dataset = _classify(_header(head), what, what)
        if dataset == "street":
            p = _street_part(cfg, copy, name, sha, size, what)
            p.as_of = _street_as_of(cfg, copy) or ""
        elif dataset == "stop_search":
            p = _stop_search_part(cfg, entries, copy, name, sha, size, what)
        else:
            p = _mps_part(cfg, entries, copy, name, sha, size, dataset, what)
        if content_sha and fmt == "gzip":
            p.extra["content_sha256"] = content_sha
        parts = [p]
    if sum(p.landed for p in parts) == 0 and sum(p.quarantined for p in parts) == 0:
        raise IngestError(f"{what} has no rows in {cfg.borough_name} (read {sum(p.read for p in parts)}, all outside "
                          "the borough); check CSP_BOROUGH or the file")
    for p in parts:
        if p.landed == 0 and p.quarantined > 0:
            top = p.quarantine["reason"].value_counts()
            reasons = "; ".join(f"{r} ({n})" for r, n in top.head(3).items())
            raise IngestError(f"{what}: every {cfg.borough_name} row failed validation ({p.quarantined} rows: {reasons})")
    return parts, notes


def _entries_for(parts: list[_Part], entries: list[manifest.Entry], when: datetime, name: str, sha: str) -> list[manifest.Entry]:
    landed_at = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    day = landed_at[:10]
    out = []
    for p in parts:
        prior = sorted((e for e in entries if e.kind == p.kind), key=lambda e: e.precedence)
        publisher, licence = (prior[-1].publisher, prior[-1].licence) if prior else DEFAULT_PROVENANCE[p.kind]
        label = KIND_LABEL[p.kind]
        if p.snapshot_detail and p.kind.startswith("mps_"):
            label += f" ({p.snapshot_detail})"
        source = f"{name} ({p.snapshot_detail})" if p.extra.get("zip_member") else name
        out.append(manifest.Entry(
            path=landed_relpath(p.sha256, p.name, day), kind=p.kind, sha256=p.sha256, bytes=p.size,
            as_of=p.as_of, snapshot=f"{label}, ingested {day} from {source}", publisher=publisher,
            licence=licence, origin=f"ingested from {name} (sha256 {sha})", landed_at=landed_at,
            landed_by="ingest", notes="", extra=dict(sorted(p.extra.items())),
        ))
    return out


def _land_and_build(cfg: Settings, parts: list[_Part], new_entries: list[manifest.Entry], manifest_bytes: bytes,
                    entries: list[manifest.Entry], what: str) -> list[Path]:
    """Move the validated copies into landed/, write quarantine files, save the manifest, build.
    On any failure put the manifest back and remove every file and folder made here."""
    created_files: list[Path] = []
    created_dirs: list[Path] = []

    def mkdirs(d: Path) -> None:
        missing = []
        while not d.exists():
            missing.append(d)
            d = d.parent
        for m in reversed(missing):
            m.mkdir()
            created_dirs.append(m)

    quarantine_files = []
    try:
        for p, e in zip(parts, new_entries):
            dest = cfg.sources_dir / e.path
            if dest.resolve().parent != (cfg.sources_dir / LANDED / e.landed_at[:10]).resolve():
                raise IngestError(f"refusing to land outside {LANDED}/: {e.path}")
            mkdirs(dest.parent)
            if not dest.exists():
                created_files.append(dest)
            os.replace(p.file, dest)
            if manifest.sha256_file(dest) != e.sha256:
                raise IngestError(f"{e.path}: checksum changed while landing")
            if len(p.quarantine):
                qpath = cfg.quarantine_dir / f"{_stem(Path(e.path).name)}.csv"
                mkdirs(qpath.parent)
                if not qpath.exists():
                    created_files.append(qpath)
                manifest.atomic_write_bytes(qpath, p.quarantine.to_csv(index=False).encode("utf-8"))
                quarantine_files.append(qpath)
        manifest.save(cfg.manifest_path, entries + new_entries)
        build.build(cfg)
    except BaseException as exc:
        manifest.atomic_write_bytes(cfg.manifest_path, manifest_bytes)
        for f in created_files:
            f.unlink(missing_ok=True)
        for d in reversed(created_dirs):
            try:
                d.rmdir()
            except OSError:
                pass
        if isinstance(exc, IngestError) or not isinstance(exc, Exception):
            raise
        raise IngestError(f"{what}: the build failed ({type(exc).__name__}: {exc}); the landing was undone "
                          "and the previous warehouse is intact") from exc
    try:
        from . import db
        db.reset()  # a long-lived connection in this process must see the new files
    except Exception:  # pragma: no cover
        pass
    return quarantine_files


def _report(cfg, given, all_parts, parts, new_entries, conflicts, by_path, before, after, notes, quarantine_files) -> IngestReport:
    lines: list[str] = []
    warnings: list[str] = []
    kept_newer: dict[str, list[str]] = {p.dataset: [] for p in parts}
    superseded = 0
    for p, e, c in zip(parts, new_entries, conflicts):
        rows_based = p.dataset in ("street", "stop_search")
        sup = int(c["n"].sum()) if rows_based and len(c) else 0
        superseded += sup
        for (month, src_file), g in c.groupby(["month", "source_file"]):
            types = ""
            if p.dataset == "street":
                names = sorted(g["part"])
                types = f" ({len(names)} crime type{'s' if len(names) > 1 else ''}: {', '.join(names[:3])}{', ...' if len(names) > 3 else ''})"
            kept_newer[p.dataset].append(f"{month}{types} from {src_file} (as of {by_path[src_file].as_of})")
        if rows_based:
            # what the build took from this file (the brief: stop-and-search rows are counted after
            # the spatial placement of the build) must match what was validated here
            got = int(after[p.dataset].loc[after[p.dataset]["source_file"] == e.path, "n"].sum())
            if got + sup != p.landed:
                warnings.append(f"  WARNING: the warehouse holds {got} rows from {e.path}; ingest expected {p.landed - sup}")
                if p.dataset == "stop_search":
                    p.landed = got + sup
                    p.outside = p.read - p.quarantined - p.landed
    report = IngestReport(
        path=given, status="ingested", kind=",".join(e.kind for e in new_entries), as_of=new_entries[0].as_of,
        entries=new_entries, read=sum(p.read for p in all_parts), landed=sum(p.landed for p in all_parts),
        quarantined=sum(p.quarantined for p in all_parts), outside=sum(p.outside for p in all_parts),
        superseded=superseded, quarantine_files=quarantine_files, lines=lines)
    lines.append(f"ingested {given} as {', '.join(KIND_LABEL[e.kind] for e in new_entries)} (as of {report.as_of})")
    lines += [f"  landed sources/{e.path}" for e in new_entries]
    lines.append(report.summary)
    lines += [f"  {n}" for n in notes]
    no_location = sum(p.no_location for p in all_parts)
    if no_location:
        lines.append(f"  ({no_location} of the records outside the borough have no location)")
    lines += [f"  quarantined rows with reasons: {q.relative_to(cfg.data_dir)}" for q in quarantine_files]
    lines += warnings
    for d in sorted(kept_newer):
        label = DATASETS[d][0].format(b=cfg.borough_name)
        ch = DatasetChange(dataset=d, label=label, kept_newer=kept_newer[d])
        b, a = _monthly(before[d]), _monthly(after[d])
        ch.added = [(m, a[m]) for m in sorted(a) if m not in b]
        ch.revised = [(m, b[m], a[m]) for m in sorted(a) if m in b and a[m] != b[m]]
        ch.missing = [m for m in _month_range(min(a), max(a)) if m not in a] if a else []
        report.changes[d] = ch
        lines.append(f"{label}:")
        lines += [f"  added {m}: {_fmt(n)}" for m, n in ch.added]
        lines += [f"  revised {m}: {_fmt(x)} -> {_fmt(y)} ({y - x:+,d})" for m, x, y in ch.revised]
        if not ch.added and not ch.revised:
            lines.append("  no months added or revised")
        lines += [f"  missing {r}" for r in _runs(ch.missing)] or ["  missing: none"]
        lines += [f"  kept newer snapshot for {k}" for k in ch.kept_newer]
    return report


def main(paths: list[str], force: bool = False) -> int:
    """``python -m csp_data ingest PATH... [--force]``: 0 when every file was ingested or already
    present, 1 when any was refused or failed (those changed nothing)."""
    cfg = get_settings()
    rc = 0
    for path in paths:
        try:
            report = ingest_file(path, cfg, force=force)
        except IngestError as exc:
            print(f"refused: {path}: {exc}. Nothing was changed.", file=sys.stderr)
            rc = 1
            continue
        except manifest.ManifestError as exc:
            print(f"refused: {path}: the manifest is not usable: {exc}. Nothing was changed.", file=sys.stderr)
            rc = 1
            continue
        for line in report.lines:
            print(line)
    return rc
