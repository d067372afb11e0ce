"""Tenant A's messages never touch tenant B, even when B is wired the same way."""

from __future__ import annotations

import pytest

from tests.pipeline.conftest import wire
from tests.pipeline.support import (
    ACK,
    invoice,
    invoices_by_number,
    message,
    table_counts,
    tag,
    wait_delivered,
)

NOTHING = {
    "messages": 0,
    "replicas": 0,
    "canonicals": 0,
    "deliveries": 0,
    "xrefs": 0,
    "events": 0,
}


@pytest.fixture(scope="module")
def other(wired, qbo_sandbox, django_db_blocker):
    """Tenant B: its own Revenova source, route and hook to the same QuickBooks sandbox."""
    with wire("pipeb", qbo_sandbox, django_db_blocker) as wired_b:
        yield wired_b


def test_a_message_on_tenant_a_never_touches_tenant_b(fresh, other, qbo):
    run = tag()

    response = fresh.post(message([invoice(run, 1), invoice(run, 2)]))

    assert response.content == ACK
    wait_delivered(fresh, 2)
    assert len(invoices_by_number(qbo, fresh.books.realm_id, f"T{run}-")) == 2
    assert table_counts(fresh)["deliveries"] == 2
    assert table_counts(other) == NOTHING


def test_tenant_a_token_on_tenant_b_host_is_404(fresh, other):
    raw = message([invoice(tag(), 1)])

    response = other.post(raw, path=fresh.hook_path)

    assert response.status_code == 404
    assert b"Ack" not in response.content
    assert table_counts(other) == NOTHING
    assert table_counts(fresh) == NOTHING
