"""REST API v1 for billing: months, their claims and not-billable records, close and reopen.

Reading needs ``can_view_billing`` (managers and physicians); closing and reopening need
``can_close_month``. Months are named ``YYYY-MM`` in the close command (a month has no id
before it is first touched) and by public id everywhere else. Money is integer cents at the
national Medicare fee-schedule amounts. Every response that shows patients writes one
read-audit row with the patients it showed.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from billing import selectors
from billing.models import BillingMonth, Claim, ClaimLine, NotBillable
from billing.presentation import reason_label
from billing.services import months as month_services
from ccm.api import PracticeApiView
from ccm.audit import AuditEvent, audit_read
from ccm.errors import PermissionDenied
from ccm.permissions import can_close_month, can_view_billing
from timetracking.months import parse_month


class BillingMonthOutputSerializer(serializers.ModelSerializer[BillingMonth]):
    id = serializers.UUIDField(source="public_id")
    month = serializers.DateField(source="service_month", format="%Y-%m")
    closed_by = serializers.UUIDField(source="closed_by.public_id", allow_null=True)

    class Meta:
        model = BillingMonth
        fields = (
            "id",
            "month",
            "state",
            "generation",
            "claim_count",
            "not_billable_count",
            "total_cents",
            "close_requested_at",
            "closed_at",
            "closed_by",
            "reopened_at",
            "reopen_reason",
        )


class ClaimLineOutputSerializer(serializers.ModelSerializer[ClaimLine]):
    class Meta:
        model = ClaimLine
        fields = ("code", "units", "unit_cents", "total_cents")


class ClaimOutputSerializer(serializers.ModelSerializer[Claim]):
    id = serializers.UUIDField(source="public_id")
    month = serializers.DateField(source="billing_month.service_month", format="%Y-%m")
    patient = serializers.UUIDField(source="patient.public_id")
    patient_mrn = serializers.CharField(source="patient.mrn")
    patient_name = serializers.CharField(source="patient.full_name")
    billing_practitioner = serializers.UUIDField(source="billing_practitioner.public_id")
    lines = ClaimLineOutputSerializer(many=True)
    is_superseded = serializers.BooleanField()

    class Meta:
        model = Claim
        fields = (
            "id",
            "month",
            "generation",
            "patient",
            "patient_mrn",
            "patient_name",
            "billing_practitioner",
            "practitioner_name",
            "practitioner_npi",
            "date_of_service",
            "place_of_service",
            "diagnoses",
            "family",
            "counted_minutes",
            "unpaid_minutes",
            "warnings",
            "lines",
            "total_cents",
            "explanation",
            "is_superseded",
        )


class NotBillableOutputSerializer(serializers.ModelSerializer[NotBillable]):
    patient = serializers.UUIDField(source="patient.public_id")
    patient_mrn = serializers.CharField(source="patient.mrn")
    patient_name = serializers.CharField(source="patient.full_name")
    reason_label = serializers.SerializerMethodField()

    class Meta:
        model = NotBillable
        fields = (
            "patient",
            "patient_mrn",
            "patient_name",
            "reason",
            "reason_label",
            "fix",
            "counted_minutes",
            "warnings",
            "explanation",
        )

    def get_reason_label(self, record: NotBillable) -> str:
        return reason_label(record.reason)


class _BillingApi(PracticeApiView):
    """Base: a member who may see billing."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if not can_view_billing(self.membership):
            raise PermissionDenied("Your role does not allow billing.")

    def _audit(self, event: AuditEvent, patient_ids: list[uuid.UUID], obj: Any = None) -> None:
        if patient_ids:
            audit_read(
                practice=self.practice,
                actor=self.membership,
                event=event,
                patient_public_ids=patient_ids,
                obj=obj,
            )


class BillingMonthListApi(_BillingApi, generics.ListAPIView[BillingMonth]):
    """The practice's billing months, newest first (paginated). No patient data."""

    serializer_class = BillingMonthOutputSerializer

    def get_queryset(self) -> QuerySet[BillingMonth]:
        return selectors.billing_month_list(practice=self.practice)


class BillingMonthDetailApi(_BillingApi):
    @extend_schema(responses=BillingMonthOutputSerializer)
    def get(self, request: Request, billing_month: uuid.UUID) -> Response:
        found = selectors.billing_month_get(practice=self.practice, public_id=billing_month)
        return Response(BillingMonthOutputSerializer(found).data)


class ClaimListApi(_BillingApi, generics.ListAPIView[Claim]):
    """The claims of a month's last close, by practitioner and patient (paginated)."""

    serializer_class = ClaimOutputSerializer

    def get_queryset(self) -> QuerySet[Claim]:
        found = selectors.billing_month_get(
            practice=self.practice, public_id=self.kwargs["billing_month"]
        )
        return selectors.claim_list(practice=self.practice, billing_month=found)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().list(request, *args, **kwargs)
        self._audit(
            AuditEvent.CLAIM_VIEWED,
            [uuid.UUID(row["patient"]) for row in response.data["results"]],
        )
        return response


class NotBillableListApi(_BillingApi, generics.ListAPIView[NotBillable]):
    """Why each patient of a month's last close was not billed, and the fix (paginated)."""

    serializer_class = NotBillableOutputSerializer

    def get_queryset(self) -> QuerySet[NotBillable]:
        found = selectors.billing_month_get(
            practice=self.practice, public_id=self.kwargs["billing_month"]
        )
        return selectors.not_billable_list(practice=self.practice, billing_month=found)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().list(request, *args, **kwargs)
        self._audit(
            AuditEvent.NOT_BILLABLE_VIEWED,
            [uuid.UUID(row["patient"]) for row in response.data["results"]],
        )
        return response


class ClaimDetailApi(_BillingApi):
    @extend_schema(responses=ClaimOutputSerializer)
    def get(self, request: Request, claim: uuid.UUID) -> Response:
        found = selectors.claim_get(practice=self.practice, public_id=claim)
        self._audit(AuditEvent.CLAIM_VIEWED, [found.patient.public_id], obj=found)
        return Response(ClaimOutputSerializer(found).data)


def _require_closer(api: PracticeApiView) -> None:
    if not can_close_month(api.membership):
        raise PermissionDenied("Only a practice manager or admin closes and reopens months.")


class BillingMonthCloseApi(_BillingApi):
    """Close a month (``{"month": "YYYY-MM"}``): 202 while a worker closes it, 200 if closed."""

    class InputSerializer(serializers.Serializer[Any]):
        month = serializers.CharField()

        def validate_month(self, value: str) -> Any:
            try:
                return parse_month(value)
            except ValueError as exc:
                raise serializers.ValidationError("Give the month as YYYY-MM.") from exc

    @extend_schema(request=InputSerializer, responses=BillingMonthOutputSerializer)
    def post(self, request: Request) -> Response:
        _require_closer(self)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        found = month_services.billing_month_close_request(
            practice=self.practice,
            actor=self.membership,
            service_month=data.validated_data["month"],
        )
        code = status.HTTP_200_OK if found.is_closed else status.HTTP_202_ACCEPTED
        return Response(BillingMonthOutputSerializer(found).data, status=code)


class BillingMonthReopenApi(_BillingApi):
    """Reopen a closed month with a reason; the next close supersedes its claims."""

    class InputSerializer(serializers.Serializer[Any]):
        reason = serializers.CharField(max_length=500)

    @extend_schema(request=InputSerializer, responses=BillingMonthOutputSerializer)
    def post(self, request: Request, billing_month: uuid.UUID) -> Response:
        _require_closer(self)
        found = selectors.billing_month_get(practice=self.practice, public_id=billing_month)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reopened = month_services.billing_month_reopen(
            practice=self.practice,
            actor=self.membership,
            billing_month=found,
            reason=data.validated_data["reason"],
        )
        return Response(BillingMonthOutputSerializer(reopened).data)
