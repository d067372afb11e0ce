"""The secrets sweep: the whole flow, everything the platform says collected, no secret in it.

One committed tenant goes through what a customer does, with every log
record of every logger at DEBUG, every response, every Celery message and
every sealed secret collected (tests/security/capture.py):

- connects QuickBooks and Salesforce through their sandboxes' OAuth consent
  (access and refresh tokens) and Revenova with the API key (password and
  security token), mints a personal API token, issues an ingest URL;
- posts the fixture Outbound Messages; a real Celery worker delivers them to
  the QuickBooks sandbox; the sandbox expires every access token (a refresh
  follows), then answers a 401 and a 429;
- reads the API (lists, details, lineage), tests and refreshes connections,
  opens every Desk list page and change pages;
- gets refused: a bad hook token, a malformed and a foreign message on the
  real ingest URL, a connection test against a failing provider, a Revenova
  key with a wrong password.

Then the tenant's tables and every Redis key are read too. No secret may be
anywhere, in any common encoding (tests/security/capture.py ``encodings``):
the tokens the vault sealed (each one, every rotation), the OAuth client
secrets, the Revenova password and security token (and a wrong one typed in),
the personal API tokens, the ingest token, the vault's keys and the Django
SECRET_KEY. Only the one response that issues a personal token or an ingest
URL may carry it.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import redis
from django.conf import settings
from django.contrib import admin
from django.db import connection
from django.test import RequestFactory, override_settings
from django.urls import reverse
from django_tenants.utils import schema_context

from accounts.roles import Role
from connectors.registry import connector_get
from pipeline.models import Delivery
from tests.connectors.flows import connect
from tests.pipeline.conftest import FIXTURES, pipeline_quiet, wait_until
from tests.pipeline.support import invoice, message, tag
from tests.sandboxes import sandbox_now, token_calls
from tests.security.capture import Haystack, LogCapture, Spies, find
from tests.security.conftest import REVENOVA_LOGIN, SecurityTenant, security_tenant

INVOICES = (FIXTURES / "revenova_outbound_invoice.xml").read_bytes()
WRONG_PASSWORD = "wrong-password-Q7x9Zk"
#: Keys of sealed credentials that are secrets (not ``token_type``, expiries, ids, URLs).
SECRET_FIELD = re.compile(r"(?i)(token|secret|password|session)(?!_type)(?!.*expires)")
#: Where the search looks; "log (as emitted)" is the record before the vault's redacting
#: filter, which the configured handlers apply: reported, not asserted (see below).
ASSERTED_PLACES = (
    "log",
    "response",
    "task message",
    "broker message",
    "database row",
    "redis key",
)


@dataclass
class Sweep:
    haystack: Haystack
    secrets: dict[str, str]
    #: Secret name -> the indexes of the only items allowed to carry it (issuing responses).
    allowed: dict[str, set[int]] = field(default_factory=dict)
    facts: dict[str, int] = field(default_factory=dict)


def _vault_keys() -> str:
    return ",".join(f"{version}:{base64.b64encode(os.urandom(32)).decode()}" for version in (2, 1))


@pytest.fixture(scope="module")
def sweep(
    pipeline_worker, qbo_sandbox, sf_sandbox, revenova_sandbox, django_db_blocker
) -> Iterator[Sweep]:
    haystack = Haystack()
    spies, logs = Spies(haystack), LogCapture(haystack)
    keys = _vault_keys()
    result = Sweep(haystack=haystack, secrets={})
    with override_settings(
        NEXIOM_VAULT_KEYS=keys,
        # Quick retries (as tests/pipeline's `fresh`): the 401 and 429 resolve in seconds.
        NEXIOM_DELIVERY_DELAY_MAX=1,
        NEXIOM_DELIVERY_MAX_ATTEMPTS=5,
        NEXIOM_SWEEP_GRACE_SECONDS=0,
        NEXIOM_RATE_LIMIT_MINUTE_SECONDS=1,
    ):
        # After the worker started: its logging set-up replaces the root logger's handlers.
        spies.start()
        logs.start()
        try:
            with security_tenant("sweep", qbo_sandbox, django_db_blocker) as st:
                try:
                    _flow(st, result, qbo_sandbox, sf_sandbox, revenova_sandbox)
                finally:
                    qbo_sandbox.http.delete(qbo_sandbox.url("/__sandbox__/faults"), timeout=5)
                    revenova_sandbox.http.delete(
                        revenova_sandbox.url("/__sandbox__/faults"), timeout=5
                    )
                pipeline_quiet(st.schema)
                _database_rows(st, haystack)
                _redis_keys(haystack)
        finally:
            logs.stop()
            spies.stop()
        result.secrets.update(_secrets(st, spies, keys))
    yield result


def _issuing_response(haystack: Haystack, pattern: str) -> int:
    """The index of the last response whose request matches ``pattern``."""
    for index in range(len(haystack.items) - 1, -1, -1):
        item = haystack.items[index]
        if item.place == "response" and re.search(pattern, item.where):
            return index
    raise AssertionError(f"no response for {pattern}")


def _delivered(st: SecurityTenant) -> int:
    with schema_context(st.schema):
        return Delivery.objects.filter(status=Delivery.Status.DELIVERED).count()


def _flow(st: SecurityTenant, result: Sweep, qbo, sf, revenova) -> None:
    haystack = result.haystack
    result.allowed["ingest token"] = {_issuing_response(haystack, r"POST .*/hook/$")}
    admin_api, editor_api = st.client(Role.ADMIN), st.client(Role.EDITOR)

    # A personal token minted through the API (a signed-in session), then used.
    minted = st.desk(Role.EDITOR).post(
        "/api/tokens/", {"name": "sweep script"}, content_type="application/json"
    )
    assert minted.status_code == 201, minted.content
    result.secrets["minted API token"] = minted.json()["token"]
    result.allowed["minted API token"] = {_issuing_response(haystack, r"201 POST .*/api/tokens/")}
    me = st.client().get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {minted.json()['token']}")
    assert me.status_code == 200

    salesforce = connect(st.tenant, editor_api, sf, connector="salesforce", name="CRM")

    # The fixture messages, delivered to QuickBooks by the worker.
    assert st.client().post(st.hook_path, INVOICES, content_type="text/xml").status_code == 200
    wait_until(lambda: _delivered(st) >= 2, what="the fixture invoices delivered")

    # Every access token expires: the next delivery meets a 401 and refreshes.
    since = sandbox_now(qbo)
    assert qbo.expire(all=True).ok
    run = tag()
    body = message([invoice(run, 1), invoice(run, 2)])
    assert st.client().post(st.hook_path, body, content_type="text/xml").status_code == 200
    wait_until(lambda: _delivered(st) >= 4, what="delivered after a token refresh")
    result.facts["token refreshes"] = len(token_calls(qbo, since=since))

    # A 401 and a 429 from QuickBooks itself.
    faults = [
        {"status": 401, "count": 1, "path_prefix": "/v3/"},
        {"status": 429, "count": 1, "path_prefix": "/v3/"},
    ]
    assert qbo.http.post(qbo.url("/__sandbox__/faults"), json=faults, timeout=5).ok
    body = message([invoice(run, 3), invoice(run, 4)])
    assert st.client().post(st.hook_path, body, content_type="text/xml").status_code == 200
    wait_until(lambda: _delivered(st) >= 6, what="delivered after a 401 and a 429")
    served = qbo.state()["faults"]["served"]
    result.facts["faults served"] = len(served)

    # The API: lists, details, each history event with its lineage, tests and a refresh.
    for path in (
        "/api/me/",
        "/api/connectors/",
        "/api/connections/",
        "/api/routes/",
        "/api/tokens/",
        "/api/users/",
        "/api/invitations/",
        f"/api/routes/{st.route_id}/",
    ):
        assert admin_api.get(path).status_code == 200, path
    events = admin_api.get("/api/sync-history/?page_size=500").json()["results"]
    for event in events[:80]:
        assert admin_api.get(f"/api/sync-history/{event['id']}/").status_code == 200
    for pk in (st.revenova_id, st.books_id, salesforce.pk):
        assert editor_api.get(f"/api/connections/{pk}/").status_code == 200
        assert editor_api.post(f"/api/connections/{pk}/test/").status_code == 200
    assert editor_api.post(f"/api/connections/{st.books_id}/refresh/").status_code == 200
    assert editor_api.post(f"/api/connections/{salesforce.pk}/refresh/").status_code == 200

    # Refusals and failures.
    sender = st.client()
    assert sender.post(
        "/hooks/not-a-real-token", INVOICES, content_type="text/xml"
    ).status_code in (
        403,
        404,
    )
    assert sender.post(st.hook_path, b"<not xml", content_type="text/xml").status_code == 400
    foreign = message([invoice(run, 5)], org_id="00D000000000001AAA")
    assert sender.post(st.hook_path, foreign, content_type="text/xml").status_code == 403
    assert qbo.http.post(
        qbo.url("/__sandbox__/faults"),
        json={"status": 500, "count": 10, "path_prefix": "/v3/"},
        timeout=5,
    ).ok
    failed = editor_api.post(f"/api/connections/{st.books_id}/test/")
    assert failed.status_code == 200 and failed.json()["ok"] is False, failed.content
    qbo.http.delete(qbo.url("/__sandbox__/faults"), timeout=5)
    wrong = editor_api.post(
        "/api/connections/",
        {
            "connector": "revenova",
            "name": "TMS wrong key",
            "environment": "local",
            "api_key": {**REVENOVA_LOGIN, "password": WRONG_PASSWORD},
        },
        content_type="application/json",
    )
    assert 400 <= wrong.status_code < 500, wrong.content
    result.facts["refusals"] = 5

    # The Desk: every page the Admin may see (lists and change pages), the dashboard, the
    # browsable API.
    desk = st.desk(Role.ADMIN)
    request = RequestFactory().get("/admin/")
    request.user = st.users[Role.ADMIN]
    pages = ["/admin/", "/dashboard/"]
    with schema_context(st.schema):
        for model, model_admin in admin.site._registry.items():
            if not model_admin.has_view_or_change_permission(request):
                continue
            name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
            pages.append(reverse(f"{name}_changelist"))
            for pk in model_admin.get_queryset(request).values_list("pk", flat=True)[:3]:
                pages.append(reverse(f"{name}_change", args=[pk]))
    pages += [
        f"/admin/connectors/connection/{pk}/change/" for pk in (st.revenova_id, salesforce.pk)
    ]
    for page in pages:
        response = desk.get(page)
        assert response.status_code == 200, (page, response.status_code)
    for path in ("/api/connections/", f"/api/connections/{st.books_id}/", "/api/sync-history/"):
        assert desk.get(path, HTTP_ACCEPT="text/html").status_code == 200, path
    result.facts["desk pages"] = len(pages) + 3


def _database_rows(st: SecurityTenant, haystack: Haystack) -> None:
    """Every row of every table of the tenant's schema, as JSON (what a backup holds)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = %s AND table_type = 'BASE TABLE'",
            [st.schema],
        )
        tables = [row[0] for row in cursor.fetchall()]
        for table in tables:
            cursor.execute(
                f'SELECT row_to_json(t)::text FROM "{st.schema}"."{table}" t'  # noqa: S608
            )
            for (row,) in cursor.fetchall():
                haystack.add("database row", table, row)


def _redis_keys(haystack: Haystack) -> None:
    """Every key of the test Redis database (broker queues, cache, pipeline queues)."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    for key in client.scan_iter():
        kind = client.type(key).decode()
        if kind == "string":
            value = client.get(key)
        elif kind == "list":
            value = client.lrange(key, 0, -1)
        elif kind == "hash":
            value = client.hgetall(key)
        elif kind == "set":
            value = client.smembers(key)
        elif kind == "zset":
            value = client.zrange(key, 0, -1)
        else:
            value = kind
        haystack.add("redis key", key.decode("utf-8", "replace"), repr(value))


def _secrets(st: SecurityTenant, spies: Spies, keys: str) -> dict[str, str]:
    secrets: dict[str, str] = {}
    for n, data in enumerate(spies.sealed):
        for name, value in data.items():
            if isinstance(value, str) and len(value) >= 8 and SECRET_FIELD.search(name):
                secrets[f"sealed #{n} {name}"] = value
    for key in ("quickbooks", "salesforce"):
        secrets[f"{key} OAuth client secret"] = (
            connector_get(key=key).app_credentials("local").client_secret
        )
    secrets["Revenova password"] = REVENOVA_LOGIN["password"]
    secrets["Revenova security token"] = REVENOVA_LOGIN["security_token"]
    secrets["Revenova password+token"] = (
        REVENOVA_LOGIN["password"] + REVENOVA_LOGIN["security_token"]
    )
    secrets["a wrong Revenova password typed in"] = WRONG_PASSWORD
    for role, token in st.tokens.items():
        secrets[f"{role.value}'s API token"] = token
    secrets["ingest token"] = st.hook_token
    secrets["vault keyring"] = keys
    for entry in keys.split(","):
        version, key = entry.split(":")
        secrets[f"vault key v{version}"] = key
        secrets[f"vault key v{version} (hex)"] = base64.b64decode(key).hex()
    secrets["Django SECRET_KEY"] = settings.SECRET_KEY
    if len(getattr(settings, "OIDC_RP_CLIENT_SECRET", "") or "") >= 8:
        secrets["OIDC client secret"] = settings.OIDC_RP_CLIENT_SECRET
    return secrets


# --- the assertions ------------------------------------------------------------------------------


def test_the_sweep_ran_the_whole_flow_and_collected_everything(sweep):
    places = {
        place: sweep.haystack.count(place) for place in (*ASSERTED_PLACES, "log (as emitted)")
    }
    sealed = [name for name in sweep.secrets if name.startswith("sealed")]
    print(f"\nsecrets searched: {len(sweep.secrets)} ({len(sealed)} from the vault)")
    for place, count in places.items():
        print(f"  {place:20} {count:6}")
    print(f"  facts: {sweep.facts}")

    assert sweep.facts["token refreshes"] >= 1
    assert sweep.facts["faults served"] >= 2
    assert all(count > 0 for count in places.values()), places
    assert any("access_token" in name for name in sealed)
    assert any("refresh_token" in name for name in sealed)
    assert any("password" in name for name in sealed)
    assert any("security_token" in name for name in sealed)
    # SQL at DEBUG and the HTTP client's logs were seen. (Celery's own loggers are seen when
    # this module runs alone; after another module's embedded worker in the same process
    # they stay silent, so they are not required here: the task messages themselves are.)
    loggers = {item.where for item in sweep.haystack.items if item.place == "log"}
    assert {"django.db.backends", "urllib3.connectionpool"} <= loggers


def test_no_secret_appears_anywhere(sweep):
    leaks = []
    for name, index, item, variant in find(sweep.haystack, sweep.secrets):
        if item.place not in ASSERTED_PLACES or index in sweep.allowed.get(name, ()):
            continue
        at = item.text.find(variant)
        leaks.append(
            f"{name} in {item.place} [{item.where}]: ...{item.text[max(0, at - 80) : at + 40]}..."
        )

    assert leaks == [], "\n".join(leaks[:40])


def test_an_issued_plaintext_is_in_its_issuing_response_only(sweep):
    for name in ("ingest token", "minted API token"):
        found = {
            index for secret, index, _, _ in find(sweep.haystack, sweep.secrets) if secret == name
        }

        assert found & sweep.allowed[name], f"{name}: its issuing response should carry it"


def test_what_the_redacting_filter_removes_is_reported(sweep):
    """Before the vault's filter, records may carry what third-party libraries log at
    DEBUG; the configured handlers all write through that filter, so this is a report."""
    raw = sorted(
        {
            f"{name} <- {item.where}"
            for name, _, item, _ in find(sweep.haystack, sweep.secrets)
            if item.place == "log (as emitted)"
        }
    )
    print("\nscrubbed by the filter before being written:\n  " + "\n  ".join(raw or ["nothing"]))
