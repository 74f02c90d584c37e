"""Writes of a practice's own care-plan templates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from careplans.content import ContentError
from careplans.models import CarePlanTemplate
from careplans.plan_templates import (
    parse_prefixes,
    parse_template_goal,
    parse_template_intervention,
)
from careplans.services.guards import invalid_content, require_same_practice
from ccm.audit import AuditEvent, audit_record
from ccm.errors import InvalidState, PermissionDenied
from ccm.models import Membership, Practice
from ccm.permissions import can_draft_care_plan
from patients.services.guards import clean_or_raise

TEMPLATE_MESSAGE = "Only care coordinators and physicians manage care-plan templates."


def _fields(
    *,
    name: str,
    icd10_prefixes: Sequence[str],
    symptom_management: str,
    goals: Sequence[Mapping[str, Any]],
    interventions: Sequence[Mapping[str, Any]],
    sources: str,
) -> dict[str, Any]:
    if not name.strip():
        raise InvalidState("Give the template a name.", field="name")
    try:
        prefixes = list(parse_prefixes(icd10_prefixes))
        parsed_goals = [parse_template_goal(goal) for goal in goals]
        parsed_interventions = [parse_template_intervention(item) for item in interventions]
    except ContentError as exc:
        raise invalid_content(exc) from exc
    if not parsed_goals:
        raise InvalidState("A template needs at least one measurable goal.", field="goals")
    return {
        "name": name.strip(),
        "icd10_prefixes": prefixes,
        "symptom_management": symptom_management.strip(),
        "goals": [
            {
                "goal": goal.goal,
                "measure": goal.measure,
                "target": goal.target,
                "target_in_days": goal.target_in_days,
            }
            for goal in parsed_goals
        ],
        "interventions": [
            {
                "intervention": item.intervention,
                "responsible_role": item.responsible_role,
                "frequency": item.frequency,
            }
            for item in parsed_interventions
        ],
        "sources": sources.strip(),
    }


def _name_free(*, practice: Practice, name: str, template: CarePlanTemplate | None) -> None:
    clash = CarePlanTemplate.objects.for_practice(practice).filter(name__iexact=name.strip())
    if template is not None:
        clash = clash.exclude(pk=template.pk)
    if clash.exists():
        raise InvalidState("The practice already has a template with this name.", field="name")


@transaction.atomic
def care_plan_template_create(
    *,
    practice: Practice,
    actor: Membership,
    name: str,
    icd10_prefixes: Sequence[str],
    symptom_management: str,
    goals: Sequence[Mapping[str, Any]],
    interventions: Sequence[Mapping[str, Any]],
    sources: str = "",
) -> CarePlanTemplate:
    require_same_practice(practice=practice, actor=actor, objs=())
    if not can_draft_care_plan(actor):
        raise PermissionDenied(TEMPLATE_MESSAGE)
    fields = _fields(
        name=name,
        icd10_prefixes=icd10_prefixes,
        symptom_management=symptom_management,
        goals=goals,
        interventions=interventions,
        sources=sources,
    )
    _name_free(practice=practice, name=name, template=None)
    template = CarePlanTemplate(practice=practice, created_by=actor, **fields)
    clean_or_raise(template)
    template.save()
    audit_record(
        practice=practice,
        actor=actor,
        event=AuditEvent.CARE_PLAN_TEMPLATE_CREATED,
        obj=template,
        changes={"name": template.name, "icd10_prefixes": template.icd10_prefixes},
    )
    return template


@transaction.atomic
def care_plan_template_update(
    *,
    practice: Practice,
    actor: Membership,
    template: CarePlanTemplate,
    name: str,
    icd10_prefixes: Sequence[str],
    symptom_management: str,
    goals: Sequence[Mapping[str, Any]],
    interventions: Sequence[Mapping[str, Any]],
    sources: str = "",
    is_active: bool = True,
) -> CarePlanTemplate:
    require_same_practice(practice=practice, actor=actor, objs=(template,))
    if not can_draft_care_plan(actor):
        raise PermissionDenied(TEMPLATE_MESSAGE)
    fields = _fields(
        name=name,
        icd10_prefixes=icd10_prefixes,
        symptom_management=symptom_management,
        goals=goals,
        interventions=interventions,
        sources=sources,
    )
    _name_free(practice=practice, name=name, template=template)
    fields["is_active"] = is_active
    changed = {
        key: [getattr(template, key), value]
        for key, value in fields.items()
        if getattr(template, key) != value
    }
    if not changed:
        return template
    for key, value in fields.items():
        setattr(template, key, value)
    template.updated_at = timezone.now()
    clean_or_raise(template)
    template.save()
    audit_record(
        practice=practice,
        actor=actor,
        event=AuditEvent.CARE_PLAN_TEMPLATE_UPDATED,
        obj=template,
        changes={
            key: change
            for key, change in changed.items()
            if key in ("name", "is_active", "icd10_prefixes")
        }
        | {"fields": sorted(changed)},
    )
    return template
