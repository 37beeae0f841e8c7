"""Ingest new raw files: validate -> land -> add a manifest entry -> rebuild -> report the diff.

ENTRY POINTS (for ``csp_data update`` and any other caller):

* ``ingest_file(path, cfg=None, force=False, now=None) -> IngestReport``: one file. Raises
  ``IngestError`` when the file is refused (nothing changed; exit code 2 on the command line)
  and ``IngestFailed`` (a subclass) when the build failed and the landing was undone (exit 1).
  ``report.status`` is "ingested" or "already ingested"; ``report.changes[dataset]`` lists
  months added / revised / missing. Save an API response as ``<name>.json`` (or ``.json.gz``):
  a JSON array exactly as police.uk returned it, or the concatenation of several (one month, one
  kind per file); the kind is recognised from the records, the name does not matter. Crimes
  carry an API ``id``: one returned twice (a point on a shared ward edge) is quarantined, so it
  counts once. Stops have no id: remove repeats before saving them.
* ``ingest_many(paths, cfg=None, force=False) -> list[IngestReport | IngestError]``: one by one,
  a refusal does not stop the rest.
* ``recover(cfg) -> list[str]``: completes or rolls back an ingest that was killed, and removes
  leftover work folders; ``ingest_file`` calls it first, so callers need not.
* ``as_of`` is always ``YYYY-MM-DD`` (see ``csp_data.warehouse.manifest``).

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
* police.uk API responses saved as JSON (crimes-street, stops-street/stops-force,
  outcomes-at-location): placed in the borough spatially (they have no LSOA name);
* an MPS "most recent 24 months" borough, ward or LSOA CSV (London Datastore headers), an MPS
  Monthly Crime Dashboard CSV (any of its files, the knife-only one too) and the MPS business
  crime offences CSV (headers normalised: ``Month_Year`` = ``month_year``).

Rules (see tests/test_ingest.py, test_ingest_kinds.py, test_ingest_limits.py):

* ``as_of`` is a date, YYYY-MM-DD: the refresh date a dashboard or business file states, else
  the last day of the newest month in the file (the newest ``Month`` of a street file, the newest
  local month of a stop-and-search file, the last month column of an MPS file, the newest of all
  members of a zip: every entry landed from one zip shares the zip's ``as_of``).
* Impossible data is refused (exit 2, nothing written; limits in ``sources/limits.py``, reasons
  in data/sources/SOURCES.md): months after the current month or before the source began,
  counts that are not whole / are negative / exceed the ceiling, malformed month columns,
  categories or borough names never held (unless ``force``), files over the size or row limits
  (counted while streaming, before parsing), and months that would shrink by more than 20%
  against what is held (unless ``force``: a truncated download).
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
import json
import os
import re
import shutil
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from csp_data.config import Settings
from csp_data.config import settings as get_settings
from csp_data.warehouse import build, geo, manifest
from csp_data.warehouse.fileio import folder_lock
from csp_data.warehouse.sources import SourceError, limits, mps, police_uk

LANDED = "landed"
SNIFF_BYTES = 1 << 16
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")

JOURNAL = ".ingest-journal.json"  # in sources/: an ingest or removal in progress (see recover)
JOURNAL_MANIFEST = ".ingest-journal.manifest"  # the manifest as it was before it
_POLICE = ("data.police.uk (Home Office)", "Open Government Licence v3.0")
_MPS = ("Metropolitan Police Service via the London Datastore", "Open Government Licence v2.0")
DEFAULT_PROVENANCE = {
    "policeuk_street": _POLICE,
    "policeuk_stop_search": _POLICE,
    "policeuk_outcomes": _POLICE,
    "mps_wide_borough": _MPS,
    "mps_wide_ward": _MPS,
    "mps_wide_lsoa": _MPS,
    "mps_dashboard": _MPS,
    "mps_business_offences": _MPS,
}

# dataset -> (label for the report, manifest kind)
DATASETS = {
    "street": ("street crime, rows a month in {b}", "policeuk_street"),
    "stop_search": ("stop and search, records a month located in {b}", "policeuk_stop_search"),
    "ward": ("MPS recorded crime, ward level, {b} offences a month", "mps_wide_ward"),
    "lsoa": ("MPS recorded crime, LSOA level, {b} offences a month", "mps_wide_lsoa"),
    "borough": (
        "MPS recorded crime, borough level, offences a month in all London boroughs",
        "mps_wide_borough",
    ),
    "dashboard": ("MPS Monthly Crime Dashboard, {b} counts a month (all measures)", "mps_dashboard"),
    "business": ("MPS business crime, offences a month in all London boroughs", "mps_business_offences"),
    "outcomes": ("police.uk outcomes, records a month located in {b}", "policeuk_outcomes"),
}

KIND_LABEL = {
    "policeuk_street": "police.uk street-level crime",
    "policeuk_stop_search": "police.uk stop and search",
    "mps_wide_ward": "MPS recorded crime, ward, most recent 24 months",
    "mps_wide_lsoa": "MPS recorded crime, LSOA, most recent 24 months",
    "mps_wide_borough": "MPS recorded crime, borough, most recent 24 months",
    "mps_dashboard": "MPS Monthly Crime Dashboard",
    "mps_business_offences": "MPS business crime offences",
    "policeuk_outcomes": "police.uk outcomes (API)",
}


class IngestError(ValueError):
    """The file was refused, or the ingest failed and was undone. Nothing was changed."""


class IngestFailed(IngestError):
    """Not a refusal: the file was valid but the build failed; the landing was undone."""


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
    seen_months: list[str] = field(
        default_factory=list
    )  # every month in the file (stubs too): the date checks
    month_load: dict = field(default_factory=dict)  # month -> the largest one-area total that month (ceiling)
    categories: set = field(default_factory=set)  # (major, minor) or similar, checked against what is held
    as_of_basis: str = "newest month"
    areas: set = field(
        default_factory=set
    )  # borough names of a London-wide file, checked against what is held


# ----------------------------------------------------------------------------- file names


def safe_name(name: str) -> str:
    """The user's file name reduced to [A-Za-z0-9._-]: no folders, no leading dots, no '..'."""
    base = str(name).replace("\\", "/").rsplit("/", 1)[-1]
    base = re.sub(r"[^A-Za-z0-9._-]", "_", base)
    base = re.sub(r"\.{2,}", ".", base)
    base = base.lstrip(".-_")
    return base[:120] or "upload"


def _with_suffix(name: str, fmt: str, json: bool = False) -> str:
    """Give the name the suffix its content needs (the build picks the reader by suffix)."""
    stem = name
    for suffix in (".csv.gz", ".json.gz", ".gz", ".csv", ".json", ".zip"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    stem = stem.rstrip(".") or "upload"
    if json:
        return stem + {"text": ".json", "gzip": ".json.gz"}[fmt]
    return stem + {"text": ".csv", "gzip": ".csv.gz", "zip": ".zip"}[fmt]


def _stem(name: str) -> str:
    for suffix in (".csv.gz", ".json.gz", ".csv", ".json", ".zip"):
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


def _copy_hashing(src: Path, dest: Path, what: str = "the file") -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(src, "rb") as fin, open(dest, "wb") as fout:
        for chunk in iter(lambda: fin.read(1 << 20), b""):
            h.update(chunk)
            fout.write(chunk)
            size += len(chunk)
            if size > limits.MAX_INPUT_BYTES:
                raise IngestError(
                    f"{what} is larger than the {limits.MAX_INPUT_BYTES >> 20:,d} MB a file may be; "
                    "split it (e.g. one month per file)"
                )
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


def _is_json(head: bytes) -> bool:
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"[", b"{"))


def _count_stream(chunks, what: str, state: dict) -> None:
    """Count bytes and lines of decompressed content as it streams; refuse past the limits
    without holding more than one chunk in memory (a zip or gzip bomb stops here)."""
    for chunk in chunks:
        state["bytes"] += len(chunk)
        state["rows"] += chunk.count(b"\n")
        if state["bytes"] > state["max_bytes"]:
            raise IngestError(
                f"{what} inflates to more than {state['max_bytes'] >> 20:,d} MB (the limit per file): "
                "refused before reading it (a zip bomb, or too much at once: offer one month per file)"
            )
        if state["rows"] > limits.MAX_ROWS + 1:
            raise IngestError(
                f"{what} has more than {limits.MAX_ROWS:,d} rows (the limit per file): refused before "
                "reading it (a zip bomb, or too much at once: offer one month per file)"
            )


def _chunks(fh, size: int = 1 << 20):
    return iter(lambda: fh.read(size), b"")


def _prescan(path: Path, fmt: str, json_content: bool, what: str) -> None:
    """Size and row limits, checked by streaming before anything is parsed."""
    max_bytes = limits.MAX_JSON_BYTES if json_content else limits.MAX_CONTENT_BYTES
    state = {"bytes": 0, "rows": 0, "max_bytes": max_bytes}
    try:
        if fmt == "text":
            with open(path, "rb") as fh:
                _count_stream(_chunks(fh), what, state)
        elif fmt == "gzip":
            with gzip.open(path, "rb") as fh:
                _count_stream(_chunks(fh), what, state)
        else:
            with zipfile.ZipFile(path) as zf:
                infos = zf.infolist()
                if len(infos) > limits.MAX_ZIP_MEMBERS:
                    raise IngestError(
                        f"{what} has {len(infos):,d} members (the limit is {limits.MAX_ZIP_MEMBERS:,d}): "
                        "offer one force's files"
                    )
                wanted = set(police_uk.zip_members(path, "street")) | set(
                    police_uk.zip_members(path, "stop_search")
                )
                for info in infos:
                    if info.filename in wanted:
                        with zf.open(info) as fh:
                            _count_stream(_chunks(fh), f"{what} (member {info.filename})", state)
    except IngestError:
        raise
    except zipfile.BadZipFile as exc:
        raise IngestError(f"{what} is not a readable zip archive: {exc}") from exc
    except (OSError, EOFError, zlib.error, NotImplementedError) as exc:
        raise IngestError(f"{what} cannot be decompressed: {exc}") from exc


def _classify(header: list[str], name: str, what: str) -> str:
    """Which dataset a CSV header belongs to: street, stop_search, ward, lsoa, borough,
    dashboard or business."""
    kind = police_uk.sniff_kind(header)
    says_street = "street" in name.lower()
    says_ss = bool(_SS_NAME.search(name))
    if kind == "stop_search":
        if says_street:
            raise IngestError(
                f"{what} is a stop-and-search file (its header is the police.uk stop-and-search header: "
                f"{', '.join(header[:4])}, ...), but its name says street-level crime. Rename it or offer the street file"
            )
        return "stop_search"
    if kind == "street":
        if says_ss:
            raise IngestError(f"{what} is a street-level crime file, but its name says stop and search")
        return "street"
    if kind == "outcomes":
        raise IngestError(
            f"{what} is a police.uk outcomes file; ingest takes street-level crime and stop-and-search "
            "files (outcomes inside an archive zip are skipped)"
        )
    try:
        level = mps.detect_level(header)
    except SourceError:
        level = None
    if level in ("ward", "lsoa", "borough"):
        return level
    other = mps.sniff_other(header)
    if other:
        return other
    shown = ", ".join(header[:8]) + (", ..." if len(header) > 8 else "")
    raise IngestError(
        f"{what} has unrecognised columns ({shown or 'no header'}). Expected a police.uk street-level CSV "
        f"({', '.join(police_uk.STREET_COLUMNS)}), a police.uk stop-and-search CSV ({', '.join(police_uk.STOP_SEARCH_COLUMNS[:4])}, ...), "
        "an MPS borough file (MajorText, MinorText, BoroughName, YYYYMM...), "
        "an MPS ward file (MajorText, MinorText, WardName, WardCode, LookUp_BoroughName, YYYYMM...), "
        "an MPS LSOA file (LSOA Code, LSOA Name, Borough, Major Category, Minor Category, YYYYMM...), "
        "an MPS Monthly Crime Dashboard file (Month_Year, Area Type, Borough_SNT, Area code, Crime Type, ...) "
        "or an MPS business crime offences file (Date, Borough, Crime Section, Crime Group, "
        "Business Crime Offence Count, ...), or a police.uk API response saved as JSON"
    )


def _lock(cfg: Settings):
    """One ingest at a time per data folder (an flock on the sources folder, not waiting; no lock
    file: :func:`csp_data.warehouse.fileio.folder_lock`)."""
    return folder_lock(
        cfg.sources_dir,
        timeout=0,
        busy=lambda: IngestError(
            "another ingest is running on this data folder; try again when it has finished"
        ),
    )


# ----------------------------------------------------------------------------- readers / validation


def _lsoa_polygons(cfg: Settings, entries: list[manifest.Entry]):
    """The configured borough's LSOA 2021 polygons (its own file, or the London-wide one filtered)."""
    try:
        g = geo.geography(cfg, entries)
    except manifest.ManifestError as exc:
        raise IngestError(f"{exc}: stop-and-search records cannot be placed") from exc
    polys = geo.read_boundaries(g.lsoa_boundaries, "lsoa21_code", "lsoa21_name")
    if g.own:
        return polys
    return polys[polys["code"].isin(set(geo.borough_lookup(g)["lsoa21_code"]))].reset_index(drop=True)


def _quarantine_frame(q: pd.DataFrame) -> pd.DataFrame:
    cols = ["source_row", "reason"] + [c for c in q.columns if c not in ("source_row", "reason")]
    return q[cols].reset_index(drop=True)


def _street_part(cfg: Settings, entries, file: Path, name: str, sha: str, size: int, what: str) -> _Part:
    try:
        tidy, q, read, outside = build.read_street_source(cfg, file)
    except (SourceError, KeyError, ValueError) as exc:
        kind = (
            "a police.uk crimes-street API response"
            if police_uk.is_json_path(file)
            else "police.uk street-level CSV"
        )
        raise IngestError(f"{what}: cannot read as {kind}: {exc}") from exc
    if read == 0:
        raise IngestError(f"{what} has a header but no data rows")
    months = _ym(tidy["month"])
    parts = (
        pd.DataFrame({"month": months, "part": tidy["crime_type"].astype(str).to_numpy()})
        .groupby(["month", "part"], as_index=False)
        .size()
        .rename(columns={"size": "n"})
    )
    landed, kept_months = len(tidy), months
    if police_uk.is_json_path(file):
        # API rows have no LSOA name: the build keeps, after precedence, those whose point is inside
        _, status = geo.assign_codes(tidy["longitude"], tidy["latitude"], _lsoa_polygons(cfg, entries))
        inside = (status == "inside").to_numpy()
        kept_months = [m for m, i in zip(months, inside) if i]
        inside_n = (
            pd.DataFrame({"month": months, "part": tidy["crime_type"].astype(str).to_numpy(), "i": inside})
            .groupby(["month", "part"])["i"]
            .sum()
        )
        parts["n"] = [int(inside_n.get((m, t), 0)) for m, t in zip(parts["month"], parts["part"])]
        landed, outside = int(inside.sum()), outside + int((~inside).sum())
    load = pd.Series(kept_months, dtype=str).value_counts().to_dict()
    return _Part(
        kind="policeuk_street",
        dataset="street",
        file=file,
        name=name,
        sha256=sha,
        size=size,
        read=read,
        landed=landed,
        quarantined=len(q),
        outside=outside,
        months=sorted(set(kept_months)),
        partitions=parts,
        quarantine=_quarantine_frame(q),
        seen_months=sorted(set(months)),
        month_load=load,
    )


def _street_as_of(cfg: Settings, file: Path) -> str | None:
    """Newest well-formed Month anywhere in the street file (zip: all street members)."""
    if file.name.lower().endswith(".zip"):
        raws = [police_uk.read_zip_member(file, m) for m in police_uk.zip_members(file, "street")]
    else:
        raws = [police_uk.read_street(file)[0]]
    months = [m for raw in raws for m in raw["Month"].astype(str).str.strip() if police_uk.MONTH_RE.match(m)]
    return max(months) if months else None


def _stop_search_part(cfg: Settings, entries, file: Path, name: str, sha: str, size: int, what: str) -> _Part:
    try:
        raw = police_uk.read_stop_search(file)
        tidy, q = police_uk.validate_stop_search(raw)
    except (KeyError, ValueError) as exc:
        raise IngestError(
            f"{what}: cannot read as a police.uk stop-and-search CSV or API response: {exc}"
        ) from exc
    if len(raw) == 0:
        raise IngestError(f"{what} has a header but no data rows")
    _, status = geo.assign_codes(tidy["longitude"], tidy["latitude"], _lsoa_polygons(cfg, entries))
    inside = (status == "inside").to_numpy()
    # The build keeps, per month, the newest snapshot's rows and only then drops those outside the
    # borough: the partitions are the months of every valid row.
    all_months = _ym(tidy["month"])
    kept_months = [m for m, i in zip(all_months, inside) if i]
    parts = (
        pd.DataFrame({"month": all_months, "part": ""})
        .groupby(["month", "part"], as_index=False)
        .size()
        .rename(columns={"size": "n"})
    )
    inside_n = pd.Series(kept_months, dtype=str).value_counts()
    parts["n"] = parts["month"].map(inside_n).fillna(0).astype("int64")
    return _Part(
        kind="policeuk_stop_search",
        dataset="stop_search",
        file=file,
        name=name,
        sha256=sha,
        size=size,
        read=len(raw),
        landed=int(inside.sum()),
        quarantined=len(q),
        outside=int((~inside).sum()),
        months=sorted(set(kept_months)),
        partitions=parts,
        quarantine=_quarantine_frame(q),
        as_of=max(all_months) if all_months else "",
        no_location=int((status == "no_location").sum()),
        seen_months=sorted(set(all_months)),
        month_load=inside_n.to_dict(),
    )


def _mps_part(
    cfg: Settings, entries, file: Path, name: str, sha: str, size: int, level: str, what: str
) -> _Part:
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
        try:
            known = set(geo.borough_lookup(geo.geography(cfg, entries))["ward_code"])
        except manifest.ManifestError:
            known = set()
        unknown = sorted(set(ours["area_code"]) - known)
        if unknown:
            raise IngestError(
                f"{what}: {len(unknown)} {cfg.borough_name} ward codes are not in the ward lookup "
                f"(e.g. {', '.join(unknown[:3])}); the file's wards do not match this dashboard's"
            )
        by_area = ours.groupby(["month"])["count"].sum()
    elif level == "lsoa":
        mine = norm["borough"].astype(str) == cfg.borough_code
        ours = long[long["borough_code"] == cfg.borough_code]
        bad = sorted(set(ours.loc[~ours["area_code"].str.match(police_uk.LSOA_RE), "area_code"]))
        if bad:
            raise IngestError(f"{what}: LSOA codes that are not ONS LSOA codes: {', '.join(bad[:3])}")
        by_area = ours.groupby(["month"])["count"].sum()
    else:  # borough: London-wide, every borough is kept (London ranks)
        mine = norm["boroughname"].astype(str).str.strip() == cfg.borough_name
        ours = long
        by_area = long.groupby(["area_name", "month"])["count"].sum().groupby(level="month").max()
    months = [f"{m[:4]}-{m[4:]}" for m in info["months"]]
    n_by_month = ours.assign(month=_ym(ours["month"])).groupby("month")["count"].sum()
    parts = pd.DataFrame({"month": months, "part": "", "n": [int(n_by_month.get(m, 0)) for m in months]})
    landed = int(mine.sum()) if level != "borough" else (len(frame) if mine.any() else 0)
    stubs = ", ".join(f"{m[:4]}-{m[4:]}" for m in info["stub_months"])
    detail = f"data to {_month_label(months[-1])}" if months else ""
    part = _Part(
        kind=f"mps_wide_{level}",
        dataset=level,
        file=file,
        name=name,
        sha256=sha,
        size=size,
        read=len(frame),
        landed=landed,
        quarantined=0,
        outside=len(frame) - landed,
        months=months if landed else [],
        partitions=parts if landed else parts.iloc[0:0],
        quarantine=pd.DataFrame(),
        as_of=months[-1] if months else "",
        snapshot_detail=detail,
        seen_months=sorted(months + [f"{m[:4]}-{m[4:]}" for m in info["stub_months"]]),
        month_load={m: int(v) for m, v in zip(_ym(by_area.index), by_area.to_numpy())},
        categories=set(zip(ours["major_category"], ours["minor_category"])),
    )
    if level == "borough":
        part.areas = set(long["area_name"])
    if stubs:
        part.extra["stub_months_dropped"] = stubs
    return part


def _refresh_as_of(refresh: pd.Series, what: str) -> str | None:
    """The newest refresh date a dashboard or business file states (YYYY-MM-DD), if any."""
    vals = sorted({str(v)[:10] for v in refresh if str(v).strip() not in ("", "nan", "None", "<NA>")})
    if not vals:
        return None
    for v in vals:
        try:
            datetime.strptime(v, "%Y-%m-%d")
        except ValueError as exc:
            raise IngestError(f"{what}: refresh date {v!r} is not a date (YYYY-MM-DD)") from exc
    return vals[-1]


def _dashboard_part(cfg: Settings, file: Path, name: str, sha: str, size: int, what: str) -> _Part:
    try:
        frame = build._read_table(file)
        tidy = mps.dashboard(frame, cfg.borough_name)
        cols = mps.dashboard_columns(frame)
        mps.parse_months(cols["month_year"], "month_year")  # every row's month, not only the borough's
    except (SourceError, KeyError, ValueError) as exc:
        raise IngestError(f"{what}: not a valid MPS Monthly Crime Dashboard file: {exc}") from exc
    if len(frame) == 0:
        raise IngestError(f"{what} has a header but no data rows")
    mine = mps.dashboard_kept(cols, cfg.borough_name)
    snt = cols["borough_snt"].astype(str)
    if not ((snt == cfg.borough_name) | snt.str.startswith(cfg.borough_name + " ")).any():
        mine = mine & False  # no row of the configured borough: refused as "no rows in the borough"
    t = tidy.assign(month=_ym(tidy["month"]))
    parts = (
        t.groupby(["month", "crime_type"], as_index=False)["count"]
        .sum()
        .rename(columns={"crime_type": "part", "count": "n"})
    )
    months = sorted(set(t["month"]))
    part = _Part(
        kind="mps_dashboard",
        dataset="dashboard",
        file=file,
        name=name,
        sha256=sha,
        size=size,
        read=len(frame),
        landed=int(mine.sum()),
        quarantined=0,
        outside=int((~mine).sum()),
        months=months,
        partitions=parts,
        quarantine=pd.DataFrame(),
        as_of=max(months) if months else "",
        snapshot_detail=f"data to {_month_label(max(months))}" if months else "",
        seen_months=months,
        month_load=t.groupby("month")["count"].max().to_dict(),
        categories={(a, b) for a, b in zip(t["crime_type"], t["measure"])},
    )
    refresh = _refresh_as_of(tidy["refresh_date"], what) if "refresh_date" in tidy else None
    if refresh:
        part.as_of, part.as_of_basis = refresh, "refresh date"
    return part


def _business_part(cfg: Settings, file: Path, name: str, sha: str, size: int, what: str) -> _Part:
    try:
        frame = build._read_table(file)
        tidy = mps.business_offences(frame)
    except (SourceError, KeyError, ValueError) as exc:
        raise IngestError(f"{what}: not a valid MPS business crime offences file: {exc}") from exc
    if len(frame) == 0:
        raise IngestError(f"{what} has a header but no data rows")
    t = tidy.assign(month=_ym(tidy["month"]))
    months = sorted(set(t["month"]))
    mine = t["borough_name"] == cfg.borough_name
    parts = t.groupby("month", as_index=False)["count"].sum().rename(columns={"count": "n"}).assign(part="")
    part = _Part(
        kind="mps_business_offences",
        dataset="business",
        file=file,
        name=name,
        sha256=sha,
        size=size,
        read=len(frame),
        landed=len(frame) if mine.any() else 0,
        quarantined=0,
        outside=0 if mine.any() else len(frame),
        months=months,
        partitions=parts[["month", "part", "n"]],
        quarantine=pd.DataFrame(),
        as_of=max(months) if months else "",
        snapshot_detail=f"data to {_month_label(max(months))}" if months else "",
        seen_months=months,
        month_load=t.groupby(["borough_name", "month"])["count"].sum().groupby(level="month").max().to_dict(),
        categories=set(zip(t["major_category"], t["minor_category"])),
    )
    part.areas = set(t["borough_name"])
    refresh = _refresh_as_of(tidy["refresh_date"], what) if "refresh_date" in tidy else None
    if refresh:
        part.as_of, part.as_of_basis = refresh, "refresh date"
    return part


def _outcomes_part(cfg: Settings, entries, file: Path, name: str, sha: str, size: int, what: str) -> _Part:
    try:
        tidy, q, read, outside = build.read_outcomes_api(file, _lsoa_polygons(cfg, entries))
        raw_months = _ym(
            police_uk.validate_outcomes_api(
                police_uk.api_outcomes_frame(police_uk.read_json_records(file), file.name)
            )[0]["month"]
        )
    except (SourceError, KeyError, ValueError) as exc:
        raise IngestError(
            f"{what}: cannot read as a police.uk outcomes-at-location API response: {exc}"
        ) from exc
    if read == 0:
        raise IngestError(f"{what} has no records")
    months = _ym(tidy["month"])
    inside_n = pd.Series(months, dtype=str).value_counts()
    parts = pd.DataFrame({"month": sorted(set(raw_months)), "part": ""})
    parts["n"] = parts["month"].map(inside_n).fillna(0).astype("int64")
    return _Part(
        kind="policeuk_outcomes",
        dataset="outcomes",
        file=file,
        name=name,
        sha256=sha,
        size=size,
        read=read,
        landed=len(tidy),
        quarantined=len(q),
        outside=outside,
        months=sorted(set(months)),
        partitions=parts,
        quarantine=_quarantine_frame(q),
        as_of=max(raw_months) if raw_months else "",
        seen_months=sorted(set(raw_months)),
        month_load=inside_n.to_dict(),
    )


def _json_part(cfg: Settings, entries, file: Path, name: str, sha: str, size: int, what: str) -> _Part:
    try:
        records = police_uk.read_json_records(file)
    except SourceError as exc:
        raise IngestError(f"{what}: {exc}") from exc
    if len(records) == 0:
        raise IngestError(f"{what} is an empty police.uk API response (no records)")
    if len(records) > limits.MAX_ROWS:
        raise IngestError(
            f"{what} has {len(records):,d} records (the limit per file is {limits.MAX_ROWS:,d})"
        )
    kind = police_uk.sniff_json_kind(records)
    del records
    if kind == "street":
        p = _street_part(cfg, entries, file, name, sha, size, what)
        p.as_of = _street_as_of(cfg, file) or ""
        return p
    if kind == "stop_search":
        return _stop_search_part(cfg, entries, file, name, sha, size, what)
    if kind == "outcomes":
        return _outcomes_part(cfg, entries, file, name, sha, size, what)
    raise IngestError(
        f"{what} is JSON but not a police.uk API response ingest takes: expected the records of "
        "/api/crimes-street (category, location, month, persistent_id, id), /api/stops-street or "
        "/api/stops-force (datetime, type, legislation, object_of_search, location) or "
        "/api/outcomes-at-location (category, date, crime)"
    )


def _zip_parts(
    cfg, entries, file: Path, name: str, sha: str, size: int, work: Path, what: str
) -> tuple[list[_Part], list[str]]:
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
        raise IngestError(
            f"{what} holds no police.uk street or stop-and-search CSVs (expected members named "
            f"YYYY-MM/YYYY-MM-<force>-street.csv); it has {len(names)} member(s)"
        )
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
                raise IngestError(
                    f"{mwhat} is named as {want.replace('_', ' ')} data but its header is {got.replace('_', ' ')}"
                )
    parts: list[_Part] = []
    if street:
        p = _street_part(cfg, entries, file, name, sha, size, what)
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
        p = _stop_search_part(
            cfg,
            entries,
            dest,
            _with_suffix(dest.name, "text"),
            msha,
            dest.stat().st_size,
            f"{what} member {member}",
        )
        p.extra = {"zip_sha256": sha, "zip_name": name, "zip_member": member}
        p.snapshot_detail = f"member {member}"
        parts.append(p)
    return parts, notes


# ----------------------------------------------------------------------------- warehouse state

_TABLE = {
    "street": "street_crime",
    "stop_search": "stop_search",
    "ward": "crime_monthly",
    "lsoa": "crime_monthly",
    "borough": "crime_monthly",
    "dashboard": "dashboard_monthly",
    "business": "business_crime_monthly",
    "outcomes": "street_outcomes",
}


def _tables(cfg: Settings, names: set[str]) -> dict[str, pd.DataFrame]:
    """Warehouse tables as they are now: read from the warehouse when it is up to date with the
    manifest, else computed in memory (``build.build_tables``; nothing is written)."""
    stale, _ = build.is_stale(cfg)
    if stale:
        return build.build_tables(cfg)
    return {t: pd.read_parquet(cfg.warehouse_dir / f"{t}.parquet") for t in names}


def _state(cfg: Settings, datasets: set[str], tables: dict | None = None) -> dict[str, pd.DataFrame]:
    """Per dataset: month, part, source_file, n as the warehouse holds them now."""
    tables = tables if tables is not None else _tables(cfg, {_TABLE[d] for d in datasets})
    out = {}
    for d in datasets:
        df = tables[_TABLE[d]]
        src = df["source_file"].astype(str).to_numpy()
        if d == "street":
            s = pd.DataFrame(
                {
                    "month": _ym(df["month"]),
                    "part": df["crime_type"].astype(str).to_numpy(),
                    "source_file": src,
                    "n": 1,
                }
            )
        elif d in ("stop_search", "outcomes"):
            s = pd.DataFrame({"month": _ym(df["month"]), "part": "", "source_file": src, "n": 1})
        elif d == "dashboard":
            s = pd.DataFrame(
                {
                    "month": _ym(df["month"]),
                    "part": df["crime_type"].astype(str).to_numpy(),
                    "source_file": src,
                    "n": df["count"].astype("int64").to_numpy(),
                }
            )
        elif d == "business":
            s = pd.DataFrame(
                {
                    "month": _ym(df["month"]),
                    "part": "",
                    "source_file": src,
                    "n": df["count"].astype("int64").to_numpy(),
                }
            )
        else:
            df = df[df["level"] == d]
            s = pd.DataFrame(
                {
                    "month": _ym(df["month"]),
                    "part": "",
                    "source_file": df["source_file"].astype(str).to_numpy(),
                    "n": df["count"].astype("int64").to_numpy(),
                }
            )
        out[d] = s.groupby(["month", "part", "source_file"], as_index=False)["n"].sum()
    return out


def _known(tables: dict, dataset: str) -> tuple[set, set]:
    """(categories, area names) the warehouse already holds for a dataset's kind of file."""
    if dataset in ("ward", "lsoa", "borough"):
        df = tables["crime_monthly"]
        cats = set(zip(df["major_category"].astype(str), df["minor_category"].astype(str)))
        areas = set(df.loc[df["level"] == "borough", "area_name"].astype(str)) | set(mps.PSEUDO_BOROUGHS)
        if "boroughs" in tables:
            areas |= set(tables["boroughs"]["borough_name"].astype(str))
        return cats, areas
    if dataset == "dashboard":
        df = tables["dashboard_monthly"]
        return set(zip(df["crime_type"].astype(str), df["measure"].astype(str))), set()
    if dataset == "business":
        df = tables["business_crime_monthly"]
        return (
            set(zip(df["major_category"].astype(str), df["minor_category"].astype(str))),
            set(df["borough_name"].astype(str)) | set(mps.PSEUDO_BOROUGHS),
        )
    return set(), set()


def _monthly(state: pd.DataFrame) -> dict[str, int]:
    return {m: int(n) for m, n in state.groupby("month")["n"].sum().items()}


def _month_range(first: str, last: str) -> list[str]:
    return [str(p) for p in pd.period_range(first, last, freq="M")]


def _runs(months: list[str]) -> list[str]:
    """Consecutive months as 'a to b (n months)' runs."""
    out: list[list[str]] = []
    run: list[str] = []
    for m in sorted(months):
        if run and str(pd.Period(run[-1], "M") + 1) != m:
            out.append(run)
            run = []
        run.append(m)
    if run:
        out.append(run)
    return [r[0] if len(r) == 1 else f"{r[0]} to {r[-1]} ({len(r)} months)" for r in out]


def _conflicts(
    part: _Part, entry: manifest.Entry, state: pd.DataFrame, by_path: dict[str, manifest.Entry]
) -> pd.DataFrame:
    """Partitions of ``part`` that the warehouse holds from an entry that outranks ``entry``."""
    if part.partitions.empty or state.empty:
        return pd.DataFrame(columns=["month", "part", "n", "source_file"])
    winners = state.drop_duplicates(["month", "part"])[["month", "part", "source_file"]]
    m = part.partitions.merge(winners, on=["month", "part"], how="inner")
    newer = m["source_file"].map(lambda p: p in by_path and by_path[p].precedence > entry.precedence)
    return m[newer.astype(bool)].reset_index(drop=True)


# ----------------------------------------------------------------------------- the ingest


def _now_utc(now: datetime | None, entries: list[manifest.Entry]) -> datetime:
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    # Precedence breaks as_of ties on landed_at: a later landing must sort later even if the
    # clock is behind an existing entry (e.g. the embedded files' nominal time).
    latest = max((e.landed_at for e in entries), default="")
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    if latest and stamp <= latest:
        try:
            now = datetime.strptime(latest, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) + timedelta(seconds=1)
        except ValueError:
            pass
    return now


def _already(
    entries: list[manifest.Entry], cfg: Settings, sha: str, content_sha: str | None
) -> tuple[manifest.Entry, str] | None:
    for e in entries:
        if sha in (e.sha256, e.extra.get("zip_sha256"), e.extra.get("content_sha256")):
            return e, ""
    if content_sha is None:
        return None
    for e in entries:
        if content_sha in (e.sha256, e.extra.get("content_sha256")):
            return e, "same data, compressed differently"
    for e in entries:
        if (
            e.path.endswith(".gz")
            and "content_sha256" not in e.extra
            and e.kind.startswith(("policeuk_", "mps_"))
        ):
            try:
                if _gzip_content_sha(cfg.sources_dir / e.path) == content_sha:
                    return e, "same data, compressed differently"
            except (OSError, EOFError, zlib.error):
                continue
    return None


def ingest_file(
    path: str | Path, cfg: Settings | None = None, force: bool = False, now: datetime | None = None
) -> IngestReport:
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
        recovered = recover(cfg)
        work = Path(tempfile.mkdtemp(prefix=".ingest-", dir=cfg.sources_dir))
        try:
            report = _ingest(given, src, cfg, force, now, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    report.lines[:0] = recovered
    return report


def ingest_many(
    paths: list[str | Path], cfg: Settings | None = None, force: bool = False, now: datetime | None = None
) -> list:
    """Each path through ``ingest_file`` in turn: an IngestReport, or the IngestError that refused it."""
    out: list = []
    for path in paths:
        try:
            out.append(ingest_file(path, cfg, force=force, now=now))
        except IngestError as exc:
            out.append(exc)
    return out


def _ingest(
    given: str, src: Path, cfg: Settings, force: bool, now: datetime | None, work: Path
) -> IngestReport:
    manifest_bytes = cfg.manifest_path.read_bytes()
    entries = manifest.load(cfg.manifest_path)
    by_path = {e.path: e for e in entries}
    what = safe_name(src.name)
    when = _now_utc(now, entries)

    # 1. copy into the work folder first and validate the copy: what is validated is what lands
    if src.stat().st_size > limits.MAX_INPUT_BYTES:
        raise IngestError(
            f"{what} is larger than the {limits.MAX_INPUT_BYTES >> 20:,d} MB a file may be; "
            "split it (e.g. one month per file)"
        )
    tmp = work / "incoming"
    sha, size = _copy_hashing(src, tmp, what)
    fmt, head = _sniff(tmp, what)
    is_json = fmt != "zip" and _is_json(head)
    _prescan(tmp, fmt, is_json, what)  # size and row limits, streaming, before anything is parsed
    name = _with_suffix(what, fmt, json=is_json)
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

    # 2. what is it, and is it valid? (rows, months, counts)
    all_parts, notes = _validate(
        cfg, entries, copy, fmt, head, name, what, sha, size, content_sha, work, is_json
    )
    if not all_parts:  # a zip of stop-and-search members that are all in the manifest already
        return IngestReport(
            path=given,
            status="already ingested",
            kind="policeuk_stop_search",
            lines=[f"already ingested: {given} (every member is in the manifest)"],
        )
    parts = [p for p in all_parts if p.landed > 0]
    _check_dates_and_counts(parts, (now or datetime.now(UTC)).astimezone(UTC), what)

    # 3. the would-be manifest entries, and 4. against what the warehouse holds: categories,
    # newer snapshots, months that would shrink
    new_entries = _entries_for(parts, entries, when, name, sha)
    clash = {e.path for e in new_entries} & set(by_path)
    if clash:
        raise IngestError(f"a different manifest entry already uses {sorted(clash)[0]}")
    datasets = {p.dataset for p in parts}
    names = {_TABLE[d] for d in datasets}
    if "crime_monthly" in names:
        names.add("boroughs")
    tables = _tables(cfg, names)
    notes += _check_categories(parts, tables, force, what)
    before = _state(cfg, datasets, tables)
    conflicts = [_conflicts(p, e, before[p.dataset], by_path) for p, e in zip(parts, new_entries)]
    if not force:
        for e, c in zip(new_entries, conflicts):
            if len(c):
                months = sorted(set(c["month"]))
                others = sorted({f"{s} (as of {by_path[s].as_of})" for s in c["source_file"]})
                raise IngestError(
                    f"{what} (as of {e.as_of}) covers {len(months)} month(s) that the warehouse already holds from a "
                    f"newer snapshot: {', '.join(_runs(months))} from {'; '.join(others)}. Use --force to land it "
                    "anyway (the newer snapshot is still used for those months)"
                )
    for p, c in zip(parts, conflicts):
        shrunk = _shrinks(p, c, before[p.dataset])
        if shrunk and not force:
            shown = "; ".join(f"{m}: {_fmt(h)} -> {_fmt(n)} ({(n - h) / h:+.0%})" for m, h, n in shrunk[:6])
            raise IngestError(
                f"{what} would replace {len(shrunk)} month(s) with sharply fewer {_unit(p.dataset)} than the warehouse "
                f"holds ({shown}): more than {limits.SHRINK_LIMIT:.0%} fewer looks like a truncated download. "
                "Use --force if the publisher really revised them down"
            )
        if shrunk:
            notes.append(
                f"accepted with --force: {len(shrunk)} month(s) shrink by more than {limits.SHRINK_LIMIT:.0%}"
            )

    # 5. land, register, build (undone if anything fails; journalled against a kill)
    quarantine_files = _land_and_build(cfg, parts, new_entries, manifest_bytes, entries, what)

    # 6. report
    after = _state(cfg, datasets)
    return _report(
        cfg, given, all_parts, parts, new_entries, conflicts, by_path, before, after, notes, quarantine_files
    )


def _unit(dataset: str) -> str:
    return "rows" if dataset in ("street", "stop_search", "outcomes") else "offences"


def _check_dates_and_counts(parts: list[_Part], when: datetime, what: str) -> None:
    """Months after the current month or before the source began, and counts above the ceiling."""
    this_month = when.strftime("%Y-%m")
    today = when.strftime("%Y-%m-%d")
    for p in parts:
        future = [m for m in p.seen_months if m > this_month]
        if future:
            raise IngestError(
                f"{what} has data for {len(future)} month(s) after the current month ({_month_label(this_month)}): "
                f"{', '.join(_runs(future)[:3])}. No publisher publishes the future: the file is wrong"
            )
        first = limits.EARLIEST_MONTH.get(p.kind)
        early = [m for m in p.seen_months if first and m < first]
        if early and first:
            raise IngestError(
                f"{what} has data for {len(early)} month(s) before {KIND_LABEL[p.kind]} began ({_month_label(first)}): "
                f"{', '.join(_runs(early)[:3])}. The file is wrong"
            )
        if p.as_of_basis == "refresh date":
            newest = max(p.seen_months) if p.seen_months else None
            if p.as_of > today:
                raise IngestError(f"{what}: its refresh date {p.as_of} is in the future (today is {today})")
            if newest and p.as_of < manifest.month_end(newest)[:8] + "01":
                raise IngestError(
                    f"{what}: its refresh date {p.as_of} is before its newest month of data ({newest})"
                )
        over = {m: n for m, n in p.month_load.items() if n > limits.AREA_MONTH_CEILING}
        if over:
            m = max(over, key=lambda k: over[k])
            raise IngestError(
                f"{what}: {_fmt(int(over[m]))} {_unit(p.dataset)} in one area in {m}, above the plausible ceiling of "
                f"{_fmt(limits.AREA_MONTH_CEILING)} (ten times the largest month any London borough has recorded); "
                "the file is wrong (see data/sources/SOURCES.md, ingest limits)"
            )


def _check_categories(parts: list[_Part], tables: dict, force: bool, what: str) -> list[str]:
    """Categories and borough names the warehouse has never held are refused unless --force."""
    notes = []
    for p in parts:
        cats, areas = _known(tables, p.dataset)
        if not cats:
            continue
        unknown = sorted(f"{a} / {b}" for a, b in p.categories - cats)
        new_areas = sorted(p.areas - areas) if areas else []
        if not unknown and not new_areas:
            continue
        shown = "; ".join(
            ([f"categories: {', '.join(unknown[:4])}{' ...' if len(unknown) > 4 else ''}"] if unknown else [])
            + ([f"areas: {', '.join(new_areas[:4])}"] if new_areas else [])
        )
        if not force:
            raise IngestError(
                f"{what} has {len(unknown)} categor{'y' if len(unknown) == 1 else 'ies'} and {len(new_areas)} area "
                f"name(s) the warehouse has never held ({shown}). A misspelt or made-up category would be counted "
                "nowhere; if the publisher really introduced it, use --force"
            )
        notes.append(f"accepted with --force: never held before: {shown}")
    return notes


def _shrinks(p: _Part, conflicts: pd.DataFrame, state: pd.DataFrame) -> list[tuple[str, int, int]]:
    """Months the new file would replace where it has sharply fewer rows/offences than held."""
    if p.partitions.empty or state.empty:
        return []
    held = state.groupby(["month", "part"], as_index=False)["n"].sum().rename(columns={"n": "held"})
    new = p.partitions
    if len(conflicts):
        kept = set(zip(conflicts["month"], conflicts["part"]))
        new = new[[(m, t) not in kept for m, t in zip(new["month"], new["part"])]]
    both = new.merge(held, on=["month", "part"], how="inner").groupby("month")[["n", "held"]].sum()
    bad = both[
        (both["held"] >= limits.SHRINK_MIN_HELD) & (both["n"] < (1 - limits.SHRINK_LIMIT) * both["held"])
    ]
    return [(m, int(r.held), int(r.n)) for m, r in bad.iterrows()]


def _validate(
    cfg,
    entries,
    copy: Path,
    fmt: str,
    head: bytes,
    name: str,
    what: str,
    sha: str,
    size: int,
    content_sha: str | None,
    work: Path,
    is_json: bool = False,
) -> tuple[list[_Part], list[str]]:
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
        if is_json:
            p = _json_part(cfg, entries, copy, name, sha, size, what)
        else:
            if not _has_data_row(head):
                raise IngestError(f"{what} has a header but no data rows")
            dataset = _classify(_header(head), what, what)
            if dataset == "street":
                p = _street_part(cfg, entries, copy, name, sha, size, what)
                p.as_of = _street_as_of(cfg, copy) or ""
            elif dataset == "stop_search":
                p = _stop_search_part(cfg, entries, copy, name, sha, size, what)
            elif dataset == "dashboard":
                p = _dashboard_part(cfg, copy, name, sha, size, what)
            elif dataset == "business":
                p = _business_part(cfg, copy, name, sha, size, what)
            else:
                p = _mps_part(cfg, entries, copy, name, sha, size, dataset, what)
        if content_sha and fmt == "gzip":
            p.extra["content_sha256"] = content_sha
        parts = [p]
    if sum(p.landed for p in parts) == 0 and sum(p.quarantined for p in parts) == 0:
        raise IngestError(
            f"{what} has no rows in {cfg.borough_name} (read {sum(p.read for p in parts)}, all outside "
            "the borough); check CSP_BOROUGH_CODE or the file"
        )
    for p in parts:
        if p.kind in build.ONE_BOROUGH_KINDS:
            p.extra["borough_code"] = cfg.borough_code  # its rows were cut to this borough
        if p.landed == 0 and p.quarantined > 0:
            top = p.quarantine["reason"].value_counts()
            reasons = "; ".join(f"{r} ({n})" for r, n in top.head(3).items())
            raise IngestError(
                f"{what}: every {cfg.borough_name} row failed validation ({p.quarantined} rows: {reasons})"
            )
    return parts, notes


def _entries_for(
    parts: list[_Part], entries: list[manifest.Entry], when: datetime, name: str, sha: str
) -> list[manifest.Entry]:
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
        as_of = manifest.month_end(p.as_of) if len(p.as_of) == 7 else p.as_of
        extra = dict(p.extra, as_of_basis=p.as_of_basis if len(p.as_of) != 7 else "newest month")
        out.append(
            manifest.Entry(
                path=landed_relpath(p.sha256, p.name, day),
                kind=p.kind,
                sha256=p.sha256,
                bytes=p.size,
                as_of=as_of,
                snapshot=f"{label}, ingested {day} from {source}",
                publisher=publisher,
                licence=licence,
                origin=f"ingested from {name} (sha256 {sha})",
                landed_at=landed_at,
                landed_by="ingest",
                notes="",
                extra=dict(sorted(extra.items())),
            )
        )
    return out


def _rel(cfg: Settings, path: Path) -> str:
    return str(path.relative_to(cfg.data_dir))


def _write_journal(
    cfg: Settings,
    action: str,
    label: str,
    before: bytes,
    after: bytes,
    created: list[Path],
    dirs: list[Path],
    delete_after: list[Path],
    dirs_after: Sequence[Path] = (),
) -> None:
    """Record, before anything changes, how to finish or undo what is about to happen: a kill
    at any point leaves either the old manifest (roll back: remove what was created) or the new
    one (complete: rebuild, then delete what was retracted). See ``recover``."""
    manifest.atomic_write_bytes(cfg.sources_dir / JOURNAL_MANIFEST, before)
    info = {
        "action": action,
        "label": label,
        "manifest_after_sha256": hashlib.sha256(after).hexdigest(),
        "created": [_rel(cfg, f) for f in created],
        "dirs": [_rel(cfg, d) for d in dirs],
        "delete_after": [_rel(cfg, f) for f in delete_after],
        "dirs_after": [_rel(cfg, d) for d in dirs_after],
    }
    manifest.atomic_write_bytes(cfg.sources_dir / JOURNAL, (json.dumps(info, indent=1) + "\n").encode())


def _clear_journal(cfg: Settings) -> None:
    (cfg.sources_dir / JOURNAL).unlink(missing_ok=True)
    (cfg.sources_dir / JOURNAL_MANIFEST).unlink(missing_ok=True)


def _undo(cfg: Settings, manifest_before: bytes | None, created: list[Path], dirs: list[Path]) -> None:
    if manifest_before is not None and (
        not cfg.manifest_path.exists() or cfg.manifest_path.read_bytes() != manifest_before
    ):
        manifest.atomic_write_bytes(cfg.manifest_path, manifest_before)
    for f in created:
        f.unlink(missing_ok=True)
    for d in sorted(dirs, key=lambda d: len(d.parts), reverse=True):
        try:
            d.rmdir()
        except OSError:
            pass


def recover(cfg: Settings | None = None) -> list[str]:
    """Finish or undo an ingest or removal that was killed, and remove leftover work files.

    If the journal's new manifest was saved (and every file it lists is in place), the change is
    completed: the warehouse is rebuilt and retracted files are deleted. Otherwise it is rolled
    back: the old manifest is put back and every file and folder it created is removed. Call with
    the ingest lock held (``ingest_file`` and the ``sources`` commands do)."""
    cfg = cfg or get_settings()
    lines: list[str] = []
    jpath, backup = cfg.sources_dir / JOURNAL, cfg.sources_dir / JOURNAL_MANIFEST
    if jpath.exists():
        try:
            info = json.loads(jpath.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            info = {
                "action": "change",
                "label": "unknown",
                "manifest_after_sha256": "",
                "created": [],
                "dirs": [],
                "delete_after": [],
            }
        before = backup.read_bytes() if backup.exists() else None
        created = [cfg.data_dir / f for f in info.get("created", [])]
        dirs = [cfg.data_dir / d for d in info.get("dirs", [])]
        current = cfg.manifest_path.read_bytes() if cfg.manifest_path.exists() else b""
        saved = hashlib.sha256(current).hexdigest() == info.get("manifest_after_sha256")
        what = f"an interrupted {info.get('action', 'change')} ({info.get('label', '')})"
        done = False
        if saved:
            try:
                problems = manifest.verify(cfg.sources_dir, manifest.load(cfg.manifest_path))
                if not problems:
                    build.build(cfg)
                    for f in info.get("delete_after", []):
                        (cfg.data_dir / f).unlink(missing_ok=True)
                    _undo(cfg, None, [], [cfg.data_dir / d for d in info.get("dirs_after", [])])
                    done = True
                    lines.append(
                        f"recovered: completed {what}: its manifest had been saved; the warehouse was rebuilt"
                    )
            except Exception as exc:
                lines.append(f"recovered: could not complete {what} ({type(exc).__name__}: {exc})")
        if not done:
            _undo(cfg, before, created, dirs)
            if saved and before is not None:
                try:
                    build.build(cfg)
                except Exception:
                    pass
            lines.append(f"recovered: rolled back {what}: nothing of it remains")
        _clear_journal(cfg)
    for d in cfg.sources_dir.glob(".ingest-*"):
        if d.is_dir():
            shutil.rmtree(d, ignore_errors=True)
            lines.append(f"recovered: removed the work folder of a killed ingest ({d.name})")
    for folder in (cfg.sources_dir, cfg.quarantine_dir):
        for f in folder.glob(".*.tmp") if folder.exists() else []:
            f.unlink(missing_ok=True)
            lines.append(f"recovered: removed a temporary file ({_rel(cfg, f)})")
    return lines


def _land_and_build(
    cfg: Settings,
    parts: list[_Part],
    new_entries: list[manifest.Entry],
    manifest_bytes: bytes,
    entries: list[manifest.Entry],
    what: str,
) -> list[Path]:
    """Move the validated copies into landed/, write quarantine files, save the manifest, build.
    On any failure put the manifest back and remove every file and folder made here. A journal
    written first lets the next run finish or undo this if the process is killed."""
    plan: list[tuple[_Part, manifest.Entry, Path, Path | None]] = []
    created_files: list[Path] = []
    created_dirs: list[Path] = []

    def missing_dirs(d: Path) -> None:
        chain = []
        while not d.exists() and d not in created_dirs:
            chain.append(d)
            d = d.parent
        created_dirs.extend(reversed(chain))

    for p, e in zip(parts, new_entries):
        dest = cfg.sources_dir / e.path
        if dest.resolve().parent != (cfg.sources_dir / LANDED / e.landed_at[:10]).resolve():
            raise IngestError(f"refusing to land outside {LANDED}/: {e.path}")
        missing_dirs(dest.parent)
        if not dest.exists():
            created_files.append(dest)
        qpath = None
        if len(p.quarantine):
            qpath = cfg.quarantine_dir / f"{_stem(Path(e.path).name)}.csv"
            missing_dirs(qpath.parent)
            if not qpath.exists():
                created_files.append(qpath)
        plan.append((p, e, dest, qpath))
    after_bytes = manifest.dumps(entries + new_entries)
    _write_journal(cfg, "ingest", what, manifest_bytes, after_bytes, created_files, created_dirs, [])
    quarantine_files = []
    try:
        for d in created_dirs:
            d.mkdir(exist_ok=True)
        for p, e, dest, qpath in plan:
            os.replace(p.file, dest)
            if manifest.sha256_file(dest) != e.sha256:
                raise IngestError(f"{e.path}: checksum changed while landing")
            if qpath is not None:
                manifest.atomic_write_bytes(qpath, p.quarantine.to_csv(index=False).encode("utf-8"))
                quarantine_files.append(qpath)
        manifest.atomic_write_bytes(cfg.manifest_path, after_bytes)
        build.build(cfg)
    except BaseException as exc:
        _undo(cfg, manifest_bytes, created_files, created_dirs)
        _clear_journal(cfg)
        if isinstance(exc, IngestError) or not isinstance(exc, Exception):
            raise
        raise IngestFailed(
            f"{what}: the build failed ({type(exc).__name__}: {exc}); the landing was undone "
            "and the previous warehouse is intact"
        ) from exc
    _clear_journal(cfg)
    try:
        from csp_data.warehouse import db

        db.reset()  # a long-lived connection in this process must see the new files
    except Exception:  # pragma: no cover
        pass
    return quarantine_files


def _report(
    cfg, given, all_parts, parts, new_entries, conflicts, by_path, before, after, notes, quarantine_files
) -> IngestReport:
    lines: list[str] = []
    warnings: list[str] = []
    kept_newer: dict[str, list[str]] = {p.dataset: [] for p in parts}
    superseded = 0
    for p, e, c in zip(parts, new_entries, conflicts):
        rows_based = p.dataset in ("street", "stop_search", "outcomes")
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
                warnings.append(
                    f"  WARNING: the warehouse holds {got} rows from {e.path}; ingest expected {p.landed - sup}"
                )
                if p.dataset in ("stop_search", "outcomes"):
                    p.landed = got + sup
                    p.outside = p.read - p.quarantined - p.landed
    report = IngestReport(
        path=given,
        status="ingested",
        kind=",".join(e.kind for e in new_entries),
        as_of=new_entries[0].as_of,
        entries=new_entries,
        read=sum(p.read for p in all_parts),
        landed=sum(p.landed for p in all_parts),
        quarantined=sum(p.quarantined for p in all_parts),
        outside=sum(p.outside for p in all_parts),
        superseded=superseded,
        quarantine_files=quarantine_files,
        lines=lines,
    )
    lines.append(
        f"ingested {given} as {', '.join(KIND_LABEL[e.kind] for e in new_entries)} (as of {report.as_of})"
    )
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
    present, 2 when any was refused (those changed nothing), 1 when a valid file's build failed
    (undone, nothing changed)."""
    cfg = get_settings()
    rc = 0
    for path in paths:
        try:
            report = ingest_file(path, cfg, force=force)
        except IngestFailed as exc:
            print(f"failed: {path}: {exc}. Nothing was changed.", file=sys.stderr)
            rc = max(rc, 1) if rc != 2 else 2
            continue
        except IngestError as exc:
            print(f"refused: {path}: {exc}. Nothing was changed.", file=sys.stderr)
            rc = 2
            continue
        except manifest.ManifestError as exc:
            print(
                f"refused: {path}: the manifest is not usable: {exc}. Nothing was changed.", file=sys.stderr
            )
            rc = 2
            continue
        for line in report.lines:
            print(line)
    return rc


# ----------------------------------------------------------------------------- sources list / remove

_KIND_DATASET = {kind: d for d, (_, kind) in DATASETS.items() if d not in ("ward", "lsoa", "borough")}
_KIND_DATASET.update({"mps_wide_ward": "ward", "mps_wide_lsoa": "lsoa", "mps_wide_borough": "borough"})


def list_sources(cfg: Settings | None = None) -> list[str]:
    """One line per manifest entry: id, kind, as_of, how it came, path (newest first within a kind)."""
    cfg = cfg or get_settings()
    with _lock(cfg):
        lines = recover(cfg)  # a killed ingest or removal is finished or undone first
        entries = manifest.load(cfg.manifest_path)
    lines.append(f"{'id':12s}  {'kind':22s}  {'as of':10s}  {'landed':10s}  {'by':8s}  path")
    for e in sorted(entries, key=lambda e: (e.kind, e.precedence), reverse=False):
        by = "ingest" if e.landed_by == "ingest" else "embedded"
        lines.append(f"{e.id:12s}  {e.kind:22s}  {e.as_of:10s}  {e.landed_at[:10]:10s}  {by:8s}  {e.path}")
    return lines


def remove_source(ident: str, cfg: Settings | None = None, force: bool = False) -> list[str]:
    """Retract one manifest entry (by id, a prefix of at least 6 hex digits, or its path) and rebuild.

    A landed file (``landed_by`` ingest) is deleted with its quarantine file. An embedded file is
    part of the repository: it is only taken out of the manifest, and only with ``force`` (the
    file stays, so ``git checkout data/sources/manifest.json`` brings it back). Refusals raise
    IngestError and change nothing; a failed build puts everything back (IngestFailed)."""
    cfg = cfg or get_settings()
    ident = str(ident).strip()
    with _lock(cfg):
        lines = recover(cfg)
        manifest_bytes = cfg.manifest_path.read_bytes()
        entries = manifest.load(cfg.manifest_path)
        if re.fullmatch(r"[0-9a-f]{6,64}", ident):
            hits = [e for e in entries if e.sha256.startswith(ident)]
        else:
            hits = [e for e in entries if e.path == ident]
        if not hits:
            raise IngestError(f"no source with id or path {ident!r} (see: python -m csp_data sources list)")
        if len(hits) > 1:
            raise IngestError(
                f"{ident!r} matches {len(hits)} sources ({', '.join(e.path for e in hits)}): give more of the id"
            )
        (e,) = hits
        embedded = e.landed_by != "ingest"
        if embedded and not force:
            raise IngestError(
                f"{e.path} is an embedded source (part of the repository), not a landed file: "
                "use --force to take it out of the manifest (the file itself is kept)"
            )
        dataset = _KIND_DATASET.get(e.kind)
        before = _state(cfg, {dataset}) if dataset else {}
        rest = [x for x in entries if x.path != e.path]
        after_bytes = manifest.dumps(rest)
        delete: list[Path] = []
        dirs: list[Path] = []
        if not embedded:
            delete.append(cfg.sources_dir / e.path)
            q = cfg.quarantine_dir / f"{_stem(Path(e.path).name)}.csv"
            if q.exists():
                delete.append(q)
            day = (cfg.sources_dir / e.path).parent
            if all(x.path.rsplit("/", 1)[0] != e.path.rsplit("/", 1)[0] for x in rest):
                dirs.append(day)
                if not any(x.path.startswith(LANDED + "/") for x in rest):
                    dirs.append(day.parent)
            if q.exists() and len([f for f in cfg.quarantine_dir.iterdir() if f.name != q.name]) == 0:
                dirs.append(cfg.quarantine_dir)
        _write_journal(cfg, "removal", e.path, manifest_bytes, after_bytes, [], [], delete, dirs)
        try:
            manifest.atomic_write_bytes(cfg.manifest_path, after_bytes)
            build.build(cfg)
        except BaseException as exc:
            _undo(cfg, manifest_bytes, [], [])
            _clear_journal(cfg)
            if not isinstance(exc, Exception):
                raise
            raise IngestFailed(
                f"removing {e.path}: the build failed ({type(exc).__name__}: {exc}); the manifest "
                "was put back and nothing was removed"
            ) from exc
        for f in delete:
            f.unlink(missing_ok=True)
        _undo(cfg, None, [], dirs)
        _clear_journal(cfg)
    try:
        from csp_data.warehouse import db

        db.reset()
    except Exception:  # pragma: no cover
        pass
    lines.append(
        f"removed {e.path} ({KIND_LABEL.get(e.kind, e.kind)}, as of {e.as_of}) "
        + ("from the manifest; the embedded file is kept" if embedded else "and deleted it")
        + "; the warehouse was rebuilt"
    )
    if dataset:
        after = _state(cfg, {dataset})
        b, a = _monthly(before[dataset]), _monthly(after[dataset])
        gone = [m for m in sorted(b) if m not in a]
        changed = [(m, b[m], a[m]) for m in sorted(b) if m in a and a[m] != b[m]]
        lines.append(f"{DATASETS[dataset][0].format(b=cfg.borough_name)}:")
        lines += [f"  no longer held {r}" for r in _runs(gone)]
        lines += [
            f"  now from another snapshot {m}: {_fmt(x)} -> {_fmt(y)} ({y - x:+,d})" for m, x, y in changed
        ]
        if not gone and not changed:
            lines.append("  no month changed (another snapshot holds the same counts)")
    return lines


def sources_main(action: str, ident: str | None = None, force: bool = False) -> int:
    """``python -m csp_data sources list | remove ID [--force]``: 0 done, 2 refused, 1 failed."""
    cfg = get_settings()
    try:
        if action == "list":
            lines = list_sources(cfg)
        else:
            if not ident:
                print(
                    "refused: sources remove needs an ID (see: python -m csp_data sources list)",
                    file=sys.stderr,
                )
                return 2
            lines = remove_source(ident, cfg, force=force)
    except IngestFailed as exc:
        print(f"failed: {exc}", file=sys.stderr)
        return 1
    except (IngestError, manifest.ManifestError) as exc:
        print(f"refused: {exc}. Nothing was changed.", file=sys.stderr)
        return 2
    for line in lines:
        print(line)
    return 0
