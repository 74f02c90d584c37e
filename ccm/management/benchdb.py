"""Throwaway databases for the benchmark commands (``bench_timetracking``, ``bench_month_close``).

Created as the tables' owner (``DATABASE_OWNER_URL``), the default connection pointed at them
for the block, and dropped afterwards.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dj_database_url
import psycopg2
from django.conf import settings
from django.core.management.base import CommandError
from django.db import connections
from psycopg2 import sql


def owner_connection(database: str = "postgres") -> Any:
    owner = dj_database_url.parse(settings.DATABASE_OWNER_URL)
    admin = psycopg2.connect(
        dbname=database,
        user=owner["USER"],
        password=owner["PASSWORD"],
        host=owner["HOST"],
        port=owner["PORT"] or 5432,
    )
    admin.autocommit = True
    return admin


def analyze(database: str) -> None:
    """Planner statistics for the bulk-loaded tables, as autovacuum would gather them in
    production (only the owner may ANALYZE; without statistics the worklist's joins are
    planned as nested loops over "one row")."""
    owner = owner_connection(database)
    try:
        with owner.cursor() as cursor:
            cursor.execute("ANALYZE")
    finally:
        owner.close()


@contextmanager
def throwaway_database(name: str) -> Iterator[None]:
    """Create ``name`` as the owner, point the default connection at it, drop it afterwards."""
    admin = owner_connection()
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    default = connections["default"]
    original = default.settings_dict["NAME"]
    connections.close_all()
    default.settings_dict["NAME"] = name
    settings.DATABASES["default"]["NAME"] = name
    try:
        yield
    finally:
        connections.close_all()
        default.settings_dict["NAME"] = original
        settings.DATABASES["default"]["NAME"] = original
        drop_database(admin, name)
        admin.close()


def drop_database(admin: Any, name: str) -> None:
    """Drop the database once the app role's sessions are gone (the owner cannot end them)."""
    statement = sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name))
    for _ in range(50):
        try:
            with admin.cursor() as cursor:
                cursor.execute(statement)
        except psycopg2.errors.InsufficientPrivilege:
            time.sleep(0.2)  # a closed connection's backend is still exiting
        else:
            return
    raise CommandError(f"Could not drop {name}: sessions of another role are still connected.")
