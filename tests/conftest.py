"""Two practices with a member of every role, clients signed in as each, and ``in_practice``.

The test database is created and migrated as the owner role and used as the app role
(``ccm_app``: no superuser, no owner), so every test runs under FORCEd row-level security,
exactly like production.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import dj_database_url
import psycopg2
import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.test import Client
from psycopg2 import sql

from ccm.models import Membership, Practice
from ccm.permissions import Role
from ccm.tenancy import SESSION_PRACTICE_KEY, practice_context
from tests.factories import MembershipFactory, PracticeFactory, UserFactory

ROLES = list(Role)


def _claim_test_database(admin: Any) -> str:
    """The first of test_ccm, test_ccm_1, ... that no other pytest session is using.

    Each session holds an advisory lock on its database's name for its whole run, so two
    suites started at once (two developers' shells, or CI and a developer) never flush or
    migrate under each other; each name is still reused across runs (--reuse-db).
    """
    base = f"test_{settings.DATABASES['default']['NAME']}"
    with admin.cursor() as cursor:
        for index in range(16):
            name = base if index == 0 else f"{base}_{index}"
            cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [name])
            if cursor.fetchone()[0]:
                return name
    raise RuntimeError("16 test sessions are running at once; wait for one to finish")


@pytest.fixture(scope="session")
def django_db_setup(
    request: pytest.FixtureRequest, django_test_environment: None, django_db_blocker: Any
) -> Iterator[None]:
    """Create (or reuse) the test database as the owner, migrate as the owner."""
    owner = dj_database_url.parse(settings.DATABASE_OWNER_URL)
    recreate = request.config.getoption("create_db") or not request.config.getoption("reuse_db")
    with django_db_blocker.unblock():
        for connection in connections.all():
            connection.close()
        admin = psycopg2.connect(
            dbname="postgres",
            user=owner["USER"],
            password=owner["PASSWORD"],
            host=owner["HOST"],
            port=owner["PORT"] or 5432,
        )
        admin.autocommit = True
        name = _claim_test_database(admin)
        with admin.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            exists = cursor.fetchone() is not None
            if exists and recreate:
                cursor.execute(
                    sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name))
                )
                exists = False
            if not exists:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        for alias in connections:
            connections[alias].settings_dict["NAME"] = name
        settings.DATABASES["default"]["NAME"] = name
        call_command("migrate", verbosity=0, interactive=False)
    yield
    for connection in connections.all():
        connection.close()
    admin.close()


@pytest.fixture
def in_practice() -> Callable[[Practice], AbstractContextManager[None]]:
    """``with in_practice(practice):`` opens that practice's RLS context."""

    def enter(practice: Practice) -> AbstractContextManager[None]:
        return practice_context(practice.pk)

    return enter


def _members(practice: Practice, label: str) -> dict[Role, Membership]:
    with practice_context(practice.pk):
        return {
            role: MembershipFactory.create(
                practice=practice,
                role=role,
                user=UserFactory(
                    email=f"{role.value}@{label}.test", full_name=f"{role.label} {label}"
                ),
            )
            for role in ROLES
        }


@pytest.fixture
def practice(db: None) -> Practice:
    return PracticeFactory.create(
        name="Maple Family Medicine", slug="maple", timezone="America/New_York"
    )


@pytest.fixture
def other_practice(db: None) -> Practice:
    return PracticeFactory.create(
        name="Harbor Internal Medicine",
        slug="harbor",
        timezone="America/Los_Angeles",
        npi="1245319599",
        tin="987654321",
    )


@pytest.fixture
def members(practice: Practice) -> dict[Role, Membership]:
    return _members(practice, "maple")


@pytest.fixture
def other_members(other_practice: Practice) -> dict[Role, Membership]:
    return _members(other_practice, "harbor")


@pytest.fixture
def coordinator(members: dict[Role, Membership]) -> Membership:
    return members[Role.CARE_COORDINATOR]


@pytest.fixture
def physician(members: dict[Role, Membership]) -> Membership:
    return members[Role.PHYSICIAN]


@pytest.fixture
def manager(members: dict[Role, Membership]) -> Membership:
    return members[Role.PRACTICE_MANAGER]


@pytest.fixture
def practice_admin(members: dict[Role, Membership]) -> Membership:
    return members[Role.PRACTICE_ADMIN]


def enable_mfa(membership: Membership) -> str:
    """Give the member's user a TOTP authenticator; returns its secret."""
    secret = generate_totp_secret()
    TOTP.activate(membership.user, secret)
    return secret


@pytest.fixture
def client_for() -> Callable[[Membership], Client]:
    """A client signed in (MFA set up) as ``membership``, in its practice."""

    def make(membership: Membership) -> Client:
        enable_mfa(membership)
        client = Client()
        client.force_login(membership.user)
        session = client.session
        session[SESSION_PRACTICE_KEY] = str(membership.practice.public_id)
        session.save()
        return client

    return make
