"""Start the app: ``python -m csp_data.ui.serve [streamlit options...]``.

Equivalent to ``streamlit run app.py`` with two differences.

1. Because the repository has a ``pages/`` folder (its scripts live in subfolders, registered by
   ``st.navigation``), Streamlit 1.67 runs the *first* script run after server start in its legacy
   "pages directory" mode: it registers only the main page, tells the browser "Page not found" for
   a deep link such as ``/data-status``, and then renders the right page anyway. A TTCG wall screen
   opening a bookmarked page after a restart would show that stray dialog. Telling Streamlit up
   front that the app uses ``st.navigation`` (which is what ``st.navigation`` itself does on its
   first call) removes it.
2. Local mode (an internal deployment with no ``[auth]`` in the secrets file) opens every internal
   page without sign-in, so the launcher refuses to listen on anything but loopback
   (:func:`csp_data.access.local_bind_problem`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..access import local_bind_problem, secrets_have_auth
from ..config import REPO_ROOT, ConfigError, settings


def requested_address(args: list[str]) -> str | None:
    """The ``--server.address`` given on the command line or in the environment (None: the
    config file's, which is 127.0.0.1)."""
    address = os.environ.get("STREAMLIT_SERVER_ADDRESS")
    for i, a in enumerate(args):
        if a == "--server.address" and i + 1 < len(args):
            address = args[i + 1]
        elif a.startswith("--server.address="):
            address = a.split("=", 1)[1]
    return address


def secrets_files() -> list[Path]:
    """Where Streamlit looks for secrets: the project's and the user's ``.streamlit/secrets.toml``."""
    return [REPO_ROOT / ".streamlit" / "secrets.toml", Path.home() / ".streamlit" / "secrets.toml"]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        mode = settings().mode
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    problem = local_bind_problem(mode, secrets_have_auth(secrets_files()), requested_address(args))
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        from streamlit.runtime.pages_manager import PagesManager

        PagesManager.uses_pages_directory = False
    except (ImportError, AttributeError):  # pragma: no cover - other Streamlit versions
        pass
    from streamlit.web import cli

    os.chdir(REPO_ROOT)  # Streamlit reads .streamlit/config.toml and secrets.toml from here
    sys.argv = ["streamlit", "run", str(REPO_ROOT / "app.py"), *args]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main())
