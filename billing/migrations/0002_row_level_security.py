"""Row-level security on every billing table, and composite foreign keys.

Every reference to a month, a patient, a claim or a member becomes ``(practice_id, <column>) →
parent (practice_id, id)``: the database refuses a row that points into another practice.
"""

from django.db import migrations

from ccm.tenancy import composite_fk, rls_policy

TABLES = [
    "billing_billingmonth",
    "billing_claim",
    "billing_claimline",
    "billing_notbillable",
    "billing_billingreport",
]

REFERENCES = [
    ("billing_billingmonth", "close_requested_by_id", "ccm_membership"),
    ("billing_billingmonth", "closed_by_id", "ccm_membership"),
    ("billing_billingmonth", "reopened_by_id", "ccm_membership"),
    ("billing_claim", "billing_month_id", "billing_billingmonth"),
    ("billing_claim", "patient_id", "patients_patient"),
    ("billing_claim", "billing_practitioner_id", "ccm_membership"),
    ("billing_claimline", "claim_id", "billing_claim"),
    ("billing_notbillable", "billing_month_id", "billing_billingmonth"),
    ("billing_notbillable", "patient_id", "patients_patient"),
    ("billing_notbillable", "billing_practitioner_id", "ccm_membership"),
    ("billing_billingreport", "billing_month_id", "billing_billingmonth"),
    ("billing_billingreport", "claim_id", "billing_claim"),
    ("billing_billingreport", "requested_by_id", "ccm_membership"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("ccm", "0002_row_level_security"),
        ("patients", "0002_row_level_security"),
        ("billing", "0001_initial"),
    ]

    operations = [
        *(rls_policy(table) for table in TABLES),
        *(composite_fk(table, column, parent) for table, column, parent in REFERENCES),
    ]
