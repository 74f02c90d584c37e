"""Sign-in through the real allauth views: password, TOTP, recovery codes, lockout, sessions.

Codes are computed with allauth's own HOTP helpers at a frozen time, so a test never races
the 30-second TOTP window.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, format_hotp_value, hotp_value
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from ccm.audit import AuditEvent
from ccm.models import AuditLog, Membership, User
from ccm.permissions import Role
from ccm.tenancy import SESSION_PRACTICE_KEY
from tests.conftest import enable_mfa
from tests.factories import MembershipFactory

PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's password
NOW = datetime(2025, 3, 10, 14, 0, 7, tzinfo=UTC)
SETUP_URL = "/accounts/2fa/totp/activate/"
MFA_STAGE_URL = "/accounts/2fa/authenticate/"
LOGIN_URL = "/accounts/login/"
# Paths a member without TOTP may reach: their account pages, the API (403 instead), health.
NOT_PRACTICE_PAGES = ("accounts/", "api/", "healthz", "static/")
SAMPLE_BY_CONVERTER = {"uuid": str(uuid.uuid4()), "int": "1"}


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    # allauth keeps rate limits and used TOTP codes in the cache, which outlives a test.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def frozen() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def totp_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(NOW.timestamp()) // 30))


def sign_in(client: Client, email: str, password: str = PASSWORD) -> Any:
    return client.post(LOGIN_URL, {"login": email, "password": password})


def signed_in_user_id(client: Client) -> str | None:
    return client.session.get(SESSION_KEY)


def practice_page_paths() -> list[str]:
    """Every HTML route of the project outside the account pages, with sample arguments."""
    paths: list[str] = []

    def walk(patterns: list[URLPattern | URLResolver], prefix: str) -> None:
        for pattern in patterns:
            route = str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + route)
            elif not route.startswith("^"):
                paths.append("/" + prefix + route)

    walk(get_resolver().url_patterns, "")
    filled = [
        re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE_BY_CONVERTER.get(str(m.group(1)), "x"), path)
        for path in paths
    ]
    return [path for path in filled if not path.lstrip("/").startswith(NOT_PRACTICE_PAGES)]


def test_member_without_totp_is_sent_to_setup_from_every_practice_page(coordinator):
    # given a signed-in member who has not set up an authenticator
    client = Client()
    client.force_login(coordinator.user)
    paths = practice_page_paths()
    # when
    responses = {path: client.get(path) for path in paths}
    # then
    assert {"/", "/practice/choose/", "/practice/members/", "/practice/audit/"} <= set(paths)
    assert {path: (r.status_code, r["Location"]) for path, r in responses.items()} == dict.fromkeys(
        paths, (302, SETUP_URL)
    )


def test_htmx_request_without_totp_is_redirected_by_header(coordinator):
    # given
    client = Client()
    client.force_login(coordinator.user)
    # when
    response = client.get("/", headers={"HX-Request": "true"})
    # then
    assert (response.status_code, response["HX-Redirect"]) == (204, SETUP_URL)


def test_api_refuses_member_without_totp(coordinator):
    # given
    client = Client()
    client.force_login(coordinator.user)
    # when
    response = client.get(reverse("api_me"))
    # then
    assert response.status_code == 403
    assert response.json() == {"detail": "Set up two-factor authentication before using the API."}


def test_demo_mode_does_not_require_totp(settings, coordinator):
    # given
    settings.DEMO_MODE = True
    client = Client()
    client.force_login(coordinator.user)
    # when
    page = client.get("/")
    api = client.get(reverse("api_me"))
    # then
    assert (page.status_code, api.status_code) == (200, 200)
    assert Authenticator.objects.filter(user=coordinator.user).count() == 0


def test_first_sign_in_forces_totp_setup_then_shows_recovery_codes(frozen, coordinator):
    # given a member without an authenticator signs in with the right password
    client = Client()
    signed_in = sign_in(client, coordinator.user.email)
    sent_to_setup = client.get(signed_in["Location"])
    setup_page = client.get(SETUP_URL)
    secret = client.session[SECRET_SESSION_KEY]
    # when the member enters the code their app shows
    activated = client.post(SETUP_URL, {"code": totp_code(secret)})
    codes_page = client.get(activated["Location"])
    download = client.get(reverse("mfa_download_recovery_codes"))
    dashboard = client.get("/")
    # then
    assert (signed_in.status_code, signed_in["Location"]) == (302, "/")
    assert (sent_to_setup.status_code, sent_to_setup["Location"]) == (302, SETUP_URL)
    assert setup_page.status_code == 200
    assert 'src="data:image/svg+xml;base64,' in setup_page.content.decode()
    assert f'<code class="secret" id="authenticator_secret">{secret}</code>' in (
        setup_page.content.decode()
    )
    assert "img-src 'self' data:" in setup_page["Content-Security-Policy"]
    assert (activated.status_code, activated["Location"]) == (
        302,
        reverse("mfa_view_recovery_codes"),
    )
    recovery = RecoveryCodes(
        Authenticator.objects.get(user=coordinator.user, type=Authenticator.Type.RECOVERY_CODES)
    )
    codes = recovery.get_unused_codes()
    assert len(codes) == 10
    assert codes_page.status_code == 200
    assert all(f"<li>{code}</li>" in codes_page.content.decode() for code in codes)
    assert download["Content-Disposition"] == 'attachment; filename="recovery-codes.txt"'
    assert download.content.decode().split() == codes
    assert dashboard.status_code == 200
    assert (
        Authenticator.objects.filter(user=coordinator.user, type=Authenticator.Type.TOTP).count()
        == 1
    )


def test_wrong_setup_code_does_not_activate_totp(frozen, coordinator):
    # given
    client = Client()
    sign_in(client, coordinator.user.email)
    client.get(SETUP_URL)
    secret = client.session[SECRET_SESSION_KEY]
    wrong = f"{(int(totp_code(secret)) + 1) % 1_000_000:06d}"
    # when
    response = client.post(SETUP_URL, {"code": wrong})
    # then
    assert response.status_code == 200
    assert "Incorrect code." in response.content.decode()
    assert Authenticator.objects.filter(user=coordinator.user).count() == 0
    assert (client.get("/").status_code, client.get("/")["Location"]) == (302, SETUP_URL)


def test_sign_in_with_totp_asks_for_the_code_after_the_password(frozen, coordinator):
    # given a member with an authenticator, signed out
    secret = enable_mfa(coordinator)
    client = Client()
    # when
    password_step = sign_in(client, coordinator.user.email)
    between_steps = client.get("/")
    code_page = client.get(MFA_STAGE_URL)
    code_step = client.post(MFA_STAGE_URL, {"code": totp_code(secret)})
    dashboard = client.get("/")
    # then
    assert (password_step.status_code, password_step["Location"]) == (302, MFA_STAGE_URL)
    assert (between_steps.status_code, between_steps["Location"]) == (
        302,
        "/accounts/login/?next=/",
    )
    assert code_page.status_code == 200
    assert "Enter your authenticator code" in code_page.content.decode()
    assert (code_step.status_code, code_step["Location"]) == (302, "/")
    assert dashboard.status_code == 200
    assert signed_in_user_id(client) == str(coordinator.user.pk)


def test_sign_in_after_logout_asks_for_the_code_again(frozen, coordinator):
    # given a member signed in with password and code, who signs out
    secret = enable_mfa(coordinator)
    client = Client()
    sign_in(client, coordinator.user.email)
    client.post(MFA_STAGE_URL, {"code": totp_code(secret)})
    signed_out = client.post(reverse("account_logout"))
    # when
    frozen.shift(timedelta(seconds=30))
    again = sign_in(client, coordinator.user.email)
    # then
    assert (signed_out.status_code, signed_out["Location"]) == (302, LOGIN_URL)
    assert (again.status_code, again["Location"]) == (302, MFA_STAGE_URL)
    assert signed_in_user_id(client) is None


def test_wrong_totp_code_does_not_sign_in(frozen, coordinator):
    # given
    secret = enable_mfa(coordinator)
    client = Client()
    sign_in(client, coordinator.user.email)
    wrong = f"{(int(totp_code(secret)) + 1) % 1_000_000:06d}"
    # when
    response = client.post(MFA_STAGE_URL, {"code": wrong})
    # then
    assert response.status_code == 200
    assert "Incorrect code." in response.content.decode()
    assert signed_in_user_id(client) is None


def test_recovery_code_signs_in_once(frozen, coordinator):
    # given a member with an authenticator and recovery codes
    enable_mfa(coordinator)
    codes = RecoveryCodes.activate(coordinator.user).get_unused_codes()
    first = Client()
    sign_in(first, coordinator.user.email)
    # when the first recovery code is used, then tried again in another browser
    used = first.post(MFA_STAGE_URL, {"code": codes[0]})
    second = Client()
    sign_in(second, coordinator.user.email)
    reused = second.post(MFA_STAGE_URL, {"code": codes[0]})
    # then
    assert (used.status_code, used["Location"]) == (302, "/")
    assert signed_in_user_id(first) == str(coordinator.user.pk)
    assert reused.status_code == 200
    assert "Incorrect code." in reused.content.decode()
    assert signed_in_user_id(second) is None
    remaining = RecoveryCodes(
        Authenticator.objects.get(user=coordinator.user, type=Authenticator.Type.RECOVERY_CODES)
    ).get_unused_codes()
    assert remaining == codes[1:]


def test_five_failed_passwords_lock_the_account(coordinator, physician):
    # given five wrong passwords for one account
    enable_mfa(coordinator)
    client = Client()
    failures = [sign_in(client, coordinator.user.email, "wrong password") for _ in range(5)]
    # when the right password follows
    sixth = sign_in(client, coordinator.user.email)
    # and another member signs in from the same address
    colleague = sign_in(Client(), physician.user.email)
    # then
    assert [r.status_code for r in failures] == [200, 200, 200, 200, 429]
    assert "The email address and/or password you specified are not correct." in (
        failures[0].content.decode()
    )
    assert sixth.status_code == 429
    assert "Too many failed sign-in attempts" in sixth.content.decode()
    assert "from this network is locked for 30 minutes" in sixth.content.decode()
    assert sixth.templates[0].name == "account/lockout.html"
    assert signed_in_user_id(client) is None
    assert list(AccessAttempt.objects.values_list("username", "failures_since_start")) == [
        (coordinator.user.email, 5)
    ]
    assert (colleague.status_code, colleague["Location"]) == (302, "/")


def test_lockout_counts_differently_typed_addresses_as_one_account(coordinator):
    # given failures with the address typed in different letter cases
    client = Client()
    variants = [
        "Care_Coordinator@Maple.test",
        "CARE_COORDINATOR@maple.test",
        " care_coordinator@maple.TEST",
    ]
    for index in range(5):
        sign_in(client, variants[index % 3], "wrong password")
    # when
    response = sign_in(client, coordinator.user.email)
    # then
    assert response.status_code == 429
    assert signed_in_user_id(client) is None


def test_four_failures_then_the_right_password_signs_in(coordinator):
    # given
    client = Client()
    for _ in range(4):
        sign_in(client, coordinator.user.email, "wrong password")
    # when
    response = sign_in(client, coordinator.user.email)
    # then
    assert (response.status_code, response["Location"]) == (302, "/")
    assert signed_in_user_id(client) == str(coordinator.user.pk)
    assert AccessAttempt.objects.count() == 0


@pytest.mark.parametrize(
    ("idle", "expected"),
    [
        (timedelta(minutes=14), (200, None)),
        (timedelta(minutes=16), (302, "/accounts/login/?next=/")),
    ],
)
def test_session_expires_after_fifteen_idle_minutes(
    frozen, client_for, coordinator, idle, expected
):
    # given a member who just opened a page
    client = client_for(coordinator)
    assert client.get("/").status_code == 200
    # when they come back after being idle
    frozen.shift(idle)
    response = client.get("/")
    # then
    assert (response.status_code, response.get("Location")) == expected


def test_every_request_pushes_the_idle_expiry_forward(frozen, client_for, coordinator):
    # given a member who clicks every 14 minutes
    client = client_for(coordinator)
    client.get("/")
    for _ in range(3):
        frozen.shift(timedelta(minutes=14))
        client.get("/")
    # when, 42 minutes after the first page
    response = client.get("/")
    # then
    assert response.status_code == 200


TIMER_POLL = "/time/timer/?shown=none"
HTMX_FROM_WORKLIST = {"HX-Request": "true", "HX-Current-URL": "http://testserver/time/worklist/"}


def _poll_every_ten_seconds(frozen, client: Client, minutes: int) -> list[int]:
    """What a page's timer poll answered, every 10 seconds for ``minutes``."""
    answers = []
    for _ in range(minutes * 6):
        frozen.shift(timedelta(seconds=10))
        answers.append(client.get(TIMER_POLL, headers=HTMX_FROM_WORKLIST).status_code)
    return answers


def test_a_polling_page_does_not_keep_an_idle_member_signed_in(frozen, client_for, coordinator):
    # given a member who opened the worklist and left it open (its timer polls)
    client = client_for(coordinator)
    assert client.get("/time/worklist/").status_code == 200
    # when the page polls for 15 minutes, then once more
    answers = _poll_every_ten_seconds(frozen, client, 15)
    frozen.shift(timedelta(seconds=10))
    expired = client.get(TIMER_POLL, headers=HTMX_FROM_WORKLIST)
    # then the polls were answered until the idle limit, and then the whole page is sent to
    # sign in, to come back to the worklist
    assert set(answers) == {204}
    assert (expired.status_code, expired["HX-Redirect"]) == (
        204,
        "/accounts/login/?next=/time/worklist/",
    )
    assert SESSION_KEY not in client.session
    assert client.get("/time/worklist/")["Location"] == "/accounts/login/?next=/time/worklist/"


def test_a_click_between_polls_keeps_the_member_signed_in(frozen, client_for, coordinator):
    # given a member whose open page polls, and who opens a page every 10 minutes
    client = client_for(coordinator)
    client.get("/time/worklist/")
    for _ in range(3):
        assert set(_poll_every_ten_seconds(frozen, client, 10)) == {204}
        assert client.get("/time/worklist/").status_code == 200
    # when, 30 minutes after the first page, the page polls again
    response = client.get(TIMER_POLL, headers=HTMX_FROM_WORKLIST)
    # then
    assert response.status_code == 204
    assert not response.has_header("HX-Redirect")


def test_an_htmx_request_without_a_session_sends_the_page_to_sign_in(db):
    # given a browser whose session is gone
    client = Client()
    # when its page posts through htmx
    response = client.post(
        "/time/patients/00000000-0000-0000-0000-000000000000/timer/",
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/time/worklist/?page=2"},
    )
    # then htmx is told to load the sign-in page, not to swap it into the fragment
    assert (response.status_code, response["HX-Redirect"]) == (
        204,
        "/accounts/login/?next=/time/worklist/%3Fpage%3D2",
    )


def _authenticator_queries(client: Client, path: str) -> tuple[int, int]:
    """The page's status and how many queries it made of the authenticators."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    return response.status_code, sum("mfa_authenticator" in q["sql"] for q in queries)


def test_the_authenticator_is_looked_up_once_then_remembered(frozen, client_for, coordinator):
    # given a member with TOTP
    client = client_for(coordinator)
    # when
    first = _authenticator_queries(client, "/")
    frozen.shift(timedelta(minutes=4))
    later = _authenticator_queries(client, "/")
    # then
    assert (first, later) == ((200, 1), (200, 0))


def test_a_removed_authenticator_sends_to_setup_after_the_account_pages(
    frozen, client_for, coordinator
):
    # given a member who opened a page, then removed their authenticator on the account pages
    client = client_for(coordinator)
    client.get("/")
    Authenticator.objects.filter(user=coordinator.user).delete()
    client.get("/accounts/2fa/")
    # when
    response = client.get("/")
    # then
    assert (response.status_code, response["Location"]) == (302, SETUP_URL)


def test_another_session_notices_a_removed_authenticator_within_five_minutes(
    frozen, client_for, coordinator
):
    # given a member's session that has seen the authenticator, removed elsewhere since
    client = client_for(coordinator)
    client.get("/")
    Authenticator.objects.filter(user=coordinator.user).delete()
    # when
    soon = client.get("/")
    frozen.shift(timedelta(minutes=5))
    later = client.get("/")
    # then
    assert soon.status_code == 200
    assert (later.status_code, later["Location"]) == (302, SETUP_URL)


def test_member_cannot_switch_into_another_practice(
    client_for, coordinator, practice, other_practice, in_practice
):
    # given a member of one practice only
    client = client_for(coordinator)
    # when they post the other practice's id
    response = client.post(reverse("practice_choose"), {"practice": str(other_practice.public_id)})
    # then
    assert response.status_code == 404
    assert client.session[SESSION_PRACTICE_KEY] == str(practice.public_id)
    with in_practice(practice):
        assert AuditLog.objects.count() == 0
    with in_practice(other_practice):
        assert AuditLog.objects.count() == 0


def test_member_of_two_practices_switches_and_the_choice_is_kept(
    client_for, coordinator, practice, other_practice, in_practice
):
    # given a user who works for both practices, currently in the first
    with in_practice(other_practice):
        second = cast(
            Membership,
            MembershipFactory(
                practice=other_practice, user=coordinator.user, role=Role.PRACTICE_MANAGER
            ),
        )
    client = client_for(coordinator)
    # when
    response = client.post(reverse("practice_choose"), {"practice": str(other_practice.public_id)})
    dashboard = client.get("/")
    # then
    assert (response.status_code, response["Location"]) == (302, "/")
    assert client.session[SESSION_PRACTICE_KEY] == str(other_practice.public_id)
    assert dashboard.context["current_practice"] == other_practice
    assert dashboard.context["current_membership"] == second
    with in_practice(other_practice):
        rows = list(AuditLog.objects.values_list("event", "actor_id", "object_public_id"))
    assert rows == [(AuditEvent.PRACTICE_SWITCHED, second.pk, other_practice.public_id)]
    with in_practice(practice):
        assert AuditLog.objects.count() == 0


def test_signup_is_closed(db):
    # given
    client = Client()
    users_before = User.objects.count()
    # when
    page = client.get("/accounts/signup/")
    attempt = client.post(
        "/accounts/signup/",
        {
            "email": "new@example.test",
            "password1": "a long enough password 1",
            "password2": "a long enough password 1",
        },
    )
    # then
    assert page.status_code == 200
    assert "Accounts are created by your practice" in page.content.decode()
    assert attempt.status_code == 200
    assert User.objects.count() == users_before
    assert not User.objects.filter(email="new@example.test").exists()


def test_password_reset_mail_link_sets_a_new_password(coordinator):
    # given
    client = Client()
    # when the member asks for a reset and follows the emailed link
    asked = client.post(reverse("account_reset_password"), {"email": coordinator.user.email})
    link = re.search(
        r"http://testserver(/accounts/password/reset/key/\S+/)", str(mail.outbox[0].body)
    )
    assert link is not None
    opened = client.get(link.group(1))
    form_page = client.get(opened["Location"])
    changed = client.post(
        opened["Location"],
        {"password1": "a brand new passphrase 42", "password2": "a brand new passphrase 42"},
    )
    reused = Client().get(link.group(1))
    # then
    assert (asked.status_code, asked["Location"]) == (302, reverse("account_reset_password_done"))
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [coordinator.user.email]
    assert mail.outbox[0].subject == "[ccm] Reset your password"
    assert form_page.status_code == 200
    assert "Choose a new password" in form_page.content.decode()
    assert (changed.status_code, changed["Location"]) == (
        302,
        reverse("account_reset_password_from_key_done"),
    )
    assert "This link no longer works" in reused.content.decode()
    assert sign_in(Client(), coordinator.user.email).status_code == 200
    new_password = sign_in(Client(), coordinator.user.email, "a brand new passphrase 42")
    assert (new_password.status_code, new_password["Location"]) == (302, "/")


def test_password_reset_for_an_unknown_address_sends_nothing(coordinator):
    # given
    client = Client()
    # when
    response = client.post(reverse("account_reset_password"), {"email": "nobody@example.test"})
    # then
    assert (response.status_code, response["Location"]) == (
        302,
        reverse("account_reset_password_done"),
    )
    assert mail.outbox == []


def test_sign_in_pages_have_no_inline_script_or_style(frozen, coordinator, physician):
    # given one member on the way to TOTP setup, one at the code step, one signed in
    setup = Client()
    sign_in(setup, coordinator.user.email)
    secret = enable_mfa(physician)
    RecoveryCodes.activate(physician.user)
    code_step = Client()
    sign_in(code_step, physician.user.email)
    signed_in = Client()
    sign_in(signed_in, physician.user.email)
    signed_in.post(MFA_STAGE_URL, {"code": totp_code(secret)})
    anonymous = Client()
    # when
    pages = {
        "login": anonymous.get(LOGIN_URL),
        "reset": anonymous.get(reverse("account_reset_password")),
        "signup": anonymous.get("/accounts/signup/"),
        "setup": setup.get(SETUP_URL),
        "code": code_step.get(MFA_STAGE_URL),
        "codes": signed_in.get(reverse("mfa_view_recovery_codes")),
        "security": signed_in.get(reverse("mfa_index")),
        "password": signed_in.get(reverse("account_change_password")),
    }
    # then
    assert {name: r.status_code for name, r in pages.items()} == dict.fromkeys(pages, 200)
    for name, response in pages.items():
        html = response.content.decode()
        inline_scripts = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html)
        assert (name, inline_scripts, "<style" in html, " style=" in html) == (
            name,
            [],
            False,
            False,
        )
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy
        assert "style-src 'self'" in policy
        assert "unsafe-inline" not in policy
