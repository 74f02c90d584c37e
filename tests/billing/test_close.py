"""The month close: claims and not-billable records, idempotency, locks, reopen and re-close."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from billing.models import BillingMonth, BillingMonthState, BillingReport, Claim, NotBillable
from billing.selectors import billing_month_changes
from billing.services.months import (
    billing_month_close,
    billing_month_close_request,
    billing_month_reopen,
)
from billing.tasks import billing_month_close_task
from ccm.audit import AuditEvent
from ccm.errors import InvalidState, PermissionDenied
from ccm.models import AuditLog, Membership, Practice
from ccm.permissions import Role
from ccm.tenancy import practice_context
from patients.models import Patient
from tests.billing.builders import FEBRUARY, MARCH, enrolled_patient, log_minutes
from tests.billing.conftest import billing_state
from tests.factories import ClaimFactory
from timetracking.selectors import service_month_is_locked


def _close(
    practice: Practice, actor: Membership | None, *, automatic: bool = False
) -> BillingMonth:
    with practice_context(practice.pk):
        return billing_month_close(
            practice=practice, actor=actor, service_month=FEBRUARY, automatic=automatic
        )


def _claims(practice: Practice) -> list[tuple[object, ...]]:
    """Every claim with its lines, as comparable tuples (superseded ones included)."""
    with practice_context(practice.pk):
        return [
            (
                claim.patient.mrn,
                claim.generation,
                claim.date_of_service,
                claim.place_of_service,
                tuple(claim.diagnoses),
                tuple(
                    (line.code, line.units, line.unit_cents)
                    for line in claim.lines.order_by("position")
                ),
                claim.total_cents,
                claim.superseded_at is not None,
            )
            for claim in Claim.objects.for_practice(practice)
            .select_related("patient")
            .order_by("patient__mrn", "generation")
        ]


def _records(practice: Practice) -> list[tuple[object, ...]]:
    with practice_context(practice.pk):
        return [
            (record.patient.mrn, record.generation, record.reason, record.fix)
            for record in NotBillable.objects.for_practice(practice)
            .select_related("patient")
            .order_by("patient__mrn", "generation")
        ]


@pytest.fixture
def billed(practice: Practice, physician: Membership, coordinator: Membership) -> Patient:
    patient = enrolled_patient(practice, physician, coordinator)
    log_minutes(practice, coordinator, patient, minutes=25)
    return patient


@pytest.fixture
def short(practice: Practice, physician: Membership, coordinator: Membership) -> Patient:
    patient = enrolled_patient(practice, physician, coordinator)
    log_minutes(practice, coordinator, patient, minutes=12, hour=14)
    return patient


@pytest.mark.django_db
def test_close_writes_one_claim_per_billable_patient_and_a_reason_for_the_others(
    practice: Practice, manager: Membership, physician: Membership, billed: Patient, short: Patient
) -> None:
    # given a patient with 25 minutes and one with 12 in February
    # when
    month = _close(practice, manager)
    # then
    assert (month.state, month.generation, month.closed_by, month.closed_at) == (
        BillingMonthState.CLOSED,
        1,
        manager,
        dt.datetime(2025, 3, 5, 17, 0, tzinfo=dt.UTC),
    )
    assert (month.claim_count, month.not_billable_count, month.total_cents) == (1, 1, 6049)
    assert _claims(practice) == [
        (
            billed.mrn,
            1,
            dt.date(2025, 2, 10),
            "11",
            ("E11.9", "I10"),
            (("99490", 1, 6049),),
            6049,
            False,
        )
    ]
    assert _records(practice) == [
        (
            short.mrn,
            1,
            "NB_TIME_BELOW_THRESHOLD",
            "8 more minutes of care management (12 of 20 counted)",
        )
    ]
    with practice_context(practice.pk):
        claim = Claim.objects.for_practice(practice).get()
        assert (claim.billing_practitioner, claim.practitioner_npi) == (physician, "1234567893")
        assert claim.practitioner_name == "Physician (billing practitioner) maple, MD"
        assert claim.explanation[-1] == (
            "Date of service 2025-02-10: the day the 20-minute threshold of the last billed "
            "unit was reached (POL-DOS)."
        )
        audit = AuditLog.objects.for_practice(practice).get(event=AuditEvent.BILLING_MONTH_CLOSED)
        assert audit.changes == {
            "service_month": "2025-02",
            "generation": 1,
            "claims": 1,
            "not_billable": 1,
            "total_cents": 6049,
            "supersedes_generation": None,
            "automatic": False,
        }
        assert sorted(
            BillingReport.objects.for_practice(practice).values_list("kind", "status")
        ) == [
            ("billing_csv", "pending"),
            ("billing_pdf", "pending"),
            ("not_billable_csv", "pending"),
        ]


@pytest.mark.django_db
def test_closing_twice_changes_nothing(
    practice: Practice, manager: Membership, billed: Patient, short: Patient
) -> None:
    # given a closed month
    _close(practice, manager)
    before = billing_state(practice)
    claims = _claims(practice)
    # when it is closed again, by hand and by the scheduled task
    again = _close(practice, manager)
    _close(practice, None, automatic=True)
    # then
    assert (again.state, again.generation) == (BillingMonthState.CLOSED, 1)
    assert _claims(practice) == claims
    assert billing_state(practice) == before


@pytest.mark.django_db
def test_close_locks_the_month_for_time_entries(
    practice: Practice, manager: Membership, billed: Patient
) -> None:
    # given an open February
    # when
    _close(practice, manager)
    # then
    with practice_context(practice.pk):
        assert service_month_is_locked(practice=practice, service_month=FEBRUARY) is True


@pytest.mark.django_db
def test_close_refuses_a_month_that_has_not_ended_and_changes_nothing(
    practice: Practice, manager: Membership, billed: Patient
) -> None:
    # given March 2025, which runs until the end of the month in New York
    before = billing_state(practice)
    # when / then
    with (
        practice_context(practice.pk),
        pytest.raises(InvalidState, match=r"^March 2025 has not ended yet in America/New_York\.$"),
    ):
        billing_month_close(practice=practice, actor=manager, service_month=MARCH)
    assert billing_state(practice) == before


@pytest.mark.django_db
def test_coordinator_cannot_close_a_month_and_nothing_changes(
    practice: Practice, coordinator: Membership, billed: Patient
) -> None:
    # given
    before = billing_state(practice)
    # when / then
    with pytest.raises(PermissionDenied):
        _close(practice, coordinator)
    assert billing_state(practice) == before


@pytest.mark.django_db
def test_close_refuses_a_year_without_rules(practice: Practice, manager: Membership) -> None:
    # given a month of 2023 (RULES.md covers CY2024 to CY2026)
    before = billing_state(practice)
    # when / then
    with (
        practice_context(practice.pk),
        pytest.raises(InvalidState, match=r"service year 2023 has no rule set"),
    ):
        billing_month_close(practice=practice, actor=manager, service_month=dt.date(2023, 12, 1))
    assert billing_state(practice) == before


@pytest.mark.django_db
def test_query_count_of_the_close_does_not_grow_with_the_patients(
    practice: Practice,
    other_practice: Practice,
    members: dict[Role, Membership],
    other_members: dict[Role, Membership],
) -> None:
    # given one billable patient in practice, fifty in other_practice (20 to 69 minutes)
    manager, coordinator = members[Role.PRACTICE_MANAGER], members[Role.CARE_COORDINATOR]
    patient = enrolled_patient(practice, members[Role.PHYSICIAN], coordinator)
    log_minutes(practice, coordinator, patient, minutes=25)
    other_physician = other_members[Role.PHYSICIAN]
    other_coordinator = other_members[Role.CARE_COORDINATOR]
    other_manager = other_members[Role.PRACTICE_MANAGER]
    for index in range(50):
        patient = enrolled_patient(other_practice, other_physician, other_coordinator)
        log_minutes(
            other_practice,
            other_coordinator,
            patient,
            minutes=20 + index,
            day=dt.date(2025, 2, 1 + index % 28),
            hour=8 + index // 28 * 4,
        )
    # when
    with CaptureQueriesContext(connection) as one:
        _close(practice, manager)
    with CaptureQueriesContext(connection) as fifty, practice_context(other_practice.pk):
        month = billing_month_close(
            practice=other_practice, actor=other_manager, service_month=FEBRUARY
        )
    # then
    assert (month.claim_count, month.not_billable_count) == (50, 0)
    assert len(fifty.captured_queries) == len(one.captured_queries)
    # The budget: at most 20 in the close, plus 5 to open and leave the practice context.
    assert len(one.captured_queries) <= 25


@pytest.mark.django_db
def test_reopen_then_close_again_supersedes_the_claims_and_shows_what_changed(
    practice: Practice,
    manager: Membership,
    coordinator: Membership,
    billed: Patient,
    short: Patient,
) -> None:
    # given a closed month, reopened to log the 8 missing minutes and 20 more for another
    month = _close(practice, manager)
    with practice_context(practice.pk):
        billing_month_reopen(
            practice=practice, actor=manager, billing_month=month, reason="Late phone notes"
        )
    log_minutes(practice, coordinator, short, minutes=8, day=dt.date(2025, 2, 20))
    log_minutes(practice, coordinator, billed, minutes=20, day=dt.date(2025, 2, 21))
    # when
    again = _close(practice, manager)
    # then
    assert (again.state, again.generation, again.claim_count, again.not_billable_count) == (
        BillingMonthState.CLOSED,
        2,
        2,
        0,
    )
    assert again.total_cents == 16691
    assert _claims(practice) == [
        (
            billed.mrn,
            1,
            dt.date(2025, 2, 10),
            "11",
            ("E11.9", "I10"),
            (("99490", 1, 6049),),
            6049,
            True,
        ),
        (
            billed.mrn,
            2,
            dt.date(2025, 2, 21),
            "11",
            ("E11.9", "I10"),
            (("99490", 1, 6049), ("99439", 1, 4593)),
            10642,
            False,
        ),
        (
            short.mrn,
            2,
            dt.date(2025, 2, 20),
            "11",
            ("E11.9", "I10"),
            (("99490", 1, 6049),),
            6049,
            False,
        ),
    ]
    assert [(mrn, generation, reason) for mrn, generation, reason, _ in _records(practice)] == [
        (short.mrn, 1, "NB_TIME_BELOW_THRESHOLD")
    ]
    with practice_context(practice.pk):
        assert NotBillable.objects.for_practice(practice).get().superseded_at is not None
        changes = billing_month_changes(practice=practice, billing_month=again)
    assert changes is not None
    assert (changes.previous_generation, changes.before_cents, changes.after_cents) == (
        1,
        6049,
        16691,
    )
    assert [(c.patient, c.kind, c.before, c.after) for c in changes.changes] == sorted(
        [
            (billed, "changed", "99490 x1 on Feb 10", "99490 x1 + 99439 x1 on Feb 21"),
            (short, "added", "Not billable: Not enough time", "99490 x1 on Feb 20"),
        ],
        key=lambda row: (row[0].last_name, row[0].first_name),
    )


@pytest.mark.django_db
def test_reopen_opens_the_month_for_time_entries_and_keeps_the_claims(
    practice: Practice, manager: Membership, billed: Patient
) -> None:
    # given
    month = _close(practice, manager)
    claims = _claims(practice)
    # when
    with practice_context(practice.pk):
        reopened = billing_month_reopen(
            practice=practice, actor=manager, billing_month=month, reason="Missing call notes"
        )
        locked = service_month_is_locked(practice=practice, service_month=FEBRUARY)
    # then
    assert (reopened.state, reopened.reopened_by, reopened.reopen_reason) == (
        BillingMonthState.REOPENED,
        manager,
        "Missing call notes",
    )
    assert locked is False
    assert _claims(practice) == claims


@pytest.mark.django_db
def test_reopen_without_a_reason_is_refused_and_changes_nothing(
    practice: Practice, manager: Membership, billed: Patient
) -> None:
    # given
    month = _close(practice, manager)
    before = billing_state(practice)
    # when / then
    with (
        practice_context(practice.pk),
        pytest.raises(InvalidState, match=r"^Say why the month is reopened\.$"),
    ):
        billing_month_reopen(practice=practice, actor=manager, billing_month=month, reason="  ")
    assert billing_state(practice) == before


@pytest.mark.django_db
def test_the_scheduled_close_leaves_a_reopened_month_alone(
    practice: Practice, manager: Membership, billed: Patient
) -> None:
    # given a reopened month
    month = _close(practice, manager)
    with practice_context(practice.pk):
        billing_month_reopen(practice=practice, actor=manager, billing_month=month, reason="Fix")
    before = billing_state(practice)
    # when the hourly dispatcher's task runs for it
    after = _close(practice, None, automatic=True)
    # then
    assert after.state == BillingMonthState.REOPENED
    assert billing_state(practice) == before


@pytest.mark.django_db
def test_close_request_marks_the_month_closing_and_queues_its_close_after_commit(
    practice: Practice,
    manager: Membership,
    billed: Patient,
    django_capture_on_commit_callbacks: object,
) -> None:
    # given
    # when
    with (
        mock.patch("billing.services.months.billing_month_close_task.delay") as delay,
        django_capture_on_commit_callbacks(execute=True) as callbacks,  # type: ignore[operator]
        practice_context(practice.pk),
    ):
        month = billing_month_close_request(
            practice=practice, actor=manager, service_month=FEBRUARY
        )
    # then
    assert (month.state, month.close_requested_by) == (BillingMonthState.CLOSING, manager)
    assert len(callbacks) == 1
    delay.assert_called_once_with(
        practice_id=practice.pk, service_month="2025-02-01", actor_id=manager.pk
    )
    assert _claims(practice) == []


@pytest.mark.django_db
def test_close_request_of_a_closed_month_changes_nothing(
    practice: Practice,
    manager: Membership,
    billed: Patient,
    django_capture_on_commit_callbacks: object,
) -> None:
    # given
    _close(practice, manager)
    before = billing_state(practice)
    # when
    with (
        mock.patch("billing.services.months.billing_month_close_task.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),  # type: ignore[operator]
        practice_context(practice.pk),
    ):
        month = billing_month_close_request(
            practice=practice, actor=manager, service_month=FEBRUARY
        )
    # then
    assert month.state == BillingMonthState.CLOSED
    delay.assert_not_called()
    assert billing_state(practice) == before


@pytest.mark.django_db
def test_close_task_closes_the_requested_month_as_the_manager(
    practice: Practice, manager: Membership, billed: Patient
) -> None:
    # given
    # when
    state = billing_month_close_task(
        practice_id=practice.pk, service_month="2025-02-01", actor_id=manager.pk
    )
    # then
    assert state == "closed"
    with practice_context(practice.pk):
        month = BillingMonth.objects.for_practice(practice).get(service_month=FEBRUARY)
    assert (month.closed_by_id, month.claim_count) == (manager.pk, 1)


@pytest.mark.django_db
def test_the_database_refuses_a_second_live_claim_for_one_patient_month(
    practice: Practice, manager: Membership, billed: Patient
) -> None:
    # given a closed month with its one live claim for the patient
    month = _close(practice, manager)
    claims = _claims(practice)
    # when / then: a second live claim of the same patient-month (another generation)
    with practice_context(practice.pk), pytest.raises(IntegrityError), transaction.atomic():
        ClaimFactory.create(
            practice=practice,
            billing_month=month,
            generation=2,
            patient=billed,
            billing_practitioner=month.closed_by,
        )
    assert _claims(practice) == claims
