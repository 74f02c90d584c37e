"""Writes of care-plan versions: start, revise, edit a draft, send it, sign it, track goals.

R-WHO-7 / R-PLAN-5 decide who may do what: the first version is developed and signed by the
patient's billing practitioner; once a version is signed, coordinators may draft revisions and
keep goals current; only a physician (the billing practitioner) signs. A signed version never
changes: these services refuse it, and so does a database trigger.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from careplans import content as plan_content
from careplans.content import (
    ContentError,
    Goal,
    GoalStatus,
    Intervention,
    PlanContent,
    Problem,
)
from careplans.models import (
    CarePlan,
    CarePlanDocument,
    CarePlanGoalProgress,
    CarePlanVersion,
    DocumentStatus,
    VersionStatus,
)
from careplans.plan_templates import PlanTemplate, templates_matching
from careplans.selectors import (
    care_plan_goal_latest_progress,
    plan_templates_available,
)
from careplans.services.guards import (
    invalid_content,
    require_billing_practitioner,
    require_same_practice,
)
from careplans.signing import confirm_identity
from careplans.tasks import care_plan_document_render_task
from ccm.audit import AuditEvent, audit_record
from ccm.errors import InvalidState, PermissionDenied
from ccm.models import Membership, Practice
from ccm.permissions import can_draft_care_plan, can_sign_care_plan
from patients.models import Condition, Patient
from patients.selectors.common import practice_today
from patients.selectors.records import condition_list
from patients.services.guards import clean_or_raise

DRAFT_MESSAGE = "Only care coordinators and physicians draft care plans."
FIRST_VERSION_REFUSAL = (
    "develops the first care plan (R-WHO-7); coordinators may revise it once it is signed."
)
FIRST_VERSION_MISSING = "Choose the patient's billing practitioner before starting a care plan."


def _lock_version(*, practice: Practice, version: CarePlanVersion) -> CarePlanVersion:
    return (
        CarePlanVersion.objects.for_practice(practice)
        .select_for_update(of=("self",))
        .select_related("care_plan__patient__billing_practitioner__user")
        .get(pk=version.pk)
    )


def _require_drafter(*, actor: Membership, version: CarePlanVersion) -> None:
    """Clinical members edit revisions; the first version is the billing practitioner's."""
    if not can_draft_care_plan(actor):
        raise PermissionDenied(DRAFT_MESSAGE)
    if version.based_on_id is None:
        require_billing_practitioner(
            actor=actor,
            patient=version.care_plan.patient,
            missing=FIRST_VERSION_MISSING,
            refusal=FIRST_VERSION_REFUSAL,
        )


def _require_draft(version: CarePlanVersion) -> None:
    if version.is_signed:
        raise InvalidState(
            f"Version {version.number} is signed and can no longer change; "
            "start a revision to change the plan."
        )


def _problems_from(
    conditions: Sequence[Condition], *, notes: dict[str, str] | None = None
) -> list[Problem]:
    return [
        Problem(
            key=plan_content.new_key(),
            condition=str(condition.public_id),
            code=condition.code,
            description=condition.description,
            note=(notes or {}).get(str(condition.public_id), ""),
        )
        for condition in conditions
    ]


def _resolve_problems(*, practice: Practice, patient: Patient, content: PlanContent) -> PlanContent:
    """Check every condition the content names is the patient's; copy code and description.

    The problem list names each condition as it was when listed (a later edit of the
    condition does not rewrite a signed plan).
    """
    conditions = {
        str(condition.public_id): condition
        for condition in condition_list(practice=practice, patient=patient)
    }
    problems = []
    for problem in content.problems:
        condition = conditions.get(problem.condition)
        if condition is None:
            raise InvalidState(
                "The problem list names a condition of another patient.", field="problems"
            )
        problems.append(
            dataclasses.replace(problem, code=condition.code, description=condition.description)
        )
    linked: list[Goal | Intervention] = [*content.goals, *content.interventions]
    for item in linked:
        if item.condition and item.condition not in conditions:
            raise InvalidState(
                "A goal or intervention names a condition of another patient.", field="goals"
            )
    return dataclasses.replace(content, problems=tuple(problems))


def _templates_by_key(
    *, practice: Practice, keys: Sequence[str] | None, codes: Sequence[str]
) -> list[PlanTemplate]:
    available = plan_templates_available(practice=practice)
    if keys is None:
        return templates_matching(available, codes)
    by_key = {template.key: template for template in available}
    unknown = [key for key in keys if key not in by_key]
    if unknown:
        raise InvalidState(f"There is no template {unknown[0]!r}.", field="templates")
    return [by_key[key] for key in keys]


def _with_templates(
    content: PlanContent,
    *,
    templates: Sequence[PlanTemplate],
    conditions: Sequence[Condition],
    today: dt.date,
) -> PlanContent:
    """Add each template's goals, interventions and symptom advice once, for the first
    condition of the problem list it matches (or unlinked when none matches)."""
    listed = {problem.condition for problem in content.problems}
    goals = list(content.goals)
    interventions = list(content.interventions)
    symptom_management = content.texts.get("symptom_management", "")
    present_goals = {(goal.goal, goal.measure) for goal in goals}
    present_interventions = {item.intervention for item in interventions}
    for template in templates:
        condition = next(
            (
                str(c.public_id)
                for c in conditions
                if str(c.public_id) in listed and template.matches(c.code)
            ),
            "",
        )
        for goal in template.goals_for(condition=condition, today=today):
            if (goal.goal, goal.measure) not in present_goals:
                goals.append(goal)
                present_goals.add((goal.goal, goal.measure))
        for item in template.interventions_for(condition=condition):
            if item.intervention not in present_interventions:
                interventions.append(item)
                present_interventions.add(item.intervention)
        advice = f"{template.name}: {template.symptom_management}"
        if template.symptom_management and advice not in symptom_management:
            symptom_management = f"{symptom_management}\n\n{advice}".strip()
    return dataclasses.replace(
        content,
        goals=tuple(goals),
        interventions=tuple(interventions),
        texts={**content.texts, "symptom_management": symptom_management},
    )


@transaction.atomic
def care_plan_start(
    *,
    practice: Practice,
    actor: Membership,
    patient: Patient,
    template_keys: Sequence[str] | None = None,
) -> CarePlanVersion:
    """Start the patient's care plan: version 1, a draft of the billing practitioner.

    The problem list starts with the patient's active conditions; goals, interventions and
    symptom advice come from ``template_keys`` (None: every template matching a condition).
    """
    require_same_practice(practice=practice, actor=actor, objs=(patient,))
    if CarePlan.objects.for_practice(practice).filter(patient=patient).exists():
        raise InvalidState("This patient already has a care plan; start a revision of it instead.")
    if not can_draft_care_plan(actor):
        raise PermissionDenied(DRAFT_MESSAGE)
    require_billing_practitioner(
        actor=actor, patient=patient, missing=FIRST_VERSION_MISSING, refusal=FIRST_VERSION_REFUSAL
    )
    conditions = list(condition_list(practice=practice, patient=patient, active_only=True))
    templates = _templates_by_key(
        practice=practice, keys=template_keys, codes=[c.code for c in conditions]
    )
    today = practice_today(practice)
    content = _with_templates(
        PlanContent(
            texts=dict.fromkeys(plan_content.TEXT_FIELD_NAMES, ""),
            problems=tuple(_problems_from(conditions)),
        ),
        templates=templates,
        conditions=conditions,
        today=today,
    )
    care_plan = CarePlan(practice=practice, patient=patient, created_by=actor)
    clean_or_raise(care_plan)
    care_plan.save()
    version = CarePlanVersion(
        practice=practice,
        care_plan=care_plan,
        number=1,
        drafted_by=actor,
        updated_by=actor,
        **content.as_fields(),
    )
    clean_or_raise(version)
    version.save()
    audit_record(
        practice=practice,
        actor=actor,
        event=AuditEvent.CARE_PLAN_STARTED,
        patient_public_id=patient.public_id,
        obj=version,
        changes={
            "care_plan": str(care_plan.public_id),
            "number": 1,
            "templates": [template.key for template in templates],
            "problems": [problem.code for problem in content.problems],
            "goals": len(content.goals),
            "interventions": len(content.interventions),
        },
    )
    return version


@transaction.atomic
def care_plan_revision_start(
    *, practice: Practice, actor: Membership, care_plan: CarePlan
) -> CarePlanVersion:
    """Open a draft revision that starts from the last signed version.

    Goals carry their latest recorded progress; the revision note starts empty.
    """
    require_same_practice(practice=practice, actor=actor, objs=(care_plan,))
    locked = (
        CarePlan.objects.for_practice(practice)
        .select_for_update()
        .select_related("patient")
        .get(pk=care_plan.pk)
    )
    versions = CarePlanVersion.objects.for_practice(practice).filter(care_plan=locked)
    draft = versions.filter(status=VersionStatus.DRAFT).first()
    if draft is not None:
        raise InvalidState(f"Version {draft.number} is already being drafted; continue that draft.")
    latest = versions.filter(status=VersionStatus.SIGNED).order_by("-number").first()
    if latest is None:
        raise InvalidState("The first version is not signed yet; finish and sign it first.")
    if not can_draft_care_plan(actor):
        raise PermissionDenied(DRAFT_MESSAGE)
    progress = care_plan_goal_latest_progress(practice=practice, version=latest)
    base = latest.content
    goals = tuple(
        dataclasses.replace(goal, status=progress[goal.key].status)
        if goal.key in progress
        else goal
        for goal in base.goals
    )
    content = dataclasses.replace(base, goals=goals, texts={**base.texts, "revision_note": ""})
    number = (versions.aggregate(highest=Max("number"))["highest"] or 0) + 1
    version = CarePlanVersion(
        practice=practice,
        care_plan=locked,
        number=number,
        based_on=latest,
        drafted_by=actor,
        updated_by=actor,
        **content.as_fields(),
    )
    clean_or_raise(version)
    version.save()
    audit_record(
        practice=practice,
        actor=actor,
        event=AuditEvent.CARE_PLAN_REVISION_STARTED,
        patient_public_id=locked.patient.public_id,
        obj=version,
        changes={"number": number, "based_on": latest.number},
    )
    return version


@transaction.atomic
def care_plan_draft_update(
    *, practice: Practice, actor: Membership, version: CarePlanVersion, content: PlanContent
) -> CarePlanVersion:
    """Replace a draft's content (every field and list); audited with what changed."""
    require_same_practice(practice=practice, actor=actor, objs=(version,))
    version = _lock_version(practice=practice, version=version)
    _require_draft(version)
    _require_drafter(actor=actor, version=version)
    patient = version.care_plan.patient
    content = _resolve_problems(practice=practice, patient=patient, content=content)
    changes = plan_content.diff(version.content, content)
    if changes.is_empty:
        return version
    for name, value in content.as_fields().items():
        setattr(version, name, value)
    version.updated_by = actor
    version.updated_at = timezone.now()
    clean_or_raise(version)
    version.save()
    audit_record(
        practice=practice,
        actor=actor,
        event=AuditEvent.CARE_PLAN_DRAFT_UPDATED,
        patient_public_id=patient.public_id,
        obj=version,
        changes=changes.summary(),
    )
    return version


@transaction.atomic
def care_plan_draft_apply_templates(
    *,
    practice: Practice,
    actor: Membership,
    version: CarePlanVersion,
    template_keys: Sequence[str],
) -> CarePlanVersion:
    """Add the goals, interventions and symptom advice of templates to a draft."""
    require_same_practice(practice=practice, actor=actor, objs=(version,))
    version = _lock_version(practice=practice, version=version)
    _require_draft(version)
    _require_drafter(actor=actor, version=version)
    if not template_keys:
        raise InvalidState("Choose at least one template.", field="templates")
    patient = version.care_plan.patient
    conditions = list(condition_list(practice=practice, patient=patient, active_only=True))
    templates = _templates_by_key(
        practice=practice, keys=template_keys, codes=[c.code for c in conditions]
    )
    content = _with_templates(
        version.content,
        templates=templates,
        conditions=conditions,
        today=practice_today(practice),
    )
    return care_plan_draft_update(practice=practice, actor=actor, version=version, content=content)


@transaction.atomic
def care_plan_draft_submit(
    *, practice: Practice, actor: Membership, version: CarePlanVersion
) -> CarePlanVersion:
    """Send a draft to the physician's review queue."""
    require_same_practice(practice=practice, actor=actor, objs=(version,))
    version = _lock_version(practice=practice, version=version)
    _require_draft(version)
    if version.submitted_at is not None:
        raise InvalidState(f"Version {version.number} is already waiting for signature.")
    _require_drafter(actor=actor, version=version)
    version.submitted_by = actor
    version.submitted_at = timezone.now()
    clean_or_raise(version)
    version.save(update_fields=["submitted_by", "submitted_at"])
    audit_record(
        practice=practice,
        actor=actor,
        event=AuditEvent.CARE_PLAN_SUBMITTED,
        patient_public_id=version.care_plan.patient.public_id,
        obj=version,
        changes={"number": version.number},
    )
    return version


@transaction.atomic
def care_plan_version_sign(
    *,
    practice: Practice,
    actor: Membership,
    version: CarePlanVersion,
    substantial_revision: bool,
    password: str = "",
    totp_code: str = "",
) -> CarePlanVersion:
    """Sign a draft: the billing practitioner, re-confirmed by password or TOTP code.

    Records who, when (UTC, and the date in the practice's time zone), how the identity was
    confirmed, whether this is a substantial revision (always true for version 1: the plan's
    establishment, R-PLAN-6) and the SHA-256 of the content. Queues the patient-copy PDF.
    """
    require_same_practice(practice=practice, actor=actor, objs=(version,))
    version = _lock_version(practice=practice, version=version)
    if version.is_signed:
        raise InvalidState(f"Version {version.number} is already signed.")
    if not can_sign_care_plan(actor):
        raise PermissionDenied("Only a physician signs a care plan (R-WHO-7).")
    patient = version.care_plan.patient
    require_billing_practitioner(
        actor=actor,
        patient=patient,
        missing="Choose the patient's billing practitioner before signing the care plan.",
        refusal="signs their care plan (R-WHO-7).",
    )
    method = confirm_identity(user=actor.user, password=password, totp_code=totp_code)
    if method is None:
        raise InvalidState(
            "That password or authenticator code is not right; the plan was not signed.",
            field="password",
        )
    content = version.content
    signed_at = timezone.now()
    version.status = VersionStatus.SIGNED
    version.signed_by = actor
    version.signed_at = signed_at
    version.signed_on = timezone.localdate(signed_at, practice.tz)
    version.signature_method = method
    version.substantial_revision = True if version.number == 1 else substantial_revision
    version.content_sha256 = plan_content.content_digest(content)
    clean_or_raise(version)
    version.save()
    document = CarePlanDocument(
        practice=practice, version=version, status=DocumentStatus.PENDING, requested_by=actor
    )
    clean_or_raise(document)
    document.save()
    audit_record(
        practice=practice,
        actor=actor,
        event=AuditEvent.CARE_PLAN_SIGNED,
        patient_public_id=patient.public_id,
        obj=version,
        changes={
            "number": version.number,
            "signed_on": version.signed_on.isoformat(),
            "signature_method": method,
            "substantial_revision": version.substantial_revision,
            "content_sha256": version.content_sha256,
            "missing_elements": plan_content.missing_elements(content),
        },
    )
    transaction.on_commit(
        lambda: care_plan_document_render_task.delay(
            practice_id=practice.pk, document_id=document.pk
        )
    )
    return version


@transaction.atomic
def care_plan_goal_progress_record(
    *,
    practice: Practice,
    actor: Membership,
    version: CarePlanVersion,
    goal_key: str,
    status: str,
    recorded_on: dt.date,
    measured_value: str = "",
    note: str = "",
) -> CarePlanGoalProgress:
    """Keep a goal of the current signed plan up to date, without changing the plan."""
    require_same_practice(practice=practice, actor=actor, objs=(version,))
    if not version.is_signed:
        raise InvalidState("This version is a draft: change its goals in the draft itself.")
    latest = (
        CarePlanVersion.objects.for_practice(practice)
        .filter(care_plan_id=version.care_plan_id, status=VersionStatus.SIGNED)
        .order_by("-number")
        .first()
    )
    if latest is None or latest.pk != version.pk:
        raise InvalidState(
            f"Version {version.number} was replaced by a later signed version; "
            "record progress on the current plan."
        )
    if not can_draft_care_plan(actor):
        raise PermissionDenied("Only care coordinators and physicians keep goals current.")
    goal = next((goal for goal in version.content.goals if goal.key == str(goal_key)), None)
    if goal is None:
        raise InvalidState("This goal is not part of the plan.", field="goal")
    if status not in GoalStatus.values:
        raise InvalidState(f"“{status}” is not a goal status.", field="status")
    if recorded_on > practice_today(practice):
        raise InvalidState("The date cannot be in the future.", field="recorded_on")
    assert version.signed_on is not None  # noqa: S101  (signed: a CHECK guarantees it)
    if recorded_on < version.signed_on:
        raise InvalidState(
            f"The plan was signed on {version.signed_on:%b %d, %Y}; progress cannot predate it.",
            field="recorded_on",
        )
    progress = CarePlanGoalProgress(
        practice=practice,
        version=version,
        goal_key=goal.key,
        status=status,
        measured_value=measured_value.strip(),
        note=note.strip(),
        recorded_on=recorded_on,
        recorded_by=actor,
    )
    clean_or_raise(progress)
    progress.save()
    audit_record(
        practice=practice,
        actor=actor,
        event=AuditEvent.CARE_PLAN_GOAL_PROGRESS,
        patient_public_id=version.care_plan.patient.public_id,
        obj=version,
        changes={
            "goal": goal.key,
            "status": [goal.status, status],
            "measured_value": progress.measured_value,
            "recorded_on": recorded_on.isoformat(),
        },
    )
    return progress


def parse_content_or_raise(**raw: object) -> PlanContent:
    """``PlanContent.parse`` for interfaces, with a content error as ``InvalidState``."""
    try:
        return PlanContent.parse(**raw)  # type: ignore[arg-type]
    except ContentError as exc:
        raise invalid_content(exc) from exc
