"""The worklist's per-patient-month summary of live time, filled from the entries logged so far.

The backfill repeats ``timetracking.counting`` (migrations import no app code). It runs as the
tables' owner, whom the FORCEd policies bind too, so it sets each practice in turn.
"""

import uuid

import django.db.models.deletion
from django.db import migrations, models

from ccm.tenancy import composite_fk, rls_policy

BACKFILL_SQL = """
DO $$
DECLARE
    practice bigint;
BEGIN
    FOR practice IN SELECT id FROM ccm_practice ORDER BY id LOOP
        PERFORM set_config('ccm.practice_id', practice::text, true);
        INSERT INTO timetracking_patientmonthtime
            (practice_id, public_id, patient_id, service_month, staff_minutes,
             has_practitioner_time, last_contact_at)
        SELECT e.practice_id, gen_random_uuid(), e.patient_id, e.service_month,
               COALESCE((SELECT FLOOR(SUM(EXTRACT(EPOCH FROM UPPER(piece) - LOWER(piece))) / 60)::int
                         FROM UNNEST(RANGE_AGG(e.period) FILTER (
                             WHERE e.part_of = '' AND e.staff_role = 'clinical_staff')) AS piece), 0),
               COALESCE(BOOL_OR(e.part_of = '' AND e.staff_role = 'practitioner'), FALSE),
               MAX(UPPER(e.period)) FILTER (
                   WHERE e.activity IN ('patient_communication', 'caregiver_communication'))
        FROM timetracking_timeentry e
        WHERE e.practice_id = practice AND e.voided_at IS NULL
        GROUP BY e.practice_id, e.patient_id, e.service_month;
    END LOOP;
    PERFORM set_config('ccm.practice_id', '', true);
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("ccm", "0002_row_level_security"),
        ("patients", "0002_row_level_security"),
        ("timetracking", "0002_row_level_security"),
    ]

    operations = [
        migrations.CreateModel(
            name="PatientMonthTime",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("public_id", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                ("service_month", models.DateField()),
                ("staff_minutes", models.PositiveIntegerField(default=0)),
                ("has_practitioner_time", models.BooleanField(default=False)),
                ("last_contact_at", models.DateTimeField(blank=True, null=True)),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="patients.patient",
                    ),
                ),
                (
                    "practice",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="ccm.practice",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=["practice", "service_month", "patient"],
                        name="patient_month_time_month",
                    )
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("practice", "patient", "service_month"),
                        name="patient_month_time_unique",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("service_month__day", 1)),
                        name="patient_month_time_first_day",
                    ),
                ],
            },
        ),
        rls_policy("timetracking_patientmonthtime"),
        composite_fk("timetracking_patientmonthtime", "patient_id", "patients_patient"),
        migrations.RunSQL(BACKFILL_SQL, reverse_sql=migrations.RunSQL.noop),
    ]
