"""The month close, its request by a manager, reopening, and the hourly dispatcher.

``billing_month_close`` is the close itself. The hourly dispatcher's tasks, the
``close_month`` command and a manager's "close now" (through ``billing_month_close_request``
and its task) all end in it. It locks the month's ``BillingMonth`` row, locks the month's time
entries (``timetracking.services.months.month_lock``), builds every patient-month's facts with
a fixed number of queries (``billing.facts``), decides them with the pure engine, prices the
lines and writes the claims, their lines and the not-billable records in bulk, in one
transaction. A closed month is left alone, so a second close (or a redelivered task) changes
nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing.facts import MonthFacts, month_facts
from billing.fees import default_fee_schedule
from billing.models import BillingMonth, BillingMonthState, Claim, ClaimLine, NotBillable
from billing.presentation import fix_for, humanize
from billing.pricing import FeeNotAvailableError, FeeSchedule, is_facility_place_of_service
from billing.rules import MonthDecision, UnsupportedServiceYearError, decide, rule_set_for
from billing.services.bulk import insert_rows
from billing.services.guards import require_manager, require_same_practice
from billing.services.reports import queue_month_reports
from billing.tasks import billing_month_close_task
from ccm.audit import AuditEvent, audit_record
from ccm.errors import InvalidState
from ccm.models import Membership, Practice
from timetracking.months import next_month, previous_month, service_month_of
from timetracking.selectors import service_month_is_locked
from timetracking.services.months import month_lock, month_reopen

logger = logging.getLogger(__name__)

# The dispatcher keeps enqueueing a due month for this long (a close that finds the month
# closed is a no-op), so a worker outage shorter than this still ends in a close.
DISPATCH_WINDOW = dt.timedelta(days=7)


# --- Guards ----------------------------------------------------------------------------------


def check_closable(*, practice: Practice, service_month: dt.date) -> None:
    """Refuse a month that is not a first day, has not ended locally, or has no rule set."""
    if service_month.day != 1:
        raise InvalidState("A service month is given by its first day.", field="month")
    if next_month(service_month) > service_month_of(timezone.now(), practice.tz):
        raise InvalidState(
            f"{service_month:%B %Y} has not ended yet in {practice.timezone}.", field="month"
        )
    try:
        rule_set_for(service_month.year)
    except UnsupportedServiceYearError as exc:
        raise InvalidState(str(exc), field="month") from exc


def _locked_month(*, practice: Practice, service_month: dt.date) -> BillingMonth:
    """The month's row, created when missing, locked (``SELECT ... FOR UPDATE``) until the
    transaction ends: two closes of one month run one after the other, and the second finds
    the first's work committed."""
    BillingMonth.objects.bulk_create(
        [BillingMonth(practice=practice, service_month=service_month)], ignore_conflicts=True
    )
    return (
        BillingMonth.objects.for_practice(practice)
        .select_for_update()
        .get(service_month=service_month)
    )


# --- The close -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Written:
    claims: int
    not_billable: int
    total_cents: int


def _priced(
    decision: MonthDecision, fees: FeeSchedule, *, facility: bool
) -> list[tuple[str, int, int | None]]:
    """``(code, units, unit cents)`` per line; None where the fee table has no amount."""
    assert decision.date_of_service is not None  # noqa: S101  (billable: the engine sets it)
    priced = []
    for line in decision.lines:
        try:
            unit: int | None = fees.amount_cents(
                line.code, decision.date_of_service, facility=facility
            )
        except FeeNotAvailableError:
            unit = None
        priced.append((line.code, line.units, unit))
    return priced


def _write_generation(
    *,
    practice: Practice,
    billing_month: BillingMonth,
    generation: int,
    facts: MonthFacts,
    now: dt.datetime,
) -> _Written:
    """Decide every patient-month and write claims, lines and not-billable records in bulk.

    Three statements whatever the number of patients (``billing.services.bulk``).
    """
    fees = default_fee_schedule()
    facility = is_facility_place_of_service(practice.place_of_service)
    people = facts.people
    common = {
        "practice_id": practice.pk,
        "billing_month_id": billing_month.pk,
        "generation": generation,
        "created_at": now,
    }
    claims: list[dict[str, Any]] = []
    claim_lines: dict[int, list[tuple[str, int, int | None]]] = {}
    not_billables: list[dict[str, Any]] = []
    for month in facts.patients:
        decision = decide(month.facts, fees)
        explanation = humanize(decision.explanation, people)
        warnings = sorted(decision.warnings)
        if not decision.billable:
            assert decision.reason is not None  # noqa: S101  (not billable: one reason)
            not_billables.append(
                {
                    **common,
                    "patient_id": month.patient_id,
                    "billing_practitioner_id": month.billing_practitioner_id,
                    "reason": decision.reason.value,
                    "fix": fix_for(facts=month.facts, decision=decision, people=people),
                    "counted_minutes": decision.counted_minutes,
                    "practitioner_minutes": decision.practitioner_minutes,
                    "warnings": warnings,
                    "explanation": explanation,
                }
            )
            continue
        assert month.billing_practitioner_id is not None  # noqa: S101  (consent needs one)
        assert decision.date_of_service is not None  # noqa: S101
        assert decision.place_of_service is not None  # noqa: S101
        assert decision.family is not None  # noqa: S101
        biller = people[month.facts.billing_practitioner]
        priced = _priced(decision, fees, facility=facility)
        units = [unit for _, _, unit in priced]
        claims.append(
            {
                **common,
                "patient_id": month.patient_id,
                "billing_practitioner_id": month.billing_practitioner_id,
                "practitioner_name": biller.label,
                "practitioner_npi": biller.npi,
                "date_of_service": decision.date_of_service,
                "place_of_service": decision.place_of_service,
                "diagnoses": list(decision.diagnoses),
                "family": decision.family.value,
                "counted_minutes": decision.counted_minutes,
                "practitioner_minutes": decision.practitioner_minutes,
                "unpaid_minutes": decision.unpaid_minutes,
                "warnings": warnings,
                "explanation": explanation,
                "total_cents": (
                    None
                    if None in units
                    else sum(unit * count for (_, count, unit) in priced if unit is not None)
                ),
            }
        )
        claim_lines[month.patient_id] = priced
    # One claim per patient in a close: the patient id maps each new claim to its lines.
    claim_ids = dict(insert_rows(Claim, claims, returning=("patient_id", "id")))
    insert_rows(
        ClaimLine,
        [
            {
                "practice_id": practice.pk,
                "claim_id": claim_ids[patient_id],
                "position": position,
                "code": code,
                "units": count,
                "unit_cents": unit,
                "total_cents": None if unit is None else unit * count,
            }
            for patient_id, priced in claim_lines.items()
            for position, (code, count, unit) in enumerate(priced, start=1)
        ],
    )
    insert_rows(NotBillable, not_billables)
    return _Written(
        claims=len(claims),
        not_billable=len(not_billables),
        total_cents=sum(claim["total_cents"] or 0 for claim in claims),
    )


def _supersede(*, practice: Practice, billing_month: BillingMonth, now: dt.datetime) -> None:
    """Mark the live generation superseded (kept for comparison, never deleted)."""
    for model in (Claim, NotBillable):
        model.objects.for_practice(practice).filter(
            billing_month=billing_month, superseded_at__isnull=True
        ).update(superseded_at=now)


def _pause_for_crash_test(billing_month: BillingMonth) -> None:
    """Test hook: hold the close open before commit so a test can kill the worker here."""
    seconds = settings.BILLING_CLOSE_TEST_PAUSE_SECONDS
    if seconds:
        logger.warning(
            "billing close of %s paused for %s s before commit (test hook)",
            billing_month.month_param,
            seconds,
        )
        time.sleep(seconds)


@transaction.atomic
def billing_month_close(
    *,
    practice: Practice,
    actor: Membership | None,
    service_month: dt.date,
    automatic: bool = False,
) -> BillingMonth:
    """Close ``service_month``: lock it, decide every patient-month, write claims in bulk.

    ``actor`` is None for the scheduled close. A closed month is returned unchanged (a second
    close is a no-op); a reopened month is closed again only on request (``automatic`` False),
    and then writes the next generation and marks the previous one superseded. Queues the
    month's reports after the commit.
    """
    if actor is not None:
        require_manager(practice=practice, actor=actor)
    check_closable(practice=practice, service_month=service_month)
    billing_month = _locked_month(practice=practice, service_month=service_month)
    if billing_month.state == BillingMonthState.CLOSED or (
        automatic and billing_month.state == BillingMonthState.REOPENED
    ):
        return billing_month
    month_lock(practice=practice, actor=actor, service_month=service_month)
    facts = month_facts(practice=practice, service_month=service_month)
    now = timezone.now()
    previous = billing_month.generation
    if previous:
        _supersede(practice=practice, billing_month=billing_month, now=now)
    written = _write_generation(
        practice=practice,
        billing_month=billing_month,
        generation=previous + 1,
        facts=facts,
        now=now,
    )
    billing_month.state = BillingMonthState.CLOSED
    billing_month.generation = previous + 1
    billing_month.closed_at = now
    billing_month.closed_by = actor
    billing_month.claim_count = written.claims
    billing_month.not_billable_count = written.not_billable
    billing_month.total_cents = written.total_cents
    billing_month.save(
        update_fields=[
            "state",
            "generation",
            "closed_at",
            "closed_by",
            "claim_count",
            "not_billable_count",
            "total_cents",
        ]
    )
    _pause_for_crash_test(billing_month)
    audit_record(
        practice=practice,
        actor=actor,
        event=AuditEvent.BILLING_MONTH_CLOSED,
        obj=billing_month,
        changes={
            "service_month": billing_month.month_param,
            "generation": billing_month.generation,
            "claims": written.claims,
            "not_billable": written.not_billable,
            "total_cents": written.total_cents,
            "supersedes_generation": previous or None,
            "automatic": automatic,
        },
    )
    queue_month_reports(practice=practice, billing_month=billing_month, actor=actor, now=now)
    return billing_month


@transaction.atomic
def billing_month_close_request(
    *, practice: Practice, actor: Membership, service_month: dt.date
) -> BillingMonth:
    """A manager's "close now": mark the month closing and queue its close after the commit.

    A month that is closed already is returned unchanged (nothing is queued or audited).
    """
    require_manager(practice=practice, actor=actor)
    check_closable(practice=practice, service_month=service_month)
    billing_month = _locked_month(practice=practice, service_month=service_month)
    if billing_month.state == BillingMonthState.CLOSED:
        return billing_month
    previous_state = billing_month.state
    billing_month.state = BillingMonthState.CLOSING
    billing_month.close_requested_at = timezone.now()
    billing_month.close_requested_by = actor
    billing_month.save(update_fields=["state", "close_requested_at", "close_requested_by"])
    audit_record(
        practice=practice,
        actor=actor,
        event=AuditEvent.BILLING_MONTH_CLOSE_REQUESTED,
        obj=billing_month,
        changes={"service_month": billing_month.month_param, "state": [previous_state, "closing"]},
    )
    transaction.on_commit(
        lambda: billing_month_close_task.delay(
            practice_id=practice.pk, service_month=service_month.isoformat(), actor_id=actor.pk
        )
    )
    return billing_month


@transaction.atomic
def billing_month_reopen(
    *, practice: Practice, actor: Membership, billing_month: BillingMonth, reason: str
) -> BillingMonth:
    """Reopen a closed month (with a reason): its time entries open again for corrections.

    Its claims stay as they are until the next close, which supersedes them.
    """
    require_manager(practice=practice, actor=actor)
    require_same_practice(practice=practice, obj=billing_month)
    reason = reason.strip()
    if not reason:
        raise InvalidState("Say why the month is reopened.", field="reason")
    billing_month = (
        BillingMonth.objects.for_practice(practice).select_for_update().get(pk=billing_month.pk)
    )
    if billing_month.state != BillingMonthState.CLOSED:
        raise InvalidState(f"{billing_month.label} is not closed.", field="month")
    if service_month_is_locked(practice=practice, service_month=billing_month.service_month):
        month_reopen(
            practice=practice,
            actor=actor,
            service_month=billing_month.service_month,
            reason=reason,
        )
    billing_month.state = BillingMonthState.REOPENED
    billing_month.reopened_at = timezone.now()
    billing_month.reopened_by = actor
    billing_month.reopen_reason = reason
    billing_month.save(update_fields=["state", "reopened_at", "reopened_by", "reopen_reason"])
    audit_record(
        practice=practice,
        actor=actor,
        event=AuditEvent.BILLING_MONTH_REOPENED,
        obj=billing_month,
        changes={"service_month": billing_month.month_param, "reason": reason},
    )
    return billing_month


# --- The hourly dispatcher ------------------------------------------------------------------


def _due_at(service_month: dt.date, practice: Practice) -> dt.datetime:
    """Local midnight ``close_grace_days`` days after the month's last day."""
    day = next_month(service_month) + dt.timedelta(days=practice.close_grace_days)
    return dt.datetime(day.year, day.month, day.day, tzinfo=practice.tz)


def billing_months_due(*, now: dt.datetime) -> list[tuple[int, dt.date]]:
    """``(practice id, month)`` of every active practice whose month is due to close.

    A month is due from local midnight ``close_grace_days`` after its end, for
    ``DISPATCH_WINDOW``. Reads only ``Practice`` (no practice data, no RLS).
    """
    due = []
    for practice in Practice.objects.filter(is_active=True).order_by("id"):
        current = service_month_of(now, practice.tz)
        for month in (previous_month(previous_month(current)), previous_month(current)):
            starts = _due_at(month, practice)
            if starts <= now < starts + DISPATCH_WINDOW:
                due.append((practice.pk, month))
    return due


@transaction.atomic
def billing_months_dispatch(*, now: dt.datetime) -> list[tuple[int, dt.date]]:
    """Queue one close task per due practice-month, after the commit."""
    due = billing_months_due(now=now)
    for practice_id, month in due:
        _close_after_commit(practice_id=practice_id, service_month=month)
    return due


def _close_after_commit(*, practice_id: int, service_month: dt.date) -> None:
    transaction.on_commit(
        lambda: billing_month_close_task.delay(
            practice_id=practice_id, service_month=service_month.isoformat(), automatic=True
        )
    )
