"""Care-plan templates: the built-in data files plus each practice's own, in one shape.

A template names ICD-10-CM prefixes; for each of the patient's conditions whose code starts with
one of them it prefills goals (with measure and target) and interventions (with the
responsible role) and adds its symptom-management advice. The built-in templates live in
``careplans/data/templates/*.json`` (each names its clinical sources); a practice adds its own
as ``CarePlanTemplate`` rows. Keys: ``builtin:<file key>`` and ``practice:<public id>``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from careplans.content import (
    ContentError,
    Goal,
    GoalStatus,
    Intervention,
    ResponsibleRole,
    new_key,
)

if TYPE_CHECKING:
    from careplans.models import CarePlanTemplate

TEMPLATE_DIR = Path(__file__).resolve().parent / "data" / "templates"
TEMPLATE_FORMAT = "ccm-care-plan-template/1"
BUILTIN_PREFIX = "builtin:"
PRACTICE_PREFIX = "practice:"
DEFAULT_TARGET_DAYS = 90
MAX_TARGET_DAYS = 3 * 365


@dataclass(frozen=True, slots=True)
class TemplateGoal:
    goal: str
    measure: str
    target: str
    target_in_days: int = DEFAULT_TARGET_DAYS


@dataclass(frozen=True, slots=True)
class TemplateIntervention:
    intervention: str
    responsible_role: str
    frequency: str = ""


@dataclass(frozen=True, slots=True)
class PlanTemplate:
    key: str
    name: str
    icd10_prefixes: tuple[str, ...]
    symptom_management: str
    goals: tuple[TemplateGoal, ...]
    interventions: tuple[TemplateIntervention, ...]
    sources: tuple[str, ...]
    is_builtin: bool

    def matches(self, code: str) -> bool:
        compact = _compact(code)
        return any(compact.startswith(_compact(prefix)) for prefix in self.icd10_prefixes)

    def goals_for(self, *, condition: str, today: dt.date) -> list[Goal]:
        return [
            Goal(
                key=new_key(),
                goal=goal.goal,
                measure=goal.measure,
                target=goal.target,
                target_date=today + dt.timedelta(days=goal.target_in_days),
                status=GoalStatus.NOT_STARTED,
                condition=condition,
            )
            for goal in self.goals
        ]

    def interventions_for(self, *, condition: str) -> list[Intervention]:
        return [
            Intervention(
                key=new_key(),
                intervention=item.intervention,
                responsible_role=item.responsible_role,
                frequency=item.frequency,
                condition=condition,
            )
            for item in self.interventions
        ]


def _compact(code: str) -> str:
    return code.strip().upper().replace(".", "")


def parse_prefixes(values: Iterable[str]) -> tuple[str, ...]:
    """ICD-10-CM prefixes as written (upper case, dot kept: ``I50``, ``Z68.4``)."""
    prefixes = tuple(value.strip().upper() for value in values if value.strip())
    if not prefixes:
        raise ContentError("Name at least one ICD-10-CM code prefix.", field="icd10_prefixes")
    for prefix in prefixes:
        compact = _compact(prefix)
        if not (compact[0].isalpha() and compact[1:].isalnum() and 2 <= len(compact) <= 7):  # noqa: PLR2004
            raise ContentError(
                f"“{prefix}” is not an ICD-10-CM code prefix (like E11 or I50.2).",
                field="icd10_prefixes",
            )
    return prefixes


def parse_template_goal(raw: Mapping[str, Any]) -> TemplateGoal:
    goal = str(raw.get("goal", "")).strip()
    measure = str(raw.get("measure", "")).strip()
    target = str(raw.get("target", "")).strip()
    if not goal:
        raise ContentError("Each goal needs a description.", field="goals")
    if not measure:
        raise ContentError(f"The goal “{goal}” has no measure.", field="goals")
    if not target:
        raise ContentError(f"The goal “{goal}” has no target.", field="goals")
    days = raw.get("target_in_days", DEFAULT_TARGET_DAYS)
    if not isinstance(days, int) or not 1 <= days <= MAX_TARGET_DAYS:
        raise ContentError(
            f"The goal “{goal}” needs a target between 1 and {MAX_TARGET_DAYS} days away.",
            field="goals",
        )
    return TemplateGoal(goal=goal, measure=measure, target=target, target_in_days=days)


def parse_template_intervention(raw: Mapping[str, Any]) -> TemplateIntervention:
    text = str(raw.get("intervention", "")).strip()
    role = str(raw.get("responsible_role", "")).strip()
    if not text:
        raise ContentError("Each intervention needs a description.", field="interventions")
    if role not in ResponsibleRole.values:
        raise ContentError(
            f"“{text}” needs a responsible role ({', '.join(ResponsibleRole.values)}).",
            field="interventions",
        )
    return TemplateIntervention(
        intervention=text, responsible_role=role, frequency=str(raw.get("frequency", "")).strip()
    )


def _builtin(path: Path) -> PlanTemplate:
    raw = json.loads(path.read_text(encoding="utf-8"))
    if raw.get("format") != TEMPLATE_FORMAT:
        raise ValueError(f"{path.name}: format must be {TEMPLATE_FORMAT}")
    sources = tuple(f"{source['name']} <{source['url']}>" for source in raw["sources"])
    if not sources:
        raise ValueError(f"{path.name}: name the template's sources")
    return PlanTemplate(
        key=BUILTIN_PREFIX + raw["key"],
        name=raw["name"],
        icd10_prefixes=parse_prefixes(raw["icd10_prefixes"]),
        symptom_management=raw["symptom_management"].strip(),
        goals=tuple(parse_template_goal(goal) for goal in raw["goals"]),
        interventions=tuple(parse_template_intervention(item) for item in raw["interventions"]),
        sources=sources,
        is_builtin=True,
    )


@cache
def builtin_templates() -> tuple[PlanTemplate, ...]:
    """The data-file templates, read once per process, in name order."""
    return tuple(
        sorted((_builtin(path) for path in TEMPLATE_DIR.glob("*.json")), key=lambda t: t.name)
    )


def from_practice_template(row: CarePlanTemplate) -> PlanTemplate:
    return PlanTemplate(
        key=f"{PRACTICE_PREFIX}{row.public_id}",
        name=row.name,
        icd10_prefixes=parse_prefixes(row.icd10_prefixes),
        symptom_management=row.symptom_management,
        goals=tuple(parse_template_goal(goal) for goal in row.goals),
        interventions=tuple(parse_template_intervention(item) for item in row.interventions),
        sources=tuple(line.strip() for line in row.sources.splitlines() if line.strip()),
        is_builtin=False,
    )


def templates_matching(
    templates: Sequence[PlanTemplate], codes: Iterable[str]
) -> list[PlanTemplate]:
    """The templates that apply to at least one of ``codes``, in the order of the codes."""
    code_list = list(codes)
    ranked = []
    for template in templates:
        position = next((i for i, code in enumerate(code_list) if template.matches(code)), None)
        if position is not None:
            ranked.append((position, template.name, template))
    return [template for _, _, template in sorted(ranked, key=lambda row: row[:2])]
