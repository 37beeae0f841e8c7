"""Cached loaders. Results are keyed by primitive arguments plus the warehouse stamp, so a rebuild
(new data ingested) invalidates them without restarting the server."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from .. import build, scorecard, sql
from ..config import settings


def warehouse_key() -> str:
    """Changes whenever the warehouse is rebuilt (its stamp file changes)."""
    cfg = settings()
    stamp = cfg.warehouse_dir / build.STAMP
    return f"{cfg.data_dir}:{stamp.stat().st_mtime_ns if stamp.exists() else 0}"


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def _run(name: str, key: str, params: tuple) -> pd.DataFrame:
    return sql.run(name, **{k: (list(v) if isinstance(v, tuple) else v) for k, v in params})


def query(name: str, **params) -> pd.DataFrame:
    """Run a named query through the cache. Lists are passed as tuples so they hash."""
    frozen = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in params.items()))
    return _run(name, warehouse_key(), frozen).copy()


@st.cache_data(ttl=3600, max_entries=8, show_spinner=False)
def _scorecard(key: str) -> list:
    return scorecard.scorecard()


def borough_scorecard() -> list:
    return _scorecard(warehouse_key())


def clear() -> None:
    st.cache_data.clear()
