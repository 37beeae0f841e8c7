"""The plan as data: the shipped plan file (data/plan/E09000030.toml), and every validation rule on small synthetic files."""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

import pytest

from csp_data.config import REPO_ROOT
from csp_data.plan import document as plan
from csp_data.plan import measures
from csp_data.plan.document import PlanError, load_plan, parse_plan

PLAN_FILE = REPO_ROOT / "data" / "plan" / "E09000030.toml"
PLAN_DOCS = REPO_ROOT.parent / "shared" / "plan_documents"

# PLAN.md's targets table, in order.
EXPECTED_IDS = [
    "robbery",
    "asb_reporting",
    "business_crime",
    "business_crime_partnership",
    "fire_audits",
    "serious_violence",
    "women_safe_at_night",
    "modern_slavery_operations",
    "education_offer",
    "ocg_disruption",
    "drug_trafficking",
    "iom_top50",
    "drug_treatment_completions",
    "trust_confidence",
    "repeat_hate_crime",
    "community_cohesion",
]


@pytest.fixture(scope="module")
def real() -> plan.Plan:
    return load_plan(PLAN_FILE)


# --- the shipped plan file ------------------------------------------------------------------------


def test_shipped_plan_has_16_targets_in_plan_md_order(real):
    assert [t.id for t in real.targets] == EXPECTED_IDS
    assert [t.priority for t in real.targets] == [1] * 5 + [2] * 4 + [3] * 4 + [4] * 3


def test_shipped_plan_has_priorities_1_to_4_with_focus_and_actions(real):
    assert [p.number for p in real.priorities] == [1, 2, 3, 4]
    for p in real.priorities:
        assert p.context == "within the context of exploitation and vulnerability"
        assert len(p.focus) >= 5
        assert 4 <= len(p.actions) <= 6
        assert p.summary.count(".") >= 2
    assert "Robbery" in real.priority(1).focus and "Fire" in real.priority(1).focus
    assert real.priority(3).subgroup == "Combatting Drugs Partnership"
    assert real.priority(4).subgroup == ""  # the plan names no board for hate crime and cohesion


def test_every_target_measure_resolves(real):
    partnership_ids = {m.id for m in real.partnership_measures}
    for t in real.targets:
        if t.kind == "police_count":
            assert t.measure in measures.BY_ID or t.measure == "serious_violence", t.id
        else:
            assert t.measure in partnership_ids, t.id
            real.partnership_measure(t.measure)  # does not raise


def test_robbery_target_is_down_7_percent_from_fy2024_25_to_fy2027_28(real):
    t = real.target("robbery")
    assert (t.kind, t.measure, t.direction, t.target_change_pct) == ("police_count", "robbery", "lower", -7.0)
    assert (t.baseline, t.deadline) == ("FY2024-25", "FY2027-28")
    assert t.baseline_period.start == date(2024, 4, 1) and t.deadline_period.end == date(2028, 3, 1)
    assert t.goal(1000) == pytest.approx(930)
    assert any("summary" in c for c in t.caveats)  # kept though the one-page summary omits it


def test_fire_audits_threshold_720_a_year(real):
    t = real.target("fire_audits")
    assert (t.kind, t.threshold, t.baseline) == ("threshold", 720.0, "")
    assert t.threshold_unit == "fire audits a year"
    m = real.partnership_measure(t.measure)
    assert (m.unit, m.frequency) == ("count", "annual")
    assert real.target("business_crime_partnership").threshold == 20.0
    assert real.target("iom_top50").threshold == 100.0


def test_education_milestone_due_end_of_financial_q2_2026(real):
    t = real.target("education_offer")
    assert t.kind == "milestone" and t.due == date(2026, 9, 30)
    caveat = " ".join(t.caveats)
    assert "July to September 2026" in caveat and "30 June 2026" in caveat


def test_serious_violence_definition_is_explicit(real):
    d = real.definitions["serious_violence"]
    assert "HOMICIDE" in d.text and "VIOLENCE WITH INJURY" in d.text and "not added" in d.text
    assert d.components == ("knife_crime", "knife_injury", "gun_crime")
    assert d.why
    assert real.target("serious_violence").target_change_pct == -15.0


def test_change_targets_sign_and_caveats(real):
    for t in real.targets:
        if t.target_change_pct is not None:
            assert (t.target_change_pct < 0) == (t.direction == "lower"), t.id
    for tid in ("women_safe_at_night", "trust_confidence"):
        assert any("percentage points" in c and "relative" in c for c in real.target(tid).caveats), tid
    assert any("enforcement" in c for c in real.target("drug_trafficking").caveats)
    assert any("CONNECT" in c for c in real.target("repeat_hate_crime").caveats)
    assert any("not in public data" in c for c in real.target("repeat_hate_crime").caveats)
    assert real.cross_cutting.target_ids == ("trust_confidence",)


def test_baseline_note_and_defaults(real):
    assert (real.default_baseline, real.default_deadline) == ("FY2024-25", "FY2027-28")
    assert "no" in real.baseline_note.lower() or "does not say" in real.baseline_note
    assert "2024-25" in real.baseline_note


def test_previous_plan_ratings_are_never_invented(real):
    assert len(real.previous_plan_outcomes) >= 16
    assert {o.rag for o in real.previous_plan_outcomes} == {"not stated"}
    assert "colour" in real.rag_note
    by_outcome = {o.outcome: o for o in real.previous_plan_outcomes}
    assert (
        "8.86%" in by_outcome["Achieve a 10 per cent sanction detection rate for hate crime offences."].result
    )
    assert "14.14%" in by_outcome["Achieve a 15 per cent sanction detection rate for rape offences."].result


def test_reference_figures_and_previous_targets_copied_exactly(real):
    figs = {f.id: f for f in real.reference_figures}
    assert figs["domestic_abuse_reports_2023_24"].value == 4519
    assert figs["drug_trafficking_2024"].value == 590
    assert figs["hate_crime_outcome_rate"].value == 8.86
    assert figs["rape_outcome_rate_2023_24"].value == 14.14
    assert figs["deliberate_fires_change_2023_24"].value == -10.6
    assert figs["violence_injury_2022"].value == 2865 and figs["violence_injury_2024"].value == 3029
    prev = {p.id: p for p in real.previous_targets}
    assert (prev["hate_crime_outcome_rate"].target_value, prev["hate_crime_outcome_rate"].result_value) == (
        10.0,
        8.86,
    )
    assert (prev["rape_outcome_rate"].target_value, prev["rape_outcome_rate"].result_value) == (15.0, 14.14)


def test_help_contacts_from_the_plan(real):
    services = {h.service: " ".join(h.lines) for h in real.help}
    assert "999" in services["Police"] and "101" in services["Police"]
    assert "0808 168 9291" in services["Victims of crime: Victim Support"]


@pytest.mark.skipif(not PLAN_DOCS.exists(), reason="plan documents not available")
def test_wordings_and_figures_quote_the_plan_documents(real):
    """Targets are quotable facts: each wording appears word for word in the plan."""
    text = (PLAN_DOCS / "csp_plan_2025_2029.md").read_text(encoding="utf-8")
    old = (PLAN_DOCS / "csp_plan_2021_2024.md").read_text(encoding="utf-8")
    for t in real.targets:
        assert t.wording in text, t.id
    for o in real.previous_plan_outcomes:
        assert o.outcome in text, o.outcome
    for p in real.previous_targets:
        assert p.wording in old, p.id
    for f in real.reference_figures:
        number = f"{abs(f.value):g}"
        assert number in text.replace(",", ""), f.id


def test_lookups_refuse_unknown_ids(real):
    assert [t.id for t in real.targets_for(3)] == EXPECTED_IDS[9:13]
    with pytest.raises(KeyError, match="unknown target"):
        real.target("robery")
    with pytest.raises(KeyError, match="unknown partnership measure"):
        real.partnership_measure("nope")


def test_load_is_cached_until_the_file_changes(tmp_path):
    copy = tmp_path / "plan.toml"
    copy.write_text(PLAN_FILE.read_text(encoding="utf-8"), encoding="utf-8")
    first = load_plan(copy)
    assert load_plan(copy) is first
    copy.write_text(
        copy.read_text(encoding="utf-8").replace("Robbery down 7%", "Robbery down seven per cent"),
        encoding="utf-8",
    )
    later = copy.stat().st_mtime_ns + 10**9  # a clearly newer mtime, whatever the clock resolution
    os.utime(copy, ns=(later, later))
    second = load_plan(copy)
    assert second is not first and second.target("robbery").label == "Robbery down seven per cent"


def test_default_path_uses_data_dir_then_falls_back_to_repo(tmp_path, monkeypatch):
    monkeypatch.setenv("CSP_DATA_DIR", str(tmp_path))
    assert plan.default_path() == PLAN_FILE
    own = tmp_path / "plan" / "E09000030.toml"
    own.parent.mkdir()
    own.write_text(
        PLAN_FILE.read_text(encoding="utf-8").replace("Robbery down 7%", "Data-dir copy"), encoding="utf-8"
    )
    assert plan.default_path() == own
    assert load_plan().target("robbery").label == "Data-dir copy"


def test_missing_plan_file(tmp_path):
    with pytest.raises(PlanError, match="missing"):
        load_plan(tmp_path / "nope.toml")


# --- synthetic plans: one rule at a time ---------------------------------------------------------

KNOWN = {"robbery", "serious_violence", "knife_crime"}


def _priorities() -> str:
    return "".join(
        f"""
[[priorities]]
number = {n}
title = "Synthetic priority {n}"
context = "within the context of exploitation and vulnerability"
focus = ["a", "b"]
summary = "Synthetic."
actions = ["x", "y"]
subgroup = ""
"""
        for n in (1, 2, 3, 4)
    )


SYNTHETIC_HEAD = """# synthetic plan for tests
[plan]
title = "Synthetic plan"
years = "2025-04..2029-03"
source = "synthetic"
adopted = "2025-04"
default_baseline = "FY2024-25"
default_deadline = "FY2027-28"
baseline_note = \"\"\"A multi-line note whose text
kind = "looks like a key" but is inside a string.\"\"\"
"""

SYNTHETIC_MEASURES = """
[[partnership_measures]]
id = "audits"
label = "Audits"
unit = "count"
min = 0
frequency = "annual"
owner = "synthetic"
description = "synthetic"

[[partnership_measures]]
id = "safe_pct"
label = "Feel safe"
unit = "percent"
frequency = "annual"
owner = "synthetic"
description = "synthetic"

[[partnership_measures]]
id = "offer"
label = "Offer"
unit = "status"
frequency = "once"
owner = "synthetic"
description = "synthetic"
"""

SYNTHETIC_TARGETS = """
[[targets]]
id = "robbery"
priority = 1
label = "Robbery down 7%"
wording = "Robbery has reduced by 7%."
kind = "police_count"
measure = "robbery"
direction = "lower"
baseline = "FY2024-25"
target_change_pct = -7.0
deadline = "FY2027-28"
caveats = []
source_ref = "synthetic"

[[targets]]
id = "audits"
priority = 1
label = "720 audits"
wording = "At least 720 audits per year."
kind = "threshold"
measure = "audits"
direction = "higher"
baseline = ""
threshold = 720.0
threshold_unit = "audits a year"
deadline = "FY2027-28"
caveats = []
source_ref = "synthetic"

[[targets]]
id = "safe"
priority = 2
label = "Feel safe up 10%"
wording = "10% increase in people feeling safe"
kind = "survey_pct"
measure = "safe_pct"
direction = "higher"
target_change_pct = 10.0
caveats = ["percentage points or relative: we read relative"]
source_ref = "synthetic"

[[targets]]
id = "offer"
priority = 2
label = "Offer by Q2 2026"
wording = "Create an offer by Q2 of 2026."
kind = "milestone"
measure = "offer"
direction = "higher"
baseline = ""
due = "2026-09-30"
caveats = []
source_ref = "synthetic"
"""


def synthetic(**replace: str) -> str:
    """The synthetic plan text, with each ``old=new`` pair (given as a dict) replaced once."""
    text = SYNTHETIC_HEAD + _priorities() + SYNTHETIC_MEASURES + SYNTHETIC_TARGETS
    for old, new in replace.get("pairs", {}).items():
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def line_of(text: str, needle: str, occurrence: int = 1, start: bool = False) -> int:
    """The line number of the ``occurrence``-th line containing (or, with ``start``, starting with) ``needle``."""
    hits = [
        i
        for i, line in enumerate(text.splitlines(), 1)
        if (line.startswith(needle) if start else needle in line)
    ]
    return hits[occurrence - 1]


def refuse(tmp_path: Path, text: str, known=KNOWN) -> str:
    path = tmp_path / "synthetic_plan.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PlanError) as e:
        load_plan(path, known_police_measures=known)
    message = str(e.value)
    assert "synthetic_plan.toml" in message
    return message


def test_synthetic_plan_is_valid(tmp_path):
    path = tmp_path / "synthetic_plan.toml"
    path.write_text(synthetic(), encoding="utf-8")
    p = load_plan(path, known_police_measures=KNOWN)
    assert [t.id for t in p.targets] == ["robbery", "audits", "safe", "offer"]
    safe = p.target("safe")  # baseline and deadline default from [plan]
    assert (safe.baseline, safe.deadline) == ("FY2024-25", "FY2027-28")
    assert p.partnership_measure("safe_pct").max == 100.0
    assert p.target("robbery").line == line_of(synthetic(), "[[targets]]")


def test_synthetic_toml_syntax_error_names_file_and_line(tmp_path):
    text = synthetic(pairs={'title = "Synthetic plan"': 'title = "Synthetic plan'})
    message = refuse(tmp_path, text)
    assert "not valid TOML" in message and "line 3" in message


def test_synthetic_missing_required_field(tmp_path):
    text = synthetic(pairs={'wording = "Robbery has reduced by 7%."\n': ""})
    message = refuse(tmp_path, text)
    assert f"line {line_of(text, '[[targets]]')}:" in message
    assert "'robbery'" in message and "missing required field 'wording'" in message


def test_synthetic_unknown_field_typo_is_refused_with_a_suggestion(tmp_path):
    text = synthetic(pairs={"target_change_pct = -7.0": "target_chnage_pct = -7.0"})
    message = refuse(tmp_path, text)
    assert f"line {line_of(text, 'target_chnage_pct')}:" in message
    assert "'target_chnage_pct'" in message and "did you mean 'target_change_pct'" in message


def test_synthetic_wrong_type(tmp_path):
    text = synthetic(pairs={"priority = 1": 'priority = "1"'})
    message = refuse(tmp_path, text)
    assert f"line {line_of(text, 'priority = ' + chr(34))}:" in message and "'priority'" in message


def test_synthetic_unknown_section(tmp_path):
    text = synthetic() + '\n[[tragets]]\nid = "x"\n'
    message = refuse(tmp_path, text)
    assert f"line {line_of(text, '[[tragets]]')}:" in message and "unknown section" in message


def test_synthetic_bad_period_fy2024_26(tmp_path):
    text = synthetic(pairs={'\nbaseline = "FY2024-25"': '\nbaseline = "FY2024-26"'})
    message = refuse(tmp_path, text)
    assert f"line {line_of(text, 'FY2024-26')}:" in message
    assert "'robbery'" in message and "field 'baseline'" in message and "FY2024-26" in message


def test_synthetic_bad_default_period_in_plan(tmp_path):
    text = synthetic(pairs={'default_deadline = "FY2027-28"': 'default_deadline = "by 2028"'})
    message = refuse(tmp_path, text)
    assert f"line {line_of(text, 'default_deadline')}:" in message and "[plan]" in message


def test_synthetic_baseline_must_end_before_deadline_starts(tmp_path):
    text = synthetic(pairs={'\nbaseline = "FY2024-25"': '\nbaseline = "2027-06"'})
    message = refuse(tmp_path, text)
    assert f"line {line_of(text, '2027-06')}:" in message and "must end before the deadline" in message


def test_synthetic_bad_kind_and_direction(tmp_path):
    text = synthetic(
        pairs={'kind = "police_count"': 'kind = "police"', 'direction = "lower"': 'direction = "down"'}
    )
    message = refuse(tmp_path, text)
    assert (
        f"line {line_of(text, 'kind = ' + chr(34) + 'police' + chr(34))}:" in message
        and "field 'kind'" in message
    )
    assert (
        f"line {line_of(text, 'direction = ' + chr(34) + 'down')}:" in message
        and "field 'direction'" in message
    )


def test_synthetic_unknown_police_measure(tmp_path):
    text = synthetic(pairs={'measure = "robbery"': 'measure = "robery"'})
    message = refuse(tmp_path, text)
    assert f"line {line_of(text, 'robery')}:" in message and "field 'measure'" in message


def test_real_measure_catalogue_is_the_default_and_serious_violence_is_valid(tmp_path):
    path = tmp_path / "synthetic_plan.toml"
    path.write_text(synthetic(), encoding="utf-8")
    load_plan(path)  # robbery is in csp_data.plan.measures.BY_ID
    sv = synthetic(pairs={'measure = "robbery"': 'measure = "serious_violence"'})
    sv += '\n[definitions.serious_violence]\nlabel = "SV"\ntext = "synthetic"\nwhy = "synthetic"\n'
    path.write_text(sv, encoding="utf-8")
    assert load_plan(path).target("robbery").measure == "serious_violence"


def test_synthetic_serious_violence_needs_a_definition(tmp_path):
    text = synthetic(pairs={'measure = "robbery"': 'measure = "serious_violence"'})
    message = refuse(tmp_path, text)
    assert f"line {line_of(text, 'measure = ' + chr(34) + 'serious_violence')}:" in message
    assert "definitions.serious_violence" in message


def test_synthetic_definition_components_must_be_police_measures(tmp_path):
    text = synthetic() + (
        '\n[definitions.serious_violence]\nlabel = "SV"\ntext = "t"\nwhy = "w"\n'
        'components = ["knife_crime", "gun_crim"]\n'
    )
    message = refuse(tmp_path, text)
    assert f"line {line_of(text, 'components')}:" in message and "'gun_crim'" in message


def test_synthetic_unknown_partnership_measure(tmp_path):
    text = synthetic(pairs={'measure = "audits"': 'measure = "audit"'})
    message = refuse(tmp_path, text)
    assert f"line {line_of(text, 'measure = ' + chr(34) + 'audit' + chr(34))}:" in message
    assert "'audits'" in message and "[[partnership_measures]]" in message


def test_synthetic_target_kind_must_fit_measure_unit(tmp_path):
    text = synthetic(pairs={'measure = "safe_pct"': 'measure = "audits"'})
    message = refuse(tmp_path, text)
    assert (
        f"line {line_of(text, 'measure = ' + chr(34) + 'audits', 2)}:" in message and "survey_pct" in message
    )


def test_synthetic_duplicate_target_id(tmp_path):
    text = synthetic(pairs={'id = "safe"': 'id = "robbery"'})
    message = refuse(tmp_path, text)
    assert f"line {line_of(text, 'id = ' + chr(34) + 'robbery', 2)}:" in message
    assert f"already used on line {line_of(text, 'id = ' + chr(34) + 'robbery')}" in message


def test_synthetic_target_id_must_be_snake_case(tmp_path):
    text = synthetic(pairs={'id = "safe"': 'id = "Feel-Safe"'})
    message = refuse(tmp_path, text)
    assert f"line {line_of(text, 'Feel-Safe')}:" in message and "snake_case" in message


def test_synthetic_priorities_must_be_exactly_1_to_4(tmp_path):
    text = synthetic(pairs={"number = 4": "number = 3"})
    message = refuse(tmp_path, text)
    assert f"line {line_of(text, 'number = 3', 2)}:" in message and "listed twice" in message
    assert "missing 4" in message


def test_synthetic_threshold_target_needs_threshold(tmp_path):
    text = synthetic(pairs={"threshold = 720.0\n": ""})
    message = refuse(tmp_path, text)
    assert f"line {line_of(text, '[[targets]]', 2)}:" in message
    assert "'audits'" in message and "field 'threshold'" in message


def test_synthetic_baseline_not_allowed_for_threshold(tmp_path):
    text = synthetic(pairs={'baseline = ""': 'baseline = "FY2024-25"'})
    message = refuse(tmp_path, text)
    assert f"line {line_of(text, 'baseline = ', 2, start=True)}:" in message and 'must be ""' in message


def test_synthetic_milestone_needs_a_valid_due_date(tmp_path):
    text = synthetic(pairs={'due = "2026-09-30"': 'due = "Q2 2026"'})
    message = refuse(tmp_path, text)
    assert (
        f"line {line_of(text, 'due = ', start=True)}:" in message
        and "'offer'" in message
        and "field 'due'" in message
    )
    text = synthetic(pairs={'due = "2026-09-30"\n': ""})
    message = refuse(tmp_path, text)
    assert f"line {line_of(text, '[[targets]]', 4)}:" in message and "needs a due date" in message


def test_synthetic_change_sign_must_match_direction(tmp_path):
    text = synthetic(pairs={"target_change_pct = -7.0": "target_change_pct = 7.0"})
    message = refuse(tmp_path, text)
    assert f"line {line_of(text, 'target_change_pct = 7.0')}:" in message
    assert "'robbery'" in message and "does not match direction 'lower'" in message


def test_synthetic_police_target_needs_a_change(tmp_path):
    text = synthetic(pairs={"target_change_pct = -7.0\n": ""})
    message = refuse(tmp_path, text)
    assert f"line {line_of(text, '[[targets]]')}:" in message and "field 'target_change_pct'" in message


def test_synthetic_change_must_agree_with_the_wording(tmp_path):
    text = synthetic(pairs={"target_change_pct = 10.0": "target_change_pct = 8.0"})
    message = refuse(tmp_path, text)
    assert f"line {line_of(text, 'target_change_pct = 8.0')}:" in message and "10%" in message


def test_synthetic_percent_measure_range_101(tmp_path):
    text = synthetic(pairs={'unit = "percent"\n': 'unit = "percent"\nmax = 101\n'})
    message = refuse(tmp_path, text)
    assert f"line {line_of(text, 'max = 101')}:" in message and "'safe_pct'" in message and "0-100" in message


def test_synthetic_partnership_measure_vocabularies(tmp_path):
    text = synthetic(
        pairs={'unit = "count"': 'unit = "audits"', 'frequency = "once"': 'frequency = "yearly"'}
    )
    message = refuse(tmp_path, text)
    assert f"line {line_of(text, 'unit = ' + chr(34) + 'audits')}:" in message and "field 'unit'" in message
    assert f"line {line_of(text, 'yearly')}:" in message and "field 'frequency'" in message


def test_synthetic_invented_rating_is_refused(tmp_path):
    text = synthetic() + (
        '\n[[previous_plan_outcomes]]\nplan = "2021-2024"\npriority = 1\npriority_title = "t"\n'
        'outcome = "o"\nresult = "r"\nrag = "purple"\n'
    )
    message = refuse(tmp_path, text)
    assert f"line {line_of(text, 'purple')}:" in message and "field 'rag'" in message


def test_synthetic_cross_cutting_ids_must_exist(tmp_path):
    text = synthetic() + '\n[cross_cutting]\ntitle = "t"\nsummary = "s"\ntarget_ids = ["trust"]\n'
    message = refuse(tmp_path, text)
    assert f"line {line_of(text, 'target_ids')}:" in message and "'trust'" in message


def test_synthetic_all_problems_are_listed_together(tmp_path):
    text = synthetic(
        pairs={'\nbaseline = "FY2024-25"': '\nbaseline = "FY2024-26"', 'due = "2026-09-30"': 'due = "x"'}
    )
    path = tmp_path / "synthetic_plan.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PlanError) as e:
        load_plan(path, known_police_measures=KNOWN)
    assert len(e.value.problems) == 2
    assert all(re.search(r"synthetic_plan\.toml, line \d+: \[\[targets\]\]", p) for p in e.value.problems)


def test_synthetic_line_finder_skips_multiline_strings():
    text = synthetic()
    lines = plan._Lines(text)
    assert "kind" not in lines.keys.get(("plan", 0), {})  # the 'kind = ' inside the note is text
    assert lines.key("targets", 0, "kind") == line_of(text, 'kind = "police_count"')


def test_parse_plan_names_the_given_path():
    with pytest.raises(PlanError, match=r"^somewhere[/\\]plan\.toml"):
        parse_plan("[plan]\n", Path("somewhere/plan.toml"))
