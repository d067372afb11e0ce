"""``nexiom.bulk.rows_update``: what ``bulk_update`` would write, values prepared by the fields."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tenants.utils import schema_context

from nexiom.bulk import rows_update
from pipeline.models import InboundMessage
from tests.factories import ConnectionFactory


def test_each_row_gets_its_own_values_and_nothing_else_changes(tenant_a):
    with schema_context(tenant_a.schema_name):
        connection = ConnectionFactory(connector="revenova", metadata={"org_id": "00D"})
        messages = [
            InboundMessage.objects.create(
                connection=connection, content_type="text/xml", body=b"<a/>", dedupe_key=str(n)
            )
            for n in range(3)
        ]
        untouched = InboundMessage.objects.create(
            connection=connection, content_type="text/xml", body=b"<b/>", dedupe_key="other"
        )
        later = timezone.now() + timedelta(minutes=5)
        messages[0].status, messages[0].error, messages[0].processed_at = "parsed", "", later
        messages[1].status, messages[1].error = "failed", "Bad XML: 'quote' \\ and 💥"
        messages[2].processed_at = None

        assert rows_update(messages, ["status", "error", "processed_at"]) == 3
        assert rows_update([], ["status"]) == 0

        rows = {m.dedupe_key: m for m in InboundMessage.objects.all()}
        assert (rows["0"].status, rows["0"].processed_at) == ("parsed", later)
        assert (rows["1"].status, rows["1"].error) == ("failed", "Bad XML: 'quote' \\ and 💥")
        assert rows["2"].status == "stored" and rows["2"].processed_at is None
        assert rows["other"].status == untouched.status and bytes(rows["other"].body) == b"<b/>"
