"""``POST /hooks/<token>`` on a tenant's host: the pipeline's front door (L1)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from nexiom.correlation import with_new_correlation
from nexiom.errors import DomainError
from pipeline.errors import HookUnknown, MediaTypeRefused, MessageTooLarge, StoreUnavailable
from pipeline.services.gateway import inbound_for, message_ingest
from pipeline.services.hooks import hook_resolve
from pipeline.tasks import L2, enqueue
from tenants.middleware import RETRY_AFTER_SECONDS

logger = logging.getLogger(__name__)


@csrf_exempt  # senders are systems, not browsers; the token and the sender check guard it
@require_POST
@with_new_correlation  # the stored message keeps this request's id (L1 mints it)
def hook_receive(request: HttpRequest, token: str) -> HttpResponse:
    try:
        connection = hook_resolve(token=token)
        inbound = inbound_for(connection)
    except HookUnknown:
        return HttpResponse("Not found.\n", status=404, content_type="text/plain")
    except DatabaseError:  # PostgreSQL went away after the host's lookup: send it again later
        logger.warning("gateway: hook lookup failed, database unavailable")
        response = HttpResponse(
            f"{StoreUnavailable.default_message}\n", status=503, content_type="text/plain"
        )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    try:
        raw = _body(request)
        content_type = request.content_type or ""
        if content_type not in inbound.content_types:
            raise MediaTypeRefused(
                f"Send {' or '.join(inbound.content_types)}, not {content_type or 'nothing'}."
            )
        ingested = message_ingest(
            connection=connection,
            raw=raw,
            content_type=content_type,
            headers=request.headers,
            enqueue=lambda ids: enqueue(L2, ids),
        )
    except DomainError as error:
        body, refusal_type = inbound.refusal(message=error.message, status=error.status)
        response = HttpResponse(body, status=error.status, content_type=refusal_type)
        if error.status == 503:
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return HttpResponse(ingested.accepted.ack_body, content_type=ingested.accepted.ack_content_type)


def _body(request: HttpRequest) -> bytes:
    """The body, refused with 413 before it is read when it is larger than allowed."""
    limit = settings.NEXIOM_HOOK_MAX_BYTES
    declared = request.META.get("CONTENT_LENGTH") or "0"
    try:
        length = int(declared)
    except ValueError:
        length = 0
    if length > limit:
        raise MessageTooLarge(f"A message may hold at most {limit} bytes.")
    # Read at most limit+1 bytes: a chunked body without a length is capped too.
    raw = request.read(limit + 1)
    if len(raw) > limit:
        raise MessageTooLarge(f"A message may hold at most {limit} bytes.")
    return raw
