"""The patient copy: a plain-language PDF of a signed version, rendered with WeasyPrint.

Called only from the render task (never in a request). The HTML template carries its own
stylesheet and uses only fonts installed on the machine (no network access while rendering).
"""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone

from careplans.models import CarePlanVersion
from careplans.presentation import content_sections
from ccm.models import Practice


def patient_copy_context(*, practice: Practice, version: CarePlanVersion) -> dict[str, Any]:
    content = version.content
    return {
        "practice": practice,
        "patient": version.care_plan.patient,
        "version": version,
        "plan": content_sections(content),
        "texts": content.texts,
        "signer": version.signed_by.display_name if version.signed_by else "",
        "signer_credential": version.signed_by.credential if version.signed_by else "",
        "generated_at": timezone.localtime(timezone.now(), practice.tz),
    }


def render_patient_copy(*, practice: Practice, version: CarePlanVersion) -> bytes:
    """The PDF bytes of ``version``'s patient copy."""
    from weasyprint import HTML  # noqa: PLC0415  (heavy import: workers only)

    html = render_to_string(
        "careplans/pdf/patient_copy.html",
        patient_copy_context(practice=practice, version=version),
    )
    pdf: bytes = HTML(string=html).write_pdf()
    return pdf
