"""Every practice-owned model keys on ``practice`` first and has a row-level-security policy.

``practice`` leads each unique constraint and composite index, so every key is per practice and
the schema can be sharded by practice (Citus) without a rewrite; and RLS is the fail-closed
layer under the code's ``for_practice()``.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from pathlib import Path

from django.db import connection, models
from django.test.utils import isolate_apps

from tests.security.isolation import model_label, practice_owned_models

REPO_ROOT = Path(__file__).resolve().parents[2]
PRACTICE_FIELDS = frozenset({"practice", "practice_id"})


def _where(model: type[models.Model]) -> str:
    """``patients/models.py:42 (Patient)``: where a model is declared."""
    source = Path(inspect.getsourcefile(model) or "?")
    line = inspect.getsourcelines(model)[1]
    shown = source.relative_to(REPO_ROOT) if source.is_relative_to(REPO_ROOT) else source
    return f"{shown.as_posix()}:{line} ({model_label(model)})"


def _first_key(fields: Sequence[str], expressions: Sequence[object]) -> str:
    if fields:
        return str(fields[0]).lstrip("-")
    first = expressions[0] if expressions else None
    return str(getattr(first, "name", first))


def practice_key_problems(model: type[models.Model]) -> list[str]:
    """Every unique constraint, unique_together and composite index not led by practice."""
    meta = model._meta
    problems = []
    for constraint in meta.constraints:
        if isinstance(constraint, models.UniqueConstraint):
            first = _first_key(constraint.fields, constraint.expressions)
            if first not in PRACTICE_FIELDS:
                problems.append(
                    f"{_where(model)}: UniqueConstraint {constraint.name!r} starts with "
                    f"{first!r}: put 'practice' first"
                )
    problems.extend(
        f"{_where(model)}: unique_together {tuple(together)} starts with {together[0]!r}: "
        "put 'practice' first"
        for together in meta.unique_together
        if together[0] not in PRACTICE_FIELDS
    )
    for index in meta.indexes:
        keys = len(index.fields) or len(index.expressions)
        first = _first_key(index.fields, index.expressions)
        if keys > 1 and first not in PRACTICE_FIELDS:
            problems.append(
                f"{_where(model)}: Index {index.name or index.fields!r} starts with {first!r}: "
                "put 'practice' first"
            )
    return problems


def test_practice_leads_every_unique_constraint_and_composite_index() -> None:
    # given
    owned = practice_owned_models()
    assert owned, "no practice-owned model found"
    # when
    problems = [problem for model in owned for problem in practice_key_problems(model)]
    # then
    assert problems == [], "\n".join(problems)


def test_every_practice_owned_table_has_a_row_level_security_policy(db: None) -> None:
    # given
    tables = {model._meta.db_table: model for model in practice_owned_models()}
    # when
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT tablename FROM pg_policies "
            "WHERE schemaname = current_schema() AND tablename = ANY(%s)",
            [list(tables)],
        )
        with_policy = {table for (table,) in cursor.fetchall()}
    # then
    missing = [
        f"{_where(model)}: table {table} has no RLS policy: add "
        f"rls_policy({table!r}) (ccm.tenancy) to a migration of its app"
        for table, model in sorted(tables.items())
        if table not in with_policy
    ]
    assert missing == [], "\n".join(missing)


def test_a_key_that_does_not_lead_with_practice_is_reported() -> None:
    # given a model whose keys do not all lead with practice
    with isolate_apps("ccm"):

        class Gadget(models.Model):
            practice = models.ForeignKey("ccm.Practice", on_delete=models.PROTECT)
            code = models.CharField(max_length=10)
            kind = models.CharField(max_length=10)

            class Meta:
                app_label = "ccm"
                constraints = [
                    models.UniqueConstraint(fields=["code"], name="gadget_code"),
                    models.UniqueConstraint(fields=["practice", "kind"], name="gadget_kind"),
                ]
                indexes = [
                    models.Index(fields=["kind", "practice"], name="gadget_kind_practice"),
                    models.Index(fields=["code"], name="gadget_code_only"),
                    models.Index(fields=["practice", "-code"], name="gadget_practice_code"),
                ]
                unique_together = [("code", "practice")]

            def __str__(self) -> str:
                return self.code

        # when
        problems = practice_key_problems(Gadget)
    # then
    where = (
        "tests/architecture/test_practice_owned_models.py:"
        f"{inspect.getsourcelines(Gadget)[1]} (ccm.Gadget)"
    )
    assert problems == [
        f"{where}: UniqueConstraint 'gadget_code' starts with 'code': put 'practice' first",
        f"{where}: unique_together ('code', 'practice') starts with 'code': put 'practice' first",
        f"{where}: Index 'gadget_kind_practice' starts with 'kind': put 'practice' first",
    ]
