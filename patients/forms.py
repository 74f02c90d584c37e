"""HTML input of the patients pages. Choices come from selectors, given the practice.

Field names follow the services' argument names, so a refused change (``InvalidState.field``)
lands next to the field it is about (``apply_service_error``); the few fields named for people
rather than for the service are listed in ``SERVICE_FIELD_TO_FORM_FIELD``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.db.models import Q, QuerySet

from ccm import selectors as ccm_selectors
from ccm.errors import InvalidState
from ccm.models import Membership, Practice
from ccm.permissions import Role
from patients.chronic import chronic_category_choices
from patients.imports.encounters import EncounterKind
from patients.imports.table import MAX_BYTES
from patients.models import (
    ENROLLMENT_TRANSITIONS,
    ConsentMethod,
    EnrollmentStatus,
    FacilityStayKind,
    OutreachChannel,
    OutreachOutcome,
    Patient,
    Sex,
)
from patients.services.consent import EXPLANATIONS

# Services name their arguments; a few form fields are named for the person filling them in.
SERVICE_FIELD_TO_FORM_FIELD = {"obtained_at": "obtained_time", "to_status": "status"}
PATIENT_ORDER_CHOICES = [
    ("name", "Name (A to Z)"),
    ("-name", "Name (Z to A)"),
    ("mrn", "MRN"),
    ("-conditions", "Most chronic conditions"),
    ("-last_visit", "Most recent visit"),
    ("last_visit", "Longest since a visit"),
]
# Statuses reached only through their own action (consent, enroll), never picked from a list.
_VIA_OWN_ACTION = frozenset({EnrollmentStatus.CONSENTED, EnrollmentStatus.ENROLLED})
# What the three R-CONS-3 checkboxes say, in words a staff member reads to the patient.
CONSENT_SCRIPT: dict[str, str] = {
    "explained_cost_sharing": (
        "Chronic care management is a service where our care team checks in with you between "
        "visits, by phone or message, to help with your health conditions. Medicare covers it, "
        "but your usual cost sharing applies: you may owe a coinsurance or deductible each "
        "month you receive it."
    ),
    "explained_one_practitioner": (
        "Only one practitioner can provide and bill this service for you in a calendar month. "
        "If another doctor's office offers it to you, only one of us can bill for it."
    ),
    "explained_stop_anytime": (
        "You may stop at any time by telling us. Stopping takes effect at the end of that "
        "calendar month."
    ),
}


def apply_service_error(form: forms.Form, error: InvalidState) -> None:
    """Show a refused change on the form: next to the field it names, else above the form."""
    field = SERVICE_FIELD_TO_FORM_FIELD.get(error.field or "", error.field)
    form.add_error(field if field in form.fields else None, error.message)


def _date(**attrs: Any) -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date", **attrs}, format="%Y-%m-%d")


class MemberChoiceField(forms.ModelChoiceField):
    """A member of the practice, shown by name (and credential), chosen by public id."""

    def label_from_instance(self, obj: Any) -> str:
        return str(obj.display_name)


def _member_field(label: str, *, required: bool, help_text: str = "") -> MemberChoiceField:
    return MemberChoiceField(
        queryset=None,  # each form sets it from a selector, for its practice
        to_field_name="public_id",
        required=required,
        label=label,
        help_text=help_text,
        empty_label="—",
    )


def _physicians(practice: Practice, keep: Membership | None = None) -> QuerySet[Membership]:
    """Active physicians of the practice, plus ``keep`` (a current choice, active or not)."""
    physicians = ccm_selectors.membership_list(practice=practice).filter(role=Role.PHYSICIAN)
    if keep is None:
        return physicians.filter(is_active=True)
    return physicians.filter(Q(is_active=True) | Q(pk=keep.pk))


# --- Lists ------------------------------------------------------------------------------------


class PatientFilterForm(forms.Form):
    """The patient list's search, filters and order. Invalid values are simply ignored."""

    search = forms.CharField(required=False, max_length=100, label="Search")
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *EnrollmentStatus.choices]
    )
    practitioner = _member_field("Billing practitioner", required=False)
    order = forms.ChoiceField(required=False, choices=PATIENT_ORDER_CHOICES, label="Sort")

    def __init__(self, *args: Any, practice: Practice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        practitioner = self.fields["practitioner"]
        practitioner.queryset = _physicians(practice)  # type: ignore[attr-defined]
        practitioner.empty_label = "Any practitioner"  # type: ignore[attr-defined]

    def filters(self) -> dict[str, Any]:
        """Keyword arguments for ``patient_list`` (only the valid filters)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        practitioner = data.get("practitioner")
        return {
            "search": data.get("search") or "",
            "status": data.get("status") or None,
            "practitioner": practitioner.public_id if practitioner else None,
            "order": data.get("order") or "name",
        }


class EligibilityFilterForm(forms.Form):
    practitioner = _member_field("Billing practitioner", required=False)
    category = forms.ChoiceField(required=False, label="Condition category")
    last_visit_before = forms.DateField(required=False, label="Last visit before", widget=_date())
    last_visit_after = forms.DateField(
        required=False, label="Last visit on or after", widget=_date()
    )
    order = forms.ChoiceField(required=False, choices=PATIENT_ORDER_CHOICES, label="Sort")

    def __init__(self, *args: Any, practice: Practice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        practitioner = self.fields["practitioner"]
        practitioner.queryset = _physicians(practice)  # type: ignore[attr-defined]
        practitioner.empty_label = "Any practitioner"  # type: ignore[attr-defined]
        self.fields["category"].choices = [  # type: ignore[attr-defined]
            ("", "Any category"),
            *chronic_category_choices(),
        ]

    def filters(self) -> dict[str, Any]:
        """Keyword arguments for ``patients_eligible_for_ccm`` (invalid filters dropped)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        practitioner = data.get("practitioner")
        return {
            "practitioner": practitioner.public_id if practitioner else None,
            "category": data.get("category") or None,
            "last_visit_before": data.get("last_visit_before"),
            "last_visit_after": data.get("last_visit_after"),
            "order": data.get("order") or "name",
        }


# --- Patients ---------------------------------------------------------------------------------


class PatientForm(forms.Form):
    """Create or edit a patient. On edit, an empty MBI keeps the one on file."""

    mrn = forms.CharField(label="MRN", max_length=40)
    first_name = forms.CharField(max_length=100)
    last_name = forms.CharField(max_length=100)
    date_of_birth = forms.DateField(widget=_date())
    sex = forms.ChoiceField(choices=Sex.choices, initial=Sex.UNKNOWN)
    phone = forms.CharField(max_length=30, required=False)
    preferred_language = forms.CharField(max_length=40, required=False, initial="English")
    address_line1 = forms.CharField(label="Address", max_length=200, required=False)
    address_line2 = forms.CharField(label="Address (line 2)", max_length=200, required=False)
    city = forms.CharField(max_length=100, required=False)
    state = forms.CharField(max_length=2, required=False, help_text="Two letters, e.g. NY")
    postal_code = forms.CharField(label="ZIP code", max_length=10, required=False)
    medicare_part_b = forms.BooleanField(
        label="Medicare Part B fee-for-service", required=False, help_text="R-ELIG-5"
    )
    mbi = forms.CharField(
        label="Medicare Beneficiary Identifier (MBI)",
        max_length=20,
        required=False,
        help_text="11 characters, e.g. 1EG4-TE5-MK73. Stored encrypted, shown masked.",
    )
    remove_mbi = forms.BooleanField(label="Remove the MBI on file", required=False)
    blocked_by_model = forms.BooleanField(
        label="Attributed to a CMS model that excludes CCM", required=False
    )
    date_of_death = forms.DateField(required=False, widget=_date())
    billing_practitioner = _member_field(
        "Billing practitioner",
        required=False,
        help_text="The physician who bills CCM. Changing it needs a new consent (R-CONS-4).",
    )
    caregiver_name = forms.CharField(max_length=200, required=False)
    caregiver_relationship = forms.CharField(max_length=60, required=False)
    caregiver_phone = forms.CharField(max_length=30, required=False)

    def __init__(
        self, *args: Any, practice: Practice, patient: Patient | None = None, **kwargs: Any
    ) -> None:
        if patient is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_for(patient)
        super().__init__(*args, **kwargs)
        self.patient = patient
        keep = patient.billing_practitioner if patient is not None else None
        self.fields["billing_practitioner"].queryset = _physicians(practice, keep)  # type: ignore[attr-defined]
        if patient is None or not patient.mbi:
            del self.fields["remove_mbi"]
        else:
            self.fields["mbi"].help_text = (
                f"On file: {patient.mbi_masked}. Leave empty to keep it; type a new one to "
                "replace it."
            )

    @staticmethod
    def initial_for(patient: Patient) -> dict[str, Any]:
        names = [name for name in PatientForm.base_fields if name not in {"mbi", "remove_mbi"}]
        initial = {name: getattr(patient, name) for name in names}
        practitioner = patient.billing_practitioner
        initial["billing_practitioner"] = practitioner.public_id if practitioner else None
        return initial

    def changes(self) -> dict[str, Any]:
        """The patient fields for ``patient_create`` / ``patient_update``."""
        data = dict(self.cleaned_data)
        remove = data.pop("remove_mbi", False)
        if self.patient is not None and not data["mbi"]:
            data.pop("mbi")
        if remove:
            data["mbi"] = ""
        return data


# --- Conditions -------------------------------------------------------------------------------


class ConditionAddForm(forms.Form):
    code = forms.CharField(
        label="ICD-10-CM code", max_length=12, help_text="For example E11.9 or I10."
    )
    description = forms.CharField(max_length=255, required=False)
    onset_date = forms.DateField(required=False, widget=_date())
    chronic_attested = forms.BooleanField(
        label="I attest this condition is chronic",
        required=False,
        help_text="Expected to last at least 12 months (or until death) and places the "
        "patient at significant risk (R-ELIG-1/2).",
    )

    def __init__(self, *args: Any, may_attest: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not may_attest:
            del self.fields["chronic_attested"]


class ConditionEditForm(forms.Form):
    description = forms.CharField(max_length=255, required=False)
    onset_date = forms.DateField(required=False, widget=_date())


class ConditionResolveForm(forms.Form):
    resolved_on = forms.DateField(label="Resolved on", widget=_date())


class AttestForm(forms.Form):
    chronic = forms.TypedChoiceField(
        choices=[("true", "Attest"), ("false", "Withdraw")],
        coerce=lambda value: value == "true",
    )


# --- Outreach and enrollment ------------------------------------------------------------------


class OutreachForm(forms.Form):
    attempted_on = forms.DateField(label="Date", widget=_date())
    channel = forms.ChoiceField(choices=OutreachChannel.choices)
    outcome = forms.ChoiceField(choices=OutreachOutcome.choices)
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=4000
    )


class EnrollmentStatusForm(forms.Form):
    status = forms.ChoiceField(label="New status")
    reason = forms.CharField(max_length=500, required=False)

    def __init__(self, *args: Any, patient: Patient, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        allowed = ENROLLMENT_TRANSITIONS.get(patient.enrollment_status, frozenset())
        self.fields["status"].choices = [  # type: ignore[attr-defined]
            (value, label)
            for value, label in EnrollmentStatus.choices
            if value in allowed and value not in _VIA_OWN_ACTION
        ]


class EnrollForm(forms.Form):
    reason = forms.CharField(max_length=500, required=False, label="Note (optional)")


# --- Consent ----------------------------------------------------------------------------------


class _ConsentBase(forms.Form):
    practitioner = _member_field(
        "Billing practitioner",
        required=True,
        help_text="Consent is given to one billing practitioner (R-CONS-4/5).",
    )
    obtained_on = forms.DateField(label="Date", widget=_date())
    method = forms.ChoiceField(choices=ConsentMethod.choices, widget=forms.RadioSelect)
    obtained_by = _member_field("Obtained by", required=True)
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=4000
    )

    def __init__(self, *args: Any, practice: Practice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tz: ZoneInfo = practice.tz
        self.fields["practitioner"].queryset = _physicians(practice)  # type: ignore[attr-defined]
        self.fields["obtained_by"].queryset = ccm_selectors.membership_list(  # type: ignore[attr-defined]
            practice=practice
        ).filter(is_active=True)


class ConsentForm(_ConsentBase):
    """Record a consent: the three R-CONS-3 explanations, each confirmed by the staff member."""

    obtained_time = forms.TimeField(
        label="Time",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="When known: only minutes from this moment on count (POL-CONSENT).",
    )
    language = forms.CharField(max_length=40, initial="English")
    explained_cost_sharing = forms.BooleanField(
        required=False, label="I told the patient that CCM is available and cost sharing applies"
    )
    explained_one_practitioner = forms.BooleanField(
        required=False,
        label="I told the patient that only one practitioner can bill CCM in a calendar month",
    )
    explained_stop_anytime = forms.BooleanField(
        required=False,
        label="I told the patient they may stop at any time, effective at the month's end",
    )
    document = forms.FileField(
        label="Scanned consent",
        required=False,
        help_text="PDF, PNG, JPEG or TIFF, up to 10 MB.",
    )
    field_order = (
        "practitioner",
        "obtained_on",
        "obtained_time",
        "method",
        "obtained_by",
        "language",
        "explained_cost_sharing",
        "explained_one_practitioner",
        "explained_stop_anytime",
        "document",
        "note",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        day, clock = data.get("obtained_on"), data.get("obtained_time")
        data["obtained_at"] = None
        if day is not None and clock is not None:
            moment = dt.datetime.combine(day, clock, tzinfo=self.tz)
            try:
                moment.astimezone(dt.UTC)
            except OverflowError:
                self.add_error("obtained_on", "Enter a real date.")
            else:
                data["obtained_at"] = moment
        return data

    def explanations(self) -> list[tuple[forms.BoundField, str]]:
        """Each R-CONS-3 checkbox with the words to say to the patient."""
        return [(self[name], CONSENT_SCRIPT[name]) for name in EXPLANATIONS]

    def service_arguments(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("obtained_time", None)
        return data


class ConsentDeclineForm(_ConsentBase):
    """Record that the patient declined CCM."""


class ConsentRevokeForm(forms.Form):
    revoked_on = forms.DateField(label="Date the patient stopped CCM", widget=_date())
    reason = forms.CharField(max_length=500)


# --- Visits, other services, stays ------------------------------------------------------------


class _EncounterForm(forms.Form):
    date = forms.DateField(widget=_date())
    code = forms.CharField(label="CPT/HCPCS code", max_length=10)
    practitioner = _member_field("Practitioner of the practice", required=False)
    outside_practitioner_name = forms.CharField(
        label="…or an outside practitioner", max_length=200, required=False
    )
    outside_practitioner_npi = forms.CharField(
        label="Outside practitioner's NPI (optional)", max_length=10, required=False
    )

    def __init__(self, *args: Any, practice: Practice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["practitioner"].queryset = _physicians(practice)  # type: ignore[attr-defined]


class VisitForm(_EncounterForm):
    ccm_discussed = forms.BooleanField(
        label="CCM was discussed and documented at this visit (R-INIT-3)", required=False
    )


class OtherServiceForm(_EncounterForm):
    pass


class FacilityStayForm(forms.Form):
    kind = forms.ChoiceField(choices=FacilityStayKind.choices)
    from_date = forms.DateField(label="Admitted", widget=_date())
    to_date = forms.DateField(label="Discharged", widget=_date())
    facility_name = forms.CharField(max_length=200, required=False)


class VoidForm(forms.Form):
    reason = forms.CharField(max_length=500, label="Why is it void?")


# --- Imports ----------------------------------------------------------------------------------


class _UploadForm(forms.Form):
    file = forms.FileField(label="CSV file")

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError("The file is larger than 5 MB.")
        return upload


class PanelImportForm(_UploadForm):
    pass


class EncounterImportForm(_UploadForm):
    kind = forms.ChoiceField(choices=EncounterKind.choices, label="What the file holds")
    field_order = ("kind", "file")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Shown beside the panel's upload form: ids of its own.
        kwargs.setdefault("auto_id", "id_encounter_%s")
        super().__init__(*args, **kwargs)


class ImportConfirmForm(forms.Form):
    ticket = forms.CharField(widget=forms.HiddenInput, max_length=1000)
