"""``migrate`` as the tables' owner, then grant the app's role what it may do.

The app connects as a role that owns nothing (so FORCEd RLS binds it and it cannot alter
tables); migrations need the owner. With ``DATABASE_OWNER_URL`` set, this command connects as
the owner for the migration, then grants the app role (``DATABASE_APP_ROLE``) DML on every
table, minus UPDATE/DELETE/TRUNCATE on the audit log.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.commands.migrate import Command as MigrateCommand
from django.db import connections
from psycopg2 import sql

from ccm.management.owner import append_only_tables, as_owner


class Command(MigrateCommand):
    def handle(self, *args: Any, **options: Any) -> None:
        connection = connections[options["database"]]
        with as_owner(connection) as is_owner:
            super().handle(*args, **options)
            if is_owner and settings.DATABASE_APP_ROLE:
                self._grant(connection, settings.DATABASE_APP_ROLE)

    def _grant(self, connection: Any, role: str) -> None:
        role_id = sql.Identifier(role)
        statements = [
            sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role_id),
            sql.SQL(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}"
            ).format(role_id),
            sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(role_id),
            sql.SQL("GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {}").format(role_id),
        ]
        statements += [
            sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE ON {} FROM {}").format(
                sql.Identifier(table), role_id
            )
            for table in append_only_tables(connection)
        ]
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement.as_string(cursor.connection))
        if self.verbosity >= 1:
            self.stdout.write(f"Granted table privileges to role {role}.")
