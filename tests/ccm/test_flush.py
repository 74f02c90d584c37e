from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection

from ccm.audit import AuditEvent, audit_record
from ccm.tenancy import practice_context
from tests.factories import PracticeFactory


@pytest.mark.django_db(transaction=True)
def test_transactional_tests_can_flush_the_append_only_audit_log():
    # given a committed audit row
    practice = PracticeFactory.create()
    with practice_context(practice.pk):
        audit_record(practice=practice, actor=None, event=AuditEvent.PRACTICE_UPDATED)
    # when
    call_command("flush", verbosity=0, interactive=False)
    # then the table is empty and its TRUNCATE guard is back on
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM ccm_practice")
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT tgenabled FROM pg_trigger WHERE tgname = 'ccm_auditlog_no_truncate'")
        assert cursor.fetchone()[0] == "O"
