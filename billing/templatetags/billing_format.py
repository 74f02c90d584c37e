"""Template filters of the billing pages and PDFs: money, reasons, minutes."""

from __future__ import annotations

from django import template

from billing.presentation import format_cents, plural, reason_label

register = template.Library()


@register.filter
def cents(value: int | None) -> str:
    """``12345`` → ``$123.45``; ``None`` → an em dash (no fee in the table)."""
    return format_cents(value)


@register.filter
def reason(code: str) -> str:
    """An ``NB_*`` code in plain words."""
    return reason_label(code)


@register.filter
def minutes(value: int) -> str:
    return plural(value, "minute")
