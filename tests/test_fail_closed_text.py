"""Issue 12, points 2 and 3: text from a user or a file is shown literally, and leaves as CSV
neutralised.

A synthetic partnership figure whose source is a Markdown image, whose note holds a link, raw HTML
and a bare URL, and whose "entered by" is a spreadsheet formula is saved in a private copy of the
data folder; the Targets, priority 1 and Partnership figures pages must pass every one of them to
Streamlit escaped (no live image, link or HTML), the loader's report must flag the formula-like
text fields, and the command line's CSV must have no text cell starting ``= + - @``.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from csp_data.plan import partnership as pf
from csp_data.present.exports import csv_text
from csp_data.present.formatting import WORD_JOINER, md_escape

REPO = Path(__file__).resolve().parents[1]
APP = str(REPO / "app.py")

# Synthetic figure: the value is plausible, every text field is hostile.
SOURCE = "![t](http://evil.example/note.png)"
NOTE = "[click](http://evil.example/x) <img src=http://evil.example/i.png> www.evil.example **bold**"
ENTERED_BY = '=HYPERLINK("http://evil.example","x")'
ROW = ["fire_audits", "FY2025-26", "735", "count", SOURCE, ENTERED_BY, "2026-04-10T09:00:00", NOTE]

# Markup that would be live if it reached Markdown unescaped (an escaped character is preceded by \).
LIVE = [
    (r"(?<!\\)!(?<!\\)\[", "an image"),
    (r"(?<!\\)\]\(", "a link target"),
    (r"(?<!\\)<img", "raw HTML"),
    (r"(?<!\\)\*\*bold", "bold"),
]
# Streamlit's Markdown links these *after* resolving escapes (checked in a browser: an escaped
# http\://evil\.example is still a live link), so they are looked for in the unescaped text.
AUTOLINKS = [
    (r"(?i)https?://", "a URL"),
    (r"(?i)\bwww\.", "a www. name"),
    (r"[\w.+-]@[\w-]+\.", "an e-mail address"),
]


def unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def live_markup(text: str) -> list[str]:
    return [what for pattern, what in LIVE if re.search(pattern, text)] + [
        what for pattern, what in AUTOLINKS if re.search(pattern, unescape(text))
    ]


@pytest.fixture
def hostile_figure(data_copy, monkeypatch):
    monkeypatch.setenv("CSP_MODE", "internal")
    path = data_copy / "partnership" / "figures.csv"
    path.parent.mkdir(exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows([pf.COLUMNS, ROW])
    assert len(pf.load_figures(path)) == 1  # a valid row: the loader accepts it as data
    return path


def texts(at: AppTest) -> list[str]:
    """Every string the page gave Streamlit to render as Markdown: markdown, captions, alerts, table
    cells and headers, expander labels."""
    out = []
    for kind in (
        "markdown",
        "caption",
        "error",
        "warning",
        "info",
        "success",
        "title",
        "header",
        "subheader",
    ):
        out += [str(e.value) for e in getattr(at, kind)]
    for t in at.table:
        df = t.value
        out += [str(c) for c in df.columns] + [str(v) for v in df.to_numpy().ravel()]
    return out


def assert_plain(at: AppTest, must_show: tuple[str, ...]) -> None:
    assert not at.exception, [e.value for e in at.exception]
    shown = [t for t in texts(at) if "evil" in t]
    assert shown, "the hostile figure is not on the page at all: nothing was checked"
    for t in shown:
        assert not live_markup(t), (live_markup(t), t)
    # And it is there, literally, once unescaped: escaping must not lose or change the text.
    plain = " ".join(unescape(t).replace(WORD_JOINER, "") for t in shown)
    for text in must_show:
        assert text in plain, text


@pytest.mark.parametrize("script", ["pages/performance/targets.py", "pages/performance/priority_1.py"])
def test_partnership_text_is_plain_on_targets_and_priority_pages(hostile_figure, script):
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page(script).run()
    assert_plain(at, (SOURCE, ENTERED_BY))


def test_partnership_text_is_plain_on_the_partnership_figures_page(hostile_figure):
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("pages/admin/partnership_figures.py").run()
    assert_plain(at, (SOURCE, ENTERED_BY, NOTE))
    # The loader's report flags the formula-like text field, naming line and column, not the value.
    report = [w.value for w in at.warning if "formula" in w.value]
    assert report and "line 2" in report[0] and "entered\\_by" in report[0] and "HYPERLINK" not in report[0]


def test_the_loader_report_flags_formula_like_text_fields(tmp_path):
    path = tmp_path / "figures.csv"
    rows = [
        list(pf.COLUMNS),
        ROW,
        [
            "fire_audits",
            "FY2024-25",
            "700",
            "count",
            "+44 20 7364 5000 (switchboard)",
            "team",
            "2025-04-10T09:00:00",
            "",
        ],
        [
            "fire_audits",
            "2025",
            "1",
            "count",
            "LFB annual report",
            "@lfb",
            "2026-01-10T09:00:00",
            "-1 correction",
        ],
        [
            "ocg_disruptions",
            "FY2025-26",
            "3",
            "count",
            "MPS return",
            "analyst team",
            "2026-04-11T09:00:00",
            "fine",
        ],
    ]
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    df = pf.load_figures(path)  # kept: the file is data
    assert df.loc[2, "entered_by"] == ENTERED_BY
    flagged = pf.formula_warnings(df)
    assert [w.split(":")[0] for w in flagged] == [
        "figures.csv, line 2, column 'entered_by'",
        "figures.csv, line 3, column 'source'",
        "figures.csv, line 4, column 'entered_by'",
        "figures.csv, line 4, column 'note'",
    ]
    assert not any("HYPERLINK" in w for w in flagged)
    assert pf.formula_warnings(pf.empty_frame()) == []


# --- The command line's CSV ------------------------------------------------------------------


def formula_cells(text: str) -> list[str]:
    rows = list(csv.reader(io.StringIO(text)))
    return [c for r in rows for c in r if c[:1] in ("=", "+", "-", "@", "\t", "\r")]


def test_emit_csv_neutralises_text_and_keeps_numbers(capsys):
    from csp_data.__main__ import _emit

    df = pd.DataFrame(
        {
            "who": [ENTERED_BY, "+1", "-x", "@sum(a)", "\tx", "a\r=cmd", "fine"],
            "n": [-5, 1, 2, 3, 4, 5, 6],
            "r": [-1.5, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0],
        }
    )
    _emit(df, "csv")
    out = capsys.readouterr().out
    assert formula_cells(out) == ["-5", "-1.5"]  # only the numbers, which stay numbers
    back = pd.read_csv(io.StringIO(out))
    assert back["n"].tolist() == df["n"].tolist() and back["who"][0] == "'" + ENTERED_BY
    assert out == csv_text(df)  # the app's downloads, without the BOM


def run_cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    import os

    env = {**os.environ, "CSP_DATA_DIR": str(data_dir), "CSP_MODE": "internal"}
    return subprocess.run(
        [sys.executable, "-m", "csp_data", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_measures_csv_has_no_formula_cell_from_text(hostile_figure):
    res = run_cli("measures", "--period", "FY2025-26", "--format", "csv", data_dir=hostile_figure.parents[1])
    assert res.returncode == 0, res.stderr
    assert "evil.example" in res.stdout, "the hostile figure is not in the output: nothing was checked"
    numeric = set(pd.read_csv(io.StringIO(res.stdout)).select_dtypes("number").astype(str).to_numpy().ravel())
    bad = [c for c in formula_cells(res.stdout) if c not in numeric and not re.fullmatch(r"-\d+(\.\d+)?", c)]
    assert not bad, bad


def test_query_csv_goes_through_the_same_neutralising(monkeypatch, capsys, warehouse):
    """``query --format csv``: the same ``_emit``; a text column whose value starts with '-' (the
    synthetic frame stands in for any query's text column) leaves neutralised."""
    from csp_data import __main__ as cli
    from csp_data.warehouse import sql

    monkeypatch.setattr(
        sql, "run", lambda name, **p: pd.DataFrame({"category": ["-SYNTHETIC", "=1+1"], "count": [-1, 2]})
    )
    assert cli.main(["query", "meta/sources", "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert formula_cells(out) == ["-1"] and "'-SYNTHETIC" in out and "'=1+1" in out
    assert md_escape("x") == "x"


def test_the_briefing_pack_keeps_partnership_text_escaped(hostile_figure):
    """The pack is HTML, escaped by csp_data.present.briefing itself: a note written as HTML and Markdown
    (a status figure's note is quoted in the targets table's "Why") appears as text, and the pack
    stays self-contained (no tag or attribute points anywhere)."""
    from datetime import date
    from html.parser import HTMLParser

    from csp_data.present import briefing

    status = [
        "asb_hotspot_response",
        "2025-10..2025-12",
        "in progress",
        "status",
        SOURCE,
        ENTERED_BY,
        "2026-01-10T09:00:00",
        NOTE,
    ]  # in force by March 2026
    with open(hostile_figure, "a", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerow(status)
    text = briefing.build(date(2026, 3, 1))
    assert "evil.example" in text, "the hostile figure is not in the pack: nothing was checked"
    assert not re.search(r"<[^>]*evil[^>]*>", text), "a tag or attribute carries the figure's text"
    assert "&lt;img src=http://evil.example/i.png&gt;" in text and "[click](http://evil.example/x)" in text

    class Tags(HTMLParser):
        found: list = []

        def handle_starttag(self, tag, attrs):
            self.found.append((tag, attrs))

    parser = Tags()
    parser.feed(text)
    assert parser.found and not [t for t, a in parser.found if t in ("img", "a", "script", "iframe", "b")]
    assert not [a for _, a in parser.found if any("evil" in (v or "") for _, v in a)]


def test_an_ingested_category_name_is_plain_text_on_the_hotspots_page(app_env, monkeypatch):
    """Category names come from the MPS files (csp_data.analysis.areas.categories): one written as Markdown
    and a URL is shown literally in the hotspots page's headings, captions and sentences."""
    from csp_data.analysis.areas import Category
    from csp_data.ui import hotspots as hs

    real = hs.categories
    hostile = Category("Robbery ![x](http://evil.example/c.png) www.evil.example", ("ROBBERY",), ())
    monkeypatch.setattr(hs, "categories", lambda: [hostile, *real()])
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.switch_page("pages/analysis/hotspots.py").run()
    assert_plain(at, (hostile.label, hostile.label.lower()))
