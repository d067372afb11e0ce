"""Rotation: batches, resumable, online while other connections reveal and replace.

The concurrent tests commit their data in tenant alpha from threads with
connections of their own (other connections must see it) and delete it
afterwards.
"""

from __future__ import annotations

import io
import random
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django_tenants.utils import schema_context

from vault.models import Secret, SecretRead
from vault.rotation import key_versions_count, secrets_rotate
from vault.services import secret_replace, secret_reveal, secret_seal


@pytest.fixture
def alpha(tenant_a):
    with schema_context(tenant_a.schema_name):
        yield tenant_a


def _seal_many(count: int, *, purpose: str = "test.rotation") -> dict:
    return {
        secret.pk: data
        for i in range(count)
        for data in [{"n": i, "token": f"tok-{i:05d}-{random.getrandbits(64):016x}"}]
        for secret in [secret_seal(data=data, purpose=purpose)]
    }


def test_rotation_reseals_in_batches_with_the_newest_key(alpha, settings, vault_keys):
    expected = _seal_many(7)
    settings.NEXIOM_VAULT_KEYS = vault_keys.env(2, 1)
    batches = []

    result = secrets_rotate(batch_size=3, on_batch=batches.append)

    assert (result.resealed, result.remaining) == (7, 0)
    assert batches == [3, 3, 1]
    assert key_versions_count() == {2: 7}
    for secret in Secret.objects.all():
        assert secret.rotated is not None
        assert secret_reveal(secret=secret, reason="check", actor="tests") == expected[secret.pk]


def test_rotation_with_nothing_to_do_touches_nothing(alpha):
    _seal_many(2)

    result = secrets_rotate()

    assert (result.resealed, result.remaining) == (0, 0)
    assert not Secret.objects.filter(rotated__isnull=False).exists()


def test_an_interrupted_rotation_resumes_where_it_stopped(alpha, settings, vault_keys):
    expected = _seal_many(7)
    settings.NEXIOM_VAULT_KEYS = vault_keys.env(2, 1)

    def stop_after_first_batch(count):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        secrets_rotate(batch_size=3, on_batch=stop_after_first_batch)
    assert key_versions_count() == {1: 4, 2: 3}

    result = secrets_rotate(batch_size=3)

    assert result.resealed == 4
    assert key_versions_count() == {2: 7}
    for secret in Secret.objects.all():
        assert secret_reveal(secret=secret, reason="check", actor="tests") == expected[secret.pk]


def _on_own_connection(work):
    """Run ``work`` in alpha on a thread of its own: its own connection, autocommit.

    The test's connection sits in the ``db`` fixture's transaction, which other
    connections cannot see; everything that must be committed runs here.
    """

    def run():
        try:
            with schema_context("alpha"):
                return work()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result(timeout=120)


@contextmanager
def _committed_in_alpha():
    """Committed secrets in alpha for the test; all of them deleted afterwards."""
    try:
        yield
    finally:
        _on_own_connection(
            lambda: (SecretRead.objects.all().delete(), Secret.objects.all().delete())
        )


def _in_thread(work, errors: list):
    def run():
        try:
            with schema_context("alpha"):
                work()
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _hold_row(pk, errors: list):
    """Lock one secret the way a writer does; returns (thread, release event)."""
    locked, release = threading.Event(), threading.Event()

    def hold():
        with transaction.atomic():
            Secret.objects.select_for_update().get(pk=pk)
            locked.set()
            release.wait(30)

    thread = _in_thread(hold, errors)
    assert locked.wait(30)
    return thread, release


def _reveal_all() -> dict:
    return {
        secret.pk: secret_reveal(secret=secret, reason="check", actor="tests")
        for secret in Secret.objects.all()
    }


def test_rotation_skips_a_row_a_writer_holds_and_a_rerun_finishes(db, settings, vault_keys):
    with _committed_in_alpha():
        expected = _on_own_connection(lambda: _seal_many(5))
        settings.NEXIOM_VAULT_KEYS = vault_keys.env(2, 1)
        errors = []
        holder, release = _hold_row(sorted(expected)[2], errors)

        first = _on_own_connection(
            lambda: secrets_rotate(batch_size=2, passes=2, pause_seconds=0.01)
        )
        release.set()
        holder.join(30)
        second = _on_own_connection(lambda: secrets_rotate(batch_size=2))

        assert errors == []
        assert (first.resealed, first.remaining) == (4, 1)
        assert (second.resealed, second.remaining) == (1, 0)
        assert _on_own_connection(key_versions_count) == {2: 5}
        assert _on_own_connection(_reveal_all) == expected


def test_rotation_while_other_threads_reveal_and_replace(db, settings, vault_keys):
    with _committed_in_alpha():
        originals = _on_own_connection(lambda: _seal_many(300))
        ids = sorted(originals)
        # What a reveal may legitimately return: the original, or a replacement.
        acceptable = {pk: [data] for pk, data in originals.items()}
        settings.NEXIOM_VAULT_KEYS = vault_keys.env(2, 1)
        stop, errors, reveals = threading.Event(), [], []

        def reveal_continuously():
            rng = random.Random()
            while not stop.is_set():
                pk = rng.choice(ids)
                data = secret_reveal(
                    secret=Secret.objects.get(pk=pk), reason="during rotation", actor="revealer"
                )
                assert data in acceptable[pk], f"unexpected data for {pk}"
                reveals.append(time.monotonic())

        def replace_some():
            for i, pk in enumerate(ids[::15]):
                new = {"n": -i, "token": f"replaced-{i:04d}-during-rotation"}
                acceptable[pk].append(new)
                secret_replace(secret=Secret.objects.get(pk=pk), data=new)
                time.sleep(0.005)

        threads = [_in_thread(reveal_continuously, errors) for _ in range(3)]
        threads.append(_in_thread(replace_some, errors))
        while len(reveals) < 20 and not errors:
            time.sleep(0.01)

        out = io.StringIO()
        started = time.monotonic()
        _on_own_connection(
            lambda: call_command(
                "vault_rotate", "--tenant", "alpha", "--batch-size", "25", stdout=out
            )
        )
        finished = time.monotonic()
        threads[-1].join(60)
        time.sleep(0.05)
        stop.set()
        for thread in threads:
            thread.join(60)

        assert errors == []
        # Replaced rows are on v2 already; rotation re-seals the others.
        assert re.fullmatch(r"Re-sealed \d+ secrets with key v2 in 1 tenant\.\n", out.getvalue())
        assert sum(started <= t <= finished for t in reveals) > 0  # they overlapped
        assert _on_own_connection(key_versions_count) == {2: 300}
        final = _on_own_connection(_reveal_all)
        assert final == {pk: acceptable[pk][-1] for pk in ids}


def test_the_command_reports_rows_held_through_every_pass(db, settings, vault_keys):
    with _committed_in_alpha():
        held_pk = sorted(_on_own_connection(lambda: _seal_many(3)))[0]
        settings.NEXIOM_VAULT_KEYS = vault_keys.env(2, 1)
        errors, out = [], io.StringIO()
        holder, release = _hold_row(held_pk, errors)
        try:
            with pytest.raises(CommandError) as error:
                _on_own_connection(
                    lambda: call_command(
                        "vault_rotate", "--tenant", "alpha", stdout=out, verbosity=0
                    )
                )
        finally:
            release.set()
            holder.join(30)

        assert errors == []
        assert str(error.value) == (
            "1 secret was held by writers through every pass and still on an older key; "
            "run vault_rotate again."
        )
        assert out.getvalue() == "Re-sealed 2 secrets with key v2 in 1 tenant.\n"
        assert _on_own_connection(key_versions_count) == {1: 1, 2: 2}
