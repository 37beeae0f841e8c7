"""Paths, the configured area and the run mode, all from environment variables.

``CSP_DATA_DIR``  the data folder (holds ``sources/`` and ``warehouse/``); default ``<repo>/data``.
``CSP_MODE``      ``internal`` (default) or ``public``.
``CSP_BOROUGH_CODE``  the CSP's local authority: the ONS code of a London borough the Metropolitan
                  Police serves (:data:`LONDON_BOROUGHS`); default ``E09000030`` (Tower Hamlets). The
                  borough's name follows from the code, spelt as the MPS files spell it.
``CSP_BOROUGH``   optional; if set it must be that name (a check, not a second choice).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
QUERIES_DIR = REPO_ROOT / "queries"

MODES = ("internal", "public")


# The 33 London local authorities (ONS LAD codes, as in the embedded LSOA 2021 to ward best-fit
# lookup) with the names the MPS borough, ward and LSOA files use (tests/test_boroughs.py checks
# both). The City of London is not policed by the Met: CITY_OF_LONDON is refused with a reason.
CITY_OF_LONDON = "E09000001"
LONDON_BOROUGHS: dict[str, str] = {
    "E09000001": "City of London",
    "E09000002": "Barking and Dagenham",
    "E09000003": "Barnet",
    "E09000004": "Bexley",
    "E09000005": "Brent",
    "E09000006": "Bromley",
    "E09000007": "Camden",
    "E09000008": "Croydon",
    "E09000009": "Ealing",
    "E09000010": "Enfield",
    "E09000011": "Greenwich",
    "E09000012": "Hackney",
    "E09000013": "Hammersmith and Fulham",
    "E09000014": "Haringey",
    "E09000015": "Harrow",
    "E09000016": "Havering",
    "E09000017": "Hillingdon",
    "E09000018": "Hounslow",
    "E09000019": "Islington",
    "E09000020": "Kensington and Chelsea",
    "E09000021": "Kingston upon Thames",
    "E09000022": "Lambeth",
    "E09000023": "Lewisham",
    "E09000024": "Merton",
    "E09000025": "Newham",
    "E09000026": "Redbridge",
    "E09000027": "Richmond upon Thames",
    "E09000028": "Southwark",
    "E09000029": "Sutton",
    "E09000030": "Tower Hamlets",
    "E09000031": "Waltham Forest",
    "E09000032": "Wandsworth",
    "E09000033": "Westminster",
}
MET_BOROUGHS: dict[str, str] = {c: n for c, n in LONDON_BOROUGHS.items() if c != CITY_OF_LONDON}
DEFAULT_BOROUGH_CODE = "E09000030"


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
    mode = (raw["CSP_MODE"] if raw["CSP_MODE"] is not None else "internal").strip().lower()
    if mode not in MODES:
        raise ConfigError(f"CSP_MODE must be one of {', '.join(MODES)}; got {mode!r}")
    code = (raw["CSP_BOROUGH_CODE"] or "").strip().upper() or DEFAULT_BOROUGH_CODE
    name = borough_name_for(code)
    given = (raw["CSP_BOROUGH"] or "").strip()
    if given and given.casefold() != name.casefold():
        raise ConfigError(
            f"CSP_BOROUGH={given!r} does not match CSP_BOROUGH_CODE={code} ({name}). The borough is chosen "
            "by CSP_BOROUGH_CODE alone and its name follows from it: unset CSP_BOROUGH, or set it to "
            f"{name!r}."
        )
    return Settings(data_dir=data_dir, mode=mode, borough_name=name, borough_code=code)


def borough_name_for(code: str) -> str:
    """The MPS name of the Met borough with ONS code ``code``; ConfigError (saying why) otherwise."""
    if code == CITY_OF_LONDON:
        raise ConfigError(
            "CSP_BOROUGH_CODE=E09000001 is the City of London, which has its own police force (City of "
            "London Police): the Metropolitan Police files this dashboard reads hold no City of London "
            "data. Choose one of the 32 boroughs the Met polices."
        )
    if code not in MET_BOROUGHS:
        raise ConfigError(
            f"CSP_BOROUGH_CODE={code!r} is not a London borough the Metropolitan Police serves. Use the "
            "borough's 9-character ONS local authority code (E09000002 to E09000033, e.g. E09000030 Tower "
            "Hamlets, E09000012 Hackney): `python -m csp_data boroughs` lists them all, as do the ONS "
            "Open Geography Portal's local authority district names and codes."
        )
    return MET_BOROUGHS[code]
