"""Request id for the audit log, the idle sign-out, and the MFA requirement."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from ccm.audit import request_id_var
from ccm.htmx import hx_redirect

# Paths a signed-in member without MFA may still reach: sign-out, MFA setup, static files.
MFA_SETUP_ALLOWED_PREFIXES = ("/accounts/", "/static/", "/healthz")
# Where authenticators are added and removed (allauth's account pages).
MFA_ACCOUNT_PREFIX = "/accounts/"
# Session key: [user id, when] the user was last seen to have an authenticator.
SESSION_MFA_KEY = "ccm_mfa_seen"
MFA_RECHECK_SECONDS = 5 * 60
MFA_REQUIRED_MESSAGE = "Set up two-factor authentication before using the API."
# Session key: when (time.time()) the person last did something, as opposed to a page polling.
SESSION_ACTIVE_KEY = "ccm_active_at"


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


class IdleSignOutMiddleware:
    """Sign out a member idle for ``SESSION_COOKIE_AGE`` (15 minutes), however often their
    open pages poll the server.

    Every request saves the session and so pushes its expiry forward, a poll included: a tab
    left open on the timer (it polls every 10 seconds) would never time out. So the session
    also keeps when the person last did something, that is, requested a view not marked
    ``passive`` (``ccm.decorators.passive``), and a request that finds that older than the
    limit signs out before anything else runs. Views that need a member then send to the
    sign-in page (an htmx request by ``HX-Redirect``, so the whole page goes there).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            active_at = request.session.get(SESSION_ACTIVE_KEY)
            now = time.time()
            if not isinstance(active_at, int | float):
                request.session[SESSION_ACTIVE_KEY] = now  # signed in by a passive request
            elif now - active_at > settings.SESSION_COOKIE_AGE:
                logout(request)
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponse],
        view_args: Any,
        view_kwargs: Any,
    ) -> None:
        if request.user.is_authenticated and not getattr(view_func, "passive", False):
            request.session[SESSION_ACTIVE_KEY] = time.time()


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
                return hx_redirect(setup_url)
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
