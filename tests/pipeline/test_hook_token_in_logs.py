"""An ingest URL's token never reaches a log (found by the secrets sweep, tests/security).

Django logs every refused request with its path ("Bad Request: /hooks/<token>"),
so a sender posting junk to a live ingest URL wrote its token into the logs.
The pipeline registers ``/hooks/`` with the vault's redaction: the configured
handlers write ``/hooks/[REDACTED]``.
"""

from __future__ import annotations

import logging

from django.test import Client
from django_tenants.utils import tenant_context

from connectors.models import Connection
from pipeline.services.hooks import hook_issue
from tests.pipeline.conftest import ORG_ID
from vault.redaction import REDACTED, RedactingFilter, redact


class _Written(logging.Handler):
    """What a configured handler writes: records through the vault's redacting filter."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.addFilter(RedactingFilter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def test_the_token_of_an_ingest_path_is_redacted():
    assert redact("Bad Request: /hooks/AbC123_xyz-987") == f"Bad Request: /hooks/{REDACTED}"
    assert redact("POST /hooks/AbC123_xyz-987 HTTP/1.1") == f"POST /hooks/{REDACTED} HTTP/1.1"
    assert redact("see /api/routes/12/") == "see /api/routes/12/"


def test_a_refused_message_on_a_live_ingest_url_logs_no_token(tenant_a):
    with tenant_context(tenant_a):
        source = Connection.objects.create(
            connector="revenova",
            name="TMS",
            status=Connection.Status.CONNECTED,
            metadata={"org_id": ORG_ID},
        )
        issued = hook_issue(connection=source)
    written = _Written()
    logging.getLogger("django.request").addHandler(written)
    try:
        response = Client(HTTP_HOST="alpha.localhost").post(
            f"/hooks/{issued.token}", b"<not xml", content_type="text/xml"
        )
    finally:
        logging.getLogger("django.request").removeHandler(written)

    assert response.status_code == 400
    assert written.lines == [f"Bad Request: /hooks/{REDACTED}"]
    assert all(issued.token not in line for line in written.lines)
