"""Consent: a patient's consents and refusals, record one (JSON, or multipart with the scanned
document), one consent, and revoke. The document itself is downloaded from the patient's page
(an audited, practice-only view); the API says whether there is one."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from ccm.api import PracticeApiView
from patients.api.common import PatientRecordsApi, audit_patients_shown, resolve_members
from patients.models import Consent, ConsentMethod, ConsentOutcome
from patients.selectors.consent import consent_get, consent_list
from patients.services.consent import consent_record, consent_revoke


class OffsetDateTimeField(serializers.DateTimeField):
    """An ISO 8601 instant that must carry its UTC offset (a bare local time is ambiguous)."""

    default_error_messages = {
        "offset": "Give the time with its UTC offset, like 2025-03-10T10:00:00-04:00.",
        "range": "Give a time within the years 1 to 9999 in every time zone.",
    }

    def to_internal_value(self, value: Any) -> Any:
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value)
            except ValueError:
                parsed = None
            if parsed is not None and parsed.tzinfo is None:
                self.fail("offset")
        moment = super().to_internal_value(value)
        try:  # the practice's local day of it must exist too
            moment - timedelta(days=1)
            moment + timedelta(days=1)
        except OverflowError:
            self.fail("range")
        return moment


class ConsentOutputSerializer(serializers.Serializer[Consent]):
    id = serializers.UUIDField(source="public_id")
    patient = serializers.UUIDField(source="patient.public_id")
    practitioner = serializers.UUIDField(source="practitioner.public_id")
    practitioner_name = serializers.CharField(source="practitioner.display_name")
    outcome = serializers.ChoiceField(choices=ConsentOutcome.choices)
    obtained_on = serializers.DateField()
    obtained_at = serializers.DateTimeField(allow_null=True)
    method = serializers.ChoiceField(choices=ConsentMethod.choices)
    obtained_by = serializers.UUIDField(source="obtained_by.public_id")
    language = serializers.CharField()
    explained_cost_sharing = serializers.BooleanField()
    explained_one_practitioner = serializers.BooleanField()
    explained_stop_anytime = serializers.BooleanField()
    has_document = serializers.BooleanField(source="document")
    note = serializers.CharField()
    revoked_on = serializers.DateField(allow_null=True)
    revoked_by = serializers.UUIDField(source="revoked_by.public_id", allow_null=True)
    revocation_reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class ConsentListApi(PatientRecordsApi, generics.ListAPIView[Consent]):
    """The patient's consents and refusals (newest first), or record one.

    ``consented`` needs all three R-CONS-3 explanations (400 naming the first one missing);
    ``practitioner`` is an active physician of the practice, ``obtained_by`` a member (default:
    the caller). Send multipart to attach the scanned ``document`` (PDF/PNG/JPEG/TIFF, 10 MB).
    """

    class InputSerializer(serializers.Serializer[Any]):
        practitioner = serializers.UUIDField()
        obtained_on = serializers.DateField()
        obtained_at = OffsetDateTimeField(required=False, allow_null=True)
        method = serializers.ChoiceField(choices=ConsentMethod.choices)
        outcome = serializers.ChoiceField(
            choices=ConsentOutcome.choices, required=False, default=ConsentOutcome.CONSENTED
        )
        obtained_by = serializers.UUIDField(required=False, allow_null=True)
        language = serializers.CharField(max_length=40, required=False, allow_blank=True)
        explained_cost_sharing = serializers.BooleanField(required=False, default=False)
        explained_one_practitioner = serializers.BooleanField(required=False, default=False)
        explained_stop_anytime = serializers.BooleanField(required=False, default=False)
        document = serializers.FileField(required=False, allow_null=True)
        note = serializers.CharField(max_length=4000, required=False, allow_blank=True)

    serializer_class = ConsentOutputSerializer
    parser_classes = (JSONParser, MultiPartParser, FormParser)

    def get_queryset(self) -> QuerySet[Consent]:
        return consent_list(practice=self.practice, patient=self.patient())

    @extend_schema(request=InputSerializer, responses={201: ConsentOutputSerializer})
    def post(self, request: Request, patient: uuid.UUID) -> Response:
        target = self.patient()
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = resolve_members(self, data.validated_data, "practitioner", "obtained_by")
        fields["outcome"] = ConsentOutcome(fields["outcome"])
        fields["method"] = ConsentMethod(fields["method"])
        consent = consent_record(
            practice=self.practice, actor=self.membership, patient=target, **fields
        )
        return Response(ConsentOutputSerializer(consent).data, status=status.HTTP_201_CREATED)


class ConsentDetailApi(PracticeApiView):
    @extend_schema(responses=ConsentOutputSerializer)
    def get(self, request: Request, consent: uuid.UUID) -> Response:
        row = consent_get(practice=self.practice, public_id=consent)
        audit_patients_shown(self, [row.patient])
        return Response(ConsentOutputSerializer(row).data)


class ConsentRevokeApi(PracticeApiView):
    """Record that the patient stopped CCM on ``revoked_on`` (effective at that month's end,
    POL-REVOKE). A date before the consent, or in the future, is 400 on ``revoked_on``."""

    class InputSerializer(serializers.Serializer[Any]):
        revoked_on = serializers.DateField()
        reason = serializers.CharField(max_length=500)

    @extend_schema(request=InputSerializer, responses=ConsentOutputSerializer)
    def post(self, request: Request, consent: uuid.UUID) -> Response:
        row = consent_get(practice=self.practice, public_id=consent)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        revoked = consent_revoke(
            practice=self.practice, actor=self.membership, consent=row, **data.validated_data
        )
        return Response(ConsentOutputSerializer(revoked).data)
