"""Words and shapes for people: reasons in plain words, what would fix them, names, charts.

Pure functions (no database): the close stores their output with each record, and pages and
reports render it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from billing.facts import UNASSIGNED, Person
from billing.rules import (
    MIN_CHRONIC_CONDITIONS,
    STAFF_BASE_MINUTES,
    MonthDecision,
    NotBillableReason,
    PatientMonthFacts,
)

_NB = NotBillableReason

#: Each not-billable reason in plain words (the worklist's "reason" column).
REASON_LABELS: Mapping[str, str] = {
    _NB.NB_ELIG_CONDITIONS: "Fewer than two chronic conditions",
    _NB.NB_NOT_ELIGIBLE_COVERAGE: "Not covered by Medicare Part B fee-for-service",
    _NB.NB_CONFLICT_HH_HOSPICE_ESRD: "Home-health, hospice or dialysis service billed",
    _NB.NB_OTHER_CCM_PRACTITIONER: "Another practitioner bills CCM",
    _NB.NB_CONFLICT_PCM_SAME_PRACTITIONER: "Principal care management billed instead",
    _NB.NB_CONFLICT_APCM_SAME_PRACTITIONER: "Advanced primary care management billed instead",
    _NB.NB_CONSENT_MISSING: "Consent missing",
    _NB.NB_CONSENT_REVOKED: "Consent revoked",
    _NB.NB_INITIATING_VISIT: "Initiating visit missing",
    _NB.NB_CARE_PLAN_MISSING: "No signed care plan",
    _NB.NB_CARE_PLAN_COPY_MISSING: "Care-plan copy not given",
    _NB.NB_TIME_BELOW_THRESHOLD: "Not enough time",
}

_PERSON_ID = re.compile(
    r"\b(?:m-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|npi-\d{10}"
    r"|outside-[a-z0-9-]+|" + UNASSIGNED + r")\b"
)


# A cheap first look: most sentences name nobody.
_NAMES_SOMEONE = re.compile(r"m-|npi-|outside-|" + UNASSIGNED)


def reason_label(reason: str) -> str:
    """The plain words of an ``NB_*`` code (the code itself when unknown)."""
    return REASON_LABELS.get(reason, reason)


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def humanize(sentences: Iterable[str], people: Mapping[str, Person]) -> list[str]:
    """The engine's sentences with person ids replaced by names ("Dr. Samuel Okafor")."""

    def name(match: re.Match[str]) -> str:
        person_id = match.group(0)
        if person_id == UNASSIGNED:
            return "no billing practitioner"
        person = people.get(person_id)
        return person.name if person is not None else person_id

    return [
        _PERSON_ID.sub(name, sentence) if _NAMES_SOMEONE.search(sentence) else sentence
        for sentence in sentences
    ]


def fix_for(
    *, facts: PatientMonthFacts, decision: MonthDecision, people: Mapping[str, Person]
) -> str:
    """What would make a blocked month billable, in plain words ("8 more minutes")."""
    reason = decision.reason
    biller = people.get(facts.billing_practitioner)
    who = biller.name if biller is not None else "the billing practitioner"
    if reason == _NB.NB_TIME_BELOW_THRESHOLD:
        missing = STAFF_BASE_MINUTES - decision.counted_minutes
        return (
            f"{plural(missing, 'more minute')} of care management "
            f"({decision.counted_minutes} of {STAFF_BASE_MINUTES} counted)"
        )
    if reason == _NB.NB_ELIG_CONDITIONS:
        chronic = len({c.code for c in facts.conditions if c.chronic and c.active})
        more = MIN_CHRONIC_CONDITIONS - chronic
        return f"Attest {plural(more, 'more active chronic condition')} on the problem list"
    if reason == _NB.NB_CONSENT_MISSING:
        if facts.billing_practitioner == UNASSIGNED:
            return "Consent missing: choose a billing practitioner and record the consent"
        return f"Consent missing: record the patient's consent to {who}"
    return _FIXES.get(reason, lambda name: "Review the explanation")(who)


_FIXES: Mapping[str | None, Callable[[str], str]] = {
    _NB.NB_NOT_ELIGIBLE_COVERAGE: lambda who: (
        "Nothing to fix this month: check the patient's Medicare coverage"
    ),
    _NB.NB_CONFLICT_HH_HOSPICE_ESRD: lambda who: (
        "Nothing to fix: that service excludes CCM for the whole month"
    ),
    _NB.NB_OTHER_CCM_PRACTITIONER: lambda who: (
        "Confirm which practice furnishes CCM; only one is paid a month"
    ),
    _NB.NB_CONFLICT_PCM_SAME_PRACTITIONER: lambda who: (
        f"Bill PCM or CCM, not both: void the PCM service if {who} did not bill it"
    ),
    _NB.NB_CONFLICT_APCM_SAME_PRACTITIONER: lambda who: (
        f"Bill APCM or CCM, not both: void the APCM service if {who} did not bill it"
    ),
    _NB.NB_CONSENT_REVOKED: lambda who: (
        f"Consent revoked: record a new consent to {who} if the patient agrees"
    ),
    _NB.NB_INITIATING_VISIT: lambda who: (
        f"Initiating visit missing: {who} sees the patient (E/M, AWV or IPPE) and discusses CCM"
    ),
    _NB.NB_CARE_PLAN_MISSING: lambda who: f"Care plan missing: {who} signs the care plan",
    _NB.NB_CARE_PLAN_COPY_MISSING: lambda who: (
        "Care-plan copy missing: record the date the patient received a copy"
    ),
}


def format_cents(cents: int | None) -> str:
    """``$1,234.56``; an em dash when the amount is unknown."""
    if cents is None:
        return "—"
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}${cents // 100:,}.{cents % 100:02d}"


# --- The history chart: server-rendered SVG, geometry computed here (no inline styles).
CHART_WIDTH = 720
CHART_HEIGHT = 240
_PLOT_TOP = 24
_PLOT_BOTTOM = 200
_PLOT_LEFT = 8
_BAR_GAP = 10
_MIN_SLOTS = 6
_MAX_BAR_WIDTH = 64


@dataclass(frozen=True, slots=True)
class ChartBar:
    label: str
    value_label: str
    x: int
    y: int
    width: int
    height: int
    center: int
    is_closed: bool


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    baseline: int
    bars: tuple[ChartBar, ...]
    title: str


def bar_chart(points: Sequence[tuple[str, int, bool]], *, title: str) -> Chart:
    """Bars for ``(label, cents, is_closed)`` points, oldest first, scaled to the largest.

    At least ``_MIN_SLOTS`` slots, the newest month on the right; bars at most
    ``_MAX_BAR_WIDTH`` wide, so one or two months do not make a wall.
    """
    plot_height = _PLOT_BOTTOM - _PLOT_TOP
    largest = max((cents for _, cents, _ in points), default=0) or 1
    slots = max(len(points), _MIN_SLOTS)
    slot = (CHART_WIDTH - 2 * _PLOT_LEFT) // slots
    width = min(max(slot - _BAR_GAP, 4), _MAX_BAR_WIDTH)
    first_slot = slots - len(points)
    bars = []
    for index, (label, cents, is_closed) in enumerate(points):
        height = round(plot_height * cents / largest)
        x = _PLOT_LEFT + (first_slot + index) * slot + (slot - width) // 2
        bars.append(
            ChartBar(
                label=label,
                value_label=format_cents(cents).split(".")[0] if is_closed else "open",
                x=x,
                y=_PLOT_BOTTOM - height,
                width=width,
                height=height,
                center=x + width // 2,
                is_closed=is_closed,
            )
        )
    return Chart(
        width=CHART_WIDTH, height=CHART_HEIGHT, baseline=_PLOT_BOTTOM, bars=tuple(bars), title=title
    )
