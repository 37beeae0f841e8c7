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
``x@evil-towerhamlets.gov.uk`` or ``x@towerhamlets.gov.uk.example.com``). An identity provider
that says the address is not verified gets no role. Anyone not covered is signed in but sees the
public pages only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

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
# configured), "local" (internal pages without sign-in: a single user on their own machine).
MODES = ("public", "oidc", "local")

_EMAIL = re.compile(r"^[^@\s]+@([a-z0-9-]+(\.[a-z0-9-]+)+)$")
_DOMAIN = re.compile(r"^@([a-z0-9-]+(\.[a-z0-9-]+)+)$")

# Named queries (queries/<name>.sql) whose results a public viewer may receive: aggregates at
# ward level or coarser. Every other query is restricted to staff (at least ``analyst``).
PUBLIC_QUERIES = frozenset({
    "meta/data_span_public", "meta/sources", "meta/wards",
    "crime/borough_monthly", "crime/borough_breakdown", "crime/categories", "crime/london_rank",
    "crime/major_totals", "crime/ward_major_monthly", "crime/ward_period_totals", "crime/level_last_month",
    "dashboard/borough_monthly", "dashboard/subtype_totals", "dashboard/ward_period_totals",
    "business/borough_monthly", "business/london_rank", "business/section_totals",
})


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
        raise AccessDenied(f"the query {name!r} returns restricted data ({need} or above); this viewer is {role}")


@dataclass(frozen=True)
class RoleMap:
    emails: Mapping[str, str] = field(default_factory=dict)    # lower-case address -> role
    domains: Mapping[str, str] = field(default_factory=dict)   # lower-case domain -> role

    def role_for(self, email: str | None, verified: bool | None = None) -> str:
        """The role of a signed-in address (``public`` when not covered or not verified)."""
        if not email or verified is False:
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
    problems: list[str] = []
    emails: dict[str, str] = {}
    domains: dict[str, str] = {}
    for key, entries in dict(section).items():
        if key not in STAFF_ROLES:
            problems.append(f"[access] {key!r} is not a role; use {', '.join(STAFF_ROLES)}")
            continue
        if isinstance(entries, str) or not isinstance(entries, (list, tuple)):
            problems.append(f"[access] {key} must be a list of addresses or @domains, "
                            f'e.g. {key} = ["name@towerhamlets.gov.uk", "@met.police.uk"]')
            continue
        for raw in entries:
            entry = str(raw).strip().lower()
            if m := _DOMAIN.match(entry):
                target, name = domains, m.group(1)
            elif _EMAIL.match(entry):
                target, name = emails, entry
            else:
                problems.append(f"[access] {key}: {raw!r} is neither an address (name@domain) nor a domain (@domain)")
                continue
            if name in target and target[name] != key:
                problems.append(f"[access] {raw!r} is listed under both {target[name]} and {key}; list it once")
                continue
            target[name] = key
    if problems:
        raise AccessConfigError("; ".join(problems))
    return RoleMap(emails=emails, domains=domains)


@dataclass(frozen=True)
class Viewer:
    """Who is looking at the app, and what they may see."""

    mode: str                  # one of MODES
    role: str                  # one of ROLES
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
        return self.email or "unknown"


LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def secrets_have_auth(paths) -> bool:
    """Whether any of the secrets files (TOML) has a non-empty ``[auth]`` table."""
    import tomllib
    from pathlib import Path

    for p in paths:
        p = Path(p)
        if not p.is_file():
            continue
        try:
            with open(p, "rb") as fh:
                if tomllib.load(fh).get("auth"):
                    return True
        except (OSError, tomllib.TOMLDecodeError):
            continue
    return False


def local_bind_problem(mode: str, auth: bool, address: str | None) -> str | None:
    """Why the server must not start (None when it may): an internal deployment without sign-in
    (local mode) serves every internal page to whoever can connect, so it listens on loopback only."""
    if mode == "public" or auth:
        return None
    if address is None or address.strip() in LOOPBACK:
        return None
    return (f"refusing to listen on {address!r}: without sign-in configured this is local mode, where every "
            "internal page is open to anyone who can connect. Serve it on 127.0.0.1, configure [auth] and "
            "[access] in .streamlit/secrets.toml (see .streamlit/secrets.toml.example), or run the public "
            "deployment (CSP_MODE=public).")
