"""Every URL of the tenant URLconf, with A's ids and tokens, asked by B's Admin on B's host.

Each path is tried with every method, signed in with a session and with a
personal token of B: A's objects are 403/404/405 (or the Desk's "doesn't
exist" redirect), lists are B's own, no body shows anything of A, nothing
of A changes, and nothing answers 5xx.
"""

from __future__ import annotations

import pytest
from django.test import Client

from tests.helpers import signed_in
from tests.isolation.sweep import (
    CONTROL_EXEMPT,
    METHODS,
    NOT_FOUND_TEXTS,
    body_of,
    followed,
    request,
    sweep_urls,
    verdict,
)
from tests.isolation.world import World, rows_snapshot


def test_every_tenant_url_is_filled_with_a_data(world: World, db) -> None:
    swept, unfillable = sweep_urls(world)

    assert not unfillable, "teach tests/isolation/sweep.py these patterns:\n" + "\n".join(
        unfillable
    )
    print(f"{len(swept)} tenant URLs, {sum(s.of_a for s in swept)} with A's ids or tokens")
    # 58 URLs carried an id or a token of A when this was written; fewer means a fill broke.
    assert sum(s.of_a for s in swept) >= 50, [s.path for s in swept if s.of_a]


@pytest.mark.parametrize("auth", ["session", "bearer"])
def test_b_admin_gets_nothing_of_a_from_any_url(world: World, db, auth: str) -> None:
    swept, unfillable = sweep_urls(world)
    assert not unfillable, unfillable
    before = rows_snapshot(world.a.tenant)
    problems, made = [], 0

    if auth == "session":
        client = signed_in(world.b.tenant, world.b.admin)
    else:
        client = Client(HTTP_HOST=world.b.host, HTTP_AUTHORIZATION=f"Bearer {world.b.token}")
    client.raise_request_exception = False  # a 500 is a finding to list, not a stop

    for one in swept:
        if auth == "session" and "_auth_user_id" not in client.session:
            client = signed_in(world.b.tenant, world.b.admin)  # a swept logout ended it
            client.raise_request_exception = False
        for method in METHODS:
            chain = followed(client, request(client, one, method), world.b.host)
            made += len(chain)
            problem = verdict(world, one, method, chain, signed_in=auth == "session" or one.is_api)
            if problem:
                problems.append(f"{method.upper():7} {one.path}: {problem}")

    print(f"{auth}: {len(swept)} URLs, {made} requests")
    assert not problems, f"{len(problems)} answers of B are wrong:\n" + "\n".join(problems)
    assert rows_snapshot(world.a.tenant) == before


def test_every_filled_url_names_a_real_object_of_a(world: World, db) -> None:
    """The control: on A's own host, A's Admin reaches each object the sweep asked B for."""
    swept, _ = sweep_urls(world)
    # The API answers by role; the Desk lets only the superuser see every model's page.
    api = signed_in(world.a.tenant, world.a.admin)
    desk = signed_in(world.a.tenant, world.a.breakglass)
    missing = []

    for one in (s for s in swept if s.of_a and s.name not in CONTROL_EXEMPT):
        client = api if one.is_api else desk
        response = client.get(one.path)
        text = body_of(followed(client, response, world.a.host)[-1])
        # A 403 refuses before any lookup (deletion is off for users, tokens, secrets,
        # history); the same id's change page is in the sweep and must be found.
        if response.status_code == 404 or any(t in text for t in NOT_FOUND_TEXTS):
            missing.append(f"{one.path}: {response.status_code}")

    assert not missing, "these fills name nothing of A:\n" + "\n".join(missing)


def test_the_markers_find_a_on_a_own_pages(world: World, db) -> None:
    """The leak check is not vacuous: on A's own host, A's pages are full of markers."""
    client = signed_in(world.a.tenant, world.a.admin)

    for path in ("/api/connections/", "/api/routes/", "/admin/pipeline/route/"):
        leaks = world.leaks(body_of(client.get(path)))

        assert "amberqz" in leaks, path
        assert any(leak.isdigit() for leak in leaks), path
