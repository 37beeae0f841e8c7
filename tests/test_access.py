"""Who may see what: the role map, the page guard on every page for every role, restricted cached
loaders, local mode (banner, loopback only) and the public deployment.

Roles are seeded the way a signed-in session has them: ``at.secrets`` carries ``[auth]`` (so the
app is in sign-in mode) and ``[access]``; ``at.user`` is the identity provider's answer.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from csp_data.config import access
from csp_data.config.access import AccessConfigError, AccessDenied, parse_role_map
from csp_data.config.pages import PAGES, pages_for

REPO = Path(__file__).resolve().parents[1]
APP = str(REPO / "app.py")
LOCKED_TITLE = "This page is for partnership staff"

# Not a real provider: st.login is never called in these tests (only its button is drawn).
AUTH = {
    "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
    "cookie_secret": "test-only-cookie-secret",
    "client_id": "test-client",
    "client_secret": "test-secret",
    "server_metadata_url": "https://idp.invalid/.well-known/openid-configuration",
}
ACCESS = {
    "admin": ["boss@towerhamlets.gov.uk"],
    "officer": ["@towerhamlets.gov.uk"],
    "analyst": ["@met.police.uk"],
}
USERS = {  # name -> (st.user as the provider gives it, the role it should get)
    "signed-out": ({"is_logged_in": False}, "public"),
    "resident": ({"is_logged_in": True, "email": "someone@gmail.com", "email_verified": True}, "public"),
    "analyst": ({"is_logged_in": True, "email": "pc.smith@met.police.uk", "email_verified": True}, "analyst"),
    "officer": (
        {"is_logged_in": True, "email": "jo.bloggs@towerhamlets.gov.uk", "email_verified": True},
        "officer",
    ),
    "admin": ({"is_logged_in": True, "email": "Boss@TowerHamlets.gov.uk", "email_verified": True}, "admin"),
}


# --- The role map -------------------------------------------------------------------------------


def test_role_map_addresses_domains_and_precedence():
    m = parse_role_map(ACCESS)
    assert m.role_for("boss@towerhamlets.gov.uk", True) == "admin"  # named beats its domain (officer)
    assert m.role_for("BOSS@towerhamlets.gov.uk ", True) == "admin"  # case and spaces do not matter
    assert m.role_for("jo@towerhamlets.gov.uk", True) == "officer"
    assert m.role_for("pc@met.police.uk", True) == "analyst"
    assert m.role_for("someone@gmail.com", True) == "public"


@pytest.mark.parametrize(
    "email",
    [
        "x@evil-towerhamlets.gov.uk",  # look-alike domain
        "x@towerhamlets.gov.uk.example.com",  # the domain as a prefix
        "x@sub.met.police.uk",  # a subdomain is not the domain
        "towerhamlets.gov.uk",  # not an address
        "",
        None,
    ],
)
def test_role_map_matches_exact_domains_only(email):
    assert parse_role_map(ACCESS).role_for(email, True) == "public"


def test_unverified_address_gets_no_role():
    m = parse_role_map(ACCESS)
    assert m.role_for("jo@towerhamlets.gov.uk", verified=False) == "public"
    assert m.role_for("jo@towerhamlets.gov.uk", verified=True) == "officer"
    # A provider that does not say (Microsoft Entra ID leaves the claim out) is not trusted unless
    # [access] trust_without_email_verified names it: tests/test_fail_closed.py.
    assert m.role_for("jo@towerhamlets.gov.uk", verified=None) == "public"


@pytest.mark.parametrize(
    "section, fragment",
    [
        ({"superuser": ["a@b.uk"]}, "'superuser' is not a role"),
        ({"analyst": "@met.police.uk"}, "must be a list"),
        ({"analyst": ["met.police.uk"]}, "neither an address"),
        ({"analyst": ["a b@met.police.uk"]}, "neither an address"),
        ({"analyst": ["@met.police.uk"], "admin": ["@MET.police.uk"]}, "listed under both"),
        ({"public": ["@gmail.com"]}, "'public' is not a role"),
    ],
)
def test_role_map_rejects_mistakes_with_a_clear_message(section, fragment):
    with pytest.raises(AccessConfigError, match=fragment):
        parse_role_map(section)


def test_empty_role_map_gives_nobody_a_role():
    assert parse_role_map(None).role_for("boss@towerhamlets.gov.uk", True) == "public"
    assert parse_role_map({}).describe() == []


def test_roles_rise_and_include_the_ones_below():
    assert access.ROLES == ("public", "analyst", "officer", "admin")
    for i, r in enumerate(access.ROLES):
        for j, need in enumerate(access.ROLES):
            assert access.allows(r, need) is (i >= j)
    with pytest.raises(ValueError, match="unknown role"):
        access.allows("superuser", "public")


def test_every_page_names_a_known_role_and_public_pages_are_in_the_public_section():
    for p in PAGES:
        assert p.role in access.ROLES, p
        assert (p.section == "Public") is p.public, p
    assert {p.url_path: p.role for p in PAGES if not p.public}["partnership-figures"] == "officer"


def test_queries_public_pages_use_are_public_and_the_rest_restricted():
    assert access.query_role("crime/ward_period_totals") == "public"
    for name in (
        "stop_search/points",
        "street/points",
        "hotspots/lsoa_period_counts",
        "meta/quarantine",
        "meta/data_span",
        "crime/area_monthly_counts",
    ):
        assert access.query_role(name) == "analyst", name
        with pytest.raises(AccessDenied):
            access.check_query(name, "public")
        access.check_query(name, "analyst")
    for name in access.PUBLIC_QUERIES:  # every public query exists
        assert (REPO / "queries" / f"{name}.sql").exists(), name


# --- Every page guards itself -------------------------------------------------------------------


def _first_statement_after_imports(path: Path) -> ast.stmt:
    tree = ast.parse(path.read_text())
    body = [n for n in tree.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
    return next(n for n in body if not isinstance(n, (ast.Import, ast.ImportFrom)))


@pytest.mark.parametrize("spec", [p for p in PAGES if not p.public], ids=lambda p: p.url_path)
def test_restricted_page_checks_its_role_first(spec):
    stmt = _first_statement_after_imports(REPO / spec.script)
    assert ast.unparse(stmt) == "viewer = access.require_page(__file__)", (
        f"{spec.script}: the first statement after the imports must be the role check"
    )


@pytest.mark.parametrize("spec", [p for p in PAGES if p.public], ids=lambda p: p.url_path)
def test_public_page_needs_no_sign_in(spec):
    assert "require_page" not in (REPO / spec.script).read_text()


# --- Every page with every role (AppTest) -------------------------------------------------------


def signed_in_app(user: dict) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.secrets["auth"] = dict(AUTH)
    at.secrets["access"] = {k: list(v) for k, v in ACCESS.items()}
    at.user = dict(user)
    return at


def clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


CASES = [(spec, name) for spec in pages_for("internal") for name in USERS]


@pytest.mark.parametrize("spec, who", CASES, ids=[f"{s.url_path}-{w}" for s, w in CASES])
def test_every_page_with_every_role(app_env, spec, who):
    user, role = USERS[who]
    at = signed_in_app(user)
    at.run()
    clean(at)
    allowed = access.allows(role, spec.role)
    if allowed:
        if not spec.default:
            at.switch_page(spec.script).run()
        clean(at)
        titles = [t.value for t in at.main.title]
        assert len(titles) == 1 and titles[0] != LOCKED_TITLE, titles
        assert not at.error, [e.value for e in at.error]
    else:
        # app.py registers a stand-in, never the page script itself...
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(spec.script)
        # ...and the page script, run however it is reached, stops at its guard.
        page = AppTest.from_file(str(REPO / spec.script), default_timeout=120)
        page.secrets["auth"] = dict(AUTH)
        page.secrets["access"] = {k: list(v) for k, v in ACCESS.items()}
        page.user = dict(user)
        page.run()
        clean(page)
        assert [t.value for t in page.main.title] == [LOCKED_TITLE]
        assert not page.main.table and not page.main.dataframe and not page.main.metric
        assert not page.get("arrow_vega_lite_chart") and not page.get("deck_gl_json_chart")
        if who == "signed-out":
            assert [b.label for b in page.main.button] == ["Sign in"]
        else:
            assert any(
                f"has {role} access" in e.value and f"needs {spec.role} access" in e.value for e in page.error
            ), [e.value for e in page.error]
    # The account box says who is signed in, or offers to sign in.
    labels = [b.label for b in at.sidebar.button]
    assert labels == (["Sign in"] if who == "signed-out" else ["Sign out"]), labels
    if who != "signed-out":
        assert any(
            user["email"] in m.value.replace("\\", "").replace("\u2060", "")  # plain text: escaped, no link
            for m in at.sidebar.markdown
        )


def test_a_wrong_access_table_closes_internal_pages(app_env):
    at = signed_in_app(USERS["admin"][0])
    at.secrets["access"] = {"admin": "boss@towerhamlets.gov.uk"}  # a string, not a list
    at.run()
    clean(at)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/performance/targets.py")
    page = AppTest.from_file(str(REPO / "pages/performance/targets.py"), default_timeout=120)
    page.secrets["auth"] = dict(AUTH)
    page.secrets["access"] = {"admin": "boss@towerhamlets.gov.uk"}
    page.user = dict(USERS["admin"][0])
    page.run()
    assert any("access settings cannot be read" in e.value for e in page.error), [e.value for e in page.error]


# --- Local mode and the public deployment -------------------------------------------------------


def test_local_mode_opens_every_page_with_a_do_not_publish_banner(app_env):
    from csp_data.ui.access import LOCAL_BANNER

    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    clean(at)
    assert LOCAL_BANNER in [w.value for w in at.warning]
    assert "do not publish" in LOCAL_BANNER and "127.0.0.1" in LOCAL_BANNER
    at.switch_page("pages/admin/data_status.py").run()  # admin-section page opens without sign-in
    clean(at)
    assert LOCAL_BANNER in [w.value for w in at.warning]


def test_signed_in_mode_has_no_local_banner(app_env):
    from csp_data.ui.access import LOCAL_BANNER

    at = signed_in_app(USERS["analyst"][0])
    at.run()
    assert LOCAL_BANNER not in [w.value for w in at.warning]


def test_public_deployment_registers_public_pages_only_and_needs_no_sign_in(app_env):
    app_env.setenv("CSP_MODE", "public")
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    clean(at)
    assert not at.sidebar.button and not at.warning
    for spec in PAGES:
        if spec.public:
            continue
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(spec.script)


# --- Restricted cached loaders take the access level -------------------------------------------


def test_restricted_queries_refuse_a_public_viewer(app_env, monkeypatch):
    from csp_data.ui import cache

    monkeypatch.setattr(cache, "viewer_level", lambda: "public")
    with pytest.raises(AccessDenied):
        cache.query("stop_search/coverage")
    with pytest.raises(AccessDenied):
        cache.staff_key()
    with pytest.raises(AccessDenied):  # the cached function checks too
        cache.query.__wrapped__("stop_search/coverage")
    assert len(cache.query("meta/wards")) == 20  # a public query still runs
    monkeypatch.setattr(cache, "viewer_level", lambda: "analyst")
    assert len(cache.query("stop_search/coverage")) >= 1
    assert cache.staff_key().startswith("analyst|")


# --- The launcher: local mode listens on loopback only -----------------------------------------


@pytest.mark.parametrize(
    "mode, auth, address, refused",
    [
        ("internal", False, None, False),
        ("internal", False, "127.0.0.1", False),
        ("internal", False, "localhost", False),
        ("internal", False, "0.0.0.0", True),
        ("internal", False, "192.168.1.20", True),
        ("internal", True, "0.0.0.0", False),
        ("public", False, "0.0.0.0", False),
    ],
)
def test_local_bind_problem(mode, auth, address, refused):
    problem = access.local_bind_problem(mode, auth, address)
    assert (problem is not None) is refused
    if refused:
        assert "local mode" in problem and "secrets.toml.example" in problem


def test_launcher_refuses_to_publish_local_mode(monkeypatch, tmp_path, capsys):
    from csp_data.ui import serve

    monkeypatch.setenv("CSP_MODE", "internal")
    monkeypatch.delenv("STREAMLIT_SERVER_ADDRESS", raising=False)
    monkeypatch.setattr(serve, "secrets_files", lambda args=None: [tmp_path / "none.toml"])
    started = []
    monkeypatch.setattr("streamlit.web.cli.main", lambda: started.append(True) or 0)
    monkeypatch.chdir(tmp_path)
    assert serve.main(["--server.address", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert "refusing to listen on '0.0.0.0'" in err and "there is no secrets file" in err
    assert serve.main(["--server.address=10.0.0.5"]) == 2
    monkeypatch.setenv("STREAMLIT_SERVER_ADDRESS", "0.0.0.0")
    assert serve.main([]) == 2
    assert not started
    # With [auth] and [access] configured the same address is allowed.
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[auth]\nclient_id = "x"\n[access]\nanalyst = ["@met.police.uk"]\n')
    monkeypatch.setattr(serve, "secrets_files", lambda args=None: [secrets])
    assert serve.main(["--server.address", "0.0.0.0"]) == 0 and started


def test_secrets_have_auth(tmp_path):
    good, auth_only, access_only, broken = (tmp_path / n for n in ("a.toml", "b.toml", "c.toml", "d.toml"))
    good.write_text('[auth]\nclient_id = "x"\n[access]\nadmin = ["a@b.uk"]\n')
    auth_only.write_text('[auth]\nclient_id = "x"\n')
    access_only.write_text('[access]\nadmin = ["a@b.uk"]\n')
    broken.write_text("[auth\n")
    assert access.secrets_have_auth([good])
    for path in (auth_only, access_only, broken, tmp_path / "missing.toml"):
        assert not access.secrets_have_auth([path]), path


def test_secrets_example_is_valid_and_complete():
    import tomllib

    example = tomllib.loads((REPO / ".streamlit" / "secrets.toml.example").read_text())
    assert {"redirect_uri", "cookie_secret", "client_id", "client_secret", "server_metadata_url"} <= set(
        example["auth"]
    )
    parse_role_map(example["access"])  # the example's [access] table is itself valid
    assert ".streamlit/secrets.toml" in (REPO / ".gitignore").read_text().splitlines()


@pytest.mark.parametrize("who", ["analyst", "admin"])
def test_only_admins_see_who_has_access(app_env, who):
    at = signed_in_app(USERS[who][0])
    at.run()
    at.switch_page("pages/admin/data_status.py").run()
    clean(at)
    # st.table is given Markdown-escaped text (\@met\.police\.uk): compare it unescaped.
    # (and a word joiner before an address's @, so it is not made a mailto: link: formatting.md_plain)
    cells = [
        str(v).replace("\\", "").replace("\u2060", "")
        for t in at.main.table
        for v in t.value.to_numpy().ravel()
    ]
    if who == "admin":
        assert {"@met.police.uk", "boss@towerhamlets.gov.uk", "@towerhamlets.gov.uk"} <= set(cells)
    else:
        assert "@met.police.uk" not in cells
        assert any("Only administrators" in m.value for m in at.main.markdown)


def test_wall_screen_shows_a_one_line_local_notice_instead_of_the_banner(app_env):
    from csp_data.ui.access import LOCAL_BANNER, LOCAL_NOTICE

    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("pages/operations/ttcg.py").run()
    clean(at)
    assert LOCAL_BANNER not in [w.value for w in at.warning]
    assert any(LOCAL_NOTICE in m.value for m in at.markdown), (
        "the TTCG header must carry the local-mode notice"
    )
