"""``GET /metrics`` on the public host: Prometheus text for every process of this machine.

The counters and histograms of ``nexiom.metrics`` are merged from the files
the web and worker processes write under ``NEXIOM_METRICS_DIR`` (its
subdirectories included: in compose each container writes its own), or read
from this process's registry when no directory is set. Queue depths are
measured now, at scrape time: the pipeline's per-layer Redis queues summed
over the active tenants, and the Celery queues' lengths on the broker.

Tenant hosts do not route here (``nexiom.urls_tenant`` has no such path, so
they answer 404). No login: scrapers have none; instead the client's address
must be in ``NEXIOM_METRICS_ALLOWED_IPS`` (and, behind our proxy, the
address the proxy saw too).
"""

from __future__ import annotations

import glob
import ipaddress
import logging
import os
from collections.abc import Iterator

import redis
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from pipeline.queues import layer_backlog
from tenants.selectors import tenants_active

logger = logging.getLogger(__name__)

#: The pipeline's queue of each layer, named as the history names the layers.
PIPELINE_QUEUES = {"l2": "replica", "l3": "normalize", "l4": "outbound", "l5": "delivery"}
CELERY_QUEUES = ("celery", "delivery")


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        return HttpResponse("Forbidden.\n", status=403, content_type="text/plain")
    return HttpResponse(generate_latest(_Exposition()), content_type=CONTENT_TYPE_LATEST)


class _Exposition:
    """What one scrape shows: recorded metrics, then queue depths measured now."""

    def collect(self) -> Iterator[Metric]:
        directory = settings.NEXIOM_METRICS_DIR
        if directory:
            files = glob.glob(os.path.join(directory, "**", "*.db"), recursive=True)
            yield from MultiProcessCollector.merge(files, accumulate=True)
        else:
            yield from REGISTRY.collect()
        yield from _queue_depths()


def _queue_depths() -> Iterator[Metric]:
    backlog = GaugeMetricFamily(
        "nexiom_pipeline_backlog",
        "Record ids waiting in each pipeline layer's queue, summed over the active tenants.",
        labels=["layer"],
    )
    celery_queues = GaugeMetricFamily(
        "nexiom_celery_queue_length", "Task messages waiting on the broker.", labels=["queue"]
    )
    try:
        totals = dict.fromkeys(PIPELINE_QUEUES, 0)
        for schema in tenants_active().values_list("schema_name", flat=True):
            for name in totals:
                totals[name] += layer_backlog(name, schema)
        broker = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2)
        lengths = {queue: int(broker.llen(queue)) for queue in CELERY_QUEUES}
    except Exception:  # Redis or PostgreSQL away: the counters are still worth serving
        logger.warning("metrics: queue depths not measured", exc_info=True)
        return
    for name, layer in PIPELINE_QUEUES.items():
        backlog.add_metric([layer], totals[name])
    for queue, length in lengths.items():
        celery_queues.add_metric([queue], length)
    yield backlog
    yield celery_queues


def _allowed(request: HttpRequest) -> bool:
    allowed = settings.NEXIOM_METRICS_ALLOWED_IPS
    if "*" in allowed:
        return True
    addresses = [request.META.get("REMOTE_ADDR", "")]
    if getattr(settings, "NEXIOM_BEHIND_PROXY", False):
        forwarded = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if forwarded[-1]:
            addresses.append(forwarded[-1])  # the client our proxy saw (earlier hops are claims)
    networks = []
    for entry in allowed:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            logger.warning("metrics: %r in NEXIOM_METRICS_ALLOWED_IPS is not an address", entry)
    try:
        parsed = [ipaddress.ip_address(address) for address in addresses]
    except ValueError:
        return False
    return all(any(address in network for network in networks) for address in parsed)
