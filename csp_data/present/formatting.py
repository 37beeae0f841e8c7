"""Turning frames into text for display, safely.

Streamlit renders the string cells of ``st.table`` (and any ``st.markdown``) as Markdown, so a
data value such as ``LSOA_(2021)_to_Ward_(2025)`` would come out in italics and ``[x](http://…)``
as a live link. ``md_escape`` backslash-escapes every Markdown punctuation character (and the
``:`` / ``@`` that trigger bare-URL and e-mail autolinks), so data shows exactly as it is.
"""

from __future__ import annotations

import re
from datetime import date, datetime

import pandas as pd

from csp_data.present.memo import memoize

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:@&\"'=^%])")


def md_escape(text: object) -> str:
    """Text that Markdown renders literally, except URLs, ``www.`` names and e-mail addresses, which
    Streamlit still turns into links (see :func:`md_plain`); for the app's own trusted words."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


# Streamlit's Markdown (remark-gfm) makes links of URLs, www. names and e-mail addresses *after*
# backslash escapes are resolved, so escaping alone leaves ``http\://evil\.example`` a live link.
# A word joiner (U+2060: invisible, zero width, no line break) where those patterns join stops it.
WORD_JOINER = "\u2060"
_AUTOLINKS = re.compile(r"(?<=[A-Za-z0-9+.-])(?=://)|(?<=\b[Ww]{3})(?=\.)|(?<=[\w.+-])(?=@)")


def md_plain(text: object) -> str:
    """Text from a user or a file (a partnership source or note, who entered it, an ingested category
    or file name) as Markdown that shows it literally and links nothing: :func:`md_escape`, plus an
    invisible word joiner before ``://``, after ``www`` and before the ``@`` of an address."""
    return md_escape(_AUTOLINKS.sub(WORD_JOINER, str(text)))


_HREF = r"(?:[a-z0-9-]*)(?:\?[a-z_]+=[A-Za-z0-9_-]+)?(?:#[a-z0-9-]+)?"
_SAFE_HREF = re.compile(f"^{_HREF}$")
# What md_link produces: escaped text (every special character backslash-escaped) and a safe href.
_LINK_CELL = re.compile(r"^\[(?:\\.|[^\\\[\]()])*\]\(" + _HREF + r"\)$")


def md_link(text: object, href: str) -> str:
    """A Markdown link to a page of this app (``summary#priority-1``, ``ward?ward=E05009333``):
    the text is escaped, and the address must be relative and plain (no scheme, host, path
    traversal or spaces), so data can never make a link go elsewhere."""
    if not href or not _SAFE_HREF.match(href):
        raise ValueError(f"not a plain relative link to a page of this app: {href!r}")
    return f"[{md_escape(text)}]({href})"


def link_text(cell: str) -> str:
    """The visible text of an :func:`md_link` cell (escapes removed)."""
    text = str(cell)[1 : str(cell).rindex("](")]
    return re.sub(r"\\(.)", r"\1", text).replace(WORD_JOINER, "")


def is_md_link(cell: object) -> bool:
    """Whether ``cell`` is exactly one :func:`md_link` (escaped text, safe relative address)."""
    return isinstance(cell, str) and bool(_LINK_CELL.match(cell))


def month(value) -> str:
    """A month as 'Feb 2026' (blank for missing)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, str):
        value = pd.Timestamp(value)
    if isinstance(value, (pd.Timestamp, datetime, date)):
        return value.strftime("%b %Y")
    return str(value)


@memoize(maxsize=512, copy=False)
def display_frame(
    df: pd.DataFrame, month_cols: tuple[str, ...] = (), link_cols: tuple[str, ...] = ()
) -> pd.DataFrame:
    """A copy for an HTML table: dates as months (named ``month_cols`` and any datetime
    column), whole numbers with thousands separators, text shown literally (:func:`md_plain`: no
    Markdown, no live link), missing as blank.
    Cells of ``link_cols`` must each be one :func:`md_link` (checked: anything else raises) and
    are kept as links."""
    out = pd.DataFrame(index=df.index)
    for col in df.columns:
        s = df[col]
        if col in link_cols:
            bad = [v for v in s if not is_md_link(v)]
            if bad:
                raise ValueError(f"column {col!r} must hold md_link() cells only; got {bad[0]!r}")
            out[col] = s.astype(str)
        elif col in month_cols or pd.api.types.is_datetime64_any_dtype(s):
            out[col] = s.map(month)
        elif pd.api.types.is_bool_dtype(s):
            out[col] = s.map(lambda v: "yes" if v else "no")
        elif pd.api.types.is_integer_dtype(s):
            out[col] = s.map(lambda v: "" if pd.isna(v) else f"{int(v):,d}")
        elif pd.api.types.is_float_dtype(s):
            out[col] = s.map(
                lambda v: "" if pd.isna(v) else (f"{int(v):,d}" if float(v).is_integer() else f"{v:,.2f}")
            )
        else:
            out[col] = s.map(
                lambda v: (
                    "" if v is None or (not isinstance(v, (list, tuple)) and pd.isna(v)) else md_plain(v)
                )
            )
    out.columns = [md_escape(c) for c in df.columns]
    return out.reset_index(drop=True)
