from django.db import migrations

from ccm.tenancy import CURRENT_PRACTICE_FUNCTION_SQL, append_only, rls_policy


class Migration(migrations.Migration):
    dependencies = [("ccm", "0001_initial")]

    operations = [
        migrations.RunSQL(
            CURRENT_PRACTICE_FUNCTION_SQL,
            reverse_sql="DROP FUNCTION IF EXISTS ccm_current_practice(); "
            "DROP FUNCTION IF EXISTS ccm_current_user();",
        ),
        # A user's own memberships are visible before a practice is chosen (the chooser).
        rls_policy("ccm_membership", extra_using="user_id = ccm_current_user()"),
        rls_policy("ccm_auditlog"),
        append_only("ccm_auditlog"),
    ]
