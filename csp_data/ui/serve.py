"""Start the app: ``python -m csp_data.ui.serve [streamlit options...]``.

Equivalent to ``streamlit run app.py`` with two differences.

1. Because the repository has a ``pages/`` folder (its scripts live in subfolders, registered by
   ``st.navigation``), Streamlit 1.67 runs the *first* script run after server start in its legacy
   "pages directory" mode: it registers only the main page, tells the browser "Page not found" for
   a deep link such as ``/data-status``, and then renders the right page anyway. A TTCG wall screen
   opening a bookmarked page after a restart would show that stray dialog. Telling Streamlit up
   front that the app uses ``st.navigation`` (which is what ``st.navigation`` itself does on its
   first call) removes it.
2. Local mode (an internal deployment with no secrets file, or one with neither ``[auth]`` nor
   ``[access]``) opens every internal page without sign-in, so the launcher refuses to listen on
   anything but loopback (:func:`csp_data.config.access.local_bind_problem`), naming why it is local mode.
   A secrets file that cannot be read or parsed, or is half configured, is not local mode: the app
   starts with every internal page closed (:func:`csp_data.config.access.secrets_status`), and the launcher
   says what is wrong.
3. ``/_stcore/metrics`` (cache names and sizes, to anyone who asks; Streamlit 1.67 has no option
   to turn it off) is not registered (:func:`disable_metrics`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from csp_data.config import REPO_ROOT, ConfigError, settings
from csp_data.config.access import local_bind_problem, secrets_status


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


def _config_secrets_files() -> list[str] | None:
    """``[secrets] files`` from the config files Streamlit reads (project over user), if set."""
    import tomllib

    found = None
    for cfg in (Path.home() / ".streamlit" / "config.toml", REPO_ROOT / ".streamlit" / "config.toml"):
        try:
            files = tomllib.loads(cfg.read_text(encoding="utf-8")).get("secrets", {}).get("files")
        except (OSError, ValueError, AttributeError):
            continue
        if files:
            found = [files] if isinstance(files, str) else list(files)
    return found


def secrets_files(args: list[str] | None = None) -> list[Path]:
    """Where the server will read secrets, as Streamlit decides it: ``--secrets.files`` on the command
    line, else ``STREAMLIT_SECRETS_FILES``, else ``[secrets] files`` in a config file, else the user's
    and then the project's ``.streamlit/secrets.toml`` (later files win)."""
    given: list[str] = []
    args = args or []
    for i, a in enumerate(args):
        if a == "--secrets.files" and i + 1 < len(args):
            given.append(args[i + 1])
        elif a.startswith("--secrets.files="):
            given.append(a.split("=", 1)[1])
    if not given and os.environ.get("STREAMLIT_SECRETS_FILES"):
        given = os.environ["STREAMLIT_SECRETS_FILES"].split()
    if not given:
        given = _config_secrets_files() or [
            str(Path.home() / ".streamlit" / "secrets.toml"),
            str(REPO_ROOT / ".streamlit" / "secrets.toml"),
        ]
    return [Path(g) if Path(g).is_absolute() else REPO_ROOT / g for g in given]


def disable_metrics() -> bool:
    """Leave ``/_stcore/metrics`` out of the server's routes (True when done)."""
    try:
        from streamlit.web.server.starlette import starlette_app
    except ImportError:  # pragma: no cover - other Streamlit versions
        return False
    if not hasattr(starlette_app, "create_metrics_routes"):
        return False
    starlette_app.create_metrics_routes = lambda runtime, base_url: []
    return True


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        mode = settings().mode
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    status = secrets_status(secrets_files(args)) if mode != "public" else None
    problem = local_bind_problem(mode, status, requested_address(args)) if status else None
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    if status and status.closed:
        print(
            f"warning: every internal page will be closed until the secrets file is fixed: {status.cause}"
            + (f". Problems: {status.detail}" if status.detail else ""),
            file=sys.stderr,
        )
    elif status and status.mode == "local":
        print(
            f"note: local mode (no sign-in) because {status.cause}; serving this computer only.",
            file=sys.stderr,
        )
    disable_metrics()
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
