"""Who may see what: roles, the e-mail-to-role map, and which named queries are restricted.

No Streamlit here (``csp_data.ui.access`` reads ``st.user`` and ``st.secrets`` and calls these).

Roles rise in what they may do; each includes the ones before it::

    public   anyone, signed in or not: the public pages (published aggregates only)
    analyst  partners' analysts: every internal page (hotspots, VOLT, stop and search, TTCG...)
    officer  + records partnership figures (fire audits, survey results, operations...)
    admin    + sees who has which role (the officer page's audit trail already names who
             entered each figure, since officers correct each other's figures)

The map from people to roles lives in ``.streamlit/secrets.toml`` (never committed)::

    [access]
    admin   = ["jo.smith@towerhamlets.gov.uk"]
    officer = ["@towerhamlets.gov.uk", "sam.jones@london-fire.gov.uk"]
    analyst = ["@met.police.uk"]

An entry is either one address (``name@domain``) or a whole domain (``@domain``). An address
listed by name takes the role it is listed under, even when its domain is listed with another;
otherwise the address's exact domain decides (``@towerhamlets.gov.uk`` does not cover
``x@evil-towerhamlets.gov.uk`` or ``x@towerhamlets.gov.uk.example.com``). An address gets a role
only when the identity provider says it is verified (``email_verified``), or when the provider never
sends that claim and ``[access] trust_without_email_verified`` lists it (:func:`email_trusted`).
Anyone not covered is signed in but sees the public pages only.

Fail closed (:func:`secrets_status`): local mode (no sign-in, every page open) only when no secrets
file exists, or one exists and has neither ``[auth]`` nor ``[access]`` (but some other setting: an
empty file is closed, being more likely truncated than meant). A file that cannot be read
or parsed, ``[auth]`` without a valid ``[access]`` or ``[access]`` without ``[auth]`` put the app in
the ``closed`` mode: every internal page refuses, with a message for the administrator.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

ROLES = ("public", "analyst", "officer", "admin")
LEVEL = {r: i for i, r in enumerate(ROLES)}
STAFF_ROLES = ROLES[1:]
ROLE_WORDS = {
    "public": "public pages only",
    "analyst": "every internal page",
    "officer": "every internal page, and records partnership figures",
    "admin": "everything, including who has which role",
}

# Modes a viewer can be in: "public" (the residents' deployment, no sign-in), "oidc" (sign-in
# configured), "local" (internal pages without sign-in: a single user on their own machine),
# "closed" (the secrets file is unreadable or half-configured: every internal page refuses).
MODES = ("public", "oidc", "local", "closed")

# [access] keys that are settings, not roles.
TRUST_KEY = "trust_without_email_verified"

_EMAIL = re.compile(r"^[^@\s]+@([a-z0-9-]+(\.[a-z0-9-]+)+)$")
_DOMAIN = re.compile(r"^@([a-z0-9-]+(\.[a-z0-9-]+)+)$")

# Named queries (queries/<name>.sql) whose results a public viewer may receive: aggregates at
# ward level or coarser. Every other query is restricted to staff (at least ``analyst``).
PUBLIC_QUERIES = frozenset(
    {
        "meta/data_span_public",
        "meta/sources",
        "meta/wards",
        "crime/borough_monthly",
        "crime/borough_breakdown",
        "crime/categories",
        "crime/london_rank",
        "crime/major_totals",
        "crime/ward_major_monthly",
        "crime/ward_period_totals",
        "crime/level_last_month",
        "crime/ward_major_monthly_all",
        "dashboard/borough_monthly",
        "dashboard/subtype_totals",
        "dashboard/ward_period_totals",
        "business/borough_monthly",
        "business/london_rank",
        "business/section_totals",
        "crime/london_monthly",
        "dashboard/london_monthly",
        "business/london_monthly",
        "peers/features",
    }
)


class AccessConfigError(ValueError):
    """The ``[access]`` settings are wrong; the message says where and how to fix them."""


class AccessDenied(PermissionError):
    """A viewer asked for something their role does not allow."""


def check_role(role: str) -> str:
    if role not in LEVEL:
        raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    return role


def allows(role: str, required: str) -> bool:
    """Whether a viewer with ``role`` may open something that needs ``required``."""
    return LEVEL[check_role(role)] >= LEVEL[check_role(required)]


def query_role(name: str) -> str:
    """The least role that may receive the result of the named query."""
    return "public" if name in PUBLIC_QUERIES else "analyst"


def check_query(name: str, role: str) -> None:
    """Raise :class:`AccessDenied` unless ``role`` may run the named query."""
    need = query_role(name)
    if not allows(role, need):
        raise AccessDenied(
            f"the query {name!r} returns restricted data ({need} or above); this viewer is {role}"
        )


def email_trusted(
    verified: object, provider: str | None, trusted_providers: frozenset[str] = frozenset()
) -> bool:
    """Whether a signed-in address may be given a role, from the provider's ``email_verified`` claim.

    ``true`` (or the text "true", as some providers send it): trusted. Anything else that is present
    (``false``, "false", a number...): never. Missing (``None``): trusted only when the provider that
    signed the person in (``st.user["provider"]``: ``default`` for a single ``[auth]`` table, else the
    name of its ``[auth.NAME]`` table) is listed in ``[access] trust_without_email_verified``. Microsoft
    Entra ID leaves the claim out; list it only for a single-tenant registration of the council's own
    tenant, where addresses come from its directory."""
    if verified is True or (isinstance(verified, str) and verified.strip().lower() == "true"):
        return True
    if verified is None:
        return provider is not None and provider in trusted_providers
    return False


@dataclass(frozen=True)
class RoleMap:
    emails: Mapping[str, str] = field(default_factory=dict)  # lower-case address -> role
    domains: Mapping[str, str] = field(default_factory=dict)  # lower-case domain -> role
    trusted_providers: frozenset[str] = frozenset()  # trusted without email_verified

    def role_for(self, email: str | None, verified: object = None, provider: str | None = None) -> str:
        """The role of a signed-in address (``public`` when not covered, or when the provider did not
        say the address is verified: see :func:`email_trusted`)."""
        if not email or not email_trusted(verified, provider, self.trusted_providers):
            return "public"
        address = email.strip().lower()
        if address in self.emails:
            return self.emails[address]
        m = _EMAIL.match(address)
        return self.domains.get(m.group(1), "public") if m else "public"

    def describe(self) -> list[tuple[str, str]]:
        """(entry, role) rows for the admin view, highest role first."""
        rows = [(e, r) for e, r in self.emails.items()] + [("@" + d, r) for d, r in self.domains.items()]
        return sorted(rows, key=lambda x: (-LEVEL[x[1]], x[0]))


def parse_role_map(section: Mapping | None) -> RoleMap:
    """The ``[access]`` table of the secrets file as a :class:`RoleMap`; raises
    :class:`AccessConfigError` naming each wrong entry. ``None`` or empty: nobody has a role."""
    if not section:
        return RoleMap()
    if not isinstance(section, Mapping):
        raise AccessConfigError('[access] must be a table of roles, e.g. analyst = ["@met.police.uk"]')
    problems: list[str] = []
    emails: dict[str, str] = {}
    domains: dict[str, str] = {}
    trusted: set[str] = set()
    for key, entries in dict(section).items():
        if key == TRUST_KEY:
            if (
                isinstance(entries, str)
                or not isinstance(entries, (list, tuple))
                or not all(isinstance(e, str) and e.strip() for e in entries)
            ):
                problems.append(
                    f"[access] {TRUST_KEY} must be a list of provider names, e.g. "
                    f'{TRUST_KEY} = ["microsoft"] (or ["default"] for a single [auth] provider)'
                )
            else:
                trusted.update(e.strip() for e in entries)
            continue
        if key not in STAFF_ROLES:
            problems.append(f"[access] {key!r} is not a role; use {', '.join(STAFF_ROLES)}")
            continue
        if isinstance(entries, str) or not isinstance(entries, (list, tuple)):
            problems.append(
                f"[access] {key} must be a list of addresses or @domains, "
                f'e.g. {key} = ["name@towerhamlets.gov.uk", "@met.police.uk"]'
            )
            continue
        for raw in entries:
            entry = str(raw).strip().lower()
            if m := _DOMAIN.match(entry):
                target, name = domains, m.group(1)
            elif _EMAIL.match(entry):
                target, name = emails, entry
            else:
                problems.append(
                    f"[access] {key}: {raw!r} is neither an address (name@domain) nor a domain (@domain)"
                )
                continue
            if name in target and target[name] != key:
                problems.append(
                    f"[access] {raw!r} is listed under both {target[name]} and {key}; list it once"
                )
                continue
            target[name] = key
    if problems:
        raise AccessConfigError("; ".join(problems))
    return RoleMap(emails=emails, domains=domains, trusted_providers=frozenset(trusted))


@dataclass(frozen=True)
class Viewer:
    """Who is looking at the app, and what they may see."""

    mode: str  # one of MODES
    role: str  # one of ROLES
    email: str | None = None
    name: str | None = None
    signed_in: bool = False

    def can(self, required: str) -> bool:
        return allows(self.role, required)

    @property
    def who(self) -> str:
        """How an entry made by this viewer is attributed in the audit trail."""
        if self.mode == "local":
            return "local user (no sign-in)"
        if self.mode == "closed":
            return ""
        return self.email or "unknown"


LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


@dataclass(frozen=True)
class SecretsStatus:
    """What the secrets file(s) say about sign-in, checked before anything is opened.

    ``mode``: ``local`` (no file, or one with neither ``[auth]`` nor ``[access]``), ``oidc`` (both,
    valid) or ``closed`` (anything else). ``cause``: for the administrator, what is wrong (closed) or
    why this is local mode; it names files, tables and TOML positions, never a secret value or an
    address. ``detail``: the full ``[access]`` problems (they quote entries: for the server log and
    the launcher, not the page). ``auth`` and ``roles``: the tables, in ``oidc`` mode only."""

    mode: str
    cause: str
    auth: Mapping = field(default_factory=dict)
    roles: RoleMap | None = None
    detail: str | None = None
    found: bool = False

    @property
    def closed(self) -> bool:
        return self.mode == "closed"


def _read_secrets_path(path: Path) -> tuple[dict | None, str | None]:
    """(table, problem) for one configured secrets location, as Streamlit reads it: a ``.toml``
    file, or a folder of Kubernetes-style secrets. ``(None, None)``: nothing there."""
    import tomllib

    if str(path).endswith(".toml"):
        try:
            text = path.read_bytes()
        except FileNotFoundError:
            return None, None
        except IsADirectoryError:
            return None, f"{path} is a folder, not a TOML file"
        except PermissionError:
            return None, f"{path} cannot be read (permission denied for this server's user)"
        except OSError as exc:
            return None, f"{path} cannot be read ({exc.strerror or type(exc).__name__})"
        try:
            return tomllib.loads(text.decode("utf-8")), None
        except UnicodeDecodeError:
            return None, f"{path} is not UTF-8 text"
        except tomllib.TOMLDecodeError as exc:
            # tomllib's message names the position and what was expected, never the file's text.
            return None, f"{path} is not valid TOML: {exc}"
    if path.is_dir():
        table: dict = {}
        try:
            for sub in sorted(path.iterdir()):
                if not sub.is_dir():
                    return None, f"{sub} is not a folder (folder secrets need one folder per secret)"
                files = {
                    f.name: f.read_text(encoding="utf-8").strip()
                    for f in sorted(sub.iterdir())
                    if f.is_file()
                }
                table[sub.name] = next(iter(files.values())) if len(files) == 1 else files
        except (OSError, UnicodeDecodeError) as exc:
            return None, f"{path} cannot be read ({getattr(exc, 'strerror', None) or type(exc).__name__})"
        return (table or None), None
    return None, f"{path} is neither a .toml file nor a folder"


def read_secrets(paths) -> tuple[dict | None, str | None]:
    """The secrets files merged in order, later over earlier, as Streamlit merges them (top-level
    keys), and the first problem. ``(None, None)``: no secrets file at all."""
    merged: dict = {}
    found = False
    for p in paths:
        table, problem = _read_secrets_path(Path(p))
        if problem:
            return None, problem
        if table is not None:
            found = True
            merged.update(table)
    return (merged if found else None), None


def classify_secrets(data: Mapping | None, where: str = "the secrets file") -> SecretsStatus:
    """:class:`SecretsStatus` of a parsed secrets table (``None``: no secrets file)."""
    if data is None:
        return SecretsStatus("local", f"there is no secrets file ({where})")
    if not data:
        # An empty file is more likely a truncated or half-written one than a decision: a deployment
        # that wants local mode has no secrets file at all.
        return SecretsStatus(
            "closed",
            f"{where} is empty (no settings at all); write [auth] and [access], or "
            "delete the file for local mode",
            found=True,
        )
    has_auth, has_access = "auth" in data, "access" in data
    if not has_auth and not has_access:
        return SecretsStatus("local", f"{where} has neither an [auth] nor an [access] table", found=True)
    auth = data.get("auth")
    if not has_auth:
        return SecretsStatus(
            "closed", f"{where} has an [access] table but no [auth] table, so nobody can sign in", found=True
        )
    if not isinstance(auth, Mapping) or not auth:
        return SecretsStatus("closed", f"the [auth] table in {where} is empty or not a table", found=True)
    if not has_access:
        return SecretsStatus(
            "closed",
            f"{where} has an [auth] table but no [access] table, so no account would have a role",
            found=True,
        )
    try:
        roles = parse_role_map(data.get("access"))
    except AccessConfigError as exc:
        n = str(exc).count("; ") + 1
        return SecretsStatus(
            "closed",
            f"the access settings cannot be read: the [access] table in {where} has "
            f"{n} mistake{'s' if n != 1 else ''} (the server log lists "
            f"{'them' if n != 1 else 'it'})",
            detail=str(exc),
            found=True,
        )
    return SecretsStatus("oidc", "sign-in is configured", auth=dict(auth), roles=roles, found=True)


_STATUS_CACHE: dict = {}


def secrets_status(paths) -> SecretsStatus:
    """:func:`classify_secrets` of :func:`read_secrets`; re-read whenever a file changes (size,
    mtime or inode), so a file broken while the server runs closes the pages on the next rerun."""
    paths = [Path(p) for p in paths]
    parts: list[tuple[object, ...]] = []
    for p in paths:
        try:
            st = p.stat()
            parts.append((str(p), st.st_mtime_ns, st.st_size, st.st_ino, st.st_mode))
        except OSError as exc:
            parts.append((str(p), type(exc).__name__))
    key = tuple(parts)
    hit = _STATUS_CACHE.get("last")
    if hit and hit[0] == key:
        return hit[1]
    data, problem = read_secrets(paths)
    where = " or ".join(str(p) for p in paths) or "no secrets location configured"
    if problem:
        status = SecretsStatus("closed", problem, found=True)
    else:
        found = [str(p) for p in paths if p.exists()]
        status = classify_secrets(data, " and ".join(found) if data is not None else where)
    _STATUS_CACHE["last"] = (key, status)
    return status


def secrets_have_auth(paths) -> bool:
    """Whether the secrets files configure sign-in completely (``oidc``). A broken file is not "no
    sign-in": see :func:`secrets_status`, which says which of the three it is."""
    return secrets_status(paths).mode == "oidc"


def local_bind_problem(mode: str, auth: bool | SecretsStatus, address: str | None) -> str | None:
    """Why the server must not start (None when it may): an internal deployment without sign-in
    (local mode) serves every internal page to whoever can connect, so it listens on loopback only.
    ``auth``: the :class:`SecretsStatus` (or, as before, whether sign-in is configured). A closed
    status may listen anywhere: it serves no internal page (the launcher warns instead)."""
    status = auth if isinstance(auth, SecretsStatus) else None
    if mode == "public" or (status.mode != "local" if status else auth):
        return None
    if address is None or address.strip() in LOOPBACK:
        return None
    why = f" ({status.cause})" if status else ""
    return (
        f"refusing to listen on {address!r}: without sign-in configured{why} this is local mode, where every "
        "internal page is open to anyone who can connect. Serve it on 127.0.0.1, configure [auth] and "
        "[access] in .streamlit/secrets.toml (see .streamlit/secrets.toml.example), or run the public "
        "deployment (CSP_MODE=public)."
    )
