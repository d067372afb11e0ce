"""The Salesforce sandbox as a real process: the web-server flow with PKCE required,
the token body's shape and signature, rotation off and on, revoke, REST calls and
INVALID_SESSION_ID, faults and the org limit."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from connectors.sdk.testing import CALLBACK, authorize

MODULE = "connectors.salesforce.sandbox"
CLIENT_ID = "nexiom-dev-salesforce"
SECRET = "dev-secret-salesforce"
ORG = "00D5e000000KqTzEAK"
USER = "0055e000007HsQwAAK"
VERIFIER = "a-verifier-of-enough-length-0123456789-abcdefghij"
AUTHORIZE = "/services/oauth2/authorize"
TOKEN = "/services/oauth2/token"
INVOICE_ID = "a0M5e00000Lk3QaEAJ"


@pytest.fixture(scope="module")
def sf(sandbox_process):
    return sandbox_process(MODULE)


@pytest.fixture(autouse=True)
def _fresh(sf):
    sf.reset()


def connect(sandbox, scope="refresh_token api") -> dict:
    params = authorize(sandbox, path=AUTHORIZE, client_id=CLIENT_ID, scope=scope, verifier=VERIFIER)
    response = sandbox.http.post(
        sandbox.url(TOKEN),
        data={
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": CALLBACK,
            "code_verifier": VERIFIER,
            "client_id": CLIENT_ID,
            "client_secret": SECRET,
        },
        timeout=5,
    )
    assert response.status_code == 200, response.text
    return response.json()


def refresh(sandbox, refresh_token):
    return sandbox.http.post(
        sandbox.url(TOKEN),
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": CLIENT_ID,
            "client_secret": SECRET,
        },
        timeout=5,
    )


def rest(sandbox, tokens, path):
    return sandbox.http.get(
        tokens["instance_url"] + path,
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=5,
    )


def test_authorize_without_a_code_challenge_is_refused(sf):
    params = authorize(sf, path=AUTHORIZE, client_id=CLIENT_ID, scope="api", state="s1")

    assert params == {
        "error": "invalid_request",
        "error_description": "missing required code challenge.",
        "state": "s1",
    }


def test_token_body_has_salesforce_shape_and_a_valid_signature(sf):
    body = connect(sf)

    assert set(body) == {
        "access_token",
        "refresh_token",
        "signature",
        "scope",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
    }
    assert "expires_in" not in body  # S5
    assert body["instance_url"] == sf.base_url
    assert body["id"] == f"{sf.base_url}/id/{ORG}/{USER}"
    assert body["token_type"] == "Bearer" and body["scope"] == "refresh_token api"
    assert body["issued_at"].isdigit() and len(body["issued_at"]) == 13  # milliseconds (S6)
    expected = hmac.new(
        SECRET.encode(), (body["id"] + body["issued_at"]).encode(), hashlib.sha256
    ).digest()
    assert base64.b64decode(body["signature"]) == expected


def test_no_refresh_token_without_the_refresh_scope(sf):
    body = connect(sf, scope="api")

    assert "refresh_token" not in body


def test_pkce_mismatch_is_refused(sf):
    params = authorize(sf, path=AUTHORIZE, client_id=CLIENT_ID, scope="api", verifier=VERIFIER)
    exchange = {
        "grant_type": "authorization_code",
        "code": params["code"],
        "redirect_uri": CALLBACK,
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
    }

    wrong = sf.http.post(sf.url(TOKEN), data={**exchange, "code_verifier": "x" * 50}, timeout=5)
    missing = sf.http.post(sf.url(TOKEN), data=exchange, timeout=5)

    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_request")  # S3
    assert (missing.status_code, missing.json()["error"]) == (400, "invalid_grant")  # S3
    assert sf.state()["oauth"]["issued"]["access"] == 0


def test_refresh_without_rotation_keeps_the_refresh_token(sf):
    tokens = connect(sf)

    first = refresh(sf, tokens["refresh_token"])
    second = refresh(sf, tokens["refresh_token"])

    assert first.status_code == second.status_code == 200
    assert "refresh_token" not in first.json()  # S7: keep the old one
    assert first.json()["access_token"] != tokens["access_token"]
    assert rest(sf, second.json(), "/services/data/v62.0/limits").status_code == 200


def test_rotation_on_kills_the_replaced_refresh_token_at_once(sandbox_process):
    sandbox = sandbox_process(MODULE, "--rotate-refresh-tokens")
    tokens = connect(sandbox)

    rotated = refresh(sandbox, tokens["refresh_token"])
    reused = refresh(sandbox, tokens["refresh_token"])
    newest = refresh(sandbox, rotated.json()["refresh_token"])

    assert rotated.status_code == 200
    assert rotated.json()["refresh_token"] != tokens["refresh_token"]
    assert (reused.status_code, reused.json()["error"]) == (400, "invalid_grant")
    assert newest.status_code == 200


def test_revoke_kills_refresh_and_access_tokens(sf):
    tokens = connect(sf)

    revoked = sf.http.post(
        sf.url("/services/oauth2/revoke"), data={"token": tokens["refresh_token"]}, timeout=5
    )
    unknown = sf.http.post(sf.url("/services/oauth2/revoke"), data={"token": "nope"}, timeout=5)
    after = refresh(sf, tokens["refresh_token"])
    call = rest(sf, tokens, "/services/oauth2/userinfo")

    assert revoked.status_code == 200
    assert (unknown.status_code, unknown.json()["error"]) == (400, "invalid_token")  # S8
    assert after.status_code == 400
    assert after.json() == {
        "error": "invalid_grant",
        "error_description": "Incorrect or invalid refresh token",
    }
    assert call.status_code == 401


def test_expired_session_is_invalid_session_id_and_refresh_recovers(sf):
    tokens = connect(sf)
    sf.expire(all=True)

    refused = rest(sf, tokens, "/services/data/v62.0/limits")
    renewed = {**tokens, **refresh(sf, tokens["refresh_token"]).json()}

    assert refused.status_code == 401
    assert refused.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]
    assert refused.headers["WWW-Authenticate"] == "Token"  # S10
    assert rest(sf, renewed, "/services/data/v62.0/limits").status_code == 200


def test_userinfo_limits_and_a_seeded_record(sf):
    tokens = connect(sf)

    info = rest(sf, tokens, "/services/oauth2/userinfo").json()
    limits = [rest(sf, tokens, "/services/data/v62.0/limits").json() for _ in range(2)]
    record = rest(
        sf, tokens, f"/services/data/v62.0/sobjects/rtms__CustomerInvoice__c/{INVOICE_ID}"
    )
    missing = rest(sf, tokens, "/services/data/v62.0/sobjects/rtms__CustomerInvoice__c/a0M000")

    assert (info["organization_id"], info["user_id"]) == (ORG, USER)
    assert (
        limits[0]["DailyApiRequests"]["Remaining"] - 1 == limits[1]["DailyApiRequests"]["Remaining"]
    )
    assert record.json()["Name"] == "INV-104233"
    assert record.json()["rtms__Balance_Due__c"] == 2437.5
    assert record.json()["attributes"]["type"] == "rtms__CustomerInvoice__c"
    assert missing.status_code == 404 and missing.json()[0]["errorCode"] == "NOT_FOUND"


def test_injected_faults_use_salesforce_error_arrays(sf):
    tokens = connect(sf)
    sf.inject(status=503, count=1)
    sf.inject(status=429, count=1)
    sf.inject(status=401, count=1, path_prefix="/services/oauth2/userinfo")

    unavailable = rest(sf, tokens, "/services/data/v62.0/limits")
    limited = rest(sf, tokens, "/services/data/v62.0/limits")
    expired = rest(sf, tokens, "/services/oauth2/userinfo")
    fine = rest(sf, tokens, "/services/oauth2/userinfo")

    assert (unavailable.status_code, unavailable.json()[0]["errorCode"]) == (
        503,
        "SERVER_UNAVAILABLE",
    )
    assert (limited.status_code, limited.json()[0]["errorCode"]) == (429, "REQUEST_LIMIT_EXCEEDED")
    assert (expired.status_code, expired.json()[0]["errorCode"]) == (401, "INVALID_SESSION_ID")
    assert fine.status_code == 200
    assert sf.state()["faults"]["served_total"] == 3


def test_a_fault_on_the_token_endpoint_needs_its_path_prefix(sf):
    tokens = connect(sf)
    sf.inject(status=503, count=1)  # API routes only
    sf.inject(status=500, count=1, path_prefix=TOKEN)

    down = refresh(sf, tokens["refresh_token"])
    up = refresh(sf, tokens["refresh_token"])

    assert down.status_code == 500
    assert up.status_code == 200
    assert len(sf.state()["faults"]["pending"]) == 1


def test_org_rate_limit_answers_403_request_limit_exceeded(sandbox_process):
    sandbox = sandbox_process(MODULE, "--rate-limit", "3", "--rate-window", "60")
    tokens = connect(sandbox)

    statuses = [rest(sandbox, tokens, "/services/data/v62.0/limits") for _ in range(4)]

    assert [r.status_code for r in statuses] == [200, 200, 200, 403]  # S11
    assert statuses[-1].json()[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
