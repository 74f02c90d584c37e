"""The app code keeps the house rules of ``code_rules``; and each rule fires on a bad snippet."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.apps import apps

from ccm.tenancy import PracticeOwned
from tests.architecture.code_rules import RULES, Context, app_modules, check_source

REPO_ROOT = Path(__file__).resolve().parents[2]
SNIPPET_MODELS = Context(frozenset({"Patient", "Membership", "AuditLog", "TimeEntry"}))


@pytest.fixture(scope="module")
def context() -> Context:
    return Context(
        frozenset(model.__name__ for model in apps.get_models() if issubclass(model, PracticeOwned))
    )


@pytest.mark.parametrize("rule", sorted(RULES))
def test_app_code_keeps_the_rule(rule: str, context: Context) -> None:
    # given every module of the apps, migrations and tests aside
    modules = app_modules(REPO_ROOT)
    assert any(module.name == "tenancy.py" for module in modules)
    # when
    violations = [
        violation
        for module in modules
        for violation in check_source(
            module.read_text(encoding="utf-8"),
            module.relative_to(REPO_ROOT).as_posix(),
            rule,
            context,
        )
    ]
    # then
    assert violations == [], "\n".join(str(violation) for violation in violations)


def _lines(rule: str, source: str, path: str = "patients/views.py") -> list[int]:
    return [violation.line for violation in check_source(source, path, rule, SNIPPET_MODELS)]


@pytest.mark.parametrize(
    ("source", "path", "lines"),
    [
        ("from patients.models import Patient\nPatient.objects.filter(mrn='1')\n", None, [2]),
        ("from ccm.models import Membership as M\nM.objects.all()\n", None, [2]),
        ("from ccm import models\nmodels.AuditLog._default_manager.count()\n", None, [2]),
        ("TimeEntry._base_manager.get(pk=1)\n", "timetracking/api.py", [1]),
        ("Patient.objects.for_practice(p)\n", "billing/reports.py", [1]),
        ("Patient.objects.for_practice(p)\n", "patients/selectors.py", []),
        ("Patient.objects.for_practice(p)\n", "patients/services/consent.py", []),
        ("Patient.objects.for_practice(p)\n", "billing/facts.py", []),
        ("AuditLog.objects.create(practice=p)\n", "ccm/audit.py", []),
        ("Practice.objects.filter(slug='x')\n", None, []),
    ],
)
def test_practice_owned_manager_rule(source: str, path: str | None, lines: list[int]) -> None:
    assert _lines("practice-owned-manager", source, path or "patients/views.py") == lines


@pytest.mark.parametrize(
    ("source", "lines"),
    [
        ("def f():\n    send_report.delay(practice_id=1)\n", [2]),
        ("with transaction.atomic():\n    task.apply_async(kwargs={})\n", [2]),
        ("transaction.on_commit(lambda: send_report.delay(practice_id=1))\n", []),
        ("on_commit(func=lambda: task.apply_async(kwargs={}))\n", []),
        ("def _enqueue():\n    task.delay()\n\ntransaction.on_commit(_enqueue)\n", []),
        ("transaction.on_commit(partial(task.delay, practice_id=1))\n", []),
    ],
)
def test_enqueue_outside_on_commit_rule(source: str, lines: list[int]) -> None:
    assert _lines("enqueue-outside-on-commit", source) == lines


@pytest.mark.parametrize(
    ("source", "lines"),
    [
        ("from django.db.models.signals import post_save\n", [1]),
        (
            "from django.dispatch import receiver\n"
            "@receiver(post_save, sender=Patient)\n"
            "def audit(**kwargs): ...\n",
            [1, 2],
        ),
        ("from django.db.models import signals\nsignals.pre_save.connect(handler)\n", [2]),
        ("import django.db.models.signals\n", [1]),
        ("from allauth.account.signals import user_signed_up\n", [1]),
        ("from django.db.models import signals as s\ns.post_delete.connect(h)\n", [2]),
        ("from celery.signals import worker_process_init\n", []),
        ("connection = psycopg2.connect(dsn)\n", []),
    ],
)
def test_django_signal_rule(source: str, lines: list[int]) -> None:
    assert _lines("django-signal", source) == lines


@pytest.mark.parametrize(
    ("source", "lines"),
    [
        ("from datetime import datetime, date\nx = datetime.now()\ny = date.today()\n", [2, 3]),
        ("import datetime as dt\nstamp = dt.datetime.utcnow()\n", [2]),
        ("import datetime\nday = datetime.date.today()\n", [2]),
        ("from datetime import datetime as DateTime\nDateTime.now(tz=UTC)\n", [2]),
        ("from django.utils import timezone\ntimezone.now()\ntimezone.localdate()\n", []),
    ],
)
def test_naive_now_rule(source: str, lines: list[int]) -> None:
    assert _lines("naive-now", source) == lines


@pytest.mark.parametrize(
    ("source", "lines"),
    [
        ("if qs.count() == 0:\n    pass\n", [1]),
        ("empty = 0 == qs.count()\n", [1]),
        ("assert 0 < qs.count()\n", [1]),
        ("found = qs.count() >= 1\n", [1]),
        ("missing = not qs.count()\n", [1]),
        ("single = qs.count() == 1\n", []),
        ("none_of_them = names.count('x') == 0\n", []),
        ("found = qs.exists()\n", []),
    ],
)
def test_count_for_emptiness_rule(source: str, lines: list[int]) -> None:
    assert _lines("count-for-emptiness", source) == lines


@pytest.mark.parametrize(
    ("source", "lines"),
    [
        ("rows = qs.select_related()\n", [1]),
        ("rows = qs.select_related('user', 'practice')\n", []),
    ],
)
def test_bare_select_related_rule(source: str, lines: list[int]) -> None:
    assert _lines("bare-select-related", source) == lines


@pytest.mark.parametrize(
    ("source", "lines"),
    [
        ("Patient.objects.filter(mrn='1').delete()\n", [1]),
        ("Membership.objects.for_practice(p).delete()\n", [1]),
        ("TimeEntry.objects.all()[:5].delete()\n", [1]),
        ("entries.for_practice(p).filter(voided=False).delete()\n", [1]),
        ("Practice.objects.filter(pk=1).delete()\n", []),
        ("cache.delete('key')\n", []),
    ],
)
def test_queryset_delete_rule(source: str, lines: list[int]) -> None:
    assert _lines("queryset-delete", source, "patients/services.py") == lines


def test_a_violation_names_file_line_and_rule() -> None:
    # given
    source = "from datetime import date\n\nstarted = date.today()\n"
    # when
    (violation,) = check_source(source, "patients/views.py", "naive-now", SNIPPET_MODELS)
    # then
    assert str(violation) == (
        "patients/views.py:3: [naive-now] date.today(): use django.utils.timezone.now() or "
        "timezone.localdate() (aware, and frozen by time_machine in tests)"
    )
