"""The one cache decorator (csp_data.ui.cache.warehouse_cached): a loader runs again after the
warehouse is rebuilt (its stamp file changes) and, when keyed on the plan, after a plan file
edit, and not otherwise; dataclass arguments are hashed by value; restricted loaders refuse a
public viewer before any lookup. A private data folder with a stamp file stands in for a build."""

from __future__ import annotations

import os
from datetime import date

import pytest

from csp_data.analysis.areas import Category
from csp_data.config.access import AccessDenied
from csp_data.plan.periods import Period, make
from csp_data.ui import cache
from csp_data.warehouse import build


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """An empty data folder with a warehouse stamp and a plan file, as the environment's."""
    root = tmp_path / "data"
    (root / "warehouse").mkdir(parents=True)
    (root / "warehouse" / build.STAMP).write_text("{}")
    plan = tmp_path / "plan.toml"
    plan.write_text("# plan\n")
    monkeypatch.setenv("CSP_DATA_DIR", str(root))
    monkeypatch.setattr("csp_data.plan.document.plan_path", lambda *a, **k: plan)
    monkeypatch.setattr("csp_data.plan.partnership.figures_path", lambda *a, **k: tmp_path / "none.toml")
    return root


def bump(path) -> None:
    """A later modification time, as a rebuild or an editor leaves (no sleeping)."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))


def test_warehouse_keyed_loader_reruns_after_a_rebuild_only(data_dir):
    calls = []

    @cache.warehouse_cached(max_entries=8)
    def loader(n: int) -> list:
        calls.append(n)
        return [n, len(calls)]

    assert loader(1) == [1, 1]
    assert loader(1) == [1, 1] and calls == [1]  # cached
    assert loader(2) == [2, 2]  # other arguments: their own entry
    bump(data_dir / "warehouse" / build.STAMP)  # a rebuild
    assert loader(1) == [1, 3]
    assert loader(1) == [1, 3] and calls == [1, 2, 1]


def test_plan_keyed_loader_reruns_after_a_plan_edit_and_a_rebuild(data_dir, tmp_path):
    calls = []

    @cache.warehouse_cached(max_entries=8, by="plan")
    def plan_loader() -> int:
        calls.append(1)
        return len(calls)

    @cache.warehouse_cached(max_entries=8)
    def data_loader() -> int:
        calls.append(2)
        return len(calls)

    assert plan_loader() == 1 and data_loader() == 2
    assert plan_loader() == 1 and data_loader() == 2
    bump(tmp_path / "plan.toml")  # a plan edit: the plan loader only
    assert plan_loader() == 3 and data_loader() == 2
    bump(data_dir / "warehouse" / build.STAMP)  # a rebuild: both
    assert plan_loader() == 4 and data_loader() == 5
    assert calls == [1, 2, 1, 1, 2]


def test_dataclass_and_default_arguments_are_keyed_by_value(data_dir):
    calls = []

    @cache.warehouse_cached(max_entries=8)
    def loader(cat: Category, period: Period, geo: str = "Wards") -> str:
        calls.append((cat, period, geo))
        return f"{cat.label} {period.label} {geo}"

    cat = Category("Robbery", ("ROBBERY",), ())
    jan = make(date(2025, 1, 1), date(2025, 12, 1))
    assert loader(cat, jan) == "Robbery 2025 Wards"
    # Equal values (new objects), the default given, keywords: the same entry.
    assert loader(Category("Robbery", ("ROBBERY",), ()), make(date(2025, 1, 1), date(2025, 12, 1)), "Wards")
    assert loader(cat=cat, period=jan, geo="Wards") == "Robbery 2025 Wards"
    assert len(calls) == 1
    assert loader(Category("Robbery", ("ROBBERY",), ("X",)), jan) == "Robbery 2025 Wards"
    assert loader(cat, make(date(2024, 1, 1), date(2024, 12, 1)), "LSOAs") == "Robbery 2024 LSOAs"
    assert len(calls) == 3


def test_results_are_copies_for_cache_data_and_shared_for_resources(data_dir):
    @cache.warehouse_cached(max_entries=2)
    def data() -> list:
        return [1]

    @cache.warehouse_cached(ttl=None, max_entries=2, resource=True)
    def resource() -> list:
        return [1]

    data().append(2)
    assert data() == [1]
    resource().append(2)
    assert resource() == [1, 2]  # one shared object (the shapes): callers must not change it


def test_staff_loader_refuses_a_public_viewer_before_any_lookup(data_dir, monkeypatch):
    calls = []

    @cache.warehouse_cached(max_entries=2, by="staff")
    def restricted() -> int:
        calls.append(1)
        return 1

    monkeypatch.setattr(cache, "viewer_level", lambda: "analyst")
    assert restricted() == 1
    monkeypatch.setattr(cache, "viewer_level", lambda: "public")
    with pytest.raises(AccessDenied):
        restricted()
    monkeypatch.setattr(cache, "viewer_level", lambda: "officer")
    assert restricted() == 1 and calls == [1, 1]  # keyed on the level too


def test_query_is_keyed_on_the_viewer_level_and_the_parameters(data_dir, monkeypatch):
    seen = []
    monkeypatch.setattr(cache.sql, "run", lambda name, **p: seen.append((name, p)) or len(seen))
    monkeypatch.setattr(cache, "viewer_level", lambda: "analyst")
    assert cache.query("meta/wards") == 1
    assert cache.query("crime/x", a=[1], b=2) == 2
    assert cache.query("crime/x", b=2, a=[1]) == 2  # keyword order does not matter
    assert cache.query("crime/x", a=(1,), b=2) == 3 and seen[-1] == ("crime/x", {"a": [1], "b": 2})
    monkeypatch.setattr(cache, "viewer_level", lambda: "public")
    with pytest.raises(AccessDenied):
        cache.query("stop_search/coverage")
    assert cache.query("meta/wards") == 4


def test_by_must_name_a_key():
    with pytest.raises(ValueError, match="by must be one of"):
        cache.warehouse_cached(by="session")
