"""The API's base view: the practice context for token *and* session requests.

Middleware sees no user for a token request (DRF authenticates inside the view), so the base
class resolves the membership after DRF's authentication and runs the handler inside
``practice_context``. A caller with several practices names one with the ``X-Practice`` header
(the practice's public id); a 4xx/5xx response rolls back everything the request wrote.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ccm import selectors
from ccm.models import Membership
from ccm.tenancy import (
    SESSION_PRACTICE_KEY,
    choose_membership,
    memberships_of,
    practice_context,
    switch_practice,
)

PRACTICE_HEADER = "X-Practice"


class PracticeApiView(APIView):
    """Base of every API view: ``self.practice`` and ``self.membership`` are always set."""

    membership: Membership

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        user_id = int(str(request.user.pk))  # IsAuthenticated ran: a signed-in user
        self._practice_stack.enter_context(practice_context(None, user_id=user_id))
        memberships = memberships_of(user_id)
        chosen = request.headers.get(PRACTICE_HEADER) or request.session.get(SESSION_PRACTICE_KEY)
        membership = choose_membership(memberships, chosen)
        if membership is None:
            if memberships and not request.headers.get(PRACTICE_HEADER):
                raise ValidationError(
                    {
                        "detail": f"You belong to several practices: send the {PRACTICE_HEADER} "
                        "header with the practice's id."
                    }
                )
            raise PermissionDenied("You are not an active member of this practice.")
        self.membership = membership
        self.practice = membership.practice
        request.membership = membership  # type: ignore[attr-defined]
        request.practice = membership.practice  # type: ignore[attr-defined]
        switch_practice(membership.practice_id)

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        self._practice_stack = ExitStack()
        with self._practice_stack:
            response = super().dispatch(request, *args, **kwargs)
            if response.status_code >= 400 and transaction.get_connection().in_atomic_block:  # noqa: PLR2004
                transaction.set_rollback(True)
        return response


class MeApi(PracticeApiView):
    """Who the caller is, in which practice, with which role."""

    class OutputSerializer(serializers.Serializer[Membership]):
        membership_id = serializers.UUIDField(source="public_id")
        email = serializers.EmailField(source="user.email")
        full_name = serializers.CharField(source="user.full_name")
        role = serializers.CharField()
        practice_id = serializers.UUIDField(source="practice.public_id")
        practice_name = serializers.CharField(source="practice.name")
        practice_timezone = serializers.CharField(source="practice.timezone")

    @extend_schema(responses=OutputSerializer)
    def get(self, request: Request) -> Response:
        return Response(self.OutputSerializer(self.membership).data)


class MembershipListApi(PracticeApiView, generics.ListAPIView):
    """The practice's members (for pickers in integrations). Paginated."""

    class OutputSerializer(serializers.Serializer[Membership]):
        id = serializers.UUIDField(source="public_id")
        email = serializers.EmailField(source="user.email")
        full_name = serializers.CharField(source="user.full_name")
        role = serializers.CharField()
        npi = serializers.CharField()
        is_active = serializers.BooleanField()

    serializer_class = OutputSerializer

    def get_queryset(self) -> QuerySet[Membership]:
        return selectors.membership_list(practice=self.practice)
