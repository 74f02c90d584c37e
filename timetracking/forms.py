"""HTML input for time tracking. Times are entered on the practice's wall clock.

A wall-clock time is turned into an instant with ``timetracking.months.local_instant``: a time
the clocks skip is refused, and a time that happens twice (the night the clocks go back) asks
which occurrence is meant, so 01:30-01:45 can be logged twice that night as two intervals.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.db.models import QuerySet

from ccm.errors import InvalidState
from ccm.models import Membership, Practice
from timetracking.models import Activity, PartOf, TimeEntry
from timetracking.months import LocalTimeError, is_ambiguous, local_instant

OCCURRENCE_CHOICES = [
    ("", "—"),
    ("0", "First time (before the clocks go back)"),
    ("1", "Second time (after the clocks go back)"),
]
MAX_DURATION_MINUTES = 12 * 60

# Service errors name the service's arguments; the forms' fields are named for wall-clock input.
SERVICE_FIELD_TO_FORM_FIELD = {"start": "start_time", "end": "end_time"}


def _instant(
    form: forms.Form, *, tz: ZoneInfo, day: date, clock: time, field: str, occurrence_field: str
) -> datetime | None:
    """The instant of ``clock`` on ``day``, or None with the reason added to ``field``."""
    raw = form.cleaned_data.get(occurrence_field) or ""
    try:
        return local_instant(day, clock, tz, fold=int(raw) if raw else None)
    except LocalTimeError as exc:
        form.add_error(field, str(exc))
        return None


def _time_input() -> forms.TimeInput:
    return forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class ManualEntryForm(forms.Form):
    """Start and end, or a start and a duration, on one local date."""

    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    start_time = forms.TimeField(label="Start", widget=_time_input())
    end_time = forms.TimeField(label="End", required=False, widget=_time_input())
    duration_minutes = forms.IntegerField(
        label="or duration (min)", required=False, min_value=1, max_value=MAX_DURATION_MINUTES
    )
    start_occurrence = forms.ChoiceField(
        label="Which start?", choices=OCCURRENCE_CHOICES, required=False
    )
    end_occurrence = forms.ChoiceField(
        label="Which end?", choices=OCCURRENCE_CHOICES, required=False
    )
    activity = forms.ChoiceField(choices=[("", "Choose…"), *Activity.choices])
    part_of = forms.ChoiceField(
        label="Part of another billed service?", choices=PartOf.choices, required=False
    )
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=4000
    )

    def __init__(self, *args: Any, practice: Practice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tz = practice.tz

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        day, start_time = data.get("date"), data.get("start_time")
        end_time, duration = data.get("end_time"), data.get("duration_minutes")
        if day is None or start_time is None:
            return data
        if end_time is None and duration is None:
            self.add_error("end_time", "Give an end time or a duration.")
            return data
        start = _instant(
            self,
            tz=self.tz,
            day=day,
            clock=start_time,
            field="start_time",
            occurrence_field="start_occurrence",
        )
        end = (
            _instant(
                self,
                tz=self.tz,
                day=day,
                clock=end_time,
                field="end_time",
                occurrence_field="end_occurrence",
            )
            if end_time is not None
            else None
        )
        if start is not None and end_time is None:
            end = start + timedelta(minutes=duration or 0)
        if start is None or end is None:
            return data
        if end <= start:
            self.add_error(
                "end_time",
                "The end must be after the start (for time past midnight, give a duration).",
            )
        elif duration is not None and end - start != timedelta(minutes=duration):
            self.add_error("duration_minutes", "The duration does not match the start and end.")
        else:
            data["start"], data["end"] = start, end
        return data

    @property
    def shows_occurrence(self) -> bool:
        """Show the "which occurrence" choices only when they matter (or were used)."""
        return bool(
            self.errors.get("start_time")
            or self.errors.get("end_time")
            or self.data.get("start_occurrence")
            or self.data.get("end_occurrence")
            or self.initial.get("start_occurrence")
            or self.initial.get("end_occurrence")
        )


class EntryEditForm(ManualEntryForm):
    reason = forms.CharField(label="Why is it corrected?", max_length=500)

    @staticmethod
    def initial_for(entry: TimeEntry, tz: ZoneInfo) -> dict[str, Any]:
        start, end = entry.start.astimezone(tz), entry.end.astimezone(tz)
        initial: dict[str, Any] = {
            "date": start.date(),
            "start_time": start.time().replace(tzinfo=None),
            "activity": entry.activity,
            "part_of": entry.part_of,
            "note": entry.note,
        }
        if end.date() == start.date():
            initial["end_time"] = end.time().replace(tzinfo=None)
        else:
            initial["duration_minutes"] = entry.minutes
        for moment, field in ((start, "start_occurrence"), (end, "end_occurrence")):
            if is_ambiguous(moment.date(), moment.time().replace(tzinfo=None), tz):
                initial[field] = str(moment.fold)
        return initial


class TimerStopForm(forms.Form):
    """What the timed work was; the end time only when correcting a timer left running."""

    activity = forms.ChoiceField(choices=[("", "Choose…"), *Activity.choices])
    part_of = forms.ChoiceField(
        label="Part of another billed service?", choices=PartOf.choices, required=False
    )
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=4000
    )
    end_date = forms.DateField(
        label="End date", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end_time = forms.TimeField(label="End time", required=False, widget=_time_input())
    end_occurrence = forms.ChoiceField(
        label="Which end?", choices=OCCURRENCE_CHOICES, required=False
    )
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, practice: Practice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.practice = practice
        self.tz = practice.tz
        # Set when the stop was refused for want of a confirmed end (shown above the form).
        self.confirm_message = ""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        end_date, end_time = data.get("end_date"), data.get("end_time")
        data["end"] = None
        if end_time is None:
            return data
        if end_date is None:
            self.add_error("end_date", "Give the date of the end time.")
            return data
        data["end"] = _instant(
            self,
            tz=self.tz,
            day=end_date,
            clock=end_time,
            field="end_time",
            occurrence_field="end_occurrence",
        )
        return data


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500)


class LoggerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Membership) -> str:
        return obj.display_name


class WorklistFilterForm(forms.Form):
    page = forms.IntegerField(required=False, min_value=1)

    def __init__(self, *args: Any, loggers: QuerySet[Membership], **kwargs: Any) -> None:
        """``loggers``: the practice's members who log time (a selector's queryset)."""
        super().__init__(*args, **kwargs)
        self.fields["coordinator"] = LoggerChoiceField(
            queryset=loggers,
            required=False,
            to_field_name="public_id",
            empty_label="Everyone",
            label="Time logged by",
        )

    def filters(self) -> tuple[Membership | None, int]:
        if not self.is_valid():
            return None, 1
        return self.cleaned_data.get("coordinator"), self.cleaned_data.get("page") or 1


class TimeSettingsForm(forms.Form):
    timer_confirm_after_minutes = forms.IntegerField(
        label="Ask to confirm a timer after (minutes)", min_value=5, max_value=720
    )


def apply_service_error(form: forms.Form, error: InvalidState) -> None:
    """Show a refused change on the form: on the field it names, else above the form."""
    field = SERVICE_FIELD_TO_FORM_FIELD.get(error.field or "", error.field)
    form.add_error(field if field in form.fields else None, error.message)
