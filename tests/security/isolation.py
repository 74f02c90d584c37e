"""Helpers of the tenant-isolation matrix: the project's URLs, rows in two practices, snapshots.

Conventions the matrix relies on (each one fails loudly when broken, with what to do):

- A UUID path parameter carries the ``public_id`` of the model it is named after, in snake
  case: ``<uuid:membership>``, ``<uuid:patient>``, ``<uuid:care_plan>``, ``<uuid:time_entry>``
  (``<uuid:practice>`` carries a ``Practice``'s public id).
- Any other path parameter gets a sample value from ``SAMPLE_PATH_VALUES``, by name.
- Every concrete practice-owned model can be created in a given practice: by
  ``OTHER_PRACTICE_OBJECT_FACTORIES`` (model label -> ``callable(practice) -> saved row``), or
  else by the factory of ``tests/factories.py`` whose ``Meta.model`` is the model, called as
  ``Factory(practice=practice)`` inside that practice's context.
- Every project URL has a name (the matrix builds URLs with ``reverse``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import factory.django
from django.apps import apps
from django.db import models
from django.http import HttpResponseBase
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.converters import UUIDConverter
from django.urls.resolvers import RoutePattern

from ccm.audit import AuditEvent, audit_record
from ccm.models import Practice
from ccm.tenancy import PracticeOwned
from ccm.tenancy import practice_context as honest_practice_context
from tests import factories

PROJECT_PACKAGES = frozenset({"ccm", "patients", "careplans", "timetracking", "billing"})
API_PREFIX = "/api/"
HTML_METHODS = ("get", "post")
API_METHODS = ("get", "post", "put", "patch", "delete")
# Statuses that say "refused before looking anything up": acceptable only when an id that
# exists nowhere gets the very same status (so the response tells nothing about the row).
REFUSED_BEFORE_LOOKUP = frozenset({403, 405})

ObjectFactory = Callable[[Practice], models.Model]
Snapshot = dict[str, list[Any]]

#: How to create one saved row of a practice-owned model in a practice (called inside that
#: practice's context, for ``other_practice`` and, for URLs with several ids, for ``practice``).
#: Needed only for models without a ``tests/factories.py`` factory taking ``practice=``.
OTHER_PRACTICE_OBJECT_FACTORIES: dict[str, ObjectFactory] = {
    "ccm.AuditLog": lambda practice: audit_record(
        practice=practice, actor=None, event=AuditEvent.PRACTICE_UPDATED
    ),
}

#: Sample values of path parameters that are not public ids, by parameter name.
SAMPLE_PATH_VALUES: dict[str, str] = {
    "month": "2025-01",  # billing months in URLs are YYYY-MM
    "year": "2025",
    "format": "json",  # DRF's format-suffix patterns (``.json``)
}


def practice_owned_models() -> list[type[PracticeOwned]]:
    """Every concrete practice-owned model of the project (proxies share their base's table)."""
    return [
        model
        for model in apps.get_models()
        if issubclass(model, PracticeOwned) and not model._meta.proxy
    ]


def model_label(model: type[models.Model]) -> str:
    return f"{model._meta.app_label}.{model.__name__}"


def snake_case(name: str) -> str:
    """``CarePlan`` -> ``care_plan``, ``ICDCode`` -> ``icd_code``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def url_models() -> dict[str, type[models.Model]]:
    """The model each UUID path parameter name stands for."""
    found: dict[str, type[models.Model]] = {}
    candidates: list[type[models.Model]] = [Practice, *practice_owned_models()]
    for model in candidates:
        key = snake_case(model.__name__)
        if key in found:
            raise LookupError(
                f"{model_label(found[key])} and {model_label(model)} both map to the path "
                f"parameter name {key!r}: rename one model or extend url_models()"
            )
        found[key] = model
    return found


# --- Rows in two practices --------------------------------------------------------------------


def _factory_classes(module: ModuleType, model: type[models.Model]) -> list[type[Any]]:
    return [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, factory.django.DjangoModelFactory)
        and value._meta.model is model
    ]


def row_factory(
    model: type[models.Model],
    *,
    registry: Mapping[str, ObjectFactory] = OTHER_PRACTICE_OBJECT_FACTORIES,
    factory_module: ModuleType = factories,
) -> ObjectFactory:
    """How to create a row of ``model`` in a practice, or a LookupError that says what to add."""
    label = model_label(model)
    if label in registry:
        return registry[label]
    candidates = _factory_classes(factory_module, model)
    named = [cls for cls in candidates if cls.__name__ == f"{model.__name__}Factory"]
    chosen = named or candidates
    if len(chosen) == 1:
        factory_class = chosen[0]
        return lambda practice: factory_class(practice=practice)
    reason = "no factory" if not chosen else f"several factories ({len(chosen)})"
    raise LookupError(
        f"The tenant-isolation test must create a {label} row in another practice, and "
        f"tests/factories.py has {reason} for it. Add a {model.__name__}Factory (Meta.model = "
        f"{model.__name__}, accepting practice=...) to tests/factories.py, or register "
        f'"{label}": lambda practice: <saved {model.__name__} of practice> in '
        "OTHER_PRACTICE_OBJECT_FACTORIES (tests/security/isolation.py)."
    )


def create_rows(practice: Practice) -> dict[type[models.Model], uuid.UUID]:
    """Create one row of every practice-owned model in ``practice``; their public ids by model.

    The practice itself is included, for ``<uuid:practice>`` parameters.
    """
    public_ids: dict[type[models.Model], uuid.UUID] = {Practice: practice.public_id}
    with honest_practice_context(practice.pk):
        for model in practice_owned_models():
            label = model_label(model)
            make = row_factory(model)
            try:
                row = make(practice)
            except Exception as exc:
                raise AssertionError(
                    f"Creating a {label} row in practice {practice.slug!r} for the isolation "
                    f"test failed: {exc!r}. Its factory must build every practice-owned parent "
                    "in the same practice (e.g. SubFactory(ParentFactory, "
                    'practice=factory.SelfAttribute("..practice"))).'
                ) from exc
            if not isinstance(row, model) or row.practice_id != practice.pk:
                raise AssertionError(
                    f"The factory of {label} returned {row!r}, not a saved {label} of "
                    f"practice {practice.slug!r}"
                )
            public_ids[model] = row.public_id
    return public_ids


@dataclass(frozen=True)
class World:
    """Two practices, members of every role in each, one row of every model in each."""

    practice: Practice
    other_practice: Practice
    own_ids: Mapping[type[models.Model], uuid.UUID]
    other_ids: Mapping[type[models.Model], uuid.UUID]


def snapshot(world: World) -> Snapshot:
    """Every row of both practices, each practice read inside its own context."""
    state: Snapshot = {
        "ccm.Practice": list(
            Practice.objects.filter(pk__in=[world.practice.pk, world.other_practice.pk])
            .order_by("pk")
            .values()
        )
    }
    for practice in (world.practice, world.other_practice):
        with honest_practice_context(practice.pk):
            for model in practice_owned_models():
                state[f"{model_label(model)} of {practice.slug}"] = list(
                    model._base_manager.filter(practice_id=practice.pk).order_by("pk").values()
                )
    return state


def describe_changes(before: Snapshot, after: Snapshot) -> str:
    changes = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key, []), after.get(key, [])
        if old != new:
            detail = f"{len(old)} -> {len(new)} rows" if len(old) != len(new) else "rows edited"
            changes.append(f"{key}: {detail}")
    return "; ".join(changes)


def other_practice_markers(world: World) -> dict[str, str]:
    """Public id (as shown in pages and JSON) -> what it is, for every row of other_practice."""
    other = world.other_practice
    markers = {str(other.public_id): f"ccm.Practice {other.slug}"}
    with honest_practice_context(other.pk):
        for model in practice_owned_models():
            for public_id in model._base_manager.filter(practice_id=other.pk).values_list(
                "public_id", flat=True
            ):
                markers[str(public_id)] = f"{model_label(model)} {public_id}"
                markers[public_id.hex] = f"{model_label(model)} {public_id}"
    return markers


# --- The project's URLs -----------------------------------------------------------------------


@dataclass(frozen=True)
class PathParameter:
    name: str
    converter: str  # "uuid", "str", "int", "slug", "path", a custom one, or "regex"


@dataclass(frozen=True)
class ProjectRoute:
    url_name: str  # what reverse() takes, namespaces included
    route: str  # the pattern as written, for messages
    view: str  # dotted path of the view, for messages
    callback: Callable[..., Any]
    parameters: tuple[PathParameter, ...]


def _view_of(callback: Callable[..., Any]) -> object:
    return getattr(callback, "view_class", None) or getattr(callback, "cls", None) or callback


def _view_path(callback: Callable[..., Any]) -> str:
    view = _view_of(callback)
    return f"{getattr(view, '__module__', '?')}.{getattr(view, '__qualname__', repr(view))}"


def is_project_view(callback: Callable[..., Any]) -> bool:
    module = getattr(_view_of(callback), "__module__", "") or ""
    return module.split(".")[0] in PROJECT_PACKAGES


def _parameters(pattern: Any, route: str) -> tuple[PathParameter, ...]:
    regex = pattern.regex
    names = list(regex.groupindex)
    if regex.groups > len(names):
        raise LookupError(f"URL {route!r} has an unnamed group: name every path parameter")
    converters = pattern.converters if isinstance(pattern, RoutePattern) else {}
    found = []
    for name in names:
        converter = converters.get(name)
        if converter is None:
            kind = "regex"
        elif isinstance(converter, UUIDConverter):
            kind = "uuid"
        else:
            kind = type(converter).__name__.removesuffix("Converter").lower()
        found.append(PathParameter(name, kind))
    return tuple(found)


def _walk(
    patterns: Sequence[URLPattern | URLResolver],
    *,
    route: str,
    namespaces: tuple[str, ...],
    parameters: tuple[PathParameter, ...],
) -> Iterator[ProjectRoute]:
    for entry in patterns:
        here = route + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = (*namespaces, entry.namespace) if entry.namespace else namespaces
            yield from _walk(
                entry.url_patterns,
                route=here,
                namespaces=inner,
                parameters=parameters + _parameters(entry.pattern, here),
            )
        elif is_project_view(entry.callback):
            if not entry.name:
                raise LookupError(
                    f"URL {here!r} ({_view_path(entry.callback)}) has no name: name it, so "
                    "the tenant-isolation test can build it with reverse()"
                )
            yield ProjectRoute(
                url_name=":".join((*namespaces, entry.name)),
                route=here,
                view=_view_path(entry.callback),
                callback=entry.callback,
                parameters=parameters + _parameters(entry.pattern, here),
            )


def project_routes() -> list[ProjectRoute]:
    """Every URL pattern served by a view of the project's own packages, API included."""
    return list(_walk(get_resolver().url_patterns, route="", namespaces=(), parameters=()))


def id_parameters(route: ProjectRoute) -> dict[str, type[models.Model]]:
    """The route's path parameters that carry public ids, with the model each one names."""
    known = url_models()
    found: dict[str, type[models.Model]] = {}
    for parameter in route.parameters:
        model = known.get(parameter.name)
        if parameter.converter == "uuid" and model is None:
            raise LookupError(
                f"URL {route.route!r} ({route.view}): <uuid:{parameter.name}> names no "
                "practice-owned model. A UUID path parameter carries the public_id of the "
                "model it is named after, in snake case (<uuid:care_plan> for CarePlan). "
                f"Known names: {', '.join(sorted(known))}"
            )
        if model is not None and parameter.converter not in {"uuid", "regex"}:
            raise LookupError(
                f"URL {route.route!r} ({route.view}): <{parameter.converter}:{parameter.name}> "
                "must be <uuid:...>: URLs carry public ids, never primary keys"
            )
        if model is not None:
            found[parameter.name] = model
    return found


def sample_value(route: ProjectRoute, parameter: PathParameter) -> str:
    try:
        return SAMPLE_PATH_VALUES[parameter.name]
    except KeyError:
        raise LookupError(
            f"URL {route.route!r} ({route.view}): no sample value for the path parameter "
            f"{parameter.name!r}. Name an id parameter after the practice-owned model whose "
            "public_id it carries, or add a sample value to SAMPLE_PATH_VALUES in "
            "tests/security/isolation.py"
        ) from None


def build_url(route: ProjectRoute, ids: Mapping[str, uuid.UUID]) -> str:
    """The route's URL with ``ids`` for its id parameters and sample values for the others."""
    kwargs = {
        parameter.name: str(ids[parameter.name])
        if parameter.name in ids
        else sample_value(route, parameter)
        for parameter in route.parameters
    }
    url = reverse(route.url_name, kwargs=kwargs)
    if resolve(url).func is not route.callback:
        raise LookupError(
            f"reverse({route.url_name!r}) built {url}, which another view serves: give "
            f"{route.route!r} ({route.view}) a name of its own"
        )
    return url


def id_combinations(route: ProjectRoute, world: World) -> list[tuple[str, dict[str, uuid.UUID]]]:
    """Every id from other_practice; and, with several ids, each one alone from other_practice."""
    parameters = id_parameters(route)
    combinations = [
        (
            "every id from other_practice",
            {name: world.other_ids[model] for name, model in parameters.items()},
        )
    ]
    if len(parameters) > 1:
        for foreign in parameters:
            ids = {name: world.own_ids[model] for name, model in parameters.items()}
            ids[foreign] = world.other_ids[parameters[foreign]]
            combinations.append((f"{foreign} from other_practice, the rest from practice", ids))
    return combinations


# --- Requests ---------------------------------------------------------------------------------


def methods_for(url: str) -> tuple[str, ...]:
    return API_METHODS if url.startswith(API_PREFIX) else HTML_METHODS


def send(client: Client, method: str, url: str) -> HttpResponseBase:
    if method == "get":
        return client.get(url)
    if url.startswith(API_PREFIX):
        return getattr(client, method)(url, data={}, content_type="application/json")
    return getattr(client, method)(url)


def body_of(response: HttpResponseBase) -> str:
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    else:
        content = response.content  # type: ignore[attr-defined]
    return content.decode("utf-8", errors="replace")


def explain(response: HttpResponseBase) -> str:
    """The response's status, with the exception behind a 500."""
    exc_info = getattr(response, "exc_info", None)
    if exc_info and exc_info[1] is not None:
        return f"{response.status_code} ({exc_info[1]!r})"
    return str(response.status_code)


def judge(response: HttpResponseBase, baseline: HttpResponseBase) -> str | None:
    """None when the response hides the row; else what is wrong with it.

    ``baseline`` is the same request with ids that exist in no practice.
    """
    status = response.status_code
    if status == 404:
        return None
    if status in REFUSED_BEFORE_LOOKUP and status == baseline.status_code:
        return None
    return (
        f"got {explain(response)}, expected 404 (an id that exists nowhere gets "
        f"{explain(baseline)})"
    )
