"""A's personal API token sent to B's host: every API URL answers 401, naming nothing of A."""

from __future__ import annotations

from django.test import Client

from tests.isolation.sweep import METHODS, body_of, request, sweep_urls
from tests.isolation.world import World, rows_snapshot


def test_a_token_is_refused_by_every_api_url_of_b(world: World, db) -> None:
    swept, _ = sweep_urls(world)
    client = Client(HTTP_HOST=world.b.host, HTTP_AUTHORIZATION=f"Bearer {world.a.token}")
    client.raise_request_exception = False
    before_b = rows_snapshot(world.b.tenant)
    wrong = []

    for one in (s for s in swept if s.is_api):
        for method in METHODS:
            response = request(client, one, method)
            leaks = world.leaks(body_of(response), request_path=one.path)
            if response.status_code != 401 or leaks:
                wrong.append(f"{method.upper()} {one.path}: {response.status_code} {leaks}")

    assert not wrong, "\n".join(wrong)
    assert rows_snapshot(world.b.tenant) == before_b


def test_a_token_works_on_a_host(world: World, db) -> None:
    """The control: the token is live, so B's 401 is about the tenant, not the token."""
    client = Client(HTTP_HOST=world.a.host, HTTP_AUTHORIZATION=f"Bearer {world.a.token}")

    response = client.get("/api/me/")

    assert response.status_code == 200
    assert response.json()["username"] == world.a.admin.username
