"""What a care-plan version holds, checked, compared and fingerprinted, without the database.

A version's content is its narrative fields (one per R-PLAN-2 element) plus three lists stored
as JSON arrays of typed items: the problem list (each item names one of the patient's
conditions), the measurable goals and the planned interventions. Every item carries a ``key``
(a UUID) that a revision keeps, so two versions can be compared item by item.

``missing_elements`` names what a version lacks with the R-PLAN-2 element names that billing
reports (``W_CARE_PLAN_INCOMPLETE``); ``diff`` is the physician's "what changed since the
last signed version"; ``content_digest`` is the SHA-256 recorded with the signature.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import models


class GoalStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    MET = "met", "Met"
    NOT_MET = "not_met", "Not met"
    DISCONTINUED = "discontinued", "Discontinued"


class ResponsibleRole(models.TextChoices):
    """Who carries out an intervention (the 2015 list: "individuals responsible for each")."""

    BILLING_PRACTITIONER = "billing_practitioner", "Billing practitioner"
    CARE_COORDINATOR = "care_coordinator", "Care coordinator (RN, LPN, MA)"
    PATIENT = "patient", "Patient"
    CAREGIVER = "caregiver", "Caregiver"
    PHARMACIST = "pharmacist", "Pharmacist"
    SPECIALIST = "specialist", "Specialist"
    COMMUNITY_AGENCY = "community_agency", "Community agency"
    OTHER = "other", "Other"


# The narrative fields of a version, in the order the plan shows them, with their labels.
TEXT_FIELDS: tuple[tuple[str, str], ...] = (
    ("expected_outcome", "Expected outcome"),
    ("prognosis", "Prognosis"),
    ("symptom_management", "Symptom management"),
    ("medication_management", "Medication management"),
    ("cognitive_assessment", "Cognitive assessment"),
    ("functional_assessment", "Functional assessment"),
    ("environmental_evaluation", "Environmental evaluation"),
    ("caregiver_assessment", "Caregiver assessment"),
    ("community_services", "Community and social services"),
    ("care_coordination", "Coordination with outside practitioners and agencies"),
    ("review_schedule", "Schedule for periodic review"),
    ("revision_note", "What this revision changes"),
)
TEXT_FIELD_NAMES: tuple[str, ...] = tuple(name for name, _ in TEXT_FIELDS)
TEXT_FIELD_LABELS: dict[str, str] = dict(TEXT_FIELDS)

# R-PLAN-2 element names, exactly as billing reports them (SCENARIO_FORMAT ``missing_elements``),
# each with the fields that must be filled in for the element to be present. "Medication
# management" and "community/social services ordered" come from the original 2015 list, which
# RULES.md asks to store as well; the current list's "medical management" is the same field.
PROBLEM_LIST = "problem list"
EXPECTED_OUTCOME_AND_PROGNOSIS = "expected outcome and prognosis"
MEASURABLE_TREATMENT_GOALS = "measurable treatment goals"
COGNITIVE_AND_FUNCTIONAL_ASSESSMENT = "cognitive and functional assessment"
SYMPTOM_MANAGEMENT = "symptom management"
PLANNED_INTERVENTIONS = "planned interventions"
MEDICATION_MANAGEMENT = "medication management"
ENVIRONMENTAL_EVALUATION = "environmental evaluation"
CAREGIVER_ASSESSMENT = "caregiver assessment"
COMMUNITY_SERVICES = "community/social services ordered"
CARE_COORDINATION = (
    "interaction and coordination with outside resources, practitioners and providers"
)
PERIODIC_REVIEW = "requirements for periodic review"

ELEMENT_TEXT_FIELDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (EXPECTED_OUTCOME_AND_PROGNOSIS, ("expected_outcome", "prognosis")),
    (COGNITIVE_AND_FUNCTIONAL_ASSESSMENT, ("cognitive_assessment", "functional_assessment")),
    (SYMPTOM_MANAGEMENT, ("symptom_management",)),
    (MEDICATION_MANAGEMENT, ("medication_management",)),
    (ENVIRONMENTAL_EVALUATION, ("environmental_evaluation",)),
    (CAREGIVER_ASSESSMENT, ("caregiver_assessment",)),
    (COMMUNITY_SERVICES, ("community_services",)),
    (CARE_COORDINATION, ("care_coordination",)),
    (PERIODIC_REVIEW, ("review_schedule",)),
)

# Every element in the order of R-PLAN-2 (the order ``missing_elements`` reports them in).
ELEMENTS: tuple[str, ...] = (
    PROBLEM_LIST,
    EXPECTED_OUTCOME_AND_PROGNOSIS,
    MEASURABLE_TREATMENT_GOALS,
    COGNITIVE_AND_FUNCTIONAL_ASSESSMENT,
    SYMPTOM_MANAGEMENT,
    PLANNED_INTERVENTIONS,
    MEDICATION_MANAGEMENT,
    ENVIRONMENTAL_EVALUATION,
    CAREGIVER_ASSESSMENT,
    COMMUNITY_SERVICES,
    CARE_COORDINATION,
    PERIODIC_REVIEW,
)


class ContentError(ValueError):
    """Content that a version may not hold. ``field`` names the input, for forms and the API."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def new_key() -> str:
    return str(uuid.uuid4())


def _text(raw: Mapping[str, Any], name: str, *, limit: int) -> str:
    value = raw.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ContentError(f"{name} must be text.", field=name)
    value = value.strip()
    if len(value) > limit:
        raise ContentError(f"{name} is longer than {limit} characters.", field=name)
    return value


def _key(raw: Mapping[str, Any]) -> str:
    value = raw.get("key") or new_key()
    try:
        return str(uuid.UUID(str(value)))
    except ValueError as exc:
        raise ContentError("An item's key must be a UUID.", field="key") from exc


def _date(raw: Mapping[str, Any], name: str) -> dt.date | None:
    value = raw.get(name)
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise ContentError(f"{name} must be a date (YYYY-MM-DD).", field=name) from exc


@dataclass(frozen=True, slots=True)
class Problem:
    """One entry of the problem list: a condition of the patient, named as it was when listed."""

    key: str
    condition: str  # the Condition's public id
    code: str
    description: str
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "condition": self.condition,
            "code": self.code,
            "description": self.description,
            "note": self.note,
        }

    @property
    def label(self) -> str:
        return f"{self.code} {self.description}".strip()


@dataclass(frozen=True, slots=True)
class Goal:
    """A measurable treatment goal: what, measured how, to which target, by when."""

    key: str
    goal: str
    measure: str
    target: str
    target_date: dt.date | None = None
    status: str = GoalStatus.NOT_STARTED
    condition: str = ""  # a Condition's public id when the goal belongs to one problem

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "goal": self.goal,
            "measure": self.measure,
            "target": self.target,
            "target_date": self.target_date.isoformat() if self.target_date else None,
            "status": self.status,
            "condition": self.condition,
        }

    @property
    def status_label(self) -> str:
        return str(GoalStatus(self.status).label)


@dataclass(frozen=True, slots=True)
class Intervention:
    """A planned intervention and who is responsible for it."""

    key: str
    intervention: str
    responsible_role: str
    responsible_name: str = ""
    frequency: str = ""
    condition: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "intervention": self.intervention,
            "responsible_role": self.responsible_role,
            "responsible_name": self.responsible_name,
            "frequency": self.frequency,
            "condition": self.condition,
        }

    @property
    def responsible_label(self) -> str:
        role = str(ResponsibleRole(self.responsible_role).label)
        return f"{role}: {self.responsible_name}" if self.responsible_name else role


def parse_problem(raw: Mapping[str, Any]) -> Problem:
    condition = _text(raw, "condition", limit=64)
    if not condition:
        raise ContentError("Each problem names one of the patient's conditions.", field="problems")
    return Problem(
        key=_key(raw),
        condition=condition,
        code=_text(raw, "code", limit=8),
        description=_text(raw, "description", limit=255),
        note=_text(raw, "note", limit=1000),
    )


def parse_goal(raw: Mapping[str, Any]) -> Goal:
    """A goal from a form or API row; refuses a goal that cannot be measured."""
    goal = _text(raw, "goal", limit=500)
    measure = _text(raw, "measure", limit=300)
    target = _text(raw, "target", limit=200)
    if not goal:
        raise ContentError("Each goal needs a description.", field="goals")
    if not measure:
        raise ContentError(
            f"The goal “{goal}” has no measure: say how progress is measured "
            "(for example “HbA1c”).",
            field="goals",
        )
    if not target:
        raise ContentError(
            f"The goal “{goal}” has no target: say what counts as reaching it "
            "(for example “below 8 %”).",
            field="goals",
        )
    status = _text(raw, "status", limit=20) or GoalStatus.NOT_STARTED
    if status not in GoalStatus.values:
        raise ContentError(f"“{status}” is not a goal status.", field="goals")
    return Goal(
        key=_key(raw),
        goal=goal,
        measure=measure,
        target=target,
        target_date=_date(raw, "target_date"),
        status=status,
        condition=_text(raw, "condition", limit=64),
    )


def parse_intervention(raw: Mapping[str, Any]) -> Intervention:
    """An intervention from a form or API row; refuses one that nobody is responsible for."""
    text = _text(raw, "intervention", limit=500)
    if not text:
        raise ContentError("Each intervention needs a description.", field="interventions")
    role = _text(raw, "responsible_role", limit=30)
    if role not in ResponsibleRole.values:
        raise ContentError(
            f"Say who is responsible for “{text}”.",
            field="interventions",
        )
    return Intervention(
        key=_key(raw),
        intervention=text,
        responsible_role=role,
        responsible_name=_text(raw, "responsible_name", limit=200),
        frequency=_text(raw, "frequency", limit=200),
        condition=_text(raw, "condition", limit=64),
    )


def _unique_keys(items: Sequence[Problem | Goal | Intervention], field_name: str) -> None:
    keys = [item.key for item in items]
    if len(keys) != len(set(keys)):
        raise ContentError("Two items share one key.", field=field_name)


@dataclass(frozen=True, slots=True)
class PlanContent:
    """Everything a version says: the narrative fields and the three lists."""

    texts: dict[str, str] = field(default_factory=dict)
    next_review_on: dt.date | None = None
    problems: tuple[Problem, ...] = ()
    goals: tuple[Goal, ...] = ()
    interventions: tuple[Intervention, ...] = ()

    def __post_init__(self) -> None:
        # Every narrative field is always present (blank when not written).
        texts = {name: self.texts.get(name, "") for name in TEXT_FIELD_NAMES}
        object.__setattr__(self, "texts", texts)

    @classmethod
    def parse(
        cls,
        *,
        texts: Mapping[str, Any],
        next_review_on: dt.date | str | None,
        problems: Iterable[Mapping[str, Any]],
        goals: Iterable[Mapping[str, Any]],
        interventions: Iterable[Mapping[str, Any]],
    ) -> PlanContent:
        unknown = set(texts) - set(TEXT_FIELD_NAMES)
        if unknown:
            raise ContentError(f"Unknown field {sorted(unknown)[0]}.", field=sorted(unknown)[0])
        content = cls(
            texts={name: _text(texts, name, limit=5000) for name in TEXT_FIELD_NAMES},
            next_review_on=_date({"next_review_on": next_review_on}, "next_review_on"),
            problems=tuple(parse_problem(raw) for raw in problems),
            goals=tuple(parse_goal(raw) for raw in goals),
            interventions=tuple(parse_intervention(raw) for raw in interventions),
        )
        _unique_keys(content.problems, "problems")
        _unique_keys(content.goals, "goals")
        _unique_keys(content.interventions, "interventions")
        conditions = [problem.condition for problem in content.problems]
        if len(conditions) != len(set(conditions)):
            raise ContentError("A condition is on the problem list twice.", field="problems")
        return content

    @classmethod
    def of(cls, version: Any) -> PlanContent:
        """The content stored on a ``CarePlanVersion`` (already valid: it was parsed on save)."""
        return cls.parse(
            texts={name: getattr(version, name) for name in TEXT_FIELD_NAMES},
            next_review_on=version.next_review_on,
            problems=version.problems,
            goals=version.goals,
            interventions=version.interventions,
        )

    def as_fields(self) -> dict[str, Any]:
        """Model field values: narrative fields, review date and the JSON lists."""
        return {
            **self.texts,
            "next_review_on": self.next_review_on,
            "problems": [problem.to_json() for problem in self.problems],
            "goals": [goal.to_json() for goal in self.goals],
            "interventions": [item.to_json() for item in self.interventions],
        }


def missing_elements(content: PlanContent) -> list[str]:
    """R-PLAN-2 elements the content lacks, in R-PLAN-2 order.

    A plan without measurable goals is flagged (Noridian expects them); goals are measurable
    by construction (``parse_goal`` refuses one without a measure or a target).
    """
    present: dict[str, bool] = {
        PROBLEM_LIST: bool(content.problems),
        MEASURABLE_TREATMENT_GOALS: any(goal.measure and goal.target for goal in content.goals),
        PLANNED_INTERVENTIONS: bool(content.interventions),
    }
    for element, names in ELEMENT_TEXT_FIELDS:
        present[element] = all(content.texts.get(name, "").strip() for name in names)
    return [element for element in ELEMENTS if not present[element]]


def content_digest(content: PlanContent) -> str:
    """SHA-256 of the content in a canonical JSON form: what the signature covers."""
    canonical = json.dumps(
        {**content.as_fields(), "next_review_on": str(content.next_review_on or "")},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# --- Comparing two versions ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldChange:
    name: str
    label: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class ItemChange:
    """One list item added, removed or changed; ``fields`` lists what changed in it."""

    kind: str  # "added", "removed", "changed"
    before: Problem | Goal | Intervention | None
    after: Problem | Goal | Intervention | None
    fields: tuple[str, ...] = ()

    @property
    def item(self) -> Problem | Goal | Intervention:
        item = self.after if self.after is not None else self.before
        assert item is not None  # noqa: S101  (an ItemChange always has one side)
        return item


@dataclass(frozen=True, slots=True)
class VersionDiff:
    fields: tuple[FieldChange, ...]
    problems: tuple[ItemChange, ...]
    goals: tuple[ItemChange, ...]
    interventions: tuple[ItemChange, ...]

    @property
    def is_empty(self) -> bool:
        return not (self.fields or self.problems or self.goals or self.interventions)

    def summary(self) -> dict[str, Any]:
        """A compact form for the audit log."""
        return {
            "fields": [change.name for change in self.fields],
            **{
                name: {
                    kind: [change.item.key for change in changes if change.kind == kind]
                    for kind in ("added", "removed", "changed")
                }
                for name, changes in (
                    ("problems", self.problems),
                    ("goals", self.goals),
                    ("interventions", self.interventions),
                )
            },
        }


_COMPARED: dict[type, tuple[str, ...]] = {
    Problem: ("code", "description", "note"),
    Goal: ("goal", "measure", "target", "target_date", "status", "condition"),
    Intervention: (
        "intervention",
        "responsible_role",
        "responsible_name",
        "frequency",
        "condition",
    ),
}


def _diff_items(
    before: Sequence[Problem | Goal | Intervention], after: Sequence[Problem | Goal | Intervention]
) -> tuple[ItemChange, ...]:
    old = {item.key: item for item in before}
    new = {item.key: item for item in after}
    changes: list[ItemChange] = []
    for item in after:
        previous = old.get(item.key)
        if previous is None:
            changes.append(ItemChange("added", None, item))
            continue
        changed = tuple(
            name for name in _COMPARED[type(item)] if getattr(previous, name) != getattr(item, name)
        )
        if changed:
            changes.append(ItemChange("changed", previous, item, changed))
    changes.extend(ItemChange("removed", item, None) for item in before if item.key not in new)
    return tuple(changes)


def diff(before: PlanContent | None, after: PlanContent) -> VersionDiff:
    """What ``after`` changes relative to ``before`` (everything is "added" when no base)."""
    base = before or PlanContent(texts=dict.fromkeys(TEXT_FIELD_NAMES, ""))
    field_changes = [
        FieldChange(name, TEXT_FIELD_LABELS[name], base.texts.get(name, ""), after.texts[name])
        for name in TEXT_FIELD_NAMES
        if base.texts.get(name, "") != after.texts[name]
    ]
    if base.next_review_on != after.next_review_on:
        field_changes.append(
            FieldChange(
                "next_review_on",
                "Next review",
                str(base.next_review_on or ""),
                str(after.next_review_on or ""),
            )
        )
    return VersionDiff(
        fields=tuple(field_changes),
        problems=_diff_items(base.problems, after.problems),
        goals=_diff_items(base.goals, after.goals),
        interventions=_diff_items(base.interventions, after.interventions),
    )
