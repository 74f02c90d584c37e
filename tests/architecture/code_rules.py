"""AST rules over the app code: the house conventions that a linter cannot express.

Each rule is a function ``(tree, path, context) -> list[Violation]`` over one module, so that the
tests can run it over the app code and over small inline snippets alike. ``path`` is the
module's path relative to the repository root, with forward slashes (``patients/views.py``).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

APP_PACKAGES = ("ccm", "patients", "careplans", "timetracking", "billing")

MANAGER_ATTRIBUTES = frozenset({"objects", "_default_manager", "_base_manager"})
# Modules that may open a practice-owned model's manager (they scope it with for_practice()).
SCOPING_MODULE_NAMES = frozenset({"selectors.py", "services.py"})
SCOPING_PACKAGE_NAMES = frozenset({"selectors", "services"})
SCOPING_MODULE_PATHS = frozenset({"billing/facts.py", "ccm/tenancy.py", "ccm/audit.py"})
ENQUEUE_METHODS = frozenset({"delay", "apply_async"})
DJANGO_SIGNALS = frozenset(
    {
        "pre_init",
        "post_init",
        "pre_save",
        "post_save",
        "pre_delete",
        "post_delete",
        "m2m_changed",
        "pre_migrate",
        "post_migrate",
        "class_prepared",
        "request_started",
        "request_finished",
        "got_request_exception",
        "setting_changed",
        "user_logged_in",
        "user_logged_out",
        "user_login_failed",
    }
)
NOW_METHODS = frozenset({"now", "utcnow", "today"})


@dataclass(frozen=True, order=True)
class Violation:
    path: str
    line: int
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: [{self.rule}] {self.message}"


@dataclass(frozen=True)
class Context:
    """What a rule needs beyond the module: the names of the practice-owned models."""

    practice_owned_models: frozenset[str] = field(default_factory=frozenset)


Rule = Callable[[ast.Module, str, Context], list[Violation]]


def dotted(node: ast.AST) -> str:
    """``a.b.c`` for a Name/Attribute chain, else ``""``."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr}" if base else ""
    return ""


def imported_aliases(tree: ast.Module) -> dict[str, str]:
    """Local name -> imported name, for ``from x import Name as Alias``."""
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                aliases[alias.asname or alias.name] = alias.name
    return aliases


def _model_name(node: ast.AST, aliases: dict[str, str], models: frozenset[str]) -> str | None:
    """The practice-owned model a ``Model`` / ``module.Model`` expression names, if any."""
    if isinstance(node, ast.Name):
        name = aliases.get(node.id, node.id)
    elif isinstance(node, ast.Attribute):
        name = node.attr
    else:
        return None
    return name if name in models else None


def is_scoping_module(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return (
        parts[-1] in SCOPING_MODULE_NAMES
        or bool(SCOPING_PACKAGE_NAMES.intersection(parts[:-1]))
        or path in SCOPING_MODULE_PATHS
    )


# --- Rules ------------------------------------------------------------------------------------


def practice_owned_manager_outside_selectors(
    tree: ast.Module, path: str, context: Context
) -> list[Violation]:
    """``<PracticeOwnedModel>.objects`` only in selectors, services, facts, tenancy and audit."""
    if is_scoping_module(path):
        return []
    aliases = imported_aliases(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in MANAGER_ATTRIBUTES:
            model = _model_name(node.value, aliases, context.practice_owned_models)
            if model:
                found.append(
                    Violation(
                        path,
                        node.lineno,
                        "practice-owned-manager",
                        f"{model}.{node.attr} outside selectors/services: read practice data "
                        "through a selector and change it through a service, which scope it "
                        "with for_practice(practice)",
                    )
                )
    return found


def _on_commit_callbacks(tree: ast.Module) -> Iterator[ast.AST]:
    """The callables handed to ``on_commit(...)``: lambdas, partials, and named functions."""
    functions: dict[str, list[ast.AST]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            functions.setdefault(node.name, []).append(node)
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and dotted(node.func).split(".")[-1] == "on_commit"):
            continue
        callbacks = [*node.args[:1], *(k.value for k in node.keywords if k.arg == "func")]
        for callback in callbacks:
            if isinstance(callback, ast.Name | ast.Attribute):
                yield from functions.get(dotted(callback).split(".")[-1], [])
            else:
                yield callback


def enqueue_outside_on_commit(tree: ast.Module, path: str, context: Context) -> list[Violation]:
    """``task.delay(...)``/``apply_async(...)`` only inside a callable passed to on_commit."""
    deferred = {
        id(inner) for callback in _on_commit_callbacks(tree) for inner in ast.walk(callback)
    }
    return [
        Violation(
            path,
            node.lineno,
            "enqueue-outside-on-commit",
            f"{dotted(node.func) or node.func.attr}(...) outside transaction.on_commit: a task "
            "enqueued inside a transaction can run before the commit, or after a rollback; "
            "write transaction.on_commit(lambda: task.delay(...))",
        )
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ENQUEUE_METHODS
        and id(node) not in deferred
    ]


def _is_signals_module(module: str) -> bool:
    parts = module.split(".")
    # Celery's worker signals are process hooks, not Django's model/request signals.
    return module == "django.dispatch" or ("signals" in parts and parts[0] != "celery")


def _signal_imports_and_receivers(tree: ast.Module) -> tuple[list[tuple[ast.AST, str]], set[str]]:
    """Signal imports and ``@receiver`` decorators, and the local names of imported signals."""
    found: list[tuple[ast.AST, str]] = []
    names = set(DJANGO_SIGNALS)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and _is_signals_module(node.module or ""):
            names.update(alias.asname or alias.name for alias in node.names)
            found.append((node, f"imports from {node.module}"))
        elif isinstance(node, ast.Import):
            found.extend(
                (node, f"imports {alias.name}")
                for alias in node.names
                if _is_signals_module(alias.name)
            )
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                if dotted(target).split(".")[-1] == "receiver":
                    found.append((decorator, f"@receiver on {node.name}"))
    return found, names


def _signal_uses(tree: ast.Module, signal_names: set[str]) -> Iterator[tuple[ast.AST, str]]:
    """``signal.connect(...)``/``.send(...)``, and any mention of a Django signal by name."""
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"connect", "send", "send_robust"}
        ):
            receiver = dotted(node.func.value).split(".")
            via_signals_module = "signals" in receiver and receiver[0] != "celery"
            if signal_names.intersection(receiver) or via_signals_module:
                yield node, f"{'.'.join(receiver)}.{node.func.attr}(...)"
        elif isinstance(node, ast.Name | ast.Attribute):
            name = node.id if isinstance(node, ast.Name) else node.attr
            if name in DJANGO_SIGNALS:
                yield node, f"uses the signal {name}"


def django_signals(tree: ast.Module, path: str, context: Context) -> list[Violation]:
    """No Django signals: no receivers, no ``.connect()``, no signal imports."""
    hint = "write the side effect explicitly in the service (no signals in app code)"
    declared, signal_names = _signal_imports_and_receivers(tree)
    found: dict[int, Violation] = {}
    for node, what in [*declared, *_signal_uses(tree, signal_names)]:
        line = getattr(node, "lineno", 0)
        found.setdefault(line, Violation(path, line, "django-signal", f"{what}: {hint}"))
    return sorted(found.values())


def _datetime_names(tree: ast.Module) -> tuple[set[str], set[str]]:
    """Local names of the ``datetime``/``date`` classes, and of the ``datetime`` module."""
    classes, modules = {"datetime", "date"}, {"datetime"}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "datetime":
            classes.update(
                alias.asname or alias.name
                for alias in node.names
                if alias.name in {"datetime", "date"}
            )
        elif isinstance(node, ast.Import):
            modules.update(
                alias.asname or alias.name for alias in node.names if alias.name == "datetime"
            )
    return classes, modules


def naive_now(tree: ast.Module, path: str, context: Context) -> list[Violation]:
    """No ``datetime.now()``/``utcnow()``/``date.today()``: use ``django.utils.timezone``."""
    classes, modules = _datetime_names(tree)
    found = []
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in NOW_METHODS
        ):
            continue
        owner = node.func.value
        is_class = isinstance(owner, ast.Name) and owner.id in classes
        is_module_class = (
            isinstance(owner, ast.Attribute)
            and owner.attr in {"datetime", "date"}
            and isinstance(owner.value, ast.Name)
            and owner.value.id in modules
        )
        if is_class or is_module_class:
            found.append(
                Violation(
                    path,
                    node.lineno,
                    "naive-now",
                    f"{dotted(node.func)}(): use django.utils.timezone.now() or "
                    "timezone.localdate() (aware, and frozen by time_machine in tests)",
                )
            )
    return found


def _is_count_call(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "count"
        and not node.args
        and not node.keywords
    )


# count() OP constant, for the constants and operators that ask "is it empty?".
_EMPTINESS = {
    0: (ast.Eq, ast.NotEq, ast.Gt, ast.LtE, ast.Lt, ast.GtE),
    1: (ast.Lt, ast.GtE),
}
_MIRRORED: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Eq: ast.Eq,
    ast.NotEq: ast.NotEq,
    ast.Gt: ast.Lt,
    ast.Lt: ast.Gt,
    ast.GtE: ast.LtE,
    ast.LtE: ast.GtE,
}


def _asks_emptiness(count_side_left: bool, op: ast.cmpop, constant: ast.AST) -> bool:
    value = constant.value if isinstance(constant, ast.Constant) else None
    if not isinstance(value, int) or value not in _EMPTINESS:
        return False
    kind = type(op) if count_side_left else _MIRRORED.get(type(op), type(op))
    return kind in _EMPTINESS[value]


def count_for_emptiness(tree: ast.Module, path: str, context: Context) -> list[Violation]:
    """``qs.count() == 0`` (and friends) counts every row to answer yes or no: use exists()."""
    found = []
    for node in ast.walk(tree):
        hit = False
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            left, right, op = node.left, node.comparators[0], node.ops[0]
            hit = (_is_count_call(left) and _asks_emptiness(True, op, right)) or (
                _is_count_call(right) and _asks_emptiness(False, op, left)
            )
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            hit = _is_count_call(node.operand)
        if hit:
            found.append(
                Violation(
                    path,
                    getattr(node, "lineno", 0),
                    "count-for-emptiness",
                    f"{ast.unparse(node)}: use .exists() (a count scans every row)",
                )
            )
    return found


def bare_select_related(tree: ast.Module, path: str, context: Context) -> list[Violation]:
    """``select_related()`` without fields follows every non-null foreign key: name them."""
    return [
        Violation(
            path,
            node.lineno,
            "bare-select-related",
            "select_related() with no fields joins every foreign key chain: name the relations",
        )
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "select_related"
        and not node.args
        and not node.keywords
    ]


def _queryset_chain(node: ast.AST) -> tuple[list[str], ast.AST]:
    """The attribute names along ``Model.objects.filter(...).x`` and the chain's root."""
    attributes = []
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Subscript):
            node = node.value
        elif isinstance(node, ast.Attribute):
            attributes.append(node.attr)
            if node.attr in MANAGER_ATTRIBUTES:
                return attributes, node.value
            node = node.value
        else:
            return attributes, node


def queryset_delete(tree: ast.Module, path: str, context: Context) -> list[Violation]:
    """No ``.delete()`` on a practice-owned queryset: such rows are voided, never deleted."""
    aliases = imported_aliases(tree)
    found = []
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "delete"
        ):
            continue
        attributes, root = _queryset_chain(node.func.value)
        model = _model_name(root, aliases, context.practice_owned_models)
        through_manager = bool(MANAGER_ATTRIBUTES.intersection(attributes))
        if (model and through_manager) or "for_practice" in attributes:
            what = model or "a practice-owned"
            found.append(
                Violation(
                    path,
                    node.lineno,
                    "queryset-delete",
                    f"{what} queryset .delete(): practice data is never hard-deleted; void or "
                    "archive it through a service",
                )
            )
    return found


RULES: dict[str, Rule] = {
    "practice-owned-manager": practice_owned_manager_outside_selectors,
    "enqueue-outside-on-commit": enqueue_outside_on_commit,
    "django-signal": django_signals,
    "naive-now": naive_now,
    "count-for-emptiness": count_for_emptiness,
    "bare-select-related": bare_select_related,
    "queryset-delete": queryset_delete,
}


def check_source(source: str, path: str, rule: str, context: Context) -> list[Violation]:
    return RULES[rule](ast.parse(source, filename=path), path, context)


def app_modules(root: Path) -> list[Path]:
    """Every module of the app packages, except migrations and tests."""
    return sorted(
        module
        for package in APP_PACKAGES
        for module in (root / package).rglob("*.py")
        if not {"migrations", "tests", "__pycache__"}.intersection(module.relative_to(root).parts)
    )
