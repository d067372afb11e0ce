"""What the API fuzzing (tests/security/test_api_fuzz.py) found, pinned one by one.

- An ``/api/`` path no route matches (an id with a dot: ``/api/routes/1.5/``)
  answered Django's HTML 404 page instead of the API's JSON error body.
- A page past the last one (``?page=999``) or a forged cursor answers 404, which
  no list operation documented.
- The history list's filters answer 400, which it did not document.
- The connection actions' state and provider refusals (409, 422, 429, 503), and
  the invitations' and users' conflicts (409), were undocumented.
"""

from __future__ import annotations

import pytest

from accounts.roles import Role
from tests.helpers import client_as, client_for


def test_an_unrouted_api_path_answers_the_json_error_body(tenant_a):
    client = client_as(tenant_a, Role.VIEWER)

    response = client.get("/api/routes/1.5/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "error": {"code": "not_found", "message": "Not found.", "fields": {}}
    }


def test_an_unrouted_page_outside_the_api_keeps_the_html_page(tenant_a):
    response = client_for(tenant_a).get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_page_past_the_last_one_answers_404_in_the_error_body(tenant_a):
    response = client_as(tenant_a, Role.VIEWER).get("/api/routes/?page=999")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.fixture
def schema(tenant_a) -> dict:
    response = client_for(tenant_a).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return response.json()


def _statuses(schema: dict, method: str, path: str) -> set[str]:
    return set(schema["paths"][path][method]["responses"])


@pytest.mark.parametrize(
    "path",
    [
        "/api/connections/",
        "/api/invitations/",
        "/api/routes/",
        "/api/sync-history/",
        "/api/tokens/",
        "/api/users/",
    ],
)
def test_every_paged_list_documents_the_404_of_a_page_that_does_not_exist(schema, path):
    assert "404" in _statuses(schema, "get", path)


def test_lists_that_are_not_paged_document_no_404(schema):
    assert "404" not in _statuses(schema, "get", "/api/connectors/")


@pytest.mark.parametrize(
    ("method", "path", "statuses"),
    [
        ("get", "/api/sync-history/", {"200", "400"}),
        ("post", "/api/connections/", {"201", "400", "409", "422", "429", "503"}),
        ("delete", "/api/connections/{id}/", {"204", "409"}),
        ("post", "/api/connections/{id}/authorize/", {"200", "400", "409"}),
        ("post", "/api/connections/{id}/test/", {"200", "409"}),
        ("post", "/api/connections/{id}/refresh/", {"200", "409", "422", "429", "503"}),
        ("post", "/api/invitations/{id}/resend/", {"200", "409"}),
        ("post", "/api/invitations/", {"201", "409"}),
        ("delete", "/api/invitations/{id}/", {"204", "409"}),
        ("patch", "/api/users/{id}/", {"200", "409"}),
        ("post", "/api/users/{id}/deactivate/", {"200", "409"}),
    ],
)
def test_refusals_found_by_the_fuzzing_are_documented(schema, method, path, statuses):
    documented = _statuses(schema, method, path)

    assert statuses <= documented
    for status in statuses - {"200", "201", "204"}:
        body = schema["paths"][path][method]["responses"][status]["content"]["application/json"]
        assert body["schema"] == {"$ref": "#/components/schemas/Error"}
