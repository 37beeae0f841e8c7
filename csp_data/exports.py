"""Downloads that are safe to open in a spreadsheet.

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


def csv_bytes(df: pd.DataFrame) -> bytes:
    """UTF-8 CSV (with BOM so Excel reads the £ and – characters) of a neutralised copy."""
    return safe_frame(df).to_csv(index=False).encode("utf-8-sig")
