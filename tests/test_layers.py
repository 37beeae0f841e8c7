"""The layer rules hold: the import contracts in pyproject.toml (import-linter), checked in the suite
as well as by `make lint`. Lowest first: config < warehouse < plan < analysis < present < ui; only
csp_data.ui imports Streamlit. These replace the per-module "no streamlit import" tests. Pages importing
only csp_data.ui is checked by tests/test_pages_layer.py."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


@pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is installed by requirements-dev.txt")
def test_import_contracts_are_kept():
    res = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300
    )
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    assert re.search(r"Contracts: \d+ kept, 0 broken", res.stdout), res.stdout[-2000:]


def test_contracts_name_every_subpackage():
    """A new subpackage of csp_data must be placed in a layer, or the contract would not see it."""
    import tomllib

    conf = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    layers = conf["tool"]["importlinter"]["contracts"][0]["layers"]
    named = {m.strip() for line in layers for m in line.split("|")}
    subpackages = {
        f"csp_data.{p.name}"
        for p in (REPO_ROOT / "csp_data").iterdir()
        if p.is_dir() and (p / "__init__.py").exists()
    }
    assert subpackages <= named, subpackages - named
