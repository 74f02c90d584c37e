"""Request id for the audit log, and the MFA requirement."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from ccm.audit import request_id_var

# Paths a signed-in member without MFA may still reach: sign-out, MFA setup, static files.
MFA_SETUP_ALLOWED_PREFIXES = ("/accounts/", "/static/", "/healthz")
# Where authenticators are added and removed (allauth's account pages).
MFA_ACCOUNT_PREFIX = "/accounts/"
# Session key: [user id, when] the user was last seen to have an authenticator.
SESSION_MFA_KEY = "ccm_mfa_seen"
MFA_RECHECK_SECONDS = 5 * 60
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

    Once the user is seen to have an authenticator, the session remembers it for
    ``MFA_RECHECK_SECONDS``, so a timer poll does not query the authenticators every time.
    Authenticators change only on the account pages: a visit there forgets the answer, and
    the next practice page asks the database again. Another session of the same user (where
    the authenticator was not removed) learns of a removal within the re-check interval.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if settings.DEMO_MODE or user is None or not user.is_authenticated:
            return self.get_response(request)
        if request.path.startswith(MFA_SETUP_ALLOWED_PREFIXES):
            if request.path.startswith(MFA_ACCOUNT_PREFIX):
                request.session.pop(SESSION_MFA_KEY, None)
            return self.get_response(request)
        if not _has_mfa(request, user):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": MFA_REQUIRED_MESSAGE}, status=403)
            setup_url = reverse("mfa_activate_totp")
            if request.headers.get("HX-Request"):
                return HttpResponse(status=204, headers={"HX-Redirect": setup_url})
            return redirect(setup_url)
        return self.get_response(request)


def _has_mfa(request: HttpRequest, user: Any) -> bool:
    """``is_mfa_enabled(user)``, remembered in the session for ``MFA_RECHECK_SECONDS``."""
    remembered = request.session.get(SESSION_MFA_KEY)
    now = time.time()
    if (
        isinstance(remembered, list)
        and remembered[0] == user.pk
        and 0 <= now - remembered[1] < MFA_RECHECK_SECONDS
    ):
        return True
    if not is_mfa_enabled(user):
        request.session.pop(SESSION_MFA_KEY, None)
        return False
    request.session[SESSION_MFA_KEY] = [user.pk, now]
    return True
