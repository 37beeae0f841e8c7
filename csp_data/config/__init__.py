"""Paths, the configured area and the run mode, all from environment variables.

``CSP_DATA_DIR``  the data folder (holds ``sources/`` and ``warehouse/``); default ``<repo>/data``.
``CSP_MODE``      ``internal`` (default) or ``public``.
``CSP_BOROUGH`` / ``CSP_BOROUGH_CODE``  the CSP's local authority as the MPS names it and its ONS code.
"""

from __future__ import annotations

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


def settings() -> Settings:
    """Read the settings afresh from the environment (cheap; tests change the env)."""
    data_dir = Path(os.environ.get("CSP_DATA_DIR", REPO_ROOT / "data")).resolve()
    mode = os.environ.get("CSP_MODE", "internal").strip().lower()
    if mode not in MODES:
        raise ConfigError(f"CSP_MODE must be one of {', '.join(MODES)}; got {mode!r}")
    name = os.environ.get("CSP_BOROUGH", "Tower Hamlets").strip()
    code = os.environ.get("CSP_BOROUGH_CODE", "E09000030").strip()
    if not (len(code) == 9 and code[0] in "EW" and code[1:].isdigit()):
        raise ConfigError(f"CSP_BOROUGH_CODE must be a 9-character ONS code like E09000030; got {code!r}")
    return Settings(data_dir=data_dir, mode=mode, borough_name=name, borough_code=code)
