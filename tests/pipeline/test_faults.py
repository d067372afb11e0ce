"""QuickBooks misbehaving: throttling, an expired token, outages, refusals.

Retries are quick here (``fresh``: at most 1 s apart); what is asserted is
where each invoice ends up, never how long it took.
"""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from pipeline.models import Delivery, Route
from pipeline.services.routes import route_update
from tests.pipeline.conftest import MAPPING, wait_until
from tests.pipeline.support import (
    company,
    delivered_count,
    deliveries,
    events,
    invoice,
    invoices_by_number,
    message,
    tag,
    wait_delivered,
)
from tests.sandboxes import sandbox_now, token_calls

pytestmark = pytest.mark.usefixtures("fresh")


def faults_served(qbo) -> list[dict]:
    return qbo.state()["faults"]["served"]


def test_throttling_on_half_the_calls_and_an_expired_token_deliver_each_invoice_once(fresh, qbo):
    run = tag()
    realm = fresh.books.realm_id
    since = sandbox_now(qbo)
    served_before = len(faults_served(qbo))
    every_other_call_429 = [{"status": 429, "count": 1}, {"hang_seconds": 0, "count": 1}] * 20
    assert qbo.http.post(qbo.url("/__sandbox__/faults"), json=every_other_call_429).ok
    records = [invoice(run, n, customer=f"Customer {run} {n % 3}") for n in range(1, 21)]

    fresh.post(message(records[:10]))
    wait_until(lambda: delivered_count(fresh) >= 2, what="the run under way")
    assert qbo.expire(all=True).ok  # the next call meets a 401
    fresh.post(message(records[10:]))

    wait_delivered(fresh, 20, timeout=60)
    numbers = invoices_by_number(qbo, realm, f"T{run}-")
    assert sorted(numbers) == sorted(str(r["Name"]) for r in records)
    assert all(len(entries) == 1 for entries in numbers.values())
    for k in range(3):
        assert (
            len(
                [
                    c
                    for c in company(qbo, realm)["customers"]
                    if c["DisplayName"] == f"Customer {run} {k}"
                ]
            )
            == 1
        )
    ids = [entry["Id"] for [entry] in numbers.values()]
    creates = [r for r in company(qbo, realm)["requestids"].values() if r["Id"] in ids]
    assert len(creates) == 20  # one requestid per invoice: replays answered, never re-created
    assert len(token_calls(qbo, since=since)) == 1
    throttled = [f for f in faults_served(qbo)[served_before:] if f["status"] == 429]
    assert throttled
    assert all(d.status == Delivery.Status.DELIVERED for d in deliveries(fresh))
    assert events(fresh, layer="delivery", status="retrying", error_code="rate_limited")


def test_a_burst_of_server_errors_is_retried_then_delivered(fresh, qbo):
    run = tag()
    realm = fresh.books.realm_id
    assert qbo.inject(status=503, count=3).ok

    fresh.post(message([invoice(run, 1)]))

    wait_delivered(fresh, 1)
    [delivery] = deliveries(fresh)
    assert delivery.attempts == 4
    assert delivery.last_error == ""
    history = [(e.status, e.error_code) for e in events(fresh, layer="delivery")]
    assert history == [("retrying", "transient")] * 3 + [("succeeded", "")]
    assert len(invoices_by_number(qbo, realm, f"T{run}-")[f"T{run}-0001"]) == 1


@pytest.fixture
def mapping(fresh):
    """Change the route's mapping for one test; the module's mapping comes back after."""

    def change(**items) -> None:
        with schema_context(fresh.tenant.schema_name):
            route = Route.objects.get(pk=fresh.route.pk)
            route_update(route=route, mapping={**MAPPING, "items": items})

    yield change
    with schema_context(fresh.tenant.schema_name):
        route_update(route=Route.objects.get(pk=fresh.route.pk), mapping=MAPPING)


def test_an_unmapped_item_is_a_dead_letter_before_any_request(fresh, qbo, mapping):
    run = tag()
    realm = fresh.books.realm_id
    mapping(line_haul="21", fuel_surcharge="22")  # no accessorial item
    plain = invoice(run, 1, accessorials=())
    extra = invoice(run, 2)
    requests_before = qbo.state()["requests"]["total"]

    fresh.post(message([plain, extra]))

    wait_until(
        lambda: {d.status for d in deliveries(fresh)} == {"delivered", "dead"},
        what="one delivered, one dead",
    )
    dead = next(d for d in deliveries(fresh) if d.status == Delivery.Status.DEAD)
    assert dead.canonical.replica.external_id == extra["Id"]
    assert dead.attempts == 0
    assert dead.last_error_code == "payload_invalid"
    assert "Line[3].SalesItemLineDetail.ItemRef" in dead.last_error
    assert "no QuickBooks item is mapped for a accessorial line" in dead.last_error
    [event] = events(fresh, layer="outbound", status="dead")
    assert event.delivery_id == dead.pk
    assert event.error_code == "payload_invalid"
    assert "Line[3].SalesItemLineDetail.ItemRef" in event.detail["fields"]
    assert sorted(invoices_by_number(qbo, realm, f"T{run}-")) == [f"T{run}-0001"]
    # the plain invoice cost a customer query, a customer create and an invoice create
    assert qbo.state()["requests"]["total"] - requests_before == 3


def test_a_quickbooks_validation_fault_is_a_dead_letter_at_once(fresh, qbo, mapping):
    run = tag()
    realm = fresh.books.realm_id
    mapping(line_haul="21", fuel_surcharge="99", accessorial="23")  # 99: no such Item

    fresh.post(message([invoice(run, 1)]))

    wait_until(lambda: [d.status for d in deliveries(fresh)] == ["dead"], what="a dead letter")
    [dead] = deliveries(fresh)
    assert dead.attempts == 1
    assert dead.last_status_code == 422
    assert dead.last_error_code == "permanent"
    assert "HTTP 400, 2500" in dead.last_error
    assert "Line.SalesItemLineDetail.ItemRef" in dead.last_error
    [event] = events(fresh, layer="delivery")
    assert (event.status, event.error_code, event.detail["provider_code"]) == (
        "dead",
        "permanent",
        "2500",
    )
    assert "Line.SalesItemLineDetail.ItemRef" in event.error
    assert invoices_by_number(qbo, realm, f"T{run}-") == {}
