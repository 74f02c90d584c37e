"""Small presentation helpers of the patients pages: age, status colour, import row labels."""

from __future__ import annotations

from datetime import date

from django import template

from patients.models import EnrollmentStatus

register = template.Library()

_STATUS_TONES = {
    EnrollmentStatus.ENROLLED: "ok",
    EnrollmentStatus.CONSENTED: "ok",
    EnrollmentStatus.IDENTIFIED: "info",
    EnrollmentStatus.OUTREACH: "info",
    EnrollmentStatus.PAUSED: "warn",
    EnrollmentStatus.DECLINED: "bad",
    EnrollmentStatus.DISENROLLED: "bad",
    EnrollmentStatus.INELIGIBLE: "bad",
    EnrollmentStatus.ENROLLED_ELSEWHERE: "bad",
}


@register.filter
def age_on(born: date | None, today: date) -> int | str:
    """Whole years from ``born`` to ``today`` (``""`` without a birth date)."""
    if born is None:
        return ""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


@register.filter
def status_tone(status: str) -> str:
    """The badge colour of an enrollment status (``ok``, ``info``, ``warn``, ``bad`` or ``""``)."""
    return _STATUS_TONES.get(status, "")  # type: ignore[call-overload]


@register.filter
def status_short(label: str) -> str:
    """A status label short enough for the status strip (the full one goes in its title)."""
    return label.split(" (", 1)[0].replace(" with another practice", " elsewhere")
