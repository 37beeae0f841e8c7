"""Production settings and the places a user-supplied name or file reaches the server.

DuckDB's lock-down (data directory only, configuration locked, no extensions) is tested in
tests/test_sql_contract.py and tests/test_public_mode.py; roles in tests/test_access.py; the
partnership upload's every rule in tests/test_partnership_entry.py.
"""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version
from pathlib import Path

import duckdb
import pytest

from csp_data.analysis.ward_profile import WardError, resolve
from csp_data.plan.partnership import MAX_UPLOAD_BYTES, PartnershipError, parse_upload
from csp_data.ui.downloads import file_name, slug
from csp_data.warehouse import db, sql
from csp_data.warehouse.ingest import safe_name

REPO = Path(__file__).resolve().parents[1]


def config() -> dict:
    with open(REPO / ".streamlit" / "config.toml", "rb") as fh:
        return tomllib.load(fh)


def test_production_settings():
    c = config()
    assert c["client"]["showErrorDetails"] == "none"  # no stack traces in the browser
    assert c["client"]["toolbarMode"] == "viewer"  # no developer menu
    assert c["server"]["address"] == "127.0.0.1"  # local mode listens on loopback only
    assert c["server"]["maxUploadSize"] == 1  # MB, enforced by the server
    assert c["server"]["enableXsrfProtection"] is True
    assert c["browser"]["gatherUsageStats"] is False  # no calls home
    assert MAX_UPLOAD_BYTES <= c["server"]["maxUploadSize"] * 1_000_000


def _floor(requirement: str) -> tuple[int, ...]:
    text = (REPO / "requirements.txt").read_text()
    m = re.search(rf"^{requirement}>=([\d.]+)", text, flags=re.M | re.I)
    assert m, f"{requirement} has no >= floor in requirements.txt"
    return tuple(int(x) for x in m.group(1).split("."))


def test_streamlit_floor_covers_the_known_advisories():
    assert _floor("streamlit") >= (1, 54)
    assert tuple(int(x) for x in version("streamlit").split(".")[:2]) >= (1, 54)
    assert _floor("Authlib") >= (1, 3)  # st.login needs it


def test_secrets_file_is_never_committed():
    assert ".streamlit/secrets.toml" in (REPO / ".gitignore").read_text().splitlines()
    if (REPO / ".git").exists():
        import subprocess

        tracked = subprocess.run(
            ["git", "ls-files", ".streamlit"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.split()
        assert ".streamlit/secrets.toml" not in tracked and ".streamlit/secrets.toml.example" in tracked


# --- DuckDB: nothing outside the data directory ----------------------------------------------


def test_queries_cannot_read_outside_the_data_directory(warehouse, tmp_path):
    outside = tmp_path / "outside.csv"
    outside.write_text("a\n1\n")
    cur = db.connection().cursor()
    try:
        for statement in ("SELECT * FROM read_csv_auto($p)", "SELECT * FROM read_text($p)"):
            with pytest.raises(duckdb.PermissionException):
                cur.execute(statement, {"p": str(outside)}).fetchall()
        with pytest.raises(duckdb.PermissionException):
            cur.execute("SELECT * FROM read_text($p)", {"p": "/etc/passwd"}).fetchall()
        with pytest.raises(duckdb.Error):
            cur.execute("COPY (SELECT 1) TO $p", {"p": str(tmp_path / "out.csv")})
    finally:
        cur.close()
    assert not (tmp_path / "out.csv").exists()


# --- Names a user can supply --------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",
        "..\\..\\windows\\win.ini",
        "/abs/path",
        "crime/../../x",
        "crime/borough_monthly.sql",
        "CRIME/BOROUGH_MONTHLY",
        "",
    ],
)
def test_query_names_cannot_leave_the_queries_folder(name):
    with pytest.raises((ValueError, KeyError, FileNotFoundError)):
        sql.load(name)


@pytest.mark.parametrize(
    "name, expected",
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("/tmp/../../x.csv", "x.csv"),
        ("....csv", "csv"),
        ("", "upload"),
        ("a b;rm -rf.csv", "a_b_rm_-rf.csv"),
    ],
)
def test_uploaded_file_names_are_reduced_to_a_plain_name(name, expected):
    out = safe_name(name)
    assert out == expected
    assert "/" not in out and "\\" not in out and not out.startswith(".") and ".." not in out


@pytest.mark.parametrize("stem", ["../../etc/passwd", "a/b\\c", "..", "Robbery: 2025/26", "\x00evil"])
def test_download_file_names_have_no_path(stem):
    name = file_name(stem, "csv")
    assert re.fullmatch(r"[a-z0-9-]+\.csv", name), name
    assert slug(stem) and ".." not in name


@pytest.mark.parametrize(
    "code", ["../../etc/passwd", "E05009333/../x", "E05009333%00", "<script>", "E0500933"]
)
def test_ward_codes_from_a_url_are_refused_with_a_message(warehouse, code):
    with pytest.raises(WardError) as info:
        resolve(code)
    assert str(info.value) and "Traceback" not in str(info.value)


def test_uploads_are_judged_by_content_never_by_name():
    # parse_upload takes bytes only (no name); size, binary content and encoding are checked here.
    with pytest.raises(PartnershipError, match="limit"):
        parse_upload(b"x" * (MAX_UPLOAD_BYTES + 1))
    with pytest.raises(PartnershipError, match="binary"):
        parse_upload(b"PK\x03\x04\x00\x00 zip file pretending to be csv")
    with pytest.raises(PartnershipError, match="UTF-8"):
        parse_upload("measure_id,period\nfire_audits,café\n".encode("latin-1"))
    with pytest.raises(TypeError):
        parse_upload(b"", name="../../x.csv")  # type: ignore[call-arg]
