"""Tenant isolation: a member of ``practice`` can neither see nor touch ``other_practice``'s rows.

The matrix walks every URL of the project's own views (HTML and ``/api/v1/``), fills each id
parameter with a public id of ``other_practice`` and sends every method as a member of every
role of ``practice``. Each request must be a 404 (or the 403/405 that an id existing nowhere
gets too), and must change no row of either practice, audit log included.

It runs twice:

1. honestly: the request's database context is ``practice``; RLS already hides the rows, so
   this pass proves what a user sees, not how;
2. with RLS opened to ``other_practice`` (``swapped_request_context``): the middleware and the
   API base class set the RLS setting ``ccm.practice_id`` to *other_practice* while
   ``request.practice``/``request.membership`` stay those of ``practice``. The other practice's
   rows are then visible to SQL, and only ``for_practice(request.practice)`` in selectors and
   services keeps them out. Removing one ``for_practice()`` fails this pass even though RLS
   would still save production: each layer is proven on its own (defence in depth).

The last tests prove the RLS layer itself: FORCEd policies on every practice-owned table, an
app role that cannot bypass them, and nothing visible outside a practice context.
"""

from __future__ import annotations

import types
import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.db import connection
from django.http import HttpResponseBase
from django.test import Client

from ccm import api as ccm_api
from ccm import tenancy
from ccm.models import Membership, Practice
from ccm.permissions import Role
from ccm.tenancy import current_practice_id
from tests.security.isolation import (
    PROJECT_PACKAGES,
    PathParameter,
    ProjectRoute,
    World,
    body_of,
    build_url,
    create_rows,
    describe_changes,
    explain,
    id_combinations,
    id_parameters,
    is_project_view,
    judge,
    methods_for,
    other_practice_markers,
    practice_owned_models,
    project_routes,
    row_factory,
    send,
    snake_case,
    snapshot,
)

Failures = list[str]


@pytest.fixture
def world(
    practice: Practice,
    other_practice: Practice,
    members: dict[Role, Membership],
    other_members: dict[Role, Membership],
) -> World:
    return World(
        practice=practice,
        other_practice=other_practice,
        own_ids=create_rows(practice),
        other_ids=create_rows(other_practice),
    )


@pytest.fixture
def clients(
    members: dict[Role, Membership], client_for: Callable[[Membership], Client]
) -> dict[Role, Client]:
    """A signed-in client per role of ``practice``; a 500 comes back as a response."""
    made = {}
    for role, membership in members.items():
        client = client_for(membership)
        client.raise_request_exception = False
        made[role] = client
    return made


@pytest.fixture
def swapped_request_context(monkeypatch: pytest.MonkeyPatch, world: World) -> list[int]:
    """Make every request's RLS context other_practice's, leaving request.practice alone.

    ``PracticeMiddleware`` looks ``practice_context``/``switch_practice`` up in ``ccm.tenancy``
    and ``PracticeApiView`` in ``ccm.api``; all are patched. Returns the list of swaps made, so a
    test can prove that the swap happened.
    """
    honest = tenancy.practice_context
    swaps: list[int] = []

    def swapped(
        practice_id: int | None, *, user_id: int | None = None
    ) -> AbstractContextManager[None]:
        if practice_id == world.practice.pk:
            swaps.append(practice_id)
            practice_id = world.other_practice.pk
        return honest(practice_id, user_id=user_id)

    honest_switch = tenancy.switch_practice

    def swapped_switch(practice_id: int) -> None:
        if practice_id == world.practice.pk:
            swaps.append(practice_id)
            practice_id = world.other_practice.pk
        honest_switch(practice_id)

    monkeypatch.setattr(tenancy, "practice_context", swapped)
    monkeypatch.setattr(ccm_api, "practice_context", swapped)
    # The middleware and the API base open a context for the user, then switch to the
    # practice once the membership is known: the switch is where the swap must happen.
    monkeypatch.setattr(tenancy, "switch_practice", swapped_switch)
    monkeypatch.setattr(ccm_api, "switch_practice", swapped_switch)
    return swaps


def routes_with_ids() -> list[ProjectRoute]:
    return [route for route in project_routes() if id_parameters(route)]


def routes_without_ids() -> list[ProjectRoute]:
    return [route for route in project_routes() if not id_parameters(route)]


def _random_ids(route: ProjectRoute) -> dict[str, uuid.UUID]:
    return {name: uuid.uuid4() for name in id_parameters(route)}


def other_practice_id_matrix(world: World, clients: Mapping[Role, Client]) -> Failures:
    """Send every method to every id URL as every role; list each leak, oracle or change."""
    failures: Failures = []
    before = snapshot(world)
    for route in routes_with_ids():
        nowhere_url = build_url(route, _random_ids(route))
        baselines: dict[tuple[Role, str], HttpResponseBase] = {}
        statuses: set[int] = set()
        for label, ids in id_combinations(route, world):
            url = build_url(route, ids)
            for role, client in clients.items():
                for method in methods_for(url):
                    if (role, method) not in baselines:
                        baselines[role, method] = send(client, method, nowhere_url)
                    response = send(client, method, url)
                    statuses.add(response.status_code)
                    problem = judge(response, baselines[role, method])
                    if problem:
                        failures.append(
                            f"{method.upper()} {url} as {role.value} [{label}] "
                            f"({route.route} -> {route.view}): {problem}"
                        )
                after = snapshot(world)
                if after != before:
                    failures.append(
                        f"{', '.join(m.upper() for m in methods_for(url))} {url} as "
                        f"{role.value} [{label}] ({route.view}) changed rows: "
                        f"{describe_changes(before, after)}"
                    )
                    before = after
        if 404 not in statuses:
            failures.append(
                f"{route.route} ({route.view}): no role and no method got a 404 with "
                "other_practice's ids, so nothing here proves the lookup is scoped"
            )
    return failures


def other_practice_leaks(world: World, clients: Mapping[Role, Client]) -> Failures:
    """GET every page without ids as every role; list each other_practice row it shows."""
    failures: Failures = []
    markers = other_practice_markers(world)
    before = snapshot(world)
    for route in routes_without_ids():
        url = build_url(route, {})
        for role, client in clients.items():
            response = client.get(url)
            body = body_of(response)
            shown = sorted({what for marker, what in markers.items() if marker in body})
            if shown:
                more = f" and {len(shown) - 3} more" if len(shown) > 3 else ""
                failures.append(
                    f"GET {url} as {role.value} ({route.view}) -> {explain(response)} shows "
                    f"other_practice's {', '.join(shown[:3])}{more}"
                )
        after = snapshot(world)
        problem = changes_beyond_read_audits(before, after, world, markers)
        if problem:
            failures.append(f"GET {url} ({route.view}) {problem}")
        before = after
    return failures


def changes_beyond_read_audits(
    before: dict[str, list[Any]],
    after: dict[str, list[Any]],
    world: World,
    markers: dict[str, str],
) -> str | None:
    """What a GET changed besides appending rows to practice's own audit log, or None.

    A page that shows patient data audits the read (DESIGN, "Audit"), so new rows in the
    reader's own log are expected; they must not name any of other_practice's rows.
    """
    log = f"ccm.AuditLog of {world.practice.slug}"
    kept = before[log]
    unchanged_elsewhere = {k: v for k, v in after.items() if k != log} == {
        k: v for k, v in before.items() if k != log
    }
    if after[log][: len(kept)] != kept or not unchanged_elsewhere:
        return f"changed rows: {describe_changes(before, after)}"
    named = sorted(
        {
            markers[str(public_id)]
            for row in after[log][len(kept) :]
            for public_id in (row["changes"] or {}).get("patient_ids", [])
            if str(public_id) in markers
        }
    )
    if named:
        return f"audited a read of other_practice's {', '.join(named[:3])}"
    return None


def test_route_walk_finds_the_projects_views_and_skips_third_party_ones() -> None:
    # given the project's URLconf
    # when
    routes = {route.url_name: route for route in project_routes()}
    # then
    assert routes["membership_toggle"].parameters == (PathParameter("membership", "uuid"),)
    assert routes["membership_toggle"].view == "ccm.views.membership_toggle"
    assert routes["api_members"].view == "ccm.api.MembershipListApi"
    assert "api_schema" not in routes
    assert "api_docs" not in routes
    assert {route.view.split(".")[0] for route in routes.values()} <= PROJECT_PACKAGES


def test_other_practice_ids_in_urls_are_404_and_change_nothing(
    world: World, clients: dict[Role, Client]
) -> None:
    # given a row of every model in other_practice, and every project URL that takes ids
    assert routes_with_ids(), "the matrix found no URL with an id parameter"
    # when
    failures = other_practice_id_matrix(world, clients)
    # then
    assert failures == [], "\n".join(failures)


def test_other_practice_ids_are_404_even_when_rls_admits_their_rows(
    world: World, clients: dict[Role, Client], swapped_request_context: list[int]
) -> None:
    # given a request context in which RLS shows other_practice's rows
    with tenancy.practice_context(world.practice.pk):
        hidden_by_code_only = {
            model._meta.label: model._base_manager.filter(
                practice_id=world.other_practice.pk
            ).exists()
            for model in practice_owned_models()
        }
    assert set(hidden_by_code_only.values()) == {True}, hidden_by_code_only
    swaps_before_requests = len(swapped_request_context)
    # when
    failures = other_practice_id_matrix(world, clients)
    # then
    assert len(swapped_request_context) > swaps_before_requests, "no request was swapped"
    assert failures == [], "\n".join(failures)


def test_pages_without_ids_show_nothing_of_other_practice(
    world: World, clients: dict[Role, Client]
) -> None:
    # given a row of every model in other_practice
    # when
    failures = other_practice_leaks(world, clients)
    # then
    assert failures == [], "\n".join(failures)


def test_pages_without_ids_show_nothing_of_other_practice_even_when_rls_admits_it(
    world: World, clients: dict[Role, Client], swapped_request_context: list[int]
) -> None:
    # given a request context in which RLS shows other_practice's rows (a page that audits its
    # read then fails RLS's WITH CHECK and answers 500, which shows nothing either)
    # when
    failures = other_practice_leaks(world, clients)
    # then
    assert swapped_request_context, "no request was swapped: this pass proved nothing"
    assert failures == [], "\n".join(failures)


def _tables() -> dict[str, str]:
    return {model._meta.db_table: model._meta.label for model in practice_owned_models()}


def _count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
        return int(cursor.fetchone()[0])


def test_practice_owned_tables_show_no_row_outside_a_practice_context(world: World) -> None:
    # given a row of every practice-owned model in both practices
    counts_inside = {}
    for practice in (world.practice, world.other_practice):
        with tenancy.practice_context(practice.pk):
            counts_inside[practice.slug] = {table: _count(table) for table in _tables()}
    # when
    assert current_practice_id() is None
    counts_outside = {table: _count(table) for table in _tables()}
    # then
    for slug, counts in counts_inside.items():
        assert all(counts.values()), f"{slug} has no row in {counts}"
    assert counts_outside == dict.fromkeys(_tables(), 0)


def test_practice_owned_tables_force_row_level_security_with_a_practice_policy(
    db: None,
) -> None:
    # given
    tables = _tables()
    # when
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relname = ANY(%s)",
            [list(tables)],
        )
        flags = {name: (enabled, forced) for name, enabled, forced in cursor.fetchall()}
        cursor.execute(
            "SELECT tablename, qual FROM pg_policies "
            "WHERE schemaname = current_schema() AND tablename = ANY(%s)",
            [list(tables)],
        )
        policies: dict[str, list[str]] = {}
        for table, qual in cursor.fetchall():
            policies.setdefault(table, []).append(qual or "")
    # then
    not_forced = sorted(
        f"{label} ({table})" for table, label in tables.items() if flags.get(table) != (True, True)
    )
    assert not_forced == [], f"row-level security not enabled and FORCEd on {not_forced}"
    no_policy = sorted(
        f"{label} ({table})" for table, label in tables.items() if table not in policies
    )
    assert no_policy == [], f"no RLS policy on {no_policy}"
    unscoped = {
        table: quals
        for table, quals in policies.items()
        if not all("ccm_current_practice()" in qual for qual in quals)
    }
    assert unscoped == {}, "every policy must admit rows by ccm_current_practice()"


def test_app_role_can_neither_bypass_nor_own_practice_owned_tables(db: None) -> None:
    # given
    tables = list(_tables())
    # when
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )
        role, is_superuser, bypasses_rls = cursor.fetchone()
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relname = ANY(%s) "
            "AND pg_has_role(current_user, c.relowner, 'USAGE')",
            [tables],
        )
        owned = [name for (name,) in cursor.fetchall()]
    # then
    assert (is_superuser, bypasses_rls) == (False, False), f"{role} bypasses RLS"
    assert owned == [], f"{role} owns (or inherits the owner of) {owned}"


def _route(view_route: str, *parameters: PathParameter) -> ProjectRoute:
    def view() -> None:
        raise AssertionError("never called")

    return ProjectRoute(
        url_name="unused", route=view_route, view="x.view", callback=view, parameters=parameters
    )


def test_a_uuid_parameter_naming_no_model_fails_loudly(db: None) -> None:
    # given
    route = _route("gadgets/<uuid:gadget>/", PathParameter("gadget", "uuid"))
    # when / then
    with pytest.raises(LookupError, match=r"<uuid:gadget> names no practice-owned model"):
        id_parameters(route)


def test_a_model_named_parameter_that_is_not_a_uuid_fails_loudly(db: None) -> None:
    # given
    route = _route("members/<int:membership>/", PathParameter("membership", "int"))
    # when / then
    with pytest.raises(LookupError, match=r"<int:membership> must be <uuid:\.\.\.>"):
        id_parameters(route)


def test_a_parameter_without_a_sample_value_fails_loudly(db: None) -> None:
    # given
    route = _route("colours/<str:colour>/", PathParameter("colour", "str"))
    # when / then
    with pytest.raises(LookupError, match=r"no sample value for the path parameter 'colour'"):
        build_url(route, {})


def test_a_model_without_a_factory_fails_loudly() -> None:
    # given neither a registered callable nor a factory for AuditLog
    empty_module = types.ModuleType("no_factories")
    audit_log = next(m for m in practice_owned_models() if m.__name__ == "AuditLog")
    # when / then
    with pytest.raises(LookupError, match=r"register \"ccm.AuditLog\".*OTHER_PRACTICE_OBJECT"):
        row_factory(audit_log, registry={}, factory_module=empty_module)


def test_snake_case_names_id_parameters_after_models() -> None:
    # given / when
    names = [snake_case(name) for name in ("Membership", "CarePlan", "TimeEntry", "ICDCode")]
    # then
    assert names == ["membership", "care_plan", "time_entry", "icd_code"]


def test_third_party_views_are_not_project_views() -> None:
    # given
    from allauth.account.views import login  # noqa: PLC0415
    from drf_spectacular.views import SpectacularAPIView  # noqa: PLC0415

    from ccm.views import membership_toggle  # noqa: PLC0415

    # when
    verdicts = [
        is_project_view(view) for view in (login, SpectacularAPIView.as_view(), membership_toggle)
    ]
    # then
    assert verdicts == [False, False, True]
