"""Sign-in and roles in the app: who the viewer is, the page guard, the account box and the
local-mode banner. The rules themselves (roles, the e-mail map, restricted queries) are in
:mod:`csp_data.access`.

Three modes (``Viewer.mode``):

* ``public``: ``CSP_MODE=public``, the residents' deployment. Nobody signs in; public pages only.
* ``oidc``: ``[auth]`` is set in ``.streamlit/secrets.toml``. Staff sign in with ``st.login``; the
  ``[access]`` table maps their address to a role. Signed out, a viewer sees the public pages.
* ``local``: internal deployment without ``[auth]``: one person on their own machine. Every page
  is open, so the server binds to 127.0.0.1 only (``csp_data.ui.serve`` refuses anything else) and
  every page carries a banner saying it must not be published.
"""

from __future__ import annotations

import streamlit as st

from ..access import ROLE_WORDS, AccessConfigError, RoleMap, Viewer, allows, parse_role_map
from ..config import settings

LOCAL_BANNER = ("**Local mode: no sign-in.** Every internal page is open to anyone who can reach this "
                "address. It serves this computer only (127.0.0.1); do not publish it. To share it, "
                "configure sign-in (see `.streamlit/secrets.toml.example` and the README).")


LOCAL_NOTICE = "⚠ Local mode, no sign-in: do not publish"


def _secrets() -> dict:
    """The secrets file as a dict ({} when there is none or it cannot be read)."""
    try:
        if not st.secrets.load_if_toml_exists():
            return {}
        return st.secrets.to_dict()
    except Exception:  # noqa: BLE001 - a broken secrets file: treated as no sign-in configured
        return {}


def auth_section() -> dict:
    auth = _secrets().get("auth")
    return auth if isinstance(auth, dict) else {}


def auth_configured() -> bool:
    return bool(auth_section())


def provider() -> str | None:
    """The provider to pass to ``st.login``: None for a single ``[auth]`` provider, else the first
    named one (``[auth.microsoft]`` -> ``"microsoft"``)."""
    auth = auth_section()
    if "client_id" in auth:
        return None
    named = [k for k, v in auth.items() if isinstance(v, dict)]
    return named[0] if named else None


def role_map() -> RoleMap:
    """The ``[access]`` map; raises AccessConfigError when it is wrong."""
    return parse_role_map(_secrets().get("access"))


def _user() -> dict:
    try:
        return dict(st.user.to_dict())
    except Exception:  # noqa: BLE001 - no user information in this context
        return {}


def viewer() -> Viewer:
    """The current viewer. A wrong ``[access]`` table fails closed: signed-in users get no role."""
    if settings().mode == "public":
        return Viewer(mode="public", role="public")
    if not auth_configured():
        return Viewer(mode="local", role="admin", name="local user")
    user = _user()
    if not user.get("is_logged_in"):
        return Viewer(mode="oidc", role="public")
    email = user.get("email")
    try:
        role = role_map().role_for(email, user.get("email_verified"))
    except AccessConfigError:
        role = "public"
    return Viewer(mode="oidc", role=role, email=email, name=user.get("name"), signed_in=True)


def require(role: str) -> Viewer:
    """Call first on every restricted page: stops the page, with an explanation and (when signed
    out) a sign-in button, unless the viewer's role allows ``role``."""
    v = viewer()
    if v.can(role):
        return v
    st.title("This page is for partnership staff")
    if v.mode == "public":
        st.error("This page is not part of the public site. The published pages are listed in the menu.")
    elif not v.signed_in:
        st.info("Sign in with your work account to see this page.")
        st.button("Sign in", type="primary", on_click=st.login, args=(provider(),), key="guard_sign_in")
    else:
        try:
            role_map()
            why = (f"Your account ({v.email}) has {v.role} access ({ROLE_WORDS[v.role]}); this page needs "
                   f"{role} access. Ask the partnership's dashboard administrator to add you.")
        except AccessConfigError as exc:
            why = f"The access settings cannot be read ({exc}), so no account has staff access until they are fixed."
        st.error(why)
    st.stop()
    raise AssertionError("unreachable")  # st.stop() raises; this keeps type checkers honest


def access_problem() -> str | None:
    """What is wrong with the ``[access]`` table, for the admin view (None when it is fine)."""
    if not auth_configured():
        return None
    try:
        role_map()
    except AccessConfigError as exc:
        return str(exc)
    return None


def sidebar_account(v: Viewer, banner: bool = True) -> None:
    """The account box in the sidebar (oidc mode), or the local-mode banner (local mode; a
    wall-screen page passes ``banner=False`` and shows :data:`LOCAL_NOTICE` in its header)."""
    if v.mode == "local":
        if banner:
            st.warning(LOCAL_BANNER, icon="⚠️")
        return
    if v.mode != "oidc":
        return
    with st.sidebar:
        if v.signed_in:
            st.markdown(f"Signed in as **{v.name or v.email}**  \n{v.role.capitalize()} access: {ROLE_WORDS[v.role]}.")
            st.button("Sign out", on_click=st.logout, key="sidebar_sign_out")
        else:
            st.markdown("**Partnership staff**")
            st.button("Sign in", on_click=st.login, args=(provider(),), key="sidebar_sign_in")


def can(role: str) -> bool:
    return allows(viewer().role, role)


def require_page(script_file: str) -> Viewer:
    """:func:`require` with the role the page registry (``csp_data.pages``) gives this script:
    ``access.require_page(__file__)`` at the top of each restricted page."""
    from pathlib import Path

    from ..config import REPO_ROOT
    from ..pages import spec_for

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
    return f"{spec.title} (sign in)" if v.mode == "oidc" and not v.signed_in else f"{spec.title} ({spec.role} only)"
