"""Format checks and normalisation for the identifiers billing depends on.

Each ``normalise_*`` function returns the canonical form or raises ``ValidationError``; the
``validate_*`` functions are the model-field validators (they check the canonical form).
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

# CMS Medicare Beneficiary Identifier: 11 characters, positions
# C A AN N A AN N A A N N (C = 1-9, N = 0-9, A = a letter other than S, L, O, I, B, Z).
_MBI_ALPHA = "[AC-HJKMNP-RT-Y]"
_MBI_ALNUM = "[AC-HJKMNP-RT-Y0-9]"
_MBI = re.compile(
    rf"^[1-9]{_MBI_ALPHA}{_MBI_ALNUM}[0-9]{_MBI_ALPHA}{_MBI_ALNUM}[0-9]"
    rf"{_MBI_ALPHA}{_MBI_ALPHA}[0-9][0-9]$"
)
_MBI_SEPARATORS = re.compile(r"[\s-]")

# ICD-10-CM: a letter, a digit, a letter or digit, then optionally a dot and 1-4 letters/digits.
_ICD10 = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")
_ICD10_CATEGORY_LENGTH = 3

# CPT (5 digits, or 4 digits + F/T/U for categories II/III) and HCPCS Level II (letter + 4 digits).
_PROCEDURE_CODE = re.compile(r"^(\d{4}[0-9FTU]|[A-V]\d{4})$")


def normalise_mbi(value: str) -> str:
    """``1eg4-te5-mk73`` → ``1EG4TE5MK73``; raises ``ValidationError`` if not a valid MBI."""
    canonical = _MBI_SEPARATORS.sub("", value).upper()
    validate_mbi(canonical)
    return canonical


def validate_mbi(value: str) -> None:
    if not _MBI.match(value):
        raise ValidationError(
            "Enter an 11-character Medicare Beneficiary Identifier (for example 1EG4-TE5-MK73); "
            "it never contains the letters S, L, O, I, B or Z.",
            code="invalid_mbi",
        )


def normalise_icd10(value: str) -> str:
    """``e119`` → ``E11.9``, `` i10 `` → ``I10``; raises ``ValidationError`` if malformed."""
    entered = value.strip().upper()
    canonical = entered
    if "." not in entered and len(entered) > _ICD10_CATEGORY_LENGTH:
        canonical = f"{entered[:_ICD10_CATEGORY_LENGTH]}.{entered[_ICD10_CATEGORY_LENGTH:]}"
    if not _ICD10.match(canonical):
        validate_icd10(entered)  # raises, quoting the code as it was entered
    return canonical


def validate_icd10(value: str) -> None:
    if not _ICD10.match(value):
        raise ValidationError(
            f"“{value}” is not an ICD-10-CM code: expected a letter, a digit, a letter or "
            "digit, then optionally a dot and up to 4 letters or digits (for example E11.9).",
            code="invalid_icd10",
        )


def normalise_procedure_code(value: str) -> str:
    """CPT or HCPCS code, upper-cased; raises ``ValidationError`` if malformed."""
    canonical = value.strip().upper()
    validate_procedure_code(canonical)
    return canonical


def validate_procedure_code(value: str) -> None:
    if not _PROCEDURE_CODE.match(value):
        raise ValidationError(
            f"“{value}” is not a CPT or HCPCS code (5 digits such as 99214, or a letter and "
            "4 digits such as G0438).",
            code="invalid_procedure_code",
        )
