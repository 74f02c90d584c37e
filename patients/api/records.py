"""A patient's problem list, outreach attempts and enrollment (history, status change, enroll)."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from ccm.api import PracticeApiView
from patients.api.common import PatientRecordsApi, audit_patients_shown
from patients.models import (
    Condition,
    EnrollmentEvent,
    EnrollmentStatus,
    OutreachAttempt,
    OutreachChannel,
    OutreachOutcome,
)
from patients.selectors.patient import patient_get
from patients.selectors.records import (
    condition_get,
    condition_list,
    enrollment_event_list,
    outreach_list,
)
from patients.services.condition import (
    condition_add,
    condition_resolve,
    condition_set_chronic,
    condition_update,
)
from patients.services.enrollment import (
    enrollment_status_change,
    outreach_record,
    patient_enroll,
)

# --- Conditions -------------------------------------------------------------------------------


class ConditionOutputSerializer(serializers.Serializer[Condition]):
    id = serializers.UUIDField(source="public_id")
    patient = serializers.UUIDField(source="patient.public_id")
    code = serializers.CharField()
    description = serializers.CharField()
    chronic_category = serializers.CharField(
        help_text="The reference list's suggestion (a category key), or empty."
    )
    chronic_category_label = serializers.CharField()
    chronic_attested = serializers.BooleanField()
    attested_by = serializers.UUIDField(source="attested_by.public_id", allow_null=True)
    attested_on = serializers.DateField(allow_null=True)
    onset_date = serializers.DateField(allow_null=True)
    resolved_on = serializers.DateField(allow_null=True)
    created_at = serializers.DateTimeField()


class ConditionListApi(PatientRecordsApi, generics.ListAPIView[Condition]):
    """The patient's problem list (active first), or add a condition (ICD-10-CM). Only a
    physician or care coordinator may attest it as chronic (``chronic_attested``)."""

    class InputSerializer(serializers.Serializer[Any]):
        code = serializers.CharField(max_length=12)
        description = serializers.CharField(max_length=255, required=False, allow_blank=True)
        onset_date = serializers.DateField(required=False, allow_null=True)
        chronic_attested = serializers.BooleanField(required=False, default=False)

    serializer_class = ConditionOutputSerializer

    def get_queryset(self) -> QuerySet[Condition]:
        return condition_list(practice=self.practice, patient=self.patient())

    @extend_schema(request=InputSerializer, responses={201: ConditionOutputSerializer})
    def post(self, request: Request, patient: uuid.UUID) -> Response:
        target = self.patient()
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        condition = condition_add(
            practice=self.practice, actor=self.membership, patient=target, **data.validated_data
        )
        return Response(ConditionOutputSerializer(condition).data, status=status.HTTP_201_CREATED)


class ConditionDetailApi(PracticeApiView):
    """One condition; PATCH edits its description and onset (the code never changes)."""

    class InputSerializer(serializers.Serializer[Any]):
        description = serializers.CharField(max_length=255, required=False, allow_blank=True)
        onset_date = serializers.DateField(required=False, allow_null=True)

    @extend_schema(responses=ConditionOutputSerializer)
    def get(self, request: Request, condition: uuid.UUID) -> Response:
        row = condition_get(practice=self.practice, public_id=condition)
        audit_patients_shown(self, [row.patient])
        return Response(ConditionOutputSerializer(row).data)

    @extend_schema(request=InputSerializer, responses=ConditionOutputSerializer)
    def patch(self, request: Request, condition: uuid.UUID) -> Response:
        row = condition_get(practice=self.practice, public_id=condition)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        condition_update(
            practice=self.practice,
            actor=self.membership,
            condition=row,
            description=fields.get("description", row.description),
            onset_date=fields.get("onset_date", row.onset_date),
        )
        return Response(ConditionOutputSerializer(row).data)


class ConditionAttestApi(PracticeApiView):
    """Attest (``chronic: true``) or withdraw the attestation that the condition is chronic
    and places the patient at significant risk (R-ELIG-1/2). Physicians and coordinators."""

    class InputSerializer(serializers.Serializer[Any]):
        chronic = serializers.BooleanField()

    @extend_schema(request=InputSerializer, responses=ConditionOutputSerializer)
    def post(self, request: Request, condition: uuid.UUID) -> Response:
        row = condition_get(practice=self.practice, public_id=condition)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        condition_set_chronic(
            practice=self.practice, actor=self.membership, condition=row, **data.validated_data
        )
        return Response(ConditionOutputSerializer(row).data)


class ConditionResolveApi(PracticeApiView):
    """Mark the condition resolved (it stays on the list, inactive)."""

    class InputSerializer(serializers.Serializer[Any]):
        resolved_on = serializers.DateField()

    @extend_schema(request=InputSerializer, responses=ConditionOutputSerializer)
    def post(self, request: Request, condition: uuid.UUID) -> Response:
        row = condition_get(practice=self.practice, public_id=condition)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        condition_resolve(
            practice=self.practice, actor=self.membership, condition=row, **data.validated_data
        )
        return Response(ConditionOutputSerializer(row).data)


# --- Outreach and enrollment ------------------------------------------------------------------


class OutreachListApi(PatientRecordsApi, generics.ListAPIView[OutreachAttempt]):
    """The patient's outreach attempts (newest first), or record one. An attempt moves a
    patient not yet reviewed into outreach; a ``declined`` outcome records the refusal."""

    class InputSerializer(serializers.Serializer[Any]):
        attempted_on = serializers.DateField()
        channel = serializers.ChoiceField(choices=OutreachChannel.choices)
        outcome = serializers.ChoiceField(choices=OutreachOutcome.choices)
        note = serializers.CharField(max_length=4000, required=False, allow_blank=True)

    class OutputSerializer(serializers.Serializer[OutreachAttempt]):
        id = serializers.UUIDField(source="public_id")
        patient = serializers.UUIDField(source="patient.public_id")
        attempted_on = serializers.DateField()
        channel = serializers.ChoiceField(choices=OutreachChannel.choices)
        outcome = serializers.ChoiceField(choices=OutreachOutcome.choices)
        note = serializers.CharField()
        by = serializers.UUIDField(source="by.public_id")
        by_name = serializers.CharField(source="by.display_name")
        created_at = serializers.DateTimeField()

    serializer_class = OutputSerializer

    def get_queryset(self) -> QuerySet[OutreachAttempt]:
        return outreach_list(practice=self.practice, patient=self.patient())

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request: Request, patient: uuid.UUID) -> Response:
        target = self.patient()
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        attempt = outreach_record(
            practice=self.practice, actor=self.membership, patient=target, **data.validated_data
        )
        return Response(self.OutputSerializer(attempt).data, status=status.HTTP_201_CREATED)


class EnrollmentEventOutputSerializer(serializers.Serializer[EnrollmentEvent]):
    id = serializers.UUIDField(source="public_id")
    patient = serializers.UUIDField(source="patient.public_id")
    from_status = serializers.ChoiceField(choices=EnrollmentStatus.choices)
    to_status = serializers.ChoiceField(choices=EnrollmentStatus.choices)
    reason = serializers.CharField()
    by = serializers.UUIDField(source="by.public_id")
    by_name = serializers.CharField(source="by.display_name")
    at = serializers.DateTimeField()


class EnrollmentApi(PatientRecordsApi, generics.ListAPIView[EnrollmentEvent]):
    """The patient's enrollment history (newest first), or change the status. ``consented``
    is reached by recording a consent and ``enrolled`` through ``enroll``."""

    class InputSerializer(serializers.Serializer[Any]):
        status = serializers.ChoiceField(choices=EnrollmentStatus.choices)
        reason = serializers.CharField(max_length=500, required=False, allow_blank=True)

    serializer_class = EnrollmentEventOutputSerializer

    def get_queryset(self) -> QuerySet[EnrollmentEvent]:
        return enrollment_event_list(practice=self.practice, patient=self.patient())

    @extend_schema(request=InputSerializer, responses={201: EnrollmentEventOutputSerializer})
    def post(self, request: Request, patient: uuid.UUID) -> Response:
        target = self.patient()
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        event = enrollment_status_change(
            practice=self.practice,
            actor=self.membership,
            patient=target,
            to_status=EnrollmentStatus(data.validated_data["status"]),
            reason=data.validated_data.get("reason", ""),
        )
        body = EnrollmentEventOutputSerializer(event).data
        return Response(body, status=status.HTTP_201_CREATED)


class PatientEnrollApi(PracticeApiView):
    """Enroll a consented patient (or resume a paused one). Needs a billing practitioner and
    a current consent to them (R-CONS-1/4): otherwise 400 on ``consent``."""

    class InputSerializer(serializers.Serializer[Any]):
        reason = serializers.CharField(max_length=500, required=False, allow_blank=True)

    @extend_schema(request=InputSerializer, responses={201: EnrollmentEventOutputSerializer})
    def post(self, request: Request, patient: uuid.UUID) -> Response:
        target = patient_get(practice=self.practice, public_id=patient)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        event = patient_enroll(
            practice=self.practice, actor=self.membership, patient=target, **data.validated_data
        )
        body = EnrollmentEventOutputSerializer(event).data
        return Response(body, status=status.HTTP_201_CREATED)
