"""Hostile request bodies get a 4xx in the one error shape, never a 500.

The sweep walks every API route of the tenant URLconf (so a new endpoint is
swept without editing this file), fills ``{pk}`` with real rows, and sends each
hostile body with every method the route allows, as a signed-in Admin. Where
the OpenAPI schema says the operation takes a body, the answer must be a
400/413/415 error body; everywhere else it must simply not be a 5xx.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django_tenants.utils import tenant_context
from drf_spectacular.generators import SchemaGenerator
from rest_framework.parsers import JSONParser
from rest_framework.views import APIView

from accounts.models import Invitation
from accounts.roles import Role
from accounts.services import api_token_create, invitation_create
from connectors.services import connection_create
from nexiom.parsers import MAX_JSON_DEPTH, BoundedJSONParser, json_loads_bounded
from tests.factories import RouteFactory, SyncEventFactory
from tests.helpers import client_for, member

TENANT_URLCONF = "nexiom.urls_tenant"
MIB = 1024 * 1024


@dataclass(frozen=True)
class Hostile:
    name: str
    body: bytes
    content_type: str = "application/json"
    status: tuple[int, ...] = (400,)  # where the body is read


HOSTILE = [
    Hostile("deep-arrays", b"[" * 5000 + b"]" * 5000),
    Hostile("deep-objects", b'{"role":' * 5000 + b'"Admin"' + b"}" * 5000),
    Hostile(
        "one-level-too-deep", b'{"role": ' + b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH + b"}"
    ),
    Hostile("huge", b'{"role": "' + b"x" * (2 * MIB) + b'"}', status=(413,)),
    Hostile("just-over-1-MiB", b'{"role": "' + b"x" * MIB + b'"}', status=(413,)),
    Hostile("invalid-utf-8", b'{"role": "\xff\xfe\xc3("}'),
    Hostile("nan", b'{"role": NaN, "email": "a@example.com", "name": "x"}'),
    Hostile("infinity", b'{"role": Infinity, "email": "a@example.com", "name": "x"}'),
    Hostile("minus-infinity", b'{"expires_in_days": -Infinity, "name": "x"}'),
    Hostile("overflowing-float", b'{"expires_in_days": 1e999, "name": "x"}'),
    Hostile("huge-integer", b'{"expires_in_days": ' + b"9" * 5000 + b', "name": "x"}'),
    Hostile("array", b'["Admin", {"role": "Admin"}]'),
    Hostile("string", b'"Admin"'),
    Hostile("number", b"42"),
    Hostile("null", b"null"),
    Hostile(
        "duplicate-keys",
        b'{"role": "Viewer", "role": "Admin", "email": "a@example.com", '
        b'"email": "b@example.com", "name": "x", "name": "y"}',
    ),
    Hostile("not-json-at-all", b"{role: Admin,,}"),
    Hostile("empty-json", b"", status=(400,)),
    Hostile("text-plain", b'{"role": "Admin"}', content_type="text/plain", status=(415,)),
    Hostile(
        "bad-charset", b'{"role": "Admin"}', content_type="application/json; charset=bz2_codec"
    ),
]


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    path: str
    schema_path: str  # the same route as the OpenAPI schema spells it


def _walk(resolver: URLResolver):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern)
        elif isinstance(pattern, URLPattern):
            yield pattern


def _methods_of(callback) -> list[str]:
    actions = getattr(callback, "actions", None)
    if actions:  # a viewset route: its method -> action map
        methods = [m.upper() for m in actions]
    else:
        view_class = callback.cls
        methods = [m.upper() for m in view_class.http_method_names if hasattr(view_class, m)]
    if "GET" in methods:
        methods.append("HEAD")
    # DELETE last: a route whose row it really removes must still be swept by the others.
    return sorted({*methods, "OPTIONS"}, key=lambda method: (method == "DELETE", method))


def api_routes(pks: dict[str, int]) -> list[Route]:
    """Every DRF route under /api/ of the tenant URLconf, with every method it allows."""
    routes = []
    for pattern in _walk(get_resolver(TENANT_URLCONF)):
        view_class = getattr(pattern.callback, "cls", None)
        if not (view_class and issubclass(view_class, APIView)) or not pattern.name:
            continue
        groups = set(pattern.pattern.regex.groupindex)
        if "format" in groups:
            continue  # the router's ".json" twins of the routes below
        basename = pattern.name.rsplit("-", 1)[0]
        assert groups <= {"pk"}, f"{pattern.name}: fill {groups} in this sweep"
        if groups and basename not in pks:
            raise AssertionError(f"add a row for {basename!r} to the sweep's fixture")
        path = reverse(
            pattern.name, kwargs={"pk": pks[basename]} if groups else {}, urlconf=TENANT_URLCONF
        )
        if not path.startswith("/api/"):
            continue
        template = reverse(
            pattern.name, kwargs={"pk": "{id}"} if groups else {}, urlconf=TENANT_URLCONF
        )
        for method in _methods_of(pattern.callback):
            routes.append(Route(pattern.name, method, path, unquote(template)))
    return routes


@pytest.fixture(scope="module")
def openapi() -> dict:
    return SchemaGenerator(urlconf=TENANT_URLCONF).get_schema(request=None, public=True)


def reads_body(openapi: dict, route: Route) -> bool:
    operation = openapi["paths"].get(route.schema_path, {}).get(route.method.lower(), {})
    return "requestBody" in operation


@pytest.fixture
def admin_client(tenant_a) -> tuple[Client, dict[str, int]]:
    admin = member(tenant_a, "boss", Role.ADMIN)
    target = member(tenant_a, "target", Role.VIEWER)
    with tenant_context(tenant_a):
        invitation = invitation_create(email="p@example.com", role=Role.VIEWER, invited_by=admin)
        token = api_token_create(user=admin, name="mine").token
        connection = connection_create(connector="quickbooks", name="Books", environment="local")
        route = RouteFactory(target=connection)
        event = SyncEventFactory(record_id=1)
    client = client_for(tenant_a)
    client.raise_request_exception = False  # a 500 is counted, not raised
    with tenant_context(tenant_a):
        client.force_login(admin)
    return client, {
        "user": target.pk,
        "invitation": invitation.pk,
        "apitoken": token.pk,
        "connection": connection.pk,
        "route": route.pk,
        "sync-history": event.pk,
    }


def test_the_sweep_covers_the_whole_api(admin_client, openapi):
    _, pks = admin_client

    routes = api_routes(pks)

    covered = {(r.method, r.schema_path) for r in routes if reads_body(openapi, r)}
    assert {
        ("PATCH", "/api/users/{id}/"),
        ("POST", "/api/invitations/"),
        ("POST", "/api/tokens/"),
    } <= covered
    assert {"me", "user-deactivate", "invitation-resend", "apitoken-detail"} <= {
        r.name for r in routes
    }


@pytest.mark.parametrize("hostile", HOSTILE, ids=lambda h: h.name)
def test_no_api_route_answers_a_hostile_body_with_a_5xx(admin_client, openapi, hostile):
    client, pks = admin_client
    problems = []

    for route in api_routes(pks):
        response = client.generic(
            route.method, route.path, hostile.body, content_type=hostile.content_type
        )

        where = f"{route.method} {route.path}: {response.status_code}"
        if response.status_code >= 500:
            problems.append(where)
        elif reads_body(openapi, route):
            if response.status_code not in hostile.status:
                problems.append(f"{where}, expected {hostile.status}")
            elif set(response.json()) != {"error"}:
                problems.append(f"{where}: not the error shape: {response.content[:200]!r}")

    assert problems == []


def test_a_refusal_names_the_problem_in_the_error_shape(admin_client):
    client, pks = admin_client

    deep = client.patch(
        f"/api/users/{pks['user']}/", b"[" * 5000 + b"]" * 5000, content_type="application/json"
    )
    huge = client.post(
        "/api/invitations/",
        b'{"email": "' + b"x" * (2 * MIB) + b'"}',
        content_type="application/json",
    )
    twice = client.post(
        "/api/invitations/",
        b'{"email": "a@example.com", "role": "Viewer", "role": "Admin"}',
        content_type="application/json",
    )

    assert deep.status_code == 400
    assert deep.json() == {
        "error": {
            "code": "parse_error",
            "message": f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels",
            "fields": {},
        }
    }
    assert huge.status_code == 413
    assert huge.json()["error"]["code"] == "too_large"
    assert twice.status_code == 400
    assert twice.json()["error"]["message"] == "JSON parse error - duplicate key 'role'"


def test_a_body_at_the_limits_is_still_accepted(admin_client, tenant_a):
    client, _ = admin_client
    padding = " " * (MIB - 200)  # whitespace: well-formed JSON close to 1 MiB
    body = f'{{"email": "ok@example.com", "role": "Viewer"{padding}}}'.encode()

    response = client.post("/api/invitations/", body, content_type="application/json")

    assert response.status_code == 201, response.content[:300]


def test_the_parser_accepts_exactly_the_maximum_depth():
    nested = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    brackets_in_strings = '{"a": "' + "[" * 1000 + '", "b": "\\"[[["}'

    assert json_loads_bounded(nested) is not None
    assert json_loads_bounded(brackets_in_strings)["a"] == "[" * 1000
    with pytest.raises(ValueError, match="nested deeper than 32 levels"):
        json_loads_bounded("[" + nested + "]")
    assert issubclass(BoundedJSONParser, JSONParser)


# --- The Desk: Django forms bound the body too --------------------------------------


@pytest.fixture
def desk_admin(tenant_a) -> Client:
    admin = member(tenant_a, "boss", Role.ADMIN)
    client = client_for(tenant_a)
    with tenant_context(tenant_a):
        client.force_login(admin)
    return client


def test_desk_form_refuses_an_oversized_body_with_400(desk_admin):
    body = "email=a%40example.com&role=Viewer&note=" + "x" * (2 * MIB)

    response = desk_admin.post(
        "/admin/accounts/invitation/add/", body, content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 400


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b"email=%FF%FE%00&role=\xff\xfe", "application/x-www-form-urlencoded"),
        (b"[" * 5000 + b"]" * 5000, "application/json"),
        (b"&".join(b"f%d=x" % i for i in range(2000)), "application/x-www-form-urlencoded"),
    ],
    ids=["invalid-utf-8", "deep-json", "too-many-fields"],
)
def test_desk_form_never_answers_garbage_with_a_5xx(desk_admin, tenant_a, body, content_type):
    response = desk_admin.post("/admin/accounts/invitation/add/", body, content_type=content_type)

    assert response.status_code in (200, 400), response.status_code
    with tenant_context(tenant_a):
        assert not Invitation.objects.exists()
