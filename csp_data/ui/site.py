"""What app.py, the public pages and the targets page need from below the ui layer. Pages import
only from ``csp_data.ui``: here are the display tables of :mod:`csp_data.present.site` and the few
lower-level names a page shows or passes on (settings, the pages registry, thresholds). Public pages
import this module, so it names no restricted query: the admin pages' loaders are in
:mod:`csp_data.ui.admin`."""

from __future__ import annotations

import pandas as pd

from csp_data.analysis.funnel import ward_funnel
from csp_data.analysis.stats import ALPHA
from csp_data.analysis.ward_profile import WardError
from csp_data.config import REPO_ROOT, settings
from csp_data.config.pages import SECTIONS, pages_for
from csp_data.plan.document import no_plan_message
from csp_data.plan.measures import PRIORITIES
from csp_data.present import site as present_site
from csp_data.present.charts import funnel_chart, small_trend
from csp_data.present.site import (
    by_priority,
    help_lines,
    periods_and_sources,
    previous_plan_table,
    scorecard_csv,
    scorecard_table,
    status_counts,
    targets_at_a_glance,
    targets_by_priority,
    targets_csv,
    targets_sources,
    targets_table,
    ward_monthly,
    ward_totals,
    ward_verdicts,
)
from csp_data.ui import cache

__all__ = [
    "ALPHA",
    "PRIORITIES",
    "REPO_ROOT",
    "SECTIONS",
    "WardError",
    "by_priority",
    "funnel_chart",
    "borough_name",
    "help_lines",
    "no_plan_message",
    "pages_for",
    "periods_and_sources",
    "previous_plan_table",
    "scorecard_csv",
    "scorecard_grid",
    "scorecard_table",
    "settings",
    "small_trend",
    "sources_table",
    "status_counts",
    "targets_at_a_glance",
    "targets_by_priority",
    "targets_csv",
    "targets_sources",
    "targets_table",
    "ward_funnel",
    "ward_monthly",
    "ward_totals",
    "ward_verdicts",
]


def sources_table() -> pd.DataFrame:
    """Every source held, with publisher, licence and origin (About the data)."""
    return present_site.sources_table(cache.query("meta/sources"))


def scorecard_grid(rows: list) -> pd.DataFrame:
    """The scorecard one line per measure, with the London comparison of each row (cached)."""
    return present_site.scorecard_grid(rows, cache.london_comparisons())


def borough_name() -> str:
    """The configured borough's name (``CSP_BOROUGH_CODE``), as pages write it."""
    return settings().borough_name
