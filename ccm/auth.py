"""Sign-in: allauth's adapter and login view, wired to django-axes.

Members are invited by their practice, so nobody signs up alone. Every failed password attempt
counts towards django-axes' lockout (``AXES_FAILURE_LIMIT`` per account); a locked-out account
gets the lockout page even with the right password, before allauth looks at the form.
"""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.views import LoginView as AllauthLoginView
from axes.decorators import axes_dispatch, axes_form_invalid
from django.http import HttpRequest
from django.utils.decorators import method_decorator


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False


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
