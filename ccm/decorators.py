"""View guards: a signed-in member of the current practice, optionally with a permission."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from ccm.errors import PermissionDenied
from ccm.htmx import hx_redirect, is_htmx
from ccm.models import Membership

View = Callable[..., HttpResponse]


def passive(view: View) -> View:
    """Mark a view that pages call on their own (a poll): it is not the person's activity, so
    it does not hold off the idle sign-out (``ccm.middleware.IdleSignOutMiddleware``)."""
    view.passive = True  # type: ignore[attr-defined]
    return view


def sign_in_redirect(request: HttpRequest) -> HttpResponse:
    """To the sign-in page, and back here afterwards.

    An htmx request gets ``HX-Redirect`` (with the page it came from as ``next``): followed
    as a plain redirect, the sign-in page would be swapped into a fragment of the page.
    """
    if is_htmx(request):
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        page = current.path if current.path.startswith("/") else "/"
        if current.query:
            page = f"{page}?{current.query}"
        if page.startswith("//"):  # a path only, never another host
            page = "/"
        location = redirect_to_login(page)["Location"]
        return hx_redirect(location)
    return redirect_to_login(request.get_full_path())


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
                return sign_in_redirect(request)
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
