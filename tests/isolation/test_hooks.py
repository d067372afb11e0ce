"""A's ingest URLs (the live one and the revoked one) posted to B's host: 404, nothing stored."""

from __future__ import annotations

from django.test import Client

from tests.isolation.world import MARK, World, rows_snapshot
from tests.pipeline.support import ACK, invoice, message, tag


def _message() -> bytes:
    return message([invoice(tag(), 1, customer=f"{MARK.title()} Hook Test")])


def test_a_hook_urls_on_b_host_are_404_and_store_nothing(world: World, db) -> None:
    before_a, before_b = rows_snapshot(world.a.tenant), rows_snapshot(world.b.tenant)

    answers = [
        Client(HTTP_HOST=world.b.host).post(
            f"/hooks/{token}", _message(), content_type="text/xml; charset=utf-8"
        )
        for token in world.a.hook_tokens
    ]

    assert [a.status_code for a in answers] == [404] * len(world.a.hook_tokens)
    assert all(ACK not in a.content and b"amberqz" not in a.content.lower() for a in answers)
    assert rows_snapshot(world.b.tenant) == before_b
    assert rows_snapshot(world.a.tenant) == before_a


def test_a_live_hook_url_stores_on_a_host_only(world: World, db) -> None:
    """The control: the same token is accepted where it belongs."""
    before_b = rows_snapshot(world.b.tenant)

    response = Client(HTTP_HOST=world.a.host).post(
        f"/hooks/{world.a.hook_tokens[-1]}", _message(), content_type="text/xml; charset=utf-8"
    )

    assert response.content == ACK
    assert rows_snapshot(world.b.tenant) == before_b
