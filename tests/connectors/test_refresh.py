"""Token refresh: one at a time per connection, rotation rules, crashes, refusals, back-off.

Everything here is committed (the ``committed`` fixture), because the work
runs where production runs it: on threads with their own database
connections, and in two separate Python processes against the test
database. The sandboxes are real processes; what they received is read from
``/__sandbox__/state``.

Why ``python -c`` processes rather than two ``celery worker`` subprocesses
for the cross-process case: the thing under test is the row lock in
``connection_refresh``, not Celery; plain processes start in about a second,
report their results on stdout and wait on stdin for a common "go", so both
are known to be ready before the first call (a worker subprocess would need a
broker round trip and a polling loop to know that). The health sweep's tests
run the tasks on a real worker.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.db import connection as db_connection
from django.db import connections
from django_tenants.utils import schema_context

from accounts.roles import Role
from connectors.errors import ConnectionStateConflict, NeedsReauth, Transient
from connectors.models import Connection
from connectors.quickbooks.connector import QuickBooksOAuth2
from connectors.registry import connector_get
from connectors.sdk.testing import SandboxProcess
from connectors.services import authorization_start, connection_client, connections_sweep, tokens
from connectors.services.connections import connection_disable
from connectors.services.credentials import credentials_reveal
from connectors.services.tokens import connection_refresh
from tenants.models import Tenant
from tests.connectors.flows import callback, consent
from tests.factories import ConnectionFactory
from tests.helpers import member
from tests.sandboxes import (
    connected,
    sandbox_fingerprint,
    sandbox_now,
    token_calls,
)
from vault.audit import AUDIT_DATABASE

ROOT = Path(__file__).resolve().parents[2]
CONCURRENT = 20


def on_threads(count: int, work, *, schema: str = "alpha") -> list:
    """Run ``work(i)`` on ``count`` threads at once, each on its own committed connections."""

    def run(index: int):
        try:
            with schema_context(schema):
                return work(index)
        finally:
            for alias in ("default", AUDIT_DATABASE):
                connections[alias].close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return [f.result(timeout=120) for f in [pool.submit(run, i) for i in range(count)]]


def in_alpha(work):
    return on_threads(1, lambda _: work())[0]


def sealed(pk: int) -> dict:
    with schema_context("alpha"):
        row = Connection.objects.get(pk=pk)
        return credentials_reveal(connection=row, reason="test reads the sealed tokens")


def row(pk: int) -> Connection:
    with schema_context("alpha"):
        return Connection.objects.get(pk=pk)


def api_call_works(pk: int) -> bool:
    """One authenticated call with a fresh client (the sealed token works at the provider)."""

    def work():
        current = Connection.objects.get(pk=pk)
        connector = connector_get(key=current.connector)
        return bool(connector.test(connection_client(connection=current, reason="test")))

    return in_alpha(work)


@pytest.fixture
def alpha(committed) -> Tenant:
    return Tenant.objects.get(slug="alpha")


# --- exactly one refresh --------------------------------------------------------------------


def test_twenty_threads_refresh_an_expired_token_once_and_all_use_the_new_one(alpha, qbo):
    books = connected(alpha, qbo, connector="quickbooks", name="Books")
    old = sealed(books.pk)
    assert qbo.expire(access_token=old["access_token"]).json() == {"expired": 1}
    since = sandbox_now(qbo)
    ready = threading.Barrier(CONCURRENT)

    def call_twice(_: int) -> str:
        current = Connection.objects.get(pk=books.pk)
        client = connection_client(connection=current, reason="test the refresh race")
        connector = connector_get(key="quickbooks")
        ready.wait(timeout=60)
        connector.test(client)  # 401 → single-flight refresh → retried
        connector.test(client)  # the follow-up call with the new token
        return client.session.headers["Authorization"]

    used = on_threads(CONCURRENT, call_twice)

    refreshes = token_calls(qbo, since=since)
    assert len(refreshes) == 1, refreshes
    assert refreshes[0]["presented"] == sandbox_fingerprint(old["refresh_token"])
    new = sealed(books.pk)
    assert refreshes[0]["issued"]["access"] == sandbox_fingerprint(new["access_token"])
    assert set(used) == {f"Bearer {new['access_token']}"}
    assert row(books.pk).status == "connected"


def process_main() -> None:
    """One of the two processes of the cross-process test (run through ``python -c``).

    argv: schema, connection id, thread count. Builds that many clients, says
    "ready", waits for "go" on stdin, then makes two calls with each client and
    prints the Authorization headers they ended with as JSON.
    """
    schema, pk, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    go = threading.Event()
    ready = threading.Barrier(count + 1)

    def work(_: int) -> str:
        try:
            with schema_context(schema):
                current = Connection.objects.get(pk=pk)
                client = connection_client(connection=current, reason="test the refresh race")
                connector = connector_get(key=current.connector)
                ready.wait(timeout=60)
                go.wait(timeout=60)
                connector.test(client)
                connector.test(client)
                return client.session.headers["Authorization"]
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [pool.submit(work, i) for i in range(count)]
        ready.wait(timeout=60)
        print("ready", flush=True)
        sys.stdin.readline()
        go.set()
        print(json.dumps([f.result(timeout=120) for f in futures]), flush=True)


PROCESS_SCRIPT = (
    "import django; django.setup(); "
    "from tests.connectors.test_refresh import process_main; process_main()"
)


def test_two_processes_refresh_an_expired_token_once_and_all_use_the_new_one(alpha, qbo):
    books = connected(alpha, qbo, connector="quickbooks", name="Books")
    old = sealed(books.pk)
    qbo.expire(access_token=old["access_token"])
    since = sandbox_now(qbo)
    settings_dict = db_connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "nexiom.settings_test",
        # The test database (pytest-django's test_<name>), with committed rows.
        "DATABASE_URL": (
            f"postgres://{settings_dict['USER']}@{settings_dict['HOST']}:"
            f"{settings_dict['PORT']}/{settings_dict['NAME']}"
        ),
    }
    per_process = CONCURRENT // 2
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", PROCESS_SCRIPT, "alpha", str(books.pk), str(per_process)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for process in processes:
            line = process.stdout.readline().strip()
            assert line == "ready", line + process.stderr.read()
        for process in processes:  # both wait with their clients built: release them together
            process.stdin.write("go\n")
            process.stdin.flush()
        used = []
        for process in processes:
            out, err = process.communicate(timeout=120)
            assert process.returncode == 0, err
            used += json.loads(out.strip().splitlines()[-1])
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()

    assert len(used) == CONCURRENT
    refreshes = token_calls(qbo, since=since)
    assert len(refreshes) == 1, refreshes
    new = sealed(books.pk)
    assert set(used) == {f"Bearer {new['access_token']}"}
    assert new["refresh_token"] != old["refresh_token"]


# --- rotation rules -------------------------------------------------------------------------


def test_quickbooks_keeps_the_newest_refresh_token_and_recovers_from_a_crash(
    alpha, qbo, monkeypatch
):
    books = connected(alpha, qbo, connector="quickbooks", name="Books")
    first = sealed(books.pk)
    since = sandbox_now(qbo)

    in_alpha(lambda: connection_refresh(connection=row(books.pk), force=True))

    second = sealed(books.pk)
    assert second["refresh_token"] != first["refresh_token"]
    [call] = token_calls(qbo, since=since)
    assert call["presented"] == sandbox_fingerprint(first["refresh_token"])
    assert call["issued"]["refresh"] == sandbox_fingerprint(second["refresh_token"])

    # Given a worker that dies after the token call, before its transaction commits.
    store = tokens.credentials_store
    crashes = []

    def crash_once(**kwargs):
        if not crashes:
            crashes.append(1)
            raise RuntimeError("worker died between the token call and the commit")
        return store(**kwargs)

    monkeypatch.setattr(tokens, "credentials_store", crash_once)
    since = sandbox_now(qbo)

    with pytest.raises(RuntimeError, match="worker died"):
        in_alpha(lambda: connection_refresh(connection=row(books.pk), force=True))

    # The provider rotated, but the old token is still the sealed one.
    [lost] = token_calls(qbo, since=since)
    assert lost["outcome"] == "ok"
    assert lost["presented"] == sandbox_fingerprint(second["refresh_token"])
    assert sealed(books.pk) == second
    assert row(books.pk).status == "connected"

    in_alpha(lambda: connection_refresh(connection=row(books.pk), force=True))

    # QuickBooks honours the previous token within its grace (Q15): the next run succeeds.
    retried = token_calls(qbo, since=since)[-1]
    assert retried["outcome"] == "ok"
    assert retried["presented"] == sandbox_fingerprint(second["refresh_token"])
    third = sealed(books.pk)
    assert retried["issued"]["refresh"] == sandbox_fingerprint(third["refresh_token"])
    assert (row(books.pk).status, row(books.pk).last_error) == ("connected", "")
    assert api_call_works(books.pk)


def test_salesforce_keeps_its_refresh_token_when_none_comes_back(alpha, sf):
    org = connected(alpha, sf, connector="salesforce", name="Org")
    before = sealed(org.pk)
    since = sandbox_now(sf)

    in_alpha(lambda: connection_refresh(connection=row(org.pk), force=True))

    [call] = token_calls(sf, since=since)
    assert "refresh" not in call["issued"]
    after = sealed(org.pk)
    assert after["refresh_token"] == before["refresh_token"]
    assert after["access_token"] != before["access_token"]
    assert api_call_works(org.pk)


@pytest.fixture
def sf_rotating(monkeypatch):
    """A second Salesforce sandbox with refresh-token rotation on (S7), used by local ones."""
    process = SandboxProcess(
        "connectors.salesforce.sandbox", ("--rate-limit", "off", "--rotate-refresh-tokens")
    )
    monkeypatch.setenv("SALESFORCE_LOCAL_URL", process.base_url)
    yield process
    process.stop()


def test_salesforce_with_rotation_replaces_the_old_token_and_never_reuses_it(alpha, sf_rotating):
    org = connected(alpha, sf_rotating, connector="salesforce", name="Org")
    chain = [sealed(org.pk)["refresh_token"]]
    since = sandbox_now(sf_rotating)

    for _ in range(3):
        in_alpha(lambda: connection_refresh(connection=row(org.pk), force=True))
        chain.append(sealed(org.pk)["refresh_token"])

    assert len(set(chain)) == 4
    calls = token_calls(sf_rotating, since=since)
    assert [c["presented"] for c in calls] == [sandbox_fingerprint(t) for t in chain[:3]]
    assert [c["issued"]["refresh"] for c in calls] == [sandbox_fingerprint(t) for t in chain[1:]]
    assert all(c["outcome"] == "ok" for c in calls)
    assert api_call_works(org.pk)


# --- refusal: needs_reauth ------------------------------------------------------------------


def test_invalid_grant_needs_reauth_emails_admins_once_stops_retrying_and_reconnect_clears_it(
    alpha, qbo
):
    member(alpha, "health-admin", Role.ADMIN, email="boss@alpha.example")
    member(alpha, "health-editor", Role.EDITOR, email="editor@alpha.example")
    books = connected(alpha, qbo, connector="quickbooks", name="Books")
    revoked = qbo.http.post(
        qbo.url("/oauth/revoke"),
        json={"token": sealed(books.pk)["refresh_token"]},
        auth=("nexiom-dev-quickbooks", "dev-secret-quickbooks"),
        timeout=5,
    )
    assert revoked.status_code == 200
    since = sandbox_now(qbo)

    with pytest.raises(NeedsReauth):
        in_alpha(lambda: connection_refresh(connection=row(books.pk), force=True))

    refused = row(books.pk)
    assert refused.status == "needs_reauth"
    assert "invalid_grant" in refused.last_error
    assert refused.next_check_at is None
    assert refused.reauth_notified_at is not None
    assert [(m.subject, m.to) for m in mail.outbox] == [
        ("Books needs reconnecting", ["boss@alpha.example"])
    ]
    assert f"/admin/connectors/connection/{books.pk}/change/" in mail.outbox[0].body

    # A second failing attempt (an explicit "refresh now") asks again but tells nobody.
    with pytest.raises(NeedsReauth):
        in_alpha(lambda: connection_refresh(connection=row(books.pk), force=True))
    assert len(mail.outbox) == 1
    assert row(books.pk).reauth_notified_at == refused.reauth_notified_at
    calls_so_far = len(token_calls(qbo, since=since))
    assert calls_so_far == 2

    # Retrying stops: a client's refresh and the sweep do not call the provider.
    with pytest.raises(NeedsReauth):
        in_alpha(
            lambda: connection_refresh(
                connection=row(books.pk), failed_fingerprint=refused.access_fingerprint
            )
        )
    report = in_alpha(lambda: connections_sweep())
    assert (report.checked, report.refreshed) == (0, 0)
    assert len(token_calls(qbo, since=since)) == calls_so_far

    # Reconnecting through the authorization page clears it.
    url = in_alpha(lambda: authorization_start(connection=row(books.pk), user=None))
    assert callback(consent(qbo, url)).status_code == 302

    back = row(books.pk)
    assert (back.status, back.last_error, back.failure_count) == ("connected", "", 0)
    assert back.reauth_notified_at is None
    assert back.next_check_at is not None
    assert api_call_works(books.pk)


# --- transient failures back off ------------------------------------------------------------


def test_transient_token_failures_back_off_and_keep_the_connection(alpha, qbo, monkeypatch):
    books = connected(alpha, qbo, connector="quickbooks", name="Books")
    tokens_before = sealed(books.pk)
    # A hung provider is given up on quickly here (20 s in production).
    monkeypatch.setattr(QuickBooksOAuth2, "timeout", 0.5)
    faults = [
        {"status": 503, "count": 1, "path_prefix": "/oauth/token"},
        {"status": 500, "count": 1, "path_prefix": "/oauth/token"},
        {"status": 503, "count": 1, "path_prefix": "/oauth/token", "hang_seconds": 2},
    ]
    delays = []

    for fault in faults:
        assert qbo.inject(**fault).status_code == 201
        with pytest.raises(Transient):
            in_alpha(lambda: connection_refresh(connection=row(books.pk), force=True))
        failed = row(books.pk)
        delays.append(failed.next_check_at - failed.last_checked_at)
        assert failed.status == "connected"
        assert failed.last_error

    assert delays == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert row(books.pk).failure_count == 3
    assert sealed(books.pk) == tokens_before
    # Not due while backing off: the sweep leaves it alone.
    assert in_alpha(lambda: connections_sweep()).checked == 0

    in_alpha(lambda: connection_refresh(connection=row(books.pk), force=True))

    healed = row(books.pk)
    assert (healed.status, healed.failure_count, healed.last_error) == ("connected", 0, "")
    assert api_call_works(books.pk)


# --- what is refused without calling anybody ------------------------------------------------
# (This one runs in the test transaction; it also makes pytest-django create the test
# database when this module runs alone, since the committed tests carry no db mark.)


def test_a_pending_or_disabled_connection_has_nothing_to_refresh(tenant_a, qbo):
    since = sandbox_now(qbo)
    with schema_context(tenant_a.schema_name):
        pending = ConnectionFactory(name="Pending")
        disabled = ConnectionFactory(name="Off", connected=True)
        connection_disable(connection=disabled)

        for refused in (pending, disabled):
            with pytest.raises(ConnectionStateConflict):
                connection_refresh(connection=refused, force=True)

    assert token_calls(qbo, since=since) == []
