"""Row-level security, composite foreign keys and the guards of signed care-plan versions.

- FORCEd RLS on every careplans table.
- Every reference to a patient, a member or a care-plan row is ``(practice_id, <column>) →
  parent (practice_id, id)``: no row can point into another practice.
- A signed version is final: a trigger refuses any UPDATE of a signed row (and any DELETE of a
  version), for every role, whatever the code does.
- A goal without a measure or a target is refused by a CHECK on the JSON.
- A patient copy of a draft, or dated before the signature, is refused by a trigger.
- Goal progress is append-only.
"""

from django.db import migrations

from ccm.tenancy import append_only, composite_fk, rls_policy

TABLES = [
    "careplans_careplan",
    "careplans_careplanversion",
    "careplans_careplangoalprogress",
    "careplans_careplancopy",
    "careplans_careplandocument",
    "careplans_complexityattestation",
    "careplans_careplantemplate",
]

REFERENCES = [
    ("careplans_careplan", "patient_id", "patients_patient"),
    ("careplans_careplan", "created_by_id", "ccm_membership"),
    ("careplans_careplanversion", "care_plan_id", "careplans_careplan"),
    ("careplans_careplanversion", "based_on_id", "careplans_careplanversion"),
    ("careplans_careplanversion", "drafted_by_id", "ccm_membership"),
    ("careplans_careplanversion", "updated_by_id", "ccm_membership"),
    ("careplans_careplanversion", "submitted_by_id", "ccm_membership"),
    ("careplans_careplanversion", "signed_by_id", "ccm_membership"),
    ("careplans_careplangoalprogress", "version_id", "careplans_careplanversion"),
    ("careplans_careplangoalprogress", "recorded_by_id", "ccm_membership"),
    ("careplans_careplancopy", "version_id", "careplans_careplanversion"),
    ("careplans_careplancopy", "given_by_id", "ccm_membership"),
    ("careplans_careplandocument", "version_id", "careplans_careplanversion"),
    ("careplans_careplandocument", "requested_by_id", "ccm_membership"),
    ("careplans_complexityattestation", "patient_id", "patients_patient"),
    ("careplans_complexityattestation", "attested_by_id", "ccm_membership"),
    ("careplans_complexityattestation", "voided_by_id", "ccm_membership"),
    ("careplans_careplantemplate", "created_by_id", "ccm_membership"),
]

SIGNED_IS_FINAL = """
CREATE OR REPLACE FUNCTION careplans_version_signed_is_final() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'care-plan versions are never deleted' USING ERRCODE = 'raise_exception';
    END IF;
    IF OLD.status = 'signed' THEN
        RAISE EXCEPTION 'care-plan version % is signed and cannot change', OLD.number
            USING ERRCODE = 'raise_exception';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER careplans_version_signed_is_final
    BEFORE UPDATE OR DELETE ON careplans_careplanversion
    FOR EACH ROW EXECUTE FUNCTION careplans_version_signed_is_final();
"""

SIGNED_IS_FINAL_REVERSE = """
DROP TRIGGER IF EXISTS careplans_version_signed_is_final ON careplans_careplanversion;
DROP FUNCTION IF EXISTS careplans_version_signed_is_final();
"""

COPY_OF_SIGNED_VERSION = """
CREATE OR REPLACE FUNCTION careplans_copy_of_signed_version() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    version_status text;
    version_signed_on date;
BEGIN
    SELECT status, signed_on INTO version_status, version_signed_on
        FROM careplans_careplanversion
        WHERE id = NEW.version_id AND practice_id = NEW.practice_id;
    IF version_status IS DISTINCT FROM 'signed' THEN
        RAISE EXCEPTION 'a patient copy is given of a signed care-plan version only';
    END IF;
    IF NEW.given_on < version_signed_on THEN
        RAISE EXCEPTION 'a patient copy cannot predate the signature (%)', version_signed_on;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER careplans_copy_of_signed_version
    BEFORE INSERT OR UPDATE ON careplans_careplancopy
    FOR EACH ROW EXECUTE FUNCTION careplans_copy_of_signed_version();
"""

COPY_OF_SIGNED_VERSION_REVERSE = """
DROP TRIGGER IF EXISTS careplans_copy_of_signed_version ON careplans_careplancopy;
DROP FUNCTION IF EXISTS careplans_copy_of_signed_version();
"""

# Every goal has a non-empty measure and target (jsonpath: no element lacks either).
GOALS_MEASURABLE = """
ALTER TABLE careplans_careplanversion ADD CONSTRAINT care_plan_version_lists_are_arrays CHECK (
    jsonb_typeof(problems) = 'array'
    AND jsonb_typeof(goals) = 'array'
    AND jsonb_typeof(interventions) = 'array'
);
ALTER TABLE careplans_careplanversion ADD CONSTRAINT care_plan_version_goals_measurable CHECK (
    NOT jsonb_path_exists(
        goals,
        '$[*] ? (!exists(@.measure) || @.measure == "" || !exists(@.target) || @.target == "")'
    )
);
"""

GOALS_MEASURABLE_REVERSE = """
ALTER TABLE careplans_careplanversion DROP CONSTRAINT IF EXISTS care_plan_version_goals_measurable;
ALTER TABLE careplans_careplanversion DROP CONSTRAINT IF EXISTS care_plan_version_lists_are_arrays;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("careplans", "0001_initial"),
        ("ccm", "0002_row_level_security"),
        ("patients", "0002_row_level_security"),
    ]

    operations = [
        *(rls_policy(table) for table in TABLES),
        *(composite_fk(table, column, parent) for table, column, parent in REFERENCES),
        migrations.RunSQL(GOALS_MEASURABLE, reverse_sql=GOALS_MEASURABLE_REVERSE),
        migrations.RunSQL(SIGNED_IS_FINAL, reverse_sql=SIGNED_IS_FINAL_REVERSE),
        migrations.RunSQL(COPY_OF_SIGNED_VERSION, reverse_sql=COPY_OF_SIGNED_VERSION_REVERSE),
        append_only("careplans_careplangoalprogress"),
    ]
