"""The shared sandbox toolkit: its pure parts in-process (token rotation, rate limiter,
fault plan, options), its generic HTTP behaviour through a real QuickBooks sandbox
process, and that no sandbox imports Django."""

from __future__ import annotations

import subprocess
import sys

import pytest

from connectors.sandbox_kit import RotationRule, SandboxOptions
from connectors.sandbox_kit.faults import Fault, FaultPlan, FaultSpecError
from connectors.sandbox_kit.ratelimit import RateLimiter
from connectors.sandbox_kit.tokens import OAuthError, TokenStore
from connectors.sdk.testing import CALLBACK, ROOT, authorize, basic

MODULE = "connectors.quickbooks.sandbox"
SCOPE = "com.intuit.quickbooks.accounting"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _refresh_token(store: TokenStore):
    return store.issue(kind="refresh", family="f1", client_id="c", account="a", scope="s", ttl=None)


# --- in-process ---------------------------------------------------------------------------------


def test_rotation_grace_counts_from_the_first_replacement():
    clock = Clock()
    store = TokenStore(clock=clock)
    token = _refresh_token(store)
    rule = RotationRule(rotate=True, grace_seconds=10)

    store.refresh_use(value=token.value, client_id="c", rotation=rule)
    clock.now += 9
    store.refresh_use(value=token.value, client_id="c", rotation=rule)  # still in grace
    clock.now += 1

    with pytest.raises(OAuthError) as refused:
        store.refresh_use(value=token.value, client_id="c", rotation=rule)
    assert refused.value.error == "invalid_grant"


def test_without_rotation_a_refresh_token_is_reusable_and_zero_grace_kills_at_once():
    store = TokenStore()
    token = _refresh_token(store)
    keep = RotationRule(rotate=False)
    strict = RotationRule(rotate=True, grace_seconds=0)

    for _ in range(3):
        store.refresh_use(value=token.value, client_id="c", rotation=keep)
    store.refresh_use(value=token.value, client_id="c", rotation=strict)

    with pytest.raises(OAuthError):
        store.refresh_use(value=token.value, client_id="c", rotation=strict)


def test_refresh_token_of_another_client_is_refused():
    store = TokenStore()
    token = _refresh_token(store)

    with pytest.raises(OAuthError):
        store.refresh_use(value=token.value, client_id="other", rotation=RotationRule(False))


def test_revoking_one_member_kills_the_family_only():
    store = TokenStore()
    refresh = _refresh_token(store)
    access = store.issue(kind="access", family="f1", client_id="c", account="a", scope="", ttl=60)
    other = store.issue(kind="access", family="f2", client_id="c", account="a", scope="", ttl=60)

    assert store.revoke_family(access.value) is True
    assert store.revoke_family("unknown") is False

    assert refresh.revoked and store.access_get(access.value) is None
    assert store.access_get(other.value) is other
    assert store.summary()["revoked"] == {"access": 1, "refresh": 1}


def test_token_bucket_refills_over_the_window_and_caps_concurrency():
    clock = Clock()
    limiter = RateLimiter(per_window=2, window=10, concurrency=None, clock=clock)

    first = [limiter.acquire("realm") for _ in range(3)]
    clock.now += 5  # half a window: one request back
    later = [limiter.acquire("realm"), limiter.acquire("realm"), limiter.acquire("other")]

    assert first == [None, None, "rate"]
    assert later == [None, "rate", None]
    capped = RateLimiter(per_window=None, window=60, concurrency=1)
    assert capped.acquire("r") is None
    assert capped.acquire("r") == "concurrency"
    capped.release("r")
    assert capped.acquire("r") is None


def test_fault_plan_matches_api_routes_unless_a_prefix_says_otherwise():
    plan = FaultPlan()
    plan.add(Fault.from_json({"status": 500, "count": 1}))
    plan.add(Fault.from_json({"status": 503, "count": 1, "path_prefix": "/oauth/token"}))

    assert plan.take("/oauth/token", api=False).status == 503
    assert plan.take("/oauth/token", api=False) is None
    assert plan.take("/v3/company/1/query", api=True).status == 500
    assert plan.take("/v3/company/1/query", api=True) is None
    assert plan.summary()["served_total"] == 2


@pytest.mark.parametrize(
    "spec",
    [
        {"status": 418},
        {"status": 429, "count": 0},
        {"status": 429, "count": True},
        {"count": 1},
        {"status": 500, "path_prefix": "v3"},
        {"hang_seconds": -1},
        [1, 2],
    ],
)
def test_fault_specs_that_make_no_sense_are_refused(spec):
    with pytest.raises(FaultSpecError):
        Fault.from_json(spec)


def test_options_keep_provider_extras_apart_and_never_show_the_secret():
    options = SandboxOptions(client_id="id", client_secret="shh").replace(
        rate_limit=None, org_id="00D", redirect_uri_prefixes=["https://x.example/cb"]
    )

    assert options.extra == {"org_id": "00D"}
    assert options.redirect_uri_prefixes == ("https://x.example/cb",)
    assert "client_secret" not in options.public()
    assert "shh" not in str(options.public())


# --- a real process -------------------------------------------------------------------------------


def test_sandboxes_import_no_django():
    code = (
        "import sys, connectors.quickbooks.sandbox, connectors.salesforce.sandbox, "
        "connectors.revenova.sandbox; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'django', 'rest_framework'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "[]"


def test_help_lists_the_shared_flags():
    result = subprocess.run(
        [sys.executable, "-m", MODULE, "--help"], cwd=ROOT, capture_output=True, text=True
    )

    assert result.returncode == 0
    for flag in (
        "--port",
        "--client-id",
        "--client-secret",
        "--access-ttl",
        "--rate-limit",
        "--concurrency",
        "--redirect-uri-prefix",
        "--refresh-grace",
    ):
        assert flag in result.stdout


def test_client_and_redirect_prefix_come_from_the_command_line(sandbox_process):
    sandbox = sandbox_process(
        MODULE,
        "--client-id",
        "acme-app",
        "--client-secret",
        "acme-secret",
        "--redirect-uri-prefix",
        "https://nexiom.example/api/callback/",
    )
    base = {"client_id": "acme-app", "response_type": "code", "scope": SCOPE, "state": "s"}

    loopback = sandbox.http.get(
        sandbox.url("/oauth/authorize"), params={**base, "redirect_uri": CALLBACK}, timeout=5
    )
    default_client = sandbox.http.get(
        sandbox.url("/oauth/authorize"),
        params={
            **base,
            "client_id": "nexiom-dev-quickbooks",
            "redirect_uri": "https://nexiom.example/api/callback/quickbooks",
        },
        timeout=5,
    )
    params = authorize(
        sandbox,
        path="/oauth/authorize",
        client_id="acme-app",
        scope=SCOPE,
        redirect_uri="https://nexiom.example/api/callback/quickbooks",
    )
    token = sandbox.http.post(
        sandbox.url("/oauth/token"),
        data={
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": "https://nexiom.example/api/callback/quickbooks",
        },
        headers=basic("acme-app", "acme-secret"),
        timeout=5,
    )

    assert loopback.status_code == 400
    assert default_client.status_code == 400
    assert token.status_code == 200
    assert sandbox.state()["options"]["client_id"] == "acme-app"


def test_authorize_request_errors_go_back_to_the_client(sandbox_process):
    sandbox = sandbox_process(MODULE)
    base = {
        "client_id": "nexiom-dev-quickbooks",
        "redirect_uri": CALLBACK,
        "scope": SCOPE,
        "state": "s",
    }

    implicit = sandbox.http.get(
        sandbox.url("/oauth/authorize"),
        params={**base, "response_type": "token"},
        allow_redirects=False,
        timeout=5,
    )
    plain = sandbox.http.get(
        sandbox.url("/oauth/authorize"),
        params={
            **base,
            "response_type": "code",
            "code_challenge": "x" * 43,
            "code_challenge_method": "plain",
        },
        allow_redirects=False,
        timeout=5,
    )
    unsupported = sandbox.http.post(
        sandbox.url("/oauth/token"),
        data={"grant_type": "password"},
        headers=basic("nexiom-dev-quickbooks", "dev-secret-quickbooks"),
        timeout=5,
    )

    assert "error=unsupported_response_type" in implicit.headers["Location"]
    assert "error=invalid_request" in plain.headers["Location"]
    assert (unsupported.status_code, unsupported.json()) == (
        400,
        {"error": "unsupported_grant_type"},
    )


def test_control_routes_refuse_bad_bodies_and_expire_all(sandbox_process):
    sandbox = sandbox_process(MODULE)

    bad_fault = sandbox.inject(status=200)
    bad_expire = sandbox.expire(nothing=True)
    many = sandbox.http.post(
        sandbox.url("/__sandbox__/faults"),
        json=[{"status": 500}, {"status": 503, "count": 2}],
        timeout=5,
    )

    assert bad_fault.status_code == 400 and "status must be one of" in bad_fault.json()["error"]
    assert bad_expire.status_code == 400
    assert [f["remaining"] for f in many.json()["pending"]] == [1, 2]
    assert sandbox.expire(all=True).json() == {"expired": 0}
    assert (
        sandbox.http.delete(sandbox.url("/__sandbox__/faults"), timeout=5).json()["pending"] == []
    )
