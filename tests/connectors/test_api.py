"""The connections API beyond the role matrix: API keys, tenant walls, no secret ever out."""

from __future__ import annotations

import logging

import pytest
from django_tenants.utils import tenant_context

from accounts.roles import Role
from connectors.models import Connection
from connectors.services.credentials import credentials_reveal
from connectors.services.demo import DEMO_API_KEYS
from tests.connectors.flows import connect
from tests.factories import ConnectionFactory
from tests.helpers import client_as

REVENOVA_KEY = DEMO_API_KEYS["revenova"]


def test_connectors_list_says_what_each_needs(tenant_a):
    listed = client_as(tenant_a, Role.VIEWER).get("/api/connectors/").json()

    by_key = {c["key"]: c for c in listed}
    assert set(by_key) >= {"quickbooks", "salesforce", "revenova"}
    assert by_key["quickbooks"]["credential"] == {"kind": "oauth2", "fields": []}
    fields = {f["name"]: f["secret"] for f in by_key["revenova"]["credential"]["fields"]}
    assert fields == {"username": False, "password": True, "security_token": True, "org_id": False}


def test_an_api_key_connection_logs_in_at_once_and_never_shows_the_key(tenant_a, revenova):
    editor = client_as(tenant_a, Role.EDITOR)

    created = editor.post(
        "/api/connections/",
        {"connector": "revenova", "name": "TMS", "api_key": REVENOVA_KEY},
        content_type="application/json",
    )

    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "connected"
    assert body["metadata"]["org_id"] == REVENOVA_KEY["org_id"]
    for secret in (REVENOVA_KEY["password"], REVENOVA_KEY["security_token"]):
        assert secret not in created.content.decode()
        assert secret not in editor.get(f"/api/connections/{body['id']}/").content.decode()
    tested = editor.post(f"/api/connections/{body['id']}/test/").json()
    assert tested["ok"] is True, tested


@pytest.mark.parametrize(
    "api_key,field",
    [
        ({**REVENOVA_KEY, "password": "wrong-password"}, None),
        ({**REVENOVA_KEY, "org_id": "00D000000000001AAA"}, None),
        ({k: v for k, v in REVENOVA_KEY.items() if k != "security_token"}, "security_token"),
        ({**REVENOVA_KEY, "surprise": "x"}, "surprise"),
    ],
    ids=["bad-password", "other-org", "missing-field", "unknown-field"],
)
def test_a_key_that_does_not_log_in_is_refused_and_nothing_is_stored(
    tenant_a, revenova, api_key, field
):
    response = client_as(tenant_a, Role.EDITOR).post(
        "/api/connections/",
        {"connector": "revenova", "name": "TMS", "api_key": api_key},
        content_type="application/json",
    )

    assert response.status_code in (400, 409, 422), response.content
    error = response.json()["error"]
    if field:
        assert field in error["fields"]
    assert REVENOVA_KEY["password"] not in response.content.decode()
    with tenant_context(tenant_a):
        assert not Connection.objects.exists()


def test_an_oauth_connector_refuses_typed_in_keys(tenant_a):
    response = client_as(tenant_a, Role.EDITOR).post(
        "/api/connections/",
        {"connector": "quickbooks", "name": "Books", "api_key": {"token": "x"}},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "api_key" in response.json()["error"]["fields"]


def test_an_unknown_connector_or_environment_is_a_clear_400(tenant_a):
    editor = client_as(tenant_a, Role.EDITOR)

    unknown = editor.post(
        "/api/connections/", {"connector": "nope", "name": "X"}, content_type="application/json"
    )
    environment = editor.post(
        "/api/connections/",
        {"connector": "quickbooks", "name": "X", "environment": "mars"},
        content_type="application/json",
    )

    assert unknown.status_code == 400 and "connector" in unknown.json()["error"]["fields"]
    assert environment.status_code == 400
    assert "environment" in environment.json()["error"]["fields"]


def test_tenant_b_cannot_see_or_touch_tenant_a_connections(tenant_a, tenant_b):
    with tenant_context(tenant_a):
        theirs = ConnectionFactory(name="Alpha books", connected=True)
    outsider = client_as(tenant_b, Role.ADMIN)

    listed = outsider.get("/api/connections/")
    attempts = [
        outsider.get(f"/api/connections/{theirs.pk}/"),
        outsider.post(f"/api/connections/{theirs.pk}/authorize/"),
        outsider.post(f"/api/connections/{theirs.pk}/test/"),
        outsider.post(f"/api/connections/{theirs.pk}/refresh/"),
        outsider.post(f"/api/connections/{theirs.pk}/disable/"),
        outsider.delete(f"/api/connections/{theirs.pk}/"),
        outsider.get(f"/admin/connectors/connection/{theirs.pk}/change/"),
        outsider.post(f"/admin/connectors/connection/{theirs.pk}/connect/"),
    ]

    assert listed.json()["results"] == []
    assert [a.status_code for a in attempts[:6]] == [404] * 6
    assert attempts[6].status_code == 302  # the admin sends "missing" objects to its index
    assert attempts[7].status_code == 403
    for response in [listed, *attempts]:
        assert b"Alpha books" not in response.content
    with tenant_context(tenant_a):
        assert Connection.objects.get(pk=theirs.pk).status == "connected"


def test_no_token_reaches_a_response_page_or_log_line(tenant_a, qbo, caplog):
    caplog.set_level(logging.DEBUG)
    editor = client_as(tenant_a, Role.EDITOR)
    connection = connect(tenant_a, editor, qbo, connector="quickbooks", name="Books")
    with tenant_context(tenant_a):
        secrets = credentials_reveal(connection=connection, reason="the test looks", actor="tests")
    tokens = [secrets["access_token"], secrets["refresh_token"]]

    pages = [
        editor.get("/api/connections/"),
        editor.get(f"/api/connections/{connection.pk}/"),
        editor.post(f"/api/connections/{connection.pk}/test/"),
        editor.post(f"/api/connections/{connection.pk}/refresh/"),
        editor.get("/admin/connectors/connection/"),
        editor.get(f"/admin/connectors/connection/{connection.pk}/change/"),
    ]
    with tenant_context(tenant_a):
        fresh = Connection.objects.get(pk=connection.pk)
        renewed = credentials_reveal(connection=fresh, reason="the test looks", actor="tests")
    tokens += [renewed["access_token"], renewed["refresh_token"]]

    assert all(page.status_code == 200 for page in pages), [p.status_code for p in pages]
    assert renewed["refresh_token"] != secrets["refresh_token"]  # QuickBooks rotated it
    for token in tokens:
        assert all(token not in page.content.decode() for page in pages)
        assert token not in caplog.text
