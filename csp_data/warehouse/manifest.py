"""The checksum manifest of ``data/sources/``: what each raw file is, where it came from, and
how new its data are. The build reads only files listed here; ingest adds entries.

``as_of`` orders snapshots of the same data: where two files cover the same month, the one with
the later ``as_of`` (then the later ``landed_at``) wins, and the difference is logged as a revision.

``as_of`` has one format, ``YYYY-MM-DD``: the publisher's refresh date when the file states one
(Monthly Crime Dashboard, business crime), otherwise the last day of the newest month of data.
``extra["as_of_basis"]`` says which ("refresh date", "newest month", or "stated" for a date
written by hand into the embedded manifest). Older manifests wrote ``YYYY-MM``; ``load``
normalises those to the month's last day (basis "newest month") and ``save`` writes them back
normalised (``migrate`` does it explicitly). Precedence is ``(as_of, landed_at, basis is not
"newest month", path)``: a re-publication landed later wins a tie, and between two files landed
together a stated date beats one derived from the data's newest month.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from csp_data.warehouse.fileio import atomic_write_bytes

KINDS = {
    "mps_wide_borough",
    "mps_wide_ward",
    "mps_wide_lsoa",
    "mps_dashboard",
    "mps_business_offences",
    "policeuk_street",
    "policeuk_outcomes",
    "policeuk_stop_search",
    "boundary_wards",
    "boundary_lsoa21",
    "boundary_borough",
    "lookup_lsoa21_ward",
    "lookup_ward_names",
    "census_age_lsoa21",
    "census_population_ward",
    # London-wide geography, population and deprivation (any borough the Met polices; issue 17)
    "boundary_lsoa21_london",  # London LSOA 2021 polygons (maps; placing Met-wide records in boroughs)
    "lookup_lsoa21_ward_london",
    "census_residents_lsoa21_london",
    "census_ethnicity_lad",  # Census 2021 TS021 residents by ethnic group per London borough
    "imd2019_lsoa11",  # English Indices of Deprivation 2019, London LSOA 2011 (peer boroughs)
}


class ManifestError(ValueError):
    pass


_YM = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_YMD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])-(\d{2})$")


def month_end(ym: str) -> str:
    """``2025-02`` -> ``2025-02-28``."""
    m = _YM.match(ym)
    if not m:
        raise ManifestError(f"not a month (YYYY-MM): {ym!r}")
    y, mo = int(m.group(1)), int(m.group(2))
    return f"{ym}-{calendar.monthrange(y, mo)[1]:02d}"


def normalise_as_of(value: str) -> tuple[str, str | None]:
    """(``YYYY-MM-DD``, basis implied by the old format or None). ManifestError if unreadable."""
    value = str(value).strip()
    if _YM.match(value):
        return month_end(value), "newest month"
    m = _YMD.match(value)
    if m and 1 <= int(m.group(3)) <= calendar.monthrange(int(m.group(1)), int(m.group(2)))[1]:
        return value, None
    raise ManifestError(f"as_of must be YYYY-MM-DD (or the old YYYY-MM), got {value!r}")


@dataclass(frozen=True)
class Entry:
    path: str
    kind: str
    sha256: str
    bytes: int
    as_of: str
    snapshot: str
    publisher: str
    licence: str
    origin: str
    landed_at: str
    landed_by: str
    notes: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def precedence(self) -> tuple[str, str, bool, str]:
        return (self.as_of, self.landed_at, self.extra.get("as_of_basis") != "newest month", self.path)

    @property
    def id(self) -> str:
        """Short identifier for ``python -m csp_data sources``: the first 12 hex digits of the sha256."""
        return self.sha256[:12]


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load(path: Path) -> list[Entry]:
    if not path.exists():
        raise ManifestError(f"no manifest at {path}: the sources folder is incomplete")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ManifestError(f"{path.name} is not valid JSON: line {exc.lineno}: {exc.msg}") from exc
    entries = []
    for i, item in enumerate(raw.get("files", []), start=1):
        try:
            entry = Entry(**item)
        except TypeError as exc:
            raise ManifestError(f"{path.name}: entry {i}: {exc}") from exc
        entry = _normalised(entry, f"{path.name}: entry {i} ({entry.path})")
        if entry.kind not in KINDS:
            raise ManifestError(f"{path.name}: entry {i} ({entry.path}): unknown kind {entry.kind!r}")
        if Path(entry.path).is_absolute() or ".." in Path(entry.path).parts:
            raise ManifestError(f"{path.name}: entry {i}: path must stay inside sources/: {entry.path!r}")
        entries.append(entry)
    return entries


def _normalised(entry: Entry, where: str) -> Entry:
    try:
        as_of, implied = normalise_as_of(entry.as_of)
    except ManifestError as exc:
        raise ManifestError(f"{where}: {exc}") from exc
    extra = dict(entry.extra or {})
    if "as_of_basis" not in extra:
        extra["as_of_basis"] = implied or "stated"
    if as_of == entry.as_of and extra == entry.extra:
        return entry
    return Entry(**{**asdict(entry), "as_of": as_of, "extra": dict(sorted(extra.items()))})


def migrate(path: Path) -> bool:
    """Rewrite an old-format manifest with every ``as_of`` as ``YYYY-MM-DD``. True if it changed."""
    entries = load(path)
    before = path.read_bytes()
    save(path, entries)
    return path.read_bytes() != before


def save(path: Path, entries: list[Entry]) -> None:
    """Write atomically: temp file in the same folder, fsync, os.replace."""
    atomic_write_bytes(path, dumps(entries))


def dumps(entries: list[Entry]) -> bytes:
    """The manifest file's exact bytes for these entries (sorted by path)."""
    payload = {"files": [asdict(e) for e in sorted(entries, key=lambda e: e.path)]}
    return (json.dumps(payload, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def verify(sources_dir: Path, entries: list[Entry]) -> list[str]:
    """Problems with the files behind the manifest (missing, changed). Empty when all is well."""
    problems = []
    for e in entries:
        p = sources_dir / e.path
        if not p.exists():
            problems.append(f"{e.path}: listed in the manifest but missing")
        elif p.stat().st_size != e.bytes or sha256_file(p) != e.sha256:
            problems.append(f"{e.path}: checksum differs from the manifest (file edited?)")
    return problems


def digest(entries: list[Entry]) -> str:
    """One hash of the whole manifest: changes whenever a source is added or replaced."""
    h = hashlib.sha256()
    for e in sorted(entries, key=lambda e: e.path):
        # Every field, provenance included: the warehouse's sources table carries them.
        h.update(json.dumps(asdict(e), sort_keys=True, default=str).encode() + b"\n")
    return h.hexdigest()
