"""The briefing pack (csp_data/present/briefing.py and ``python -m csp_data briefing``) on the real embedded
data: contents checked against the functions the pages use, the months each section covers, no
external resource, clear refusals that write nothing, and atomic replacement."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from datetime import date
from html.parser import HTMLParser

import pandas as pd
import pytest

from csp_data.__main__ import main
from csp_data.analysis import hotspots, scorecard, stats, targets, ttcg
from csp_data.config import REPO_ROOT, settings
from csp_data.plan.document import load_plan
from csp_data.plan.measures import MEASURES, get
from csp_data.present import briefing
from csp_data.warehouse import sql

MARCH = date(2026, 3, 1)
STATUS_WORDS = ("on track", "off track", "too early to tell", "awaiting data", "met", "not met")


class Doc(HTMLParser):
    """Tables (rows of cell text), visible text, every attribute, every id."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self.attrs: list[tuple[str, str, str | None]] = []
        self.ids: list[str] = []
        self.tags: list[str] = []
        self.text: list[str] = []
        self._stack: list[list[list[str]]] = []
        self._cell: list[str] | None = None
        self._skip = 0
        self.feed(text)
        self.close()
        self.plain = re.sub(r"\s+", " ", "".join(self.text))

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for k, v in attrs:
            self.attrs.append((tag, k, v))
            if k == "id":
                self.ids.append(v)
        if tag in ("style", "svg"):
            self._skip += 1
        elif tag == "table":
            self._stack.append([])
        elif tag == "tr" and self._stack:
            self._stack[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("style", "svg"):
            self._skip -= 1
        elif tag == "table" and self._stack:
            self.tables.append(self._stack.pop())
        elif tag in ("td", "th") and self._cell is not None and self._stack:
            self._stack[-1][-1].append(re.sub(r"\s+", " ", "".join(self._cell)).strip())
            self._cell = None
        elif tag in ("p", "li", "h1", "h2", "h3", "tr", "caption", "figcaption"):
            self.text.append(" ")

    def handle_data(self, data):
        if self._skip:
            return
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)

    def table_with(self, *heads: str) -> list[list[str]]:
        for t in self.tables:
            if t and all(h in t[0] for h in heads):
                return t
        raise AssertionError(f"no table with columns {heads}")


def assert_self_contained(text: str) -> None:
    """Nothing in the page can load anything: no script, link, image, frame or import, no URL in
    any attribute except XML namespace declarations, no url() but to the page's own #ids."""
    doc = Doc(text)
    for tag in (
        "script",
        "link",
        "img",
        "iframe",
        "object",
        "embed",
        "audio",
        "video",
        "source",
        "base",
        "image",
    ):
        assert tag not in doc.tags, f"<{tag}> in the pack"
    for tag, name, value in doc.attrs:
        if name.startswith("xmlns"):
            continue
        assert "//" not in (value or ""), f"<{tag} {name}={value!r}>: a URL in an attribute"
        if name in ("href", "xlink:href", "src"):
            assert (value or "").startswith("#"), f"<{tag} {name}={value!r}>"
        assert not name.startswith("on"), f"<{tag} {name}>: an event handler"
    assert "@import" not in text and "@font-face" not in text
    for ref in re.findall(r"url\(\s*['\"]?([^)'\"]*)", text):
        assert ref.startswith("#"), f"url({ref}) loads something"
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", text, re.I)


# ----------------------------------------------------------------------------- the pack for 2026-03


@pytest.fixture(scope="module")
def cli_env(warehouse):
    env = {**os.environ, "CSP_DATA_DIR": str(warehouse.parent), "CSP_MODE": "internal"}
    env.pop("CSP_BOROUGH_CODE", None)
    env.pop("CSP_BOROUGH", None)
    return env


@pytest.fixture(scope="module")
def march(cli_env, tmp_path_factory):
    """The CLI's pack for 2026-03, from the embedded data, in an empty folder of its own."""
    folder = tmp_path_factory.mktemp("pack")
    out = folder / "briefing-2026-03.html"
    t0 = time.perf_counter()
    res = subprocess.run(
        [sys.executable, "-m", "csp_data", "briefing", "--period", "2026-03", "--out", str(out)],
        cwd=REPO_ROOT,
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    seconds = time.perf_counter() - t0
    assert res.returncode == 0, res.stderr
    text = out.read_text(encoding="utf-8")
    print(
        f"\nbriefing 2026-03: {len(text.encode()) / 1024:.0f} KB in {seconds:.1f} s (CLI, including start-up)"
    )
    return {"folder": folder, "out": out, "stdout": res.stdout, "text": text, "doc": Doc(text)}


def test_cli_reports_what_it_wrote(march):
    assert march["stdout"].startswith(f"wrote {march['out']}")
    assert "briefing pack for March 2026" in march["stdout"]
    assert sorted(p.name for p in march["folder"].iterdir()) == [march["out"].name], (
        "no other file is created"
    )


def test_title_borough_period_and_generation_date(march):
    doc, text = march["doc"], march["text"]
    cfg = settings()
    assert re.search(r"<title>[^<]*Tower Hamlets[^<]*March 2026</title>", text)
    assert "<h1>Tower Hamlets Community Safety Partnership: briefing pack</h1>" in text
    assert "Period: March 2026" in doc.plain and f"({cfg.borough_code})" in doc.plain
    today = date.today()
    assert f"Generated: {today.day} {today:%B %Y}" in doc.plain
    assert "internal" in doc.plain and "no point-level or personal data" in doc.plain


def test_every_scorecard_measure_with_its_figures(march):
    table = march["doc"].table_with("Measure", "Last 12 months", "Change", "London rank", "Snapshot")
    rows = {r[0]: r for r in table[1:]}
    expected = scorecard.scorecard(as_of=MARCH)
    assert len(rows) == len(MEASURES) == len(expected)
    for r in expected:
        row = rows[f"{r.measure.label} (P{r.measure.priority})"]
        assert r.latest is not None and r.latest <= MARCH
        if r.l12:
            assert row[1] == f"{r.last12.label}: {r.l12.current:,d} (previous 12: {r.l12.previous:,d})"
            assert row[2] == scorecard.fmt_change(r.l12)
            assert row[3].startswith(f"{r.l12.symbol} {r.l12.verdict}")
        assert row[-1] == r.snapshot
    # borough recorded crime ends in Feb 2026: the 12 months are Mar 2025 to Feb 2026, not to March
    assert rows["Robbery (P1)"][1].startswith("Mar 2025 to Feb 2026: ")
    assert rows["Business crime (P1)"][1].startswith("Aug 2024 to Jul 2025: ")


def test_every_plan_target_with_a_status_word(march):
    table = march["doc"].table_with("Target", "Status", "Why")
    rows = {r[0].split(":")[0]: r for r in table[1:]}
    expected = targets.evaluate_all(as_of=MARCH)
    plan = load_plan()
    assert len(expected) == len(plan.targets) == len(rows) == 16
    for r in expected:
        row = rows[r.target.id]
        assert row[0] == f"{r.target.id}: {r.target.label} (P{r.target.priority})"
        status = row[1]
        word = status.split(" ", 1)[1]
        assert word in STATUS_WORDS and word == r.status, (r.target.id, status)
        assert status.startswith(stats.STATUS_SYMBOLS[r.status]), "a symbol as well as the word"
        if r.status == targets.AWAITING:
            assert row[3] == "awaiting data", (r.target.id, row[3])
    awaiting = [r for r in expected if r.status == targets.AWAITING]
    assert awaiting, "the partnership figures are empty, so some targets await data"
    assert all(rows[r.target.id][1] == "○ awaiting data" for r in awaiting)
    # the police targets were judged on data to Feb 2026 (the borough extract's end)
    robbery = next(r for r in expected if r.target.id == "robbery")
    assert robbery.assessed_period.end == date(2026, 2, 1)
    assert rows["robbery"][3].startswith(f"{robbery.observed:,.0f} ({robbery.assessed_period.label})")


def test_police_target_charts_are_inline_svg_with_unique_ids(march):
    text, doc = march["text"], march["doc"]
    police = [t for t in load_plan().targets if t.kind == "police_count"]
    assert text.count("<svg ") == len(police)
    assert len(doc.ids) == len(set(doc.ids)), "ids are unique across the inlined charts"
    for t in police:
        assert f"Chart description: {t.label}: recorded against the path, year by year." in doc.plain
    sections = {"scorecard", "targets", "hotspots", "ttcg", "sources"}
    assert all(i in sections or i.startswith("chart-") for i in doc.ids), (
        "chart ids carry their chart's prefix"
    )


def test_hot_spots_for_the_main_categories(march):
    doc = march["doc"]
    start, end = ttcg.lsoa_window(MARCH)
    assert (start, end) == (date(2025, 3, 1), date(2026, 2, 1))
    for cid in briefing.HOTSPOT_CATEGORIES:
        m = get(cid)
        gi = hotspots.lsoa_hotspots(list(m.majors), list(m.minors), start, end)
        hot = gi[gi["klass"].str.startswith("hot spot")].sort_values(["z", "code"], ascending=[False, True])
        heading = f"{m.label}: {len(hot)} hot spot{'s' if len(hot) != 1 else ''} of {len(gi)} LSOAs"
        assert heading in doc.plain
        if len(hot):
            top = hot.iloc[0]
            assert f"{top['code']} {top['name']}" in doc.plain
    table = doc.table_with("LSOA", "Ward", "Offences", "Hot-spot class", "p (permutation)", "q (FDR)")
    assert all(r[4].startswith("hot spot") for r in table[1:])


def test_hot_spot_section_says_plainly_when_none_survives_and_shows_what_is_robust(march):
    """Robbery over Mar 2025 to Feb 2026: no LSOA survives conditional permutation and FDR. The
    pack says so in words, and for every category gives the concentration (top 5% / 10% of LSOAs,
    now and the year before) and the LSOAs with most offences and the highest rate."""
    doc = march["doc"]
    start, end = date(2025, 3, 1), date(2026, 2, 1)
    gi = hotspots.lsoa_hotspots(["ROBBERY"], [], start, end)
    assert (gi["klass"] == "not significant").all()
    assert "Robbery: 0 hot spots of 169 LSOAs" in doc.plain
    assert "No LSOA is a hot spot after allowing for 169 areas tested at once." in doc.plain
    # concentration, recomputed from the warehouse
    now = gi["count"].sort_values(ascending=False)
    before = hotspots.lsoa_period_counts(["ROBBERY"], [], date(2024, 3, 1), date(2025, 2, 1))["count"]
    before = before.sort_values(ascending=False)
    conc = [t for t in doc.tables if t and t[0][0] == "Busiest LSOAs"]
    assert len(conc) == len(briefing.HOTSPOT_CATEGORIES)
    robbery = conc[briefing.HOTSPOT_CATEGORIES.index("robbery")]
    assert robbery[0] == [
        "Busiest LSOAs",
        "Share of offences, Mar 2025 to Feb 2026",
        "Share, Mar 2024 to Feb 2025",
    ]
    for row, k in zip(robbery[1:], (9, 17)):
        assert row == [
            f"Top {5 if k == 9 else 10}% ({k} LSOAs)",
            f"{now.head(k).sum() / now.sum():.0%}",
            f"{before.head(k).sum() / before.sum():.0%}",
        ]
    ranks = [
        t for t in doc.tables if t and t[0] == ["Rank", "Most offences", "Highest rate per 1,000 residents"]
    ]
    assert len(ranks) == len(briefing.HOTSPOT_CATEGORIES)
    top = gi.sort_values(["count", "name"], ascending=[False, True]).iloc[0]
    assert ranks[briefing.HOTSPOT_CATEGORIES.index("robbery")][1][1].startswith(
        f"{top['code']} {top['name']}, "
    )
    # and the TTCG section says the same in its own words for its categories
    assert "no LSOA is a hot spot after allowing for 169 areas tested at once." in doc.plain


def test_ttcg_exceptions_for_the_month(march):
    doc = march["doc"]
    items = ttcg.exceptions(MARCH)
    area = [e for e in items if e.kind != "lsoa"]
    small = [e for e in items if e.kind == "lsoa"]
    t1 = doc.table_with("Severity", "Check", "Signal", "Where", "What", "Figures")
    assert [r[3:] for r in t1[1:]] == [[e.where, e.what, e.figure] for e in area]
    assert all(r[2].split(" ")[1] in ("above", "below") and r[2][0] in "▲▼" for r in t1[1:])
    t2 = doc.table_with("Severity", "Category", "Class", "LSOA", "Offences in Feb 2026")
    assert [r[3] for r in t2[1:]] == [e.detail for e in small]
    assert "Everything unusual in March 2026" in doc.plain


def test_each_section_says_which_months_it_covers(march):
    doc = march["doc"]
    covers = {r[0]: r[1] for r in doc.table_with("Section", "Months covered")[1:]}
    assert covers["1. Borough scorecard"].startswith("12 months to Feb 2026")
    assert "to Jul 2025" in covers["1. Borough scorecard"]  # business crime and the older dashboard
    assert "Apr 2025 to Feb 2026" in covers["2. Plan targets"]
    assert covers["3. Small-area hot spots"].startswith("Mar 2025 to Feb 2026")
    assert covers["4. TTCG exceptions"].startswith("Mar 2026 (ward data)")
    assert "published to Feb 2026" in covers["4. TTCG exceptions"]
    assert "Borough-level recorded crime is published to Feb 2026, ward-level to Mar 2026" in doc.plain
    for key in ("scorecard", "targets", "hotspots", "ttcg", "sources"):
        assert f'<section id="{key}">' in march["text"]
    assert doc.plain.count("Covers:") == 5
    glance = {r[0]: r[2] for r in doc.table_with("Section", "Months covered", "At a glance")[1:]}
    results = targets.evaluate_all(as_of=MARCH)
    awaiting = sum(r.status == targets.AWAITING for r in results)
    assert glance["2. Plan targets"].startswith(f"{len(results)} targets: ")
    assert f"○ {awaiting} awaiting data" in glance["2. Plan targets"]
    assert glance["4. TTCG exceptions"].startswith(f"{len(ttcg.exceptions(MARCH))} exceptions in Mar 2026: ")


def test_sources_with_snapshots(march):
    doc = march["doc"]
    files = doc.table_with("File", "As of", "Publisher", "Licence", "Origin")
    src = sql.run("meta/sources")
    assert [r[0] for r in files[1:]] == src["path"].tolist()
    assert [r[1] for r in files[1:]] == src["as_of"].tolist()
    cov = doc.table_with("Dataset", "File", "Snapshot", "First month", "Last month")
    assert [r[2] for r in cov[1:]] == sql.run("meta/coverage")["snapshot"].tolist()
    assert hotspots.CAVEAT in doc.plain and ttcg.METHOD in doc.plain


def test_no_external_resources(march):
    assert_self_contained(march["text"])


def test_the_self_containment_check_can_fail():
    for bad in (
        '<img src="https://x.invalid/a.png">',
        '<link rel="stylesheet" href="//x.invalid/a.css">',
        '<a href="http://x.invalid">x</a>',
        '<p style="background:url(https://x.invalid/a.png)">x</p>',
        "<style>@import 'https://x.invalid/a.css';</style>",
        '<svg><image href="http://x.invalid/i"/></svg>',
    ):
        with pytest.raises(AssertionError):
            assert_self_contained(f"<!DOCTYPE html><html><body>{bad}</body></html>")
    assert_self_contained(
        '<svg xmlns="http://www.w3.org/2000/svg"><rect fill="url(#g)"/></svg>'
        "<p>Origin: https://data.london.gov.uk/ (a citation in text)</p>"
    )


def test_print_css(march):
    text = march["text"]
    assert "@page { size: A4" in text
    assert re.search(r"section \{ break-before: page", text), "each section starts a page"
    assert "break-inside: avoid" in text and "thead { display: table-header-group; }" in text
    assert "print-color-adjust: exact" in text


# ----------------------------------------------------------------------------- another month


def test_an_earlier_month_uses_that_months_data(warehouse):
    june = date(2025, 6, 1)
    doc = Doc(briefing.build(june, generated=date(2025, 7, 15)))
    covers = {r[0]: r[1] for r in doc.table_with("Section", "Months covered")[1:]}
    assert covers["1. Borough scorecard"].startswith("12 months to Jun 2025")
    assert covers["3. Small-area hot spots"].startswith("Jul 2024 to Jun 2025")
    assert covers["4. TTCG exceptions"] == "Jun 2025 (ward data)"
    assert "Note on dates" not in doc.plain
    assert "Generated: 15 July 2025" in doc.plain
    rows = {r[0]: r for r in doc.table_with("Measure", "Last 12 months")[1:]}
    robbery = scorecard.score(get("robbery"), as_of=june)
    assert robbery.latest == june
    assert rows["Robbery (P1)"][1] == (
        f"Jul 2024 to Jun 2025: {robbery.l12.current:,d} (previous 12: {robbery.l12.previous:,d})"
    )


def test_the_first_month_says_what_cannot_be_shown(warehouse):
    doc = Doc(briefing.build(date(2010, 4, 1)))
    covers = {r[0]: r[1] for r in doc.table_with("Section", "Months covered")[1:]}
    assert covers["1. Borough scorecard"].startswith("data to Apr 2010")
    assert "no data: Business crime" in covers["1. Borough scorecard"]
    assert covers["3. Small-area hot spots"] == "no LSOA data"
    assert covers["4. TTCG exceptions"] == "not available"
    assert "the first month that can be judged is Apr 2011" in doc.plain
    statuses = [r[1] for r in doc.table_with("Target", "Status")[1:]]
    assert statuses == ["○ awaiting data"] * 16


def test_as_of_leaves_out_later_months(warehouse):
    full = scorecard.score(get("robbery"))
    earlier = scorecard.score(get("robbery"), as_of=date(2025, 1, 1))
    assert full.latest == date(2026, 2, 1) and earlier.latest == date(2025, 1, 1)
    assert earlier.l12.current != full.l12.current
    assert scorecard.score(get("robbery"), as_of=date(2030, 1, 1)) == full
    res = {r.target.id: r for r in targets.evaluate_all(as_of=date(2025, 9, 1))}
    assert res["robbery"].assessed_period.end == date(2025, 9, 1)


# ----------------------------------------------------------------------------- the month and its checks


def test_default_month_is_the_latest_with_data(warehouse):
    span = sql.run("meta/data_span", borough_code=settings().borough_code)
    crime = span[span["dataset"].str.startswith("crime_")]
    assert briefing.resolve_month(None) == pd.Timestamp(crime["last_month"].max()).date() == MARCH
    assert briefing.resolve_month("") == MARCH
    assert briefing.resolve_month("2026-02") == date(2026, 2, 1)
    assert briefing.resolve_month("2010-04") == date(2010, 4, 1)


@pytest.mark.parametrize(
    "period,message",
    [
        ("2026-13", "month 13 is not 01-12"),
        ("2026-00", "month 00 is not 01-12"),
        ("abc", "one month as YYYY-MM"),
        ("FY2025-26", "one month as YYYY-MM"),
        ("2026-3", "one month as YYYY-MM"),
        ("2026-03..2026-04", "one month as YYYY-MM"),
        ("2027-01", "is after the latest data held"),
        (
            "2026-04",
            "April 2026 is after the latest data held: recorded crime runs from Apr 2010 to Mar 2026",
        ),
        ("2010-03", "March 2010 is before the data start"),
        ("1999-12", "is before the data start"),
    ],
)
def test_bad_period_is_refused_and_writes_nothing(warehouse, tmp_path, capsys, period, message):
    out = tmp_path / "pack.html"
    rc = main(["briefing", "--period", period, "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("error: ") and message in err, err
    assert list(tmp_path.iterdir()) == []


def test_a_future_month_says_so(warehouse):
    with pytest.raises(briefing.BriefingError, match="a month still to come"):
        briefing.resolve_month("2027-01", today=date(2026, 11, 30))


def test_out_must_not_be_a_directory(warehouse, tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("x")
    for out in (str(tmp_path), str(tmp_path) + os.sep):
        rc = main(["briefing", "--period", "2026-03", "--out", out])
        err = capsys.readouterr().err
        assert rc == 2 and "is a directory" in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_out_in_a_missing_folder_is_refused(warehouse, tmp_path, capsys):
    rc = main(["briefing", "--out", str(tmp_path / "no" / "such" / "pack.html")])
    assert rc == 2 and "does not exist" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_public_mode_is_refused(warehouse, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CSP_MODE", "public")
    rc = main(["briefing", "--period", "2026-03", "--out", str(tmp_path / "pack.html")])
    assert rc == 2 and "internal" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- atomic writing


def test_an_existing_file_is_kept_when_building_fails(warehouse, tmp_path, monkeypatch):
    out = tmp_path / "pack.html"
    out.write_text("OLD")

    def broken(*a, **k):
        raise RuntimeError("simulated failure half-way through")

    monkeypatch.setattr(briefing, "_hotspots_section", broken)
    with pytest.raises(RuntimeError, match="half-way"):
        briefing.generate("2026-03", out)
    assert out.read_text() == "OLD"
    assert [p.name for p in tmp_path.iterdir()] == ["pack.html"]


def test_an_existing_file_is_kept_when_the_write_fails(tmp_path, monkeypatch):
    out = tmp_path / "pack.html"
    out.write_text("OLD")

    def no_replace(src, dst):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(briefing.os, "replace", no_replace)
    with pytest.raises(OSError, match="simulated"):
        briefing.write_atomic("<html>NEW</html>", out)
    assert out.read_text() == "OLD"
    assert [p.name for p in tmp_path.iterdir()] == ["pack.html"], "the temporary file is removed"


def test_a_successful_write_replaces_the_file_and_keeps_its_mode(tmp_path):
    out = tmp_path / "pack.html"
    out.write_text("OLD")
    out.chmod(0o640)
    n = briefing.write_atomic("<html>NÉW</html>", out)
    assert out.read_text(encoding="utf-8") == "<html>NÉW</html>" and n == len("<html>NÉW</html>".encode())
    assert out.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["pack.html"]
    fresh = tmp_path / "fresh.html"
    briefing.write_atomic("x", fresh)
    assert fresh.stat().st_mode & 0o777 == 0o644


def test_a_cli_run_replaces_an_existing_file(warehouse, tmp_path, capsys, monkeypatch):
    """The whole command on an existing file (the pack itself is stubbed: the real one is built above)."""
    out = tmp_path / "pack.html"
    out.write_text("OLD")
    monkeypatch.setattr(
        briefing, "build", lambda month, cfg=None, generated=None: f"<html>{month:%Y-%m}</html>"
    )
    assert main(["briefing", "--period", "2026-02", "--out", str(out)]) == 0
    assert out.read_text() == "<html>2026-02</html>"
    assert "briefing pack for February 2026" in capsys.readouterr().out
    assert [p.name for p in tmp_path.iterdir()] == ["pack.html"]
