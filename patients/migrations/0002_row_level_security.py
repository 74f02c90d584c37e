"""Row-level security on every patients table, composite foreign keys, append-only history.

Every reference to a patient or a member becomes ``(practice_id, <column>) → parent
(practice_id, id)``: the database refuses a row that points into another practice, even when
the code forgets to check (RI checks are not filtered by RLS, so a plain FK would not).
"""

from django.db import migrations

from ccm.tenancy import append_only, composite_fk, rls_policy

TABLES = [
    "patients_patient",
    "patients_condition",
    "patients_outreachattempt",
    "patients_enrollmentevent",
    "patients_consent",
    "patients_visit",
    "patients_otherservice",
    "patients_facilitystay",
]

MEMBER_REFERENCES = [
    ("patients_patient", "billing_practitioner_id"),
    ("patients_condition", "attested_by_id"),
    ("patients_outreachattempt", "by_id"),
    ("patients_enrollmentevent", "by_id"),
    ("patients_consent", "practitioner_id"),
    ("patients_consent", "obtained_by_id"),
    ("patients_consent", "revoked_by_id"),
    ("patients_visit", "practitioner_id"),
    ("patients_visit", "voided_by_id"),
    ("patients_otherservice", "practitioner_id"),
    ("patients_otherservice", "voided_by_id"),
    ("patients_facilitystay", "voided_by_id"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("ccm", "0002_row_level_security"),
        ("patients", "0001_initial"),
    ]

    operations = [
        *(rls_policy(table) for table in TABLES),
        *(
            composite_fk(table, "patient_id", "patients_patient")
            for table in TABLES
            if table != "patients_patient"
        ),
        *(composite_fk(table, column, "ccm_membership") for table, column in MEMBER_REFERENCES),
        append_only("patients_enrollmentevent"),
    ]
