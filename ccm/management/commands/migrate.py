"""``migrate`` as the tables' owner, then grant the app's role what it may do.

The app connects as a role that owns nothing (so FORCEd RLS binds it and it cannot alter
tables); migrations need the owner. With ``DATABASE_OWNER_URL`` set, this command connects as
the owner for the migration, then grants the app role (``DATABASE_APP_ROLE``) DML on every
table, minus UPDATE/DELETE/TRUNCATE on the audit log.
"""

from __future__ import annotations

from typing import Any

import dj_database_url
from django.conf import settings
from django.core.management.commands.migrate import Command as MigrateCommand
from django.db import connections
from psycopg2 import sql

APPEND_ONLY_TABLES = ("ccm_auditlog",)


class Command(MigrateCommand):
    def handle(self, *args: Any, **options: Any) -> None:
        alias = options["database"]
        connection = connections[alias]
        original = dict(connection.settings_dict)
        owner_url = settings.DATABASE_OWNER_URL
        if owner_url:
            owner = dj_database_url.parse(owner_url)
            connection.close()
            for key in ("USER", "PASSWORD", "HOST", "PORT"):
                connection.settings_dict[key] = owner.get(key)
        try:
            super().handle(*args, **options)
            if owner_url and settings.DATABASE_APP_ROLE:
                self._grant(connection, settings.DATABASE_APP_ROLE)
        finally:
            if owner_url:
                connection.close()
                connection.settings_dict.clear()
                connection.settings_dict.update(original)

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
            for table in APPEND_ONLY_TABLES
        ]
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
        if self.verbosity >= 1:
            self.stdout.write(f"Granted table privileges to role {role}.")
