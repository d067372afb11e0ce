"""Tasks receive ids, never secrets: real sends to the real Redis, and a real worker."""

from __future__ import annotations

import base64
import threading
import time
import uuid

import pytest
import redis
from billiard.einfo import ExceptionInfo
from celery import chain
from celery.app.trace import trace_ok_t
from celery.contrib.testing.worker import start_worker
from celery.signals import worker_process_init
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context

from nexiom.celery import app
from vault.errors import PlaintextInTaskMessage
from vault.keyring import keyring_entry_generate
from vault.models import Secret, SecretRead
from vault.redaction import REDACTED, revealed_remember
from vault.services import secret_reveal, secret_seal

API_KEY = "sk_live_celery_0123456789"


@app.task(name="tests.vault.echo")
def echo(*args, **kwargs) -> None:
    return None


def _api_key_of(secret_id: str) -> str:
    secret = Secret.objects.get(pk=secret_id)
    return secret_reveal(secret=secret, reason="probe the remote API")["api_key"]


@app.task(name="tests.vault.return_revealed", ignore_result=False)
def return_revealed(secret_id: str) -> str:
    return _api_key_of(secret_id)  # careless: the result is stored and sent in events


@app.task(name="tests.vault.raise_revealed", ignore_result=False)
def raise_revealed(secret_id: str) -> None:
    raise RuntimeError(f"provider refused {_api_key_of(secret_id)}")


@app.task(name="tests.vault.return_revealed_quietly")
def return_revealed_quietly(secret_id: str) -> str:
    return _api_key_of(secret_id)  # results are off by default: nothing is stored


@app.task(name="tests.vault.reveal_by_id", ignore_result=False)
def reveal_by_id(secret_id: str) -> list[str]:
    secret = Secret.objects.filter(pk=secret_id).first()
    if secret is None:
        return []
    return sorted(secret_reveal(secret=secret, reason="probe the remote API"))


@pytest.fixture
def queue():
    """A queue of our own on the test broker; emptied afterwards."""
    name = f"tests-vault-{uuid.uuid4().hex[:8]}"
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    yield name, broker
    broker.delete(name)


@pytest.fixture
def revealed(tenant_a):
    with schema_context(tenant_a.schema_name):
        secret = secret_seal(data={"api_key": API_KEY, "account": "acme"}, purpose="acme.api_key")
        data = secret_reveal(secret=secret, reason="about to call the API", actor="tests")
        yield secret, data


@pytest.mark.parametrize(
    "send",
    [
        lambda key, q: echo.apply_async(args=[key], queue=q),
        lambda key, q: echo.apply_async(kwargs={"auth": f"Bearer {key}"}, queue=q),
        lambda key, q: echo.apply_async(args=[{"creds": [key]}], queue=q),
        lambda key, q: app.send_task("tests.vault.echo", args=[key], queue=q),
        lambda key, q: chain(echo.si(1), echo.si(key)).apply_async(queue=q),
        lambda key, q: echo.apply_async(args=[1], link=echo.si(key), queue=q),
        lambda key, q: echo.apply_async(args=[1], headers={"x-auth": key}, queue=q),
        lambda key, q: echo.apply_async(kwargs={"a": [{"b": ({"c": [f"deep {key}"]},)}]}, queue=q),
        lambda key, q: echo.apply_async(args=[base64.b64encode(key.encode()).decode()], queue=q),
        lambda key, q: echo.apply_async(
            args=[base64.urlsafe_b64encode(f"~~{key}?>".encode()).decode().rstrip("=")], queue=q
        ),
        lambda key, q: echo.apply_async(
            headers={"Authorization": "Basic " + base64.b64encode(f"acme:{key}".encode()).decode()},
            queue=q,
        ),
        lambda key, q: echo.apply_async(args=[key.encode().hex()], queue=q),
        lambda key, q: echo.apply_async(args=[key.encode().hex().upper()], queue=q),
        lambda key, q: echo.apply_async(args=[key.upper()], queue=q),
        lambda key, q: echo.apply_async(kwargs={"k": key.lower()}, queue=q),
        lambda key, q: echo.apply_async(args=[key.encode()], queue=q, serializer="pickle"),
        lambda key, q: echo.apply_async(args=[1], shadow=f"echo {key}", queue=q),
    ],
    ids=[
        "args",
        "kwargs",
        "nested",
        "send_task",
        "chain",
        "link",
        "headers",
        "deeply nested",
        "base64",
        "urlsafe base64 inside a longer text",
        "basic auth header",
        "hex",
        "hex upper",
        "upper case",
        "lower case",
        "bytes",
        "other option",
    ],
)
def test_a_task_carrying_a_revealed_value_is_not_sent(revealed, queue, send):
    name, broker = queue

    with pytest.raises(PlaintextInTaskMessage) as error:
        send(revealed[1]["api_key"], name)

    assert broker.llen(name) == 0
    assert "Task tests.vault.echo was not sent" in str(error.value)
    assert API_KEY not in str(error.value)


def test_a_task_carrying_the_secret_id_is_sent(revealed, queue):
    name, broker = queue
    secret, _ = revealed

    echo.apply_async(args=[str(secret.pk)], queue=name)

    messages = broker.lrange(name, 0, -1)
    assert len(messages) == 1
    assert str(secret.pk).encode() in messages[0]
    assert API_KEY.encode() not in messages[0]


def test_the_guard_is_installed_once():
    from vault.celery_guard import install

    guarded = app.send_task
    install(app=app)

    assert app.send_task is guarded
    assert guarded.vault_guarded is True


@pytest.fixture(scope="module")
def worker_with_a_secret(django_db_setup, django_db_blocker):
    """A committed secret in alpha and a worker on a queue of its own (autocommit)."""
    name = f"tests-vault-{uuid.uuid4().hex[:8]}"
    keys = keyring_entry_generate(version=1)
    previous_keys = settings.NEXIOM_VAULT_KEYS
    settings.NEXIOM_VAULT_KEYS = keys
    with django_db_blocker.unblock():
        with schema_context("alpha"):
            secret = secret_seal(data={"api_key": API_KEY, "region": "eu"}, purpose="acme.api_key")
        try:
            with start_worker(app, pool="solo", perform_ping_check=False, queues=[name]):
                yield secret, name, keys
        finally:
            with schema_context("alpha"):
                SecretRead.objects.all().delete()
                Secret.objects.all().delete()
            connection.close()
            settings.NEXIOM_VAULT_KEYS = previous_keys


def test_a_task_reveals_by_id_and_the_audit_names_the_task(
    worker_with_a_secret, settings, tenant_a
):
    secret, name, keys = worker_with_a_secret
    settings.NEXIOM_VAULT_KEYS = keys

    with schema_context(tenant_a.schema_name):
        result = reveal_by_id.apply_async(args=[str(secret.pk)], queue=name)
        assert result.get(timeout=30) == ["api_key", "region"]

        read = SecretRead.objects.get(secret_ref=secret.pk)
    assert (read.actor_kind, read.actor_user, read.actor_label, read.reason) == (
        "task",
        None,
        "tests.vault.reveal_by_id",
        "probe the remote API",
    )


class _EventLog:
    """Every task event published on the test broker, as a monitor (Flower) receives it."""

    def __init__(self) -> None:
        self.events: list[dict] = []
        self._connection = app.connection_for_read()
        self._receiver = app.events.Receiver(self._connection, handlers={"*": self.events.append})
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        for _ in self._receiver.consume(limit=None, timeout=None, wakeup=False):
            pass

    def __enter__(self):
        self._thread.start()
        time.sleep(0.5)  # subscribed before anything is sent
        return self

    def __exit__(self, *exc_info) -> None:
        self._receiver.should_stop = True
        self._thread.join(10)
        self._connection.release()

    def wait_for(self, task_id: str, kind: str, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in list(self.events):
                if event.get("uuid") == task_id and event["type"] == kind:
                    return event
            time.sleep(0.05)
        raise AssertionError(f"no {kind} event for {task_id}")


def test_results_and_events_never_carry_a_revealed_value(worker_with_a_secret, settings, tenant_a):
    secret, name, keys = worker_with_a_secret
    settings.NEXIOM_VAULT_KEYS = keys
    backend = redis.Redis.from_url(settings.CELERY_RESULT_BACKEND)

    with _EventLog() as log, schema_context(tenant_a.schema_name):
        returned = return_revealed.apply_async(args=[str(secret.pk)], queue=name)
        raised = raise_revealed.apply_async(args=[str(secret.pk)], queue=name)
        quiet = return_revealed_quietly.apply_async(args=[str(secret.pk)], queue=name)
        succeeded = log.wait_for(returned.id, "task-succeeded")
        failed = log.wait_for(raised.id, "task-failed")
        log.wait_for(quiet.id, "task-succeeded")

        assert returned.get(timeout=30) == REDACTED
        with pytest.raises(RuntimeError, match=r"provider refused \[REDACTED\]"):
            raised.get(timeout=30)
    stored = {task.id: backend.get(f"celery-task-meta-{task.id}") for task in (returned, raised)}

    assert backend.exists(f"celery-task-meta-{quiet.id}") == 0  # results off by default
    for raw in stored.values():
        assert API_KEY.encode() not in raw and REDACTED.encode() in raw
    assert b"RuntimeError: provider refused [REDACTED]" in stored[raised.id]  # the traceback
    assert succeeded["result"] == repr(REDACTED)
    assert failed["exception"] == f"RuntimeError('provider refused {REDACTED}')"
    assert f"RuntimeError: provider refused {REDACTED}" in failed["traceback"]
    seen = [e for e in log.events if e.get("uuid") in {returned.id, raised.id, quiet.id}]
    assert {e["type"] for e in seen} >= {"task-sent", "task-received", "task-started"}
    assert API_KEY not in repr(log.events)


def test_a_prefork_child_hands_its_parent_a_redacted_outcome():
    """The parent of a prefork pool logs and sends events but never saw the child's reveals."""
    revealed_remember({"api_key": API_KEY})

    def failing_trace(*args, **kwargs):
        try:
            raise RuntimeError(f"provider refused {API_KEY}")
        except RuntimeError:
            return trace_ok_t(ExceptionInfo(), object(), 0.1, None)

    task = app.tasks["tests.vault.echo"]
    saved = task.__trace__
    task.__trace__ = failing_trace
    try:
        worker_process_init.send(sender="tests")  # as in a new pool child
        failed = task.__trace__("id", [], {}, None)
        task.__trace__ = lambda *args: trace_ok_t(API_KEY, None, 0.1, repr(API_KEY))
        worker_process_init.send(sender="tests")
        succeeded = task.__trace__("id", [], {}, None)
    finally:
        task.__trace__ = saved

    wrapped = failed.retval.exception  # billiard's ExceptionWithTraceback, as pickled
    assert repr(wrapped.exc) == f"RuntimeError('provider refused {REDACTED}')"
    assert API_KEY not in wrapped.tb
    assert f"RuntimeError: provider refused {REDACTED}" in failed.retval.traceback
    assert API_KEY not in failed.retval.traceback
    assert succeeded.retstr == repr(REDACTED)
