"""The measure catalogue: every headline police-recorded measure defined once.

A measure says which source and categories it counts, which plan priority it serves, which way
is better, and the caveat that must travel with it. Queries, scorecard, charts and words all
read this, so "robbery" means one thing everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PRIORITIES = {
    1: "Tackling acquisitive crime and ASB",
    2: "Tackling violence",
    3: "Tackling drug supply and substance misuse",
    4: "Tackling hate crime and improving community cohesion",
}

MPS_CRIME = "MPS recorded crime (London Datastore), borough level"
MPS_DASHBOARD = "MPS Monthly Crime Dashboard (London Datastore)"
MPS_BUSINESS = "MPS Business Crime Dashboard (London Datastore)"


@dataclass(frozen=True)
class Measure:
    id: str
    label: str
    priority: int
    source: str  # "crime" | "dashboard" | "business"
    majors: tuple[str, ...] = ()
    minors: tuple[str, ...] = ()
    dashboard: tuple[str, str, str] | None = None  # (crime_type, crime_subtype, measure)
    sections: tuple[str, ...] = ()  # business crime sections (empty = all)
    lower_is_better: bool | None = True
    plan_target: str = ""
    caveat: str = ""
    definition: str = ""
    london_rank: bool = field(default=True)
    parts: tuple[tuple[str, int], ...] = ()  # source "composite": (measure id, +1 or -1) summed by month
    part_labels: tuple[tuple[str, tuple[str, ...]], ...] = ()  # composite breakdown rows: (label, part ids)
    beside: tuple[str, ...] = ()  # measures shown beside a composite, labelled, not summed (overlap)
    short_definition: str = ""  # one line for tiles where the full definition is too long

    @property
    def dashboard_key(self) -> tuple[str, str, str]:
        """(crime type, crime subtype, measure) of a measure read from the MPS dashboard."""
        if self.dashboard is None:
            raise ValueError(f"measure {self.id!r} is not read from the MPS dashboard")
        return self.dashboard

    @property
    def source_name(self) -> str:
        if self.source == "composite":
            return " + ".join(dict.fromkeys(get(pid).source_name for pid, _ in self.parts))
        return {"crime": MPS_CRIME, "dashboard": MPS_DASHBOARD, "business": MPS_BUSINESS}[self.source]


def __getattr__(name: str):
    """``CONNECT_BREAK``: the CONNECT recording change's caveat, read from the one home of series
    breaks (``data/plan/series_breaks.csv`` via :mod:`csp_data.plan.breaks`), not written here."""
    if name == "CONNECT_BREAK":
        from csp_data.plan.breaks import get as get_break

        return get_break("connect").caveat
    raise AttributeError(name)


SERIOUS_VIOLENCE_DEFINITION = (
    "Serious violence = MPS recorded crime HOMICIDE + VIOLENCE WITH INJURY (borough level) + knife crime not in "
    "those categories from the MPS Monthly Crime Dashboard: knife crime without injury (all knife crime minus "
    "knife crime with injury: knife-point robbery, threats and other offences where a knife was used or "
    "threatened without injury) + knife crime with injury in personal robbery (recorded as robbery, not violence "
    "with injury). No offence is counted twice: knife crime with injury other than robbery is already in "
    "homicide or violence with injury. Gun crime is shown beside it, not added, because the dashboard does not "
    "say which gun crimes are already in violence with injury. Held from Aug 2021, when the dashboard starts."
)

MEASURES: tuple[Measure, ...] = (
    Measure(
        "robbery",
        "Robbery",
        1,
        "crime",
        majors=("ROBBERY",),
        definition="MPS ROBBERY: robbery of personal property + robbery of business property",
        plan_target="Down 7% by 2028",
    ),
    Measure(
        "burglary",
        "Burglary",
        1,
        "crime",
        majors=("BURGLARY",),
        definition="MPS BURGLARY: residential (incl. the former DOMESTIC BURGLARY) + business and community",
        caveat="",
    ),  # the 2023 re-categorisation is a series break: data/plan/series_breaks.csv
    Measure(
        "theft",
        "Theft",
        1,
        "crime",
        majors=("THEFT",),
        definition="MPS THEFT: other theft, theft from the person, shoplifting, bicycle theft",
    ),
    Measure(
        "vehicle",
        "Vehicle crime",
        1,
        "crime",
        majors=("VEHICLE OFFENCES",),
        definition="MPS VEHICLE OFFENCES: theft of and from vehicles, interfering, aggravated taking",
    ),
    Measure(
        "business",
        "Business crime",
        1,
        "business",
        definition="MPS business crime offences, all crime sections",
        plan_target="Down 5% by 2028",
        caveat="A separate MPS dashboard with its own refresh date; counts offences against businesses.",
    ),
    Measure(
        "violence_injury",
        "Violence with injury",
        2,
        "crime",
        minors=("VIOLENCE WITH INJURY",),
        definition="MPS VIOLENCE AGAINST THE PERSON: VIOLENCE WITH INJURY",
    ),
    Measure(
        "serious_violence",
        "Serious violence",
        2,
        "composite",
        parts=(
            ("homicide", 1),
            ("violence_injury", 1),
            ("knife_crime", 1),
            ("knife_injury", -1),
            ("knife_robbery_injury", 1),
        ),
        part_labels=(
            ("Homicide (MPS recorded crime)", ("homicide",)),
            ("Violence with injury (MPS recorded crime)", ("violence_injury",)),
            (
                "Knife crime without injury (dashboard: knife crime minus knife crime with injury)",
                ("knife_crime", "knife_injury"),
            ),
            ("Knife crime with injury in personal robbery (dashboard)", ("knife_robbery_injury",)),
        ),
        beside=("gun_crime", "knife_injury"),
        definition=SERIOUS_VIOLENCE_DEFINITION,
        short_definition="Homicide + violence with injury + knife crime not already in them (without injury, or "
        "robbery with injury); gun crime shown beside, not added.",
        plan_target="Down 15% by 2028",
        caveat="The plan does not define serious violence; this definition is the dashboard's and is shown "
        "wherever the figure is. Gun crime is shown beside it, not added: the dashboard does not split "
        "gun crime with injury (already in violence with injury) from the rest.",
        london_rank=False,
    ),
    Measure(
        "knife_crime",
        "Knife crime",
        2,
        "dashboard",
        dashboard=("Knife Crime", "Knife Crime", "Offences"),
        definition="MPS dashboard: knife crime offences (all)",
    ),
    Measure(
        "knife_injury",
        "Knife crime with injury",
        2,
        "dashboard",
        dashboard=("Knife Crime", "Knife Crime with Injury", "Offences"),
        definition="MPS dashboard: knife crime with injury offences",
    ),
    Measure(
        "gun_crime",
        "Gun crime",
        2,
        "dashboard",
        dashboard=("Gun Crime", "Gun Crime", "Offences"),
        definition="MPS dashboard: gun crime offences (firearms used or threatened)",
    ),
    Measure(
        "rape",
        "Rape",
        2,
        "crime",
        minors=("RAPE",),
        lower_is_better=None,
        definition="MPS SEXUAL OFFENCES: RAPE",
        caveat="Under-reported: a rise can reflect more victims coming forward.",
    ),
    Measure(
        "domestic_abuse",
        "Domestic abuse",
        2,
        "dashboard",
        dashboard=("Domestic Abuse", "Domestic Abuse", "Offences"),
        lower_is_better=None,
        definition="MPS dashboard: domestic abuse flagged offences",
        caveat="More reports can mean more confidence to report; read alongside outcomes.",
    ),
    Measure(
        "drug_trafficking",
        "Drug trafficking",
        3,
        "crime",
        minors=("TRAFFICKING OF DRUGS",),
        definition="MPS DRUG OFFENCES: TRAFFICKING OF DRUGS",
        lower_is_better=None,
        plan_target="Down 15% by 2028",
        caveat="Driven by police activity: more enforcement finds more offences, so a fall is not "
        "automatically good news.",
    ),
    Measure(
        "drug_possession",
        "Drug possession",
        3,
        "crime",
        minors=("POSSESSION OF DRUGS",),
        definition="MPS DRUG OFFENCES: POSSESSION OF DRUGS",
        lower_is_better=None,
        caveat="Driven by police activity (stop and search, patrols).",
    ),
    Measure(
        "weapons",
        "Possession of weapons",
        3,
        "crime",
        majors=("POSSESSION OF WEAPONS",),
        definition="MPS POSSESSION OF WEAPONS",
        lower_is_better=None,
        caveat="Largely found through police activity.",
    ),
    Measure(
        "hate_crime",
        "Hate crime",
        4,
        "dashboard",
        dashboard=("Hate crime", "Hate crime", "Offences"),
        lower_is_better=None,
        definition="MPS dashboard: hate crime offences (all strands)",
        caveat="The plan aims to raise reporting of under-reported hate crime, so a rise is not simply bad.",
    ),
)

# Parts of composite measures that are not headline measures themselves (not on the scorecard).
COMPONENTS: tuple[Measure, ...] = (
    Measure(
        "homicide",
        "Homicide",
        2,
        "crime",
        minors=("HOMICIDE",),
        definition="MPS VIOLENCE AGAINST THE PERSON: HOMICIDE",
    ),
    Measure(
        "knife_robbery_injury",
        "Knife crime with injury in personal robbery",
        2,
        "dashboard",
        dashboard=("Knife Crime", "Knife Crime with Injury (Personal Robbery)", "Offences"),
        definition="MPS dashboard: knife crime with injury, personal robbery",
    ),
)

BY_ID = {m.id: m for m in MEASURES + COMPONENTS}

# Each priority's measures, in the order its page shows them (tiles, measure picker): every headline
# measure of that priority, once (tests/test_measures.py checks this against ``Measure.priority``).
PRIORITY_MEASURES: dict[int, tuple[str, ...]] = {
    1: ("robbery", "burglary", "theft", "vehicle", "business"),
    2: (
        "serious_violence",
        "violence_injury",
        "knife_crime",
        "knife_injury",
        "gun_crime",
        "domestic_abuse",
        "rape",
    ),
    3: ("drug_trafficking", "drug_possession", "weapons"),
    4: ("hate_crime",),
}

# The measures the public summary explains in plain words, priority by priority.
PUBLIC_HEADLINES = frozenset(
    {
        "robbery",
        "burglary",
        "theft",
        "vehicle",
        "serious_violence",
        "knife_crime",
        "domestic_abuse",
        "drug_trafficking",
        "weapons",
        "hate_crime",
    }
)


def priority_measures(number: int) -> list[str]:
    """The measure ids of priority ``number``'s page, in the order shown (empty for an unknown number)."""
    return list(PRIORITY_MEASURES.get(number, ()))


def public_headlines(number: int) -> list[str]:
    """The measure ids the public summary explains for priority ``number``, in page order."""
    return [i for i in priority_measures(number) if i in PUBLIC_HEADLINES]


def get(measure_id: str) -> Measure:
    try:
        return BY_ID[measure_id]
    except KeyError:
        raise KeyError(f"unknown measure {measure_id!r}; known: {', '.join(BY_ID)}") from None
