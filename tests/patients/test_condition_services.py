from __future__ import annotations

import datetime as dt

import pytest

from ccm.audit import AuditEvent
from ccm.errors import Conflict, InvalidState, NotFound, PermissionDenied
from ccm.models import AuditLog
from patients.models import Condition
from patients.services.condition import (
    condition_add,
    condition_resolve,
    condition_set_chronic,
    condition_update,
)
from tests.factories import ConditionFactory, PatientFactory
from tests.patients.conftest import TODAY


def test_add_normalises_the_code_suggests_the_category_and_attests(
    practice, physician, in_practice
):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice)
        # when
        condition = condition_add(
            practice=practice,
            actor=physician,
            patient=patient,
            code="e1165",
            description=" Type 2 diabetes with hyperglycemia ",
            onset_date=dt.date(2015, 1, 1),
            chronic_attested=True,
        )
        stored = Condition.objects.for_practice(practice).get()
        audit = list(AuditLog.objects.for_practice(practice).values_list("event", "changes"))
    # then
    assert stored.pk == condition.pk
    assert (stored.code, stored.description, stored.chronic_category) == (
        "E11.65",
        "Type 2 diabetes with hyperglycemia",
        "diabetes",
    )
    assert (stored.chronic_attested, stored.attested_by_id, stored.attested_on) == (
        True,
        physician.pk,
        TODAY,
    )
    assert stored.chronic_category_label == "Diabetes"
    assert audit == [
        (
            AuditEvent.CONDITION_ADDED,
            {"code": "E11.65", "chronic_category": "diabetes", "chronic_attested": True},
        )
    ]


def test_code_off_the_reference_list_has_no_category(practice, coordinator, in_practice):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice)
        # when
        condition = condition_add(
            practice=practice,
            actor=coordinator,
            patient=patient,
            code="Q90.9",
            chronic_attested=True,
        )
    # then
    assert condition.chronic_category == ""
    assert condition.chronic_category_label == "Other chronic condition (clinician attested)"


def test_malformed_icd10_code_is_refused_and_nothing_is_saved(
    practice, physician, in_practice, snapshot
):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice)
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(InvalidState) as error:
        condition_add(practice=practice, actor=physician, patient=patient, code="E1-19")
    # then
    assert error.value.field == "code"
    assert error.value.message.startswith("“E1-19” is not an ICD-10-CM code")
    assert snapshot(practice) == before


def test_same_active_code_twice_is_a_conflict(practice, physician, in_practice, snapshot):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice)
        condition_add(practice=practice, actor=physician, patient=patient, code="I10")
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(Conflict) as error:
        condition_add(practice=practice, actor=physician, patient=patient, code="i10")
    # then
    assert error.value.field == "code"
    assert snapshot(practice) == before


def test_a_resolved_code_may_be_added_again(practice, physician, in_practice):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice)
        old = condition_add(practice=practice, actor=physician, patient=patient, code="F32.1")
        condition_resolve(
            practice=practice, actor=physician, condition=old, resolved_on=dt.date(2024, 1, 1)
        )
        # when
        again = condition_add(practice=practice, actor=physician, patient=patient, code="F32.1")
    # then
    assert again.pk != old.pk
    assert again.resolved_on is None


def test_manager_may_record_but_not_attest(practice, manager, in_practice, snapshot):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice)
    before = snapshot(practice)
    # when
    with in_practice(practice):
        with pytest.raises(PermissionDenied):
            condition_add(
                practice=practice,
                actor=manager,
                patient=patient,
                code="I10",
                chronic_attested=True,
            )
        unchanged = snapshot(practice)
        recorded = condition_add(practice=practice, actor=manager, patient=patient, code="I10")
    # then
    assert unchanged == before
    assert recorded.chronic_attested is False


def test_future_onset_is_refused(practice, physician, in_practice, snapshot):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice)
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(InvalidState) as error:
        condition_add(
            practice=practice,
            actor=physician,
            patient=patient,
            code="I10",
            onset_date=dt.date(2025, 3, 16),
        )
    # then
    assert error.value.field == "onset_date"
    assert snapshot(practice) == before


def test_set_chronic_attests_and_withdraws(practice, coordinator, in_practice):
    # given
    with in_practice(practice):
        condition = ConditionFactory(practice=practice)
        # when
        condition_set_chronic(
            practice=practice, actor=coordinator, condition=condition, chronic=True
        )
        attested = Condition.objects.for_practice(practice).get(pk=condition.pk)
        condition_set_chronic(
            practice=practice, actor=coordinator, condition=condition, chronic=False
        )
        withdrawn = Condition.objects.for_practice(practice).get(pk=condition.pk)
        events = list(
            AuditLog.objects.for_practice(practice).order_by("pk").values_list("event", "changes")
        )
    # then
    assert (attested.chronic_attested, attested.attested_by_id, attested.attested_on) == (
        True,
        coordinator.pk,
        TODAY,
    )
    assert (withdrawn.chronic_attested, withdrawn.attested_by_id, withdrawn.attested_on) == (
        False,
        None,
        None,
    )
    assert events == [
        (AuditEvent.CONDITION_CHRONIC_ATTESTED, {"chronic_attested": [False, True]}),
        (AuditEvent.CONDITION_CHRONIC_ATTESTED, {"chronic_attested": [True, False]}),
    ]


def test_resolved_condition_cannot_be_attested(practice, physician, in_practice, snapshot):
    # given
    with in_practice(practice):
        condition = ConditionFactory(practice=practice, resolved_on=dt.date(2024, 5, 1))
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(InvalidState) as error:
        condition_set_chronic(practice=practice, actor=physician, condition=condition, chronic=True)
    # then
    assert error.value.field == "chronic_attested"
    assert snapshot(practice) == before


def test_update_edits_description_and_onset(practice, physician, in_practice):
    # given
    with in_practice(practice):
        condition = ConditionFactory(practice=practice, description="old")
        # when
        condition_update(
            practice=practice,
            actor=physician,
            condition=condition,
            description="new",
            onset_date=dt.date(2020, 2, 2),
        )
        stored = Condition.objects.for_practice(practice).get(pk=condition.pk)
        changes = AuditLog.objects.for_practice(practice).get().changes
    # then
    assert (stored.description, stored.onset_date) == ("new", dt.date(2020, 2, 2))
    assert changes == {"description": ["old", "new"], "onset_date": [None, "2020-02-02"]}


def test_resolve_records_the_date_once(practice, physician, in_practice, snapshot):
    # given
    with in_practice(practice):
        condition = ConditionFactory(practice=practice, onset_date=dt.date(2020, 1, 1))
        condition_resolve(
            practice=practice, actor=physician, condition=condition, resolved_on=dt.date(2025, 3, 1)
        )
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(InvalidState) as error:
        condition_resolve(
            practice=practice, actor=physician, condition=condition, resolved_on=TODAY
        )
    # then
    assert error.value.message == "The condition is already resolved."
    assert snapshot(practice) == before


def test_resolve_before_onset_is_refused(practice, physician, in_practice, snapshot):
    # given
    with in_practice(practice):
        condition = ConditionFactory(practice=practice, onset_date=dt.date(2020, 1, 1))
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(InvalidState) as error:
        condition_resolve(
            practice=practice, actor=physician, condition=condition, resolved_on=dt.date(2019, 1, 1)
        )
    # then
    assert error.value.field == "resolved_on"
    assert snapshot(practice) == before


def test_condition_of_another_practice_is_not_found(
    practice, other_practice, physician, in_practice, snapshot
):
    # given
    with in_practice(other_practice):
        foreign = ConditionFactory(practice=other_practice)
    before = snapshot(other_practice)
    # when
    with in_practice(practice), pytest.raises(NotFound):
        condition_resolve(practice=practice, actor=physician, condition=foreign, resolved_on=TODAY)
    # then
    assert snapshot(other_practice) == before
