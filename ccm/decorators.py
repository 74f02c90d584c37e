"""View guards: a signed-in member of the current practice, optionally with a permission."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from ccm.errors import PermissionDenied
from ccm.models import Membership

View = Callable[..., HttpResponse]


def member_required(
    permission: Callable[[Membership | None], bool] | None = None,
) -> Callable[[View], View]:
    """Require a member of the current practice (and ``permission`` when given).

    A user of several practices who has not picked one is sent to the practice chooser; a
    user without any practice gets 403 (they are signed in, but this is nobody's page to them).
    """

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = getattr(request, "membership", None)
            if membership is None:
                if getattr(request, "memberships", []):
                    return redirect("practice_choose")
                raise PermissionDenied("You are not an active member of any practice.")
            if permission is not None and not permission(membership):
                raise PermissionDenied("Your role does not allow this.")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
