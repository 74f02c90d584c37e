"""Patients: the panel (search, filters, paginated), one patient, create and update; and the
CCM eligibility list with why each candidate qualifies."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from ccm.api import PracticeApiView
from ccm.audit import AuditEvent
from patients.api.common import audit_patients_shown, resolve_members
from patients.chronic import chronic_category_choices
from patients.models import EnrollmentStatus, Patient, Sex
from patients.selectors.patient import (
    PATIENT_ORDERINGS,
    patient_get,
    patient_list,
    patients_eligible_for_ccm,
)
from patients.services.patient import patient_create, patient_update


class PatientOutputSerializer(serializers.Serializer[Patient]):
    id = serializers.UUIDField(source="public_id")
    mrn = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    date_of_birth = serializers.DateField()
    sex = serializers.ChoiceField(choices=Sex.choices)
    phone = serializers.CharField()
    preferred_language = serializers.CharField()
    address_line1 = serializers.CharField()
    address_line2 = serializers.CharField()
    city = serializers.CharField()
    state = serializers.CharField()
    postal_code = serializers.CharField()
    medicare_part_b = serializers.BooleanField()
    mbi_masked = serializers.CharField(help_text="Only the last four characters are shown.")
    date_of_death = serializers.DateField(allow_null=True)
    billing_practitioner = serializers.UUIDField(
        source="billing_practitioner.public_id", allow_null=True
    )
    billing_practitioner_name = serializers.CharField(
        source="billing_practitioner.display_name", allow_null=True
    )
    caregiver_name = serializers.CharField()
    caregiver_relationship = serializers.CharField()
    caregiver_phone = serializers.CharField()
    blocked_by_model = serializers.BooleanField()
    enrollment_status = serializers.ChoiceField(choices=EnrollmentStatus.choices)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class PatientRowOutputSerializer(PatientOutputSerializer):
    """A patient in a list, with the list's columns."""

    chronic_condition_count = serializers.IntegerField()
    last_visit_on = serializers.DateField(allow_null=True)
    has_current_consent = serializers.BooleanField()


class _PatientFields(serializers.Serializer[Any]):
    """The editable fields; ``billing_practitioner`` is a member id (or null)."""

    mrn = serializers.CharField(max_length=40)
    first_name = serializers.CharField(max_length=100)
    last_name = serializers.CharField(max_length=100)
    date_of_birth = serializers.DateField()
    medicare_part_b = serializers.BooleanField()
    sex = serializers.ChoiceField(choices=Sex.choices, required=False)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    preferred_language = serializers.CharField(max_length=40, required=False, allow_blank=True)
    address_line1 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    address_line2 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100, required=False, allow_blank=True)
    state = serializers.CharField(max_length=2, required=False, allow_blank=True)
    postal_code = serializers.CharField(max_length=10, required=False, allow_blank=True)
    mbi = serializers.CharField(
        max_length=20, required=False, allow_blank=True, help_text="Write-only; stored encrypted."
    )
    date_of_death = serializers.DateField(required=False, allow_null=True)
    billing_practitioner = serializers.UUIDField(required=False, allow_null=True)
    caregiver_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    caregiver_relationship = serializers.CharField(max_length=60, required=False, allow_blank=True)
    caregiver_phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    blocked_by_model = serializers.BooleanField(required=False)


class PatientListApi(PracticeApiView, generics.ListAPIView[Patient]):
    """The panel (``search`` by name or MRN, ``status``, ``practitioner``, ``order``), or add a
    patient (a duplicate MRN is 409 on ``mrn``)."""

    class FilterSerializer(serializers.Serializer[Any]):
        search = serializers.CharField(required=False, allow_blank=True, max_length=100)
        status = serializers.ChoiceField(choices=EnrollmentStatus.choices, required=False)
        practitioner = serializers.UUIDField(required=False)
        order = serializers.ChoiceField(choices=list(PATIENT_ORDERINGS), required=False)

    class InputSerializer(_PatientFields):
        pass

    serializer_class = PatientRowOutputSerializer

    def get_queryset(self) -> QuerySet[Patient]:
        filters = self.FilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return patient_list(practice=self.practice, **filters.validated_data)

    @extend_schema(
        parameters=[
            OpenApiParameter("search", str, description="name or MRN (contains)"),
            OpenApiParameter("status", str, enum=EnrollmentStatus.values),
            OpenApiParameter("practitioner", uuid.UUID, description="billing practitioner id"),
            OpenApiParameter("order", str, enum=list(PATIENT_ORDERINGS)),
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset()) or []
        audit_patients_shown(self, page, event=AuditEvent.PATIENT_LIST_VIEWED)
        data = PatientRowOutputSerializer(page, many=True).data  # type: ignore[arg-type]
        return self.get_paginated_response(data)

    @extend_schema(request=InputSerializer, responses={201: PatientOutputSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = resolve_members(self, data.validated_data, "billing_practitioner")
        patient = patient_create(practice=self.practice, actor=self.membership, **fields)
        return Response(PatientOutputSerializer(patient).data, status=status.HTTP_201_CREATED)


class PatientDetailApi(PracticeApiView):
    """One patient; PATCH changes only the fields it names."""

    class InputSerializer(_PatientFields):
        pass

    @extend_schema(responses=PatientOutputSerializer)
    def get(self, request: Request, patient: uuid.UUID) -> Response:
        target = patient_get(practice=self.practice, public_id=patient)
        audit_patients_shown(self, [target])
        return Response(PatientOutputSerializer(target).data)

    @extend_schema(request=InputSerializer, responses=PatientOutputSerializer)
    def patch(self, request: Request, patient: uuid.UUID) -> Response:
        target = patient_get(practice=self.practice, public_id=patient)
        data = self.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        changes = resolve_members(self, data.validated_data, "billing_practitioner")
        patient_update(practice=self.practice, actor=self.membership, patient=target, **changes)
        return Response(PatientOutputSerializer(target).data)


class QualifyingConditionSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    description = serializers.CharField()
    chronic_category = serializers.CharField()
    chronic_category_label = serializers.CharField()


class EligibilityListApi(PracticeApiView, generics.ListAPIView[Patient]):
    """CCM candidates (R-ELIG-1/2/5, not yet enrolled), each with the attested chronic
    conditions that make them eligible. Filters: ``practitioner``, ``category`` (a chronic
    category key), ``last_visit_before``, ``last_visit_after``; sorted by ``order``."""

    class FilterSerializer(serializers.Serializer[Any]):
        practitioner = serializers.UUIDField(required=False)
        category = serializers.ChoiceField(choices=chronic_category_choices(), required=False)
        last_visit_before = serializers.DateField(required=False)
        last_visit_after = serializers.DateField(required=False)
        order = serializers.ChoiceField(choices=list(PATIENT_ORDERINGS), required=False)

    class OutputSerializer(serializers.Serializer[Patient]):
        id = serializers.UUIDField(source="public_id")
        mrn = serializers.CharField()
        first_name = serializers.CharField()
        last_name = serializers.CharField()
        date_of_birth = serializers.DateField()
        enrollment_status = serializers.ChoiceField(choices=EnrollmentStatus.choices)
        billing_practitioner = serializers.UUIDField(
            source="billing_practitioner.public_id", allow_null=True
        )
        chronic_condition_count = serializers.IntegerField()
        last_visit_on = serializers.DateField(allow_null=True)
        qualifying_conditions = QualifyingConditionSerializer(many=True)

    serializer_class = OutputSerializer

    def get_queryset(self) -> QuerySet[Patient]:
        filters = self.FilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return patients_eligible_for_ccm(practice=self.practice, **filters.validated_data)

    @extend_schema(
        parameters=[
            OpenApiParameter("practitioner", uuid.UUID, description="billing practitioner id"),
            OpenApiParameter("category", str, enum=[key for key, _ in chronic_category_choices()]),
            OpenApiParameter("last_visit_before", str, description="YYYY-MM-DD"),
            OpenApiParameter("last_visit_after", str, description="YYYY-MM-DD"),
            OpenApiParameter("order", str, enum=list(PATIENT_ORDERINGS)),
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset()) or []
        audit_patients_shown(self, page, event=AuditEvent.ELIGIBILITY_VIEWED)
        data = self.OutputSerializer(page, many=True).data  # type: ignore[arg-type]
        return self.get_paginated_response(data)
