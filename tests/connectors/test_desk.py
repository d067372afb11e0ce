"""The Desk's connections pages, per role; refusals change nothing and say why."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from accounts.roles import Role
from connectors.models import Authorization, Connection
from connectors.services.demo import DEMO_API_KEYS
from tests.connectors.flows import connect
from tests.factories import ConnectionFactory
from tests.helpers import client_as

VIEWER, EDITOR, ADMIN = Role.VIEWER, Role.EDITOR, Role.ADMIN

# (method, path, {role: status}); {pk} is a pending QuickBooks connection.
DESK_MATRIX = [
    ("GET", "/admin/connectors/connection/", {VIEWER: 200, EDITOR: 200, ADMIN: 200}),
    ("GET", "/admin/connectors/connection/{pk}/change/", {VIEWER: 200, EDITOR: 200, ADMIN: 200}),
    ("GET", "/admin/connectors/connection/add/", {VIEWER: 403, EDITOR: 200, ADMIN: 200}),
    (
        "GET",
        "/admin/connectors/connection/add/?connector=revenova",
        {VIEWER: 403, EDITOR: 200, ADMIN: 200},
    ),
    ("POST", "/admin/connectors/connection/{pk}/connect/", {VIEWER: 403, EDITOR: 302, ADMIN: 302}),
    ("GET", "/admin/connectors/connection/{pk}/connect/", {VIEWER: 405, EDITOR: 405, ADMIN: 405}),
    ("POST", "/admin/connectors/connection/{pk}/delete/", {VIEWER: 403, EDITOR: 302, ADMIN: 302}),
]


@pytest.mark.parametrize("role", [VIEWER, EDITOR, ADMIN], ids=str)
@pytest.mark.parametrize("method,path,expected", DESK_MATRIX, ids=lambda v: str(v)[:60])
def test_desk_matrix(tenant_a, role, method, path, expected):
    with tenant_context(tenant_a):
        connection = ConnectionFactory(name="Books")
    client = client_as(tenant_a, role)
    body = {"post": "yes"} if path.endswith("delete/") else {}

    response = getattr(client, method.lower())(path.format(pk=connection.pk), body)

    assert response.status_code == expected[role]
    with tenant_context(tenant_a):
        if expected[role] >= 400 or method == "GET":
            assert Connection.objects.filter(pk=connection.pk, status="pending").exists()
            assert not Authorization.objects.exists()


def test_viewer_sees_health_but_no_connect_button_or_actions(tenant_a):
    with tenant_context(tenant_a):
        connection = ConnectionFactory(name="Books", connected=True)
    viewer = client_as(tenant_a, VIEWER)

    listing = viewer.get("/admin/connectors/connection/").content.decode()
    page = viewer.get(f"/admin/connectors/connection/{connection.pk}/change/").content.decode()

    assert 'data-status="connected"' in listing
    assert "realm 9341453908059321" in listing
    assert "Test selected connections" not in listing
    assert 'id="connect"' not in page
    assert 'name="_save"' not in page


def test_connect_sends_the_browser_to_the_providers_consent_page(tenant_a, qbo):
    with tenant_context(tenant_a):
        connection = ConnectionFactory(name="Books")

    response = client_as(tenant_a, EDITOR).post(
        f"/admin/connectors/connection/{connection.pk}/connect/"
    )

    assert response.status_code == 302
    assert response["Location"].startswith(f"{qbo.base_url}/oauth/authorize?")
    assert "state=" in response["Location"]


def test_adding_an_api_key_connection_in_the_desk_never_renders_the_key_back(tenant_a, revenova):
    editor = client_as(tenant_a, EDITOR)
    form = editor.get("/admin/connectors/connection/add/?connector=revenova").content.decode()
    fields = {f"key_{name}": value for name, value in DEMO_API_KEYS["revenova"].items()}

    saved = editor.post(
        "/admin/connectors/connection/add/?connector=revenova",
        {"name": "TMS", "environment": "local", **fields},
        follow=True,
    )

    assert 'type="password" name="key_password"' in form
    text = saved.content.decode()
    assert "Connection TMS created." in text
    assert 'data-status="connected"' in text
    assert DEMO_API_KEYS["revenova"]["password"] not in text
    assert DEMO_API_KEYS["revenova"]["security_token"] not in text


def test_a_wrong_key_in_the_desk_is_an_error_message_and_stores_nothing(tenant_a, revenova):
    fields = {f"key_{name}": value for name, value in DEMO_API_KEYS["revenova"].items()}
    fields["key_password"] = "wrong"

    page = client_as(tenant_a, EDITOR).post(
        "/admin/connectors/connection/add/?connector=revenova",
        {"name": "TMS", "environment": "local", **fields},
        follow=True,
    )

    text = page.content.decode()
    assert "INVALID_LOGIN" in text or "refused" in text
    assert "successfully" not in text
    with tenant_context(tenant_a):
        assert not Connection.objects.exists()


def test_actions_test_refresh_and_disable(tenant_a, qbo):
    editor = client_as(tenant_a, EDITOR)
    connection = connect(tenant_a, editor, qbo, connector="quickbooks", name="Books")
    url = "/admin/connectors/connection/"

    tested = editor.post(url, {"action": "test_selected", "_selected_action": [connection.pk]})
    refreshed = editor.post(
        url, {"action": "refresh_selected", "_selected_action": [connection.pk]}, follow=True
    )
    disabled = editor.post(
        url, {"action": "disable_selected", "_selected_action": [connection.pk]}, follow=True
    )

    assert tested.status_code == 302
    assert "1 connection(s) refreshed." in refreshed.content.decode()
    assert "1 connection(s) disabled." in disabled.content.decode()
    with tenant_context(tenant_a):
        assert Connection.objects.get(pk=connection.pk).status == "disabled"


def test_deleting_revokes_at_the_provider(tenant_a, qbo):
    editor = client_as(tenant_a, EDITOR)
    connection = connect(tenant_a, editor, qbo, connector="quickbooks", name="Books")
    revoked_before = qbo.state()["oauth"]["revoked"]["refresh"]

    editor.post(f"/admin/connectors/connection/{connection.pk}/delete/", {"post": "yes"})

    assert qbo.state()["oauth"]["revoked"]["refresh"] > revoked_before
    with tenant_context(tenant_a):
        assert not Connection.objects.filter(pk=connection.pk).exists()


def test_a_needs_reauth_connection_shows_a_reconnect_banner(tenant_a):
    with tenant_context(tenant_a):
        connection = ConnectionFactory(name="Books", connected=True)
        Connection.objects.filter(pk=connection.pk).update(
            status="needs_reauth", last_error="invalid_grant"
        )
    editor = client_as(tenant_a, EDITOR)

    listing = editor.get("/admin/connectors/connection/").content.decode()
    page = editor.get(f"/admin/connectors/connection/{connection.pk}/change/").content.decode()

    assert "Books needs reconnecting" in listing
    assert "Reconnect" in page
    assert 'id="connect"' in page
