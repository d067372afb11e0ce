"""The benchmark's tenant URLconf: the product's, plus the gateway's floor.

The floor, ``POST /bench-floor/<connection id>``, is the least a Django view
can do for an ingest: read the body, store it (one row, committed), queue its
id in Redis after the commit, answer. Same gunicorn, settings and middleware as
``/hooks/<token>``, so the ratio between the two is what the gateway's own work
costs (token lookup, content-type and org-id checks, dedupe, history row, ack).
"""

from __future__ import annotations

import functools
import hashlib

import redis
from django.conf import settings
from django.db import transaction
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from nexiom.urls_tenant import urlpatterns as tenant_urlpatterns
from pipeline.models import InboundMessage

FLOOR_QUEUE = "nexiom:bench:floor"


@functools.cache
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


@csrf_exempt
def floor(request, connection_id: int) -> HttpResponse:
    raw = request.body
    with transaction.atomic():
        message = InboundMessage.objects.create(
            connection_id=connection_id,
            content_type=request.content_type[:100],
            body=raw,
            body_size=len(raw),
            dedupe_key=hashlib.sha256(raw).hexdigest(),
            status=InboundMessage.Status.PARSED,
        )
        transaction.on_commit(lambda: _redis().rpush(FLOOR_QUEUE, message.pk))
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("bench-floor/<int:connection_id>", floor), *tenant_urlpatterns]
