"""The Community Safety Plan as data: load and validate ``data/plan/<borough code>.toml``.

Each partnership has its own plan: the file is named by the configured borough's ONS code
(``CSP_BOROUGH_CODE``), e.g. ``data/plan/E09000030.toml`` for Tower Hamlets. A borough with no plan
file gets :func:`no_plan`: no targets and no partnership measures, so every targets part of a page
says that no plan is loaded and how to add one (``docs/PLAN_FILE.md``); everything else works.

The plan file holds the priorities, the targets (with their baseline and deadline periods), the
partnership measures that non-police targets are counted in, the serious violence definition,
the previous plan's outcomes and the figures the plan quotes. :func:`load_plan` checks it all and
refuses a file with mistakes, naming the file, the line and the field of each problem (tomllib
gives no line numbers for values, so they are found by scanning the raw text).
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from csp_data.config import REPO_ROOT, settings
from csp_data.plan import periods

KINDS = ("police_count", "partnership_count", "survey_pct", "milestone", "threshold", "qualitative")
CHANGE_KINDS = ("police_count", "partnership_count", "survey_pct")  # compared with a baseline period
DIRECTIONS = ("lower", "higher")
UNITS = ("count", "percent", "date", "status")
FREQUENCIES = ("annual", "quarterly", "monthly", "once")
RAGS = ("red", "amber", "green", "not stated")
FIGURE_UNITS = ("count", "percent", "percent_change", "per_1000", "rank")
SERIOUS_VIOLENCE = "serious_violence"
KIND_UNITS = {  # which partnership-measure units a target of each kind may be counted in
    "partnership_count": ("count",),
    "survey_pct": ("percent",),
    "threshold": ("count", "percent"),
    "milestone": ("status", "date"),
    "qualitative": ("status",),
}
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_PCT_IN_WORDING = re.compile(r"(\d+(?:\.\d+)?)\s*%")


class PlanError(ValueError):
    """The plan file is missing, is not valid TOML, or breaks a rule. ``problems`` lists each one."""

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or [message]


# --- the plan's parts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Priority:
    number: int
    title: str
    context: str
    focus: tuple[str, ...]
    summary: str
    actions: tuple[str, ...]
    subgroup: str  # "" when the plan names no owning board
    subgroup_basis: str = ""


@dataclass(frozen=True)
class Definition:
    id: str
    label: str
    text: str
    why: str
    components: tuple[str, ...] = ()


@dataclass(frozen=True)
class CrossCutting:
    title: str
    summary: str
    target_ids: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True)
class PartnershipMeasure:
    id: str
    label: str
    unit: str  # one of UNITS
    frequency: str  # one of FREQUENCIES
    owner: str
    description: str
    min: float | None = None
    max: float | None = None
    # Whether the figure counts people (treatment completions, repeat victims...). Public pages show
    # such counts under the ONS 10-5 rule; counts of things (audits, operations, businesses) exactly.
    about_people: bool = True


@dataclass(frozen=True)
class Target:
    id: str
    priority: int
    label: str
    wording: str  # the plan's own words
    kind: str
    measure: str
    direction: str
    baseline: str  # period text, "" when not applicable
    deadline: str
    caveats: tuple[str, ...]
    source_ref: str
    target_change_pct: float | None = None
    threshold: float | None = None
    threshold_unit: str = ""
    due: date | None = None
    line: int = 0  # line of its [[targets]] header in the plan file

    @property
    def is_police(self) -> bool:
        return self.kind == "police_count"

    @property
    def is_change(self) -> bool:
        """Measured as a change from a baseline period."""
        return self.kind in CHANGE_KINDS

    @property
    def baseline_period(self) -> periods.Period | None:
        return periods.parse(self.baseline) if self.baseline else None

    @property
    def deadline_period(self) -> periods.Period:
        return periods.parse(self.deadline)

    def goal(self, baseline_value: float) -> float | None:
        """The value that meets a percent-change target from ``baseline_value`` (None if no % is set)."""
        if self.target_change_pct is None:
            return None
        return baseline_value * (1 + self.target_change_pct / 100)


@dataclass(frozen=True)
class Outcome:
    plan: str
    priority: int
    priority_title: str
    outcome: str  # the previous plan's words
    result: str  # our summary of the reported result, figures copied exactly
    rag: str  # red | amber | green | not stated


@dataclass(frozen=True)
class PreviousTarget:
    id: str
    plan: str
    label: str
    measure: str
    wording: str
    target_value: float
    unit: str
    result_value: float
    result_period: str
    source: str
    note: str = ""


@dataclass(frozen=True)
class ReferenceFigure:
    id: str
    label: str
    measure: str  # police measure id or ""
    period: str  # as the plan words it
    value: float
    unit: str
    quote_ref: str
    note: str = ""


@dataclass(frozen=True)
class HelpContact:
    service: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    title: str
    years: str
    source: str
    adopted: str
    default_baseline: str
    default_deadline: str
    baseline_note: str
    priorities: tuple[Priority, ...]
    targets: tuple[Target, ...]
    partnership_measures: tuple[PartnershipMeasure, ...]
    definitions: dict[str, Definition]
    cross_cutting: CrossCutting | None = None
    summary_source: str = ""
    deadline_note: str = ""
    previous_plan_title: str = ""
    previous_plan_source: str = ""
    rag_note: str = ""
    previous_plan_outcomes: tuple[Outcome, ...] = ()
    previous_targets: tuple[PreviousTarget, ...] = ()
    reference_figures: tuple[ReferenceFigure, ...] = ()
    help: tuple[HelpContact, ...] = ()
    path: Path | None = None
    loaded: bool = True  # False: no plan file for the borough (:func:`no_plan`)

    def target(self, target_id: str) -> Target:
        for t in self.targets:
            if t.id == target_id:
                return t
        raise KeyError(f"unknown target {target_id!r}; known: {', '.join(t.id for t in self.targets)}")

    def targets_for(self, priority: int) -> list[Target]:
        return [t for t in self.targets if t.priority == priority]

    def priority(self, number: int) -> Priority:
        for p in self.priorities:
            if p.number == number:
                return p
        raise KeyError(f"no priority {number}; the plan has 1-{len(self.priorities)}")

    def partnership_measure(self, measure_id: str) -> PartnershipMeasure:
        for m in self.partnership_measures:
            if m.id == measure_id:
                return m
        raise KeyError(
            f"unknown partnership measure {measure_id!r}; known: "
            f"{', '.join(m.id for m in self.partnership_measures)}"
        )


# --- the schema: required and optional keys of each table, with their types ----------------------

S, I, F, L, B = str, int, float, list, bool  # F accepts ints too; L is a list of strings
SCHEMA: dict[str, tuple[dict[str, type], dict[str, type]]] = {
    "plan": (
        {
            "title": S,
            "years": S,
            "source": S,
            "adopted": S,
            "default_baseline": S,
            "default_deadline": S,
            "baseline_note": S,
        },
        {"summary_source": S, "deadline_note": S},
    ),
    "priorities": (
        {"number": I, "title": S, "context": S, "focus": L, "summary": S, "actions": L, "subgroup": S},
        {"subgroup_basis": S},
    ),
    "cross_cutting": ({"title": S, "summary": S, "target_ids": L}, {"note": S}),
    "definitions.*": ({"label": S, "text": S, "why": S}, {"components": L}),
    "targets": (
        {
            "id": S,
            "priority": I,
            "label": S,
            "wording": S,
            "kind": S,
            "measure": S,
            "direction": S,
            "caveats": L,
            "source_ref": S,
        },
        {"baseline": S, "deadline": S, "target_change_pct": F, "threshold": F, "threshold_unit": S, "due": S},
    ),
    "partnership_measures": (
        {"id": S, "label": S, "unit": S, "frequency": S, "owner": S, "description": S},
        {"min": F, "max": F, "about_people": B},
    ),
    "previous_plan": ({"title": S, "source": S, "rag_note": S}, {}),
    "previous_plan_outcomes": (
        {"plan": S, "priority": I, "priority_title": S, "outcome": S, "result": S, "rag": S},
        {},
    ),
    "previous_targets": (
        {
            "id": S,
            "plan": S,
            "label": S,
            "measure": S,
            "wording": S,
            "target_value": F,
            "unit": S,
            "result_value": F,
            "result_period": S,
            "source": S,
        },
        {"note": S},
    ),
    "reference_figures": (
        {"id": S, "label": S, "measure": S, "period": S, "value": F, "unit": S, "quote_ref": S},
        {"note": S},
    ),
    "help": ({"service": S, "lines": L}, {}),
}
ARRAYS = (
    "priorities",
    "targets",
    "partnership_measures",
    "previous_plan_outcomes",
    "previous_targets",
    "reference_figures",
    "help",
)
REQUIRED_SECTIONS = ("plan", "priorities", "targets")


# --- line numbers ---------------------------------------------------------------------------------

_ARRAY_HEADER = re.compile(r"^\s*\[\[\s*([A-Za-z0-9_.\-]+)\s*\]\]\s*(#.*)?$")
_TABLE_HEADER = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\-]+)\s*\]\s*(#.*)?$")
_KEY_LINE = re.compile(r"^\s*([A-Za-z0-9_\-]+)\s*=")


class _Lines:
    """Where each table header and key sits in the raw TOML text (1-based lines)."""

    def __init__(self, text: str):
        self.headers: dict[str, list[int]] = {}
        self.keys: dict[tuple[str, int], dict[str, int]] = {}
        current, quote = ("", 0), None
        for no, line in enumerate(text.splitlines(), 1):
            if quote:  # inside a multi-line string
                if line.count(quote) % 2 == 1:
                    quote = None
                continue
            if m := _ARRAY_HEADER.match(line):
                seen = self.headers.setdefault(m.group(1), [])
                current = (m.group(1), len(seen))
                seen.append(no)
            elif m := _TABLE_HEADER.match(line):
                self.headers.setdefault(m.group(1), []).append(no)
                current = (m.group(1), 0)
            elif m := _KEY_LINE.match(line):
                self.keys.setdefault(current, {}).setdefault(m.group(1), no)
            for q in ('"""', "'''"):
                if line.count(q) % 2 == 1:
                    quote = q
                    break

    def table(self, section: str, n: int = 0) -> int:
        seen = self.headers.get(section, [])
        return seen[n] if n < len(seen) else (seen[-1] if seen else 1)

    def key(self, section: str, n: int, key: str | None) -> int:
        if key is not None and (line := self.keys.get((section, n), {}).get(key)):
            return line
        return self.table(section, n)


class _Checker:
    """Collects problems, each located by file, line, table and field."""

    def __init__(self, path: Path, lines: _Lines):
        self.path, self.lines = path, lines
        self.problems: list[str] = []

    def where(self, section: str, n: int, row: dict | None = None) -> str:
        if section in ARRAYS:
            ident = row.get("id") if isinstance(row, dict) else None
            return f"[[{section}]] #{n + 1}" + (f" (id {ident!r})" if isinstance(ident, str) else "")
        return f"[{section}]"

    def add(self, section: str, n: int, key: str | None, message: str, row: dict | None = None) -> None:
        line = self.lines.key(section, n, key)
        fieldtext = f", field {key!r}" if key else ""
        self.problems.append(f"{self.path}, line {line}: {self.where(section, n, row)}{fieldtext}: {message}")

    def raise_if_any(self) -> None:
        if self.problems:
            n = len(self.problems)
            head = f"{self.path}: {n} problem{'s' if n != 1 else ''} in the plan file:\n  "
            raise PlanError(head + "\n  ".join(self.problems), list(self.problems))


def _type_ok(value: Any, want: type) -> bool:
    if want is bool:
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if want is float:
        return isinstance(value, (int, float))
    if want is list:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return isinstance(value, want)


_TYPE_WORDS = {
    str: "text",
    int: "a whole number",
    float: "a number",
    list: "a list of text",
    bool: "true or false",
}


def _check_table(ck: _Checker, section: str, n: int, row: Any, schema_key: str) -> None:
    if not isinstance(row, dict):
        ck.add(section, n, None, "must be a table")
        return
    required, optional = SCHEMA[schema_key]
    allowed = {**required, **optional}
    for key in required:
        if key not in row:
            ck.add(section, n, None, f"missing required field {key!r}", row)
    for key, value in row.items():
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; allowed: {', '.join(allowed)}"
            ck.add(section, n, key, f"unknown field{hint}", row)
        elif not _type_ok(value, allowed[key]):
            ck.add(section, n, key, f"must be {_TYPE_WORDS[allowed[key]]}, got {value!r}", row)


def _check_schema(ck: _Checker, raw: dict) -> None:
    for name in raw:
        if name not in {s.split(".")[0] for s in SCHEMA}:
            ck.add(name, 0, None, f"unknown section; allowed: {', '.join(s.split('.')[0] for s in SCHEMA)}")
    for name in REQUIRED_SECTIONS:
        if name not in raw:
            ck.problems.append(f"{ck.path}, line 1: missing required section [{name}]")
    for name in SCHEMA:
        if name == "definitions.*":
            defs = raw.get("definitions", {})
            if not isinstance(defs, dict):
                ck.add("definitions", 0, None, "must be a table of definitions")
                continue
            for def_id, row in defs.items():
                _check_table(ck, f"definitions.{def_id}", 0, row, name)
        elif name in raw:
            value = raw[name]
            if name in ARRAYS:
                if not isinstance(value, list):
                    ck.add(name, 0, None, f"must be written as [[{name}]] tables")
                    continue
                for n, row in enumerate(value):
                    _check_table(ck, name, n, row, name)
            else:
                _check_table(ck, name, 0, value, name)


# --- building and checking meaning ----------------------------------------------------------------


def _period(
    ck: _Checker, section: str, n: int, key: str, text: str, row: dict | None = None
) -> periods.Period | None:
    try:
        return periods.parse(text)
    except periods.PeriodError as e:
        ck.add(section, n, key, str(e), row)
        return None


def _police_measures(known: Iterable[str] | None) -> frozenset[str]:
    if known is not None:
        return frozenset(known)
    from csp_data.plan.measures import BY_ID  # lazy: the catalogue imports nothing from here

    return frozenset(BY_ID) | {SERIOUS_VIOLENCE}


def _unique_ids(ck: _Checker, section: str, rows: list[dict]) -> None:
    first: dict[str, int] = {}
    for n, row in enumerate(rows):
        ident = row["id"]
        if not _ID.match(ident):
            ck.add(section, n, "id", f"{ident!r} must be snake_case (a-z, 0-9, _)", row)
        if ident in first:
            ck.add(
                section,
                n,
                "id",
                f"duplicate id {ident!r}: already used on line {ck.lines.key(section, first[ident], 'id')}",
                row,
            )
        else:
            first[ident] = n


def _build_plan_header(ck: _Checker, p: dict) -> tuple[periods.Period | None, periods.Period | None]:
    years = _period(ck, "plan", 0, "years", p["years"])
    _period(ck, "plan", 0, "adopted", p["adopted"])
    base = _period(ck, "plan", 0, "default_baseline", p["default_baseline"])
    dead = _period(ck, "plan", 0, "default_deadline", p["default_deadline"])
    if base and dead and base.end >= dead.start:
        ck.add("plan", 0, "default_baseline", f"{base} must end before the default deadline {dead} starts")
    return years, dead


def _build_priorities(ck: _Checker, rows: list[dict]) -> tuple[Priority, ...]:
    seen: dict[int, int] = {}
    for n, row in enumerate(rows):
        num = row["number"]
        if num in seen:
            ck.add(
                "priorities",
                n,
                "number",
                f"priority {num} is listed twice (also [[priorities]] #{seen[num] + 1})",
            )
        elif num not in (1, 2, 3, 4):
            ck.add("priorities", n, "number", f"must be 1, 2, 3 or 4; got {num}")
        seen.setdefault(num, n)
    missing = sorted({1, 2, 3, 4} - set(seen))
    if missing:
        line = ck.lines.table("priorities", 0)
        ck.problems.append(
            f"{ck.path}, line {line}: [[priorities]]: the plan has exactly priorities 1-4; "
            f"missing {', '.join(map(str, missing))}"
        )
    return tuple(
        Priority(
            number=r["number"],
            title=r["title"],
            context=r["context"],
            focus=tuple(r["focus"]),
            summary=r["summary"],
            actions=tuple(r["actions"]),
            subgroup=r["subgroup"],
            subgroup_basis=r.get("subgroup_basis", ""),
        )
        for r in sorted(rows, key=lambda r: r["number"])
    )


def _build_measures(ck: _Checker, rows: list[dict], police: frozenset[str]) -> tuple[PartnershipMeasure, ...]:
    _unique_ids(ck, "partnership_measures", rows)
    out = []
    for n, row in enumerate(rows):
        sec = "partnership_measures"
        unit, lo, hi = row["unit"], row.get("min"), row.get("max")
        if row["id"] in police:
            ck.add(sec, n, "id", f"{row['id']!r} is a police measure id; choose another", row)
        if unit not in UNITS:
            ck.add(sec, n, "unit", f"{unit!r} is not one of {', '.join(UNITS)}", row)
        if row["frequency"] not in FREQUENCIES:
            ck.add(sec, n, "frequency", f"{row['frequency']!r} is not one of {', '.join(FREQUENCIES)}", row)
        if unit in ("date", "status") and (lo is not None or hi is not None):
            ck.add(
                sec,
                n,
                "min" if lo is not None else "max",
                "a range is only for count or percent measures",
                row,
            )
        if unit == "percent":
            lo = 0.0 if lo is None else lo
            hi = 100.0 if hi is None else hi
            for key, v in (("min", lo), ("max", hi)):
                if not 0 <= v <= 100:
                    ck.add(sec, n, key, f"a percent range must lie within 0-100; got {v}", row)
        if lo is not None and hi is not None and lo > hi:
            ck.add(sec, n, "min", f"min {lo} is above max {hi}", row)
        out.append(
            PartnershipMeasure(
                id=row["id"],
                label=row["label"],
                unit=unit,
                frequency=row["frequency"],
                owner=row["owner"],
                description=row["description"],
                min=None if lo is None else float(lo),
                max=None if hi is None else float(hi),
                about_people=row.get("about_people", True),
            )
        )
    return tuple(out)


def _range(m: PartnershipMeasure) -> str:
    lo = "no minimum" if m.min is None else f"{m.min:g}"
    hi = "no maximum" if m.max is None else f"{m.max:g}"
    return f"{lo} to {hi}"


def _check_target(
    ck: _Checker,
    n: int,
    row: dict,
    plan_row: dict,
    years: periods.Period | None,
    police: frozenset[str],
    measures: dict[str, PartnershipMeasure],
    has_sv_definition: bool,
) -> Target:
    sec = "targets"
    add = lambda key, msg: ck.add(sec, n, key, msg, row)  # noqa: E731
    kind, direction, measure = row["kind"], row["direction"], row["measure"]
    if row["priority"] not in (1, 2, 3, 4):
        add("priority", f"must be 1, 2, 3 or 4; got {row['priority']}")
    if kind not in KINDS:
        add("kind", f"{kind!r} is not one of {', '.join(KINDS)}")
    if direction not in DIRECTIONS:
        add("direction", f"{direction!r} is not one of {', '.join(DIRECTIONS)}")
    if not row["wording"].strip():
        add("wording", "must quote the plan's words")

    # the measure it is counted in
    if kind == "police_count":
        if measure not in police:
            add(
                "measure",
                f"{measure!r} is not a police measure in csp_data.plan.measures (or {SERIOUS_VIOLENCE!r})",
            )
        if measure == SERIOUS_VIOLENCE and not has_sv_definition:
            add(
                "measure",
                "serious violence needs a [definitions.serious_violence] table saying what it counts",
            )
    elif kind in KINDS:
        pm = measures.get(measure)
        if pm is None:
            add("measure", f"{measure!r} is not defined under [[partnership_measures]]")
        elif pm.unit not in KIND_UNITS[kind]:
            add(
                "measure",
                f"a {kind} target needs a measure in {' or '.join(KIND_UNITS[kind])}; "
                f"{measure!r} is in {pm.unit}",
            )

    # periods: baseline (change kinds only) and deadline
    baseline = row.get("baseline", plan_row["default_baseline"] if kind in CHANGE_KINDS else "")
    deadline = row.get("deadline", plan_row["default_deadline"])
    base_p = None
    if kind in CHANGE_KINDS:
        if not baseline.strip():
            add("baseline", f"a {kind} target needs a baseline period such as {plan_row['default_baseline']}")
        else:
            base_p = _period(ck, sec, n, "baseline", baseline, row)
    elif baseline:
        add("baseline", f'must be "" for a {kind} target (it is not compared with a baseline)')
    dead_p = _period(ck, sec, n, "deadline", deadline, row)
    if base_p and dead_p and base_p.end >= dead_p.start:
        add("baseline", f"{base_p} must end before the deadline {dead_p} starts")

    # the size of the change
    pct = row.get("target_change_pct")
    stated = _PCT_IN_WORDING.search(row["wording"])
    if kind == "police_count" and pct is None:
        add("target_change_pct", "missing: a police_count target needs a percent change, e.g. -7.0")
    if kind in CHANGE_KINDS and stated and pct is None:
        add("target_change_pct", f"missing: the wording states {stated.group(0)}")
    if pct is not None:
        if kind not in CHANGE_KINDS:
            add("target_change_pct", f"only for {', '.join(CHANGE_KINDS)} targets, not {kind}")
        elif pct == 0 or (direction == "lower") != (pct < 0):
            add(
                "target_change_pct",
                f"{pct:+g} does not match direction {direction!r} "
                "(lower needs a negative change, higher a positive one)",
            )
        elif stated and abs(pct) != float(stated.group(1)):
            add("target_change_pct", f"{pct:+g} does not match the {stated.group(0)} in the wording")

    # thresholds and milestones
    threshold = row.get("threshold")
    if kind == "threshold":
        if threshold is None:
            add("threshold", "missing: a threshold target needs a threshold, e.g. 720")
        if not row.get("threshold_unit", "").strip():
            add("threshold_unit", "missing: say what the threshold counts, e.g. 'fire audits a year'")
        pm = measures.get(measure)
        if (
            threshold is not None
            and pm
            and ((pm.min is not None and threshold < pm.min) or (pm.max is not None and threshold > pm.max))
        ):
            add("threshold", f"{threshold:g} is outside {measure!r}'s range {_range(pm)}")
    elif threshold is not None or "threshold_unit" in row:
        add(
            "threshold" if threshold is not None else "threshold_unit",
            f"only for threshold targets, not {kind}",
        )
    due = None
    if kind == "milestone":
        if "due" not in row:
            add("due", "missing: a milestone target needs a due date, YYYY-MM-DD")
        else:
            try:
                due = date.fromisoformat(row["due"])
            except ValueError:
                add("due", f"{row['due']!r} is not a date in the form YYYY-MM-DD")
            if due and years and not (years.start <= due and date(due.year, due.month, 1) <= years.end):
                add("due", f"{due} is outside the plan's years ({years})")
    elif "due" in row:
        add("due", f"only for milestone targets, not {kind}")

    return Target(
        id=row["id"],
        priority=row["priority"],
        label=row["label"],
        wording=row["wording"],
        kind=kind,
        measure=measure,
        direction=direction,
        baseline=baseline,
        deadline=deadline,
        caveats=tuple(row["caveats"]),
        source_ref=row["source_ref"],
        target_change_pct=None if pct is None else float(pct),
        threshold=None if threshold is None else float(threshold),
        threshold_unit=row.get("threshold_unit", ""),
        due=due,
        line=ck.lines.table(sec, n),
    )


def _build_extras(ck: _Checker, raw: dict, police: frozenset[str], target_ids: set[str]) -> dict[str, Any]:
    """Cross-cutting aim, definitions, previous plan, reference figures and help contacts."""
    out: dict[str, Any] = {}
    if cc := raw.get("cross_cutting"):
        for tid in cc["target_ids"]:
            if tid not in target_ids:
                ck.add("cross_cutting", 0, "target_ids", f"{tid!r} is not a target id")
        out["cross_cutting"] = CrossCutting(
            cc["title"], cc["summary"], tuple(cc["target_ids"]), cc.get("note", "")
        )
    defs = {}
    for def_id, d in raw.get("definitions", {}).items():
        for comp in d.get("components", []):
            if comp not in police:
                ck.add(f"definitions.{def_id}", 0, "components", f"{comp!r} is not a police measure")
        defs[def_id] = Definition(def_id, d["label"], d["text"], d["why"], tuple(d.get("components", [])))
    out["definitions"] = defs
    if pp := raw.get("previous_plan"):
        out.update(
            previous_plan_title=pp["title"], previous_plan_source=pp["source"], rag_note=pp["rag_note"]
        )
    outcomes = []
    for n, r in enumerate(raw.get("previous_plan_outcomes", [])):
        if r["rag"] not in RAGS:
            ck.add("previous_plan_outcomes", n, "rag", f"{r['rag']!r} is not one of {', '.join(RAGS)}")
        if r["priority"] < 1:
            ck.add("previous_plan_outcomes", n, "priority", "must be 1 or more")
        outcomes.append(Outcome(**r))
    out["previous_plan_outcomes"] = tuple(outcomes)
    for section, cls, units in (
        ("previous_targets", PreviousTarget, ("percent",)),
        ("reference_figures", ReferenceFigure, FIGURE_UNITS),
    ):
        rows = raw.get(section, [])
        _unique_ids(ck, section, rows)
        for n, r in enumerate(rows):
            if r["measure"] and r["measure"] not in police:
                ck.add(
                    section, n, "measure", f'{r["measure"]!r} is not a police measure (use "" for none)', r
                )
            if r["unit"] not in units:
                ck.add(section, n, "unit", f"{r['unit']!r} is not one of {', '.join(units)}", r)
        numbers = ("value", "target_value", "result_value")
        fields: list[dict[str, Any]] = [
            {k: (float(v) if k in numbers else v) for k, v in r.items()} for r in rows
        ]
        out[section] = tuple(cls(**f) for f in fields)
    out["help"] = tuple(HelpContact(h["service"], tuple(h["lines"])) for h in raw.get("help", []))
    return out


def parse_plan(text: str, path: Path, known_police_measures: Iterable[str] | None = None) -> Plan:
    """Validate plan TOML ``text`` (read from ``path``, used in messages) and build the :class:`Plan`."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise PlanError(f"{path}: not valid TOML: {e}") from None
    ck = _Checker(path, _Lines(text))
    _check_schema(ck, raw)
    ck.raise_if_any()

    police = _police_measures(known_police_measures)
    p = raw["plan"]
    years, _ = _build_plan_header(ck, p)
    priorities = _build_priorities(ck, raw["priorities"])
    measures = _build_measures(ck, raw.get("partnership_measures", []), police)
    by_id = {m.id: m for m in measures}
    _unique_ids(ck, "targets", raw["targets"])
    has_sv = SERIOUS_VIOLENCE in raw.get("definitions", {})
    targets = tuple(
        _check_target(ck, n, row, p, years, police, by_id, has_sv) for n, row in enumerate(raw["targets"])
    )
    extras = _build_extras(ck, raw, police, {t.id for t in targets})
    ck.raise_if_any()
    return Plan(
        title=p["title"],
        years=p["years"],
        source=p["source"],
        adopted=p["adopted"],
        default_baseline=p["default_baseline"],
        default_deadline=p["default_deadline"],
        baseline_note=p["baseline_note"],
        summary_source=p.get("summary_source", ""),
        deadline_note=p.get("deadline_note", ""),
        priorities=priorities,
        targets=targets,
        partnership_measures=measures,
        path=path,
        **extras,
    )


# --- loading --------------------------------------------------------------------------------------


PLAN_DIR = "plan"
PLAN_HOWTO = "docs/PLAN_FILE.md"


def plan_file_name(borough_code: str | None = None) -> str:
    """``<borough code>.toml``: the configured borough's plan file name."""
    return f"{borough_code or settings().borough_code}.toml"


def default_path() -> Path:
    """``<data dir>/plan/<borough code>.toml``, or the repository's copy when the data dir has none.
    The path may not exist: then the borough has no plan (:func:`load_plan` gives :func:`no_plan`)."""
    name = plan_file_name()
    path = settings().data_dir / PLAN_DIR / name
    return path if path.exists() else REPO_ROOT / "data" / PLAN_DIR / name


plan_path = default_path  # the name the UI cache uses


def no_plan_message(borough_name: str | None = None, borough_code: str | None = None) -> str:
    """What a targets part of a page says when the borough has no plan file."""
    cfg = settings()
    name, code = borough_name or cfg.borough_name, borough_code or cfg.borough_code
    return (
        f"No Community Safety Plan is loaded for {name}, so there are no targets to show. To add one, "
        f"write the partnership's plan as data/plan/{code}.toml ({PLAN_HOWTO} describes the format; "
        "data/plan/E09000030.toml is a complete example)."
    )


def no_plan() -> Plan:
    """The plan of a borough without a plan file: the dashboard's four priorities by title only, no
    targets, no partnership measures, no previous plan, no help contacts. ``loaded`` is False."""
    from csp_data.plan import measures

    cfg = settings()
    message = no_plan_message(cfg.borough_name, cfg.borough_code)
    sv = measures.get(SERIOUS_VIOLENCE)
    return Plan(
        title=f"{cfg.borough_name}: no Community Safety Plan loaded",
        years="",
        source="",
        adopted="",
        default_baseline="FY2024-25",
        default_deadline="FY2027-28",
        baseline_note="",
        priorities=tuple(
            Priority(number=n, title=t, context="", focus=(), summary=message, actions=(), subgroup="")
            for n, t in measures.PRIORITIES.items()
        ),
        targets=(),
        partnership_measures=(),
        definitions={SERIOUS_VIOLENCE: Definition(SERIOUS_VIOLENCE, sv.label, sv.definition, "", sv.beside)},
        loaded=False,
    )


_CACHE: dict[tuple[str, int, frozenset[str] | None], Plan] = {}


def load_plan(path: Path | None = None, known_police_measures: Iterable[str] | None = None) -> Plan:
    """Load and validate the plan file (cached until the file changes). Raises :class:`PlanError`."""
    if path is None and not default_path().exists():
        return no_plan()
    path = Path(path) if path is not None else default_path()
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        raise PlanError(f"{path}: the plan file is missing") from None
    known = None if known_police_measures is None else frozenset(known_police_measures)
    key = (str(path.resolve()), mtime, known)
    if key not in _CACHE:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as e:
            raise PlanError(f"{path}: not UTF-8 text ({e})") from None
        _CACHE[key] = parse_plan(text, path, known)
    return _CACHE[key]
