"""Small download buttons: a chart as PNG or SVG (and its figures as CSV), a table as CSV. (The
briefing pack's button is in ``csp_data.ui.briefing``, which public pages never import.)

Images and the pack are made only when the button is pressed (``st.download_button`` takes a
callable for ``data``, run on click in its own thread), so drawing a page never pays for a
conversion; ``on_click="ignore"`` keeps a download from rerunning the page. Keys are derived from
the stem, so they are the same on every run and differ between stems; file names are a safe slug
of the stem (letters, digits and hyphens only: no path separators, no dots).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

import pandas as pd
import streamlit as st

from csp_data.present import exports

MAX_SLUG = 80


def slug(stem: str) -> str:
    """'Robbery: per month / 2025–26' -> 'robbery-per-month-2025-26'. Never empty ('download')."""
    # accents dropped (é -> e); every other character that is not an ASCII letter or digit,
    # dashes and path separators included, becomes a hyphen
    folded = "".join(
        "" if unicodedata.combining(ch) else ch for ch in unicodedata.normalize("NFKD", str(stem))
    )
    text = re.sub(r"[^A-Za-z0-9]+", "-", folded).strip("-").lower()
    return text[:MAX_SLUG].strip("-") or "download"


def file_name(stem: str, ext: str) -> str:
    return f"{slug(stem)}.{ext}"


def key_for(stem: str, kind: str) -> str:
    """A widget key, stable across reruns: the slug plus a short hash of the exact stem (two stems
    with the same slug, such as 'Robbery' and 'robbery', still get different keys)."""
    digest = hashlib.sha1(str(stem).encode("utf-8")).hexdigest()[:8]
    return f"dl-{slug(stem)}-{digest}-{kind}"


def _button(label: str, data, stem: str, ext: str, mime: str, help: str, key: str | None = None):
    return st.download_button(
        label,
        data=data,
        file_name=file_name(stem, ext),
        mime=mime,
        key=key or key_for(stem, ext),
        help=help,
        on_click="ignore",
        type="secondary",
        width="content",
    )


def chart_downloads(chart, stem: str, table: pd.DataFrame | None = None) -> None:
    """PNG, SVG and (with ``table``) CSV buttons in one row under a chart.

    ``stem`` names the files and keys the buttons: give each chart on a page its own stem."""
    exports.ensure_chart(chart)
    snapshot = table.copy() if table is not None else None
    with st.container(horizontal=True, gap="small"):
        _button(
            "Download PNG",
            lambda: exports.chart_png(chart),
            stem,
            "png",
            "image/png",
            "The chart as a PNG image (made when you press the button)",
        )
        _button(
            "Download SVG",
            lambda: exports.chart_svg(chart),
            stem,
            "svg",
            "image/svg+xml",
            "The chart as an SVG image, sharp at any size (made when you press the button)",
        )
        if snapshot is not None:
            _button(
                "Download CSV",
                lambda: exports.csv_bytes(snapshot),
                stem,
                "csv",
                "text/csv",
                "The chart's figures as a CSV table",
            )


def table_download(df: pd.DataFrame, stem: str, label: str = "Download CSV") -> None:
    """One CSV button for a table (cells that a spreadsheet would run as formulas are neutralised).
    The key also hashes the table's columns and size, so two tables given the same stem on one page
    still get their own buttons."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"table_download needs a pandas DataFrame, got {type(df).__name__}")
    snapshot = df.copy()
    shape = hashlib.sha1(repr((list(map(str, df.columns)), df.shape)).encode("utf-8")).hexdigest()[:6]
    _button(
        label,
        lambda: exports.csv_bytes(snapshot),
        stem,
        "csv",
        "text/csv",
        "The table as a CSV file",
        key=key_for(stem, f"csv-{shape}"),
    )
