"""Memoised drawing: a chart, map or table built once per distinct input, then reused by every page
run and every session of the server.

Building an altair chart and turning it into its Vega-Lite spec costs 20-100 ms (schema
validation and deep copies), and serialising an LSOA map deck about 60 ms; a page draws up to a
dozen of them, and the inputs (cached query results) change only when the warehouse is rebuilt.
:func:`memoize` keys a builder's result on a fingerprint of its arguments' *content* (a digest of a
DataFrame's column names, dtypes, attributes, index and values; dataclasses, dates and containers
by value) plus the settings that name the data (data folder and borough), so a rebuild with new figures, or another
borough, gives a fresh result without any explicit invalidation, and equal inputs from two sessions
share one result. An argument it cannot fingerprint (an arbitrary object) makes that call run
unmemoised, never wrongly shared.

Every caller gets its own copy of a DataFrame result (alone or inside a tuple or list), except from
builders marked ``copy=False`` (what only goes to the screen); charts and map decks are shared
objects, which nothing changes after they are built. Each builder keeps at
most ``maxsize`` results (least recently used dropped first); :func:`clear` empties every memo (the test suite does, between tests).

No Streamlit here (the present layer): ``csp_data.ui`` draws the specs this module keeps.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, TypeVar, cast

import numpy as np
import pandas as pd

from csp_data.config import settings

F = TypeVar("F", bound=Callable[..., Any])

_ALL: list[_Memo] = []
_UNHASHABLE = object()


class _Unhashable(Exception):
    pass


def _part(h: Any, values: pd.Index | pd.Series) -> None:
    """Feed one column (or the index) to the digest, by content:

    * a range index by its start, stop and step;
    * numbers, booleans and dates held by numpy by their bytes (and dtype);
    * geometries by their types, coordinate and ring counts and every coordinate (a few times
      faster than WKB; two shapes could only collide with the same points split differently
      into rings, which would only change how the map draws);
    * anything else (text, mixed objects, Arrow-backed columns) by ``repr`` of its cells, which tells
      None from 'None' and 1 from '1' (pickle would write two equal strings differently when they are
      one object or two, costing misses)."""
    if isinstance(values, pd.RangeIndex):
        h.update(repr(("range", values.start, values.stop, values.step)).encode())
        return
    dtype = values.dtype
    h.update(str(dtype).encode())
    if isinstance(dtype, np.dtype) and dtype.kind in "biufcmM":
        h.update(np.ascontiguousarray(values.to_numpy()).tobytes())
    elif str(dtype) == "geometry":
        import shapely

        geoms = np.asarray(values.array, dtype=object)
        h.update(shapely.get_type_id(geoms).tobytes())
        h.update(shapely.get_num_coordinates(geoms).tobytes())
        h.update(shapely.get_num_interior_rings(geoms).tobytes())
        h.update(shapely.get_num_geometries(geoms).tobytes())
        h.update(np.ascontiguousarray(shapely.get_coordinates(geoms)).tobytes())
    else:
        if isinstance(dtype, pd.CategoricalDtype):  # the categories' order sorts a chart's axis
            h.update(repr((list(dtype.categories), dtype.ordered)).encode())
        h.update(repr(values.tolist()).encode())


def _frame_digest(df: pd.DataFrame | pd.Series) -> str:
    """A digest of the frame's content: column names, dtypes, attributes, index and values. About 0.1 ms for a
    60-row frame, several times faster than hashing it with pandas."""
    h = hashlib.blake2b(digest_size=16)
    frame = df.to_frame() if isinstance(df, pd.Series) else df
    h.update(
        repr((type(df).__name__, [str(c) for c in frame.columns], [str(t) for t in frame.dtypes])).encode()
    )
    h.update(repr(fingerprint(dict(df.attrs))).encode())  # builders read attrs too (a rate's overall level)
    try:
        _part(h, frame.index)
        for _, column in frame.items():  # a few times cheaper than frame.iloc[:, i]
            _part(h, column)
    except Exception as exc:  # a column it cannot describe: run unmemoised
        raise _Unhashable(type(df).__qualname__) from exc
    return h.hexdigest()


def fingerprint(value: Any) -> Hashable:
    """A hashable stand-in for ``value``'s content. Raises _Unhashable for an object it cannot
    describe by value."""
    if value is None or isinstance(value, (bool, int, str, bytes, Decimal, date, datetime, time)):
        return (type(value).__name__, value)
    if isinstance(value, float):
        return ("float", repr(value))  # nan == nan here
    if isinstance(value, enum.Enum):
        return ("enum", type(value).__qualname__, value.name)
    if isinstance(value, np.generic):
        return fingerprint(value.item())
    if isinstance(value, (pd.DataFrame, pd.Series)):
        return (type(value).__name__, _frame_digest(value))
    if isinstance(value, pd.Timestamp):
        return ("ts", value.isoformat())
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            return ("ndarray-o", tuple(fingerprint(v) for v in value.tolist()))
        return (
            "ndarray",
            str(value.dtype),
            value.shape,
            hashlib.blake2b(value.tobytes(), digest_size=16).hexdigest(),
        )
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(fingerprint(v) for v in value))
    if isinstance(value, (set, frozenset)):
        return ("set", tuple(sorted((fingerprint(v) for v in value), key=repr)))
    if isinstance(value, dict):
        return ("dict", tuple(sorted(((fingerprint(k), fingerprint(v)) for k, v in value.items()), key=repr)))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (
            "dc",
            type(value).__module__,
            type(value).__qualname__,
            tuple((f.name, fingerprint(getattr(value, f.name))) for f in dataclasses.fields(value)),
        )
    raise _Unhashable(type(value).__qualname__)


def _copied(value: Any) -> Any:
    """Frames copied (cheap at these sizes), inside tuples and lists too; anything else as is."""
    if isinstance(value, (pd.DataFrame, pd.Series)):
        return value.copy()
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(_copied(v) for v in value)
    if isinstance(value, list):
        return [_copied(v) for v in value]
    return value


class _Memo:
    def __init__(self, func: Callable[..., Any], maxsize: int, copy: bool = True) -> None:
        self.func, self.maxsize = func, maxsize
        self.hand_out = _copied if copy else (lambda value: value)
        self.store: OrderedDict[Hashable, Any] = OrderedDict()
        self.lock = threading.Lock()
        self.hits = self.misses = self.bypassed = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        cfg = settings()
        try:
            key = (
                str(cfg.data_dir),
                cfg.borough_code,
                fingerprint(args),
                fingerprint(tuple(sorted(kwargs.items()))),
            )
        except _Unhashable:
            self.bypassed += 1
            return self.func(*args, **kwargs)
        with self.lock:
            if key in self.store:
                self.hits += 1
                self.store.move_to_end(key)
                return self.hand_out(self.store[key])
        result = self.func(*args, **kwargs)  # outside the lock: two sessions may build it twice, once each
        with self.lock:
            self.misses += 1
            self.store[key] = result
            self.store.move_to_end(key)
            while len(self.store) > self.maxsize:
                self.store.popitem(last=False)
        return self.hand_out(result)

    def clear(self) -> None:
        with self.lock:
            self.store.clear()


def memoize(maxsize: int = 128, *, copy: bool = True) -> Callable[[F], F]:
    """Keep ``maxsize`` results of a pure builder, keyed on its arguments' content (module doc).
    ``copy=False``: hand out the kept frames themselves, for builders whose results only go to the
    screen (a chart's table, a display frame), which nothing changes."""

    def decorate(func: F) -> F:
        memo = _Memo(func, maxsize, copy)
        _ALL.append(memo)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return memo(*args, **kwargs)

        wrapper.memo = memo  # type: ignore[attr-defined]
        return cast(F, wrapper)

    return decorate


def clear() -> None:
    """Empty every memo (tests call this between tests; a server never needs to)."""
    for memo in _ALL:
        memo.clear()
    with _DERIVED_LOCK:
        _DERIVED.clear()


# ------------------------------------------------------------------ things derived from a built object

_DERIVED: OrderedDict[tuple[int, str], tuple[Any, Any]] = OrderedDict()
_DERIVED_LOCK = threading.Lock()
_DERIVED_MAX = 1024


def derived(obj: Any, name: str, make: Callable[[Any], Any]) -> Any:
    """``make(obj)``, computed once per object and ``name``. Memoised builders hand the same chart
    object to every run, so what is derived from it (its spec, its drawable form) is made once
    too. The entry holds ``obj`` itself, so its ``id`` cannot be reused while the entry lives."""
    key = (id(obj), name)
    with _DERIVED_LOCK:
        hit = _DERIVED.get(key)
        if hit is not None and hit[0] is obj:
            _DERIVED.move_to_end(key)
            return hit[1]
    value = make(obj)
    with _DERIVED_LOCK:
        _DERIVED[key] = (obj, value)
        _DERIVED.move_to_end(key)
        while len(_DERIVED) > _DERIVED_MAX:
            _DERIVED.popitem(last=False)
    return value


def vega_spec(chart: Any) -> dict:
    """The chart's Vega-Lite spec (``chart.to_dict()``, validated against the schema), made once
    per chart object."""
    return cast(dict, derived(chart, "vega-lite", lambda c: c.to_dict()))


def stats() -> dict[str, dict[str, int]]:
    """Hits, misses and bypassed calls per memoised builder (for benchmarks)."""
    return {
        f"{m.func.__module__}.{m.func.__qualname__}": {
            "hits": m.hits,
            "misses": m.misses,
            "bypassed": m.bypassed,
            "size": len(m.store),
        }
        for m in _ALL
    }
