"""The facts of every patient-month of one practice-month, built from the database.

``month_facts`` produces exactly the ``billing.rules.PatientMonthFacts`` the engine takes (the
``facts`` object of SCENARIO_FORMAT.md), for every patient in the month's scope, with three
queries whatever the number of patients:

1. the practice's members (the people the facts name);
2. the patients in scope, each with its conditions, visits, consents, signed care-plan
   versions (with their first patient-copy date), other billed services, facility stays and
   complexity attestation, aggregated as JSON arrays by correlated subqueries (one row per
   patient);
3. the month's time entries.

A patient is in the month's scope when it was enrolled at some moment of the month (from its
enrollment history; a patient without any history counts by its current status) or has time
logged in the month. People are named by stable ids: ``m-<membership public id>`` for a member
of the practice, ``npi-<NPI>`` (or ``outside-<name>``) for a practitioner outside it.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

from django.contrib.postgres.aggregates import ArrayAgg, JSONBAgg
from django.db import connection
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Count,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
)
from django.db.models.functions import Cast, JSONObject
from django.utils.text import slugify

from billing.rules import (
    CarePlanCopyPolicy,
    CarePlanVersion,
    Complexity,
    Condition,
    Consent,
    ConsentMethod,
    DateOfServicePolicy,
    FacilityStay,
    FamilyChoice,
    MedicalDecisionMaking,
    OtherService,
    PatientMonthFacts,
    PatientStatus,
    PracticePolicy,
    Role,
    StayKind,
    TimeEntry,
    Visit,
)
from careplans.content import TEXT_FIELD_NAMES, missing_elements
from careplans.models import CarePlanCopy, ComplexityAttestation, VersionStatus
from careplans.models import CarePlanVersion as CarePlanVersionRow
from ccm.models import Membership, Practice
from patients.models import Condition as ConditionRow
from patients.models import Consent as ConsentRow
from patients.models import ConsentOutcome, EnrollmentEvent, EnrollmentStatus, Patient
from patients.models import FacilityStay as FacilityStayRow
from patients.models import OtherService as OtherServiceRow
from patients.models import Visit as VisitRow
from timetracking.models import TimeEntry as TimeEntryRow
from timetracking.months import month_bounds, next_month

if TYPE_CHECKING:
    from careplans.content import PlanContent

MEMBER_PREFIX = "m-"
UNASSIGNED = "unassigned"  # the billing practitioner of a patient who has none yet


@dataclass(frozen=True, slots=True)
class Person:
    """Someone the facts name: a member of the practice, or a practitioner outside it."""

    id: str
    name: str
    npi: str
    credential: str = ""
    membership_id: int | None = None

    @property
    def label(self) -> str:
        """``Dr. Samuel Okafor, MD`` for sentences and reports."""
        return f"{self.name}, {self.credential}" if self.credential else self.name


@dataclass(frozen=True, slots=True)
class PatientMonth:
    """One patient's facts for the month, with the ids that claims and records point to."""

    patient_id: int
    patient_public_id: uuid.UUID
    mrn: str
    billing_practitioner_id: int | None
    facts: PatientMonthFacts


@dataclass(frozen=True, slots=True)
class MonthFacts:
    """Every patient-month of one practice-month, and the people their facts name."""

    service_month: dt.date
    people: Mapping[str, Person]
    patients: tuple[PatientMonth, ...]


def member_person_id(public_id: uuid.UUID) -> str:
    """The stable person id of a member of the practice."""
    return f"{MEMBER_PREFIX}{public_id}"


def outside_person_id(*, name: str, npi: str) -> str:
    """The person id of a practitioner outside the practice: by NPI when known, else by name."""
    return f"npi-{npi}" if npi else f"outside-{slugify(name) or 'unnamed'}"


def practice_policy(practice: Practice) -> PracticePolicy:
    """The practice's time zone, place of service and billing policies (SCENARIO ``practice``)."""
    return PracticePolicy(
        timezone=practice.timezone,
        place_of_service=practice.place_of_service,
        complex_requires_plan_revision=practice.complex_requires_plan_revision,
        care_plan_copy=CarePlanCopyPolicy(practice.care_plan_copy_policy),
        family_choice=FamilyChoice(practice.family_choice),
        date_of_service=DateOfServicePolicy(practice.date_of_service_policy),
    )


def _members(practice: Practice) -> dict[int, Person]:
    """Every member of the practice as a Person, by membership primary key (query 1)."""
    members = Membership.objects.for_practice(practice).select_related("user").order_by("id")
    return {
        member.pk: Person(
            id=member_person_id(member.public_id),
            name=member.display_name,
            npi=member.npi,
            credential=member.credential,
            membership_id=member.pk,
        )
        for member in members
    }


_MICROS = 1_000_000


def _instant(epoch_us: int) -> dt.datetime:
    """An aware UTC datetime from integer epoch microseconds, exactly."""
    seconds, micros = divmod(epoch_us, _MICROS)
    moment = dt.datetime.fromtimestamp(seconds, dt.UTC)
    return moment.replace(microsecond=micros) if micros else moment


class _EpochMicros(Func):
    """``lower``/``upper`` of a range as integer epoch microseconds (exact, and fast to read)."""

    template = "(EXTRACT(EPOCH FROM %(function)s(%(expressions)s)) * 1000000)::bigint"
    output_field = BigIntegerField()


class _HasItems(Func):
    """A JSON array has at least one item."""

    template = "(jsonb_array_length(%(expressions)s) > 0)"
    output_field = BooleanField()


class _HasText(Func):
    """A text has more than whitespace (Python's ``str.strip`` on ASCII whitespace)."""

    template = "(btrim(%(expressions)s, E' \\t\\n\\r\\f\\v') <> '')"
    output_field = BooleanField()


class _HasMeasurableGoal(Func):
    """A JSON array of goals holds one with both a measure and a target."""

    template = (
        "EXISTS (SELECT 1 FROM jsonb_array_elements(%(expressions)s) AS goal "
        "WHERE COALESCE(goal->>'measure', '') <> '' AND COALESCE(goal->>'target', '') <> '')"
    )
    output_field = BooleanField()


class _JsonObject(JSONObject):
    """``json_build_object``: the facts are read once as text, so ``json`` beats ``jsonb``."""

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        copy = self.copy()
        copy.set_source_expressions(
            [
                Cast(expression, TextField()) if index % 2 == 0 else expression
                for index, expression in enumerate(copy.get_source_expressions())
            ]
        )
        return Func.as_sql(copy, compiler, connection, function="JSON_BUILD_OBJECT", **extra)


class _JsonAgg(JSONBAgg):
    """``json_agg`` (see ``_JsonObject``)."""

    function = "JSON_AGG"


def _grouped(
    queryset: QuerySet[Any], *, patient: str = "patient_id", **fields: Any
) -> tuple[str, list[Any]]:
    """SQL of ``(patient_key, rows)``: each patient's rows as one JSON array, oldest first."""
    grouped = (
        queryset.annotate(patient_key=F(patient))
        .values("patient_key")
        .annotate(rows=_JsonAgg(_JsonObject(**fields), order_by=("id",)))
        .values("patient_key", "rows")
        .order_by()
    )
    sql, params = grouped.query.sql_with_params()
    return sql, list(params)


def _encounter_fields() -> dict[str, str]:
    return {
        "date": "date",
        "code": "code",
        "member": "practitioner_id",
        "outside_name": "outside_practitioner_name",
        "outside_npi": "outside_practitioner_npi",
    }


def _relations(
    *, practice: Practice, service_month: dt.date, last_day: dt.date
) -> dict[str, tuple[str, list[Any]]]:
    """The SQL of every relation the facts aggregate per patient, by JSON key."""
    first_copy = (
        CarePlanCopy.objects.for_practice(practice)
        .filter(version=OuterRef("pk"))
        .order_by("given_on")
        .values("given_on")[:1]
    )
    present = {
        # R-PLAN-2 presence, as careplans' ``missing_elements`` reads it: a list has items, a
        # goal has a measure and a target, a text has more than whitespace.
        "has_problems": _HasItems(F("problems")),
        "has_interventions": _HasItems(F("interventions")),
        "has_measurable_goal": _HasMeasurableGoal(F("goals")),
        **{f"has_{name}": _HasText(F(name)) for name in TEXT_FIELD_NAMES},
    }
    return {
        "conditions": _grouped(
            ConditionRow.objects.for_practice(practice),
            code="code",
            chronic="chronic_attested",
            onset="onset_date",
            resolved="resolved_on",
        ),
        "visits": _grouped(
            VisitRow.objects.for_practice(practice).filter(
                voided_at__isnull=True, date__lte=last_day
            ),
            ccm_discussed="ccm_discussed",
            **_encounter_fields(),
        ),
        "services": _grouped(
            OtherServiceRow.objects.for_practice(practice).filter(
                voided_at__isnull=True, date__gte=service_month, date__lte=last_day
            ),
            **_encounter_fields(),
        ),
        "stays": _grouped(
            FacilityStayRow.objects.for_practice(practice).filter(
                voided_at__isnull=True, from_date__lte=last_day, to_date__gte=service_month
            ),
            kind="kind",
            first="from_date",
            last="to_date",
        ),
        "consents": _grouped(
            ConsentRow.objects.for_practice(practice).filter(
                outcome=ConsentOutcome.CONSENTED, obtained_on__lte=last_day
            ),
            member="practitioner_id",
            obtained_on="obtained_on",
            obtained_at="obtained_at",
            revoked_on="revoked_on",
            method="method",
        ),
        "care_plans": _grouped(
            CarePlanVersionRow.objects.for_practice(practice).filter(
                status=VersionStatus.SIGNED, signed_on__lte=last_day
            ),
            patient="care_plan__patient_id",
            version="number",
            member="signed_by_id",
            signed_on="signed_on",
            substantial_revision="substantial_revision",
            patient_copy_on=Subquery(first_copy),
            **present,
        ),
        "complexity": _grouped(
            ComplexityAttestation.objects.for_practice(practice).filter(
                service_month=service_month, voided_at__isnull=True
            ),
            mdm="mdm",
            member="attested_by_id",
        ),
    }


@dataclass(frozen=True, slots=True)
class _PatientRow:
    """One patient in scope, read without building a model (no decryption, no converters)."""

    id: int
    public_id: uuid.UUID
    mrn: str
    billing_practitioner_id: int | None
    medicare_part_b: bool
    date_of_death: dt.date | None
    blocked_by_model: bool
    status_at_end: str | None
    related: dict[str, list[dict[str, Any]]]


def _patients(
    *, practice: Practice, service_month: dt.date, mrns: Collection[str] | None
) -> list[_PatientRow]:
    """The patients in the month's scope, each with its facts as one JSON document (query 2).

    Every relation is aggregated once per practice and hash-joined to the patients: a handful
    of set operations, not a lookup per patient.
    """
    start, end = month_bounds(service_month, practice.tz)
    last_day = next_month(service_month) - dt.timedelta(days=1)
    newest_first = ("-at", "-id")
    events_sql, events_params = (
        EnrollmentEvent.objects.for_practice(practice)
        .values("patient_id")
        .annotate(
            statuses_before_start=ArrayAgg(
                "to_status", filter=Q(at__lt=start), order_by=newest_first
            ),
            statuses_before_end=ArrayAgg("to_status", filter=Q(at__lt=end), order_by=newest_first),
            enrolled_during=Count(
                "id", filter=Q(at__gte=start, at__lt=end, to_status=EnrollmentStatus.ENROLLED)
            ),
        )
        .order_by()
        .query.sql_with_params()
    )
    time_sql, time_params = (
        TimeEntryRow.objects.for_practice(practice)
        .filter(service_month=service_month, voided_at__isnull=True)
        .values("patient_id")
        .annotate(entries=Count("id"))
        .order_by()
        .query.sql_with_params()
    )
    patients_sql, patients_params = (
        Patient.objects.for_practice(practice)
        .values(
            "id",
            "public_id",
            "mrn",
            "billing_practitioner_id",
            "medicare_part_b",
            "date_of_death",
            "blocked_by_model",
            "enrollment_status",
            "created_at",
            "last_name",
            "first_name",
        )
        .order_by()
        .query.sql_with_params()
    )
    relations = _relations(practice=practice, service_month=service_month, last_day=last_day)
    joins = " ".join(
        f"LEFT JOIN ({sql}) AS r_{key} ON r_{key}.patient_key = p.id"
        for key, (sql, _) in relations.items()
    )
    document = ", ".join(f"'{key}', COALESCE(r_{key}.rows, '[]'::json)" for key in relations)
    params: list[Any] = [*patients_params, *events_params, *time_params]
    for _, relation_params in relations.values():
        params.extend(relation_params)
    if mrns is None:
        scope = (
            "te.patient_id IS NOT NULL OR ev.enrolled_during > 0 "
            "OR ev.statuses_before_start[1] = %s "
            "OR (ev.patient_id IS NULL AND p.enrollment_status = %s AND p.created_at < %s)"
        )
        params += [EnrollmentStatus.ENROLLED.value, EnrollmentStatus.ENROLLED.value, end]
    else:
        scope = "p.mrn = ANY(%s)"
        params.append(list(mrns))
    # Only ORM-built SQL and constants are formatted in; every value is a parameter.
    sql = f"""
        SELECT p.id, p.public_id, p.mrn, p.billing_practitioner_id, p.medicare_part_b,
               p.date_of_death, p.blocked_by_model,
               CASE WHEN ev.patient_id IS NULL THEN p.enrollment_status
                    ELSE ev.statuses_before_end[1] END,
               json_build_object({document})::text, p.last_name, p.first_name
        FROM ({patients_sql}) AS p
        LEFT JOIN ({events_sql}) AS ev ON ev.patient_id = p.id
        LEFT JOIN ({time_sql}) AS te ON te.patient_id = p.id
        {joins}
        WHERE {scope}
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = sorted(cursor.fetchall(), key=lambda row: (row[9], row[10], row[0]))
    return [
        _PatientRow(
            id=row[0],
            public_id=row[1] if isinstance(row[1], uuid.UUID) else uuid.UUID(row[1]),
            mrn=row[2],
            billing_practitioner_id=row[3],
            medicare_part_b=row[4],
            date_of_death=row[5],
            blocked_by_model=row[6],
            status_at_end=row[7],
            related=json.loads(row[8]),
        )
        for row in rows
    ]


def _time_entries(
    *,
    practice: Practice,
    service_month: dt.date,
    people: Mapping[int, Person],
    patient_ids: list[int] | None,
) -> dict[int, list[TimeEntry]]:
    """The month's unvoided time entries per patient id, in time order (query 3)."""
    rows = (
        TimeEntryRow.objects.for_practice(practice)
        .filter(service_month=service_month, voided_at__isnull=True)
        .annotate(
            start_us=_EpochMicros("period", function="lower"),
            end_us=_EpochMicros("period", function="upper"),
        )
        .order_by("patient_id", "period", "id")
        .values_list("patient_id", "member_id", "staff_role", "start_us", "end_us", "part_of")
    )
    if patient_ids is not None:
        if not patient_ids:
            return {}
        rows = rows.filter(patient_id__in=patient_ids)
    roles = {role.value: role for role in Role}
    person = {member_id: member.id for member_id, member in people.items()}
    entries: dict[int, list[TimeEntry]] = defaultdict(list)
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:  # plain tuples: no per-row converters for 50,000 rows
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    for patient_id, member_id, staff_role, start_us, end_us, part_of in fetched:
        entries[patient_id].append(
            TimeEntry(
                by=person[member_id],
                role=roles[staff_role],
                start=_instant(start_us),
                end=_instant(end_us),
                part_of=part_of or None,
            )
        )
    return entries


def _date(value: str | None) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(value)


def _required_date(value: str) -> dt.date:
    return dt.date.fromisoformat(value)


class _Names:
    """Person ids of members and outside practitioners, collected as the facts name them."""

    def __init__(self, members: Mapping[int, Person]) -> None:
        self.members = members
        self.outside: dict[str, Person] = {}

    def member(self, membership_id: int) -> str:
        return self.members[membership_id].id

    def encounter(self, row: Mapping[str, Any]) -> str:
        """Who furnished a visit or service: a member, or someone outside the practice."""
        if row["member"] is not None:
            return self.member(row["member"])
        name, npi = row["outside_name"], row["outside_npi"]
        person_id = outside_person_id(name=name, npi=npi)
        self.outside.setdefault(person_id, Person(id=person_id, name=name, npi=npi))
        return person_id


def _conditions(rows: Iterable[Mapping[str, Any]], service_month: dt.date) -> tuple[Condition, ...]:
    """Conditions; ``active`` means active at some point of the month (resolved later or not)."""
    last_day = next_month(service_month) - dt.timedelta(days=1)
    conditions = []
    for row in rows:
        onset, resolved = _date(row["onset"]), _date(row["resolved"])
        active = (resolved is None or resolved >= service_month) and (
            onset is None or onset <= last_day
        )
        conditions.append(Condition(code=row["code"], chronic=row["chronic"], active=active))
    return tuple(conditions)


def _consent(row: Mapping[str, Any], names: _Names) -> Consent:
    """A consent to a practitioner; the exact moment when it was recorded (AMB-16)."""
    obtained: dt.date | dt.datetime = (
        dt.datetime.fromisoformat(row["obtained_at"])
        if row["obtained_at"]
        else _required_date(row["obtained_on"])
    )
    return Consent(
        practitioner=names.member(row["member"]),
        obtained=obtained,
        revoked=_date(row["revoked_on"]),
        method=ConsentMethod(row["method"]),
    )


# The presence flags of a version's JSON row, in a fixed order (the cache key below).
_PRESENCE_KEYS = (
    "has_problems",
    "has_measurable_goal",
    "has_interventions",
    *(f"has_{name}" for name in TEXT_FIELD_NAMES),
)


@lru_cache(maxsize=4096)
def _missing_for(flags: tuple[bool, ...]) -> tuple[str, ...]:
    """careplans' own R-PLAN-2 check on content that has exactly what the flags say.

    ``missing_elements`` reads only whether each list has items, whether a goal has a measure
    and a target, and which narrative texts are filled in: one answer per combination.
    """
    problems, goal, interventions, *texts = flags
    content = SimpleNamespace(
        problems=(True,) if problems else (),
        goals=(SimpleNamespace(measure="m", target="t"),) if goal else (),
        interventions=(True,) if interventions else (),
        texts={
            name: "text" for name, present in zip(TEXT_FIELD_NAMES, texts, strict=True) if present
        },
    )
    return tuple(missing_elements(cast("PlanContent", content)))


def _missing_elements(row: Mapping[str, Any]) -> tuple[str, ...]:
    return _missing_for(tuple(row[key] for key in _PRESENCE_KEYS))


def _care_plan(row: Mapping[str, Any], names: _Names) -> CarePlanVersion:
    """A signed version as billing's ``care_plans[]`` item."""
    return CarePlanVersion(
        version=row["version"],
        signed_by=names.member(row["member"]),
        signed_on=_required_date(row["signed_on"]),
        patient_copy_on=_date(row["patient_copy_on"]),
        substantial_revision=bool(row["substantial_revision"]),
        missing_elements=_missing_elements(row),
    )


def _patient_facts(
    *,
    patient: _PatientRow,
    service_month: dt.date,
    policy: PracticePolicy,
    names: _Names,
    time_entries: list[TimeEntry],
) -> PatientMonthFacts:
    """One patient's PatientMonthFacts from its row and JSON document."""
    biller_id = patient.billing_practitioner_id
    related = patient.related
    complexity = related["complexity"]
    return PatientMonthFacts(
        service_month=service_month,
        practice=policy,
        billing_practitioner=UNASSIGNED if biller_id is None else names.member(biller_id),
        patient=PatientStatus(
            medicare_part_b=patient.medicare_part_b,
            date_of_death=patient.date_of_death,
            enrolled_elsewhere=patient.status_at_end == EnrollmentStatus.ENROLLED_ELSEWHERE,
            blocked_by_model=patient.blocked_by_model,
        ),
        conditions=_conditions(related["conditions"], service_month),
        visits=tuple(
            Visit(
                date=_required_date(row["date"]),
                code=row["code"],
                by=names.encounter(row),
                ccm_discussed=row["ccm_discussed"],
            )
            for row in related["visits"]
        ),
        consents=tuple(_consent(row, names) for row in related["consents"]),
        care_plans=tuple(
            _care_plan(row, names)
            for row in sorted(related["care_plans"], key=lambda row: row["version"])
        ),
        complexity=(
            Complexity(
                mdm=MedicalDecisionMaking(complexity[0]["mdm"]),
                by=names.member(complexity[0]["member"]),
            )
            if complexity
            else None
        ),
        other_services=tuple(
            OtherService(
                code=row["code"], by=names.encounter(row), date=_required_date(row["date"])
            )
            for row in related["services"]
        ),
        facility_stays=tuple(
            FacilityStay(
                kind=StayKind(row["kind"]),
                from_=_required_date(row["first"]),
                to=_required_date(row["last"]),
            )
            for row in related["stays"]
        ),
        time_entries=tuple(time_entries),
    )


def month_facts(
    *, practice: Practice, service_month: dt.date, mrns: Collection[str] | None = None
) -> MonthFacts:
    """The facts of every patient-month of ``service_month`` in ``practice``, in three queries.

    ``mrns`` limits the result to those patients, in scope or not (to replay one patient).
    Patients are ordered by name.
    """
    members = _members(practice)
    names = _Names(members)
    patients = _patients(practice=practice, service_month=service_month, mrns=mrns)
    entries = _time_entries(
        practice=practice,
        service_month=service_month,
        people=members,
        patient_ids=None if mrns is None else [patient.id for patient in patients],
    )
    policy = practice_policy(practice)
    months = tuple(
        PatientMonth(
            patient_id=patient.id,
            patient_public_id=patient.public_id,
            mrn=patient.mrn,
            billing_practitioner_id=patient.billing_practitioner_id,
            facts=_patient_facts(
                patient=patient,
                service_month=service_month,
                policy=policy,
                names=names,
                time_entries=entries.get(patient.id, []),
            ),
        )
        for patient in patients
    )
    people = {person.id: person for person in members.values()}
    people.update(names.outside)
    return MonthFacts(service_month=service_month, people=people, patients=months)


# --- One patient-month's record, for its audit packet ----------------------------------------


@dataclass(frozen=True, slots=True)
class PatientMonthRecord:
    """What an auditor asks for about one billed patient-month (the audit packet).

    The consents to the billing practitioner, the signed care-plan version in effect at the
    month's end (with the copies given), and every time entry of the month (voided ones too,
    marked so).
    """

    consents: tuple[ConsentRow, ...]
    care_plan_version: CarePlanVersionRow | None
    care_plan_copies: tuple[CarePlanCopy, ...]
    time_entries: tuple[TimeEntryRow, ...]


def patient_month_record(
    *,
    practice: Practice,
    patient: Patient,
    service_month: dt.date,
    billing_practitioner_id: int,
) -> PatientMonthRecord:
    """The audit packet's records of ``patient`` for ``service_month`` (four queries)."""
    last_day = next_month(service_month) - dt.timedelta(days=1)
    consents = (
        ConsentRow.objects.for_practice(practice)
        .filter(
            patient=patient,
            practitioner_id=billing_practitioner_id,
            outcome=ConsentOutcome.CONSENTED,
            obtained_on__lte=last_day,
        )
        .select_related("practitioner__user", "obtained_by__user", "revoked_by__user")
        .order_by("obtained_on", "id")
    )
    version = (
        CarePlanVersionRow.objects.for_practice(practice)
        .filter(
            care_plan__patient=patient,
            status=VersionStatus.SIGNED,
            signed_by_id=billing_practitioner_id,
            signed_on__lte=last_day,
        )
        .select_related("signed_by__user", "care_plan")
        .order_by("-number")
        .first()
    )
    copies = (
        CarePlanCopy.objects.for_practice(practice)
        .filter(version=version)
        .select_related("given_by__user")
        .order_by("given_on", "id")
        if version is not None
        else CarePlanCopy.objects.none()
    )
    entries = (
        TimeEntryRow.objects.for_practice(practice)
        .filter(patient=patient, service_month=service_month)
        .select_related("member__user")
        .order_by("period", "id")
    )
    return PatientMonthRecord(
        consents=tuple(consents),
        care_plan_version=version,
        care_plan_copies=tuple(copies),
        time_entries=tuple(entries),
    )
