"""A's OAuth states never connect or change anything in B.

A's Admin starts a reconnect of each OAuth connection and approves it at
the sandbox; the provider's redirect (code and state) is then delivered to
B's host, with the state pointed at B, and tampered with: all refused, B
unchanged. Delivered as intended it connects A only; replayed, it is refused.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from django.core import signing
from django.test import Client

from connectors.services.oauth import STATE_SALT
from tests.connectors.flows import consent
from tests.helpers import client_for, signed_in
from tests.isolation.world import World, rows_snapshot

SANDBOXES = {"quickbooks": "qbo_sandbox", "salesforce": "sf_sandbox"}


def _redirect(world: World, request, connector: str) -> tuple[str, dict[str, str]]:
    """The provider's redirect for a reconnect A's Admin started: (path, query)."""
    client = signed_in(world.a.tenant, world.a.admin)
    started = client.post(f"/api/connections/{world.a.connections[connector]}/authorize/")
    assert started.status_code == 200, started.content
    sandbox = request.getfixturevalue(SANDBOXES[connector])
    location = urlsplit(consent(sandbox, started.json()["authorize_url"]))
    return location.path, dict(parse_qsl(location.query))


def _get(client: Client, path: str, query: dict[str, str]):
    return client.get(f"{path}?{urlencode(query)}")


@pytest.mark.parametrize("connector", sorted(SANDBOXES))
def test_a_state_lands_nothing_in_b(world: World, db, request, connector: str) -> None:
    path, query = _redirect(world, request, connector)
    state = signing.loads(query["state"], salt=STATE_SALT)
    before_b = rows_snapshot(world.b.tenant)
    before_a = rows_snapshot(world.a.tenant)

    # The redirect sent to B's host: the callback lives on the public host only.
    on_b_host = _get(Client(HTTP_HOST=world.b.host), path, query)
    # The state re-signed (as only a holder of the key could) to name B, with A's
    # connection or B's: B holds no authorization with A's nonce.
    pointed_at_b = [
        _get(client_for(None), path, {**query, "state": _signed({**state, "t": "bluewx", **c})})
        for c in ({}, {"c": world.b.connections["quickbooks"]})
    ]
    # The state edited without the key: its signature no longer holds.
    tampered = _get(client_for(None), path, {**query, "state": _edited(query["state"])})

    assert on_b_host.status_code == 404
    assert [r.status_code for r in pointed_at_b] == [400, 400]
    assert tampered.status_code == 400
    for response in (on_b_host, *pointed_at_b, tampered):
        assert not world.leaks(response.content.decode(), request_path=str(query))
    assert rows_snapshot(world.b.tenant) == before_b
    assert rows_snapshot(world.a.tenant) == before_a  # none of them used A's state up

    # As intended, it connects A (the control), and B is still untouched.
    delivered = _get(client_for(None), path, query)
    assert delivered.status_code == 302
    assert urlsplit(delivered["Location"]).netloc.startswith(f"{world.a.host}:")
    assert "oauth=connected" in delivered["Location"]
    assert rows_snapshot(world.b.tenant) == before_b

    # Replayed, it is refused and changes nothing anywhere.
    after_a = rows_snapshot(world.a.tenant)
    assert _get(client_for(None), path, query).status_code == 400
    assert rows_snapshot(world.a.tenant) == after_a
    assert rows_snapshot(world.b.tenant) == before_b


def _signed(payload: dict) -> str:
    return signing.dumps(payload, salt=STATE_SALT, compress=True)


def _edited(state: str) -> str:
    """One character of the signed value changed."""
    last = state[-1]
    return state[:-1] + ("A" if last != "A" else "B")
