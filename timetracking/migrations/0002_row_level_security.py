"""Row-level security on every timetracking table, composite foreign keys, append-only history.

Every reference to a patient, a member or a time entry becomes ``(practice_id, <column>) →
parent (practice_id, id)``: the database refuses a row that points into another practice.
"""

from django.db import migrations

from ccm.tenancy import append_only, composite_fk, rls_policy

TABLES = [
    "timetracking_timeentry",
    "timetracking_timeentryrevision",
    "timetracking_timer",
    "timetracking_timetrackingsettings",
    "timetracking_monthlock",
]

REFERENCES = [
    ("timetracking_timeentry", "patient_id", "patients_patient"),
    ("timetracking_timeentry", "member_id", "ccm_membership"),
    ("timetracking_timeentry", "voided_by_id", "ccm_membership"),
    ("timetracking_timeentryrevision", "entry_id", "timetracking_timeentry"),
    ("timetracking_timeentryrevision", "actor_id", "ccm_membership"),
    ("timetracking_timer", "member_id", "ccm_membership"),
    ("timetracking_timer", "patient_id", "patients_patient"),
    ("timetracking_timer", "entry_id", "timetracking_timeentry"),
    ("timetracking_monthlock", "locked_by_id", "ccm_membership"),
    ("timetracking_monthlock", "reopened_by_id", "ccm_membership"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("ccm", "0002_row_level_security"),
        ("patients", "0002_row_level_security"),
        ("timetracking", "0001_initial"),
    ]

    operations = [
        *(rls_policy(table) for table in TABLES),
        *(composite_fk(table, column, parent) for table, column, parent in REFERENCES),
        append_only("timetracking_timeentryrevision"),
    ]
