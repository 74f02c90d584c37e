"""factory-boy factories. Practice-owned rows must be built inside ``in_practice(practice)``."""

from __future__ import annotations

import datetime as dt

import factory

from ccm.models import Membership, Practice, User
from ccm.permissions import Role
from patients.models import (
    Condition,
    Consent,
    ConsentMethod,
    EnrollmentEvent,
    EnrollmentStatus,
    FacilityStay,
    FacilityStayKind,
    OtherService,
    OutreachAttempt,
    OutreachChannel,
    OutreachOutcome,
    Patient,
    Sex,
    Visit,
)

# Valid NPIs (Luhn check over 80840): the CMS test values and a few computed ones.
PHYSICIAN_NPIS = ["1234567893", "1245319599", "1003000126", "1992749188", "1538237580"]


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    full_name = factory.Faker("name")
    password = factory.django.Password("correct horse battery staple")


class PracticeFactory(factory.django.DjangoModelFactory[Practice]):
    class Meta:
        model = Practice

    name = factory.Sequence(lambda n: f"Practice {n}")
    slug = factory.Sequence(lambda n: f"practice-{n}")
    timezone = "America/New_York"
    npi = "1234567893"
    tin = "123456789"
    address_line1 = "1 Main Street"
    city = "Springfield"
    state = "IL"
    postal_code = "62701"


class MembershipFactory(factory.django.DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    practice = factory.SubFactory(PracticeFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.CARE_COORDINATOR
    npi = factory.LazyAttribute(lambda m: PHYSICIAN_NPIS[0] if m.role == Role.PHYSICIAN else "")
    credential = factory.LazyAttribute(
        lambda m: {"physician": "MD", "care_coordinator": "RN"}.get(m.role, "")
    )


# --- patients: pass practice=...; parents are built in the same practice ---------------------
# Behaviour tests set up consent and enrollment with the real services (consent_record,
# patient_enroll); ConsentFactory and EnrollmentEventFactory exist for the isolation matrix.

_same_practice = factory.SelfAttribute("..practice")


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    mrn = factory.Sequence(lambda n: f"MRN{n:05d}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    date_of_birth = dt.date(1950, 6, 15)
    sex = Sex.FEMALE
    medicare_part_b = True


class ConditionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Condition

    patient = factory.SubFactory(PatientFactory, practice=_same_practice)
    code = "E11.9"
    description = "Type 2 diabetes mellitus without complications"
    chronic_category = "diabetes"


class OutreachAttemptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutreachAttempt

    patient = factory.SubFactory(PatientFactory, practice=_same_practice)
    attempted_on = dt.date(2025, 1, 10)
    channel = OutreachChannel.PHONE
    outcome = OutreachOutcome.NO_ANSWER
    by = factory.SubFactory("tests.factories.MembershipFactory", practice=_same_practice)


class EnrollmentEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EnrollmentEvent

    patient = factory.SubFactory(PatientFactory, practice=_same_practice)
    from_status = EnrollmentStatus.UNREVIEWED
    to_status = EnrollmentStatus.IDENTIFIED
    by = factory.SubFactory("tests.factories.MembershipFactory", practice=_same_practice)


class ConsentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Consent

    patient = factory.SubFactory(PatientFactory, practice=_same_practice)
    practitioner = factory.SubFactory(
        "tests.factories.MembershipFactory", practice=_same_practice, role=Role.PHYSICIAN
    )
    obtained_on = dt.date(2025, 1, 10)
    method = ConsentMethod.VERBAL
    obtained_by = factory.SelfAttribute("practitioner")
    explained_cost_sharing = True
    explained_one_practitioner = True
    explained_stop_anytime = True


class VisitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Visit

    patient = factory.SubFactory(PatientFactory, practice=_same_practice)
    date = dt.date(2025, 1, 10)
    code = "99214"
    outside_practitioner_name = "Dr. Outside Example"


class OtherServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OtherService

    patient = factory.SubFactory(PatientFactory, practice=_same_practice)
    date = dt.date(2025, 1, 10)
    code = "99495"
    outside_practitioner_name = "Dr. Outside Example"


class FacilityStayFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FacilityStay

    patient = factory.SubFactory(PatientFactory, practice=_same_practice)
    kind = FacilityStayKind.INPATIENT
    from_date = dt.date(2025, 1, 3)
    to_date = dt.date(2025, 1, 6)
