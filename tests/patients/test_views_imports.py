"""CSV imports through the pages: upload → dry run → confirm → result, and the samples."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ccm.audit import AuditEvent
from ccm.permissions import Role
from ccm.tenancy import practice_context
from patients.imports.encounters import ENCOUNTER_COLUMNS
from patients.imports.panel import PANEL_OPTIONAL, PANEL_REQUIRED
from patients.models import Condition, Patient, Visit
from patients.views.imports import SAMPLES, import_documentation
from tests.factories import MembershipFactory, UserFactory
from tests.patients.web import audit_rows, count_rows, shown_ids

SAMPLE_PANEL = Path(SAMPLES["panel"])


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path), "base_url": None},
        },
    }
    return tmp_path


@pytest.fixture(autouse=True)
def sample_physicians(practice, members):
    """The two physicians the sample files name by NPI."""
    with practice_context(practice.pk):
        return [
            MembershipFactory.create(
                practice=practice,
                role=Role.PHYSICIAN,
                npi=npi,
                user=UserFactory(full_name=name, email=f"{npi}@maple.test"),
            )
            for npi, name in (("1999990017", "Dr. Maple"), ("1999990033", "Dr. Reyes"))
        ]


def _csv(name, text):
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def _sample(kind):
    return SimpleUploadedFile(SAMPLES[kind].name, SAMPLES[kind].read_bytes())


def _ticket(response):
    return response.context["confirm_form"].initial["ticket"]


def _kept_files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file())


def test_import_page_documents_every_column_and_links_the_samples(coordinator, client_for):
    # when
    response = client_for(coordinator).get(reverse("patient_import"))
    # then
    html = response.content.decode()
    for name in ("panel", "visits", "other_services", "facility_stays"):
        assert reverse(f"import_sample_{name}") in html
    for column in (*PANEL_REQUIRED, *PANEL_OPTIONAL, "practitioner_npi", "from_date"):
        assert f'<td class="mono">{column}</td>' in html


def test_the_documentation_covers_each_import_column_once():
    # given
    docs = {doc["kind"]: [c["name"] for c in doc["columns"]] for doc in import_documentation()}
    # then
    assert docs["panel"] == [*PANEL_REQUIRED, *PANEL_OPTIONAL]
    assert [
        column["name"]
        for doc in import_documentation()
        for column in doc["columns"]
        if not column["help"]
    ] == []
    for kind, (required, optional) in ENCOUNTER_COLUMNS.items():
        assert docs[kind] == [*required, *optional]


@pytest.mark.parametrize("kind", ["panel", "visits", "other_services", "facility_stays"])
def test_samples_download_as_csv(coordinator, client_for, kind):
    # when
    response = client_for(coordinator).get(reverse(f"import_sample_{kind}"))
    # then
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="sample_{kind}.csv"'
    assert b"".join(response.streaming_content) == SAMPLES[kind].read_bytes()


def test_coordinator_imports_the_sample_panel_after_a_dry_run(
    practice, coordinator, client_for, private_storage
):
    # given
    client = client_for(coordinator)
    # when the file is checked
    preview = client.post(reverse("panel_import_upload"), {"file": _sample("panel")})
    # then nothing is saved yet, and the plan is shown
    assert preview.status_code == 200
    assert preview.context["counts"] == {"create": 20, "update": 0, "skip": 0}
    assert count_rows(practice, Patient) == 0
    assert len(_kept_files(private_storage)) == 1
    (checked,) = audit_rows(practice, AuditEvent.IMPORT_PREVIEWED)
    assert shown_ids(checked) == []
    # when confirmed
    result = client.post(reverse("import_commit"), {"ticket": _ticket(preview)})
    # then
    assert result.status_code == 200
    assert (result.context["result"].created, result.context["result"].updated) == (20, 0)
    assert "<strong>20</strong><span>created</span>" in result.content.decode()
    assert count_rows(practice, Patient) == 20
    assert _kept_files(private_storage) == []
    assert len(audit_rows(practice, AuditEvent.PATIENTS_IMPORTED)) == 1


def test_a_second_confirm_of_the_same_upload_imports_nothing(practice, coordinator, client_for):
    # given a file already imported
    client = client_for(coordinator)
    ticket = _ticket(client.post(reverse("panel_import_upload"), {"file": _sample("panel")}))
    client.post(reverse("import_commit"), {"ticket": ticket})
    # when
    again = client.post(reverse("import_commit"), {"ticket": ticket}, follow=True)
    # then
    assert [str(m) for m in again.context["messages"]] == [
        "This upload has expired or was already imported: upload it again."
    ]
    assert len(audit_rows(practice, AuditEvent.PATIENTS_IMPORTED)) == 1


def test_a_ticket_is_of_no_use_to_another_member(practice, coordinator, manager, client_for):
    # given
    ticket = _ticket(
        client_for(coordinator).post(reverse("panel_import_upload"), {"file": _sample("panel")})
    )
    # when
    response = client_for(manager).post(reverse("import_commit"), {"ticket": ticket})
    # then
    assert response.status_code == 302
    assert count_rows(practice, Patient) == 0


def test_a_forged_ticket_is_refused(practice, coordinator, client_for):
    # when
    response = client_for(coordinator).post(
        reverse("import_commit"), {"ticket": "eyJ0b2tlbiI6Ii4uLyJ9:forged"}, follow=True
    )
    # then
    assert [str(m) for m in response.context["messages"]] == [
        "This upload has expired or was already imported: upload it again."
    ]


def test_a_file_with_errors_lists_each_and_cannot_be_confirmed(
    practice, coordinator, client_for, snapshot, private_storage
):
    # given
    text = (
        "mrn,first_name,last_name,date_of_birth,medicare_part_b,chronic_conditions\n"
        "A-1,Ann,Lee,1950-01-01,yes,E11.9;XYZ\n"
        "A-2,Bob,,31/31/1950,maybe,\n"
    )
    before = snapshot(practice)
    # when
    response = client_for(coordinator).post(
        reverse("panel_import_upload"), {"file": _csv("bad.csv", text)}
    )
    # then
    assert response.context["confirm_form"] is None
    errors = [(e.row, e.column) for e in response.context["preview"].errors]
    assert errors == [
        (2, "chronic_conditions"),
        (3, "last_name"),
        (3, "date_of_birth"),
        (3, "medicare_part_b"),
    ]
    html = response.content.decode()
    assert "4 problems" in html
    assert "is not a date (use YYYY-MM-DD or MM/DD/YYYY)" in html
    assert _kept_files(private_storage) == []
    assert {k: v for k, v in snapshot(practice).items() if k != "AuditLog"} == {
        k: v for k, v in before.items() if k != "AuditLog"
    }


def test_a_file_naming_a_practice_is_refused_whole(practice, coordinator, client_for):
    # when
    response = client_for(coordinator).post(
        reverse("panel_import_upload"),
        {
            "file": _csv(
                "x.csv",
                "practice,mrn,first_name,last_name,date_of_birth,medicare_part_b\n"
                "harbor,A-1,Ann,Lee,1950-01-01,yes\n",
            )
        },
    )
    # then
    (error,) = response.context["preview"].errors
    assert (error.row, error.column) == (0, "practice")


def test_a_manager_is_warned_that_chronic_codes_are_imported_unattested(
    practice, manager, client_for
):
    # given
    client = client_for(manager)
    preview = client.post(reverse("panel_import_upload"), {"file": _sample("panel")})
    # when
    client.post(reverse("import_commit"), {"ticket": _ticket(preview)})
    # then
    assert "imported without the chronic attestation" in preview.content.decode()
    with practice_context(practice.pk):
        attested = Condition.objects.for_practice(practice).filter(chronic_attested=True)
        assert attested.exists() is False


def test_physicians_import_visits_but_not_the_panel(practice, coordinator, physician, client_for):
    # given the sample panel, imported by a coordinator
    coordinator_client = client_for(coordinator)
    ticket = _ticket(
        coordinator_client.post(reverse("panel_import_upload"), {"file": _sample("panel")})
    )
    coordinator_client.post(reverse("import_commit"), {"ticket": ticket})
    client = client_for(physician)
    # when
    panel = client.post(reverse("panel_import_upload"), {"file": _sample("panel")})
    preview = client.post(
        reverse("encounter_import_upload"), {"kind": "visits", "file": _sample("visits")}
    )
    result = client.post(reverse("import_commit"), {"ticket": _ticket(preview)})
    # then
    assert panel.status_code == 403
    assert preview.context["counts"]["create"] == 4
    assert result.context["result"].created == 4
    assert count_rows(practice, Visit) == 4
    (checked,) = audit_rows(practice, AuditEvent.IMPORT_PREVIEWED)[-1:]
    assert len(shown_ids(checked)) == 4


def test_a_file_that_no_longer_passes_at_confirm_shows_why(practice, coordinator, client_for):
    # given the panel, and a visits file checked before one of its patients changed MRN
    client = client_for(coordinator)
    client.post(
        reverse("import_commit"),
        {
            "ticket": _ticket(
                client.post(reverse("panel_import_upload"), {"file": _sample("panel")})
            )
        },
    )
    ticket = _ticket(
        client.post(
            reverse("encounter_import_upload"), {"kind": "visits", "file": _sample("visits")}
        )
    )
    with practice_context(practice.pk):
        Patient.objects.for_practice(practice).filter(mrn="S-1001").update(mrn="S-9999")
    # when
    response = client.post(reverse("import_commit"), {"ticket": ticket})
    # then
    assert response.context["confirm_form"] is None
    (error,) = response.context["preview"].errors
    assert (error.row, error.column) == (2, "mrn")
    assert count_rows(practice, Visit) == 0


def test_an_empty_upload_is_refused_on_the_import_page(coordinator, client_for):
    # when
    response = client_for(coordinator).post(reverse("panel_import_upload"), {})
    # then
    assert response.status_code == 200
    assert response.context["panel_form"].errors["file"] == ["This field is required."]
