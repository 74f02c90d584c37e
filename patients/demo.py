"""Demo patients: 40 synthetic patients per demo practice, at every step of the way into CCM.

``seed_patients`` is a step of ``ccm.demo_data.SEED_STEPS``. Everything goes through the real
services (so audit rows and enrollment history are true), inside the practice's context. It is
idempotent: a patient whose MRN exists is left alone, so a second run creates nothing.

Per practice, by position in the list: patients eligible but not yet reviewed, identified, in
outreach (with attempts), consented, enrolled (consent + initiating visit with CCM discussed),
a few who declined, one enrolled elsewhere, one not Part B, and some with a single chronic
condition (not eligible). All names, dates of birth and MBIs are made up.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ccm.models import Membership, Practice
from ccm.permissions import Role
from ccm.tenancy import practice_context
from patients.models import (
    ConsentMethod,
    EnrollmentStatus,
    FacilityStayKind,
    OutreachChannel,
    OutreachOutcome,
    Patient,
    Sex,
)
from patients.selectors.common import practice_today
from patients.selectors.patient import patients_by_mrn
from patients.services.condition import condition_add
from patients.services.consent import consent_record
from patients.services.encounter import facility_stay_record, other_service_record, visit_record
from patients.services.enrollment import enrollment_status_change, outreach_record, patient_enroll
from patients.services.patient import patient_create

if TYPE_CHECKING:
    from ccm.demo_data import DemoWorld

PATIENTS_PER_PRACTICE = 40

FIRST_NAMES = (
    "Harold", "Dolores", "Eugene", "Marjorie", "Walter", "Beatrice", "Frank", "Irene",
    "Samuel", "Lucille", "George", "Agnes", "Raymond", "Gloria", "Arthur", "Mildred",
    "Chester", "Evelyn", "Leonard", "Vivian",
)  # fmt: skip
LAST_NAMES = (
    "Whitaker", "Alvarez", "Lindqvist", "Klein", "Osei", "Novak", "Delgado", "Fitzgerald",
    "Goldberg", "Baptiste", "Nakamura", "Kowalski", "Okonkwo", "Mendes", "Brandt", "Ruiz",
    "Asante", "Castellano", "Moreau", "Haddad",
)  # fmt: skip
# (code, description): chronic conditions a clinician would attest.
CHRONIC = (
    ("E11.9", "Type 2 diabetes mellitus without complications"),
    ("I10", "Essential (primary) hypertension"),
    ("N18.30", "Chronic kidney disease, stage 3 unspecified"),
    ("I50.22", "Chronic systolic (congestive) heart failure"),
    ("J44.9", "Chronic obstructive pulmonary disease, unspecified"),
    ("I48.91", "Unspecified atrial fibrillation"),
    ("F33.1", "Major depressive disorder, recurrent, moderate"),
    ("M17.11", "Unilateral primary osteoarthritis, right knee"),
    ("E78.5", "Hyperlipidemia, unspecified"),
    ("G30.9", "Alzheimer's disease, unspecified"),
    ("I25.10", "Atherosclerotic heart disease of native coronary artery"),
    ("M81.0", "Age-related osteoporosis without current pathological fracture"),
)
OTHER = (("J30.9", "Allergic rhinitis, unspecified"), ("K21.9", "Gastro-esophageal reflux"))
_MBI_LETTERS = "ACDEFGHJKMNPQRTUVWXY"


@dataclass(frozen=True, slots=True)
class _Cast:
    coordinator: Membership
    physicians: tuple[Membership, ...]


def _stage(index: int) -> str:
    """Where patient ``index`` (0-39) stands: a fixed mix of every stage."""
    stages = (
        ["eligible"] * 9
        + ["identified"] * 4
        + ["outreach"] * 5
        + ["consented"] * 4
        + ["enrolled"] * 10
        + ["declined"] * 2
        + ["enrolled_elsewhere", "not_part_b"]
        + ["single_condition"] * 4
    )
    return stages[index % len(stages)]


def _mbi(index: int) -> str:
    """A made-up identifier of the MBI format (C A AN N A AN N A A N N)."""
    letter = _MBI_LETTERS
    return (
        f"{1 + index % 9}{letter[index % 20]}{letter[(index * 3) % 20]}{index % 10}"
        f"{letter[(index * 7) % 20]}{(index * 3) % 10}{(index * 5) % 10}"
        f"{letter[(index * 11) % 20]}{letter[(index * 13) % 20]}{(index * 7) % 10}"
        f"{(index * 9) % 10}"
    )


def _cast(world: DemoWorld, slug: str) -> _Cast:
    members = sorted(world.memberships[slug].values(), key=lambda m: m.user.email)
    coordinator = next(m for m in members if m.role == Role.CARE_COORDINATOR)
    physicians = tuple(m for m in members if m.role == Role.PHYSICIAN)
    return _Cast(coordinator=coordinator, physicians=physicians)


def seed_patients(world: DemoWorld) -> None:
    """Add the demo patients each demo practice is missing (by MRN)."""
    for slug, practice in world.practices.items():
        cast = _cast(world, slug)
        with practice_context(practice.pk):
            prefix = slug[:1].upper()
            mrns = [f"{prefix}-{2001 + index}" for index in range(PATIENTS_PER_PRACTICE)]
            existing = patients_by_mrn(practice=practice, mrns=mrns)
            for index, mrn in enumerate(mrns):
                if mrn not in existing:
                    _seed_one(practice=practice, cast=cast, index=index, mrn=mrn)
                    world.created["patients"] += 1


def _seed_one(*, practice: Practice, cast: _Cast, index: int, mrn: str) -> Patient:
    today = practice_today(practice)
    stage = _stage(index)
    physician = cast.physicians[index % len(cast.physicians)]
    coordinator = cast.coordinator
    patient = patient_create(
        practice=practice,
        actor=coordinator,
        mrn=mrn,
        first_name=FIRST_NAMES[index % len(FIRST_NAMES)],
        last_name=LAST_NAMES[(index * 7) % len(LAST_NAMES)],
        date_of_birth=dt.date(1935 + index % 25, 1 + index % 12, 1 + (index * 3) % 28),
        medicare_part_b=stage != "not_part_b",
        sex=Sex.FEMALE if index % 2 else Sex.MALE,
        phone=f"555-01{index:02d}",
        preferred_language="Spanish" if index % 7 == 0 else "English",
        city="Springfield",
        mbi=_mbi(index + 1),
        billing_practitioner=physician,
    )
    chronic_count = 1 if stage == "single_condition" else 2 + index % 2
    for offset in range(chronic_count):
        code, description = CHRONIC[(index + offset * 5) % len(CHRONIC)]
        condition_add(
            practice=practice,
            actor=physician,
            patient=patient,
            code=code,
            description=description,
            chronic_attested=True,
        )
    if index % 3 == 0:
        code, description = OTHER[index % len(OTHER)]
        condition_add(
            practice=practice, actor=physician, patient=patient, code=code, description=description
        )
    _advance(
        practice=practice,
        coordinator=coordinator,
        physician=physician,
        patient=patient,
        stage=stage,
        today=today,
        index=index,
    )
    return patient


def _advance(
    *,
    practice: Practice,
    coordinator: Membership,
    physician: Membership,
    patient: Patient,
    stage: str,
    today: dt.date,
    index: int,
) -> None:
    """Take the patient through the steps of ``stage`` with the real services."""
    if stage in {"eligible", "single_condition", "not_part_b"}:
        if index % 2 == 0:
            visit_record(
                practice=practice,
                actor=coordinator,
                patient=patient,
                date=today - dt.timedelta(days=200 + index),
                code="99213",
                practitioner=physician,
            )
        return
    if stage == "enrolled_elsewhere":
        enrollment_status_change(
            practice=practice,
            actor=coordinator,
            patient=patient,
            to_status=EnrollmentStatus.ENROLLED_ELSEWHERE,
            reason="Her cardiologist's practice bills CCM for her.",
        )
        return
    enrollment_status_change(
        practice=practice,
        actor=coordinator,
        patient=patient,
        to_status=EnrollmentStatus.IDENTIFIED,
        reason="Two or more chronic conditions on the problem list.",
    )
    if stage == "identified":
        return
    outreach_record(
        practice=practice,
        actor=coordinator,
        patient=patient,
        attempted_on=today - dt.timedelta(days=75),
        channel=OutreachChannel.PHONE,
        outcome=OutreachOutcome.NO_ANSWER if index % 2 else OutreachOutcome.LEFT_MESSAGE,
    )
    if stage == "outreach":
        return
    final = OutreachOutcome.DECLINED if stage == "declined" else OutreachOutcome.AGREED
    outreach_record(
        practice=practice,
        actor=coordinator,
        patient=patient,
        attempted_on=today - dt.timedelta(days=70),
        channel=OutreachChannel.PHONE,
        outcome=final,
        note="Explained CCM and the monthly cost sharing.",
    )
    if stage == "declined":
        return
    consented_on = today - dt.timedelta(days=60)
    visit_record(
        practice=practice,
        actor=coordinator,
        patient=patient,
        date=consented_on,
        code="99214",
        ccm_discussed=True,
        practitioner=physician,
    )
    consent_record(
        practice=practice,
        actor=coordinator,
        patient=patient,
        practitioner=physician,
        obtained_on=consented_on,
        method=ConsentMethod.WRITTEN if index % 3 == 0 else ConsentMethod.VERBAL,
        explained_cost_sharing=True,
        explained_one_practitioner=True,
        explained_stop_anytime=True,
    )
    if stage == "consented":
        return
    patient_enroll(
        practice=practice, actor=coordinator, patient=patient, reason="Care plan agreed."
    )
    if index % 10 == 0:
        other_service_record(
            practice=practice,
            actor=coordinator,
            patient=patient,
            date=today - dt.timedelta(days=40),
            code="99495",
            outside_practitioner_name="Springfield General Hospitalists",
        )
        facility_stay_record(
            practice=practice,
            actor=coordinator,
            patient=patient,
            kind=FacilityStayKind.INPATIENT,
            from_date=today - dt.timedelta(days=50),
            to_date=today - dt.timedelta(days=45),
            facility_name="Springfield General Hospital",
        )
