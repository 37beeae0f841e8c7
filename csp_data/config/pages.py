"""The one place that declares the app's pages, their audience section and whether they are public.

``app.py`` registers exactly these pages; the tests render every one of them. A page marked
``role="public"`` shows only published aggregates (borough or ward, month or longer), is open to
everyone and may be served by the public deployment (``CSP_MODE=public``). Every other page names
the least role that may open it (``csp_data.config.access.ROLES``); ``app.py`` registers only the pages
the viewer's role allows, and each restricted page checks the role again at its top.
"""

from __future__ import annotations

from dataclasses import dataclass

SECTIONS = ("Public", "Analysis", "Performance", "Operations", "Admin")


@dataclass(frozen=True)
class PageSpec:
    script: str  # path relative to the repo root
    title_text: str  # "{borough}" stands for the configured borough's name (see ``title``)
    section: str
    url_path: str
    role: str  # "public", or the least role that may open the page (csp_data.config.access.ROLES)
    icon: str = ""  # emoji only: material icons fetch from Google
    default: bool = False
    wall_screen: bool = False  # a projector view: no room for banners; it shows notices itself

    @property
    def title(self) -> str:
        """The page's title, with the configured borough's name in it where it names the borough."""
        if "{borough}" not in self.title_text:
            return self.title_text
        from csp_data.config import settings

        return self.title_text.replace("{borough}", settings().borough_name)

    @property
    def public(self) -> bool:
        return self.role == "public"


# In section order (SECTIONS), as the navigation shows them.
PAGES: tuple[PageSpec, ...] = (
    PageSpec(
        "pages/public/summary.py",
        "Is {borough} getting safer?",
        "Public",
        "summary",
        "public",
        default=True,
    ),
    PageSpec("pages/public/ward_profile.py", "Crime in your ward", "Public", "ward", "public"),
    PageSpec("pages/public/overview.py", "Overview: borough scorecard", "Public", "overview", "public"),
    PageSpec("pages/public/get_help.py", "Getting help", "Public", "help", "public"),
    PageSpec("pages/public/about_data.py", "About the data", "Public", "about-data", "public"),
    PageSpec("pages/public/accessibility.py", "Accessibility statement", "Public", "accessibility", "public"),
    PageSpec("pages/analysis/hotspots.py", "Hotspots and VOLT", "Analysis", "hotspots", "analyst"),
    PageSpec("pages/analysis/stop_search.py", "Stop and search", "Analysis", "stop-search", "analyst"),
    PageSpec("pages/performance/targets.py", "Targets for 2028", "Performance", "targets", "analyst"),
    PageSpec(
        "pages/performance/priority_1.py",
        "1 · Acquisitive crime and ASB",
        "Performance",
        "priority-1",
        "analyst",
    ),
    PageSpec("pages/performance/priority_2.py", "2 · Violence", "Performance", "priority-2", "analyst"),
    PageSpec(
        "pages/performance/priority_3.py",
        "3 · Drug supply and misuse",
        "Performance",
        "priority-3",
        "analyst",
    ),
    PageSpec(
        "pages/performance/priority_4.py",
        "4 · Hate crime and cohesion",
        "Performance",
        "priority-4",
        "analyst",
    ),
    PageSpec(
        "pages/operations/ttcg.py", "TTCG projector view", "Operations", "ttcg", "analyst", wall_screen=True
    ),
    PageSpec(
        "pages/admin/partnership_figures.py", "Partnership figures", "Admin", "partnership-figures", "officer"
    ),
    PageSpec("pages/admin/data_status.py", "Data status", "Admin", "data-status", "analyst"),
)


def pages_for(mode: str, role: str | None = None) -> list[PageSpec]:
    """Pages registered in a deployment mode (public mode: public pages only) for a viewer with
    ``role`` (None: every page of the mode, as the tests and the page list in the docs use it)."""
    from csp_data.config.access import allows

    pages = [p for p in PAGES if p.public] if mode == "public" else list(PAGES)
    return pages if role is None else [p for p in pages if allows(role, p.role)]


def spec_for(script: str) -> PageSpec:
    """The page declared for a script path (relative to the repo root, e.g. ``pages/admin/x.py``)."""
    for p in PAGES:
        if p.script == script:
            return p
    raise KeyError(f"{script} is not a registered page")
