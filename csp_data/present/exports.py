"""Downloads: tables that are safe to open in a spreadsheet, and charts as PNG or SVG images.

A text cell beginning with ``=``, ``+``, ``-``, ``@`` (or a tab/carriage return) can run as a
formula in Excel or LibreOffice ("CSV injection"). Such cells are prefixed with an apostrophe.
Numbers stay numbers, so exports keep numeric columns numeric instead of pre-formatted text.
"""

from __future__ import annotations

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _neutralise(value):
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with every formula-like text cell neutralised."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(_neutralise)
    out.columns = [_neutralise(str(c)) for c in out.columns]
    return out


def csv_text(df: pd.DataFrame) -> str:
    """CSV text of a neutralised copy of ``df``: what the app's downloads hold, without the BOM
    (the command line's ``--format csv`` writes this to standard output).

    Rows end in CRLF (RFC 4180). That also makes Python's csv writer quote any cell holding a
    carriage return: with bare LF endings a lone CR inside a cell is written unquoted, and a
    spreadsheet then starts a new row there, so "a<CR>=cmd" would smuggle a formula past the
    neutralising into a cell of its own."""
    return safe_frame(df).to_csv(index=False, lineterminator="\r\n")


def csv_bytes(df: pd.DataFrame) -> bytes:
    """UTF-8 CSV (with BOM so Excel reads the £ and – characters) of a neutralised copy: :func:`csv_text`."""
    return csv_text(df).encode("utf-8-sig")


# ----------------------------------------------------------------------------- chart images
#
# Altair charts become PNG or SVG through vl-convert (a self-contained Rust/Deno build of Vega):
# no browser and no network. Charts in this app embed their data inline (``datasets``); a chart
# that names a data URL is refused before conversion, and vl-convert is given no allowed base URL
# either, so nothing is ever fetched. Text is laid out with the machine's own fonts.

EXPORT_WIDTH = 720  # px: what a chart drawn "as wide as its container" gets in a file
MAX_SCALE = 8


class ChartExportError(ValueError):
    """A chart that cannot be exported (not a chart, external data, or a failed conversion)."""


def ensure_chart(chart):
    """``chart`` if it is a top-level Altair chart; otherwise a ChartExportError that says what it got."""
    import altair as alt

    if isinstance(chart, tuple) and chart and isinstance(chart[0], alt.TopLevelMixin):
        raise ChartExportError(
            "pass the chart itself, not the (chart, alt_text, table) tuple a "
            "csp_data.present.charts builder returns"
        )
    if not isinstance(chart, alt.TopLevelMixin):
        raise ChartExportError(
            f"expected an Altair chart (alt.Chart, alt.LayerChart, ...), got {type(chart).__name__}"
        )
    return chart


def _spec(chart, width: int) -> dict:
    ensure_chart(chart)
    if not isinstance(width, int) or isinstance(width, bool) or not 50 <= width <= 4000:
        raise ChartExportError(f"width must be a whole number of pixels from 50 to 4000, got {width!r}")
    spec = chart.to_dict()
    urls = list(_data_urls(spec))
    if urls:
        raise ChartExportError(f"the chart loads data from {urls[0]!r}: charts must embed their data inline")
    return _fixed_width(spec, width)


def _data_urls(node, key: str | None = None):
    """Every ``url`` of a data source in a Vega-Lite spec (``data``/``datasets`` values are skipped)."""
    if isinstance(node, dict):
        if key == "data" and "url" in node:
            yield node["url"]
        for k, v in node.items():
            if k in ("values", "datasets"):
                continue
            yield from _data_urls(v, k)
    elif isinstance(node, list):
        for v in node:
            yield from _data_urls(v, key)


def _fixed_width(node, width: int):
    """``width: "container"`` means nothing outside a web page: give such a view ``width`` pixels."""
    if isinstance(node, dict):
        return {
            k: (
                width
                if k == "width" and v == "container"
                else v
                if k in ("datasets", "data")
                else _fixed_width(v, width)
            )
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_fixed_width(v, width) for v in node]
    return node


def _vl_version() -> str | None:
    """The Vega-Lite version Altair writes (e.g. '6.4'), when vl-convert has it; else its default."""
    import altair as alt
    import vl_convert as vlc

    major_minor = ".".join(alt.VEGALITE_VERSION.split(".")[:2])
    return major_minor if major_minor in vlc.get_vegalite_versions() else None


def _reason(exc: Exception) -> str:
    """vl-convert's message without its JavaScript stack ("... failed:" then the error line)."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip() and not ln.strip().startswith("at ")]
    return " ".join(lines[:2]) or type(exc).__name__


def chart_svg(chart, *, width: int = EXPORT_WIDTH) -> bytes:
    """The chart as a standalone SVG document (UTF-8). A ``"container"`` width becomes ``width`` px."""
    import vl_convert as vlc

    spec = _spec(chart, width)
    try:
        svg = vlc.vegalite_to_svg(spec, vl_version=_vl_version(), allowed_base_urls=[])
    except ValueError as exc:
        raise ChartExportError(f"the chart could not be drawn as SVG: {_reason(exc)}") from exc
    return svg.encode("utf-8")


def chart_png(chart, scale: float = 2, *, width: int = EXPORT_WIDTH) -> bytes:
    """The chart as PNG bytes, ``scale`` times its CSS pixel size (2 = sharp on paper and retina
    screens). A ``"container"`` width becomes ``width`` px before scaling."""
    import vl_convert as vlc

    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 0 < scale <= MAX_SCALE:
        raise ChartExportError(f"scale must be a number above 0 and at most {MAX_SCALE}, got {scale!r}")
    spec = _spec(chart, width)
    try:
        return vlc.vegalite_to_png(spec, vl_version=_vl_version(), scale=float(scale), allowed_base_urls=[])
    except ValueError as exc:
        raise ChartExportError(f"the chart could not be drawn as PNG: {_reason(exc)}") from exc
