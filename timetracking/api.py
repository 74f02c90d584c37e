"""REST API v1 for time tracking: entries and the server-side timer.

Entries are never deleted (DELETE is 405): they are corrected with a reason (PATCH) or voided
with a reason. Times are ISO 8601 with a UTC offset; responses give them in UTC. An overlap
with one's own entry is 409 and names the other entry (``conflicting_entry``).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from ccm.api import PracticeApiView
from ccm.audit import AuditEvent, audit_read
from ccm.errors import NotFound
from timetracking import selectors
from timetracking.models import Activity, PartOf, TimeEntry, Timer
from timetracking.months import parse_month
from timetracking.services.entries import (
    OverlapConflict,
    time_entry_edit,
    time_entry_log,
    time_entry_void,
)
from timetracking.services.timer import timer_discard, timer_start, timer_stop


class OffsetDateTimeField(serializers.DateTimeField):
    """An ISO 8601 instant that must carry its UTC offset (a bare local time is ambiguous)."""

    default_error_messages = {
        "offset": "Give the time with its UTC offset, like 2025-03-10T10:00:00-04:00.",
    }

    def to_internal_value(self, value: Any) -> Any:
        if isinstance(value, str):
            parsed = parse_datetime(value)
            if parsed is not None and parsed.tzinfo is None:
                self.fail("offset")
        return super().to_internal_value(value)


class PartOfField(serializers.ChoiceField):
    """SCENARIO_FORMAT's ``part_of``: ``null`` (or ``""``) for none, else a code or ``visit``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=PartOf.choices, allow_blank=True, allow_null=True, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        return "" if data in (None, "") else str(super().to_internal_value(data))

    def to_representation(self, value: Any) -> str | None:  # type: ignore[override]
        return value or None


class TimeEntryOutputSerializer(serializers.Serializer[TimeEntry]):
    id = serializers.UUIDField(source="public_id")
    patient = serializers.UUIDField(source="patient.public_id")
    member = serializers.UUIDField(source="member.public_id")
    member_name = serializers.CharField(source="member.display_name")
    staff_role = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    minutes = serializers.IntegerField()
    service_month = serializers.DateField(format="%Y-%m")
    activity = serializers.CharField()
    note = serializers.CharField()
    part_of = PartOfField()
    # A declared field (DRF pops it from the class), not Field.source.
    source = serializers.CharField()  # type: ignore[assignment]
    is_voided = serializers.BooleanField()
    voided_at = serializers.DateTimeField()
    void_reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class TimerOutputSerializer(serializers.Serializer[Timer]):
    id = serializers.UUIDField(source="public_id")
    patient = serializers.UUIDField(source="patient.public_id")
    started_at = serializers.DateTimeField()
    elapsed_seconds = serializers.SerializerMethodField()

    def get_elapsed_seconds(self, timer: Timer) -> int:
        return max(0, int((self.context["now"] - timer.started_at).total_seconds()))


_ENTRY_LIST = TimeEntryOutputSerializer(many=True)
_TIMER_OR_NULL = TimerOutputSerializer(allow_null=True)


def _overlap(exc: OverlapConflict) -> Response:
    return Response(
        {"start": [exc.message], "conflicting_entry": str(exc.entry.public_id)},
        status=status.HTTP_409_CONFLICT,
    )


def _entries(entries: list[TimeEntry], code: int = status.HTTP_200_OK) -> Response:
    data = TimeEntryOutputSerializer(entries, many=True).data  # type: ignore[arg-type]
    return Response({"entries": data}, status=code)


class TimeEntryListApi(PracticeApiView, generics.ListAPIView[TimeEntry]):
    """List entries (``?patient=<id>&month=YYYY-MM``, paginated) or log one by hand.

    A logged interval that crosses a local month boundary is stored as two entries; the
    response lists what was created.
    """

    class FilterSerializer(serializers.Serializer[Any]):
        patient = serializers.UUIDField(required=False)
        month = serializers.CharField(required=False)

        def validate_month(self, value: str) -> Any:
            try:
                return parse_month(value)
            except ValueError as exc:
                raise serializers.ValidationError("Give the month as YYYY-MM.") from exc

    class InputSerializer(serializers.Serializer[Any]):
        patient = serializers.UUIDField()
        start = OffsetDateTimeField()
        end = OffsetDateTimeField(required=False)
        duration_minutes = serializers.IntegerField(required=False, min_value=1, max_value=720)
        activity = serializers.ChoiceField(choices=Activity.choices)
        note = serializers.CharField(required=False, allow_blank=True, default="")
        part_of = PartOfField(required=False, default="")

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if ("end" in attrs) == ("duration_minutes" in attrs):
                raise serializers.ValidationError("Give either end or duration_minutes.")
            if "duration_minutes" in attrs:
                attrs["end"] = attrs["start"] + timedelta(minutes=attrs.pop("duration_minutes"))
            return attrs

    serializer_class = TimeEntryOutputSerializer

    def get_queryset(self) -> QuerySet[TimeEntry]:
        filters = self.FilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        patient_id = filters.validated_data.get("patient")
        patient = (
            selectors.time_patient_get(practice=self.practice, public_id=patient_id)
            if patient_id
            else None
        )
        return selectors.time_entry_list(
            practice=self.practice,
            patient=patient,
            service_month=filters.validated_data.get("month"),
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("patient", str, description="patient id"),
            OpenApiParameter("month", str, description="service month, YYYY-MM"),
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset()) or []
        if page:  # an empty page showed no patient data
            audit_read(
                practice=self.practice,
                actor=self.membership,
                event=AuditEvent.TIME_ENTRIES_VIEWED,
                patient_public_ids=sorted({entry.patient.public_id for entry in page}, key=str),
            )
        data = TimeEntryOutputSerializer(page, many=True).data  # type: ignore[arg-type]
        return self.get_paginated_response(data)

    @extend_schema(
        request=InputSerializer,
        responses={201: inline_serializer("TimeEntriesCreated", {"entries": _ENTRY_LIST})},
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        patient = selectors.time_patient_get(
            practice=self.practice, public_id=fields.pop("patient")
        )
        try:
            entries = time_entry_log(
                practice=self.practice, actor=self.membership, patient=patient, **fields
            )
        except OverlapConflict as exc:
            return _overlap(exc)
        return _entries(entries, status.HTTP_201_CREATED)


class TimeEntryDetailApi(PracticeApiView):
    """One entry; PATCH corrects it with a reason (its history keeps the original)."""

    class InputSerializer(serializers.Serializer[Any]):
        reason = serializers.CharField(max_length=500)
        start = OffsetDateTimeField(required=False)
        end = OffsetDateTimeField(required=False)
        activity = serializers.ChoiceField(choices=Activity.choices, required=False)
        note = serializers.CharField(required=False, allow_blank=True)
        part_of = PartOfField(required=False)

    def _entry(self, time_entry: uuid.UUID) -> TimeEntry:
        return selectors.time_entry_get(practice=self.practice, public_id=time_entry)

    @extend_schema(responses=TimeEntryOutputSerializer)
    def get(self, request: Request, time_entry: uuid.UUID) -> Response:
        entry = self._entry(time_entry)
        audit_read(
            practice=self.practice,
            actor=self.membership,
            event=AuditEvent.TIME_ENTRIES_VIEWED,
            patient_public_ids=[entry.patient.public_id],
            obj=entry,
        )
        return Response(TimeEntryOutputSerializer(entry).data)

    @extend_schema(request=InputSerializer, responses=TimeEntryOutputSerializer)
    def patch(self, request: Request, time_entry: uuid.UUID) -> Response:
        entry = self._entry(time_entry)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            time_entry_edit(
                practice=self.practice, actor=self.membership, entry=entry, **data.validated_data
            )
        except OverlapConflict as exc:
            return _overlap(exc)
        return Response(TimeEntryOutputSerializer(entry).data)


class TimeEntryVoidApi(PracticeApiView):
    """Void an entry with a reason; it stays, but no longer counts."""

    class InputSerializer(serializers.Serializer[Any]):
        reason = serializers.CharField(max_length=500)

    @extend_schema(request=InputSerializer, responses=TimeEntryOutputSerializer)
    def post(self, request: Request, time_entry: uuid.UUID) -> Response:
        entry = selectors.time_entry_get(practice=self.practice, public_id=time_entry)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        time_entry_void(
            practice=self.practice,
            actor=self.membership,
            entry=entry,
            reason=data.validated_data["reason"],
        )
        return Response(TimeEntryOutputSerializer(entry).data)


def _timer_body(timer: Timer | None) -> dict[str, Any]:
    context = {"now": timezone.now()}
    return {"timer": TimerOutputSerializer(timer, context=context).data if timer else None}


class TimerApi(PracticeApiView):
    """The caller's running timer (``{"timer": null}`` when none runs)."""

    @extend_schema(responses=inline_serializer("CurrentTimer", {"timer": _TIMER_OR_NULL}))
    def get(self, request: Request) -> Response:
        timer = selectors.timer_running(practice=self.practice, member=self.membership)
        return Response(_timer_body(timer))


class TimerStartApi(PracticeApiView):
    class InputSerializer(serializers.Serializer[Any]):
        patient = serializers.UUIDField()

    @extend_schema(request=InputSerializer, responses={201: TimerOutputSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        patient = selectors.time_patient_get(
            practice=self.practice, public_id=data.validated_data["patient"]
        )
        timer = timer_start(practice=self.practice, actor=self.membership, patient=patient)
        return Response(_timer_body(timer), status=status.HTTP_201_CREATED)


def _running(api: PracticeApiView) -> Timer:
    timer = selectors.timer_running(practice=api.practice, member=api.membership)
    if timer is None:
        raise NotFound("No timer is running.")
    return timer


class TimerStopApi(PracticeApiView):
    """Stop the running timer and log its time.

    A timer that ran past the practice's confirmation limit needs ``confirmed: true`` (or a
    corrected ``end``, confirmed); without it the answer is 400 on ``end``.
    """

    class InputSerializer(serializers.Serializer[Any]):
        activity = serializers.ChoiceField(choices=Activity.choices)
        note = serializers.CharField(required=False, allow_blank=True, default="")
        part_of = PartOfField(required=False, default="")
        end = OffsetDateTimeField(required=False, default=None)
        confirmed = serializers.BooleanField(required=False, default=False)

    @extend_schema(
        request=InputSerializer,
        responses={201: inline_serializer("TimerStopped", {"entries": _ENTRY_LIST})},
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        timer = _running(self)
        try:
            entries = timer_stop(
                practice=self.practice, actor=self.membership, timer=timer, **data.validated_data
            )
        except OverlapConflict as exc:
            return _overlap(exc)
        return _entries(entries, status.HTTP_201_CREATED)


class TimerDiscardApi(PracticeApiView):
    """Stop the running timer without logging anything."""

    @extend_schema(request=None, responses=TimerOutputSerializer)
    def post(self, request: Request) -> Response:
        timer = timer_discard(practice=self.practice, actor=self.membership, timer=_running(self))
        return Response(_timer_body(None) | {"discarded": str(timer.public_id)})
