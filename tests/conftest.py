"""Shared fixtures. The real embedded data is built once per session into the repo's
data/warehouse (as the app uses it); tests that write get a private copy of data/ in tmp."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import streamlit as st

from csp_data.config import REPO_ROOT, settings
from csp_data.present import memo
from csp_data.warehouse import build, db


def shown(text):
    """Markdown as a reader sees it: backslash escapes and the invisible word joiners that keep data
    from becoming links (``csp_data.present.formatting.md_plain``) removed. Anything not a string as it is."""
    if not isinstance(text, str):
        return text
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text).replace("\u2060", "")


@contextlib.contextmanager
def borough_environment(data_dir: Path, code: str):
    """For the block: ``CSP_DATA_DIR`` and ``CSP_BOROUGH_CODE`` set (``CSP_BOROUGH`` unset), as a
    deployment for that borough has them; the three are put back as they were afterwards."""
    names = ("CSP_DATA_DIR", "CSP_BOROUGH_CODE", "CSP_BOROUGH")
    saved = {k: os.environ.get(k) for k in names}
    os.environ.update(CSP_DATA_DIR=str(data_dir), CSP_BOROUGH_CODE=code)
    os.environ.pop("CSP_BOROUGH", None)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_cli(
    data_dir: Path, *args: str, text: bool = True, borough: str | None = None, **env_extra: str
) -> subprocess.CompletedProcess:
    """``python -m csp_data ARGS`` in a child process over ``data_dir``, capturing its output and
    exit code: for the default borough (whatever the test environment sets), or ``borough`` (its
    ONS code); ``env_extra`` adds variables (e.g. ``CSP_BOROUGH="Hackney"``)."""
    env = {**os.environ, "CSP_DATA_DIR": str(data_dir)}
    env.pop("CSP_BOROUGH_CODE", None)
    env.pop("CSP_BOROUGH", None)
    if borough is not None:
        env["CSP_BOROUGH_CODE"] = borough
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "-m", "csp_data", *args],
        check=False,
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=text,
        timeout=300,
    )


@pytest.fixture(scope="session")
def warehouse() -> Path:
    """The real warehouse, built from data/sources if missing or stale."""
    cfg = settings()
    built, _ = build.ensure_built(cfg)  # under a lock: parallel workers build once
    if built:
        db.reset()
    return cfg.warehouse_dir


@pytest.fixture(scope="session")
def _built_copy(tmp_path_factory, warehouse) -> Path:
    """A built copy of data/ (sources + warehouse) made once; copied again per test."""
    root = tmp_path_factory.mktemp("data_template")
    shutil.copytree(REPO_ROOT / "data" / "sources", root / "sources")
    shutil.copytree(warehouse, root / "warehouse")
    return root


@pytest.fixture
def data_copy(tmp_path, _built_copy, monkeypatch) -> Path:
    """A private, already-built copy of data/ with CSP_DATA_DIR pointing at it."""
    dest = tmp_path / "data"
    shutil.copytree(_built_copy, dest)
    monkeypatch.setenv("CSP_DATA_DIR", str(dest))
    db.reset()
    yield dest
    db.reset()


@pytest.fixture(autouse=True)
def _clear_streamlit_caches():
    """AppTest runs share this process's Streamlit caches: every test starts and ends with them empty."""
    st.cache_data.clear()
    st.cache_resource.clear()
    memo.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()
    memo.clear()


@pytest.fixture
def app_env(warehouse, monkeypatch):
    """The real (built) warehouse, internal mode unless a test says otherwise."""
    monkeypatch.setenv("CSP_MODE", "internal")
    return monkeypatch


def page_warnings(at) -> list[str]:
    """The warnings a page shows itself: everything but local mode's "do not publish" banner,
    which every internal page carries when no sign-in is configured (tests/test_access.py)."""
    from csp_data.ui.access import LOCAL_BANNER

    return [w.value for w in at.warning if w.value != LOCAL_BANNER]
