"""Domain errors, and how the HTML and API interfaces show them.

``NotFound`` is the same for "does not exist" and "belongs to another practice" (no existence
oracle). ``PermissionDenied`` is for a role that may not act inside its own practice.
``InvalidState`` is a refused change with a message for people ("the month is closed").
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler

NOT_FOUND_MESSAGE = "Not found."


class NotFound(Http404):
    def __init__(self, message: str = NOT_FOUND_MESSAGE) -> None:
        super().__init__(message)


class PermissionDenied(DjangoPermissionDenied):
    pass


class InvalidState(Exception):  # noqa: N818  (the house vocabulary: NotFound, InvalidState)
    """A change that the current state refuses. ``field`` names the input it is about."""

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code


class Conflict(InvalidState):
    """A change that collides with another row (HTTP 409)."""


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, Http404):
        return Response({"detail": NOT_FOUND_MESSAGE}, status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, InvalidState):
        body: dict[str, object] = (
            {exc.field: [exc.message]} if exc.field else {"detail": exc.message}
        )
        code = (
            status.HTTP_409_CONFLICT if isinstance(exc, Conflict) else status.HTTP_400_BAD_REQUEST
        )
        return Response(body, status=code)
    return exception_handler(exc, context)
