"""Celery tasks of care plans: ids in, one service call."""

from __future__ import annotations

from celery import shared_task

from ccm.models import Practice
from ccm.tasks_base import PracticeTask


@shared_task(base=PracticeTask, acks_late=True, reject_on_worker_lost=True)
def care_plan_document_render_task(*, practice_id: int, document_id: int) -> str:
    """Render the patient-copy PDF of a signed version (never in a request)."""
    # Imported here: the services import this module to queue the task.
    from careplans.selectors import care_plan_document_by_id  # noqa: PLC0415
    from careplans.services.documents import care_plan_document_render  # noqa: PLC0415

    practice = Practice.objects.get(pk=practice_id)
    document = care_plan_document_by_id(practice=practice, document_id=document_id)
    return care_plan_document_render(practice=practice, document=document).status
