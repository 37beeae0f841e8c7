"""What the admin pages (Data status, Partnership figures) need from below the ui layer: loaders that
read the warehouse's metadata and quality checks, and the upload limits. Public pages never import
this module (it names restricted queries)."""

from __future__ import annotations

import pandas as pd

from csp_data.config import settings
from csp_data.plan.partnership import MAX_UPLOAD_BYTES, MAX_UPLOAD_ROWS
from csp_data.present import site as present_site
from csp_data.ui import access, cache
from csp_data.warehouse import catalogue, freshness, sql

__all__ = [
    "MAX_UPLOAD_BYTES",
    "MAX_UPLOAD_ROWS",
    "check_results",
    "freshness_table",
    "level_totals",
    "role_table",
]


def freshness_table() -> pd.DataFrame:
    """Each source against the month its publisher should have released by now (Data status)."""
    cfg = settings()
    span = cache.query("meta/data_span", borough_code=cfg.borough_code)
    held = cache.query("meta/policeuk_months")
    newest = present_site.newest_months(span, held)
    return freshness.table(freshness.status(newest, state=catalogue.load_state(cfg)))


def level_totals(months: int = 13) -> pd.DataFrame:
    """Monthly totals at borough, ward and LSOA level for the last ``months`` months with a borough figure."""
    lv = cache.query("meta/level_totals", borough_code=settings().borough_code)
    return present_site.recent_level_totals(lv, months)


def check_results() -> pd.DataFrame:
    """Every quality check in ``queries/checks/`` run on the warehouse, with its result."""
    return present_site.check_results(
        (name, description, len(cache.query(name, **params)))
        for name, description, params in sql.check_specs(settings().borough_code)
    )


def role_table() -> pd.DataFrame:
    """Who has which role, from the ``[access]`` table of the secrets file (admin only)."""
    return present_site.access_table(access.role_map().describe())
