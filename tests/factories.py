"""factory-boy factories. Practice-owned rows must be built inside ``in_practice(practice)``."""

from __future__ import annotations

import datetime as dt
import uuid

import factory
from psycopg2.extras import DateTimeTZRange

from billing.models import (
    BillingMonth,
    BillingMonthState,
    BillingReport,
    Claim,
    ClaimLine,
    NotBillable,
    ReportKind,
)
from careplans.models import (
    CarePlan,
    CarePlanCopy,
    CarePlanDocument,
    CarePlanGoalProgress,
    CarePlanTemplate,
    CarePlanVersion,
    ComplexityAttestation,
    CopyMethod,
    MedicalDecisionMaking,
    SignatureMethod,
    VersionStatus,
)
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
from timetracking.models import (
    Activity,
    EntrySource,
    MonthLock,
    PatientMonthTime,
    RevisionKind,
    StaffRole,
    TimeEntry,
    TimeEntryRevision,
    Timer,
    TimeTrackingSettings,
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


# --- careplans: pass practice=...; behaviour tests build plans with the real services ---------


def _care_plan_goals() -> list[dict[str, object]]:
    return [
        {
            "key": str(uuid.uuid4()),
            "goal": "Keep blood sugar in a safe range",
            "measure": "HbA1c",
            "target": "Below 8.0 %",
            "target_date": None,
            "status": "not_started",
            "condition": "",
        }
    ]


class CarePlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CarePlan

    patient = factory.SubFactory(PatientFactory, practice=_same_practice)
    created_by = factory.SubFactory(
        "tests.factories.MembershipFactory", practice=_same_practice, role=Role.PHYSICIAN
    )


class CarePlanVersionFactory(factory.django.DjangoModelFactory):
    """A draft version 1 (``SignedCarePlanVersionFactory`` for a signed one)."""

    class Meta:
        model = CarePlanVersion

    care_plan = factory.SubFactory(CarePlanFactory, practice=_same_practice)
    number = 1
    goals = factory.LazyFunction(_care_plan_goals)
    drafted_by = factory.SelfAttribute("care_plan.created_by")
    updated_by = factory.SelfAttribute("drafted_by")


class SignedCarePlanVersionFactory(CarePlanVersionFactory):
    status = VersionStatus.SIGNED
    signed_by = factory.SelfAttribute("drafted_by")
    signed_at = dt.datetime(2025, 1, 10, 15, 0, tzinfo=dt.UTC)
    signed_on = dt.date(2025, 1, 10)
    signature_method = SignatureMethod.PASSWORD
    substantial_revision = True
    content_sha256 = "0" * 64


class CarePlanGoalProgressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CarePlanGoalProgress

    version = factory.SubFactory(SignedCarePlanVersionFactory, practice=_same_practice)
    goal_key = factory.LazyAttribute(lambda progress: progress.version.goals[0]["key"])
    status = "in_progress"
    recorded_on = dt.date(2025, 1, 20)
    recorded_by = factory.SelfAttribute("version.signed_by")


class CarePlanCopyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CarePlanCopy

    version = factory.SubFactory(SignedCarePlanVersionFactory, practice=_same_practice)
    given_on = dt.date(2025, 1, 10)
    method = CopyMethod.IN_PERSON
    given_by = factory.SelfAttribute("version.signed_by")


class CarePlanDocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CarePlanDocument

    version = factory.SubFactory(SignedCarePlanVersionFactory, practice=_same_practice)
    requested_by = factory.SelfAttribute("version.signed_by")


class ComplexityAttestationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ComplexityAttestation

    patient = factory.SubFactory(PatientFactory, practice=_same_practice)
    service_month = dt.date(2025, 1, 1)
    mdm = MedicalDecisionMaking.MODERATE
    note = "Two unstable chronic conditions; medicines adjusted."
    attested_by = factory.SubFactory(
        "tests.factories.MembershipFactory", practice=_same_practice, role=Role.PHYSICIAN
    )


class CarePlanTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CarePlanTemplate

    name = factory.Sequence(lambda n: f"Practice template {n}")
    icd10_prefixes = factory.LazyFunction(lambda: ["E66"])
    goals = factory.LazyFunction(
        lambda: [
            {
                "goal": "Lose weight",
                "measure": "Body weight",
                "target": "5 % lower",
                "target_in_days": 180,
            }
        ]
    )
    interventions = factory.LazyFunction(
        lambda: [
            {
                "intervention": "Refer to a dietitian",
                "responsible_role": "care_coordinator",
                "frequency": "Once",
            }
        ]
    )
    created_by = factory.SubFactory(
        "tests.factories.MembershipFactory", practice=_same_practice, role=Role.PHYSICIAN
    )


# --- timetracking: pass practice=...; behaviour tests log time with the real services --------

_ENTRY_BASE = dt.datetime(2025, 1, 6, 14, 0, tzinfo=dt.UTC)


def _entry_period(n: int) -> DateTimeTZRange:
    start = _ENTRY_BASE + dt.timedelta(minutes=30 * (n % 1000))
    return DateTimeTZRange(start, start + dt.timedelta(minutes=20), "[)")


class TimeEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TimeEntry

    patient = factory.SubFactory(PatientFactory, practice=_same_practice)
    member = factory.SubFactory("tests.factories.MembershipFactory", practice=_same_practice)
    staff_role = StaffRole.CLINICAL_STAFF
    period = factory.Sequence(_entry_period)
    service_month = dt.date(2025, 1, 1)
    activity = Activity.CARE_PLAN
    source = EntrySource.MANUAL


class TimeEntryRevisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TimeEntryRevision

    entry = factory.SubFactory(TimeEntryFactory, practice=_same_practice)
    kind = RevisionKind.EDITED
    actor = factory.SelfAttribute("entry.member")
    reason = "Corrected the end time"
    before = factory.LazyFunction(dict)
    after = factory.LazyFunction(dict)


class TimerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Timer

    member = factory.SubFactory("tests.factories.MembershipFactory", practice=_same_practice)
    patient = factory.SubFactory(PatientFactory, practice=_same_practice)
    started_at = _ENTRY_BASE


class TimeTrackingSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TimeTrackingSettings

    timer_confirm_after_minutes = 60


class MonthLockFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MonthLock

    service_month = dt.date(2025, 1, 1)


class PatientMonthTimeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PatientMonthTime

    patient = factory.SubFactory(PatientFactory, practice=_same_practice)
    service_month = dt.date(2025, 1, 1)
    staff_minutes = 12


# --- billing: pass practice=...; behaviour tests close months with the real services ---------


def _billing_month_of(n: int) -> dt.date:
    return dt.date(2020 + n // 12, n % 12 + 1, 1)


class BillingMonthFactory(factory.django.DjangoModelFactory):
    """A closed month (each one a different month: one row per practice and month)."""

    class Meta:
        model = BillingMonth

    service_month = factory.Sequence(_billing_month_of)
    state = BillingMonthState.CLOSED
    generation = 1
    closed_at = dt.datetime(2025, 2, 4, 10, 0, tzinfo=dt.UTC)
    claim_count = 1
    total_cents = 6049


class ClaimFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Claim

    billing_month = factory.SubFactory(BillingMonthFactory, practice=_same_practice)
    generation = 1
    patient = factory.SubFactory(PatientFactory, practice=_same_practice)
    billing_practitioner = factory.SubFactory(
        "tests.factories.MembershipFactory", practice=_same_practice, role=Role.PHYSICIAN
    )
    practitioner_name = "Dr. Example Physician, MD"
    practitioner_npi = PHYSICIAN_NPIS[0]
    date_of_service = factory.LazyAttribute(lambda claim: claim.billing_month.service_month)
    place_of_service = "11"
    diagnoses = factory.LazyFunction(lambda: ["E11.9", "I10"])
    family = "staff"
    counted_minutes = 25
    explanation = factory.LazyFunction(lambda: ["Billed 99490 x1 (staff family, R-CODE-1/2)."])
    total_cents = 6049


class ClaimLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClaimLine

    claim = factory.SubFactory(ClaimFactory, practice=_same_practice)
    position = 1
    code = "99490"
    units = 1
    unit_cents = 6049
    total_cents = 6049


class NotBillableFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NotBillable

    billing_month = factory.SubFactory(BillingMonthFactory, practice=_same_practice)
    generation = 1
    patient = factory.SubFactory(PatientFactory, practice=_same_practice)
    reason = "NB_TIME_BELOW_THRESHOLD"
    fix = "8 more minutes of care management (12 of 20 counted)"
    counted_minutes = 12
    explanation = factory.LazyFunction(lambda: ["Not billable: 12 minutes counted."])


class BillingReportFactory(factory.django.DjangoModelFactory):
    """A month report still being prepared (no file)."""

    class Meta:
        model = BillingReport

    billing_month = factory.SubFactory(BillingMonthFactory, practice=_same_practice)
    generation = 1
    kind = ReportKind.BILLING_CSV
