"""The whole connect flow against the real sandboxes, and every way a state can be wrong."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.core import signing
from django_tenants.utils import tenant_context

from accounts.roles import Role
from connectors.models import Authorization, Connection
from connectors.services.oauth import STATE_SALT
from tests.connectors.flows import callback, connect, consent, start
from tests.helpers import client_as

pytestmark = pytest.mark.django_db(transaction=False)


def _query(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def test_quickbooks_connects_and_captures_the_realm(tenant_a, qbo):
    editor = client_as(tenant_a, Role.EDITOR)

    connection = connect(tenant_a, editor, qbo, connector="quickbooks", name="Books")

    assert connection.status == "connected"
    assert connection.realm_id in qbo.state()["data"]["companies"]
    assert connection.credentials_id is not None
    assert connection.access_expires_at is not None
    tested = editor.post(f"/api/connections/{connection.pk}/test/")
    assert tested.status_code == 200, tested.content
    assert tested.json()["ok"] is True
    assert tested.json()["detail"]["realm_id"] == connection.realm_id


def test_salesforce_connects_with_pkce_and_keeps_instance_and_org(tenant_a, sf):
    editor = client_as(tenant_a, Role.EDITOR)

    connection = connect(tenant_a, editor, sf, connector="salesforce", name="Org")

    assert connection.status == "connected"
    assert connection.metadata["instance_url"] == sf.base_url
    assert connection.org_id.startswith("00D")
    assert connection.access_expires_at is None  # Salesforce never says (S5)
    tested = editor.post(f"/api/connections/{connection.pk}/test/")
    assert tested.status_code == 200, tested.content
    assert tested.json()["ok"] is True, tested.content


def test_callback_lands_on_the_connections_desk_page(tenant_a, qbo):
    editor = client_as(tenant_a, Role.EDITOR)
    pk, url = start(editor, connector="quickbooks", name="Books")

    back = callback(consent(qbo, url))

    assert back.status_code == 302
    assert back["Location"] == (
        f"http://alpha.localhost:8000/admin/connectors/connection/{pk}/change/?oauth=connected"
    )
    page = editor.get(urlsplit(back["Location"]).path + "?oauth=connected")
    assert b"Connected." in page.content
    assert b"realm " in page.content


def test_a_denied_consent_is_shown_on_the_connection_not_swallowed(tenant_a, qbo):
    editor = client_as(tenant_a, Role.EDITOR)
    pk, url = start(editor, connector="quickbooks", name="Books")

    back = callback(consent(qbo, url, decision="deny"))

    assert back["Location"].endswith("?oauth=refused")
    with tenant_context(tenant_a):
        connection = Connection.objects.get(pk=pk)
        assert connection.status == "pending"
        assert "access_denied" in connection.last_error
        assert connection.credentials is None
    page = editor.get(urlsplit(back["Location"]).path + "?oauth=refused")
    assert b"access_denied" in page.content


@pytest.fixture
def started(tenant_a, qbo):
    """An authorization started on alpha; returns (connection id, provider redirect location)."""
    editor = client_as(tenant_a, Role.EDITOR)
    pk, url = start(editor, connector="quickbooks", name="Books")
    return pk, consent(qbo, url)


def _nothing_stored(tenant, pk) -> None:
    with tenant_context(tenant):
        connection = Connection.objects.get(pk=pk)
        assert (connection.status, connection.credentials_id) == ("pending", None)


def test_a_replayed_state_is_refused(tenant_a, started):
    _, location = started
    assert callback(location).status_code == 302

    replay = callback(location)

    assert replay.status_code == 400
    assert b"not valid" in replay.content


def test_a_tampered_state_is_refused_and_nothing_is_stored(tenant_a, started):
    pk, location = started
    query = _query(location)
    query["state"] = query["state"][:-2] + ("AA" if not query["state"].endswith("AA") else "BB")

    response = callback(f"/api/callback/quickbooks?{urlencode(query)}")

    assert response.status_code == 400
    _nothing_stored(tenant_a, pk)


def test_an_expired_state_is_refused(tenant_a, started, monkeypatch):
    pk, location = started
    monkeypatch.setattr(
        "connectors.services.oauth.STATE_MAX_AGE", __import__("datetime").timedelta(seconds=-1)
    )

    response = callback(location)

    assert response.status_code == 400
    _nothing_stored(tenant_a, pk)


def test_a_state_for_another_provider_is_refused(tenant_a, started):
    pk, location = started

    response = callback(location.replace("/api/callback/quickbooks", "/api/callback/salesforce"))

    assert response.status_code == 400
    _nothing_stored(tenant_a, pk)


def test_a_state_naming_another_tenants_connection_opens_nothing(tenant_a, tenant_b, started):
    pk, location = started
    query = _query(location)
    payload = signing.loads(query["state"], salt=STATE_SALT)
    payload["t"] = tenant_b.schema_name  # a forger can't re-sign; with the key it still fails
    query["state"] = signing.dumps(payload, salt=STATE_SALT, compress=True)

    response = callback(f"/api/callback/quickbooks?{urlencode(query)}")

    assert response.status_code == 400
    with tenant_context(tenant_b):
        assert not Connection.objects.exists()
    _nothing_stored(tenant_a, pk)


def test_a_callback_without_state_is_refused(db):
    response = callback("/api/callback/quickbooks?code=abc")

    assert response.status_code == 400


def test_authorizations_are_single_use_rows(tenant_a, started):
    pk, location = started
    callback(location)

    with tenant_context(tenant_a):
        assert Authorization.objects.filter(connection_id=pk, used_at__isnull=False).count() == 1
