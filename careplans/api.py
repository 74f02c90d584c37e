"""REST API v1 of care plans: plans, versions (edit, submit, sign, diff), copies, goal progress
and complexity attestations. Reads of patient data write a read-audit row."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from careplans import content as plan_content
from careplans import selectors
from careplans.models import (
    CarePlanCopy,
    CarePlanVersion,
    ComplexityAttestation,
    CopyMethod,
    CopyRecipient,
    MedicalDecisionMaking,
)
from careplans.services import complexity as complexity_services
from careplans.services import documents as document_services
from careplans.services import versions as version_services
from ccm.api import PracticeApiView
from ccm.audit import AuditEvent, audit_read
from patients.selectors.patient import patient_get


class _VersionOutput(serializers.Serializer[CarePlanVersion]):
    id = serializers.UUIDField(source="public_id")
    care_plan = serializers.UUIDField(source="care_plan.public_id")
    patient = serializers.UUIDField(source="care_plan.patient.public_id")
    number = serializers.IntegerField()
    status = serializers.CharField()
    based_on = serializers.SerializerMethodField()
    problems = serializers.JSONField()
    expected_outcome = serializers.CharField()
    prognosis = serializers.CharField()
    goals = serializers.JSONField()
    symptom_management = serializers.CharField()
    interventions = serializers.JSONField()
    medication_management = serializers.CharField()
    cognitive_assessment = serializers.CharField()
    functional_assessment = serializers.CharField()
    environmental_evaluation = serializers.CharField()
    caregiver_assessment = serializers.CharField()
    community_services = serializers.CharField()
    care_coordination = serializers.CharField()
    review_schedule = serializers.CharField()
    next_review_on = serializers.DateField(allow_null=True)
    revision_note = serializers.CharField()
    drafted_by = serializers.UUIDField(source="drafted_by.public_id")
    updated_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    signed_by = serializers.SerializerMethodField()
    signed_at = serializers.DateTimeField(allow_null=True)
    signed_on = serializers.DateField(allow_null=True)
    signature_method = serializers.CharField()
    substantial_revision = serializers.BooleanField(allow_null=True)
    content_sha256 = serializers.CharField()
    missing_elements = serializers.SerializerMethodField()

    def get_based_on(self, version: CarePlanVersion) -> int | None:
        return version.based_on.number if version.based_on is not None else None

    def get_signed_by(self, version: CarePlanVersion) -> str | None:
        return str(version.signed_by.public_id) if version.signed_by is not None else None

    def get_missing_elements(self, version: CarePlanVersion) -> list[str]:
        return selectors.care_plan_version_missing_elements(version)


def _audit(
    view: PracticeApiView, patient_public_id: uuid.UUID, obj: Any, event: AuditEvent
) -> None:
    audit_read(
        practice=view.practice,
        actor=view.membership,
        event=event,
        patient_public_ids=[patient_public_id],
        obj=obj,
    )


class CarePlanApi(PracticeApiView):
    """The patient's care plan (GET) and starting it (POST, the billing practitioner)."""

    class InputSerializer(serializers.Serializer[Any]):
        templates = serializers.ListField(
            child=serializers.CharField(), required=False, allow_null=True, default=None
        )

    class OutputSerializer(serializers.Serializer[Any]):
        id = serializers.UUIDField(source="public_id")
        patient = serializers.UUIDField(source="patient.public_id")
        created_at = serializers.DateTimeField()
        versions = _VersionOutput(many=True)

    @extend_schema(responses=OutputSerializer)
    def get(self, request: Request, patient: uuid.UUID) -> Response:
        person = patient_get(practice=self.practice, public_id=patient)
        plan = selectors.care_plan_for_patient(practice=self.practice, patient=person)
        if plan is None:
            return Response({"detail": "This patient has no care plan yet."}, status=404)
        versions = list(selectors.care_plan_version_list(practice=self.practice, care_plan=plan))
        _audit(self, person.public_id, plan, AuditEvent.CARE_PLAN_VIEWED)
        return Response(
            self.OutputSerializer(
                {
                    "public_id": plan.public_id,
                    "patient": person,
                    "created_at": plan.created_at,
                    "versions": versions,
                }
            ).data
        )

    @extend_schema(request=InputSerializer, responses={201: _VersionOutput})
    def post(self, request: Request, patient: uuid.UUID) -> Response:
        person = patient_get(practice=self.practice, public_id=patient)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = version_services.care_plan_start(
            practice=self.practice,
            actor=self.membership,
            patient=person,
            template_keys=data.validated_data["templates"],
        )
        return Response(_VersionOutput(version).data, status=status.HTTP_201_CREATED)


class CarePlanRevisionApi(PracticeApiView):
    """Start a draft revision from the last signed version."""

    @extend_schema(request=None, responses={201: _VersionOutput})
    def post(self, request: Request, care_plan: uuid.UUID) -> Response:
        plan = selectors.care_plan_get(practice=self.practice, public_id=care_plan)
        version = version_services.care_plan_revision_start(
            practice=self.practice, actor=self.membership, care_plan=plan
        )
        return Response(_VersionOutput(version).data, status=status.HTTP_201_CREATED)


class CarePlanVersionListApi(PracticeApiView, generics.ListAPIView[CarePlanVersion]):
    """Drafts awaiting signature, oldest first (``?mine=1``: the caller's patients only)."""

    serializer_class = _VersionOutput

    def get_queryset(self) -> QuerySet[CarePlanVersion]:
        mine = self.request.query_params.get("mine") in ("1", "true")
        return selectors.care_plan_review_queue(
            practice=self.practice, physician=self.membership if mine else None
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().list(request, *args, **kwargs)
        shown = list(dict.fromkeys(uuid.UUID(row["patient"]) for row in response.data["results"]))
        if shown:  # an empty page showed no patient data
            audit_read(
                practice=self.practice,
                actor=self.membership,
                event=AuditEvent.CARE_PLAN_REVIEW_QUEUE_VIEWED,
                patient_public_ids=shown,
            )
        return response


class CarePlanVersionApi(PracticeApiView):
    """One version (GET), or a change of a draft's content (PATCH: the fields given)."""

    class InputSerializer(serializers.Serializer[Any]):
        problems = serializers.ListField(child=serializers.DictField(), required=False)
        goals = serializers.ListField(child=serializers.DictField(), required=False)
        interventions = serializers.ListField(child=serializers.DictField(), required=False)
        next_review_on = serializers.DateField(required=False, allow_null=True)

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            for name in plan_content.TEXT_FIELD_NAMES:
                self.fields[name] = serializers.CharField(
                    required=False, allow_blank=True, max_length=5000
                )

    @extend_schema(responses=_VersionOutput)
    def get(self, request: Request, care_plan_version: uuid.UUID) -> Response:
        version = selectors.care_plan_version_get(
            practice=self.practice, public_id=care_plan_version
        )
        _audit(self, version.care_plan.patient.public_id, version, AuditEvent.CARE_PLAN_VIEWED)
        return Response(_VersionOutput(version).data)

    @extend_schema(request=InputSerializer, responses=_VersionOutput)
    def patch(self, request: Request, care_plan_version: uuid.UUID) -> Response:
        version = selectors.care_plan_version_get(
            practice=self.practice, public_id=care_plan_version
        )
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        given = data.validated_data
        current = version.content.as_fields()
        content = version_services.parse_content_or_raise(
            texts={name: given.get(name, current[name]) for name in plan_content.TEXT_FIELD_NAMES},
            next_review_on=given.get("next_review_on", current["next_review_on"]),
            problems=given.get("problems", current["problems"]),
            goals=given.get("goals", current["goals"]),
            interventions=given.get("interventions", current["interventions"]),
        )
        version = version_services.care_plan_draft_update(
            practice=self.practice, actor=self.membership, version=version, content=content
        )
        return Response(_VersionOutput(version).data)


class CarePlanVersionSubmitApi(PracticeApiView):
    """Send a draft to the physician's review queue."""

    @extend_schema(request=None, responses=_VersionOutput)
    def post(self, request: Request, care_plan_version: uuid.UUID) -> Response:
        version = selectors.care_plan_version_get(
            practice=self.practice, public_id=care_plan_version
        )
        version = version_services.care_plan_draft_submit(
            practice=self.practice, actor=self.membership, version=version
        )
        return Response(_VersionOutput(version).data)


class CarePlanVersionSignApi(PracticeApiView):
    """Sign a draft: the billing practitioner, with their password or a TOTP code."""

    class InputSerializer(serializers.Serializer[Any]):
        substantial_revision = serializers.BooleanField(default=False)
        password = serializers.CharField(
            required=False, allow_blank=True, default="", trim_whitespace=False
        )
        totp_code = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(request=InputSerializer, responses=_VersionOutput)
    def post(self, request: Request, care_plan_version: uuid.UUID) -> Response:
        version = selectors.care_plan_version_get(
            practice=self.practice, public_id=care_plan_version
        )
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = version_services.care_plan_version_sign(
            practice=self.practice, actor=self.membership, version=version, **data.validated_data
        )
        return Response(_VersionOutput(version).data)


class CarePlanVersionDiffApi(PracticeApiView):
    """What a version changes relative to the signed version it started from."""

    class OutputSerializer(serializers.Serializer[Any]):
        based_on = serializers.IntegerField(allow_null=True)
        text_fields = serializers.ListField(child=serializers.DictField())
        problems = serializers.ListField(child=serializers.DictField())
        goals = serializers.ListField(child=serializers.DictField())
        interventions = serializers.ListField(child=serializers.DictField())

    @extend_schema(responses=OutputSerializer)
    def get(self, request: Request, care_plan_version: uuid.UUID) -> Response:
        version = selectors.care_plan_version_get(
            practice=self.practice, public_id=care_plan_version
        )
        base = selectors.care_plan_version_base(practice=self.practice, version=version)
        diff = plan_content.diff(base.content if base else None, version.content)
        _audit(self, version.care_plan.patient.public_id, version, AuditEvent.CARE_PLAN_VIEWED)

        def items(changes: tuple[plan_content.ItemChange, ...]) -> list[dict[str, Any]]:
            return [
                {
                    "change": change.kind,
                    "key": change.item.key,
                    "before": change.before.to_json() if change.before else None,
                    "after": change.after.to_json() if change.after else None,
                    "fields": list(change.fields),
                }
                for change in changes
            ]

        return Response(
            {
                "based_on": base.number if base else None,
                "text_fields": [
                    {"field": c.name, "label": c.label, "before": c.before, "after": c.after}
                    for c in diff.fields
                ],
                "problems": items(diff.problems),
                "goals": items(diff.goals),
                "interventions": items(diff.interventions),
            }
        )


class CarePlanGoalProgressApi(PracticeApiView):
    """Keep a goal of the current signed plan up to date."""

    class InputSerializer(serializers.Serializer[Any]):
        goal = serializers.UUIDField()
        status = serializers.ChoiceField(choices=plan_content.GoalStatus.choices)
        recorded_on = serializers.DateField()
        measured_value = serializers.CharField(required=False, allow_blank=True, default="")
        note = serializers.CharField(required=False, allow_blank=True, default="")

    class OutputSerializer(serializers.Serializer[Any]):
        id = serializers.UUIDField(source="public_id")
        goal = serializers.UUIDField(source="goal_key")
        status = serializers.CharField()
        measured_value = serializers.CharField()
        note = serializers.CharField()
        recorded_on = serializers.DateField()

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request: Request, care_plan_version: uuid.UUID) -> Response:
        version = selectors.care_plan_version_get(
            practice=self.practice, public_id=care_plan_version
        )
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        given = dict(data.validated_data)
        progress = version_services.care_plan_goal_progress_record(
            practice=self.practice,
            actor=self.membership,
            version=version,
            goal_key=str(given.pop("goal")),
            **given,
        )
        return Response(self.OutputSerializer(progress).data, status=status.HTTP_201_CREATED)


class CarePlanCopyApi(PracticeApiView, generics.ListAPIView[CarePlanCopy]):
    """Copies given of a version (GET, paginated) and recording one (POST, R-PLAN-4)."""

    class InputSerializer(serializers.Serializer[Any]):
        given_on = serializers.DateField()
        method = serializers.ChoiceField(choices=CopyMethod.choices)
        recipient = serializers.ChoiceField(
            choices=CopyRecipient.choices, default=CopyRecipient.PATIENT
        )
        recipient_name = serializers.CharField(required=False, allow_blank=True, default="")
        note = serializers.CharField(required=False, allow_blank=True, default="")

    class OutputSerializer(serializers.Serializer[CarePlanCopy]):
        id = serializers.UUIDField(source="public_id")
        version = serializers.IntegerField(source="version.number")
        given_on = serializers.DateField()
        method = serializers.CharField()
        recipient = serializers.CharField()
        recipient_name = serializers.CharField()
        note = serializers.CharField()
        given_by = serializers.UUIDField(source="given_by.public_id")

    serializer_class = OutputSerializer

    def _version(self) -> CarePlanVersion:
        return selectors.care_plan_version_get(
            practice=self.practice, public_id=self.kwargs["care_plan_version"]
        )

    def get_queryset(self) -> QuerySet[CarePlanCopy]:
        version = self._version()
        _audit(self, version.care_plan.patient.public_id, version, AuditEvent.CARE_PLAN_VIEWED)
        return selectors.care_plan_copy_list(
            practice=self.practice, version=version
        ).select_related("version")

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request: Request, care_plan_version: uuid.UUID) -> Response:
        version = self._version()
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        copy = document_services.care_plan_copy_record(
            practice=self.practice, actor=self.membership, version=version, **data.validated_data
        )
        return Response(self.OutputSerializer(copy).data, status=status.HTTP_201_CREATED)


class ComplexityAttestationApi(PracticeApiView, generics.ListAPIView[ComplexityAttestation]):
    """A patient's complexity attestations (GET, paginated) and attesting a month (POST)."""

    class InputSerializer(serializers.Serializer[Any]):
        service_month = serializers.DateField(input_formats=["%Y-%m", "%Y-%m-%d"])
        mdm = serializers.ChoiceField(choices=MedicalDecisionMaking.choices)
        note = serializers.CharField()

    class OutputSerializer(serializers.Serializer[ComplexityAttestation]):
        id = serializers.UUIDField(source="public_id")
        service_month = serializers.DateField(format="%Y-%m")
        mdm = serializers.CharField()
        note = serializers.CharField()
        attested_by = serializers.UUIDField(source="attested_by.public_id")
        attested_at = serializers.DateTimeField()
        voided_at = serializers.DateTimeField(allow_null=True)
        void_reason = serializers.CharField()

    serializer_class = OutputSerializer

    def get_queryset(self) -> QuerySet[ComplexityAttestation]:
        person = patient_get(practice=self.practice, public_id=self.kwargs["patient"])
        return selectors.complexity_attestation_list(practice=self.practice, patient=person)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().list(request, *args, **kwargs)
        audit_read(
            practice=self.practice,
            actor=self.membership,
            event=AuditEvent.COMPLEXITY_VIEWED,
            patient_public_ids=[self.kwargs["patient"]],
        )
        return response

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request: Request, patient: uuid.UUID) -> Response:
        person = patient_get(practice=self.practice, public_id=patient)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        given = dict(data.validated_data)
        given["service_month"] = given["service_month"].replace(day=1)
        attestation = complexity_services.complexity_attest(
            practice=self.practice, actor=self.membership, patient=person, **given
        )
        return Response(self.OutputSerializer(attestation).data, status=status.HTTP_201_CREATED)


class ComplexityAttestationVoidApi(PracticeApiView):
    """Void a mistaken attestation, with a reason."""

    class InputSerializer(serializers.Serializer[Any]):
        reason = serializers.CharField()

    @extend_schema(request=InputSerializer, responses=ComplexityAttestationApi.OutputSerializer)
    def post(self, request: Request, complexity_attestation: uuid.UUID) -> Response:
        attestation = selectors.complexity_attestation_get(
            practice=self.practice, public_id=complexity_attestation
        )
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        attestation = complexity_services.complexity_attestation_void(
            practice=self.practice,
            actor=self.membership,
            attestation=attestation,
            reason=data.validated_data["reason"],
        )
        return Response(ComplexityAttestationApi.OutputSerializer(attestation).data)
