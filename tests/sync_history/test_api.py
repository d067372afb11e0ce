"""The sync-history API: filters, lineage, replay requests, roles and tenant walls."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from accounts.roles import Role
from sync_history.models import SyncEvent
from sync_history.services import Event, events_record
from tests.helpers import client_as, client_for, member
from tests.matrix import ACTORS, ANON, Row, editors, everyone, render

MATRIX: list[Row] = [
    Row("GET", "/api/sync-history/", everyone(200)),
    Row("GET", "/api/sync-history/{event}/", everyone(200)),
    Row("POST", "/api/sync-history/{event}/replay/", editors(200), {"layer": "normalize"}),
    Row("POST", "/api/sync-history/replay/", editors(200), {"layer": "delivery"}),
    Row("DELETE", "/api/sync-history/{event}/", editors(405)),
    Row("PATCH", "/api/sync-history/{event}/", editors(405), {"error": "x"}),
]


def _lineage(tenant) -> SyncEvent:
    """A record's steps through every layer, with each layer's output."""
    with tenant_context(tenant):
        events_record(
            [
                Event(
                    layer="gateway",
                    status="received",
                    message_id=7,
                    detail={"raw": {"preview": "<x/>"}},
                ),
                Event(
                    layer="replica",
                    status="succeeded",
                    message_id=7,
                    record_id=42,
                    external_id="a0B1",
                    detail={"replica": {"Id": "a0B1"}},
                ),
                Event(
                    layer="normalize",
                    status="succeeded",
                    message_id=7,
                    record_id=42,
                    reference="INV-9",
                    detail={"canonical": {"number": "INV-9"}},
                ),
                Event(
                    layer="outbound",
                    status="succeeded",
                    message_id=7,
                    record_id=42,
                    detail={"payload": {"body": {}}},
                ),
                Event(
                    layer="delivery",
                    status="dead",
                    message_id=7,
                    record_id=42,
                    error_code="payload_invalid",
                    error="no item",
                ),
            ]
        )
        return SyncEvent.objects.get(layer="delivery", record_id=42)


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("row", MATRIX, ids=lambda r: f"{r.method} {r.path}")
def test_role_matrix(db, tenant_a, row: Row, actor: str):
    event = _lineage(tenant_a)
    client = client_for(tenant_a)
    if actor != ANON:
        with tenant_context(tenant_a):
            client.force_login(member(tenant_a, "actor", Role(actor)))
    with tenant_context(tenant_a):
        before = SyncEvent.objects.count()

    response = getattr(client, row.method.lower())(
        row.path.format(event=event.pk), data=row.body, content_type="application/json"
    )

    assert response.status_code == row.expected[actor], response.content[:300]
    if response.status_code >= 400 and row.method != "GET":
        with tenant_context(tenant_a):
            assert SyncEvent.objects.count() == before


def test_retrieve_returns_the_lineage_with_each_layers_output(tenant_a):
    event = _lineage(tenant_a)

    body = client_as(tenant_a, Role.VIEWER).get(f"/api/sync-history/{event.pk}/").json()

    assert list(body["lineage"]["layers"]) == [
        "gateway",
        "replica",
        "normalize",
        "outbound",
        "delivery",
    ]
    assert set(body["lineage"]["snapshots"]) == {"raw", "replica", "canonical", "payload"}
    assert body["lineage"]["message_ids"] == [7]


def test_filters_and_exact_search(tenant_a):
    _lineage(tenant_a)
    client = client_as(tenant_a, Role.VIEWER)

    dead = client.get("/api/sync-history/?status=dead").json()["results"]
    by_number = client.get("/api/sync-history/?search=INV-9").json()["results"]
    bad = client.get("/api/sync-history/?since=yesterday")

    assert [e["layer"] for e in dead] == ["delivery"]
    assert [e["layer"] for e in by_number] == ["normalize"]
    assert bad.status_code == 400 and "since" in bad.json()["error"]["fields"]


def test_replay_needs_a_known_layer_and_a_record(tenant_a):
    event = _lineage(tenant_a)
    editor = client_as(tenant_a, Role.EDITOR)
    with tenant_context(tenant_a):
        gateway = SyncEvent.objects.get(layer="gateway")

    unknown = editor.post(
        f"/api/sync-history/{event.pk}/replay/",
        {"layer": "gateway"},
        content_type="application/json",
    )
    no_record = editor.post(
        f"/api/sync-history/{gateway.pk}/replay/",
        {"layer": "delivery"},
        content_type="application/json",
    )

    assert unknown.status_code == 400 and "layer" in unknown.json()["error"]["fields"]
    assert no_record.status_code == 400 and no_record.json()["error"]["code"] == "invalid_replay"


def test_tenant_b_sees_none_of_tenant_as_history(tenant_a, tenant_b):
    event = _lineage(tenant_a)
    outsider = client_as(tenant_b, Role.ADMIN)

    listed = outsider.get("/api/sync-history/").json()["results"]
    detail = outsider.get(f"/api/sync-history/{event.pk}/")
    replay = outsider.post(
        f"/api/sync-history/{event.pk}/replay/",
        {"layer": "delivery"},
        content_type="application/json",
    )

    assert listed == []
    assert detail.status_code == 404 and replay.status_code == 404
    assert b"INV-9" not in detail.content


if __name__ == "__main__":
    print(render(MATRIX))
