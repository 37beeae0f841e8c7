"""The sidebar menu of a deployment with more than one section (the internal one).

Streamlit 1.67 draws a sectioned ``st.navigation`` menu as ``<ul><div><header/><li/>…</div></ul>``,
which fails WCAG 1.3.1 list markup (axe: ``list``, ``listitem``). So ``app.py`` registers the
pages with ``st.navigation(..., position="hidden")`` and this module draws the menu: each section's
name, then an ``st.page_link`` per page (a link, not a list item). Streamlit marks the link of the
page being shown (bold, on a tinted background); the page's h1 and the document title name it too.
A single-section deployment (the public one) keeps Streamlit's own flat menu, which is valid
list markup and sets ``aria-current="page"``.
"""

from __future__ import annotations

import streamlit as st
from streamlit.navigation.page import StreamlitPage

MENU_KEY = "csp-nav"  # the menu's container: class st-key-csp-nav (the browser tests find it by this)


def sidebar_menu(sections: dict[str, list[StreamlitPage]]) -> None:
    """Draw the menu at the top of the sidebar: section names as bold text (not headings: the
    page's h1 must be the first heading) and a link to every page registered in it, stand-ins
    for pages the viewer may not open included."""
    with st.sidebar, st.container(key=MENU_KEY):
        for section, pages in sections.items():
            st.markdown(f"**{section}**")
            for page in pages:
                st.page_link(page)
