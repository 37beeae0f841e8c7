"""Cached loaders. Each is one function under :func:`warehouse_cached`, which keys its results on
the arguments plus the warehouse stamp (and, for the plan, the plan files' times), so a rebuild
(new data ingested) or a plan edit invalidates them without restarting the server.

Access: ``st.cache_data`` is shared by every session of the server, so a cached function that can
return restricted data is keyed on the viewer's access level and checks it. Named queries go
through :func:`query` (keyed on the level, checked inside against
:func:`csp_data.config.access.query_role`); the page loaders in ``ui/hotspots.py``, ``ui/ttcg.py``
and ``ui/stop_search.py`` use ``by="staff"`` (:func:`staff_key`), which refuses a viewer below
``analyst`` before any lookup and carries the level."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar, cast

import pandas as pd
import streamlit as st

from csp_data.analysis import scorecard
from csp_data.config import access, settings
from csp_data.present import memo
from csp_data.warehouse import build, sql

F = TypeVar("F", bound=Callable[..., Any])
VAR_KEYWORD = inspect.Parameter.VAR_KEYWORD


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


def _viewer_key() -> str:
    """Cache key for :func:`query`: the viewer's level (checked inside) plus the warehouse stamp."""
    return f"{viewer_level()}|{warehouse_key()}"


# What a decorated loader's results are keyed on (looked up at call time, so a test may replace them).
_KEYS: dict[str, Callable[[], str]] = {
    "warehouse": lambda: warehouse_key(),
    "plan": lambda: plan_key(),
    "staff": lambda: staff_key(),
    "viewer": lambda: _viewer_key(),
}


def warehouse_cached(
    *,
    ttl: float | None = 3600,
    max_entries: int | None = None,
    show_spinner: bool | str = False,
    by: str = "warehouse",
    resource: bool = False,
) -> Callable[[F], F]:
    """Cache a loader on its arguments plus a key computed at every call, so callers pass only the
    arguments they mean:

    * ``by="warehouse"``: the warehouse stamp (:func:`warehouse_key`): a rebuild gives fresh results;
    * ``by="plan"``: the stamp plus the plan and partnership files' times (:func:`plan_key`);
    * ``by="staff"``: :func:`staff_key`, which refuses a viewer below analyst before any lookup;
    * ``by="viewer"``: the viewer's level plus the stamp (the function checks the level itself).

    Arguments are bound to the function's signature (defaults applied, ``**kwargs`` sorted), so
    ``f(a)`` and ``f(a, default)`` share an entry; Streamlit hashes dataclasses, dates, lists and
    tuples by value. ``st.cache_data`` hands every caller its own copy of the result;
    ``resource=True`` uses ``st.cache_resource`` instead (one shared object: do not change it)."""
    if by not in _KEYS:
        raise ValueError(f"warehouse_cached: by must be one of {sorted(_KEYS)}, not {by!r}")

    def decorate(func: F) -> F:
        sig = inspect.signature(func)

        # ``stamp`` and ``call`` are hashed; ``_args``/``_kwargs`` (the call as made) are not.
        def cached(stamp: str, call: tuple, _args: tuple, _kwargs: dict):
            return func(*_args, **_kwargs)

        # Streamlit keys a function's cache on its module and qualified name: the loader's own.
        cached.__module__, cached.__qualname__ = func.__module__, func.__qualname__
        cached.__name__, cached.__doc__ = func.__name__, func.__doc__
        if resource:
            store = st.cache_resource(ttl=ttl, max_entries=max_entries, show_spinner=show_spinner)(cached)
        else:
            store = st.cache_data(ttl=ttl, max_entries=max_entries, show_spinner=show_spinner)(cached)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            stamp = _KEYS[by]()
            bound = sig.bind(*args, **kwargs)
            bound.apply_defaults()
            call = tuple(
                (name, tuple(sorted(value.items())) if sig.parameters[name].kind is VAR_KEYWORD else value)
                for name, value in bound.arguments.items()
            )
            return store(stamp, call, args, kwargs)

        wrapper.clear = store.clear  # type: ignore[attr-defined]
        return cast(F, wrapper)

    return decorate


@warehouse_cached(max_entries=256, by="viewer")
def query(name: str, **params) -> pd.DataFrame:
    """Run a named query through the cache, as the current viewer (keyed on the viewer's level).
    Raises AccessDenied when the query is restricted and the viewer is not staff: the level is
    checked here, inside the cached function, so a result is only ever stored for a level allowed
    to see it."""
    access.check_query(name, viewer_level())
    values: dict[str, Any] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in params.items()}
    return sql.run(name, **values)


@warehouse_cached(max_entries=8)
def borough_scorecard() -> list:
    return scorecard.scorecard()


@warehouse_cached(max_entries=8)
def london_comparisons() -> dict:
    """measure id -> {"l12": LondonComparison | None, "fy": ...} for the scorecard tiles
    (aggregates over the 32 boroughs, public)."""
    from csp_data.analysis import london

    return {r.measure.id: london.for_score_row(r) for r in borough_scorecard()}  # the tiles' own rows, cached


def clear() -> None:
    st.cache_data.clear()
    memo.clear()


def _files_key(*paths) -> str:
    """Modification times of plan and partnership files, so edits show without a restart."""
    return ":".join(str(p.stat().st_mtime_ns) if p.exists() else "0" for p in paths)


def plan_key() -> str:
    from csp_data.plan.document import plan_path
    from csp_data.plan.partnership import figures_path

    return warehouse_key() + "|" + _files_key(plan_path(), figures_path())


@warehouse_cached(max_entries=64)
def measure_view(measure_id: str):
    from csp_data.analysis import trends
    from csp_data.plan.measures import get

    return trends.view(get(measure_id))


@warehouse_cached(max_entries=64)
def fy_totals(measure_id: str) -> pd.DataFrame:
    from csp_data.analysis import trends

    return trends.fy_totals(measure_view(measure_id).series)


@warehouse_cached(max_entries=64)
def recent_control(measure_id: str, shown_months: int = 36, baseline_months: int = 24) -> pd.DataFrame:
    """The measure's last ``shown_months`` months with control limits from the ``baseline_months``
    before the latest year (csp_data.analysis.stats.recent_control)."""
    from csp_data.analysis import stats

    v = measure_view(measure_id)
    return stats.recent_control(
        v.series, v.latest, shown_months=shown_months, baseline_months=baseline_months
    )


@warehouse_cached(max_entries=128)
def breakdown(measure_id: str, start, end) -> pd.DataFrame:
    from csp_data.analysis import trends
    from csp_data.plan.measures import get
    from csp_data.plan.periods import make

    return trends.breakdown(get(measure_id), make(start, end))


@warehouse_cached(max_entries=128)
def ward_table(measure_id: str, start, end):
    from csp_data.analysis import trends
    from csp_data.plan.measures import get
    from csp_data.plan.periods import make

    return trends.ward_table(get(measure_id), make(start, end))


@warehouse_cached(max_entries=32)
def composite_breakdown(measure_id: str, start, end) -> pd.DataFrame:
    """A composite measure's parts over a period (csp_data.analysis.composite.breakdown)."""
    from csp_data.analysis.composite import breakdown as _breakdown
    from csp_data.plan.measures import get
    from csp_data.plan.periods import make

    return _breakdown(get(measure_id), make(start, end))


@warehouse_cached(max_entries=32)
def outcome_rates(measure_id: str) -> pd.DataFrame:
    from csp_data.analysis import trends
    from csp_data.plan.measures import get

    return trends.outcome_rates(get(measure_id))


@warehouse_cached(max_entries=32)
def dashboard_subtypes(crime_type: str, start, end) -> pd.DataFrame:
    from csp_data.analysis import trends
    from csp_data.plan.periods import make

    return trends.dashboard_subtypes(crime_type, make(start, end))


@warehouse_cached(max_entries=8, by="plan")
def plan():
    from csp_data.plan.document import load_plan

    return load_plan()


@warehouse_cached(max_entries=8, by="plan")
def targets() -> list:
    """Every target evaluated on the current warehouse, plan and partnership figures."""
    from csp_data.analysis.targets import evaluate_all

    return evaluate_all(plan())


@warehouse_cached(max_entries=4)
def wards() -> list:
    """The borough's wards (code, name, Census 2021 residents)."""
    from csp_data.analysis.ward_profile import wards as _w

    return _w()


def resolve_ward(code: str):
    """The ward for a code from a URL; raises WardError with a message fit to show."""
    text = (code or "").strip().upper()
    for w in wards():
        if w.code == text:
            return w
    from csp_data.analysis.ward_profile import resolve

    return resolve(code)  # raises the right WardError (malformed or unknown)


@warehouse_cached(max_entries=32)
def ward_profile(code: str):
    from csp_data.analysis.ward_profile import profile

    return profile(code)
