"""The SDK's strict HTTP mock: no request without a stub, no stub without a request."""

from __future__ import annotations

import contextlib
import re

import pytest
import requests

from connectors.sdk.testing import StrictHTTPMock

URL = "https://api.example.test/v1/things"


def test_a_stub_answers_and_the_call_is_recorded():
    with StrictHTTPMock() as mock:
        mock.add("POST", URL, status=201, json={"id": 7})
        response = requests.post(URL, json={"name": "a"}, timeout=5)

    assert response.status_code == 201 and response.json() == {"id": 7}
    assert [call.request.url for call in mock.calls] == [URL]
    assert mock.calls[0].request.body == b'{"name": "a"}'


def test_stubs_for_one_url_answer_in_order():
    with StrictHTTPMock() as mock:
        mock.add("GET", URL, status=401)
        mock.add("GET", URL, json={"ok": True})
        statuses = [requests.get(URL, timeout=5).status_code for _ in range(2)]

    assert statuses == [401, 200]


def test_a_request_without_a_stub_is_refused_naming_its_url():
    with (
        pytest.raises(AssertionError, match="no stub"),
        StrictHTTPMock(),
        pytest.raises(requests.ConnectionError) as refused,
    ):
        requests.get("https://elsewhere.test/x", timeout=5)

    assert "GET https://elsewhere.test/x" in str(refused.value)


def test_an_unstubbed_request_fails_the_test_even_when_the_code_swallowed_it():
    with (
        pytest.raises(AssertionError, match=r"no stub.*GET https://elsewhere\.test/x"),
        StrictHTTPMock(),
        contextlib.suppress(requests.ConnectionError),  # what a careless client would do
    ):
        requests.get("https://elsewhere.test/x", timeout=5)


def test_an_unused_stub_fails_the_test():
    with (
        pytest.raises(AssertionError, match=f"never called: POST {re.escape(URL)}"),
        StrictHTTPMock() as mock,
    ):
        mock.add("POST", URL, json={})


def test_a_failure_inside_the_block_is_the_one_reported():
    with pytest.raises(KeyError, match="original"), StrictHTTPMock() as mock:
        mock.add("POST", URL, json={})
        raise KeyError("original")


def test_a_stubbed_exception_is_raised_and_is_not_an_unstubbed_request():
    with StrictHTTPMock() as mock:
        mock.add("GET", URL, body=requests.ReadTimeout("slow"))
        with pytest.raises(requests.ReadTimeout):
            requests.get(URL, timeout=5)

    assert len(mock.calls) == 1
