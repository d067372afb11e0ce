"""The tenant dashboard: the page a tenant admin opens first (``/dashboard/``).

Syncs per day (delivered vs failed) as a chart drawn in SVG on the server
(no script, no CDN), every connection's health, the backlog per layer and
the oldest dead letter. It lives with the pipeline because it reads the
pipeline's tables, the history and the connections (the layers below it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Q
from django.db.models.functions import TruncDate
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from connectors.models import Connection
from pipeline import queues
from pipeline.models import CanonicalRecord, Delivery, InboundMessage, ReplicaRecord
from sync_history.models import EventStatus, Layer, SyncEvent

DAYS = 14
CHART_HEIGHT = 120


@dataclass(frozen=True)
class Day:
    day: date
    delivered: int
    failed: int


def syncs_per_day(*, days: int = DAYS) -> list[Day]:
    since = timezone.now() - timedelta(days=days - 1)
    delivered = Q(layer=Layer.DELIVERY, status=EventStatus.SUCCEEDED)
    # A record that failed anywhere: refused by a mapper, dead-lettered at L4 or L5.
    failed = Q(status__in=[EventStatus.FAILED, EventStatus.DEAD])
    rows = (
        SyncEvent.objects.filter(created__gte=since.replace(hour=0, minute=0))
        .filter(delivered | failed)
        .annotate(day=TruncDate("created"))
        .values("day")
        .annotate(
            delivered=Count("id", filter=delivered),
            failed=Count("id", filter=failed),
        )
    )
    by_day = {row["day"]: row for row in rows}
    today = timezone.now().date()
    result = []
    for offset in range(days - 1, -1, -1):
        day = today - timedelta(days=offset)
        row = by_day.get(day, {})
        result.append(Day(day, row.get("delivered", 0), row.get("failed", 0)))
    return result


def backlog() -> list[tuple[str, int]]:
    """What each layer still has to do (rows waiting, plus ids in its queue)."""
    return [
        ("L1 → L2 messages to parse", InboundMessage.objects.filter(status="stored").count()),
        (
            "L2 → L3 records to map",
            ReplicaRecord.objects.filter(
                Q(canonical__isnull=True) | ~Q(canonical__source_version=F("source_version"))
            ).count(),
        ),
        (
            "L3 → L4 records to route",
            CanonicalRecord.objects.filter(status="valid")
            .exclude(routed_version=F("source_version"))
            .count(),
        ),
        (
            "L4 → L5 deliveries waiting",
            Delivery.objects.filter(status__in=["pending", "retrying"]).count(),
        ),
        (
            "queued ids (all layers)",
            sum(queues.layer_backlog(name) for name in ("l2", "l3", "l4", "l5")),
        ),
    ]


def oldest_dead_letter() -> tuple[Delivery | None, SyncEvent | None]:
    delivery = (
        Delivery.objects.filter(status=Delivery.Status.DEAD)
        .select_related("canonical__replica")
        .order_by("updated")
        .first()
    )
    if delivery is None:
        return None, None
    event = (
        SyncEvent.objects.filter(delivery_id=delivery.pk, status=EventStatus.DEAD)
        .order_by("-created")
        .first()
    )
    return delivery, event


def _bars(days: list[Day]) -> list[dict]:
    peak = max([d.delivered + d.failed for d in days] + [1])
    bars = []
    for index, day in enumerate(days):
        ok = round(CHART_HEIGHT * day.delivered / peak)
        bad = round(CHART_HEIGHT * day.failed / peak)
        bars.append(
            {
                "x": index * 22 + 4,
                "ok_y": CHART_HEIGHT - ok - bad,
                "ok_h": ok,
                "bad_y": CHART_HEIGHT - bad,
                "bad_h": bad,
                "day": day,
            }
        )
    return bars


@staff_member_required
def dashboard(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("sync_history.view_syncevent"):
        raise PermissionDenied
    days = syncs_per_day()
    dead, dead_event = oldest_dead_letter()
    context = {
        **admin.site.each_context(request),
        "title": "Dashboard",
        "days": days,
        "bars": _bars(days),
        "chart_width": DAYS * 22 + 8,
        "chart_height": CHART_HEIGHT,
        "totals": {  # over the chart's days
            "delivered": sum(d.delivered for d in days),
            "failed": sum(d.failed for d in days),
        },
        "connections": Connection.objects.order_by("name"),
        "backlog": backlog(),
        "dead": dead,
        "dead_event": dead_event,
    }
    return render(request, "pipeline/dashboard.html", context)
