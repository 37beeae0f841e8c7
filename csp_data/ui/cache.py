"""Cached loaders. Results are keyed by primitive arguments plus the warehouse stamp, so a rebuild
(new data ingested) invalidates them without restarting the server.

Access: ``st.cache_data`` is shared by every session of the server, so a cached function that can
return restricted data takes the viewer's access level as an argument and checks it inside. Named
queries go through :func:`query` (level checked against :func:`csp_data.config.access.query_role`);
the page loaders in ``ui/hotspots.py``, ``ui/ttcg.py`` and ``ui/stop_search.py`` key on
:func:`staff_key`, which refuses a viewer below ``analyst`` and carries the level."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from csp_data.analysis import scorecard
from csp_data.config import access, settings
from csp_data.warehouse import build, sql


def warehouse_key() -> str:
    """Changes whenever the warehouse is rebuilt (its stamp file changes)."""
    cfg = settings()
    stamp = cfg.warehouse_dir / build.STAMP
    return f"{cfg.data_dir}:{stamp.stat().st_mtime_ns if stamp.exists() else 0}"


def viewer_level() -> str:
    """The current viewer's role (public, analyst, officer or admin)."""
    from csp_data.ui.access import viewer

    return viewer().role


def staff_key(required: str = "analyst") -> str:
    """Cache key for restricted loaders: the viewer's level plus the warehouse stamp. Raises
    AccessDenied below ``required``, so restricted results are never computed or served for a
    viewer who may not see them."""
    level = viewer_level()
    if not access.allows(level, required):
        raise access.AccessDenied(f"restricted data needs {required} access; this viewer is {level}")
    return f"{level}|{warehouse_key()}"


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def _run(name: str, key: str, params: tuple, level: str) -> pd.DataFrame:
    access.check_query(name, level)
    return sql.run(name, **{k: (list(v) if isinstance(v, tuple) else v) for k, v in params})


def query(name: str, **params) -> pd.DataFrame:
    """Run a named query through the cache, as the current viewer. Lists are passed as tuples so
    they hash. Raises AccessDenied when the query is restricted and the viewer is not staff."""
    level = viewer_level()
    access.check_query(name, level)
    frozen = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in params.items()))
    return _run(name, warehouse_key(), frozen, level).copy()


@st.cache_data(ttl=3600, max_entries=8, show_spinner=False)
def _scorecard(key: str) -> list:
    return scorecard.scorecard()


def borough_scorecard() -> list:
    return _scorecard(warehouse_key())


@st.cache_data(ttl=3600, max_entries=8, show_spinner=False)
def _london(key: str) -> dict:
    from csp_data.analysis import london

    return {r.measure.id: london.for_score_row(r) for r in _scorecard(key)}  # the tiles' own rows, cached


def london_comparisons() -> dict:
    """measure id -> {"l12": LondonComparison | None, "fy": ...} for the scorecard tiles
    (aggregates over the 32 boroughs, public)."""
    return _london(warehouse_key())


def clear() -> None:
    st.cache_data.clear()


def _files_key(*paths) -> str:
    """Modification times of plan and partnership files, so edits show without a restart."""
    return ":".join(str(p.stat().st_mtime_ns) if p.exists() else "0" for p in paths)


def plan_key() -> str:
    from csp_data.plan.document import plan_path
    from csp_data.plan.partnership import figures_path

    return warehouse_key() + "|" + _files_key(plan_path(), figures_path())


@st.cache_data(ttl=3600, max_entries=64, show_spinner=False)
def _view(measure_id: str, key: str):
    from csp_data.analysis import trends
    from csp_data.plan.measures import get

    return trends.view(get(measure_id))


def measure_view(measure_id: str):
    return _view(measure_id, warehouse_key())


def fy_totals(measure_id: str) -> pd.DataFrame:
    from csp_data.analysis import trends

    return trends.fy_totals(measure_view(measure_id).series)


@st.cache_data(ttl=3600, max_entries=128, show_spinner=False)
def _breakdown(measure_id: str, start, end, key: str) -> pd.DataFrame:
    from csp_data.analysis import trends
    from csp_data.plan.measures import get
    from csp_data.plan.periods import make

    return trends.breakdown(get(measure_id), make(start, end))


def breakdown(measure_id: str, start, end) -> pd.DataFrame:
    return _breakdown(measure_id, start, end, warehouse_key()).copy()


@st.cache_data(ttl=3600, max_entries=128, show_spinner=False)
def _ward_table(measure_id: str, start, end, key: str):
    from csp_data.analysis import trends
    from csp_data.plan.measures import get
    from csp_data.plan.periods import make

    return trends.ward_table(get(measure_id), make(start, end))


def ward_table(measure_id: str, start, end):
    out = _ward_table(measure_id, start, end, warehouse_key())
    return None if out is None else out.copy()


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False)
def _outcome_rates(measure_id: str, key: str) -> pd.DataFrame:
    from csp_data.analysis import trends
    from csp_data.plan.measures import get

    return trends.outcome_rates(get(measure_id))


def outcome_rates(measure_id: str) -> pd.DataFrame:
    return _outcome_rates(measure_id, warehouse_key()).copy()


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False)
def _subtypes(crime_type: str, start, end, key: str) -> pd.DataFrame:
    from csp_data.analysis import trends
    from csp_data.plan.periods import make

    return trends.dashboard_subtypes(crime_type, make(start, end))


def dashboard_subtypes(crime_type: str, start, end) -> pd.DataFrame:
    return _subtypes(crime_type, start, end, warehouse_key()).copy()


@st.cache_data(ttl=3600, max_entries=8, show_spinner=False)
def _plan(key: str):
    from csp_data.plan.document import load_plan

    return load_plan()


def plan():
    return _plan(plan_key())


@st.cache_data(ttl=3600, max_entries=8, show_spinner=False)
def _targets(key: str) -> list:
    from csp_data.analysis.targets import evaluate_all

    return evaluate_all(plan())


def targets() -> list:
    """Every target evaluated on the current warehouse, plan and partnership figures."""
    return _targets(plan_key())


@st.cache_data(ttl=3600, max_entries=4, show_spinner=False)
def _wards(key: str) -> list:
    from csp_data.analysis.ward_profile import wards as _w

    return _w()


def wards() -> list:
    """The borough's wards (code, name, Census 2021 residents)."""
    return _wards(warehouse_key())


def resolve_ward(code: str):
    """The ward for a code from a URL; raises WardError with a message fit to show."""
    text = (code or "").strip().upper()
    for w in wards():
        if w.code == text:
            return w
    from csp_data.analysis.ward_profile import resolve

    return resolve(code)  # raises the right WardError (malformed or unknown)


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False)
def _ward_profile(code: str, key: str):
    from csp_data.analysis.ward_profile import profile

    return profile(code)


def ward_profile(code: str):
    return _ward_profile(code, warehouse_key())
