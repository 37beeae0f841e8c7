"""The ward profile (csp_data.analysis.ward_profile and pages/public/ward_profile.py).

Figures are checked against independent DuckDB sums straight over the warehouse Parquet (an
unrestricted connection of the test's own, not the app's views or named queries). The profile
itself is computed in public mode, where the page is served.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import shown
from streamlit.testing.v1 import AppTest

from csp_data.analysis.ward_profile import WARD_CODE, WardError, profile, resolve
from csp_data.config import REPO_ROOT, settings
from csp_data.config.pages import PAGES
from csp_data.plan.periods import add_months
from csp_data.warehouse import db

APP = REPO_ROOT / "app.py"
TIMEOUT = 60
WARD_PAGE = next(p for p in PAGES if p.script == "pages/public/ward_profile.py")
SPITALFIELDS = ("E05009333", "Spitalfields & Banglatown")
OTHER = ("E05009317", "Bethnal Green East")

MALFORMED = "That is not a ward code"
UNKNOWN = "There is no ward with the code"
# Signs of internals in a message meant for residents (SQL keywords are matched in capitals only:
# "choose a ward from the list" is fine).
LEAKS = re.compile(
    r"Traceback|\bSELECT\b|\bFROM\b|\bWHERE\b|(?i:duckdb)|Exception|Error:|\$\w+|\.sql\b|File \""
)


@pytest.fixture
def public(warehouse, monkeypatch):
    monkeypatch.setenv("CSP_MODE", "public")
    db.reset()
    yield settings()
    db.reset()


@pytest.fixture
def raw(warehouse):
    """An unrestricted connection of the test's own over the warehouse files."""
    con = duckdb.connect()
    for t in ("crime_monthly", "wards"):
        con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{warehouse / (t + '.parquet')}')")
    yield con
    con.close()


def _d(v) -> date:
    return pd.Timestamp(v).date()


# ---------------------------------------------------------------- (1) every ward, against the Parquet


def _sums(raw, level: str, code: str, start: date, end: date) -> dict[str, int]:
    rows = raw.execute(
        "SELECT lower(major_category), sum(count)::BIGINT FROM crime_monthly "
        "WHERE level = ? AND area_code = ? AND month BETWEEN ? AND ? GROUP BY 1",
        [level, code, start, end],
    ).fetchall()
    return {k: int(v) for k, v in rows}


def test_every_ward_profile_matches_the_parquet(public, raw):
    cfg = public
    wards = raw.execute("SELECT ward_code, ward_name, population FROM wards ORDER BY ward_code").fetchall()
    assert len(wards) == 20
    borough_pop = sum(int(p) for _, _, p in wards)
    # The period ends at the last month held by both the ward and the borough data.
    ward_last = _d(
        raw.execute(
            "SELECT max(month) FROM crime_monthly WHERE level = 'ward' AND area_code IN "
            "(SELECT ward_code FROM wards)"
        ).fetchone()[0]
    )
    boro_last = _d(
        raw.execute(
            "SELECT max(month) FROM crime_monthly WHERE level = 'borough' AND area_code = ?",
            [cfg.borough_code],
        ).fetchone()[0]
    )
    last = min(ward_last, boro_last)
    assert ward_last != boro_last, "the embedded data ends on different months: the common month matters"
    start = add_months(last, -11)
    borough = _sums(raw, "borough", cfg.borough_code, start, last)
    assert borough

    problems: dict[str, list] = {}
    for code, name, pop in wards:
        p = profile(code)
        bad = problems.setdefault(code, [])
        if (p.ward.code, p.ward.name, p.ward.population) != (code, name, int(pop)):
            bad.append(("ward", p.ward))
        if (p.period.start, p.period.end, p.period.n_months) != (start, last, 12):
            bad.append(("period", p.period))
        if (p.previous.start, p.previous.end) != (add_months(start, -12), add_months(last, -12)):
            bad.append(("previous", p.previous))
        if p.borough_population != borough_pop:
            bad.append(("borough_population", p.borough_population))

        cur = _sums(raw, "ward", code, p.period.start, p.period.end)
        prev = _sums(raw, "ward", code, p.previous.start, p.previous.end)
        t = p.table
        if t.empty or int(t["count"].sum()) <= 0:
            bad.append(("empty table", len(t)))
            continue
        got = {c.lower(): r for c, r in zip(t["category"], t.to_dict("records"))}
        if set(got) != set(cur) | set(prev):
            bad.append(("categories", sorted(got), sorted(set(cur) | set(prev))))
        for cat, r in got.items():
            n, before = cur.get(cat, 0), prev.get(cat, 0)
            if (r["count"], r["previous"], r["change"]) != (n, before, n - before):
                bad.append((cat, "count/previous", r["count"], r["previous"], n, before))
            if r["ward_rate"] != pytest.approx(n / int(pop) * 1000):
                bad.append((cat, "ward_rate", r["ward_rate"], n / int(pop) * 1000))
            if r["borough_rate"] != pytest.approx(borough.get(cat, 0) / borough_pop * 1000):
                bad.append((cat, "borough_rate", r["borough_rate"], borough.get(cat, 0) / borough_pop * 1000))
        if list(t["count"]) != sorted(t["count"], reverse=True):
            bad.append(("table not in descending count order", list(t["count"])))

        # Monthly: 24 months x categories, every month one the ward's data covers (zeros are
        # filled for a category absent in a covered month, never for a missing month).
        m = p.monthly
        months = [add_months(last, -23 + i) for i in range(24)]
        covered = {
            _d(v)
            for (v,) in raw.execute(
                "SELECT DISTINCT month FROM crime_monthly WHERE level = 'ward' AND area_code = ? AND month BETWEEN ? AND ?",
                [code, months[0], last],
            ).fetchall()
        }
        if sorted(set(m["month"])) != months or not set(m["month"]) <= covered:
            bad.append(("monthly months", sorted(set(m["month"]))[:3], len(set(m["month"])), len(covered)))
        if set(m["category"].str.lower()) != set(got):
            bad.append(("monthly categories", sorted(set(m["category"]))))
        if len(m) != 24 * len(set(m["category"])) or m.duplicated(["month", "category"]).any():
            bad.append(("monthly grid", len(m)))
        per = {
            (_d(mo), c): int(n)
            for mo, c, n in raw.execute(
                "SELECT month, lower(major_category), sum(count)::BIGINT FROM crime_monthly "
                "WHERE level = 'ward' AND area_code = ? AND month BETWEEN ? AND ? GROUP BY 1, 2",
                [code, months[0], last],
            ).fetchall()
        }
        want = [per.get((mo, c.lower()), 0) for mo, c in zip(m["month"], m["category"])]
        if list(m["count"]) != want:
            bad.append(("monthly counts differ", sum(a != b for a, b in zip(m["count"], want))))
        if int(m[m["month"] >= start]["count"].sum()) != int(t["count"].sum()):
            bad.append(
                ("monthly last-12 total", int(m[m["month"] >= start]["count"].sum()), int(t["count"].sum()))
            )
        if not p.snapshot:
            bad.append(("snapshot", p.snapshot))
    problems = {k: v for k, v in problems.items() if v}
    assert not problems, problems


def test_profile_same_in_internal_and_public_mode(public, monkeypatch):
    pub = profile(SPITALFIELDS[0])
    monkeypatch.setenv("CSP_MODE", "internal")
    db.reset()
    inner = profile(SPITALFIELDS[0])
    pd.testing.assert_frame_equal(pub.table, inner.table)
    pd.testing.assert_frame_equal(pub.monthly, inner.monthly)
    assert (pub.period, pub.snapshot) == (inner.period, inner.snapshot)


def _drop_ward_month(data_dir: Path, code: str, month: date) -> None:
    path = data_dir / "warehouse" / "crime_monthly.parquet"
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT * FROM read_parquet('{path}') WHERE NOT (level = 'ward' AND area_code = ? "
        f"AND month = ?)) TO '{path}.new' (FORMAT parquet)",
        [code, month],
    )
    con.close()
    Path(f"{path}.new").replace(path)


def _common_last(data_dir: Path) -> date:
    path = data_dir / "warehouse" / "crime_monthly.parquet"
    con = duckdb.connect()
    w = con.execute(f"SELECT max(month) FROM read_parquet('{path}') WHERE level = 'ward'").fetchone()[0]
    b = con.execute(
        f"SELECT max(month) FROM read_parquet('{path}') WHERE level = 'borough' AND area_code = 'E09000030'"
    ).fetchone()[0]
    con.close()
    return min(_d(w), _d(b))


def test_a_missing_ward_month_is_an_error_not_zeros(data_copy, monkeypatch):
    """A month without ward data inside the 24 months would otherwise be drawn as zero crimes."""
    monkeypatch.setenv("CSP_MODE", "public")
    last = _common_last(data_copy)
    gap = add_months(last, -5)
    _drop_ward_month(data_copy, SPITALFIELDS[0], gap)
    db.reset()
    with pytest.raises(WardError, match=r"incomplete \(11 of 12 months\)") as info:
        profile(SPITALFIELDS[0])
    assert not LEAKS.search(str(info.value)), str(info.value)
    profile(OTHER[0])  # other wards are unaffected


# ---------------------------------------------------------------- (2) resolve()


@pytest.mark.parametrize("text", ["E05009333", "e05009333", "  E05009333  ", "\te05009333\n"])
def test_resolve_accepts_any_case_and_spaces(public, text):
    w = resolve(text)
    assert (w.code, w.name) == SPITALFIELDS and w.population > 0


@pytest.mark.parametrize(
    "text,kind",
    [
        ("", "empty"),
        (None, "empty"),
        ("   ", "empty"),
        ("E0500933", "malformed"),
        ("E050093333", "malformed"),
        ("E09000030", "malformed"),
        ("E05009333' OR 1=1", "malformed"),
        ("E05009333'; DROP TABLE wards; --", "malformed"),
        ("../../etc/passwd", "malformed"),
        ("E05009333/../../x", "malformed"),
        ("<script>", "malformed"),
        ("E05009333\x00", "malformed"),
        ("not-a-ward", "malformed"),
        ("E05999999", "unknown"),
        ("E05000001", "unknown"),
    ],
)
def test_resolve_rejects_with_a_friendly_message(public, text, kind):
    with pytest.raises(WardError) as info:
        resolve(text)
    msg = str(info.value)
    assert msg and "\n" not in msg and not LEAKS.search(msg), msg
    assert "OR 1=1" not in msg and "passwd" not in msg and "<script>" not in msg, "input is not echoed"
    if kind == "empty":
        assert msg == "No ward was chosen."
    elif kind == "malformed":
        assert msg.startswith(MALFORMED) and "E05009333" in msg, msg  # shows what a code looks like
    else:
        assert msg.startswith(UNKNOWN) and text in msg and "Tower Hamlets" in msg, msg


def test_malformed_and_unknown_messages_differ(public):
    msgs = {}
    for text in ("E0500933", "E05999999", ""):
        with pytest.raises(WardError) as info:
            resolve(text)
        msgs[text] = str(info.value)
    assert len(set(msgs.values())) == 3, msgs


@pytest.mark.parametrize("text", ["E05٠٠٩٣٣٣", "E05００９３３３"])
def test_resolve_non_ascii_digits_are_malformed(public, text):
    with pytest.raises(WardError, match=MALFORMED):
        resolve(text)


def test_ward_code_pattern_rejects_trailing_newline():
    """``$`` also matches before a final newline; resolve() strips first, so this is safe there."""
    assert WARD_CODE.match("E05009333")
    with pytest.raises(WardError):
        resolve("E05009333\n\nE05009334")


# ---------------------------------------------------------------- (3) the page, through the app frame


def open_ward_page(ward: str | None = None) -> AppTest:
    """Run app.py (public mode), then follow the ward page link, with ``?ward=`` if given."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    if ward is not None:
        at.query_params["ward"] = ward
    at.switch_page(WARD_PAGE.script).run()
    assert [t.value for t in at.main.title] == ["Crime in your ward"]
    return at


def _ward_select(at: AppTest):
    boxes = [s for s in at.main.selectbox if s.label == "Ward"]
    assert len(boxes) == 1
    return boxes[0]


def _ward_headers(at: AppTest) -> list[str]:
    names = {n for _, n in (SPITALFIELDS, OTHER)} | {w.name for w in _all_wards()}
    return [shown(h.value) for h in at.main.header if shown(h.value) in names]


def _all_wards():
    from csp_data.analysis.ward_profile import wards

    return wards()


def assert_profile_shown(at: AppTest, code: str, name: str) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.main.warning and not at.main.error, [w.value for w in at.main.warning]
    assert _ward_headers(at) == [name]
    assert _ward_select(at).value == code
    assert at.main.table, "the category table is drawn"
    table = at.main.table[0].value
    assert len(table) == len(profile(code).table) > 0
    assert at.query_params.get("ward") == code


@pytest.mark.parametrize("param", ["E05009333", "e05009333", " E05009333 "])
def test_page_with_ward_param_shows_the_profile(public, param):
    at = open_ward_page(param)
    assert_profile_shown(at, *SPITALFIELDS)
    text = " ".join(shown(m.value) for m in at.main.markdown)
    assert "Spitalfields & Banglatown had **" in text and "recorded crimes** in the 12 months" in text


@pytest.mark.parametrize(
    "param,message",
    [
        ("E05999999", UNKNOWN),
        ("not-a-ward", MALFORMED),
        ("E05009333' OR 1=1", MALFORMED),
        ("", "No ward was chosen"),
    ],
)
def test_page_with_bad_ward_param_warns(public, param, message):
    at = open_ward_page(param)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.main.error
    warnings = [w.value for w in at.main.warning]
    assert len(warnings) == 1 and warnings[0].startswith(message), warnings
    assert not LEAKS.search(warnings[0]), warnings[0]
    assert not at.main.table and not _ward_headers(at)
    assert _ward_select(at).value is None
    assert len(_ward_select(at).options) == 20, "the list of wards is still offered"


def test_page_without_param_waits_for_a_choice_then_sets_the_url(public):
    at = open_ward_page()
    assert not at.exception and not at.main.warning
    assert not at.main.table and not _ward_headers(at)
    assert _ward_select(at).value is None
    assert "ward" not in at.query_params
    assert len(_ward_select(at).options) == 20

    _ward_select(at).select(SPITALFIELDS[0]).run()
    assert_profile_shown(at, *SPITALFIELDS)
    assert at.query_params["ward"] == SPITALFIELDS[0]

    at.run()  # a rerun (e.g. a reload of the new URL) keeps it
    assert_profile_shown(at, *SPITALFIELDS)


def test_page_second_choice_after_a_first_choice_is_applied(public):
    at = open_ward_page()
    _ward_select(at).select(SPITALFIELDS[0]).run()
    assert_profile_shown(at, *SPITALFIELDS)
    _ward_select(at).select(OTHER[0]).run()
    assert_profile_shown(at, *OTHER)


def test_page_from_a_ward_url_to_another_ward(public):
    at = open_ward_page(SPITALFIELDS[0])
    assert_profile_shown(at, *SPITALFIELDS)
    _ward_select(at).select(OTHER[0]).run()
    assert_profile_shown(at, *OTHER)


def test_page_choosing_a_ward_after_a_bad_url(public):
    at = open_ward_page("E05999999")
    assert at.main.warning
    _ward_select(at).select(OTHER[0]).run()
    assert not at.exception
    assert _ward_headers(at) == [OTHER[1]] and at.main.table
    assert at.query_params["ward"] == OTHER[0]
    at.run()
    assert_profile_shown(at, *OTHER)


def test_page_shows_incomplete_ward_data_as_a_warning(data_copy, monkeypatch):
    monkeypatch.setenv("CSP_MODE", "public")
    _drop_ward_month(data_copy, SPITALFIELDS[0], add_months(_common_last(data_copy), -5))
    db.reset()
    at = open_ward_page(SPITALFIELDS[0])
    assert not at.exception, [e.value for e in at.exception]
    warnings = [w.value for w in at.main.warning]
    assert any("incomplete" in w for w in warnings), warnings
    assert not at.main.table


def test_ward_profile_verdicts_are_the_ward_tables_verdicts(warehouse):
    """A ward's "is it real?" for a category is the same verdict the ward table gives that ward
    (pooled ward dispersion, false-discovery control across the 20 wards), and its words say so."""
    from csp_data.analysis import areas as analysis

    p = profile(SPITALFIELDS[0])
    robbery = next(c for c in analysis.categories() if c.label == "All robbery")
    wards_t = analysis.area_table(robbery, p.period, "Wards").set_index("code")
    row = p.table[p.table["category"] == "Robbery"].iloc[0]
    assert row["verdict"] == wards_t.loc[SPITALFIELDS[0], "verdict"]
    assert "after allowing for 20 wards tested at once" in row["words"]
    assert set(p.table["verdict"]) <= {"No significant change", "Significant rise", "Significant fall"}


# ---------------------------------------------------------------- what the page draws, built outside the page


def test_ward_page_tables_are_built_from_the_profile(public):
    """The page's totals, verdict column and per-category months (csp_data.present.site)."""
    from csp_data.present import site

    prof = profile(SPITALFIELDS[0])
    t = prof.table
    assert site.ward_totals(t) == (int(t["count"].sum()), int(t["previous"].sum()))
    verdicts = site.ward_verdicts(t)["verdict"]
    for r, v in zip(t.itertuples(), verdicts):
        assert v.startswith(f"{r.change:+,d}") and v.endswith(f": {r.symbol} {r.words}")
        assert (f" ({r.pct_change:+.0f}%)" in v) == bool(r.previous)
    months = site.ward_monthly(t, prof.monthly)
    assert [c for c, _ in months] == list(t["category"])
    for cat, one in months:
        assert len(one) > 0 and set(one["category"]) == {cat}
