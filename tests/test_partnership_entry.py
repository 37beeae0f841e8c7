"""Entering partnership figures: the write path (csp_data.plan.partnership.append_entries, parse_upload)
and the Partnership figures page (AppTest).

Every figure here is synthetic and says so (sources "synthetic ...", people "synthetic.*"); every
write goes to a temporary file or a temporary CSP_DATA_DIR. The repository's figures.csv is checked
byte for byte after every test.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from csp_data.analysis.targets import AWAITING, evaluate_partnership, public_value_text
from csp_data.config import REPO_ROOT
from csp_data.plan import partnership as pf
from csp_data.plan.document import load_plan
from csp_data.plan.partnership import COLUMNS, Entry, PartnershipError, SaveConflict

REPO_FIGURES = REPO_ROOT / "data" / "partnership" / "figures.csv"
HEADER = ",".join(COLUMNS)
UPLOAD_HEADER = ",".join(pf.UPLOAD_COLUMNS)
NOW = datetime(2026, 11, 29, 9, 30, tzinfo=UTC)
TODAY = NOW.date()
WHO = "synthetic.officer@example.gov.uk"
PAGE = "pages/admin/partnership_figures.py"
APP = REPO_ROOT / "app.py"


@pytest.fixture(scope="module")
def plan():
    return load_plan()


@pytest.fixture(autouse=True)
def _repo_figures_untouched():
    before = REPO_FIGURES.read_bytes()
    yield
    assert REPO_FIGURES.read_bytes() == before, "a test changed the repository's figures.csv"


@pytest.fixture
def figures(tmp_path) -> Path:
    """A synthetic, header-only figures file in a temporary folder."""
    path = tmp_path / "partnership" / "figures.csv"
    path.parent.mkdir()
    path.write_text(HEADER + "\n", encoding="utf-8")
    return path


def save(path, *entries, plan=None, now=NOW, who=WHO, **kw):
    return pf.append_entries(list(entries), viewer_who=who, path=path, plan=plan, now=now, **kw)


def fire(value="733", period="FY2025-26", source="synthetic LFB return", note="") -> Entry:
    return Entry("fire_audits", period, value, source, note)


def survey(value) -> Entry:
    return Entry("women_safe_night", "FY2025-26", value, "synthetic resident survey")


def refused(path, *entries, plan, **kw) -> list[str]:
    """Save, expect a refusal, check nothing was written, return the problems."""
    before = path.read_bytes()
    with pytest.raises(PartnershipError) as e:
        save(path, *entries, plan=plan, **kw)
    assert path.read_bytes() == before
    return e.value.problems


# --- validation -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0", "100", "61.5"])
def test_synthetic_percent_bounds_are_accepted(figures, plan, value):
    [r] = save(figures, survey(value), plan=plan)
    assert r.value == value and r.unit == "percent"
    assert pf.load_figures(figures, plan=plan, today=TODAY)["value"].tolist() == [value]


@pytest.mark.parametrize(
    "value, words",
    [
        ("-1", "below the minimum 0"),
        ("101", "above the maximum 100"),
        ("61.5%", "not a number"),
        ("", "is missing"),
    ],
)
def test_synthetic_percent_out_of_range_is_refused(figures, plan, value, words):
    problems = refused(figures, survey(value), plan=plan)
    assert len(problems) == 1 and problems[0].startswith("Value: ") and words in problems[0]


@pytest.mark.parametrize(
    "entry, start, words",
    [
        (fire("1.5"), "Value: ", "is a count, so it must be a whole number"),
        (fire(period="FY2026-27"), "Period: ", "ends in March 2027, which is in the future"),
        (fire(period="2025-04..2025-06"), "Period: ", "an annual figure, so its period must be 12 months"),
        (fire(period="last year"), "Period: ", "is not a period"),
        (fire(source="  "), "Source: ", "must not be empty"),
        (
            Entry("fire_audit", "FY2025-26", "733", "synthetic LFB return"),
            "Measure: ",
            "is not a partnership measure",
        ),
        (Entry("fire_audits", "FY2025-26", "733", "synthetic", unit="percent"), "Unit: ", "does not match"),
        (
            Entry("education_offer", "2026-10", "nearly done", "synthetic board paper"),
            "Value: ",
            "is not a status",
        ),
        (fire(note="synthetic\x00note"), "Note: ", "control character"),
        (fire(source="synthetic\nsource"), "Source: ", "must be on one line"),
        (fire(note="x" * (pf.MAX_TEXT + 1)), "Note: ", "keep it under"),
    ],
)
def test_synthetic_bad_entry_is_refused_with_a_clear_message(figures, plan, entry, start, words):
    problems = refused(figures, entry, plan=plan)
    assert len(problems) == 1, problems
    assert problems[0].startswith(start) and words in problems[0]


def test_synthetic_quarterly_and_once_measures(figures, plan):
    problems = refused(
        figures, Entry("bcrp_businesses", "FY2025-26", "23", "synthetic BCRP register"), plan=plan
    )
    assert "a quarterly figure, so its period must be 3 months" in problems[0]
    out = save(
        figures,
        Entry("bcrp_businesses", "2026-07..2026-09", "23", "synthetic BCRP register"),
        Entry("education_offer", "2026-10", "in progress", "synthetic board paper"),
        plan=plan,
    )
    assert [r.line for r in out] == [2, 3]


def test_one_bad_entry_saves_nothing_and_each_problem_is_listed(figures, plan):
    problems = refused(figures, fire(), survey("101"), Entry("nope", "2025", "1", ""), plan=plan)
    assert problems == [
        "women_safe_night FY2025-26: Value: 101 is above the maximum 100 (allowed 0 to 100)",
        "nope 2025: Measure: 'nope' is not a partnership measure in the plan; known: "
        + ", ".join(m.id for m in plan.partnership_measures),
        "nope 2025: Source: must not be empty: say where the figure comes from",
    ]


def test_the_same_figure_twice_in_one_save_is_refused(figures, plan):
    problems = refused(figures, fire("733"), fire("734", period="2025-04..2026-03"), plan=plan)
    assert len(problems) == 1 and "the same measure and period as fire_audits FY2025-26" in problems[0]


def test_entered_by_and_entered_at_come_from_the_server(figures, plan):
    [r] = save(figures, fire(), plan=plan, now=datetime(2026, 11, 29, 10, 15, 30, 999, tzinfo=UTC))
    row = pf.load_figures(figures, plan=plan, today=TODAY).iloc[0]
    assert (row["entered_by"], row["entered_at"]) == (WHO, "2026-11-29T10:15:30+00:00")
    assert (r.entered_by, r.entered_at, r.line, r.previous_value) == (WHO, "2026-11-29T10:15:30+00:00", 2, "")
    with pytest.raises(PartnershipError, match="Nobody is signed in"):
        save(figures, fire(), plan=plan, who=" ")
    with pytest.raises(PartnershipError, match="nothing to save"):
        save(figures, plan=plan)


def test_an_existing_file_with_mistakes_is_not_appended_to(figures, plan):
    figures.write_text(
        HEADER + "\nfire_audits,FY2025-26,7.5,count,synthetic,synthetic tester,2026-05-01T09:00:00,\n",
        encoding="utf-8",
    )
    problems = refused(figures, survey("60"), plan=plan)
    assert problems[0].startswith("The figures file already has problems")
    assert any("line 2, column 'value'" in p for p in problems[1:])


def test_a_figure_time_stamped_after_now_is_not_silently_outranked(figures, plan):
    save(figures, fire("733"), plan=plan, now=NOW.replace(hour=12))
    problems = refused(figures, fire("740"), plan=plan, now=NOW)
    assert "later than now" in problems[0]


# --- append-only, audit trail ---------------------------------------------------------------------


def test_a_correction_adds_a_row_and_leaves_earlier_rows_byte_identical(figures, plan):
    save(figures, fire("733", note="synthetic first return"), survey("61.5"), plan=plan)
    before = figures.read_bytes()
    [r] = save(
        figures,
        fire("745", note="synthetic correction: two audits were missed"),
        plan=plan,
        now=NOW.replace(hour=10),
    )
    after = figures.read_bytes()
    assert after.startswith(before) and after.count(b"\n") == before.count(b"\n") + 1
    assert (r.line, r.value, r.previous_value) == (4, "745", "733")
    df = pf.load_figures(figures, plan=plan, today=TODAY)
    assert df["value"].tolist() == ["733", "61.5", "745"]
    assert pf.latest(df).set_index("measure_id").loc["fire_audits", "value"] == "745"


def test_audit_trail_shows_who_when_value_previous_value_and_note(figures, plan):
    save(figures, fire("733", note="synthetic first return"), plan=plan, who="synthetic.a@example.gov.uk")
    save(figures, survey("60"), plan=plan, who="synthetic.b@example.gov.uk", now=NOW.replace(hour=10))
    save(
        figures,
        fire("745", period="2025-04..2026-03", note='synthetic correction, "quoted"\non two lines'),
        plan=plan,
        who="synthetic.b@example.gov.uk",
        now=NOW.replace(hour=11),
    )
    save(
        figures,
        fire("746", note="synthetic second correction"),
        plan=plan,
        who="synthetic.c@example.gov.uk",
        now=NOW.replace(hour=12),
    )
    df = pf.load_figures(figures, plan=plan, today=TODAY)
    assert pf.with_previous(df)["previous_value"].tolist() == ["", "", "733", "745"]
    trail = pf.audit_trail(df, plan)
    assert trail[
        ["Entered at (UTC)", "Entered by", "Value", "Previous value", "Note", "Line"]
    ].values.tolist() == [
        ["2026-11-29 12:30:00", "synthetic.c@example.gov.uk", "746", "745", "synthetic second correction", 6],
        [
            "2026-11-29 11:30:00",
            "synthetic.b@example.gov.uk",
            "745",
            "733",
            'synthetic correction, "quoted"\non two lines',
            4,
        ],
        ["2026-11-29 10:30:00", "synthetic.b@example.gov.uk", "60", "none (first figure)", "", 3],
        [
            "2026-11-29 09:30:00",
            "synthetic.a@example.gov.uk",
            "733",
            "none (first figure)",
            "synthetic first return",
            2,
        ],
    ]
    latest = pf.latest_by_measure(df, plan).set_index("Measure")
    assert latest.loc["Fire audits completed", "Latest figure"] == "746"
    assert latest.loc["Fire audits completed", "Source"] == "synthetic LFB return"
    assert latest.loc["Drug-supply organised crime groups disrupted or closed", "Latest figure"] == AWAITING


def test_previous_value_follows_the_latest_entered_at_rule(plan):
    """Hand-entered rows out of time order: 'previous' is what was in force when each was added."""
    df = pd.DataFrame(
        [
            ["fire_audits", "FY2025-26", "700", "count", "s", "t", "2026-05-02T09:00:00", ""],
            [
                "fire_audits",
                "FY2025-26",
                "690",
                "count",
                "s",
                "t",
                "2026-05-01T09:00:00",
                "older: not in force",
            ],
            ["fire_audits", "FY2025-26", "710", "count", "s", "t", "2026-05-03T09:00:00", ""],
        ],
        columns=list(COLUMNS),
        index=pd.Index([2, 3, 4], name="line"),
    )
    assert pf.with_previous(df)["previous_value"].tolist() == ["", "700", "700"]


def test_every_save_moves_the_file_time_on_so_cached_targets_refresh(figures, plan):
    future = time.time_ns() + 3600 * 10**9
    os.utime(figures, ns=(future, future))  # e.g. a coarse or skewed filesystem clock
    save(figures, fire(), plan=plan)
    assert figures.stat().st_mtime_ns > future


def test_the_first_save_starts_the_data_dirs_file_from_the_repository_copy(tmp_path, monkeypatch, plan):
    monkeypatch.setenv("CSP_DATA_DIR", str(tmp_path))
    assert pf.default_path() == REPO_FIGURES
    assert pf.write_path() == tmp_path / "partnership" / "figures.csv"
    pf.append_entries([fire()], viewer_who=WHO, plan=plan, now=NOW)
    assert pf.default_path() == pf.write_path()
    assert pf.write_path().read_bytes().startswith(REPO_FIGURES.read_bytes())
    assert len(pf.load_figures(plan=plan, today=TODAY)) == 1


# --- concurrency ----------------------------------------------------------------------------------


def _slow_writes(monkeypatch, seconds=0.2):
    """Widen the window between reading the file and replacing it, so a missing lock would lose a row."""
    real = pf._replace_atomically

    def slow(path, content):
        time.sleep(seconds)
        real(path, content)

    monkeypatch.setattr(pf, "_replace_atomically", slow)


def test_two_threads_saving_at_once_both_land(figures, plan, monkeypatch):
    _slow_writes(monkeypatch)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def officer(entry, who):
        barrier.wait()
        try:
            save(figures, entry, plan=plan, who=who)
        except BaseException as e:
            errors.append(e)

    threads = [
        threading.Thread(target=officer, args=(fire(), "synthetic.a@example.gov.uk")),
        threading.Thread(target=officer, args=(survey("60"), "synthetic.b@example.gov.uk")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    df = pf.load_figures(figures, plan=plan, today=TODAY)
    assert sorted(df["entered_by"]) == ["synthetic.a@example.gov.uk", "synthetic.b@example.gov.uk"]
    assert list(df.index) == [2, 3]


CHILD = r"""
import pathlib, sys, time
from datetime import datetime, timezone
from csp_data.plan import partnership as pf
from csp_data.plan.document import load_plan

path, ready, go, who, measure, value = sys.argv[1:7]
plan = load_plan()
real = pf._replace_atomically
def slow(p, content):
    time.sleep(0.3)
    real(p, content)
pf._replace_atomically = slow
if who == "crash":             # the process dies after writing the temporary file, before the rename
    import os
    os.replace = lambda *a, **k: os._exit(3)
pathlib.Path(ready).touch()
while not pathlib.Path(go).exists():
    time.sleep(0.002)
[r] = pf.append_entries([pf.Entry(measure, "FY2025-26", value, "synthetic source")], viewer_who=who,
                        path=pathlib.Path(path), plan=plan, now=datetime(2026, 11, 29, 9, 30, tzinfo=timezone.utc))
print(r.line)
"""


def _children(tmp_path, figures, specs):
    """Start one process per (who, measure, value), release them together, return (codes, outputs)."""
    go = tmp_path / "go"
    procs = []
    for i, (who, measure, value) in enumerate(specs):
        ready = tmp_path / f"ready{i}"
        procs.append(
            (
                ready,
                subprocess.Popen(
                    [sys.executable, "-c", CHILD, str(figures), str(ready), str(go), who, measure, value],
                    cwd=REPO_ROOT,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                ),
            )
        )
    deadline = time.monotonic() + 60
    while not all(r.exists() for r, _ in procs):
        assert time.monotonic() < deadline and all(p.poll() is None for _, p in procs), (
            "children did not start"
        )
        time.sleep(0.01)
    go.touch()  # the barrier: both are past their imports
    outs = [p.communicate(timeout=60) for _, p in procs]
    return [p.returncode for _, p in procs], outs


def test_two_processes_saving_at_once_both_land(tmp_path, figures, plan):
    codes, outs = _children(
        tmp_path,
        figures,
        [
            ("synthetic.a@example.gov.uk", "fire_audits", "733"),
            ("synthetic.b@example.gov.uk", "women_safe_night", "60"),
        ],
    )
    assert codes == [0, 0], outs
    assert sorted(int(o.strip()) for o, _ in outs) == [2, 3]
    df = pf.load_figures(figures, plan=plan, today=TODAY)
    assert sorted(df["measure_id"]) == ["fire_audits", "women_safe_night"]
    assert not list(figures.parent.glob(".figures.csv.*.tmp"))


def test_a_stale_form_is_refused_and_names_the_colleague(figures, plan):
    save(figures, fire("733"), plan=plan)
    shown = pf.expectations(pf.load_figures(figures, plan=plan, today=TODAY), [fire()])
    assert list(shown.values()) == ["2@2026-11-29T09:30:00+00:00"]
    save(
        figures,
        fire("745", note="synthetic colleague's correction"),
        plan=plan,
        who="synthetic.colleague@example.gov.uk",
        now=NOW.replace(hour=10),
        expected_latest=shown,
    )
    before = figures.read_bytes()
    with pytest.raises(SaveConflict) as e:
        save(figures, fire("750"), plan=plan, now=NOW.replace(hour=11), expected_latest=shown)
    assert figures.read_bytes() == before
    [message] = e.value.problems
    assert "synthetic.colleague@example.gov.uk saved 745 (count) at 2026-11-29 10:30:00 UTC" in message
    assert "synthetic colleague's correction" in message and "not saved" in message
    # Having seen the colleague's figure, the officer can save theirs.
    fresh = pf.expectations(pf.load_figures(figures, plan=plan, today=TODAY), [fire()])
    [r] = save(figures, fire("750"), plan=plan, now=NOW.replace(hour=11), expected_latest=fresh)
    assert r.previous_value == "745"


def test_a_form_that_showed_nothing_is_refused_when_a_figure_appeared(figures, plan):
    shown = pf.expectations(pf.empty_frame(), [fire()])
    assert list(shown.values()) == [None]
    save(figures, fire("733"), plan=plan, who="synthetic.colleague@example.gov.uk")
    with pytest.raises(SaveConflict, match="synthetic.colleague@example.gov.uk saved 733"):
        save(figures, fire("740"), plan=plan, now=NOW.replace(hour=10), expected_latest=shown)


# --- crash safety ---------------------------------------------------------------------------------


@pytest.mark.parametrize("step", ["fsync", "replace"])
def test_an_exception_mid_write_leaves_the_file_unchanged(figures, plan, monkeypatch, step):
    save(figures, fire("733"), plan=plan)
    before, mtime = figures.read_bytes(), figures.stat().st_mtime_ns

    def boom(*a, **k):
        raise OSError(f"synthetic failure in os.{step}")

    from csp_data.warehouse import fileio

    monkeypatch.setattr(fileio.os, step, boom)  # the one atomic write, csp_data/warehouse/fileio.py
    with pytest.raises(OSError, match="synthetic failure"):
        save(figures, survey("60"), plan=plan, now=NOW.replace(hour=10))
    monkeypatch.undo()
    assert figures.read_bytes() == before and figures.stat().st_mtime_ns == mtime
    assert sorted(p.name for p in figures.parent.iterdir()) == ["figures.csv"]  # no lock file either


def test_a_process_killed_mid_write_leaves_the_file_unchanged(tmp_path, figures, plan):
    save(figures, fire("733"), plan=plan)
    before = figures.read_bytes()
    codes, _ = _children(tmp_path, figures, [("crash", "women_safe_night", "60")])
    assert codes == [3]
    assert figures.read_bytes() == before
    [stale] = figures.parent.glob(".figures.csv.*.tmp")  # the dead process's temporary file, never read
    assert b"women_safe_night" in stale.read_bytes()
    [r] = save(figures, survey("60"), plan=plan, now=NOW.replace(hour=10))  # the lock died with the process
    assert r.line == 3


# --- bulk upload ----------------------------------------------------------------------------------


def upload(*rows: str, header: str = UPLOAD_HEADER, newline: str = "\n") -> bytes:
    return (newline.join([header, *rows]) + newline).encode("utf-8")


GOOD_UPLOAD = [
    "fire_audits,FY2025-26,733,count,synthetic LFB return,",
    'women_safe_night,FY2025-26,61.5,percent,"synthetic survey, weighted",synthetic note',
    "bcrp_businesses,2026-07..2026-09,23,count,synthetic BCRP register,",
]


def test_a_good_upload_saves_every_row(figures, plan):
    data = b"\xef\xbb\xbf" + upload(*GOOD_UPLOAD, newline="\r\n")  # Excel's "CSV UTF-8"
    entries = pf.parse_upload(data, plan=plan, today=TODAY)
    assert [e.line for e in entries] == [2, 3, 4]
    assert entries[1].source == "synthetic survey, weighted"
    saved = save(figures, *entries, plan=plan)
    assert [r.line for r in saved] == [2, 3, 4] and {r.entered_by for r in saved} == {WHO}
    df = pf.load_figures(figures, plan=plan, today=TODAY)
    assert df["value"].tolist() == ["733", "61.5", "23"]


def test_one_bad_row_rejects_the_whole_upload_naming_its_line(figures, plan):
    data = upload(GOOD_UPLOAD[0], "", GOOD_UPLOAD[1].replace("61.5", "101"), GOOD_UPLOAD[2])
    with pytest.raises(PartnershipError) as e:
        pf.parse_upload(data, plan=plan, today=TODAY)
    assert e.value.problems == ["line 4, column 'value': 101 is above the maximum 100 (allowed 0 to 100)"]
    assert "none of its rows were saved" in str(e.value)
    assert figures.read_text(encoding="utf-8") == HEADER + "\n"


@pytest.mark.parametrize(
    "data, words",
    [
        (b"", "is empty"),
        (upload(), "has the header but no figures"),
        (b"x" * (pf.MAX_UPLOAD_BYTES + 1), "the limit is 1 MB"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a CSV text file"),
        (upload(GOOD_UPLOAD[0]).replace(b"synthetic", b"synthetic \xa3", 1), "line 2: not UTF-8 text"),
        (
            upload(GOOD_UPLOAD[0], header="measure,period,value,unit,source,note"),
            "line 1: the header must be exactly",
        ),
        (
            upload(
                "fire_audits,FY2025-26,733,count,synthetic,synthetic.x,2026-05-01T09:00:00,", header=HEADER
            ),
            "leave out entered_by and entered_at",
        ),
        (upload(GOOD_UPLOAD[0], "fire_audits,FY2024-25,1,234,count,synthetic,"), "line 3: expected 6 fields"),
        (upload(GOOD_UPLOAD[0], 'fire_audits,FY2024-25,"7"31,count,synthetic,'), "malformed CSV"),
        (upload(GOOD_UPLOAD[0], GOOD_UPLOAD[0]), "line 3: the same measure and period as line 2"),
    ],
)
def test_bad_upload_files_are_rejected(plan, data, words):
    with pytest.raises(PartnershipError) as e:
        pf.parse_upload(data, plan=plan, today=TODAY)
    assert words in str(e.value)


def test_an_upload_with_too_many_rows_is_rejected(plan):
    rows = [f"fire_audits,FY{y}-{str(y + 1)[-2:]},700,count,synthetic," for y in range(2020, 2024)]
    with pytest.raises(PartnershipError, match="more than 3 rows"):
        pf.parse_upload(upload(*rows), plan=plan, today=TODAY, max_rows=3)
    assert len(pf.parse_upload(upload(*rows), plan=plan, today=TODAY, max_rows=4)) == 4


def test_the_template_is_an_accepted_upload_once_filled_in(plan):
    template = pf.upload_template(plan, TODAY)
    assert tuple(template.columns) == pf.UPLOAD_COLUMNS
    assert template["measure_id"].tolist() == [m.id for m in plan.partnership_measures]
    from csp_data.present.exports import csv_bytes

    with pytest.raises(PartnershipError) as e:  # as downloaded: every value and source is missing
        pf.parse_upload(csv_bytes(template), plan=plan, today=TODAY)
    assert "line 2, column 'value': is missing: enter the figure" in e.value.problems
    filled = template[template.measure_id == "fire_audits"].assign(value="733", source="synthetic LFB return")
    [entry] = pf.parse_upload(csv_bytes(filled), plan=plan, today=TODAY)
    assert (entry.measure_id, entry.period, entry.value) == ("fire_audits", "FY2025-26", "733")


# --- periods and values the form offers -----------------------------------------------------------


def test_period_choices_fit_the_frequency_and_never_end_in_the_future(plan):
    today = date(2026, 11, 30)
    annual = pf.period_choices("annual", today)
    assert [pf.period_text(p) for p in annual[:2]] == ["FY2025-26", "FY2024-25"] and "2025" in map(
        pf.period_text, annual
    )
    quarters = pf.period_choices("quarterly", today)
    assert [pf.period_text(p) for p in quarters[:2]] == ["2026-07..2026-09", "2026-04..2026-06"]
    assert pf.period_words(quarters[0]) == "July 2026 to September 2026 (quarter 2 of FY2026-27)"
    assert pf.period_text(pf.period_choices("monthly", today)[0]) == "2026-11"
    for m in plan.partnership_measures:
        for p in pf.period_choices(m.frequency, today):
            assert p.end <= date(2026, 11, 1)
            assert (
                pf.check_entries(
                    [
                        Entry(
                            m.id,
                            pf.period_text(p),
                            "complete" if m.unit == "status" else "2026-01-05" if m.unit == "date" else "5",
                            "synthetic",
                        )
                    ],
                    plan,
                    who=WHO,
                    entered_at="2026-11-30T00:00:00",
                    today=today,
                )[1]
                == []
            )


def test_value_text():
    assert pf.value_text(733, "count") == "733" and pf.value_text(733.0, "count") == "733"
    assert pf.value_text(61.5, "percent") == "61.5" and pf.value_text(None, "percent") == ""
    assert pf.value_text(date(2026, 9, 15), "date") == "2026-09-15"
    assert pf.value_text("complete", "status") == "complete"


# --- public pages: disclosure of an entered figure ------------------------------------------------


@pytest.mark.parametrize("value, shown", [("733", "735"), ("7", "fewer than 10"), ("0", "0")])
def test_an_entered_count_of_people_reaches_public_pages_under_the_10_5_rule(
    tmp_path, monkeypatch, plan, value, shown
):
    monkeypatch.setenv("CSP_DATA_DIR", str(tmp_path))
    assert plan.partnership_measure("drug_treatment_completions").about_people
    pf.append_entries(
        [Entry("drug_treatment_completions", "FY2025-26", value, "synthetic treatment return")],
        viewer_who=WHO,
        plan=plan,
        now=NOW,
    )
    figures = pf.latest(pf.load_figures(plan=plan, today=TODAY))  # as evaluate_all reads them
    r = evaluate_partnership(plan.target("drug_treatment_completions"), plan, figures, TODAY)
    assert public_value_text(r) == f"FY2025-26: {shown}"


@pytest.mark.parametrize("value, shown", [("733", "733"), ("7", "7"), ("1234", "1,234")])
def test_an_entered_count_of_things_is_shown_exactly(tmp_path, monkeypatch, plan, value, shown):
    """Organised crime groups disrupted are not people: the 10-5 rule does not apply."""
    monkeypatch.setenv("CSP_DATA_DIR", str(tmp_path))
    assert not plan.partnership_measure("ocg_disruptions").about_people
    pf.append_entries(
        [Entry("ocg_disruptions", "FY2025-26", value, "synthetic police return")],
        viewer_who=WHO,
        plan=plan,
        now=NOW,
    )
    figures = pf.latest(pf.load_figures(plan=plan, today=TODAY))
    r = evaluate_partnership(plan.target("ocg_disruption"), plan, figures, TODAY)
    assert public_value_text(r) == f"FY2025-26: {shown}"


def test_which_measures_count_people(plan):
    things = {m.id for m in plan.partnership_measures if not m.about_people}
    assert things == {"bcrp_businesses", "fire_audits", "modern_slavery_operations", "ocg_disruptions"}


def test_an_entered_survey_percentage_is_not_shown_publicly(tmp_path, monkeypatch, plan):
    monkeypatch.setenv("CSP_DATA_DIR", str(tmp_path))
    pf.append_entries([survey("61.5")], viewer_who=WHO, plan=plan, now=NOW)
    r = evaluate_partnership(
        plan.target("women_safe_at_night"), plan, pf.latest(pf.load_figures(plan=plan, today=TODAY)), TODAY
    )
    assert "61.5" not in public_value_text(r) and "not shown" in public_value_text(r)


# --- the page (AppTest) ---------------------------------------------------------------------------


def md_unescape(text):
    """Escapes removed, and the invisible word joiner that keeps addresses from becoming links
    (csp_data.present.formatting.md_plain)."""
    import re

    return re.sub(r"\\(.)", r"\1", text).replace("\u2060", "") if isinstance(text, str) else text


def table(el) -> pd.DataFrame:
    df = el.value
    df.columns = [md_unescape(c) for c in df.columns]
    return df.apply(lambda col: col.map(md_unescape))


def said(elements) -> list[str]:
    """The text of st.success / st.error messages as a reader sees it (Markdown escapes removed)."""
    return [md_unescape(e.value) for e in elements]


def tables(at) -> list[pd.DataFrame]:
    return [table(t) for t in at.table]


def fire_target_row(at) -> pd.Series:
    [df] = [t for t in tables(at) if "Target" in t.columns]
    [row] = [r for _, r in df.iterrows() if "720 fire audits" in r["Target"]]
    return row


def signed_in(at: AppTest, email: str) -> AppTest:
    """Sign-in configured (synthetic provider), one synthetic officer and one analyst, ``email`` signed in."""
    at.secrets["auth"] = {
        "client_id": "synthetic-client",
        "client_secret": "synthetic-secret",
        "server_metadata_url": "https://synthetic.invalid/.well-known/openid-configuration",
        "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
        "cookie_secret": "synthetic",
    }
    at.secrets["access"] = {
        "officer": ["synthetic.officer@example.gov.uk"],
        "analyst": ["synthetic.analyst@example.gov.uk"],
    }
    at.user = {"is_logged_in": True, "email": email, "email_verified": True}
    return at


def app(email: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    if email:
        signed_in(at, email)
    at.run()
    assert not at.exception
    return at


def fill_and_save(at, value, source="synthetic LFB return", note=""):
    at.selectbox(key="pf_measure").set_value("fire_audits").run()
    at.selectbox(key="pf_period_annual").set_value("FY2025-26")
    n = at.session_state["pf_form_n"] if "pf_form_n" in at.session_state else 0
    at.number_input(key=f"pf_value_fire_audits_{n}").set_value(value)
    at.text_input(key=f"pf_source_{n}").set_value(source)
    at.text_area(key=f"pf_note_{n}").set_value(note)
    at.button(key="pf_save").click().run()
    assert not at.exception


@pytest.fixture
def page_env(data_copy, monkeypatch):
    """A private, built copy of data/ (CSP_DATA_DIR), internal mode: saves never touch the repository."""
    monkeypatch.setenv("CSP_MODE", "internal")
    return data_copy


def test_page_saves_a_figure_and_the_targets_page_shows_it_at_once(page_env):
    at = app()
    at.switch_page("pages/performance/targets.py").run()
    row = fire_target_row(at)
    assert row["Latest"] == AWAITING and AWAITING in row["Status"]

    at.switch_page(PAGE).run()
    assert not at.exception and [t.value for t in at.title] == ["Partnership figures"]
    for w in [*at.selectbox, *at.number_input, *at.text_input, *at.text_area, *at.button, *at.file_uploader]:
        assert w.label.strip(), f"unlabelled input {w.key}"
    fill_and_save(at, 733, note="synthetic first return")
    [ok] = said(at.success)
    assert "Fire audits completed, FY2025-26: **733**" in ok and "entered by local user (no sign-in)" in ok
    trail = next(t for t in tables(at) if "Previous value" in t.columns)
    assert trail.iloc[0][
        ["Entered by", "Measure id", "Period", "Value", "Previous value", "Note"]
    ].tolist() == [
        "local user (no sign-in)",
        "fire_audits",
        "FY2025-26",
        "733",
        "none (first figure)",
        "synthetic first return",
    ]
    latest = next(t for t in tables(at) if "Latest figure" in t.columns).set_index("Measure")
    assert latest.loc["Fire audits completed", "Latest figure"] == "733"
    saved = pf.load_figures(page_env / "partnership" / "figures.csv", plan=load_plan())
    assert saved["value"].tolist() == ["733"]

    at.switch_page("pages/performance/targets.py").run()
    row = fire_target_row(at)
    assert row["Latest"] == "733 (FY2025-26)" and "on track" in row["Status"]

    # A correction: a second row whose previous value is the first.
    at.switch_page(PAGE).run()
    fill_and_save(at, 700, note="synthetic correction")
    trail = next(t for t in tables(at) if "Previous value" in t.columns)
    assert trail[["Value", "Previous value"]].values.tolist() == [
        ["700", "733"],
        ["733", "none (first figure)"],
    ]
    at.switch_page("pages/performance/targets.py").run()
    assert "off track" in fire_target_row(at)["Status"]


def test_page_refuses_a_bad_value_and_a_stale_form(page_env):
    at = app()
    at.switch_page(PAGE).run()
    fill_and_save(at, 733, source="  ")
    assert not at.success and "Source: must not be empty" in said(at.error)[0]
    assert not (page_env / "partnership" / "figures.csv").exists()

    fill_and_save(at, 733)  # shows the form for FY2025-26 again
    # A colleague saves for the same measure and period while this page is open...
    pf.append_entries(
        [fire("745", note="synthetic colleague's figure")],
        viewer_who="synthetic.colleague@example.gov.uk",
        plan=load_plan(),
    )
    n = at.session_state["pf_form_n"]
    at.number_input(key=f"pf_value_fire_audits_{n}").set_value(750)
    at.text_input(key=f"pf_source_{n}").set_value("synthetic LFB return")
    at.button(key="pf_save").click().run()
    [error] = said(at.error)
    assert not at.success and "a colleague saved a figure" in error
    assert (
        "synthetic.colleague@example.gov.uk saved 745 (count)" in error
        and "synthetic colleague's figure" in error
    )
    df = pf.load_figures(page_env / "partnership" / "figures.csv", plan=load_plan())
    assert df["value"].tolist() == ["733", "745"]
    # ...and having seen it, the officer can save theirs.
    at.button(key="pf_save").click().run()
    assert at.success and pf.load_figures(page_env / "partnership" / "figures.csv", plan=load_plan())[
        "value"
    ].tolist() == ["733", "745", "750"]


def test_page_bulk_upload_previews_then_saves_all_rows(page_env):
    at = app()
    at.switch_page(PAGE).run()
    path = page_env / "partnership" / "figures.csv"
    bad = upload(GOOD_UPLOAD[0], GOOD_UPLOAD[1].replace("61.5", "101"))
    at.file_uploader[0].set_value(("../synthetic_evil.csv", bad, "text/csv")).run()
    [error] = said(at.error)
    assert (
        "line 3, column 'value': 101 is above the maximum 100" in error
        and "Nothing from it has been saved" in error
    )
    assert not any(b.key == "pf_upload_save" for b in at.button) and not path.exists()

    at.file_uploader[0].set_value(("../synthetic_evil.csv", upload(*GOOD_UPLOAD), "text/csv")).run()
    preview = next(t for t in tables(at) if "Currently recorded" in t.columns)
    assert preview["Line"].tolist() == ["2", "3", "4"] and preview["Value"].tolist() == ["733", "61.5", "23"]
    assert not path.exists()  # nothing saved by the preview
    save_all = at.button(key="pf_upload_save")
    assert save_all.label == "Save all 3 rows"
    save_all.click().run()
    assert not at.exception and "Saved all 3 rows" in said(at.success)[0]
    assert pf.load_figures(path, plan=load_plan())["value"].tolist() == ["733", "61.5", "23"]
    assert (
        not (page_env.parent / "synthetic_evil.csv").exists()
        and not (REPO_ROOT / "synthetic_evil.csv").exists()
    )


def test_an_entered_figure_reaches_the_public_summary_rounded(page_env):
    pf.append_entries(
        [Entry("drug_treatment_completions", "FY2025-26", "733", "synthetic treatment return")],
        viewer_who=WHO,
        plan=load_plan(),
    )
    at = app()  # the default page: the public summary
    assert not at.exception
    text = "\n".join(m.value for m in at.markdown)
    assert "Latest figure: FY2025-26: 735." in text and "733" not in text


def test_an_analyst_cannot_use_the_page(page_env):
    at = app(email="synthetic.analyst@example.gov.uk")
    try:
        at.switch_page(PAGE).run()
    except ValueError:
        pass  # not registered for an analyst: unreachable
    else:
        assert not any(b.key == "pf_save" for b in at.button) and not at.file_uploader
    # The page's own guard, should it ever be reached.
    direct = signed_in(
        AppTest.from_file(str(REPO_ROOT / PAGE), default_timeout=60), "synthetic.analyst@example.gov.uk"
    )
    direct.run()
    assert [t.value for t in direct.title] == ["This page is for partnership staff"]
    assert "this page needs officer access" in direct.error[0].value
    assert not direct.button and not direct.file_uploader
    assert not (page_env / "partnership" / "figures.csv").exists()


def test_an_officer_saves_as_themselves(page_env):
    at = app(email="synthetic.officer@example.gov.uk")
    at.switch_page(PAGE).run()
    assert not at.exception
    fill_and_save(at, 733, source="synthetic ![tracker](https://synthetic.invalid/t.png) LFB return")
    assert "entered by synthetic.officer@example.gov.uk" in said(at.success)[0]
    assert r"\!\[tracker\]\(https" in at.success[0].value  # typed text is shown literally, never as Markdown
    df = pf.load_figures(page_env / "partnership" / "figures.csv", plan=load_plan())
    assert df["entered_by"].tolist() == ["synthetic.officer@example.gov.uk"]
