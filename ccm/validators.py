"""Validators for identifiers that billing depends on."""

from __future__ import annotations

import re
import zoneinfo

from django.core.exceptions import ValidationError

_NPI = re.compile(r"^\d{10}$")
_TIN = re.compile(r"^\d{9}$")


def npi_is_valid(npi: str) -> bool:
    """A National Provider Identifier: 10 digits, Luhn check over the prefix 80840 (CMS)."""
    if not _NPI.match(npi):
        return False
    digits = [int(d) for d in "80840" + npi]
    total = 0
    for index, digit in enumerate(reversed(digits)):
        doubled = digit * 2 if index % 2 == 1 else digit
        total += doubled - 9 if doubled > 9 else doubled  # noqa: PLR2004
    return total % 10 == 0


def validate_npi(value: str) -> None:
    if not npi_is_valid(value):
        raise ValidationError(
            "Enter a valid 10-digit NPI (its last digit is a check digit).", code="invalid_npi"
        )


def validate_tin(value: str) -> None:
    if not _TIN.match(value):
        raise ValidationError("Enter the 9-digit TIN without dashes.", code="invalid_tin")


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            "Enter an IANA time zone such as America/New_York.", code="invalid_timezone"
        )
