"""Request id for the audit log, and the MFA requirement."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from ccm.audit import request_id_var

# Paths a signed-in member without MFA may still reach: sign-out, MFA setup, static files.
MFA_SETUP_ALLOWED_PREFIXES = ("/accounts/", "/static/", "/healthz")
MFA_REQUIRED_MESSAGE = "Set up two-factor authentication before using the API."


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request.headers.get("X-Request-Id", "")[:64] or uuid.uuid4().hex
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-Id"] = request_id
        return response


class MfaRequiredMiddleware:
    """Outside demo mode, a member must set up TOTP before reaching any practice page.

    Pages redirect to the authenticator setup (htmx requests get ``HX-Redirect``, so the setup
    page is not swapped into a fragment); the API answers 403 with a JSON body.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            not settings.DEMO_MODE
            and user is not None
            and user.is_authenticated
            and not request.path.startswith(MFA_SETUP_ALLOWED_PREFIXES)
            and not is_mfa_enabled(user)
        ):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": MFA_REQUIRED_MESSAGE}, status=403)
            setup_url = reverse("mfa_activate_totp")
            if request.headers.get("HX-Request"):
                return HttpResponse(status=204, headers={"HX-Redirect": setup_url})
            return redirect(setup_url)
        return self.get_response(request)
