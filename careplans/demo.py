"""Demo care plans: a signed plan with a patient copy for every enrolled demo patient.

``seed_care_plans`` is a step of ``ccm.demo_data.SEED_STEPS`` (after the patients). Through the
real services, inside each practice's context: the billing practitioner starts each plan from
the templates matching the patient's conditions, completes it and signs it (re-confirming with
the demo password); the coordinator records the copy given. Then, per practice, one revision
drafted by the coordinator waits for the physician's signature (a goal tightened, a template
added, a goal met), one signed plan lacks its caregiver assessment (the completeness check has
something to show), two goals carry progress, and one patient has this month's complexity
attested. Idempotent: a patient who has a care plan is left alone, and so is a practice whose
demo revision or attestation exists. Signing queues each patient-copy PDF for the worker.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

from careplans.content import GoalStatus, PlanContent
from careplans.models import (
    CarePlanVersion,
    CopyMethod,
    CopyRecipient,
    MedicalDecisionMaking,
)
from careplans.plan_templates import builtin_templates
from careplans.selectors import (
    care_plan_for_patient,
    care_plan_version_latest_signed,
    care_plan_version_open_draft,
    complexity_attestations_for_month,
)
from careplans.services.complexity import complexity_attest
from careplans.services.documents import care_plan_copy_record
from careplans.services.versions import (
    care_plan_draft_apply_templates,
    care_plan_draft_submit,
    care_plan_draft_update,
    care_plan_goal_progress_record,
    care_plan_revision_start,
    care_plan_start,
    care_plan_version_sign,
)
from ccm.demo_data import DEMO_PASSWORD, DemoWorld
from ccm.models import Membership, Practice
from ccm.permissions import Role
from ccm.tenancy import practice_context
from patients.models import EnrollmentStatus, Patient
from patients.selectors.common import practice_today
from patients.selectors.patient import patient_list

# Positions (in MRN order) among a practice's enrolled patients.
REVISION_PATIENT = 0  # a revision waits for signature
INCOMPLETE_PATIENT = 1  # the signed plan lacks its caregiver assessment
COMPLEX_PATIENT = 2  # this month's MDM is attested high
COPY_METHODS = (CopyMethod.IN_PERSON, CopyMethod.PORTAL, CopyMethod.MAIL, CopyMethod.EMAIL)


def _texts(patient: Patient, codes: list[str], *, with_caregiver: bool) -> dict[str, str]:
    has_dementia = any(code.startswith(("F0", "G30", "G31")) for code in codes)
    first = patient.first_name
    return {
        "expected_outcome": (
            f"{first} stays at home independently, with no avoidable emergency visit or hospital "
            "stay this year, and understands what to do when symptoms change."
        ),
        "prognosis": (
            "Chronic conditions that are stable with treatment. Good if medicines, home "
            "monitoring and follow-up visits are kept up; risk of decline after any infection."
        ),
        "medication_management": (
            "Medication list reconciled at every contact and after each specialist visit. "
            "Weekly pill organiser; 90-day fills at one pharmacy. Bring every bottle to visits."
        ),
        "cognitive_assessment": (
            "MoCA 19/30 (mild dementia); decision-making shared with the health-care proxy."
            if has_dementia
            else "Mini-Cog 5/5: no cognitive impairment found."
        ),
        "functional_assessment": (
            "Independent in bathing, dressing and eating. Needs help with shopping and "
            "transport. One fall in the past year; uses a cane outdoors."
        ),
        "environmental_evaluation": (
            "Two-storey house, bathroom upstairs: grab bars and a night light recommended. "
            "Smoke detectors working. Reliable food access; no stairs at the entrance."
        ),
        "caregiver_assessment": (
            "Daughter visits twice a week and drives to appointments; says the load is "
            "manageable. Knows how to reach the care team."
            if with_caregiver
            else ""
        ),
        "community_services": (
            "Referred to the county Area Agency on Aging for senior transport; Meals on Wheels "
            "offered and declined for now."
        ),
        "care_coordination": (
            "Specialists receive this plan after each signature; their notes arrive through the "
            "health information exchange. Discharge summaries are requested within two days of "
            "any hospital or emergency visit."
        ),
        "review_schedule": (
            "The care coordinator reviews the plan monthly by phone, the physician every six "
            "months, and both after any hospital stay, emergency visit or new diagnosis."
        ),
        "revision_note": "",
    }


def _complete(version_content: PlanContent, texts: dict[str, str], today: dt.date) -> PlanContent:
    return dataclasses.replace(
        version_content,
        texts={**version_content.texts, **texts},
        next_review_on=today + dt.timedelta(days=90),
    )


def demo_signing_day(today: dt.date) -> dt.date:
    """The day the demo's first plans were signed: early in the month three months back.

    The demo closes past months (billing's seed step and the manager's "close last month"),
    and a month bills only with a plan signed by its end (R-PLAN-1), so the synthetic plans
    must predate those months.
    """
    first_of_month = today.replace(day=1)
    for _ in range(3):
        first_of_month = (first_of_month - dt.timedelta(days=1)).replace(day=1)
    return first_of_month + dt.timedelta(days=4)


@contextmanager
def _demo_clock(day: dt.date, tz: dt.tzinfo) -> Iterator[None]:
    """Demo data only: run the real signing service as if it were ``day`` at 10:00.

    Signing stamps the present moment by design (and a trigger keeps signed versions final),
    so synthetic history is made by moving the clock the service reads, never by editing rows.
    """
    moment = dt.datetime.combine(day, dt.time(10, 0), tzinfo=tz)
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def _sign(practice: Practice, physician: Membership, version: CarePlanVersion) -> CarePlanVersion:
    return care_plan_version_sign(
        practice=practice,
        actor=physician,
        version=version,
        substantial_revision=False,
        password=DEMO_PASSWORD,
    )


def _seed_plan(
    *,
    practice: Practice,
    coordinator: Membership,
    patient: Patient,
    position: int,
    today: dt.date,
) -> None:
    physician = patient.billing_practitioner
    assert physician is not None  # noqa: S101  (enrolled patients have one)
    draft = care_plan_start(practice=practice, actor=physician, patient=patient)
    codes = [problem.code for problem in draft.content.problems]
    texts = _texts(patient, codes, with_caregiver=position != INCOMPLETE_PATIENT)
    draft = care_plan_draft_update(
        practice=practice,
        actor=physician,
        version=draft,
        content=_complete(draft.content, texts, today),
    )
    signed_day = demo_signing_day(today)
    with _demo_clock(signed_day, practice.tz):
        signed = _sign(practice, physician, draft)
    care_plan_copy_record(
        practice=practice,
        actor=coordinator,
        version=signed,
        given_on=signed_day,
        method=COPY_METHODS[position % len(COPY_METHODS)],
        recipient=CopyRecipient.PATIENT,
        note="Went through the goals together." if position % 2 == 0 else "",
    )


def _seed_revision(*, practice: Practice, coordinator: Membership, patient: Patient) -> None:
    """The coordinator's revision: a goal tightened, one met, a template added; sent."""
    plan = care_plan_for_patient(practice=practice, patient=patient)
    if plan is None or care_plan_version_open_draft(practice=practice, care_plan=plan):
        return
    signed = care_plan_version_latest_signed(practice=practice, care_plan=plan)
    assert signed is not None  # noqa: S101  (seeded just before)
    today = practice_today(practice)
    first_goal = signed.content.goals[0]
    care_plan_goal_progress_record(
        practice=practice,
        actor=coordinator,
        version=signed,
        goal_key=first_goal.key,
        status=GoalStatus.IN_PROGRESS,
        measured_value="Improving",
        note="Latest result reviewed with the patient by phone.",
        recorded_on=today,
    )
    revision = care_plan_revision_start(practice=practice, actor=coordinator, care_plan=plan)
    listed = {problem.code[:3] for problem in revision.content.problems}
    extra = next(
        (
            template.key
            for template in builtin_templates()
            if template.key in ("builtin:depression", "builtin:osteoarthritis")
            and not any(template.matches(code) for code in listed)
        ),
        None,
    )
    if extra is not None:
        revision = care_plan_draft_apply_templates(
            practice=practice, actor=coordinator, version=revision, template_keys=[extra]
        )
    content = revision.content
    goals = list(content.goals)
    goals[0] = dataclasses.replace(
        goals[0], target=f"{goals[0].target} (tightened after review)", status="in_progress"
    )
    if len(goals) > 1:
        goals[1] = dataclasses.replace(goals[1], status=GoalStatus.MET)
    content = dataclasses.replace(
        content,
        goals=tuple(goals),
        texts={
            **content.texts,
            "revision_note": (
                "Target of the first goal tightened after three months of progress; second goal "
                "met. Screening found low mood: depression and activity goals added from the "
                "templates."
            ),
        },
    )
    revision = care_plan_draft_update(
        practice=practice, actor=coordinator, version=revision, content=content
    )
    care_plan_draft_submit(practice=practice, actor=coordinator, version=revision)


def _seed_complexity(*, practice: Practice, patient: Patient) -> None:
    month = practice_today(practice).replace(day=1)
    if patient.pk in complexity_attestations_for_month(
        practice=practice, service_month=month, patient_ids=[patient.pk]
    ):
        return
    assert patient.billing_practitioner is not None  # noqa: S101
    complexity_attest(
        practice=practice,
        actor=patient.billing_practitioner,
        patient=patient,
        service_month=month,
        mdm=MedicalDecisionMaking.HIGH,
        note=(
            "Insulin started and diuretic adjusted for worsening kidney function; cardiology and "
            "nephrology plans reconciled. Care plan revised this month."
        ),
    )


def seed_care_plans(world: DemoWorld) -> None:
    """Add the demo care plans, revision and attestation each demo practice is missing."""
    for slug, practice in world.practices.items():
        members = world.memberships[slug].values()
        coordinator = next(m for m in members if m.role == Role.CARE_COORDINATOR)
        with practice_context(practice.pk):
            today = practice_today(practice)
            enrolled = list(
                patient_list(practice=practice, status=EnrollmentStatus.ENROLLED, order="mrn")
            )
            for position, patient in enumerate(enrolled):
                if care_plan_for_patient(practice=practice, patient=patient) is None:
                    _seed_plan(
                        practice=practice,
                        coordinator=coordinator,
                        patient=patient,
                        position=position,
                        today=today,
                    )
                    world.created["care plans"] += 1
            if len(enrolled) > REVISION_PATIENT:
                _seed_revision(
                    practice=practice, coordinator=coordinator, patient=enrolled[REVISION_PATIENT]
                )
            if len(enrolled) > COMPLEX_PATIENT:
                _seed_complexity(practice=practice, patient=enrolled[COMPLEX_PATIENT])
