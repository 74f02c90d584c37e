from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from ccm.demo_data import DEMO_PASSWORD, seed
from ccm.models import Membership, Practice, User
from ccm.permissions import Role
from ccm.tenancy import practice_context


def _row_counts() -> dict[str, int]:
    counts = {"practices": Practice.objects.count(), "users": User.objects.count()}
    for practice in Practice.objects.all():
        with practice_context(practice.pk):
            counts[practice.slug] = Membership.objects.for_practice(practice).count()
    return counts


def test_demo_seed_creates_two_practices_with_every_role(db):
    # when
    world = seed()
    # then
    practices = {p.slug: p for p in Practice.objects.all()}
    assert set(practices) == {"maple", "harbor"}
    assert {p.timezone for p in practices.values()} == {"America/New_York", "America/Los_Angeles"}
    for practice in practices.values():
        with practice_context(practice.pk):
            roles = set(Membership.objects.for_practice(practice).values_list("role", flat=True))
        assert roles == set(Role)
    assert world.logins
    assert all(login.password == DEMO_PASSWORD for login in world.logins)


def test_demo_seed_twice_changes_nothing(db):
    # given
    seed()
    before = _row_counts()
    # when
    world = seed()
    # then
    assert _row_counts() == before
    assert not world.created


def test_seed_demo_is_refused_outside_demo_mode(db, settings):
    # given
    settings.DEMO_MODE = False
    # when / then
    with pytest.raises(CommandError, match="only in demo mode"):
        call_command("seed_demo")
    assert Practice.objects.count() == 0


def test_seed_demo_prints_the_logins(db, settings, capsys):
    # given
    settings.DEMO_MODE = True
    # when
    call_command("seed_demo")
    # then
    out = capsys.readouterr().out
    assert "coordinator@maple.example" in out
    assert DEMO_PASSWORD in out
