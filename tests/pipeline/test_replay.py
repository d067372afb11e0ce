"""Replay from each layer reaches the same QuickBooks invoice, never a second one; dead letters
come back after a fix; the Desk shows the lineage and replays; the dashboard shows it all."""

from __future__ import annotations

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from accounts.models import User
from pipeline.models import Delivery
from sync_history.models import SyncEvent
from sync_history.services import history_replay
from tests.pipeline.conftest import FIXTURES, wait_until

INVOICES = (FIXTURES / "revenova_outbound_invoice.xml").read_bytes()


def _invoices(qbo_sandbox, realm: str) -> list[dict]:
    return qbo_sandbox.state()["data"]["companies"][realm]["invoices"]


def _delivered_versions(wired) -> dict[str, str]:
    with schema_context(wired.tenant.schema_name):
        return dict(
            Delivery.objects.filter(status=Delivery.Status.DELIVERED).values_list(
                "target_reference", "target_version"
            )
        )


@pytest.fixture
def delivered(wired, qbo_sandbox, django_db_blocker):
    """The two fixture invoices delivered once; returns their record ids."""
    with django_db_blocker.unblock():
        wired.post(INVOICES)
        wait_until(lambda: len(_delivered_versions(wired)) >= 2, what="two deliveries")
        with schema_context(wired.tenant.schema_name):
            return list(
                Delivery.objects.filter(status=Delivery.Status.DELIVERED).values_list(
                    "canonical__replica_id", flat=True
                )
            )


@pytest.mark.parametrize("layer", ["replica", "normalize", "outbound", "delivery"])
def test_replay_from_each_layer_updates_the_same_invoice(
    wired, qbo_sandbox, delivered, django_db_blocker, layer
):
    with django_db_blocker.unblock():
        before = _delivered_versions(wired)
        count = len(_invoices(qbo_sandbox, wired.books.realm_id))

        with schema_context(wired.tenant.schema_name):
            assert history_replay(record_ids=delivered, layer=layer, actor="tests") == 2

        wait_until(
            lambda: all(
                _delivered_versions(wired).get(doc) not in (None, before[doc]) for doc in before
            ),
            what=f"the replay from {layer} to reach QuickBooks",
        )
        assert len(_invoices(qbo_sandbox, wired.books.realm_id)) == count  # no duplicate
        with schema_context(wired.tenant.schema_name):
            replays = SyncEvent.objects.filter(status="replay", record_id__in=delivered)
            assert layer in set(replays.values_list("layer", flat=True))  # the request is audited
            # L2 writes the gateway's "received" row with its batch, once: a replay from the
            # replica layer parses the message again but does not receive it again.
            received = SyncEvent.objects.filter(layer="gateway", status="received")
            message_ids = list(received.values_list("message_id", flat=True))
            assert len(message_ids) == len(set(message_ids)) >= 1


def test_a_dead_letter_comes_back_after_the_mapping_is_fixed(wired, qbo_sandbox, django_db_blocker):
    with django_db_blocker.unblock():
        with schema_context(wired.tenant.schema_name):
            good = dict(wired.route.mapping)
            wired.route.mapping = {"items": {"line_haul": "21"}}  # no item for the others
            wired.route.save(update_fields=["mapping"])
        # A newer version of both invoices (new notification ids, later LastModifiedDate).
        body = (
            INVOICES.replace(b"04l5e00000HcA1BAAV", b"04l5e00000HcA9BAAV")
            .replace(b"04l5e00000HcA1CAAV", b"04l5e00000HcA9CAAV")
            .replace(b"LastModifiedDate>2025", b"LastModifiedDate>2027")
        )
        wired.post(body)

        def dead() -> list[int]:
            with schema_context(wired.tenant.schema_name):
                return list(
                    Delivery.objects.filter(status=Delivery.Status.DEAD).values_list(
                        "canonical__replica_id", flat=True
                    )
                )

        wait_until(lambda: bool(dead()), what="a dead letter")
        record_ids = dead()
        with schema_context(wired.tenant.schema_name):
            error = SyncEvent.objects.filter(record_id__in=record_ids, status="dead").first()
            assert error.error_code == "payload_invalid"
            assert "ItemRef" in error.error
            wired.route.mapping = good
            wired.route.save(update_fields=["mapping"])
            history_replay(record_ids=record_ids, layer="outbound", actor="tests")
        wait_until(lambda: not dead(), what="the fixed records to be delivered")


def test_the_desk_shows_the_lineage_and_replays_it(wired, delivered, django_db_blocker):
    with django_db_blocker.unblock(), schema_context(wired.tenant.schema_name):
        editor = User.objects.get(username="ed")
        client = Client(HTTP_HOST="pipe.localhost")
        client.force_login(editor)
        event = SyncEvent.objects.filter(record_id=delivered[0], layer="delivery").first()

        page = client.get(f"/admin/sync_history/syncevent/{event.pk}/change/")
        replayed = client.post(
            f"/admin/sync_history/syncevent/{event.pk}/change/",
            {"replay": "normalize"},
            follow=True,
        )
        dashboard = client.get("/dashboard/")

    text = page.content.decode()
    for layer in ("replica", "normalize", "outbound", "delivery"):
        assert f"<h3>{layer}</h3>" in text
    for snapshot in ("canonical", "payload", "response"):
        assert f"<h3>{snapshot}</h3>" in text
    assert 'id="replay-outbound"' in text
    assert "Sent for replay from normalize." in replayed.content.decode()
    assert dashboard.status_code == 200
    assert b'id="connections"' in dashboard.content and b"Books" in dashboard.content
