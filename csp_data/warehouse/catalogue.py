"""The publishers' catalogue and the update state: data, shared by ``update`` (which fetches) and
``freshness`` (which says how current each source is, on every page).

``data/sources/publishers.toml`` lists each source: publisher, dataset identifier and resource
title, cadence and usual lag, first month. ``<data>/update_state.json`` records, per source, the
last check, last update and last result of ``python -m csp_data update`` (written atomically).
Nothing here talks to a network: public pages import this module, never :mod:`csp_data.warehouse.update`.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from csp_data.config import REPO_ROOT, Settings
from csp_data.config import settings as get_settings
from csp_data.warehouse.fileio import atomic_write_bytes

PUBLISHERS_FILE = "publishers.toml"
STATE_FILE = "update_state.json"


class UsageError(ValueError):
    """The command cannot run at all (exit code 2)."""


# ----------------------------------------------------------------------------- sources (data)


@dataclass(frozen=True)
class Source:
    name: str
    label: str
    publisher: str
    dataset: str
    cadence_months: int
    lag_days: int
    first_month: str
    dataset_id: str = ""
    title_contains: str = ""
    title_excludes: str = ""
    columns: tuple[str, ...] = ()
    wide_months: bool = False
    endpoint: str = ""
    force: str = "metropolitan"
    max_new_months: int = 12


def publishers_path(cfg: Settings | None = None) -> Path:
    """The data folder's own publishers.toml if it has one, else the repository's."""
    cfg = cfg or get_settings()
    own = cfg.sources_dir / PUBLISHERS_FILE
    return own if own.exists() else REPO_ROOT / "data" / "sources" / PUBLISHERS_FILE


def load_sources(path: Path | None = None) -> list[Source]:
    path = path or publishers_path()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"{path.name}: {exc}") from exc
    out = []
    known = set(Source.__dataclass_fields__)
    for i, item in enumerate(raw.get("source", []), start=1):
        extra = set(item) - known
        if extra:
            raise UsageError(f"{path.name}: source {i}: unknown key(s) {sorted(extra)}")
        try:
            item = dict(item)
            item["columns"] = tuple(item.get("columns", ()))
            src = Source(**item)
        except TypeError as exc:
            raise UsageError(f"{path.name}: source {i}: {exc}") from exc
        if src.publisher not in ("datastore", "police.uk"):
            raise UsageError(f"{path.name}: source {src.name}: publisher must be datastore or police.uk")
        if src.publisher == "police.uk" and src.endpoint not in ("street", "outcomes", "stop_search"):
            raise UsageError(
                f"{path.name}: source {src.name}: endpoint must be street, outcomes or stop_search"
            )
        if not re.fullmatch(r"\d{4}-\d{2}", src.first_month) or src.cadence_months < 1 or src.lag_days < 0:
            raise UsageError(
                f"{path.name}: source {src.name}: first_month YYYY-MM, cadence_months >= 1, lag_days >= 0"
            )
        out.append(src)
    names = [s.name for s in out]
    if len(set(names)) != len(names):
        raise UsageError(f"{path.name}: source names must be unique")
    return out


# ----------------------------------------------------------------------------- state file


def state_path(cfg: Settings) -> Path:
    return cfg.data_dir / STATE_FILE


def load_state(cfg: Settings) -> dict:
    p = state_path(cfg)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"sources": {}}
    return data if isinstance(data, dict) and isinstance(data.get("sources"), dict) else {"sources": {}}


def save_state(cfg: Settings, state: dict) -> None:
    atomic_write_bytes(state_path(cfg), (json.dumps(state, indent=1, sort_keys=True) + "\n").encode("utf-8"))
