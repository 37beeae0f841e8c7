"""The checksum manifest of ``data/sources/``: what each raw file is, where it came from, and
how new its data are. The build reads only files listed here; ingest adds entries.

``as_of`` orders snapshots of the same data: where two files cover the same month, the one with
the later ``as_of`` (then the later ``landed_at``) wins, and the difference is logged as a revision.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .fileio import atomic_write_bytes  # noqa: F401  (ingest and build call it from here)

KINDS = {
    "mps_wide_borough", "mps_wide_ward", "mps_wide_lsoa", "mps_dashboard", "mps_business_offences",
    "policeuk_street", "policeuk_outcomes", "policeuk_stop_search",
    "boundary_wards", "boundary_lsoa21", "boundary_borough", "lookup_lsoa21_ward", "lookup_ward_names",
    "census_age_lsoa21", "census_population_ward",
}


class ManifestError(ValueError):
    pass


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
    def precedence(self) -> tuple[str, str, str]:
        return (self.as_of, self.landed_at, self.path)


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
        if entry.kind not in KINDS:
            raise ManifestError(f"{path.name}: entry {i} ({entry.path}): unknown kind {entry.kind!r}")
        if Path(entry.path).is_absolute() or ".." in Path(entry.path).parts:
            raise ManifestError(f"{path.name}: entry {i}: path must stay inside sources/: {entry.path!r}")
        entries.append(entry)
    return entries


def save(path: Path, entries: list[Entry]) -> None:
    """Write atomically: temp file in the same folder, fsync, os.replace."""
    payload = {"files": [asdict(e) for e in sorted(entries, key=lambda e: e.path)]}
    text = json.dumps(payload, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    atomic_write_bytes(path, text.encode("utf-8"))


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
