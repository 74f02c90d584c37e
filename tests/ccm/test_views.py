from __future__ import annotations

import pytest
from django.urls import reverse

from ccm.audit import AuditEvent
from ccm.models import AuditLog, Membership
from ccm.permissions import Role


@pytest.mark.parametrize("role", list(Role))
def test_dashboard_shows_the_members_practice_for_every_role(role, members, client_for, practice):
    # given
    client = client_for(members[role])
    # when
    response = client.get(reverse("dashboard"))
    # then
    assert response.status_code == 200
    body = response.content.decode()
    assert practice.name in body
    assert members[role].get_role_display() in body


def test_anonymous_visitor_is_sent_to_sign_in(client):
    # when
    response = client.get(reverse("dashboard"))
    # then
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_members_page_lists_only_this_practices_members(manager, client_for, other_members):
    # given
    client = client_for(manager)
    # when
    response = client.get(reverse("practice_members"))
    # then
    body = response.content.decode()
    assert response.status_code == 200
    assert all(f"{role.value}@maple.test" in body for role in Role)
    assert "@harbor.test" not in body


def test_coordinator_may_not_open_the_members_page(coordinator, client_for):
    # when
    response = client_for(coordinator).get(reverse("practice_members"))
    # then
    assert response.status_code == 403
    assert "Not allowed" in response.content.decode()


def test_manager_deactivates_a_member_with_an_audit_row(
    manager, coordinator, client_for, practice, in_practice
):
    # given
    client = client_for(manager)
    # when
    response = client.post(reverse("membership_toggle", args=[coordinator.public_id]))
    # then
    assert response.status_code == 302
    with in_practice(practice):
        coordinator.refresh_from_db()
        audit = AuditLog.objects.get(event=AuditEvent.MEMBERSHIP_UPDATED)
    assert coordinator.is_active is False
    assert (audit.actor_id, audit.object_public_id) == (manager.pk, coordinator.public_id)
    assert audit.changes == {"is_active": [True, False]}


def test_manager_cannot_deactivate_themself(manager, client_for, practice, in_practice):
    # given
    client = client_for(manager)
    # when
    response = client.post(reverse("membership_toggle", args=[manager.public_id]), follow=True)
    # then
    assert "You cannot deactivate your own membership." in response.content.decode()
    with in_practice(practice):
        assert Membership.objects.get(pk=manager.pk).is_active is True
        assert not AuditLog.objects.filter(event=AuditEvent.MEMBERSHIP_UPDATED).exists()


def test_deactivated_member_has_no_practice_pages(coordinator, client_for, practice, in_practice):
    # given
    client = client_for(coordinator)
    with in_practice(practice):
        Membership.objects.filter(pk=coordinator.pk).update(is_active=False)
    # when
    response = client.get(reverse("dashboard"))
    # then
    assert response.status_code == 403


def test_audit_log_page_is_for_the_practice_admin(practice_admin, manager, client_for):
    # when
    admin_response = client_for(practice_admin).get(reverse("audit_log"))
    manager_response = client_for(manager).get(reverse("audit_log"))
    # then
    assert admin_response.status_code == 200
    assert manager_response.status_code == 403


def test_error_pages_leak_nothing(client, manager, client_for):
    # when
    response = client_for(manager).get("/no-such-page/")
    # then
    body = response.content.decode()
    assert response.status_code == 404
    assert "Traceback" not in body
    assert "urlpatterns" not in body.lower()
    assert "There is nothing here, or it is not part of your practice." in body


def test_pages_carry_a_strict_content_security_policy(manager, client_for):
    # when
    response = client_for(manager).get(reverse("dashboard"))
    # then
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
