"""Paths, the configured area and the run mode, all from environment variables.

``CSP_DATA_DIR``  the data folder (holds ``sources/`` and ``warehouse/``); default ``<repo>/data``.
``CSP_MODE``      ``internal`` (default) or ``public``.
``CSP_BOROUGH`` / ``CSP_BOROUGH_CODE``  the CSP's local authority as the MPS names it and its ONS code.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
QUERIES_DIR = REPO_ROOT / "queries"

MODES = ("internal", "public")


class ConfigError(ValueError):
    """A setting in the environment is wrong."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    mode: str
    borough_name: str
    borough_code: str

    @property
    def sources_dir(self) -> Path:
        return self.data_dir / "sources"

    @property
    def warehouse_dir(self) -> Path:
        return self.data_dir / "warehouse"

    @property
    def manifest_path(self) -> Path:
        return self.sources_dir / "manifest.json"

    @property
    def quarantine_dir(self) -> Path:
        return self.data_dir / "quarantine"


_ENV = ("CSP_DATA_DIR", "CSP_MODE", "CSP_BOROUGH", "CSP_BOROUGH_CODE")


def settings() -> Settings:
    """The settings the environment gives now (tests change the env). The environment is read on
    every call; the Settings made from one combination of values are kept (a page run asks about
    a hundred times, and resolving the data folder's path is the costly part). A wrong value is
    never kept: it raises ConfigError on every call."""
    # the working folder too: a relative CSP_DATA_DIR resolves against it
    return _settings_from(tuple(os.environ.get(k) for k in _ENV), os.getcwd())


@functools.lru_cache(maxsize=32)
def _settings_from(env: tuple[str | None, ...], cwd: str) -> Settings:
    raw = dict(zip(_ENV, env, strict=True))
    data_dir = Path(raw["CSP_DATA_DIR"] if raw["CSP_DATA_DIR"] is not None else REPO_ROOT / "data").resolve()
    mode = (raw["CSP_MODE"] or "internal").strip().lower()
    if mode not in MODES:
        raise ConfigError(f"CSP_MODE must be one of {', '.join(MODES)}; got {mode!r}")
    name = (raw["CSP_BOROUGH"] if raw["CSP_BOROUGH"] is not None else "Tower Hamlets").strip()
    code = (raw["CSP_BOROUGH_CODE"] if raw["CSP_BOROUGH_CODE"] is not None else "E09000030").strip()
    if not (len(code) == 9 and code[0] in "EW" and code[1:].isdigit()):
        raise ConfigError(f"CSP_BOROUGH_CODE must be a 9-character ONS code like E09000030; got {code!r}")
    return Settings(data_dir=data_dir, mode=mode, borough_name=name, borough_code=code)
