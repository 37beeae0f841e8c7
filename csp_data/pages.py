"""The one place that declares the app's pages, their audience section and whether they are public.

``app.py`` registers exactly these pages; the tests render every one of them. A page marked
``public=True`` shows only published aggregates (borough or ward, month or longer) and may be
served by the public deployment (``CSP_MODE=public``).
"""

from __future__ import annotations

from dataclasses import dataclass

SECTIONS = ("Public", "Analysis", "Performance", "Operations", "Admin")


@dataclass(frozen=True)
class PageSpec:
    script: str        # path relative to the repo root
    title: str
    section: str
    url_path: str
    public: bool
    icon: str = ""     # emoji only: material icons fetch from Google
    default: bool = False


# In section order (SECTIONS), as the navigation shows them.
PAGES: tuple[PageSpec, ...] = (
    PageSpec("pages/public/summary.py", "Is Tower Hamlets getting safer?", "Public", "summary", True, default=True),
    PageSpec("pages/public/ward_profile.py", "Crime in your ward", "Public", "ward", True),
    PageSpec("pages/public/overview.py", "Overview: borough scorecard", "Public", "overview", True),
    PageSpec("pages/public/get_help.py", "Getting help", "Public", "help", True),
    PageSpec("pages/public/about_data.py", "About the data", "Public", "about-data", True),
    PageSpec("pages/public/accessibility.py", "Accessibility statement", "Public", "accessibility", True),
    PageSpec("pages/analysis/hotspots.py", "Hotspots and VOLT", "Analysis", "hotspots", False),
    PageSpec("pages/analysis/stop_search.py", "Stop and search", "Analysis", "stop-search", False),
    PageSpec("pages/performance/targets.py", "Targets for 2028", "Performance", "targets", False),
    PageSpec("pages/performance/priority_1.py", "1 · Acquisitive crime and ASB", "Performance", "priority-1", False),
    PageSpec("pages/performance/priority_2.py", "2 · Violence", "Performance", "priority-2", False),
    PageSpec("pages/performance/priority_3.py", "3 · Drug supply and misuse", "Performance", "priority-3", False),
    PageSpec("pages/performance/priority_4.py", "4 · Hate crime and cohesion", "Performance", "priority-4", False),
    PageSpec("pages/operations/ttcg.py", "TTCG projector view", "Operations", "ttcg", False),
    PageSpec("pages/admin/data_status.py", "Data status", "Admin", "data-status", False),
)


def pages_for(mode: str) -> list[PageSpec]:
    """Pages registered in a deployment mode: public mode gets public pages only."""
    if mode == "public":
        return [p for p in PAGES if p.public]
    return list(PAGES)
