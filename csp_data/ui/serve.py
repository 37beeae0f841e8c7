"""Start the app: ``python -m csp_data.ui.serve [streamlit options...]``.

Equivalent to ``streamlit run app.py`` with one difference. Because the repository has a
``pages/`` folder (its scripts live in subfolders, registered by ``st.navigation``), Streamlit
1.67 runs the *first* script run after server start in its legacy "pages directory" mode: it
registers only the main page, tells the browser "Page not found" for a deep link such as
``/data-status``, and then renders the right page anyway. A TTCG wall screen opening a bookmarked
page after a restart would show that stray dialog. Telling Streamlit up front that the app uses
``st.navigation`` (which is what ``st.navigation`` itself does on its first call) removes it.
"""

from __future__ import annotations

import sys

from ..config import REPO_ROOT


def main(argv: list[str] | None = None) -> int:
    try:
        from streamlit.runtime.pages_manager import PagesManager

        PagesManager.uses_pages_directory = False
    except (ImportError, AttributeError):  # pragma: no cover - other Streamlit versions
        pass
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", str(REPO_ROOT / "app.py"), *(sys.argv[1:] if argv is None else argv)]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main())
