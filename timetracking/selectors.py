"""Reads of time tracking that pages, API, billing and reports share.

Billing uses three of them: ``time_entry_list(practice=, service_month=, include_voided=False)``
(the entries of a month, each inside that month), ``patient_month_minutes`` (counted minutes
per patient, one aggregate query) and ``service_month_is_locked``.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from ccm.errors import NotFound
from ccm.models import Membership, Practice
from ccm.permissions import Role
from patients.models import EnrollmentStatus, Patient
from timetracking.counting import COUNTED_ENTRY, merged_minutes
from timetracking.models import (
    DEFAULT_TIMER_CONFIRM_AFTER_MINUTES,
    MonthLock,
    TimeEntry,
    TimeEntryRevision,
    Timer,
    TimeTrackingSettings,
)
from timetracking.months import days_left, previous_month

# Counted-minute thresholds of the CCM code families (RULES.md §1.2): the first unit of the
# non-complex family bills at 20 minutes, each add-on at 20 more (99490, then 99439 twice); complex
# CCM bills at 60 and then every 30 (99487, then 99489 twice). Only progress is shown here: billing
# decides what is billable.
NON_COMPLEX_THRESHOLDS: tuple[int, ...] = (20, 40, 60)
COMPLEX_THRESHOLDS: tuple[int, ...] = (60, 90, 120)
WORKLIST_PAGE_SIZE = 50
ENDING_SOON_DAYS = 5


def time_tracking_settings_get(*, practice: Practice) -> TimeTrackingSettings:
    """The practice's settings; an unsaved row with the defaults when none was saved yet."""
    found = TimeTrackingSettings.objects.for_practice(practice).first()
    return found or TimeTrackingSettings(
        practice=practice, timer_confirm_after_minutes=DEFAULT_TIMER_CONFIRM_AFTER_MINUTES
    )


def time_patient_get(*, practice: Practice, public_id: uuid.UUID) -> Patient:
    """A patient of the practice for the time pages (404 for any other)."""
    try:
        return (
            Patient.objects.for_practice(practice)
            .select_related("billing_practitioner__user")
            .get(public_id=public_id)
        )
    except Patient.DoesNotExist as exc:
        raise NotFound from exc


def enrolled_patient_list(*, practice: Practice) -> QuerySet[Patient]:
    """The practice's patients enrolled in CCM now, by name (the worklist's population)."""
    return (
        Patient.objects.for_practice(practice)
        .filter(enrollment_status=EnrollmentStatus.ENROLLED)
        .select_related("billing_practitioner__user")
        .order_by("last_name", "first_name", "id")
    )


def time_entry_list(
    *,
    practice: Practice,
    patient: Patient | None = None,
    service_month: date | None = None,
    member: Membership | None = None,
    include_voided: bool = True,
) -> QuerySet[TimeEntry]:
    """Entries, newest first, with patient and member loaded."""
    entries = TimeEntry.objects.for_practice(practice).select_related(
        "patient", "member__user", "voided_by__user"
    )
    if patient is not None:
        entries = entries.filter(patient=patient)
    if service_month is not None:
        entries = entries.filter(service_month=service_month)
    if member is not None:
        entries = entries.filter(member=member)
    if not include_voided:
        entries = entries.filter(voided_at__isnull=True)
    return entries.order_by("-period", "-id")


def time_entry_get(*, practice: Practice, public_id: uuid.UUID) -> TimeEntry:
    try:
        return time_entry_list(practice=practice).get(public_id=public_id)
    except TimeEntry.DoesNotExist as exc:
        raise NotFound from exc


def time_entry_revision_list(
    *, practice: Practice, entry: TimeEntry
) -> QuerySet[TimeEntryRevision]:
    return (
        TimeEntryRevision.objects.for_practice(practice)
        .filter(entry=entry)
        .select_related("actor__user")
        .order_by("-at", "-id")
    )


def timer_running(*, practice: Practice, member: Membership) -> Timer | None:
    """The member's running timer, or None (at most one: a database constraint)."""
    return (
        Timer.objects.for_practice(practice)
        .filter(member=member, stopped_at__isnull=True)
        .select_related("patient")
        .first()
    )


def timer_get(*, practice: Practice, public_id: uuid.UUID) -> Timer:
    try:
        return (
            Timer.objects.for_practice(practice)
            .select_related("patient", "member__user")
            .get(public_id=public_id)
        )
    except Timer.DoesNotExist as exc:
        raise NotFound from exc


def month_locks_in_force(
    *, practice: Practice, service_months: Collection[date]
) -> QuerySet[MonthLock]:
    """The locks that close any of ``service_months`` now (a reopened lock no longer does)."""
    return MonthLock.objects.for_practice(practice).filter(
        service_month__in=list(service_months), reopened_at__isnull=True
    )


def service_month_is_locked(*, practice: Practice, service_month: date) -> bool:
    """Whether the month is closed to new, edited or voided time entries."""
    return month_locks_in_force(practice=practice, service_months=[service_month]).exists()


def month_lock_list(*, practice: Practice) -> QuerySet[MonthLock]:
    return (
        MonthLock.objects.for_practice(practice)
        .select_related("locked_by__user", "reopened_by__user")
        .order_by("-service_month", "-locked_at")
    )


def time_logger_list(*, practice: Practice) -> QuerySet[Membership]:
    """Members who may log time (the worklist's coordinator filter)."""
    return (
        Membership.objects.for_practice(practice)
        .filter(role__in=[Role.CARE_COORDINATOR, Role.PHYSICIAN], is_active=True)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )


# Counted minutes per patient of one month: everyone's counted intervals merged.
_MONTH_MINUTES_SQL = f"""
    SELECT e.patient_id, {merged_minutes(COUNTED_ENTRY)} AS minutes
    FROM timetracking_timeentry e
    JOIN patients_patient p ON p.practice_id = e.practice_id AND p.id = e.patient_id
    WHERE e.practice_id = %(practice)s AND e.voided_at IS NULL
      AND e.service_month = %(month)s {{only}}
    GROUP BY e.patient_id
    HAVING BOOL_OR({COUNTED_ENTRY})
"""  # noqa: S608  (a constant)


def patient_month_minutes(
    *, practice: Practice, service_month: date, patient_ids: Collection[int] | None = None
) -> dict[int, int]:
    """Counted minutes per patient (by primary key) for the month, in one aggregate query.

    R-TIME-5: the counted intervals of everyone are merged (``RANGE_AGG``, a multirange), so
    time two people spent together counts once; seconds are floored to minutes at the end
    (POL-ROUND). Patients without counted time are absent (their total is 0).
    """
    params: dict[str, Any] = {"practice": practice.pk, "month": service_month}
    only = ""
    if patient_ids is not None:
        only = "AND e.patient_id = ANY(%(patients)s::bigint[])"
        params["patients"] = list(patient_ids)
    with connection.cursor() as cursor:
        cursor.execute(_MONTH_MINUTES_SQL.format(only=only), params)
        return dict(cursor.fetchall())


@dataclass(frozen=True, slots=True)
class MonthProgress:
    """Counted minutes against the next threshold of the patient's code family."""

    minutes: int
    is_complex: bool
    thresholds: tuple[int, ...]
    next_threshold: int | None
    minutes_needed: int

    @property
    def reached(self) -> int:
        """How many thresholds the minutes have reached."""
        return sum(1 for threshold in self.thresholds if self.minutes >= threshold)

    @property
    def percent(self) -> int:
        """Filled share of the bar: minutes toward the next threshold (100 when all reached)."""
        if self.next_threshold is None:
            return 100
        return min(100, self.minutes * 100 // self.next_threshold)

    @property
    def percent_step(self) -> int:
        """``percent`` rounded down to 5 (the bar's width class: no inline styles under CSP)."""
        return self.percent - self.percent % 5

    @property
    def is_complete(self) -> bool:
        return self.next_threshold is None


def month_progress(*, minutes: int, is_complex: bool = False) -> MonthProgress:
    thresholds = COMPLEX_THRESHOLDS if is_complex else NON_COMPLEX_THRESHOLDS
    upcoming = [threshold for threshold in thresholds if threshold > minutes]
    next_threshold = upcoming[0] if upcoming else None
    return MonthProgress(
        minutes=minutes,
        is_complex=is_complex,
        thresholds=thresholds,
        next_threshold=next_threshold,
        minutes_needed=0 if next_threshold is None else next_threshold - minutes,
    )


@dataclass(frozen=True, slots=True)
class WorklistPatient:
    """What a worklist row shows of its patient (read with the row, not as a model)."""

    public_id: uuid.UUID
    mrn: str
    first_name: str
    last_name: str
    #: The billing practitioner's name (their e-mail without one), None without a practitioner.
    practitioner_name: str | None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True, slots=True)
class WorklistRow:
    patient: WorklistPatient
    progress: MonthProgress
    last_contact_at: datetime | None
    has_running_timer: bool
    #: Whole local days since the last contact (0 today), None without one.
    days_since_contact: int | None


@dataclass(frozen=True, slots=True)
class Worklist:
    service_month: date
    days_left: int
    rows: list[WorklistRow]
    total: int
    page: int
    page_size: int
    running_timer: Timer | None

    @property
    def page_count(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.page_count

    @property
    def contact_since(self) -> date:
        """Last contact is looked for from the first day of the previous month."""
        return previous_month(self.service_month)

    @property
    def is_ending_soon(self) -> bool:
        return self.days_left <= ENDING_SOON_DAYS


def _case_over_thresholds(column: str, pick: str) -> str:
    """SQL CASE giving, per family, the next threshold above ``column`` (or NULL when done)."""

    def family(thresholds: tuple[int, ...]) -> str:
        whens = " ".join(f"WHEN {column} < {t} THEN {t}" for t in thresholds)
        return f"CASE {whens} ELSE NULL END"

    return (
        f"CASE WHEN {pick} THEN {family(COMPLEX_THRESHOLDS)} "
        f"ELSE {family(NON_COMPLEX_THRESHOLDS)} END"
    )


def worklist(
    *,
    practice: Practice,
    member: Membership,
    service_month: date,
    now: datetime,
    coordinator: Membership | None = None,
    complex_patient_ids: Collection[int] = (),
    page: int = 1,
    page_size: int = WORKLIST_PAGE_SIZE,
) -> Worklist:
    """The coordinator's worklist: enrolled patients, what needs attention first.

    Order: patients who have not reached their family's first threshold, then those between
    thresholds, then those who reached the last one; within each, the fewest minutes still
    needed for the next threshold first (a short call completes it), then the longest since
    the last contact (never first), then by name. The days left in the month are shown
    with the list (they are the same for every row of one month). ``coordinator`` keeps
    the patients that member logged time for this month or last. ``complex_patient_ids``
    are the patients whose month is attested complex (careplans), measured against 60/90/120.

    Two queries whatever the page size: the ordered page with its total and what its rows
    show of each patient, and ``member``'s running timer. The first reads the month summaries
    (``PatientMonthTime``) rather than the entries, except for the months where a
    practitioner logged time: whether that time counts depends on who the patient's billing
    practitioner is now, so those few months are counted from their entries.
    """
    running = timer_running(practice=practice, member=member)
    rows, total = _worklist_page(
        practice=practice,
        service_month=service_month,
        now=now,
        coordinator=coordinator,
        complex_patient_ids=complex_patient_ids,
        page=page,
        page_size=page_size,
        patient_ids=None,
        running=running,
    )
    return Worklist(
        service_month=service_month,
        days_left=days_left(service_month, practice.tz, now),
        rows=rows,
        total=total,
        page=max(1, page),
        page_size=page_size,
        running_timer=running,
    )


def worklist_row(
    *,
    practice: Practice,
    patient_id: int,
    service_month: date,
    now: datetime,
    complex_patient_ids: Collection[int],
    running: Timer | None,
) -> Worklist:
    """The worklist as it stands for one patient (no row when they are not on the list): what
    a page that shows the row updates in place after the person's own timer action."""
    rows, total = _worklist_page(
        practice=practice,
        service_month=service_month,
        now=now,
        coordinator=None,
        complex_patient_ids=complex_patient_ids,
        page=1,
        page_size=1,
        patient_ids=[patient_id],
        running=running,
    )
    return Worklist(
        service_month=service_month,
        days_left=days_left(service_month, practice.tz, now),
        rows=rows,
        total=total,
        page=1,
        page_size=1,
        running_timer=running,
    )


def _worklist_page(
    *,
    practice: Practice,
    service_month: date,
    now: datetime,
    coordinator: Membership | None,
    complex_patient_ids: Collection[int],
    page: int,
    page_size: int,
    patient_ids: Collection[int] | None,
    running: Timer | None,
) -> tuple[list[WorklistRow], int]:
    """The rows of one page of the worklist (only ``patient_ids`` when given) and the total."""
    tz = practice.tz
    params: dict[str, Any] = {
        "practice": practice.pk,
        "month": service_month,
        "since": previous_month(service_month),
        "coordinator": coordinator.pk if coordinator is not None else None,
        "complex": list(complex_patient_ids),
        "enrolled": EnrollmentStatus.ENROLLED.value,
        "limit": page_size,
        "offset": (max(1, page) - 1) * page_size,
        "only": None if patient_ids is None else list(patient_ids),
    }
    next_threshold = _case_over_thresholds("minutes", "is_complex")
    worked = ""
    if coordinator is not None:
        worked = """AND EXISTS (
            SELECT 1 FROM timetracking_timeentry w
            WHERE w.practice_id = p.practice_id AND w.member_id = %(coordinator)s
              AND w.patient_id = p.id AND w.voided_at IS NULL
              AND w.service_month BETWEEN %(since)s AND %(month)s)"""
    sql = f"""
        WITH practitioner_months AS (
            SELECT e.patient_id, {merged_minutes(COUNTED_ENTRY)} AS minutes
            FROM timetracking_patientmonthtime s
            JOIN timetracking_timeentry e
              ON e.practice_id = s.practice_id AND e.patient_id = s.patient_id
             AND e.service_month = s.service_month AND e.voided_at IS NULL
            JOIN patients_patient p ON p.practice_id = e.practice_id AND p.id = e.patient_id
            WHERE s.practice_id = %(practice)s AND s.service_month = %(month)s
              AND s.has_practitioner_time
            GROUP BY e.patient_id
        ),
        enrolled AS (
            SELECT p.id, p.public_id, p.mrn, p.last_name, p.first_name,
                   p.billing_practitioner_id,
                   GREATEST(this_month.last_contact_at, last_month.last_contact_at)
                       AS last_contact_at,
                   COALESCE(practitioner_months.minutes, this_month.staff_minutes, 0) AS minutes,
                   p.id = ANY(%(complex)s::bigint[]) AS is_complex
            FROM patients_patient p
            LEFT JOIN timetracking_patientmonthtime this_month
              ON this_month.practice_id = p.practice_id AND this_month.patient_id = p.id
             AND this_month.service_month = %(month)s
            LEFT JOIN timetracking_patientmonthtime last_month
              ON last_month.practice_id = p.practice_id AND last_month.patient_id = p.id
             AND last_month.service_month = %(since)s
            LEFT JOIN practitioner_months ON practitioner_months.patient_id = p.id
            WHERE p.practice_id = %(practice)s AND p.enrollment_status = %(enrolled)s {worked}
              AND (%(only)s::bigint[] IS NULL OR p.id = ANY(%(only)s::bigint[]))
        ),
        scored AS (
            SELECT enrolled.*, {next_threshold} AS next_threshold,
                   CASE WHEN is_complex THEN {COMPLEX_THRESHOLDS[0]}
                        ELSE {NON_COMPLEX_THRESHOLDS[0]} END AS first_threshold
            FROM enrolled
        ),
        ranked AS (
            SELECT scored.*,
                   CASE WHEN next_threshold IS NULL THEN 2
                        WHEN minutes < first_threshold THEN 0 ELSE 1 END AS stage,
                   next_threshold - minutes AS gap
            FROM scored
        ),
        page AS (
            SELECT ranked.*, COUNT(*) OVER () AS total
            FROM ranked
            ORDER BY stage, gap NULLS LAST, last_contact_at NULLS FIRST,
                     last_name, first_name, id
            LIMIT %(limit)s OFFSET %(offset)s
        )
        SELECT page.id, page.minutes, page.last_contact_at, page.total,
               page.public_id, page.mrn, page.first_name, page.last_name,
               COALESCE(NULLIF(u.full_name, ''), u.email) AS practitioner_name
        FROM page
        LEFT JOIN ccm_membership m
          ON m.practice_id = %(practice)s AND m.id = page.billing_practitioner_id
        LEFT JOIN ccm_user u ON u.id = m.user_id
        ORDER BY page.stage, page.gap NULLS LAST, page.last_contact_at NULLS FIRST,
                 page.last_name, page.first_name, page.id
    """  # noqa: S608  (only constants are formatted in; values are parameters)
    complex_set = set(params["complex"])
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    total = found[0][3] if found else 0
    today = now.astimezone(tz).date()
    rows = [
        WorklistRow(
            patient=WorklistPatient(
                public_id=public_id,
                mrn=mrn,
                first_name=first_name,
                last_name=last_name,
                practitioner_name=practitioner_name,
            ),
            progress=month_progress(minutes=minutes, is_complex=patient_id in complex_set),
            last_contact_at=last_contact_at,
            has_running_timer=running is not None and running.patient_id == patient_id,
            days_since_contact=None
            if last_contact_at is None
            else (today - last_contact_at.astimezone(tz).date()).days,
        )
        for (
            patient_id,
            minutes,
            last_contact_at,
            _total,
            public_id,
            mrn,
            first_name,
            last_name,
            practitioner_name,
        ) in found
    ]
    return rows, total
