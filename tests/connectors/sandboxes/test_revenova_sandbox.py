"""The Revenova sandbox as a real process: SOAP login as the integration user
(password + security token), REST with the session, INVALID_LOGIN and
INVALID_SESSION_ID, and the CLI's credential overrides."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET

import pytest

MODULE = "connectors.revenova.sandbox"
USERNAME = "integration@demo-freight.example"
PASSWORD = "dev-password-revenova"
SECURITY_TOKEN = "devSecurityToken123"
ORG = "00D5e000000KqTzEAK"
PARTNER = "{urn:partner.soap.sforce.com}"
SOQL = "SELECT Id, Name FROM rtms__CustomerInvoice__c LIMIT 1"


def login_envelope(username: str, password: str, org_id: str | None = None) -> str:
    header = ""
    if org_id is not None:
        header = (
            "<soapenv:Header><urn:LoginScopeHeader>"
            f"<urn:organizationId>{org_id}</urn:organizationId>"
            "</urn:LoginScopeHeader></soapenv:Header>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:urn="urn:partner.soap.sforce.com">'
        f"{header}<soapenv:Body><urn:login><urn:username>{username}</urn:username>"
        f"<urn:password>{password}</urn:password></urn:login></soapenv:Body></soapenv:Envelope>"
    )


def soap_login(sandbox, username=USERNAME, password=PASSWORD + SECURITY_TOKEN, path="u", **kw):
    return sandbox.http.post(
        sandbox.url(f"/services/Soap/{path}/62.0"),
        data=login_envelope(username, password, **kw).encode(),
        headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": "login"},
        timeout=5,
    )


def session_of(response) -> dict[str, str]:
    assert response.status_code == 200, response.text
    root = ET.fromstring(response.content)  # noqa: S314 - the sandbox's own answer
    result = root.find(f".//{PARTNER}result")
    return {
        "sessionId": result.findtext(f"{PARTNER}sessionId"),
        "serverUrl": result.findtext(f"{PARTNER}serverUrl"),
        "userId": result.findtext(f"{PARTNER}userId"),
        "organizationId": result.findtext(f"{PARTNER}userInfo/{PARTNER}organizationId"),
    }


def rest(sandbox, session_id, path, **params):
    return sandbox.http.get(
        sandbox.url(path),
        params=params,
        headers={"Authorization": f"Bearer {session_id}"},
        timeout=5,
    )


@pytest.fixture(scope="module")
def revenova(sandbox_process):
    return sandbox_process(MODULE)


@pytest.fixture(autouse=True)
def _fresh(revenova):
    revenova.reset()


def test_login_then_limits_and_a_query(revenova):
    session = session_of(soap_login(revenova))

    limits = rest(revenova, session["sessionId"], "/services/data/v62.0/limits")
    query = rest(revenova, session["sessionId"], "/services/data/v62.0/query", q=SOQL)

    assert session["organizationId"] == ORG
    assert session["serverUrl"] == f"{revenova.base_url}/services/Soap/u/62.0/{ORG[:15]}"
    assert len(session["userId"]) == 18
    assert limits.status_code == 200 and "DailyApiRequests" in limits.json()
    assert query.json() == {
        "totalSize": 1,
        "done": True,
        "records": [
            {
                "attributes": {
                    "type": "rtms__CustomerInvoice__c",
                    "url": "/services/data/v62.0/sobjects/rtms__CustomerInvoice__c/"
                    "a0M5e00000Lk3QaEAJ",
                },
                "Id": "a0M5e00000Lk3QaEAJ",
                "Name": "INV-104233",
            }
        ],
    }
    state = revenova.state()
    assert state["oauth"]["token_calls"][0]["outcome"] == "ok"
    assert session["sessionId"] not in str(state)


@pytest.mark.parametrize(
    ("username", "password"),
    [
        (USERNAME, PASSWORD),  # the security token is missing
        (USERNAME, PASSWORD + "wrongToken"),
        ("someone@else.example", PASSWORD + SECURITY_TOKEN),
    ],
)
def test_bad_credentials_get_an_invalid_login_fault(revenova, username, password):
    response = soap_login(revenova, username=username, password=password)

    assert response.status_code == 500
    assert "<faultcode>sf:INVALID_LOGIN</faultcode>" in response.text
    assert "INVALID_LOGIN: Invalid username, password, security token" in response.text
    state = revenova.state()
    assert state["oauth"]["issued"]["access"] == 0
    assert state["oauth"]["token_calls"][0]["outcome"] == "INVALID_LOGIN"


def test_login_scope_header_must_name_this_org(revenova):
    own = soap_login(revenova, org_id=ORG[:15])
    other = soap_login(revenova, org_id="00D8c000004WbRf")

    assert own.status_code == 200
    assert other.status_code == 500 and "INVALID_LOGIN" in other.text


def test_enterprise_endpoint_answers_in_its_namespace(revenova):
    response = soap_login(revenova, path="c")

    assert response.status_code == 200
    assert 'xmlns="urn:enterprise.soap.sforce.com"' in response.text
    assert "/services/Soap/c/62.0/" in response.text


def test_a_dtd_or_garbage_is_a_client_fault(revenova):
    bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    refused = revenova.http.post(revenova.url("/services/Soap/u/62.0"), data=bomb, timeout=5)
    garbage = revenova.http.post(revenova.url("/services/Soap/u/62.0"), data="<nope", timeout=5)

    assert refused.status_code == 500 and "soapenv:Client" in refused.text
    assert garbage.status_code == 500 and "soapenv:Client" in garbage.text


def test_expired_session_is_invalid_session_id(sandbox_process):
    sandbox = sandbox_process(MODULE, "--access-ttl", "0.5")
    session = session_of(soap_login(sandbox))

    fresh = rest(sandbox, session["sessionId"], "/services/data/v62.0/limits")
    time.sleep(0.6)
    stale = rest(sandbox, session["sessionId"], "/services/data/v62.0/limits")
    again = session_of(soap_login(sandbox))

    assert fresh.status_code == 200
    assert stale.status_code == 401
    assert stale.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]
    assert rest(sandbox, again["sessionId"], "/services/data/v62.0/limits").status_code == 200


def test_queries_on_other_objects_or_malformed_are_refused(revenova):
    session = session_of(soap_login(revenova))["sessionId"]

    other = rest(revenova, session, "/services/data/v62.0/query", q="SELECT Id FROM Account")
    malformed = rest(revenova, session, "/services/data/v62.0/query", q="DELETE everything")

    assert (other.status_code, other.json()[0]["errorCode"]) == (400, "INVALID_TYPE")
    assert (malformed.status_code, malformed.json()[0]["errorCode"]) == (400, "MALFORMED_QUERY")


def test_credentials_come_from_the_command_line(sandbox_process):
    sandbox = sandbox_process(
        MODULE, "--username", "ops@acme.example", "--password", "pw", "--security-token", "TOK"
    )

    default = soap_login(sandbox)
    custom = soap_login(sandbox, username="ops@acme.example", password="pwTOK")

    assert default.status_code == 500
    assert session_of(custom)["organizationId"] == ORG
