"""Tenancy core: every practice's rows live in one schema, tagged ``practice_id``.

Three layers keep one practice out of another's data:

1. code reaches practice data only through ``Model.objects.for_practice(practice)`` inside
   selectors and services (an architecture test enforces this);
2. every request, API call, task and command runs inside ``practice_context(practice_id)``,
   which opens a transaction and sets ``ccm.practice_id`` for it (``SET LOCAL``);
3. PostgreSQL row-level security, FORCEd, on every practice-owned table: a forgotten filter
   returns nothing instead of another practice's rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import connection, migrations, models, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

if TYPE_CHECKING:
    from ccm.models import Membership, Practice

PRACTICE_SETTING = "ccm.practice_id"
USER_SETTING = "ccm.user_id"
SESSION_PRACTICE_KEY = "ccm_practice"

_M = TypeVar("_M", bound=models.Model)


class HardDeleteRefusedError(Exception):
    """Clinical and billing rows are corrected or voided, never deleted."""


class PracticeQuerySet(models.QuerySet[_M]):
    """The only door to practice data: ``Model.objects.for_practice(practice)``."""

    def for_practice(self, practice: Practice | int) -> PracticeQuerySet[_M]:
        practice_id = practice if isinstance(practice, int) else practice.pk
        return self.filter(practice_id=practice_id)

    def delete(self) -> tuple[int, dict[str, int]]:
        raise HardDeleteRefusedError(f"{self.model.__name__} rows are never deleted")


class PracticeOwned(models.Model):
    """Abstract base of every practice-owned table.

    ``practice`` leads every composite index and unique constraint of the concrete model, and
    the model's migration adds a FORCEd RLS policy with ``rls_policy()``. ``public_id`` is what
    URLs and the API show; integer primary keys never leave the server.
    """

    practice = models.ForeignKey("ccm.Practice", on_delete=models.PROTECT, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)

    objects: Any = PracticeQuerySet.as_manager()

    class Meta:
        abstract = True

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise HardDeleteRefusedError(f"{type(self).__name__} rows are never deleted")


_SWAP_SQL = (
    "SELECT current_setting(%s, true), current_setting(%s, true), "
    "set_config(%s, %s, true), set_config(%s, %s, true)"
)


def _swap(practice: str, user: str) -> tuple[str, str]:
    """Set both settings for this transaction in one round trip; return the previous values."""
    with connection.cursor() as cursor:
        cursor.execute(
            _SWAP_SQL,
            [PRACTICE_SETTING, USER_SETTING, PRACTICE_SETTING, practice, USER_SETTING, user],
        )
        previous_practice, previous_user, _, _ = cursor.fetchone()
    return str(previous_practice or ""), str(previous_user or "")


def _text(value: int | None) -> str:
    return "" if value is None else str(value)


@contextmanager
def practice_context(practice_id: int | None, *, user_id: int | None = None) -> Iterator[None]:
    """Run the block in a transaction where RLS shows only ``practice_id``'s rows.

    ``set_config(..., true)`` lasts until the end of the *outermost* transaction, so on the way
    out of a nested context the previous values are restored: a nested or sequential context
    (tests, a task that runs inside a request) never leaks its practice into the code that
    follows. The outermost context needs no restore: its COMMIT or ROLLBACK ends the settings.
    """
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        previous = _swap(_text(practice_id), _text(user_id))
        yield
        if outermost or transaction.get_rollback():
            return
        _swap(*previous)


def switch_practice(practice_id: int) -> None:
    """Inside an open ``practice_context``: admit ``practice_id``'s rows from here on.

    For the middleware and the API base, which learn the practice only after reading the
    user's memberships in the same transaction; the enclosing context restores on exit.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("switch_practice() needs an open practice_context()")
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, true)", [PRACTICE_SETTING, str(practice_id)])


def current_practice_id() -> int | None:
    """The practice RLS currently admits (for assertions and diagnostics, not for scoping)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT NULLIF(current_setting(%s, true), '')", [PRACTICE_SETTING])
        value = cursor.fetchone()[0]
    return None if value is None else int(value)


def memberships_of(user_id: int) -> list[Membership]:
    """The user's active memberships, practice loaded (needs ``ccm.user_id`` set for RLS)."""
    from ccm.models import Membership  # noqa: PLC0415  (models import this module)

    return list(
        Membership.objects.filter(user_id=user_id, is_active=True, practice__is_active=True)
        .select_related("practice")
        .order_by("practice__name", "id")
    )


def choose_membership(memberships: list[Membership], chosen: str | None) -> Membership | None:
    """The session's chosen practice if it is still one of the user's, else the only one."""
    for membership in memberships:
        if chosen and str(membership.practice.public_id) == chosen:
            return membership
    if len(memberships) == 1:
        return memberships[0]
    return None


class PracticeMiddleware:
    """Resolve ``request.membership`` / ``request.practice`` and run the view in their context.

    Runs after authentication. It opens the request's transaction (there is no
    ``ATOMIC_REQUESTS``) so the ``SET LOCAL`` of the practice holds for the whole view, and
    rolls it back for any 4xx/5xx response: a refused request changes nothing.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.membership = None  # type: ignore[attr-defined]
        request.practice = None  # type: ignore[attr-defined]
        request.memberships = []  # type: ignore[attr-defined]
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        with practice_context(None, user_id=user.pk):
            memberships = memberships_of(user.pk)
            membership = choose_membership(memberships, request.session.get(SESSION_PRACTICE_KEY))
            request.memberships = memberships  # type: ignore[attr-defined]
            if membership is None:
                return _finish(self.get_response(request))
            request.membership = membership  # type: ignore[attr-defined]
            request.practice = membership.practice  # type: ignore[attr-defined]
            switch_practice(membership.practice_id)
            # Pages show times in the practice's zone, the one its months are counted in.
            with timezone.override(membership.practice.tz):
                return _finish(self.get_response(request))


def _finish(response: HttpResponse) -> HttpResponse:
    if response.status_code >= 400:  # noqa: PLR2004
        transaction.set_rollback(True)
    return response


# --- Migration helpers ----------------------------------------------------------------------
# Used by migrations (they import only these functions, never models).

CURRENT_PRACTICE_FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION ccm_current_practice() RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT NULLIF(current_setting('ccm.practice_id', true), '')::bigint $$;
CREATE OR REPLACE FUNCTION ccm_current_user() RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT NULLIF(current_setting('ccm.user_id', true), '')::bigint $$;
"""


def rls_policy(table: str, *, extra_using: str = "") -> migrations.RunSQL:
    """A FORCEd row-level-security policy: rows of the current practice only.

    FORCE makes it hold for the table owner too; the app's role is neither owner nor
    superuser, so nothing but ``practice_context`` opens a table.
    """
    using = "practice_id = ccm_current_practice()"
    if extra_using:
        using = f"({using}) OR ({extra_using})"
    return migrations.RunSQL(
        sql=[
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
            f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
            f"CREATE POLICY practice_isolation ON {table} USING ({using}) "
            "WITH CHECK (practice_id = ccm_current_practice())",
        ],
        reverse_sql=[
            f"DROP POLICY IF EXISTS practice_isolation ON {table}",
            f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY",
            f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY",
        ],
    )


def composite_fk(table: str, column: str, parent_table: str) -> migrations.RunSQL:
    """``FOREIGN KEY (practice_id, column) REFERENCES parent (practice_id, id)``.

    The parent needs ``UniqueConstraint(fields=["practice", "id"])``. The database then makes a
    reference to another practice's row impossible, whatever the code does.
    """
    name = f"{table}_{column}_same_practice"[:63]
    return migrations.RunSQL(
        sql=(
            f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY (practice_id, {column}) "
            f"REFERENCES {parent_table} (practice_id, id) DEFERRABLE INITIALLY DEFERRED"
        ),
        reverse_sql=f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}",
    )


def append_only(table: str) -> migrations.RunSQL:
    """Refuse UPDATE, DELETE and TRUNCATE on ``table`` for every role, owner included."""
    function = f"{table}_append_only"
    return migrations.RunSQL(
        sql=[
            f"""CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS
            $$ BEGIN RAISE EXCEPTION '{table} is append-only'; END $$""",
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {function}()",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        ],
        reverse_sql=[
            f"DROP TRIGGER IF EXISTS {table}_no_update ON {table}",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
            f"DROP FUNCTION IF EXISTS {function}()",
        ],
    )
