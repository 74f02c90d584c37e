"""Visits, other billed services and facility stays of a patient: list (voided ones included),
record, and void with a reason (nothing is ever deleted)."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from ccm.api import PracticeApiView
from patients.api.common import PatientRecordsApi, resolve_members
from patients.models import FacilityStay, FacilityStayKind, OtherService, Visit
from patients.selectors.records import (
    facility_stay_get,
    facility_stay_list,
    other_service_get,
    other_service_list,
    visit_get,
    visit_list,
)
from patients.services.encounter import (
    facility_stay_record,
    facility_stay_void,
    other_service_record,
    other_service_void,
    visit_record,
    visit_void,
)


class OtherServiceOutputSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField(source="public_id")
    patient = serializers.UUIDField(source="patient.public_id")
    date = serializers.DateField()
    code = serializers.CharField()
    practitioner = serializers.UUIDField(source="practitioner.public_id", allow_null=True)
    practitioner_name = serializers.CharField()
    outside_practitioner_name = serializers.CharField()
    outside_practitioner_npi = serializers.CharField()
    is_voided = serializers.BooleanField()
    voided_at = serializers.DateTimeField(allow_null=True)
    void_reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class VisitOutputSerializer(OtherServiceOutputSerializer):
    ccm_discussed = serializers.BooleanField()


class FacilityStayOutputSerializer(serializers.Serializer[FacilityStay]):
    id = serializers.UUIDField(source="public_id")
    patient = serializers.UUIDField(source="patient.public_id")
    kind = serializers.ChoiceField(choices=FacilityStayKind.choices)
    from_date = serializers.DateField()
    to_date = serializers.DateField()
    facility_name = serializers.CharField()
    is_voided = serializers.BooleanField()
    voided_at = serializers.DateTimeField(allow_null=True)
    void_reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class _EncounterInput(serializers.Serializer[Any]):
    """A physician of the practice (``practitioner``) or an outside one (name, NPI optional)."""

    date = serializers.DateField()
    code = serializers.CharField(max_length=10)
    practitioner = serializers.UUIDField(required=False, allow_null=True)
    outside_practitioner_name = serializers.CharField(
        max_length=200, required=False, allow_blank=True
    )
    outside_practitioner_npi = serializers.CharField(
        max_length=10, required=False, allow_blank=True
    )


class VoidInputSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=500)


class VisitListApi(PatientRecordsApi, generics.ListAPIView[Visit]):
    """The patient's visits (newest first, voided included), or record one (CPT/HCPCS)."""

    class InputSerializer(_EncounterInput):
        ccm_discussed = serializers.BooleanField(required=False, default=False)

    serializer_class = VisitOutputSerializer

    def get_queryset(self) -> QuerySet[Visit]:
        return visit_list(practice=self.practice, patient=self.patient(), include_voided=True)

    @extend_schema(request=InputSerializer, responses={201: VisitOutputSerializer})
    def post(self, request: Request, patient: uuid.UUID) -> Response:
        target = self.patient()
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = resolve_members(self, data.validated_data, "practitioner")
        visit = visit_record(
            practice=self.practice, actor=self.membership, patient=target, **fields
        )
        return Response(VisitOutputSerializer(visit).data, status=status.HTTP_201_CREATED)


class VisitVoidApi(PracticeApiView):
    @extend_schema(request=VoidInputSerializer, responses=VisitOutputSerializer)
    def post(self, request: Request, visit: uuid.UUID) -> Response:
        row = visit_get(practice=self.practice, public_id=visit)
        data = VoidInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        visit_void(practice=self.practice, actor=self.membership, visit=row, **data.validated_data)
        return Response(VisitOutputSerializer(row).data)


class OtherServiceListApi(PatientRecordsApi, generics.ListAPIView[OtherService]):
    """Other services billed for the patient (PCM, TCM, home health supervision, ...), or
    record one; billing checks them against CCM in the same month."""

    class InputSerializer(_EncounterInput):
        pass

    serializer_class = OtherServiceOutputSerializer

    def get_queryset(self) -> QuerySet[OtherService]:
        return other_service_list(
            practice=self.practice, patient=self.patient(), include_voided=True
        )

    @extend_schema(request=InputSerializer, responses={201: OtherServiceOutputSerializer})
    def post(self, request: Request, patient: uuid.UUID) -> Response:
        target = self.patient()
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = resolve_members(self, data.validated_data, "practitioner")
        service = other_service_record(
            practice=self.practice, actor=self.membership, patient=target, **fields
        )
        body = OtherServiceOutputSerializer(service).data
        return Response(body, status=status.HTTP_201_CREATED)


class OtherServiceVoidApi(PracticeApiView):
    @extend_schema(request=VoidInputSerializer, responses=OtherServiceOutputSerializer)
    def post(self, request: Request, other_service: uuid.UUID) -> Response:
        row = other_service_get(practice=self.practice, public_id=other_service)
        data = VoidInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        other_service_void(
            practice=self.practice, actor=self.membership, service=row, **data.validated_data
        )
        return Response(OtherServiceOutputSerializer(row).data)


class FacilityStayListApi(PatientRecordsApi, generics.ListAPIView[FacilityStay]):
    """The patient's inpatient and Part A SNF stays (CCM minutes during them do not count),
    or record one; both dates inclusive, the end not before the start (400 on ``to_date``)."""

    class InputSerializer(serializers.Serializer[Any]):
        kind = serializers.ChoiceField(choices=FacilityStayKind.choices)
        from_date = serializers.DateField()
        to_date = serializers.DateField()
        facility_name = serializers.CharField(max_length=200, required=False, allow_blank=True)

    serializer_class = FacilityStayOutputSerializer

    def get_queryset(self) -> QuerySet[FacilityStay]:
        return facility_stay_list(
            practice=self.practice, patient=self.patient(), include_voided=True
        )

    @extend_schema(request=InputSerializer, responses={201: FacilityStayOutputSerializer})
    def post(self, request: Request, patient: uuid.UUID) -> Response:
        target = self.patient()
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        fields["kind"] = FacilityStayKind(fields["kind"])
        stay = facility_stay_record(
            practice=self.practice, actor=self.membership, patient=target, **fields
        )
        body = FacilityStayOutputSerializer(stay).data
        return Response(body, status=status.HTTP_201_CREATED)


class FacilityStayVoidApi(PracticeApiView):
    @extend_schema(request=VoidInputSerializer, responses=FacilityStayOutputSerializer)
    def post(self, request: Request, facility_stay: uuid.UUID) -> Response:
        row = facility_stay_get(practice=self.practice, public_id=facility_stay)
        data = VoidInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        facility_stay_void(
            practice=self.practice, actor=self.membership, stay=row, **data.validated_data
        )
        return Response(FacilityStayOutputSerializer(row).data)
