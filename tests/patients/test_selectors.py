from __future__ import annotations

import datetime as dt
import uuid

import pytest

from ccm.errors import InvalidState, NotFound
from ccm.permissions import Role
from patients.chronic import chronic_category_for
from patients.models import ConsentMethod, EnrollmentStatus, FacilityStayKind, Patient
from patients.selectors.consent import consent_get
from patients.selectors.patient import (
    patient_detail,
    patient_get,
    patient_list,
    patient_status_counts,
    patients_eligible_for_ccm,
)
from patients.selectors.records import (
    condition_get,
    condition_list,
    facility_stay_get,
    facility_stay_list,
    other_service_get,
    other_service_list,
    visit_get,
    visit_list,
)
from patients.services.consent import consent_record
from patients.services.encounter import visit_void
from patients.services.enrollment import outreach_record
from tests.factories import (
    ConditionFactory,
    FacilityStayFactory,
    MembershipFactory,
    OtherServiceFactory,
    PatientFactory,
    UserFactory,
    VisitFactory,
)

S = EnrollmentStatus
# Queries of one call, whatever the number of rows (the constant-query rule).
PATIENT_LIST_QUERIES = 1
ELIGIBILITY_QUERIES = 2
DETAIL_QUERIES = 8


def _chronic(practice, patient, *codes, **extra):
    return [
        ConditionFactory(
            practice=practice,
            patient=patient,
            code=code,
            chronic_category=extra.get("category", chronic_category_for(code) or ""),
            chronic_attested=True,
            attested_by=extra["by"],
            attested_on=dt.date(2025, 1, 2),
        )
        for code in codes
    ]


def _consent(practice, actor, patient, practitioner, obtained_on=dt.date(2025, 3, 1)):
    return consent_record(
        practice=practice,
        actor=actor,
        patient=patient,
        practitioner=practitioner,
        obtained_on=obtained_on,
        method=ConsentMethod.VERBAL,
        explained_cost_sharing=True,
        explained_one_practitioner=True,
        explained_stop_anytime=True,
    )


# --- patient_get / patient_list -------------------------------------------------------------


def test_patient_get_returns_the_practices_patient(practice, physician, in_practice):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice, billing_practitioner=physician)
        # when
        found = patient_get(practice=practice, public_id=str(patient.public_id))
    # then
    assert found == patient


@pytest.mark.parametrize("public_id", ["other", str(uuid.UUID(int=1)), "not-a-uuid"])
def test_patient_get_of_another_practice_or_unknown_id_is_not_found(
    practice, other_practice, in_practice, public_id
):
    # given
    with in_practice(other_practice):
        foreign = PatientFactory(practice=other_practice)
    key = str(foreign.public_id) if public_id == "other" else public_id
    # when / then
    with in_practice(practice), pytest.raises(NotFound):
        patient_get(practice=practice, public_id=key)


def test_patient_list_searches_filters_and_annotates(practice, coordinator, physician, in_practice):
    # given
    with in_practice(practice):
        ada = PatientFactory(
            practice=practice,
            first_name="Ada",
            last_name="Lovelace",
            mrn="M-1",
            billing_practitioner=physician,
        )
        _chronic(practice, ada, "E11.9", "I10", by=physician)
        ConditionFactory(practice=practice, patient=ada, code="J30.9")
        VisitFactory(practice=practice, patient=ada, date=dt.date(2025, 2, 1))
        voided = VisitFactory(practice=practice, patient=ada, date=dt.date(2025, 3, 1))
        visit_void(practice=practice, actor=coordinator, visit=voided, reason="wrong")
        _consent(practice, coordinator, ada, physician)
        PatientFactory(practice=practice, first_name="Grace", last_name="Hopper", mrn="M-2")
        # when
        by_name = list(patient_list(practice=practice, search="ada love"))
        by_mrn = list(patient_list(practice=practice, search="m-2"))
        consented = list(patient_list(practice=practice, status=S.CONSENTED))
        several = list(patient_list(practice=practice, status=[S.CONSENTED, S.UNREVIEWED]))
        by_doctor = list(patient_list(practice=practice, practitioner=physician.public_id))
        bogus_doctor = list(patient_list(practice=practice, practitioner="nope"))
    # then
    assert [p.mrn for p in by_name] == ["M-1"]
    assert [p.mrn for p in by_mrn] == ["M-2"]
    assert [p.mrn for p in consented] == ["M-1"]
    assert [p.mrn for p in several] == ["M-2", "M-1"]
    assert [p.mrn for p in by_doctor] == ["M-1"]
    assert bogus_doctor == []
    row = by_name[0]
    assert (row.chronic_condition_count, row.last_visit_on, row.has_current_consent) == (
        2,
        dt.date(2025, 2, 1),
        True,
    )


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("name", ["Able", "Baker", "Charlie"]),
        ("-name", ["Charlie", "Baker", "Able"]),
        ("conditions", ["Able", "Charlie", "Baker"]),
        ("-conditions", ["Baker", "Charlie", "Able"]),
        ("last_visit", ["Able", "Charlie", "Baker"]),
        ("-last_visit", ["Baker", "Charlie", "Able"]),
    ],
)
def test_patient_list_sorts(practice, physician, in_practice, order, expected):
    # given
    with in_practice(practice):
        PatientFactory(practice=practice, last_name="Able")
        baker = PatientFactory(practice=practice, last_name="Baker")
        charlie = PatientFactory(practice=practice, last_name="Charlie")
        _chronic(practice, baker, "E11.9", "I10", by=physician)
        _chronic(practice, charlie, "E11.9", by=physician)
        VisitFactory(practice=practice, patient=baker, date=dt.date(2025, 3, 1))
        VisitFactory(practice=practice, patient=charlie, date=dt.date(2025, 1, 1))
        # when
        names = [p.last_name for p in patient_list(practice=practice, order=order)]
    # then
    assert names == expected


def test_unknown_sort_is_refused(practice, in_practice):
    # when / then
    with in_practice(practice), pytest.raises(InvalidState) as error:
        patient_list(practice=practice, order="dob")
    assert error.value.field == "order"


@pytest.mark.parametrize("count", [1, 50])
def test_patient_list_runs_one_query_for_any_number_of_rows(
    practice, physician, in_practice, django_assert_max_num_queries, count
):
    # given
    with in_practice(practice):
        for _ in range(count):
            patient = PatientFactory(practice=practice, billing_practitioner=physician)
            _chronic(practice, patient, "E11.9", "I10", by=physician)
            VisitFactory(practice=practice, patient=patient)
        # when
        with django_assert_max_num_queries(PATIENT_LIST_QUERIES):
            rows = [
                (
                    p.mrn,
                    p.full_name,
                    p.get_enrollment_status_display(),
                    p.billing_practitioner.display_name,
                    p.chronic_condition_count,
                    p.last_visit_on,
                    p.has_current_consent,
                )
                for p in patient_list(practice=practice)
            ]
    # then
    assert len(rows) == count


def test_patient_list_shows_no_other_practice(practice, other_practice, in_practice):
    # given
    with in_practice(other_practice):
        PatientFactory(practice=other_practice)
    # when
    with in_practice(practice):
        rows = list(patient_list(practice=practice))
    # then
    assert rows == []


def test_status_counts_cover_every_status(practice, in_practice):
    # given
    with in_practice(practice):
        PatientFactory(practice=practice)
        PatientFactory(practice=practice, enrollment_status=S.ENROLLED)
        PatientFactory(practice=practice, enrollment_status=S.ENROLLED)
        # when
        counts = patient_status_counts(practice=practice)
    # then
    assert counts == {**dict.fromkeys(S.values, 0), "unreviewed": 1, "enrolled": 2}


# --- eligibility ------------------------------------------------------------------------


def test_eligibility_lists_candidates_with_two_attested_active_conditions(
    practice, physician, in_practice
):
    # given
    with in_practice(practice):
        eligible = PatientFactory(practice=practice, last_name="Eligible")
        _chronic(practice, eligible, "E11.9", category="diabetes", by=physician)
        _chronic(practice, eligible, "I10", category="hypertension", by=physician)
        ConditionFactory(practice=practice, patient=eligible, code="J30.9")
        VisitFactory(practice=practice, patient=eligible, date=dt.date(2025, 1, 20))

        one = PatientFactory(practice=practice, last_name="OneChronic")
        _chronic(practice, one, "E11.9", by=physician)
        ConditionFactory(practice=practice, patient=one, code="I10")  # not attested

        resolved = PatientFactory(practice=practice, last_name="Resolved")
        _chronic(practice, resolved, "E11.9", by=physician)
        ConditionFactory(
            practice=practice,
            patient=resolved,
            code="I10",
            chronic_attested=True,
            attested_by=physician,
            attested_on=dt.date(2024, 1, 1),
            resolved_on=dt.date(2024, 6, 1),
        )
        excluded = [
            PatientFactory(practice=practice, last_name=f"Excluded{n}", **fields)
            for n, fields in enumerate(
                [
                    {"enrollment_status": S.ENROLLED},
                    {"enrollment_status": S.DECLINED},
                    {"enrollment_status": S.ENROLLED_ELSEWHERE},
                    {"enrollment_status": S.INELIGIBLE},
                    {"medicare_part_b": False},
                    {"blocked_by_model": True},
                    {"date_of_death": dt.date(2025, 1, 1)},
                ]
            )
        ]
        for patient in excluded:
            _chronic(practice, patient, "E11.9", "I10", by=physician)
        # when
        rows = list(patients_eligible_for_ccm(practice=practice))
    # then
    assert [p.last_name for p in rows] == ["Eligible"]
    row = rows[0]
    assert (row.chronic_condition_count, row.last_visit_on) == (2, dt.date(2025, 1, 20))
    assert [
        (c.code, c.chronic_category, c.chronic_category_label) for c in row.qualifying_conditions
    ] == [("E11.9", "diabetes", "Diabetes"), ("I10", "hypertension", "Hypertension")]


@pytest.mark.parametrize("status", [S.UNREVIEWED, S.IDENTIFIED, S.OUTREACH, S.CONSENTED])
def test_every_candidate_status_is_listed(practice, physician, in_practice, status):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice, enrollment_status=status)
        _chronic(practice, patient, "E11.9", "I10", by=physician)
        # when
        rows = list(patients_eligible_for_ccm(practice=practice))
    # then
    assert rows == [patient]


def test_eligibility_filters(practice, physician, in_practice):
    # given
    with in_practice(practice):
        other_doctor = MembershipFactory(
            practice=practice, role=Role.PHYSICIAN, user=UserFactory(full_name="Dr Two")
        )
        seen = PatientFactory(practice=practice, last_name="Seen", billing_practitioner=physician)
        _chronic(practice, seen, "E11.9", category="diabetes", by=physician)
        _chronic(practice, seen, "I10", category="hypertension", by=physician)
        VisitFactory(practice=practice, patient=seen, date=dt.date(2025, 3, 1))
        old = PatientFactory(practice=practice, last_name="Old", billing_practitioner=other_doctor)
        _chronic(practice, old, "J44.9", category="copd", by=physician)
        _chronic(practice, old, "I10", category="hypertension", by=physician)
        VisitFactory(practice=practice, patient=old, date=dt.date(2023, 5, 1))
        never = PatientFactory(practice=practice, last_name="Never")
        _chronic(practice, never, "J44.9", category="copd", by=physician)
        _chronic(practice, never, "F32.1", category="depression", by=physician)

        def names(**filters):
            return [p.last_name for p in patients_eligible_for_ccm(practice=practice, **filters)]

        # when
        by_doctor = names(practitioner=str(physician.public_id))
        by_category = names(category="copd")
        before = names(last_visit_before=dt.date(2024, 3, 15))
        after = names(last_visit_after=dt.date(2024, 3, 15))
        by_count = names(order="-conditions")
        by_visit = names(order="last_visit")
    # then
    assert by_doctor == ["Seen"]
    assert by_category == ["Never", "Old"]
    assert before == ["Never", "Old"]
    assert after == ["Seen"]
    assert by_count == ["Never", "Old", "Seen"]
    assert by_visit == ["Never", "Old", "Seen"]


@pytest.mark.parametrize("count", [1, 50])
def test_eligibility_runs_two_queries_for_any_number_of_rows(
    practice, physician, in_practice, django_assert_max_num_queries, count
):
    # given
    with in_practice(practice):
        for _ in range(count):
            patient = PatientFactory(practice=practice, billing_practitioner=physician)
            _chronic(practice, patient, "E11.9", "I10", "J44.9", by=physician)
            VisitFactory(practice=practice, patient=patient)
        # when
        with django_assert_max_num_queries(ELIGIBILITY_QUERIES):
            rows = [
                (
                    p.full_name,
                    p.billing_practitioner.display_name,
                    p.chronic_condition_count,
                    p.last_visit_on,
                    [
                        (c.code, c.chronic_category_label, c.attested_by.display_name)
                        for c in p.qualifying_conditions
                    ],
                )
                for p in patients_eligible_for_ccm(practice=practice, category="diabetes")
            ]
    # then
    assert len(rows) == count
    assert all(len(row[4]) == 3 for row in rows)


# --- patient_detail and single rows -----------------------------------------------------


def test_patient_detail_bundles_every_record(practice, coordinator, physician, in_practice):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice)
        _chronic(practice, patient, "E11.9", "I10", by=physician)
        resolved = ConditionFactory(
            practice=practice, patient=patient, code="J30.9", resolved_on=dt.date(2025, 1, 1)
        )
        consent = _consent(practice, coordinator, patient, physician)
        outreach_record(
            practice=practice,
            actor=coordinator,
            patient=patient,
            attempted_on=dt.date(2025, 3, 2),
            channel="phone",
            outcome="reached",
        )
        visit = VisitFactory(practice=practice, patient=patient)
        service = OtherServiceFactory(practice=practice, patient=patient)
        stay = FacilityStayFactory(practice=practice, patient=patient)
        # when
        detail = patient_detail(practice=practice, public_id=patient.public_id)
    # then
    assert detail.patient == patient
    assert [c.code for c in detail.conditions] == ["E11.9", "I10", "J30.9"]
    assert detail.conditions[-1] == resolved
    assert [c.code for c in detail.chronic_conditions] == ["E11.9", "I10"]
    assert detail.consents == [consent]
    assert detail.current_consent == consent
    assert detail.consent_renewal is None
    assert [(e.from_status, e.to_status) for e in detail.enrollment_events] == [
        ("unreviewed", "consented")
    ]
    assert len(detail.outreach_attempts) == 1
    assert (detail.visits, detail.other_services, detail.facility_stays) == (
        [visit],
        [service],
        [stay],
    )


@pytest.mark.parametrize("count", [1, 20])
def test_patient_detail_runs_a_constant_number_of_queries(
    practice, members, in_practice, django_assert_max_num_queries, count
):
    # given
    coordinator, physician = members[Role.CARE_COORDINATOR], members[Role.PHYSICIAN]
    with in_practice(practice):
        patient = PatientFactory(practice=practice, billing_practitioner=physician)
        for n in range(count):
            _chronic(practice, patient, f"M{10 + n}.9", by=physician)
            VisitFactory(
                practice=practice,
                patient=patient,
                practitioner=physician,
                outside_practitioner_name="",
            )
            OtherServiceFactory(practice=practice, patient=patient)
            FacilityStayFactory(
                practice=practice,
                patient=patient,
                kind=FacilityStayKind.INPATIENT,
                from_date=dt.date(2020, 1, 1) + dt.timedelta(days=10 * n),
                to_date=dt.date(2020, 1, 2) + dt.timedelta(days=10 * n),
            )
        _consent(practice, coordinator, patient, physician)
        # when
        with django_assert_max_num_queries(DETAIL_QUERIES):
            detail = patient_detail(practice=practice, public_id=patient.public_id)
            shown = [
                *(c.attested_by.display_name for c in detail.conditions),
                *(v.practitioner_name for v in detail.visits),
                *(s.practitioner_name for s in detail.other_services),
                *(c.practitioner.display_name for c in detail.consents),
                *(c.obtained_by.display_name for c in detail.consents),
                *(e.by.display_name for e in detail.enrollment_events),
                detail.patient.billing_practitioner.display_name,
            ]
    # then
    assert len(shown) == 3 * count + 4


def test_single_row_getters_scope_to_the_practice(
    practice, other_practice, coordinator, physician, in_practice
):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice)
        condition = ConditionFactory(practice=practice, patient=patient)
        consent = _consent(practice, coordinator, patient, physician)
        visit = VisitFactory(practice=practice, patient=patient)
        service = OtherServiceFactory(practice=practice, patient=patient)
        stay = FacilityStayFactory(practice=practice, patient=patient)
    with in_practice(other_practice):
        foreign = VisitFactory(practice=other_practice)
    # when
    with in_practice(practice):
        found = (
            condition_get(practice=practice, public_id=condition.public_id),
            consent_get(practice=practice, public_id=consent.public_id),
            visit_get(practice=practice, public_id=visit.public_id),
            other_service_get(practice=practice, public_id=service.public_id),
            facility_stay_get(practice=practice, public_id=stay.public_id),
        )
        with pytest.raises(NotFound):
            visit_get(practice=practice, public_id=foreign.public_id)
    # then
    assert found == (condition, consent, visit, service, stay)


def test_per_patient_lists_hide_voided_rows_unless_asked(practice, coordinator, in_practice):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice)
        kept = VisitFactory(practice=practice, patient=patient, date=dt.date(2025, 1, 1))
        voided = VisitFactory(practice=practice, patient=patient, date=dt.date(2025, 2, 1))
        visit_void(practice=practice, actor=coordinator, visit=voided, reason="dup")
        service = OtherServiceFactory(practice=practice, patient=patient)
        stay = FacilityStayFactory(practice=practice, patient=patient)
        active = ConditionFactory(practice=practice, patient=patient, code="I10")
        ConditionFactory(
            practice=practice, patient=patient, code="J30.9", resolved_on=dt.date(2025, 1, 1)
        )
        # when
        visits = list(visit_list(practice=practice, patient=patient))
        all_visits = list(visit_list(practice=practice, patient=patient, include_voided=True))
        services = list(other_service_list(practice=practice, patient=patient))
        stays = list(facility_stay_list(practice=practice, patient=patient))
        conditions = list(condition_list(practice=practice, patient=patient, active_only=True))
    # then
    assert visits == [kept]
    assert all_visits == [voided, kept]
    assert (services, stays, conditions) == ([service], [stay], [active])


def test_patient_rows_are_invisible_outside_a_practice_context(practice, in_practice):
    # given
    with in_practice(practice):
        PatientFactory(practice=practice)
    # when
    count = Patient.objects.count()
    # then
    assert count == 0
