"""Care-management time: entries, their corrections, the server-side timer and month locks.

Every table is practice-owned: ``practice`` leads its constraints and indexes, a FORCEd RLS
policy guards it, and each reference to a patient, a member or an entry is also a composite
foreign key ``(practice_id, <column>) → parent (practice_id, id)`` (migration 0002). Rows are
never deleted: entries are corrected with a revision or voided with a reason, timers end as
``logged`` or ``discarded``, month locks are reopened.

Models hold fields, constraints and tiny properties only; every change goes through
``timetracking.services`` (which audits it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeOperators
from django.contrib.postgres.fields.ranges import RangeEndsWith, RangeStartsWith
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.lookups import LessThanOrEqual
from django.utils.timezone import now

from ccm.models import Membership
from ccm.tenancy import PracticeOwned, PracticeQuerySet
from patients.models import Patient
from timetracking.months import floor_minutes

MAX_ENTRY_DURATION = timedelta(hours=12)
DEFAULT_TIMER_CONFIRM_AFTER_MINUTES = 60
# The shortest limit a practice may set: a timer younger than this never needs confirming.
MIN_TIMER_CONFIRM_AFTER_MINUTES = 5


class StaffRole(models.TextChoices):
    """Whose time it is (SCENARIO_FORMAT ``time_entries[].role``), fixed when it is logged."""

    CLINICAL_STAFF = "clinical_staff", "Clinical staff"
    PRACTITIONER = "practitioner", "Practitioner"
    NON_CLINICAL = "non_clinical", "Non-clinical staff"


class Activity(models.TextChoices):
    """What the time was spent on (R-TIME-8 documentation, R-TIME-9 counted activities)."""

    PATIENT_COMMUNICATION = "patient_communication", "Call or message with the patient"
    CAREGIVER_COMMUNICATION = "caregiver_communication", "Call or message with a caregiver"
    CARE_PLAN = "care_plan", "Care-plan work"
    MEDICATION_RECONCILIATION = "medication_reconciliation", "Medication reconciliation"
    COORDINATION = "coordination", "Coordination with other providers"
    RECORD_REVIEW = "record_review", "Review of records and test results"
    TRANSITION_FOLLOW_UP = "transition_follow_up", "Transition-of-care follow-up"
    COMMUNITY_RESOURCES = "community_resources", "Arranging community services"
    OTHER = "other", "Other care management (described in the note)"


# Activities that are a contact with the patient or their caregiver ("last contact").
CONTACT_ACTIVITIES: frozenset[str] = frozenset(
    {Activity.PATIENT_COMMUNICATION, Activity.CAREGIVER_COMMUNICATION}
)


class PartOf(models.TextChoices):
    """The other billed service this time belongs to (R-TIME-3/4: then it never counts for CCM).

    Stored as SCENARIO_FORMAT's ``part_of``: ``""`` for none, ``"visit"`` for time inside a
    billed visit, otherwise the other service's code.
    """

    NONE = "", "Not part of another billed service"
    VISIT = "visit", "A billed visit (E/M, AWV, IPPE)"
    G0506 = "G0506", "Care-planning add-on G0506"
    TCM_MODERATE = "99495", "Transitional care 99495"
    TCM_HIGH = "99496", "Transitional care 99496"
    RPM = "99457", "Remote monitoring management 99457"
    RPM_ADDITIONAL = "99458", "Remote monitoring management 99458"
    RTM = "98980", "Remote therapeutic monitoring 98980"
    BHI = "99484", "Behavioral health integration 99484"
    COCM_INITIAL = "99492", "Collaborative care 99492"
    COCM_SUBSEQUENT = "99493", "Collaborative care 99493"
    PCM = "99424", "Principal care management 99424"
    PCM_STAFF = "99426", "Principal care management 99426"
    PROLONGED = "G2212", "Prolonged service G2212"


class EntrySource(models.TextChoices):
    TIMER = "timer", "Timer"
    MANUAL = "manual", "Entered by hand"


class TimeEntry(PracticeOwned):
    """One interval of care-management work for one patient by one member (R-TIME-8).

    ``period`` is a ``tstzrange`` with ``[)`` bounds, stored in UTC; ``service_month`` is the
    first day of the local month (practice time zone) it lies in. An interval never crosses a
    local month boundary: the services split it into one entry per month. ``staff_role`` is the
    member's role when the entry was logged, so a later change of role does not rewrite
    history. The exclusion constraint refuses two overlapping live intervals of one member
    (voided entries no longer count). ``part_of`` names another billed service the time
    belongs to (then it never counts toward CCM).
    """

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="time_entries")
    member = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    staff_role = models.CharField(max_length=20, choices=StaffRole.choices)
    period = DateTimeRangeField()
    service_month = models.DateField()
    activity = models.CharField(max_length=40, choices=Activity.choices)
    note = models.TextField(blank=True)
    part_of = models.CharField(max_length=10, choices=PartOf.choices, blank=True, default="")
    source = models.CharField(max_length=10, choices=EntrySource.choices)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    void_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)

    objects: ClassVar[PracticeQuerySet[TimeEntry]] = PracticeQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        verbose_name_plural = "time entries"
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["practice", "id"], name="time_entry_practice_id"),
            ExclusionConstraint(
                name="time_entry_no_overlap_per_member",
                expressions=[
                    ("practice", RangeOperators.EQUAL),
                    ("member", RangeOperators.EQUAL),
                    ("period", RangeOperators.OVERLAPS),
                ],
                condition=models.Q(voided_at__isnull=True),
                violation_error_message="This person already logged time in this interval.",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    period__isempty=False,
                    period__lower_inf=False,
                    period__upper_inf=False,
                    period__lower_inc=True,
                    period__upper_inc=False,
                ),
                name="time_entry_period_bounded",
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(
                    RangeEndsWith("period") - RangeStartsWith("period"),
                    MAX_ENTRY_DURATION,
                ),
                name="time_entry_at_most_12_hours",
            ),
            models.CheckConstraint(
                condition=models.Q(service_month__day=1), name="time_entry_month_first_day"
            ),
            models.CheckConstraint(
                condition=models.Q(voided_at__isnull=True, voided_by__isnull=True, void_reason="")
                | models.Q(voided_at__isnull=False, voided_by__isnull=False, void_reason__gt=""),
                name="time_entry_void_complete",
            ),
        ]
        indexes: ClassVar = [
            models.Index(
                fields=["practice", "service_month", "patient"],
                condition=models.Q(voided_at__isnull=True),
                name="time_entry_month_patient",
            ),
            models.Index(
                fields=["practice", "patient", "service_month"], name="time_entry_patient_month"
            ),
            models.Index(
                fields=["practice", "member", "service_month"], name="time_entry_member_month"
            ),
        ]

    def __str__(self) -> str:
        start, end = self.start.astimezone(UTC), self.end.astimezone(UTC)
        return f"{start:%Y-%m-%d %H:%M}-{end:%H:%M} UTC {self.activity}"

    @property
    def start(self) -> datetime:
        return self.period.lower

    @property
    def end(self) -> datetime:
        return self.period.upper

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    @property
    def minutes(self) -> int:
        return floor_minutes(self.duration)

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None


class PatientMonthTime(PracticeOwned):
    """A patient's live time in one service month, summed up for the worklist.

    The worklist orders every enrolled patient by the minutes still needed, which summed from
    the entries would read two months of a practice's entries on every page view. The entry
    services (``timetracking.services.month_time``) recompute the row from the entries in the
    transaction of every change that touches the month: a log (each month of a split), an
    edit (the month left and the month entered) and a void. Billing never reads it: the month
    close counts from the entries themselves.

    ``staff_minutes`` are the merged counted minutes of clinical staff (R-TIME-5).
    ``has_practitioner_time`` says a practitioner logged time that counts if the practitioner
    is the patient's billing practitioner; which one that is can change after the time was
    logged, so the worklist counts such months from the entries. ``last_contact_at`` is the end
    of the month's latest live call or message with the patient or a caregiver.
    """

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    service_month = models.DateField()
    staff_minutes = models.PositiveIntegerField(default=0)
    has_practitioner_time = models.BooleanField(default=False)
    last_contact_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[PracticeQuerySet[PatientMonthTime]] = PracticeQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["practice", "patient", "service_month"], name="patient_month_time_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(service_month__day=1), name="patient_month_time_first_day"
            ),
        ]
        indexes: ClassVar = [
            models.Index(
                fields=["practice", "service_month", "patient"], name="patient_month_time_month"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_month:%Y-%m} {self.staff_minutes} min"


class RevisionKind(models.TextChoices):
    EDITED = "edited", "Edited"
    VOIDED = "voided", "Voided"


@dataclass(frozen=True, slots=True)
class EntrySnapshot:
    """A revision's ``before`` or ``after`` as people read it (instants, activity label)."""

    start: datetime
    end: datetime
    minutes: int
    activity: str
    voided: bool

    @classmethod
    def of(cls, snapshot: dict[str, Any]) -> EntrySnapshot:
        activity = snapshot["activity"]
        return cls(
            start=datetime.fromisoformat(snapshot["start"]),
            end=datetime.fromisoformat(snapshot["end"]),
            minutes=int(snapshot["minutes"]),
            activity=Activity(activity).label if activity in Activity.values else activity,
            voided=bool(snapshot.get("voided", False)),
        )


class TimeEntryRevision(PracticeOwned):
    """One correction of a time entry: who, when, why, and the entry before and after.

    Append-only (a trigger refuses UPDATE, DELETE and TRUNCATE). ``before`` and ``after`` hold
    the entry's documented fields (``start``/``end`` as ISO instants in UTC).
    """

    entry = models.ForeignKey(TimeEntry, on_delete=models.PROTECT, related_name="revisions")
    kind = models.CharField(max_length=10, choices=RevisionKind.choices)
    actor = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=now)
    reason = models.CharField(max_length=500)
    before = models.JSONField()
    after = models.JSONField()

    objects: ClassVar[PracticeQuerySet[TimeEntryRevision]] = PracticeQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(reason__gt=""), name="time_entry_revision_has_reason"
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["practice", "entry", "at"], name="time_entry_revision_entry"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind}"

    @property
    def before_shown(self) -> EntrySnapshot:
        return EntrySnapshot.of(self.before)

    @property
    def after_shown(self) -> EntrySnapshot:
        return EntrySnapshot.of(self.after)


class TimerOutcome(models.TextChoices):
    RUNNING = "running", "Running"
    LOGGED = "logged", "Logged as a time entry"
    DISCARDED = "discarded", "Discarded"


class Timer(PracticeOwned):
    """A member's running timer for a patient, kept on the server (it survives tabs and sleep).

    At most one running timer per member (partial unique constraint). Stopping it logs a time
    entry from ``started_at`` to the stop (``outcome = logged``, ``entry`` is the first entry
    it made); a timer started by mistake is discarded. Either way the row stays.
    """

    member = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField()
    stopped_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(
        max_length=10, choices=TimerOutcome.choices, default=TimerOutcome.RUNNING
    )
    entry = models.ForeignKey(
        TimeEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects: ClassVar[PracticeQuerySet[Timer]] = PracticeQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["practice", "member"],
                condition=models.Q(stopped_at__isnull=True),
                name="timer_one_running_per_member",
                violation_error_message="You already have a timer running.",
            ),
            models.CheckConstraint(
                condition=models.Q(stopped_at__isnull=True, outcome="running", entry__isnull=True)
                | models.Q(stopped_at__isnull=False, outcome="logged", entry__isnull=False)
                | models.Q(stopped_at__isnull=False, outcome="discarded", entry__isnull=True),
                name="timer_outcome_consistent",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["practice", "patient", "started_at"], name="timer_patient"),
        ]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.outcome}"

    @property
    def is_running(self) -> bool:
        return self.stopped_at is None


class TimeTrackingSettings(PracticeOwned):
    """The practice's time-tracking settings (one row at most; defaults when there is none).

    ``timer_confirm_after_minutes``: a timer that has run longer than this is never logged
    silently; stopping it asks the person to confirm or correct the end time.
    """

    timer_confirm_after_minutes = models.PositiveSmallIntegerField(
        default=DEFAULT_TIMER_CONFIRM_AFTER_MINUTES,
        validators=[MinValueValidator(MIN_TIMER_CONFIRM_AFTER_MINUTES), MaxValueValidator(720)],
        help_text="Stopping a timer that ran longer asks to confirm or correct the end time.",
    )
    updated_at = models.DateTimeField(default=now)

    objects: ClassVar[PracticeQuerySet[TimeTrackingSettings]] = PracticeQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        verbose_name_plural = "time-tracking settings"
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["practice"], name="time_settings_one_per_practice"),
        ]

    def __str__(self) -> str:
        return f"confirm timers after {self.timer_confirm_after_minutes} min"


class MonthLock(PracticeOwned):
    """A service month closed to new, edited or voided time entries.

    Locked by the month close (``locked_by`` is None when the close ran as a task); a manager
    may reopen it, which is audited. A month locked again gets a new row, so the history of
    closes and reopenings stays; at most one lock per month is in force.
    """

    service_month = models.DateField()
    locked_at = models.DateTimeField(default=now)
    locked_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reopened_at = models.DateTimeField(null=True, blank=True)
    reopened_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reopen_reason = models.CharField(max_length=500, blank=True)

    objects: ClassVar[PracticeQuerySet[MonthLock]] = PracticeQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["practice", "service_month"],
                condition=models.Q(reopened_at__isnull=True),
                name="month_lock_one_in_force",
            ),
            models.CheckConstraint(
                condition=models.Q(service_month__day=1), name="month_lock_month_first_day"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    reopened_at__isnull=True, reopened_by__isnull=True, reopen_reason=""
                )
                | models.Q(
                    reopened_at__isnull=False, reopened_by__isnull=False, reopen_reason__gt=""
                ),
                name="month_lock_reopen_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_month:%Y-%m} locked"

    @property
    def is_in_force(self) -> bool:
        return self.reopened_at is None
