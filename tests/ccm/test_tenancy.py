from __future__ import annotations

import pytest
from django.db import connection

from ccm.audit import AuditEvent, audit_record
from ccm.models import AuditLog, Membership
from ccm.tenancy import HardDeleteRefusedError, current_practice_id, practice_context


def test_practice_context_shows_only_that_practices_rows(
    members, other_members, practice, other_practice
):
    # given two practices with four members each
    # when
    with practice_context(practice.pk):
        visible = set(Membership.objects.values_list("practice_id", flat=True))
        count = Membership.objects.count()
    # then
    assert visible == {practice.pk}
    assert count == 4


def test_rows_are_invisible_outside_any_practice_context(members, other_members):
    # given members of two practices
    # when
    count = Membership.objects.count()
    # then
    assert count == 0


def test_practice_context_restores_the_previous_practice(practice, other_practice):
    # given
    with practice_context(practice.pk):
        # when
        with practice_context(other_practice.pk):
            inner = current_practice_id()
        outer = current_practice_id()
    # then
    assert (inner, outer, current_practice_id()) == (other_practice.pk, practice.pk, None)


def test_insert_into_another_practice_is_refused_by_rls(practice, other_practice, members):
    # given a context for practice
    # when / then
    with practice_context(practice.pk), pytest.raises(Exception, match="row-level security"):
        audit_record(practice=other_practice, actor=None, event=AuditEvent.PRACTICE_UPDATED)


def test_audit_log_refuses_update_and_delete(practice, members):
    # given
    with practice_context(practice.pk):
        row = audit_record(practice=practice, actor=None, event=AuditEvent.PRACTICE_UPDATED)
        # when / then
        with (
            pytest.raises(Exception, match=r"permission denied|append-only"),
            connection.cursor() as cursor,
            practice_context(practice.pk),
        ):
            cursor.execute("UPDATE ccm_auditlog SET event = 'x' WHERE id = %s", [row.pk])
    with practice_context(practice.pk):
        assert AuditLog.objects.get(pk=row.pk).event == AuditEvent.PRACTICE_UPDATED


def test_practice_owned_rows_refuse_hard_delete(practice, members):
    # given
    with practice_context(practice.pk):
        membership = Membership.objects.for_practice(practice).get(role="physician")
        # when / then
        with pytest.raises(HardDeleteRefusedError):
            membership.delete()
        with pytest.raises(HardDeleteRefusedError):
            Membership.objects.for_practice(practice).delete()
        assert Membership.objects.for_practice(practice).count() == 4
