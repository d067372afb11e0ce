"""The QuickBooks Online sandbox as a real process: OAuth with Intuit's rules, the v3
API's checks and faults, requestid idempotency, fault injection and throttling."""

from __future__ import annotations

import copy
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from connectors.sdk.testing import CALLBACK, authorize, basic

MODULE = "connectors.quickbooks.sandbox"
CLIENT_ID = "nexiom-dev-quickbooks"
SECRET = "dev-secret-quickbooks"
SCOPE = "com.intuit.quickbooks.accounting"
REALM = "9341453908059321"  # the first company's realm: the fixtures' one

# fixtures/qbo_invoice_create_request.json (CustomerRef 58 is the first customer created).
INVOICE = {
    "DocNumber": "INV-104233",
    "TxnDate": "2025-03-14",
    "DueDate": "2025-04-13",
    "CustomerRef": {"value": "58", "name": "Great Lakes Packaging & Supply Co."},
    "CurrencyRef": {"value": "USD"},
    "PrivateNote": "Revenova Load-104877 | rtms__CustomerInvoice__c a0M5e00000Lk3QaEAJ",
    "Line": [
        {
            "LineNum": n,
            "Description": description,
            "Amount": amount,
            "DetailType": "SalesItemLineDetail",
            "SalesItemLineDetail": {
                "ItemRef": {"value": item},
                "Qty": 1,
                "UnitPrice": amount,
            },
        }
        for n, (description, amount, item) in enumerate(
            [
                ("Linehaul - Load-104877", 1850.00, "21"),
                ("Fuel Surcharge - Load-104877", 412.50, "22"),
                ("Accessorial: Lift Gate Delivery", 75.00, "23"),
                ("Accessorial: Detention", 100.00, "24"),
            ],
            start=1,
        )
    ],
}


@pytest.fixture(scope="module")
def qbo(sandbox_process):
    return sandbox_process(MODULE)


@pytest.fixture(autouse=True)
def _fresh(qbo):
    qbo.reset()


def connect(sandbox, **kwargs) -> dict:
    """Consent, then exchange the code; the token body plus the realm from the redirect."""
    params = authorize(sandbox, path="/oauth/authorize", client_id=CLIENT_ID, scope=SCOPE, **kwargs)
    response = sandbox.http.post(
        sandbox.url("/oauth/token"),
        data={"grant_type": "authorization_code", "code": params["code"], "redirect_uri": CALLBACK},
        headers=basic(CLIENT_ID, SECRET),
        timeout=5,
    )
    assert response.status_code == 200, response.text
    return {**response.json(), "realmId": params["realmId"]}


def refresh(sandbox, refresh_token: str) -> requests.Response:
    return sandbox.http.post(
        sandbox.url("/oauth/token"),
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        headers=basic(CLIENT_ID, SECRET),
        timeout=5,
    )


def api(sandbox, tokens, method, path, *, minor="75", **kwargs) -> requests.Response:
    params = kwargs.pop("params", {})
    if minor is not None:
        params["minorversion"] = minor
    return sandbox.http.request(
        method,
        sandbox.url(f"/v3/company/{tokens['realmId']}/{path}"),
        params=params,
        headers={"Authorization": f"Bearer {tokens['access_token']}", "Accept": "application/json"},
        timeout=10,
        **kwargs,
    )


def create_customer(sandbox, tokens, name="Great Lakes Packaging & Supply Co.") -> dict:
    response = api(sandbox, tokens, "POST", "customer", json={"DisplayName": name})
    assert response.status_code == 200, response.text
    return response.json()["Customer"]


# --- OAuth ------------------------------------------------------------------------------------


def test_consent_page_redirect_with_realm_and_token_body(qbo):
    page = qbo.http.get(
        qbo.url("/oauth/authorize"),
        params={
            "client_id": CLIENT_ID,
            "response_type": "code",
            "redirect_uri": CALLBACK,
            "scope": SCOPE,
            "state": "s",
        },
        timeout=5,
    )
    assert "<title>QuickBooks Online sandbox — authorize Nexiom</title>" in page.text
    assert 'id="approve"' in page.text and 'id="deny"' in page.text

    params = authorize(qbo, path="/oauth/authorize", client_id=CLIENT_ID, scope=SCOPE, state="xyz")
    response = qbo.http.post(
        qbo.url("/oauth/token"),
        data={"grant_type": "authorization_code", "code": params["code"], "redirect_uri": CALLBACK},
        headers=basic(CLIENT_ID, SECRET),
        timeout=5,
    )

    assert params["state"] == "xyz" and params["realmId"] == REALM
    body = response.json()
    assert set(body) == {
        "token_type",
        "access_token",
        "expires_in",
        "refresh_token",
        "x_refresh_token_expires_in",
    }
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert 8_726_000 < body["x_refresh_token_expires_in"] <= 8_726_400
    assert response.headers["intuit_tid"]
    info = api(qbo, {**body, "realmId": REALM}, "GET", f"companyinfo/{REALM}")
    assert info.status_code == 200 and info.json()["CompanyInfo"]["CompanyName"]


def test_same_client_reconnecting_gets_the_same_company(qbo):
    first = authorize(qbo, path="/oauth/authorize", client_id=CLIENT_ID, scope=SCOPE)
    second = authorize(qbo, path="/oauth/authorize", client_id=CLIENT_ID, scope=SCOPE)

    assert first["realmId"] == second["realmId"] == REALM
    assert list(qbo.state()["data"]["companies"]) == [REALM]


def test_company_per_consent_gives_each_tenant_its_own_company(sandbox_process):
    # The benchmarks' tenants each connect their own QuickBooks, as in production.
    sandbox = sandbox_process(MODULE, "--company-per-consent")
    first = connect(sandbox)
    second = connect(sandbox)

    assert first["realmId"] != second["realmId"]
    assert set(sandbox.state()["data"]["companies"]) == {first["realmId"], second["realmId"]}
    # Each token opens its own company only.
    assert api(sandbox, first, "GET", f"companyinfo/{first['realmId']}").status_code == 200
    other = api(sandbox, {**first, "realmId": second["realmId"]}, "GET", "companyinfo/1")
    assert other.status_code == 403


def test_deny_redirects_with_access_denied(qbo):
    params = authorize(
        qbo, path="/oauth/authorize", client_id=CLIENT_ID, scope=SCOPE, state="st", decision="deny"
    )

    assert params["error"] == "access_denied" and params["state"] == "st"
    assert "code" not in params
    assert qbo.state()["oauth"]["issued"]["code"] == 0


def test_unknown_client_or_redirect_uri_is_answered_on_the_sandbox(qbo):
    base = {"client_id": CLIENT_ID, "response_type": "code", "scope": SCOPE, "state": "s"}
    evil = qbo.http.get(
        qbo.url("/oauth/authorize"),
        params={**base, "redirect_uri": "https://evil.example/api/callback/"},
        allow_redirects=False,
        timeout=5,
    )
    stranger = qbo.http.get(
        qbo.url("/oauth/authorize"),
        params={**base, "client_id": "someone", "redirect_uri": CALLBACK},
        allow_redirects=False,
        timeout=5,
    )

    assert evil.status_code == 400 and "Location" not in evil.headers
    assert stranger.status_code == 400 and "Location" not in stranger.headers


def test_code_is_single_use_and_bound_to_its_redirect_uri(qbo):
    params = authorize(qbo, path="/oauth/authorize", client_id=CLIENT_ID, scope=SCOPE)
    exchange = {"grant_type": "authorization_code", "code": params["code"]}

    wrong_uri = qbo.http.post(
        qbo.url("/oauth/token"),
        data={**exchange, "redirect_uri": "http://localhost:8000/api/callback/other"},
        headers=basic(CLIENT_ID, SECRET),
        timeout=5,
    )
    first = qbo.http.post(
        qbo.url("/oauth/token"),
        data={**exchange, "redirect_uri": CALLBACK},
        headers=basic(CLIENT_ID, SECRET),
        timeout=5,
    )
    replay = qbo.http.post(
        qbo.url("/oauth/token"),
        data={**exchange, "redirect_uri": CALLBACK},
        headers=basic(CLIENT_ID, SECRET),
        timeout=5,
    )

    assert wrong_uri.status_code == 400 and wrong_uri.json()["error"] == "invalid_grant"
    assert first.status_code == 200
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"


def test_pkce_verifier_must_match_the_challenge(qbo):
    verifier = "v" * 50
    params = authorize(
        qbo, path="/oauth/authorize", client_id=CLIENT_ID, scope=SCOPE, verifier=verifier
    )
    exchange = {
        "grant_type": "authorization_code",
        "code": params["code"],
        "redirect_uri": CALLBACK,
    }

    missing = qbo.http.post(
        qbo.url("/oauth/token"), data=exchange, headers=basic(CLIENT_ID, SECRET), timeout=5
    )
    wrong = qbo.http.post(
        qbo.url("/oauth/token"),
        data={**exchange, "code_verifier": "w" * 50},
        headers=basic(CLIENT_ID, SECRET),
        timeout=5,
    )
    right = qbo.http.post(
        qbo.url("/oauth/token"),
        data={**exchange, "code_verifier": verifier},
        headers=basic(CLIENT_ID, SECRET),
        timeout=5,
    )

    assert (missing.status_code, missing.json()["error"]) == (400, "invalid_grant")
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")
    assert right.status_code == 200


def test_client_authentication_basic_or_form_fields(qbo):
    params = authorize(qbo, path="/oauth/authorize", client_id=CLIENT_ID, scope=SCOPE)
    exchange = {
        "grant_type": "authorization_code",
        "code": params["code"],
        "redirect_uri": CALLBACK,
    }

    bad = qbo.http.post(
        qbo.url("/oauth/token"), data=exchange, headers=basic(CLIENT_ID, "wrong"), timeout=5
    )
    none = qbo.http.post(qbo.url("/oauth/token"), data=exchange, timeout=5)
    form = qbo.http.post(
        qbo.url("/oauth/token"),
        data={**exchange, "client_id": CLIENT_ID, "client_secret": SECRET},
        timeout=5,
    )

    assert (bad.status_code, bad.json()) == (
        401,
        {"error": "invalid_client", "error_description": "invalid client credentials"},
    )
    assert none.status_code == 401
    assert form.status_code == 200


def test_refresh_rotates_and_the_previous_token_lives_for_the_grace(sandbox_process):
    sandbox = sandbox_process(MODULE, "--refresh-grace", "1")
    tokens = connect(sandbox)
    first_refresh = tokens["refresh_token"]

    rotated = refresh(sandbox, first_refresh)
    again_within_grace = refresh(sandbox, first_refresh)
    time.sleep(1.1)
    after_grace = refresh(sandbox, first_refresh)
    newest = refresh(sandbox, again_within_grace.json()["refresh_token"])

    assert rotated.status_code == 200
    assert rotated.json()["refresh_token"] != first_refresh
    assert again_within_grace.status_code == 200  # Intuit honours the previous token (Q15)
    assert after_grace.status_code == 400
    assert after_grace.json() == {
        "error": "invalid_grant",
        "error_description": "Incorrect or invalid refresh token",
    }
    assert newest.status_code == 200
    outcomes = [c["outcome"] for c in sandbox.state()["oauth"]["token_calls"]]
    assert outcomes == ["ok", "ok", "ok", "invalid_grant", "ok"]


def test_revoke_kills_the_token_family(qbo):
    tokens = connect(qbo)

    revoked = qbo.http.post(
        qbo.url("/oauth/revoke"),
        json={"token": tokens["refresh_token"]},
        headers={**basic(CLIENT_ID, SECRET), "Accept": "application/json"},
        timeout=5,
    )
    after = refresh(qbo, tokens["refresh_token"])
    call = api(qbo, tokens, "GET", f"companyinfo/{REALM}")

    assert revoked.status_code == 200
    assert after.status_code == 400
    assert after.json() == {
        "error": "invalid_grant",
        "error_description": "Incorrect or invalid refresh token",
    }
    assert call.status_code == 401
    fault = call.json()["fault"]
    assert fault["type"] == "AUTHENTICATION" and fault["error"][0]["code"] == "3200"
    assert qbo.state()["oauth"]["revoked"] == {"access": 1, "refresh": 1}


def test_revoke_needs_client_authentication(qbo):
    tokens = connect(qbo)

    response = qbo.http.post(
        qbo.url("/oauth/revoke"), json={"token": tokens["refresh_token"]}, timeout=5
    )

    assert response.status_code == 401
    assert refresh(qbo, tokens["refresh_token"]).status_code == 200


def test_expired_access_token_gets_401_and_a_refresh_fixes_it(qbo):
    tokens = connect(qbo)

    expired = qbo.expire(access_token=tokens["access_token"]).json()
    refused = api(qbo, tokens, "GET", f"companyinfo/{REALM}")
    renewed = refresh(qbo, tokens["refresh_token"]).json()
    accepted = api(qbo, {**tokens, **renewed}, "GET", f"companyinfo/{REALM}")

    assert expired == {"expired": 1}
    assert refused.status_code == 401
    assert accepted.status_code == 200


def test_a_token_is_refused_on_another_realm(qbo):
    tokens = connect(qbo)

    response = api(qbo, {**tokens, "realmId": "9130000000000001"}, "GET", "companyinfo/1")

    assert response.status_code == 403
    assert response.json()["fault"]["error"][0]["code"] == "3100"


# --- API ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("minor", [None, "74", "abc"])
def test_minorversion_75_or_higher_is_required(qbo, minor):
    tokens = connect(qbo)

    refused = api(qbo, tokens, "GET", f"companyinfo/{REALM}", minor=minor)

    assert refused.status_code == 400
    assert refused.json()["Fault"]["type"] == "ValidationFault"
    assert api(qbo, tokens, "GET", f"companyinfo/{REALM}", minor="75").status_code == 200


def test_customer_create_duplicate_name_and_query(qbo):
    tokens = connect(qbo)
    created = create_customer(qbo, tokens, "O'Brien Freight")

    duplicate = api(qbo, tokens, "POST", "customer", json={"DisplayName": "o'brien FREIGHT"})
    found = api(
        qbo,
        tokens,
        "GET",
        "query",
        params={"query": "select * from Customer where DisplayName = 'O\\'Brien Freight'"},
    )
    nothing = api(
        qbo,
        tokens,
        "GET",
        "query",
        params={"query": "select * from Customer where DisplayName = 'Nobody'"},
    )
    broken = api(qbo, tokens, "GET", "query", params={"query": "select from"})
    read = api(qbo, tokens, "GET", f"customer/{created['Id']}")

    assert created["Id"] == "58" and created["SyncToken"] == "0"
    assert duplicate.status_code == 400
    assert duplicate.json()["Fault"]["Error"][0]["code"] == "6240"
    assert [c["Id"] for c in found.json()["QueryResponse"]["Customer"]] == ["58"]
    assert nothing.json()["QueryResponse"] == {}
    assert broken.status_code == 400
    assert read.json()["Customer"]["DisplayName"] == "O'Brien Freight"
    customers = qbo.state()["data"]["companies"][REALM]["customers"]
    assert [c["DisplayName"] for c in customers] == ["O'Brien Freight"]


def test_seeded_items_are_queryable(qbo):
    tokens = connect(qbo)

    items = api(qbo, tokens, "GET", "query", params={"query": "select * from Item maxresults 10"})

    names = {i["Id"]: i["Name"] for i in items.json()["QueryResponse"]["Item"]}
    assert names == {
        "21": "Linehaul",
        "22": "Fuel Surcharge",
        "23": "Accessorial - Lift Gate",
        "24": "Accessorial - Detention",
    }


def test_invoice_create_matches_the_fixture_response(qbo):
    tokens = connect(qbo)
    create_customer(qbo, tokens)

    response = api(qbo, tokens, "POST", "invoice", params={"requestid": "r-1"}, json=INVOICE)

    assert response.status_code == 200, response.text
    body = response.json()
    invoice = body["Invoice"]
    assert set(body) == {"Invoice", "time"}
    assert (invoice["Id"], invoice["SyncToken"], invoice["DocNumber"]) == (
        "1045",
        "0",
        "INV-104233",
    )
    assert invoice["TotalAmt"] == 2437.5 and invoice["Balance"] == 2437.5
    assert invoice["CustomerRef"] == {"value": "58", "name": "Great Lakes Packaging & Supply Co."}
    assert [line["DetailType"] for line in invoice["Line"]] == ["SalesItemLineDetail"] * 4 + [
        "SubTotalLineDetail"
    ]
    assert invoice["Line"][-1]["Amount"] == 2437.5
    assert invoice["Line"][0]["SalesItemLineDetail"]["ItemAccountRef"] == {
        "value": "79",
        "name": "Freight Revenue",
    }
    assert invoice["MetaData"]["CreateTime"]
    stored = qbo.state()["data"]["companies"][REALM]["invoices"]
    assert [(i["Id"], i["DocNumber"], i["TotalAmt"], i["SyncToken"]) for i in stored] == [
        ("1045", "INV-104233", 2437.5, "0")
    ]


def test_requestid_repeats_return_the_original_and_create_nothing(qbo):
    tokens = connect(qbo)
    create_customer(qbo, tokens)
    no_doc = {k: v for k, v in INVOICE.items() if k != "DocNumber"}

    first = api(qbo, tokens, "POST", "invoice", params={"requestid": "same-id"}, json=no_doc)
    second = api(qbo, tokens, "POST", "invoice", params={"requestid": "same-id"}, json=no_doc)
    other = api(qbo, tokens, "POST", "invoice", params={"requestid": "other-id"}, json=no_doc)

    assert first.content == second.content
    assert (
        first.json()["Invoice"]["Id"] == "1045" and first.json()["Invoice"]["DocNumber"] == "1001"
    )
    assert other.json()["Invoice"]["Id"] == "1046"
    company = qbo.state()["data"]["companies"][REALM]
    assert [i["Id"] for i in company["invoices"]] == ["1045", "1046"]
    assert company["requestids"]["same-id"] == {
        "method": "POST",
        "path": f"/v3/company/{REALM}/invoice",
        "status": 200,
        "Id": "1045",
        "replays": 1,
    }


def _error_codes(response) -> list[tuple[str, str | None]]:
    assert response.status_code == 400, response.text
    return [(e["code"], e.get("element")) for e in response.json()["Fault"]["Error"]]


def test_invoice_validation_faults_create_nothing(qbo):
    tokens = connect(qbo)
    create_customer(qbo, tokens)
    bad_amounts = copy.deepcopy(INVOICE)
    bad_amounts["Line"][1]["SalesItemLineDetail"]["UnitPrice"] = 400
    bad_amounts["Line"][2]["SalesItemLineDetail"]["Qty"] = 2
    bad_item = copy.deepcopy(INVOICE)
    bad_item["Line"][0]["SalesItemLineDetail"]["ItemRef"] = {"value": "999"}

    no_customer = api(
        qbo,
        tokens,
        "POST",
        "invoice",
        json={k: v for k, v in INVOICE.items() if k != "CustomerRef"},
    )
    unknown_customer = api(
        qbo, tokens, "POST", "invoice", json={**INVOICE, "CustomerRef": {"value": "4242"}}
    )
    no_lines = api(qbo, tokens, "POST", "invoice", json={**INVOICE, "Line": []})
    item = api(qbo, tokens, "POST", "invoice", json=bad_item)
    amounts = api(qbo, tokens, "POST", "invoice", json=bad_amounts)

    assert _error_codes(no_customer) == [("2020", "CustomerRef")]
    assert _error_codes(unknown_customer) == [("2500", "CustomerRef")]
    assert _error_codes(no_lines) == [("2020", "Line")]
    assert _error_codes(item) == [("2500", "Line.SalesItemLineDetail.ItemRef")]
    assert _error_codes(amounts) == [("6070", "Line.Amount"), ("6070", "Line.Amount")]
    details = [e["Detail"] for e in amounts.json()["Fault"]["Error"]]
    assert details == [
        "Amount is not equal to UnitPrice * Qty. Supplied value:412.5",
        "Amount is not equal to UnitPrice * Qty. Supplied value:75",
    ]
    assert qbo.state()["data"]["companies"][REALM]["invoices"] == []


def test_decimal_amounts_do_not_trip_on_float_rounding(qbo):
    tokens = connect(qbo)
    create_customer(qbo, tokens)
    line = copy.deepcopy(INVOICE["Line"][0])
    line["SalesItemLineDetail"].update(Qty=3, UnitPrice=0.1)
    line["Amount"] = 0.3  # 3 * 0.1 is 0.30000000000000004 in float

    response = api(qbo, tokens, "POST", "invoice", json={**INVOICE, "Line": [line]})

    assert response.status_code == 200, response.text
    assert response.json()["Invoice"]["TotalAmt"] == 0.3


def test_sparse_update_and_stale_synctoken(qbo):
    tokens = connect(qbo)
    create_customer(qbo, tokens)
    created = api(qbo, tokens, "POST", "invoice", json=INVOICE).json()["Invoice"]
    change = {"Id": created["Id"], "SyncToken": "0", "sparse": True, "PrivateNote": "paid"}

    updated = api(qbo, tokens, "POST", "invoice", json=change)
    stale = api(qbo, tokens, "POST", "invoice", json={**change, "PrivateNote": "again"})
    read = api(qbo, tokens, "GET", f"invoice/{created['Id']}").json()["Invoice"]

    assert updated.status_code == 200
    assert updated.json()["Invoice"]["SyncToken"] == "1"
    assert updated.json()["Invoice"]["TotalAmt"] == 2437.5
    assert stale.status_code == 400
    assert stale.json()["Fault"]["Error"][0] == {
        "Message": "Stale Object Error",
        "Detail": "Stale Object Error : You and API API were working on this at the same time. "
        "API API finished before you did, so your work was not saved.",
        "code": "5010",
        "element": "",
    }
    assert (read["SyncToken"], read["PrivateNote"]) == ("1", "paid")
    assert len(read["Line"]) == 5


def test_reading_a_missing_invoice_is_object_not_found(qbo):
    tokens = connect(qbo)

    response = api(qbo, tokens, "GET", "invoice/9999")

    assert _error_codes(response) == [("610", "")]


# --- faults, throttling, state --------------------------------------------------------------------


def test_injected_faults_answer_in_quickbooks_shapes_then_stop(qbo):
    tokens = connect(qbo)
    assert qbo.inject(status=429, count=2).status_code == 201
    assert qbo.inject(status=401, count=1, path_prefix=f"/v3/company/{REALM}/query").ok

    throttled = [api(qbo, tokens, "GET", f"companyinfo/{REALM}") for _ in range(3)]
    unauthorized = api(qbo, tokens, "GET", "query", params={"query": "select * from Item"})
    fine = api(qbo, tokens, "GET", "query", params={"query": "select * from Item"})

    assert [r.status_code for r in throttled] == [429, 429, 200]
    assert throttled[0].headers["Content-Type"].startswith("application/xml")
    assert '<Error code="3001">' in throttled[0].text
    assert "message=ThrottleExceeded; errorCode=003001; statusCode=429" in throttled[0].text
    assert "Retry-After" not in throttled[0].headers
    assert unauthorized.status_code == 401
    assert unauthorized.json()["fault"]["error"][0]["code"] == "3200"
    assert fine.status_code == 200
    faults = qbo.state()["faults"]
    assert faults["served_total"] == 3 and faults["pending"] == []


def test_injected_server_errors_hangs_and_clearing(qbo):
    tokens = connect(qbo)
    qbo.inject(status=503, count=5)
    first = api(qbo, tokens, "GET", f"companyinfo/{REALM}")
    qbo.http.delete(qbo.url("/__sandbox__/faults"), timeout=5)
    qbo.inject(hang_seconds=0.4)

    started = time.monotonic()
    slow = api(qbo, tokens, "GET", f"companyinfo/{REALM}")
    elapsed = time.monotonic() - started

    assert first.status_code == 503 and first.json()["Fault"]["type"] == "SystemFault"
    assert slow.status_code == 200 and elapsed >= 0.4
    assert qbo.inject(status=418).status_code == 400


def test_rate_limit_answers_the_xml_429_and_refills(sandbox_process):
    sandbox = sandbox_process(MODULE, "--rate-limit", "5", "--rate-window", "1")
    tokens = connect(sandbox)

    burst = [api(sandbox, tokens, "GET", f"companyinfo/{REALM}").status_code for _ in range(7)]
    time.sleep(0.5)  # 5 per second refill: two more requests allowed
    later = api(sandbox, tokens, "GET", f"companyinfo/{REALM}").status_code

    assert burst[:5] == [200] * 5 and burst[5:] == [429, 429]
    assert later == 200
    assert sandbox.state()["rate_limit"]["throttled"] == {REALM: 2}


def test_more_than_the_concurrency_cap_in_flight_gets_429(sandbox_process):
    sandbox = sandbox_process(
        MODULE, "--rate-limit", "off", "--concurrency", "2", "--latency-ms", "400"
    )
    tokens = connect(sandbox)

    def call(_):
        with requests.Session() as session:
            return session.get(
                sandbox.url(f"/v3/company/{REALM}/companyinfo/{REALM}"),
                params={"minorversion": "75"},
                headers={"Authorization": f"Bearer {tokens['access_token']}"},
                timeout=10,
            ).status_code

    with ThreadPoolExecutor(max_workers=5) as pool:
        statuses = sorted(pool.map(call, range(5)))

    assert statuses == [200, 200, 429, 429, 429]
    assert sandbox.state()["rate_limit"]["peak_in_flight"] == 2


def test_state_shows_fingerprints_never_whole_tokens(qbo):
    tokens = connect(qbo)
    refreshed = refresh(qbo, tokens["refresh_token"]).json()

    state = qbo.state()
    text = str(state)

    for value in (tokens["access_token"], tokens["refresh_token"], refreshed["refresh_token"]):
        assert value not in text
    calls = state["oauth"]["token_calls"]
    assert [c["grant_type"] for c in calls] == ["authorization_code", "refresh_token"]
    assert calls[1]["presented"] == tokens["refresh_token"][:6] + "…"
    assert calls[1]["issued"]["refresh"] == refreshed["refresh_token"][:6] + "…"
    assert state["oauth"]["issued"] == {"code": 1, "access": 2, "refresh": 2}
    assert state["requests"]["by_route"]["POST /oauth/token"] == 2


def test_reset_forgets_tokens_and_records(qbo):
    tokens = connect(qbo)
    create_customer(qbo, tokens)

    qbo.reset()

    state = qbo.state()
    assert state["data"] == {"companies": {}}
    assert state["oauth"]["issued"] == {"code": 0, "access": 0, "refresh": 0}
    assert api(qbo, tokens, "GET", f"companyinfo/{REALM}").status_code == 401
