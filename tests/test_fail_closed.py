"""Fail closed (issue 12, point 1 and the email_verified rule of point 4): a secrets file that cannot
be read or parsed, or that is half configured, closes every internal page (never local mode), at
start and while the server runs; the launcher names the real cause; an address is trusted only
when its provider says it is verified, unless [access] says that provider never sends the claim.

The secrets files here are synthetic (a provider that does not exist; nobody signs in for real).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from csp_data.config import access
from csp_data.config.access import AccessConfigError, classify_secrets, parse_role_map, secrets_status
from csp_data.config.pages import pages_for

REPO = Path(__file__).resolve().parents[1]
APP = str(REPO / "app.py")
SECRET_VALUES = ("synthetic-cookie-secret-4f2a", "synthetic-client-secret-9c1d")
GOOD = f"""
[auth]
redirect_uri = "http://127.0.0.1:8501/oauth2callback"
cookie_secret = "{SECRET_VALUES[0]}"
client_id = "synthetic-client"
client_secret = "{SECRET_VALUES[1]}"
server_metadata_url = "https://idp.invalid/.well-known/openid-configuration"

[access]
admin = ["boss@towerhamlets.gov.uk"]
analyst = ["@met.police.uk"]
"""
AUTH_ONLY = GOOD.split("[access]")[0]
ACCESS_ONLY = "[access]" + GOOD.split("[access]")[1]
BROKEN_SYNTAX = GOOD.replace("[access]", "[access")  # the typo from the issue
BAD_ACCESS = GOOD.replace('analyst = ["@met.police.uk"]', 'analyst = "@met.police.uk"')  # not a list
NEITHER = '[other]\nkey = "value"\n'

CLOSED = {  # file text -> words the administrator's message must contain
    "broken-syntax": (BROKEN_SYNTAX, "is not valid TOML"),
    "auth-without-access": (AUTH_ONLY, "no [access] table"),
    "access-without-auth": (ACCESS_ONLY, "no [auth] table"),
    "wrong-access": (BAD_ACCESS, "access settings cannot be read"),
    "empty-auth": ("[auth]\n" + ACCESS_ONLY, "[auth] table"),
    "not-utf8": (b'[auth]\nclient_id = "\xff\xfe"\n', "not UTF-8"),
    "empty": ("# truncated\n\n", "is empty"),
}
ANALYST = {
    "is_logged_in": True,
    "email": "pc.smith@met.police.uk",
    "email_verified": True,
    "provider": "default",
}
RESTRICTED = [p for p in pages_for("internal") if p.role != "public"]


def write(path: Path, text) -> Path:
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


# --- The rule, without Streamlit -----------------------------------------------------------------


@pytest.mark.parametrize("case", CLOSED, ids=list(CLOSED))
def test_a_broken_or_half_configured_file_is_closed_and_says_why(tmp_path, case):
    text, words = CLOSED[case]
    status = secrets_status([write(tmp_path / "secrets.toml", text)])
    assert status.mode == "closed" and status.closed
    assert words in status.cause, status.cause
    assert str(tmp_path / "secrets.toml") in status.cause  # names the file
    for secret in SECRET_VALUES + ("boss@towerhamlets.gov.uk", "@met.police.uk"):
        assert secret not in status.cause  # never a secret or an address


def test_local_mode_only_without_a_file_or_with_neither_table(tmp_path):
    missing = secrets_status([tmp_path / "missing.toml"])
    assert missing.mode == "local" and "there is no secrets file" in missing.cause
    neither = secrets_status([write(tmp_path / "secrets.toml", NEITHER)])
    assert neither.mode == "local" and "neither an [auth] nor an [access] table" in neither.cause
    good = secrets_status([write(tmp_path / "secrets.toml", GOOD)])
    assert good.mode == "oidc" and good.roles.role_for("pc@met.police.uk", True) == "analyst"


def test_an_unreadable_file_is_closed_not_local(tmp_path, monkeypatch):
    path = write(tmp_path / "secrets.toml", GOOD)
    real = Path.read_bytes

    def denied(self):
        if self == path:
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", denied)  # root reads a chmod 000 file, so simulate it
    status = secrets_status([path])
    assert status.mode == "closed" and "cannot be read (permission denied" in status.cause
    folder = tmp_path / "folder.toml"
    folder.mkdir()
    assert secrets_status([folder]).mode == "closed"


def test_one_broken_file_among_several_closes(tmp_path):
    (tmp_path / "user").mkdir()
    good = write(tmp_path / "user" / "secrets.toml", GOOD)
    broken = write(tmp_path / "secrets.toml", BROKEN_SYNTAX)
    assert secrets_status([good, broken]).mode == "closed"
    assert secrets_status([good, tmp_path / "missing.toml"]).mode == "oidc"


def test_a_file_changed_in_place_is_read_again(tmp_path):
    path = write(tmp_path / "secrets.toml", GOOD)
    assert secrets_status([path]).mode == "oidc"
    write(path, BROKEN_SYNTAX)
    assert secrets_status([path]).mode == "closed"
    write(path, GOOD)
    assert secrets_status([path]).mode == "oidc"


def test_classify_without_a_file_is_local():
    assert classify_secrets(None).mode == "local"
    assert (
        classify_secrets({"auth": {"client_id": "x"}, "access": {"analyst": ["@met.police.uk"]}}).mode
        == "oidc"
    )


# --- email_verified, per provider ----------------------------------------------------------------

ROLES = {"analyst": ["@met.police.uk"]}


@pytest.mark.parametrize(
    "verified, provider, trusted, role",
    [
        (True, "default", [], "analyst"),
        ("true", "default", [], "analyst"),  # some providers send the claim as text
        (False, "default", [], "public"),
        ("false", "default", [], "public"),
        (None, "default", [], "public"),  # claim missing, provider not trusted: fail closed
        (None, "microsoft", [], "public"),
        (None, "microsoft", ["microsoft"], "analyst"),  # e.g. Entra ID, trusted by the administrator
        (None, None, ["microsoft"], "public"),  # no provider named: not trusted
        (None, "google", ["microsoft"], "public"),
        (False, "microsoft", ["microsoft"], "public"),  # a provider that says "not verified" always wins
    ],
)
def test_email_verified_is_decided_per_provider(verified, provider, trusted, role):
    section = dict(ROLES, **({access.TRUST_KEY: trusted} if trusted else {}))
    assert parse_role_map(section).role_for("pc@met.police.uk", verified, provider) == role


@pytest.mark.parametrize("value", ["microsoft", [""], [1], {"a": 1}])
def test_a_wrong_trust_setting_is_an_access_mistake(value):
    with pytest.raises(AccessConfigError, match=access.TRUST_KEY):
        parse_role_map(dict(ROLES, **{access.TRUST_KEY: value}))


def test_the_example_documents_the_trust_setting():
    text = (REPO / ".streamlit" / "secrets.toml.example").read_text()
    assert access.TRUST_KEY in text and "email_verified" in text


# --- The app: at start and while running (AppTest) -------------------------------------------------


@pytest.fixture
def secrets_file(app_env, tmp_path):
    """The app reads secrets from a file of this test's own (Streamlit's ``secrets.files`` option),
    and Streamlit's secrets are forgotten before and after, so nothing parsed from it outlives the
    test (Streamlit's sign-in code parses ``secrets_singleton``; later tests expect local mode)."""
    from streamlit.runtime.secrets import secrets_singleton

    path = tmp_path / "secrets.toml"
    old = st_config.get_option("secrets.files")
    st_config.set_option("secrets.files", [str(path)])
    secrets_singleton._reset()
    yield path
    st_config.set_option("secrets.files", old)
    secrets_singleton._reset()


def analyst_app(user: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.user = dict(user or ANALYST)
    return at


def assert_closed(at: AppTest, cause: str) -> None:
    """Every internal page refuses: not registered, its stand-in shows the administrator's cause, the
    page script run directly stops at its guard; no local-mode banner; no sign-in button."""
    from csp_data.ui.access import CLOSED_TITLE, LOCAL_BANNER

    assert not at.exception, [e.value for e in at.exception]
    assert LOCAL_BANNER not in [w.value for w in at.warning]
    assert not [b for b in at.button if b.label == "Sign in"]
    for spec in RESTRICTED:
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(spec.script)
    page = AppTest.from_file(str(REPO / RESTRICTED[0].script), default_timeout=120)
    page.user = dict(ANALYST)
    page.run()
    assert [t.value for t in page.main.title] == [CLOSED_TITLE]
    assert any(cause in e.value.replace("\\", "") for e in page.error), [e.value for e in page.error]
    assert not page.main.table and not page.main.metric and not page.get("arrow_vega_lite_chart")


@pytest.mark.parametrize(
    "case", ["broken-syntax", "auth-without-access", "access-without-auth", "wrong-access"]
)
def test_started_with_a_broken_file_every_internal_page_is_closed(secrets_file, case):
    text, words = CLOSED[case]
    write(secrets_file, text)
    at = analyst_app()
    at.run()
    assert_closed(at, words)
    assert "Staff sign-in is unavailable" in " ".join(e.value for e in at.sidebar.error)


def test_a_secrets_file_broken_while_running_closes_within_one_rerun(secrets_file):
    from csp_data.ui.access import CLOSED_TITLE

    write(secrets_file, GOOD)
    at = analyst_app()
    at.run()
    assert not at.exception
    at.switch_page("pages/admin/data_status.py").run()  # open to an analyst while the file is good
    assert [t.value for t in at.main.title] != [CLOSED_TITLE] and at.main.table
    write(secrets_file, BROKEN_SYNTAX)  # the typo, while the session is open
    at.run()  # one rerun
    assert [t.value for t in at.main.title] == [CLOSED_TITLE]
    assert not at.main.table
    assert_closed(at, "is not valid TOML")
    write(secrets_file, GOOD)  # fixed: open again, no restart
    fresh = analyst_app()
    fresh.run()
    fresh.switch_page("pages/admin/data_status.py").run()
    assert fresh.main.table and [t.value for t in fresh.main.title] != [CLOSED_TITLE]


def test_a_file_with_neither_table_is_local_mode(secrets_file):
    from csp_data.ui.access import LOCAL_BANNER

    write(secrets_file, NEITHER)
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception and LOCAL_BANNER in [w.value for w in at.warning]


def test_a_provider_without_email_verified_gets_no_role_unless_trusted(secrets_file):
    unverified = {k: v for k, v in ANALYST.items() if k != "email_verified"}
    write(secrets_file, GOOD)
    at = analyst_app(unverified)
    at.run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/admin/data_status.py")  # signed in, but no role
    write(secrets_file, GOOD.replace("[access]\n", f'[access]\n{access.TRUST_KEY} = ["default"]\n'))
    at = analyst_app(unverified)
    at.run()
    at.switch_page("pages/admin/data_status.py").run()
    assert at.main.table and not at.exception


# --- The launcher ------------------------------------------------------------------------------------


@pytest.fixture
def launcher(monkeypatch, tmp_path):
    from csp_data.ui import serve

    monkeypatch.setenv("CSP_MODE", "internal")
    monkeypatch.delenv("STREAMLIT_SERVER_ADDRESS", raising=False)
    monkeypatch.delenv("STREAMLIT_SECRETS_FILES", raising=False)
    started = []
    monkeypatch.setattr("streamlit.web.cli.main", lambda: started.append(True) or 0)
    monkeypatch.setattr(serve, "disable_metrics", lambda: True)
    monkeypatch.chdir(tmp_path)
    return serve, started


@pytest.mark.parametrize(
    "case", ["broken-syntax", "auth-without-access", "access-without-auth", "wrong-access"]
)
def test_launcher_names_the_cause_of_a_closed_start(launcher, tmp_path, capsys, case):
    serve, started = launcher
    text, words = CLOSED[case]
    path = write(tmp_path / "secrets.toml", text)
    assert serve.main(["--secrets.files", str(path)]) == 0 and started  # starts, every internal page closed
    err = capsys.readouterr().err
    assert "every internal page will be closed" in err and words in err and str(path) in err
    assert "local mode" not in err
    for secret in SECRET_VALUES:
        assert secret not in err


def test_launcher_says_why_it_is_local_mode(launcher, tmp_path, capsys):
    serve, started = launcher
    missing = tmp_path / "missing.toml"
    assert serve.main(["--secrets.files", str(missing), "--server.address", "0.0.0.0"]) == 2
    assert "there is no secrets file" in capsys.readouterr().err
    neither = write(tmp_path / "secrets.toml", NEITHER)
    assert serve.main([f"--secrets.files={neither}", "--server.address", "0.0.0.0"]) == 2
    assert "has neither an [auth] nor an [access] table" in capsys.readouterr().err
    assert not started
    assert serve.main(["--secrets.files", str(neither)]) == 0 and started  # loopback: local mode
    assert "local mode (no sign-in) because" in capsys.readouterr().err


def test_launcher_unreadable_file_is_not_no_auth(launcher, tmp_path, capsys, monkeypatch):
    serve, started = launcher
    path = write(tmp_path / "secrets.toml", GOOD)
    real = Path.read_bytes
    monkeypatch.setattr(
        Path,
        "read_bytes",
        lambda self: (_ for _ in ()).throw(PermissionError(13, "denied")) if self == path else real(self),
    )
    assert serve.main(["--secrets.files", str(path), "--server.address", "0.0.0.0"]) == 0
    err = capsys.readouterr().err
    assert "cannot be read (permission denied" in err and "no secrets file" not in err


def test_launcher_reads_the_secrets_locations_streamlit_reads(monkeypatch, tmp_path):
    from csp_data.config import REPO_ROOT
    from csp_data.ui import serve

    monkeypatch.delenv("STREAMLIT_SECRETS_FILES", raising=False)
    assert serve.secrets_files(["--secrets.files", "/a.toml", "--secrets.files=/b.toml"]) == [
        Path("/a.toml"),
        Path("/b.toml"),
    ]
    monkeypatch.setenv("STREAMLIT_SECRETS_FILES", "/c.toml")
    assert serve.secrets_files([]) == [Path("/c.toml")]
    monkeypatch.delenv("STREAMLIT_SECRETS_FILES")
    default = serve.secrets_files([])
    assert default[-1] == REPO_ROOT / ".streamlit" / "secrets.toml"  # the project's wins, as in Streamlit
