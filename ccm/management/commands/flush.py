"""``flush`` as the owner; append-only tables are emptied only where settings allow it.

Transactional tests end with a flush (TRUNCATE of every table). The app's role may not
truncate append-only tables (the audit log, histories) and their trigger refuses TRUNCATE for
everyone, so under test settings (``ALLOW_AUDIT_LOG_FLUSH``) the owner lifts those triggers
for the flush. Anywhere else the append-only tables are left out and keep every row.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.commands.flush import Command as FlushCommand
from django.db import connections
from psycopg2 import sql

from ccm.management.owner import APPEND_ONLY_TRIGGER_SUFFIX, append_only_tables, as_owner


def _toggle(connection: Any, tables: list[str], action: str) -> None:
    with connection.cursor() as cursor:
        for table in tables:
            statement = sql.SQL("ALTER TABLE {} {} TRIGGER {}").format(
                sql.Identifier(table),
                sql.SQL(action),
                sql.Identifier(table + APPEND_ONLY_TRIGGER_SUFFIX),
            )
            cursor.execute(statement.as_string(cursor.connection))


class Command(FlushCommand):
    def handle(self, **options: Any) -> None:
        connection = connections[options["database"]]
        with as_owner(connection) as is_owner:
            protected = append_only_tables(connection)
            if is_owner and getattr(settings, "ALLOW_AUDIT_LOG_FLUSH", False):
                _toggle(connection, protected, "DISABLE")
                try:
                    super().handle(**options)
                finally:
                    _toggle(connection, protected, "ENABLE")
                return
            tables = [
                table
                for table in connection.introspection.django_table_names(
                    only_existing=True, include_views=False
                )
                if table not in protected
            ]
            connection.ops.execute_sql_flush(
                connection.ops.sql_flush(self.style, tables, allow_cascade=True)
            )
