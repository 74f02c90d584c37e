from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest

from ccm.audit import AuditEvent
from ccm.errors import InvalidState, PermissionDenied
from ccm.models import AuditLog
from ccm.permissions import Role
from patients.imports.encounters import (
    EncounterKind,
    encounter_import_commit,
    encounter_import_preview,
)
from patients.imports.panel import panel_import_commit, panel_import_preview
from patients.imports.table import ImportResult, RowError, RowPlan
from patients.models import Condition, EnrollmentStatus, FacilityStay, Patient, Visit
from tests.factories import ConditionFactory, MembershipFactory, PatientFactory, UserFactory

SAMPLE = Path(__file__).resolve().parents[2] / "patients" / "data" / "sample_panel.csv"
HEADER = "mrn,first_name,last_name,date_of_birth,medicare_part_b"


def _file(text: str, name: str = "panel.csv") -> io.BytesIO:
    data = io.BytesIO(text.encode("utf-8"))
    data.name = name
    return data


@pytest.fixture
def sample_physicians(practice, in_practice):
    """The two physicians the sample file names by NPI."""
    with in_practice(practice):
        return [
            MembershipFactory(
                practice=practice, role=Role.PHYSICIAN, npi=npi, user=UserFactory(full_name=name)
            )
            for npi, name in (("1999990017", "Dr Okafor"), ("1999990033", "Dr Reyes"))
        ]


# --- the panel ----------------------------------------------------------------------------


def test_sample_panel_previews_clean(practice, coordinator, sample_physicians, in_practice):
    # when
    with in_practice(practice):
        preview = panel_import_preview(practice=practice, actor=coordinator, file=SAMPLE.open("rb"))
    # then
    assert preview.is_valid
    assert (preview.errors, preview.warnings) == ([], [])
    assert (preview.count("create"), preview.count("update")) == (20, 0)
    assert preview.rows[0] == RowPlan(
        2, "S-1001", "create", "Whitaker, Harold: 3 chronic, 1 other condition(s)"
    )


def test_sample_panel_commits_every_patient_and_condition_with_one_audit_row(
    practice, coordinator, sample_physicians, in_practice
):
    # when
    with in_practice(practice), SAMPLE.open("rb") as file:
        result = panel_import_commit(practice=practice, actor=coordinator, file=file)
        patients = Patient.objects.for_practice(practice)
        statuses = set(patients.values_list("enrollment_status", flat=True))
        first = patients.get(mrn="S-1001")
        conditions = Condition.objects.for_practice(practice)
        counts = (
            patients.count(),
            conditions.count(),
            conditions.filter(chronic_attested=True, attested_by=coordinator).count(),
        )
        first_conditions = sorted(
            conditions.filter(patient=first).values_list(
                "code", "chronic_category", "chronic_attested"
            )
        )
        audit = list(AuditLog.objects.for_practice(practice).values_list("event", "changes"))
    # then
    assert result == ImportResult(created=20, updated=0)
    assert counts == (20, 50, 44)
    assert statuses == {EnrollmentStatus.UNREVIEWED}
    assert (first.mbi, first.billing_practitioner_id, first.caregiver_relationship) == (
        "1EG4TE5MK73",
        sample_physicians[0].pk,
        "spouse",
    )
    assert first_conditions == [
        ("E11.9", "diabetes", True),
        ("I10", "hypertension", True),
        ("J30.9", "", False),
        ("N18.30", "chronic_kidney_disease", True),
    ]
    assert len(audit) == 1
    event, changes = audit[0]
    assert event == AuditEvent.PATIENTS_IMPORTED
    assert {key: changes[key] for key in ("file", "created", "updated", "conditions_added")} == {
        "file": str(SAMPLE),
        "created": 20,
        "updated": 0,
        "conditions_added": 50,
    }
    assert len(changes["patient_ids"]) == 20


def test_every_row_error_is_reported_with_row_and_column(
    practice, coordinator, physician, in_practice
):
    # given
    text = "\n".join(
        [
            f"{HEADER},chronic_conditions,billing_practitioner_npi,sex",
            "A1,Ann,Able,1950-01-02,yes,E11.9;I10,,f",
            "A2,Bob,,02/30/1950,maybe,E1-19,1999990017,",
            "A1,Cy,Cole,1950-01-02,no,,,x",
            ",Dee,Dale,2030-01-01,yes,,,",
            "A5,Eve,Ezra,1950-01-02,yes",
        ]
    )
    # when
    with in_practice(practice):
        preview = panel_import_preview(practice=practice, actor=coordinator, file=_file(text))
    # then
    assert not preview.is_valid
    assert preview.errors == [
        RowError(3, "last_name", "This cell is required."),
        RowError(3, "date_of_birth", "“02/30/1950” is not a date (use YYYY-MM-DD or MM/DD/YYYY)."),
        RowError(3, "medicare_part_b", "“maybe” is not yes or no."),
        RowError(
            3,
            "billing_practitioner_npi",
            "NPI 1999990017 is not an active physician of this practice.",
        ),
        RowError(
            3,
            "chronic_conditions",
            "“E1-19” is not an ICD-10-CM code: expected a letter, a digit, a letter or digit, "
            "then optionally a dot and up to 4 letters or digits (for example E11.9).",
        ),
        RowError(4, "sex", "“x” is not one of female, male, other, unknown."),
        RowError(4, "mrn", "MRN A1 is also on row 2."),
        RowError(5, "mrn", "This cell is required."),
        RowError(5, "date_of_birth", "The birth date is in the future."),
        RowError(6, "", "The row has 5 cells; the header has 8."),
    ]


def test_commit_with_errors_imports_nothing(practice, coordinator, in_practice, snapshot):
    # given
    text = (
        f"{HEADER},chronic_conditions\n"
        "A1,Ann,Able,1950-01-02,yes,I10\n"
        "A2,Bob,Bell,1950-01-02,yes,XX"
    )
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(InvalidState) as error:
        panel_import_commit(practice=practice, actor=coordinator, file=_file(text))
    # then
    assert (error.value.field, error.value.message) == (
        "file",
        "The file has 1 error(s); nothing was imported.",
    )
    assert snapshot(practice) == before


@pytest.mark.parametrize("column", ["practice", "practice_id", "Practice Slug"])
def test_file_naming_a_practice_is_refused_whole(
    practice, coordinator, in_practice, snapshot, column
):
    # given
    text = f"{HEADER},{column}\nA1,Ann,Able,1950-01-02,yes,harbor"
    name = column.lower().replace(" ", "_")
    before = snapshot(practice)
    # when
    with in_practice(practice):
        preview = panel_import_preview(practice=practice, actor=coordinator, file=_file(text))
        with pytest.raises(InvalidState):
            panel_import_commit(practice=practice, actor=coordinator, file=_file(text))
    # then
    assert preview.errors == [
        RowError(
            0,
            name,
            f"The file has a “{name}” column. An import always goes to the practice you are "
            "signed in to, never to one a file names: remove the column.",
        )
    ]
    assert preview.rows == []
    assert snapshot(practice) == before


def test_unknown_and_missing_columns_are_file_errors(practice, coordinator, in_practice):
    # given
    text = "mrn,first_name,last_name,dob\nA1,Ann,Able,1950-01-02"
    # when
    with in_practice(practice):
        preview = panel_import_preview(practice=practice, actor=coordinator, file=_file(text))
    # then
    assert [(e.row, e.column) for e in preview.errors] == [
        (0, "dob"),
        (0, "date_of_birth, medicare_part_b"),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (HEADER.encode(), "The file has a header but no rows."),
        ("mrn,first_name\n\xe9".encode("latin-1"), "The file is not UTF-8 text."),
    ],
)
def test_unreadable_files_are_reported(practice, coordinator, in_practice, content, message):
    # when
    with in_practice(practice):
        preview = panel_import_preview(
            practice=practice, actor=coordinator, file=io.BytesIO(content)
        )
    # then
    assert preview.errors == [RowError(0, "", message)]


def test_existing_mrn_is_updated_and_empty_cells_keep_values(
    practice, coordinator, physician, in_practice
):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice, mrn="A1", phone="555-0100", city="Troy")
        ConditionFactory(practice=practice, patient=patient, code="I10")
    text = (
        f"{HEADER},phone,city,chronic_conditions,other_conditions\n"
        "A1,Ann,Able,1950-01-02,yes,,Albany,I10;E11.9,J30.9"
    )
    # when
    with in_practice(practice):
        preview = panel_import_preview(practice=practice, actor=coordinator, file=_file(text))
        result = panel_import_commit(practice=practice, actor=coordinator, file=_file(text))
        stored = Patient.objects.for_practice(practice).get()
        conditions = sorted(
            Condition.objects.for_practice(practice).values_list("code", "chronic_attested")
        )
    # then
    assert [row.action for row in preview.rows] == ["update"]
    assert result == ImportResult(created=0, updated=1)
    assert (stored.pk, stored.first_name, stored.phone, stored.city) == (
        patient.pk,
        "Ann",
        "555-0100",
        "Albany",
    )
    assert conditions == [("E11.9", True), ("I10", True), ("J30.9", False)]


def test_a_manager_imports_chronic_codes_unattested_with_a_warning(practice, manager, in_practice):
    # given
    text = f"{HEADER},chronic_conditions\nA1,Ann,Able,1950-01-02,yes,I10;E11.9"
    # when
    with in_practice(practice):
        preview = panel_import_preview(practice=practice, actor=manager, file=_file(text))
        panel_import_commit(practice=practice, actor=manager, file=_file(text))
        attested = Condition.objects.for_practice(practice).filter(chronic_attested=True).count()
        total = Condition.objects.for_practice(practice).count()
    # then
    assert preview.is_valid
    assert preview.warnings == [
        RowError(
            0,
            "chronic_conditions",
            "2 chronic condition(s) will be imported without the chronic attestation: only a "
            "physician or care coordinator attests. They can attest them on each patient's page.",
        )
    ]
    assert (attested, total) == (0, 2)


def test_physician_may_not_import_the_panel(practice, physician, in_practice):
    # when / then
    with in_practice(practice), pytest.raises(PermissionDenied):
        panel_import_preview(practice=practice, actor=physician, file=_file(HEADER))


# --- visits, other services, stays --------------------------------------------------------


def test_visit_import_resolves_practitioners_and_skips_repeats(
    practice, coordinator, physician, in_practice
):
    # given
    with in_practice(practice):
        PatientFactory(practice=practice, mrn="A1")
        PatientFactory(practice=practice, mrn="A2")
    text = (
        "mrn,date,code,practitioner_npi,practitioner_name,ccm_discussed\n"
        f"A1,2025-02-03,99214,{physician.npi},,yes\n"
        "A2,2025-02-04,g0438,1245319599,Dr Outside,no\n"
        f"A1,2025-02-03,99214,{physician.npi},,yes\n"
    )
    # when
    with in_practice(practice):
        preview = encounter_import_preview(
            practice=practice, actor=coordinator, file=_file(text), kind=EncounterKind.VISITS
        )
        first = encounter_import_commit(
            practice=practice, actor=coordinator, file=_file(text), kind="visits"
        )
        second = encounter_import_commit(
            practice=practice, actor=coordinator, file=_file(text), kind="visits"
        )
        visits = sorted(
            Visit.objects.for_practice(practice).values_list(
                "patient__mrn", "code", "practitioner", "outside_practitioner_name", "ccm_discussed"
            )
        )
        audit = list(
            AuditLog.objects.for_practice(practice).order_by("pk").values_list("event", "changes")
        )
    # then
    assert [row.action for row in preview.rows] == ["create", "create", "skip"]
    assert preview.rows[2].summary == "Same as row 2."
    assert first == ImportResult(created=2, updated=0, skipped=1)
    assert second == ImportResult(created=0, updated=0, skipped=3)
    assert visits == [
        ("A1", "99214", physician.pk, "", True),
        ("A2", "G0438", None, "Dr Outside", False),
    ]
    assert [event for event, _ in audit] == [AuditEvent.ENCOUNTERS_IMPORTED] * 2
    assert {k: audit[0][1][k] for k in ("kind", "created", "skipped")} == {
        "kind": "visits",
        "created": 2,
        "skipped": 1,
    }


def test_encounter_rows_with_errors_import_nothing(practice, coordinator, in_practice, snapshot):
    # given
    with in_practice(practice):
        PatientFactory(practice=practice, mrn="A1")
    text = (
        "mrn,date,code,practitioner_npi,practitioner_name\n"
        "A1,2025-02-03,99214,,Dr Outside\n"
        "ZZ,2025-02-03,99214,,Dr Outside\n"
        "A1,2025-03-16,9921,,\n"
    )
    before = snapshot(practice)
    # when
    with in_practice(practice):
        preview = encounter_import_preview(
            practice=practice, actor=coordinator, file=_file(text), kind="other_services"
        )
        with pytest.raises(InvalidState):
            encounter_import_commit(
                practice=practice, actor=coordinator, file=_file(text), kind="other_services"
            )
    # then
    assert preview.errors == [
        RowError(3, "mrn", "No patient of this practice has MRN ZZ."),
        RowError(4, "date", "The date is in the future."),
        RowError(
            4,
            "code",
            "“9921” is not a CPT or HCPCS code (5 digits such as 99214, or a letter and 4 digits "
            "such as G0438).",
        ),
        RowError(
            4,
            "practitioner_name",
            "Name the outside practitioner (or give the NPI of a physician of the practice).",
        ),
    ]
    assert snapshot(practice) == before


def test_stay_import_checks_dates_and_overlaps(practice, coordinator, in_practice, snapshot):
    # given
    with in_practice(practice):
        PatientFactory(practice=practice, mrn="A1")
    text = (
        "mrn,kind,from_date,to_date,facility_name\n"
        "A1,inpatient,2025-02-01,2025-02-05,General\n"
        "A1,snf_part_a,2025-02-05,2025-02-20,Riverside\n"
        "A1,inpatient,2025-03-05,2025-03-01,\n"
        "A1,hospice,2025-01-01,2025-01-02,\n"
    )
    before = snapshot(practice)
    # when
    with in_practice(practice):
        preview = encounter_import_preview(
            practice=practice, actor=coordinator, file=_file(text), kind="facility_stays"
        )
    # then
    assert preview.errors == [
        RowError(3, "from_date", "The stay overlaps another one (2025-02-01 to 2025-02-05)."),
        RowError(4, "to_date", "The stay cannot end before it starts."),
        RowError(5, "kind", "“hospice” is not one of inpatient, snf_part_a."),
    ]
    assert snapshot(practice) == before


def test_stay_import_commits_valid_stays(practice, coordinator, in_practice):
    # given
    with in_practice(practice):
        PatientFactory(practice=practice, mrn="A1")
    text = "mrn,kind,from_date,to_date\nA1,inpatient,02/01/2025,02/05/2025\n"
    # when
    with in_practice(practice):
        result = encounter_import_commit(
            practice=practice, actor=coordinator, file=_file(text), kind="facility_stays"
        )
        stays = list(
            FacilityStay.objects.for_practice(practice).values_list("kind", "from_date", "to_date")
        )
    # then
    assert result == ImportResult(created=1, updated=0, skipped=0)
    assert stays == [("inpatient", dt.date(2025, 2, 1), dt.date(2025, 2, 5))]


def test_unknown_encounter_kind_is_refused(practice, coordinator, in_practice):
    # when / then
    with in_practice(practice), pytest.raises(InvalidState) as error:
        encounter_import_preview(
            practice=practice, actor=coordinator, file=_file("mrn"), kind="labs"
        )
    assert error.value.field == "kind"
