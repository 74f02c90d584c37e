"""Base class for Celery tasks that touch practice data."""

from __future__ import annotations

from typing import Any

from celery import Task

from ccm.tenancy import practice_context


class PracticeTask(Task):
    """Runs the task inside ``practice_context(practice_id)``.

    Tasks take ``practice_id`` as a keyword argument (ids in, never objects) and call one
    service. Without ``practice_id`` the task refuses to run rather than run unscoped.
    """

    abstract = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        practice_id = kwargs.get("practice_id")
        if not isinstance(practice_id, int):
            raise TypeError(f"{self.name} needs practice_id=<int> as a keyword argument")
        with practice_context(practice_id):
            return super().__call__(*args, **kwargs)
