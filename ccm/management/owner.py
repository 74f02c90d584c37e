"""Connect a Django connection as the tables' owner for the length of a block.

The app's role owns nothing (so FORCEd RLS binds it); schema changes and test-database
housekeeping need the owner, whose URL is ``DATABASE_OWNER_URL``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dj_database_url
from django.conf import settings

APPEND_ONLY_TRIGGER_SUFFIX = "_no_truncate"


def append_only_tables(connection: Any) -> list[str]:
    """Tables made append-only by ``ccm.tenancy.append_only`` (found by their trigger)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal AND t.tgname = c.relname || %s ORDER BY 1",
            [APPEND_ONLY_TRIGGER_SUFFIX],
        )
        return [row[0] for row in cursor.fetchall()]


@contextmanager
def as_owner(connection: Any) -> Iterator[bool]:
    """Yield True when the block runs as the owner, False when no owner URL is configured."""
    owner_url = settings.DATABASE_OWNER_URL
    if not owner_url:
        yield False
        return
    original = dict(connection.settings_dict)
    owner = dj_database_url.parse(owner_url)
    connection.close()
    for key in ("USER", "PASSWORD", "HOST", "PORT"):
        connection.settings_dict[key] = owner.get(key)
    try:
        yield True
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(original)
