"""Tower Hamlets Community Safety Partnership dashboard: the entry point.

Registers the pages declared in csp_data.config.pages that the viewer's role allows with st.navigation
(page scripts live in subfolders of pages/, so none can be deep-linked without this frame), builds
the warehouse on first start, and draws the shared sidebar. Each restricted page checks the role
again at its top (csp_data.ui.access.require), so a page is never shown on app.py's word alone.
"""

from __future__ import annotations

import streamlit as st

from csp_data.ui import access, frame, menu
from csp_data.ui.site import REPO_ROOT, SECTIONS, pages_for, settings

st.set_page_config(layout="wide")

cfg = settings()
viewer = access.viewer()
frame.ensure_warehouse()

registered: dict[str, list] = {}
for spec in pages_for(cfg.mode):
    if viewer.can(spec.role):
        page = st.Page(
            str(REPO_ROOT / spec.script),
            title=spec.title,
            icon=spec.icon or None,
            url_path=spec.url_path,
            default=spec.default,
        )
    else:
        # A page the viewer may not open is never run: a stand-in at the same address explains
        # (sign in, or ask for access), so a bookmarked or e-mailed link does not fall through to
        # "Page not found". The public deployment registers no restricted page at all.
        # Words, not a lock emoji: emoji are empty boxes without an emoji font (ARCHITECTURE.md, 9).
        page = st.Page(
            access.locked_page(spec), title=access.locked_title(spec, viewer), url_path=spec.url_path
        )
    registered.setdefault(spec.section, []).append(page)

sections = {s: registered[s] for s in SECTIONS if s in registered}
# Streamlit 1.67 renders a sectioned menu as <ul><div><li>, which fails WCAG list markup (axe:
# list, listitem). One section (the public deployment): Streamlit's flat list, which is valid.
# Several: the menu is hidden and csp_data.ui.nav draws it as section names and page links.
if len(sections) == 1:
    nav = st.navigation(next(iter(sections.values())), expanded=True)
else:
    nav = st.navigation(sections, position="hidden")
    menu.sidebar_menu(sections)
st.set_page_config(
    page_title=f"{nav.title} · {cfg.borough_name} Community Safety"
)  # each page its own tab title
# The local-mode banner goes on every page except a wall-screen view, which shows a one-line notice
# in its own header instead (it must fit one 1080p screen).
current = next((p for p in pages_for(cfg.mode) if p.url_path == nav.url_path), None)
access.sidebar_account(viewer, banner=not (current and current.wall_screen))
frame.sidebar_coverage(main_line=not (current and current.wall_screen))
nav.run()
