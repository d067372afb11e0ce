"""The API docs work offline (Swagger UI served by the app); the schema documents auth, errors."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from tests.helpers import client_for


class _References(HTMLParser):
    """Every src= and href= of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


@pytest.fixture
def docs_page(tenant_a) -> str:
    """The page, with its inline scripts' \\uXXXX escapes decoded (URLs hide in them)."""
    response = client_for(tenant_a).get("/api/docs/")
    assert response.status_code == 200
    return re.sub(r"\\u([0-9A-Fa-f]{4})", lambda m: chr(int(m[1], 16)), response.content.decode())


def test_the_docs_page_names_no_external_host(docs_page):
    references = _References()
    references.feed(docs_page)

    assert references.urls, "Swagger UI's page references its assets"
    assert [url for url in references.urls if urlsplit(url).netloc] == []
    assert re.findall(r"(?:https?:)?//[\w.-]+\.\w+", docs_page) == []
    # Swagger UI's validator badge would send the schema URL to swagger.io.
    assert '"validatorUrl": null' in docs_page


def test_every_asset_of_the_docs_page_is_served_by_the_app(tenant_a, docs_page):
    references = _References()
    references.feed(docs_page)
    client = client_for(tenant_a)

    answers = {}
    for url in references.urls:
        response = client.get(url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        answers[url] = (response.status_code, len(body) > 0)

    assert {url for url in answers if url.endswith(".js")} >= {
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-standalone-preset.js",
    }
    assert answers == {url: (200, True) for url in answers}


def test_the_page_loads_the_schema_from_the_same_host(tenant_a, docs_page):
    schema_url = re.search(r'\burl: "([^"]+)"', docs_page)[1]

    response = client_for(tenant_a).get(schema_url, HTTP_ACCEPT="application/json")

    assert schema_url == "/api/schema/"
    assert response.status_code == 200


@pytest.fixture
def schema(tenant_a) -> dict:
    response = client_for(tenant_a).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return response.json()


def test_the_schema_declares_the_bearer_token_scheme(schema):
    scheme = schema["components"]["securitySchemes"]["bearerToken"]

    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == (
        "http",
        "bearer",
        "nxm_...",
    )
    operations = [op for path in schema["paths"].values() for op in path.values()]
    assert all({"bearerToken": []} in op["security"] for op in operations)


def test_every_4xx_response_references_the_one_error_component(schema):
    error_responses = {
        (path, method, code): response
        for path, operations in schema["paths"].items()
        for method, op in operations.items()
        for code, response in op["responses"].items()
        if code.startswith("4")
    }

    assert error_responses
    assert {
        key: response["content"]["application/json"]["schema"]
        for key, response in error_responses.items()
    } == {key: {"$ref": "#/components/schemas/Error"} for key in error_responses}
    assert ("/api/users/{id}/", "patch", "400") in error_responses
    assert ("/api/users/{id}/", "patch", "404") in error_responses
    assert ("/api/invitations/", "post", "413") in error_responses
    assert ("/api/me/", "get", "401") in error_responses
    assert schema["components"]["schemas"]["Error"]["properties"]["error"] == {
        "$ref": "#/components/schemas/ErrorDetail"
    }
    assert set(schema["components"]["schemas"]["ErrorDetail"]["properties"]) == {
        "code",
        "message",
        "fields",
    }
