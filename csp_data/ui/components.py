"""Small page components: verdict text and tables that stay readable without colour, and the
plain-text helpers.

Plain text (issue 12): ``st.markdown``, ``st.caption``, ``st.info`` and friends render Markdown, so a
text that came from a user or a file (a partnership source or note, who entered it, an ingested
category name, a file name, a snapshot label) must never be passed to them as it is:
``![t](http://evil.example/x.png)`` would draw a live image (a request to an outside host) and a URL
would become a live link. :func:`plain` escapes such text (:func:`csp_data.present.formatting.md_plain`:
Markdown escapes, and an invisible word joiner that stops Streamlit turning URLs, www. names and
e-mail addresses into links, which it does even when they are escaped) so it shows literally; :func:`caption_text` is ``st.caption`` of wholly plain text. Tables go
through :func:`plain_table`, which escapes every text cell (``st.table`` renders Markdown in cells).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from csp_data.analysis.scorecard import ScoreRow, fmt_change, ordinal
from csp_data.present.formatting import display_frame, link_text, md_plain
from csp_data.ui.downloads import table_download


def plain(text: object) -> str:
    """``text`` (from a user or a file) as Markdown that shows it literally and links nothing."""
    return md_plain("" if text is None else text)


def caption_text(text: object) -> None:
    """A caption that is wholly data: shown literally, never as Markdown."""
    st.caption(plain(text))


def score_tile(row: ScoreRow) -> None:
    """One measure in a bordered tile: its name in bold, then :func:`score_detail`."""
    with st.container(border=True):
        st.markdown(f"**{row.measure.label}**")
        score_detail(row)


def score_detail(row: ScoreRow) -> None:
    """One measure: 12-month figure, change, verdict (symbol and words), year to date, London
    comparison and rank, definition, note and source."""
    m = row.measure
    if row.l12 is None or row.last12 is None:  # both or neither (scorecard.score)
        st.markdown("Awaiting data: fewer than 24 months available.")
        return
    c = row.l12
    st.metric(
        label=f"Last 12 months ({row.last12.label})",
        value=f"{c.current:,d}",
        delta=f"{fmt_change(c)} vs previous 12",
        delta_color="off",
    )
    travel = c.travel(m.lower_is_better)
    st.markdown(f"{c.symbol} **{c.verdict}** · {travel}")
    st.caption(c.test_words[:1].upper() + c.test_words[1:] + (" · small numbers" if c.small_numbers else ""))
    if row.fy and row.fytd:
        st.caption(
            f"{row.fy_label} to date ({row.fytd.label}): {row.fy.current:,d} vs {row.fy.previous:,d} "
            f"({fmt_change(row.fy)}) — {row.fy.symbol} {row.fy.verdict}"
        )
    _london_lines(row)
    if m.short_definition:
        st.caption(f"Definition: {m.short_definition}")
    if row.rank:
        st.caption(f"London: {ordinal(row.rank)} highest of {row.rank_of} boroughs by count")
    if m.caveat:
        st.caption(f"Note: {m.caveat}")
    st.caption(f"Source: {m.source_name}; {plain(row.snapshot)}")


def about_figure(label: str = "About this figure"):
    """The expander that holds a figure's caveats, sources and method, directly under the figure
    it qualifies (``with about_figure(): st.caption(...)``): one click away, never dropped."""
    return st.expander(label)


def _london_lines(row: ScoreRow) -> None:
    """The London comparison (csp_data/analysis/london.py) for the tile's 12-month and year-to-date changes."""
    from csp_data.analysis.london import tile_text
    from csp_data.ui.cache import london_comparisons

    lon = london_comparisons().get(row.measure.id, {})
    st.caption(tile_text(lon.get("l12"), "same 12 months"))
    if row.fy:
        st.caption(tile_text(lon.get("fy"), "year to date"))


def plain_table(
    df: pd.DataFrame,
    caption: str | None = None,
    month_cols: tuple[str, ...] = (),
    link_cols: tuple[str, ...] = (),
    download: str | None = "",
) -> None:
    """A real HTML table (st.table), readable by screen readers, unlike canvas-drawn dataframes.
    Cells are formatted and Markdown-escaped first (st.table renders Markdown in text cells);
    ``link_cols`` hold :func:`csp_data.present.formatting.md_link` cells, kept as links. A link in a wide
    table also makes its sideways-scrolling box reachable by keyboard (Streamlit 1.67 gives the
    box itself no tabindex).

    Every table gets a CSV download of the figures as they are (numbers as numbers, formula-like
    text neutralised), named after ``download`` (default: the caption or the columns); pass
    ``download=None`` where the page offers a fuller download of the same table."""
    if caption:
        st.caption(caption)
    st.table(display_frame(df, month_cols, link_cols), hide_index=True)
    if download is not None and len(df):
        stem = download or " ".join((caption or " ".join(map(str, df.columns))).split()[:8])
        plain = df.copy()
        for col in link_cols:  # the link's text, not its Markdown
            plain[col] = plain[col].map(link_text)
        table_download(plain, stem)
