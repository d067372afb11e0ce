"""A's personal API tokens (one per role) sent to B's host: every API URL answers 401
with every method, naming nothing of A, changing nothing in B."""

from __future__ import annotations

from django.test import Client

from tests.isolation.sweep import METHODS, body_of, request, sweep_urls
from tests.isolation.world import World, rows_snapshot


def test_a_tokens_are_refused_by_every_api_url_of_b(world: World, db) -> None:
    swept, _ = sweep_urls(world)
    before_b = rows_snapshot(world.b.tenant)
    wrong, made = [], 0

    for role, token in world.a.role_tokens.items():
        client = Client(HTTP_HOST=world.b.host, HTTP_AUTHORIZATION=f"Bearer {token}")
        client.raise_request_exception = False
        for one in (s for s in swept if s.is_api):
            for method in METHODS:
                response = request(client, one, method)
                made += 1
                leaks = world.leaks(body_of(response), request_path=one.path)
                if response.status_code != 401 or leaks:
                    wrong.append(
                        f"{role} {method.upper()} {one.path}: {response.status_code} {leaks}"
                    )

    print(f"A's tokens on B: {made} requests")
    assert not wrong, "\n".join(wrong)
    assert rows_snapshot(world.b.tenant) == before_b


def test_a_tokens_work_on_a_host(world: World, db) -> None:
    """The control: the tokens are live, so B's 401 is about the tenant, not the token."""
    for role, token in world.a.role_tokens.items():
        client = Client(HTTP_HOST=world.a.host, HTTP_AUTHORIZATION=f"Bearer {token}")

        response = client.get("/api/me/")

        assert response.status_code == 200
        assert response.json()["role"] == role.value
