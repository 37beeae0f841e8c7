"""Sign-in and roles in the app: who the viewer is, the page guard, the account box and the
local-mode banner. The rules themselves (roles, the e-mail map, restricted queries) are in
:mod:`csp_data.config.access`.

Three modes (``Viewer.mode``):

* ``public``: ``CSP_MODE=public``, the residents' deployment. Nobody signs in; public pages only.
* ``oidc``: ``[auth]`` is set in ``.streamlit/secrets.toml``. Staff sign in with ``st.login``; the
  ``[access]`` table maps their address to a role. Signed out, a viewer sees the public pages.
* ``local``: internal deployment with no secrets file, or one with neither ``[auth]`` nor
  ``[access]``: one person on their own machine. Every page is open, so the server binds to
  127.0.0.1 only (``csp_data.ui.serve`` refuses anything else) and every page carries a banner
  saying it must not be published.
* ``closed``: the secrets file cannot be read or parsed, or has ``[auth]`` without a valid
  ``[access]`` (or the reverse). Every internal page, and every stand-in, refuses with a message
  for the administrator naming the cause. Fail closed: a broken file never means local mode.

The files are the ones Streamlit reads (the ``secrets.files`` option), read again whenever one
changes (:func:`csp_data.config.access.secrets_status`), so a file broken while the server runs closes
the internal pages on the next rerun, whatever Streamlit's own reload of ``st.secrets`` does (on a
parse error it keeps no secrets and reports "no secrets file", which must not mean local mode).
"""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from csp_data.config import settings
from csp_data.config.access import (
    ROLE_WORDS,
    AccessConfigError,
    RoleMap,
    SecretsStatus,
    Viewer,
    allows,
    classify_secrets,
    secrets_status,
)
from csp_data.present.formatting import md_plain as md_escape  # data and addresses: literal, never a link

_LOG = logging.getLogger("csp_data.config.access")

LOCAL_BANNER = (
    "**Local mode: no sign-in.** Every internal page is open to anyone who can reach this "
    "address. It serves this computer only (127.0.0.1); do not publish it. To share it, "
    "configure sign-in (see `.streamlit/secrets.toml.example` and the README)."
)


LOCAL_NOTICE = "⚠ Local mode, no sign-in: do not publish"


CLOSED_TITLE = "Internal pages are closed"
CLOSED_SIDEBAR = "Staff sign-in is unavailable: the dashboard's settings need fixing."


def secrets_paths() -> list[Path]:
    """Where Streamlit reads secrets from (``secrets.files``: the user's and the project's
    ``.streamlit/secrets.toml`` unless configured otherwise)."""
    from streamlit import config

    return [Path(p) for p in config.get_option("secrets.files")]


_logged: set = set()


def status() -> SecretsStatus:
    """The sign-in settings now. A secrets file that exists decides; with none, secrets given to
    Streamlit another way (``AppTest.secrets``) are classified the same way."""
    s = secrets_status(secrets_paths())
    if not s.found and not s.closed:
        try:
            if st.secrets.load_if_toml_exists():
                s = classify_secrets(st.secrets.to_dict(), "the app's secrets")
        except Exception as exc:
            s = SecretsStatus("closed", f"the secrets cannot be read ({type(exc).__name__})", found=True)
    if s.closed and (s.cause, s.detail) not in _logged:
        _logged.add((s.cause, s.detail))
        _LOG.error("internal pages closed: %s%s", s.cause, f" ({s.detail})" if s.detail else "")
    return s


def auth_section() -> dict:
    s = status()
    return dict(s.auth) if s.mode == "oidc" else {}


def auth_configured() -> bool:
    return status().mode == "oidc"


def provider() -> str | None:
    """The provider to pass to ``st.login``: None for a single ``[auth]`` provider, else the first
    named one (``[auth.microsoft]`` -> ``"microsoft"``)."""
    auth = auth_section()
    if "client_id" in auth:
        return None
    named = [k for k, v in auth.items() if isinstance(v, dict)]
    return named[0] if named else None


def role_map() -> RoleMap:
    """The ``[access]`` map; raises AccessConfigError when the settings are not a working sign-in
    configuration (the message is the administrator's cause, without addresses)."""
    s = status()
    if s.mode != "oidc" or s.roles is None:
        raise AccessConfigError(s.cause)
    return s.roles


def _user() -> dict:
    try:
        return dict(st.user.to_dict())
    except Exception:
        return {}


def viewer() -> Viewer:
    """The current viewer. A wrong ``[access]`` table fails closed: signed-in users get no role."""
    if settings().mode == "public":
        return Viewer(mode="public", role="public")
    s = status()
    if s.mode == "local":
        return Viewer(mode="local", role="admin", name="local user")
    if s.mode != "oidc" or s.roles is None:
        return Viewer(mode="closed", role="public")  # fail closed: nobody has a role, nobody signs in
    user = _user()
    if not user.get("is_logged_in"):
        return Viewer(mode="oidc", role="public")
    email = user.get("email")
    role = s.roles.role_for(email, user.get("email_verified"), user.get("provider"))
    return Viewer(mode="oidc", role=role, email=email, name=user.get("name"), signed_in=True)


def require(role: str) -> Viewer:
    """Call first on every restricted page: stops the page, with an explanation and (when signed
    out) a sign-in button, unless the viewer's role allows ``role``."""
    v = viewer()
    if v.can(role):
        return v
    if v.mode == "closed":
        st.title(CLOSED_TITLE)
        st.error(
            "The dashboard's sign-in settings are wrong, so every internal page is closed until the "
            "dashboard administrator fixes them. For the administrator: "
            + closed_cause()
            + ". See the README, 'Sign-in, roles and local mode'."
        )
        st.stop()
    st.title("This page is for partnership staff")
    if v.mode == "public":
        st.error("This page is not part of the public site. The published pages are listed in the menu.")
    elif not v.signed_in:
        st.info("Sign in with your work account to see this page.")
        st.button("Sign in", type="primary", on_click=st.login, args=(provider(),), key="guard_sign_in")
    else:
        try:
            role_map()
            why = (
                f"Your account ({md_escape(v.email)}) has {v.role} access ({ROLE_WORDS[v.role]}); this page needs "
                f"{role} access. Ask the partnership's dashboard administrator to add you."
            )
        except AccessConfigError as exc:
            why = f"The access settings cannot be read ({md_escape(exc)}), so no account has staff access until they are fixed."
        st.error(why)
    st.stop()
    raise AssertionError("unreachable")  # st.stop() raises; this keeps type checkers honest


def closed_cause() -> str:
    """Why the internal pages are closed, safe to show (no secret value, no address) and
    Markdown-escaped, since it quotes file paths and TOML positions."""
    return md_escape(status().cause)


def access_problem() -> str | None:
    """What is wrong with the sign-in settings, for the admin view (None when they are fine)."""
    s = status()
    return s.cause if s.closed else None


def sidebar_account(v: Viewer, banner: bool = True) -> None:
    """The account box in the sidebar (oidc mode), or the local-mode banner (local mode; a
    wall-screen page passes ``banner=False`` and shows :data:`LOCAL_NOTICE` in its header)."""
    if v.mode == "local":
        if banner:
            st.warning(LOCAL_BANNER, icon="⚠️")
        return
    if v.mode == "closed":
        st.sidebar.error(CLOSED_SIDEBAR)
        return
    if v.mode != "oidc":
        return
    with st.sidebar:
        if v.signed_in:
            st.markdown(
                f"Signed in as **{md_escape(v.name or v.email)}**  \n{v.role.capitalize()} access: "
                f"{ROLE_WORDS[v.role]}."
            )
            st.button("Sign out", on_click=st.logout, key="sidebar_sign_out")
        else:
            st.markdown("**Partnership staff**")
            st.button("Sign in", on_click=st.login, args=(provider(),), key="sidebar_sign_in")


def can(role: str) -> bool:
    return allows(viewer().role, role)


def require_page(script_file: str) -> Viewer:
    """:func:`require` with the role the page registry (``csp_data.config.pages``) gives this script:
    ``access.require_page(__file__)`` at the top of each restricted page."""
    from pathlib import Path

    from csp_data.config import REPO_ROOT
    from csp_data.config.pages import spec_for

    rel = Path(script_file).resolve().relative_to(REPO_ROOT).as_posix()
    return require(spec_for(rel).role)


def locked_page(spec):
    """A stand-in for a restricted page the viewer may not open (registered by ``app.py`` in its
    place, at the same address): it shows :func:`require`'s explanation and never runs the page."""

    def locked() -> None:
        require(spec.role)

    locked.__name__ = "locked_" + spec.url_path.replace("-", "_")
    return locked


def locked_title(spec, v: Viewer) -> str:
    """The menu entry of a page the viewer may not open: its title and what it takes."""
    if v.mode == "closed":
        return f"{spec.title} (closed)"
    return (
        f"{spec.title} (sign in)"
        if v.mode == "oidc" and not v.signed_in
        else f"{spec.title} ({spec.role} only)"
    )
