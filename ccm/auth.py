"""Sign-in: allauth's adapter and login view, wired to django-axes.

Members are invited by their practice, so nobody signs up alone. Every failed password attempt
counts towards django-axes' lockout (``AXES_FAILURE_LIMIT`` per account); a locked-out account
gets the lockout page even with the right password, before allauth looks at the form.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import get_authentication_records
from allauth.account.views import LoginView as AllauthLoginView
from allauth.core import context
from axes.decorators import axes_dispatch, axes_form_invalid
from axes.helpers import get_cool_off, get_failure_limit
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.decorators import method_decorator


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        """A sign-in of the last few minutes counts as having just re-entered the password.

        allauth only counts an explicit re-authentication, so a member who has just signed in
        and is sent to the mandatory authenticator setup would be asked for the password a
        second time, and again before seeing the recovery codes. Within
        ``ACCOUNT_REAUTHENTICATION_TIMEOUT`` of the sign-in that adds nothing.
        """
        if not super().is_reauthentication_required(app=app, **kwargs):
            return False
        request = context.request
        if request is None or not request.user.is_authenticated:
            return True
        records = get_authentication_records(request, request.user)
        return not (
            records and time.time() - records[-1]["at"] < account_settings.REAUTHENTICATION_TIMEOUT
        )


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str:
    """The account an attempt is about, as axes should count it.

    allauth authenticates with ``email=...`` while its form posts ``login=...``; axes sees
    either the credentials (from the backend and the failure signal) or the POST (from the
    view decorators). Both are reduced to the same lower-cased address, so ``Ann@x`` and
    ``ann@x`` share one failure counter.
    """
    value = ""
    if credentials:
        value = credentials.get("login") or credentials.get("email") or ""
    if not value:
        value = request.POST.get("login", "")
    return str(value).strip().lower()


@method_decorator(axes_dispatch, name="dispatch")
@method_decorator(axes_form_invalid, name="form_invalid")
class LoginView(AllauthLoginView):
    """allauth's login view, refusing a locked-out account before the form is processed.

    axes only patches ``django.contrib.auth``'s login view; its documentation asks allauth
    users to decorate ``dispatch`` and ``form_invalid`` themselves. Subclassing keeps
    allauth's own view untouched.
    """


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """The page a locked-out sign-in gets (axes' ``AXES_LOCKOUT_CALLABLE``), HTTP 429."""
    cool_off = get_cool_off(request) or timedelta(0)
    context = {
        "failure_limit": get_failure_limit(request, credentials),
        "cooloff_minutes": max(1, int(cool_off.total_seconds() // 60)),
    }
    return render(request, "account/lockout.html", context, status=429)
