"""L5 for QuickBooks Online: a canonical invoice becomes a QuickBooks invoice, once.

For each invoice: the customer is found through the engine's cross
references, else looked up by DisplayName, else created (with its own
requestid) and remembered; then the invoice is created with the requestid
of its source version (Q22), or, when it was delivered before at an older
version, sparse-updated with its SyncToken (Q23) — a stale-object fault
(5010) re-reads the invoice and tries once more with the fresh SyncToken.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import requests

from connectors.canonical import Customer, Invoice, dumps_exact
from connectors.errors import Permanent
from connectors.quickbooks.outbound import (
    QuickBooksOutbound,
    customer_create_request,
    customer_query,
    invoice_update_request,
    read_customer_query,
    read_customer_response,
    read_invoice_response,
    request_id,
)
from connectors.sdk import Client
from connectors.sdk.interfaces import CrossReferences, DeliveryTarget, OutboundRequest

STALE_OBJECT = "5010"  # Q23
DUPLICATE_NAME = "6240"  # Q39
INVALID_REFERENCE = "2500"  # Q33
CUSTOMER = "customer"


def send(client: Client, request: OutboundRequest) -> requests.Response:
    """One request of ``outbound`` on the client (Decimals written exactly, Q36 / 6070)."""
    if request.method == "GET":
        return client.request("GET", request.path, params=request.params)
    return client.request(
        request.method,
        request.path,
        params=request.params,
        data=dumps_exact(request.body).encode(),
        headers={"Content-Type": "application/json"},
    )


def _customer_unknown(error: Permanent) -> bool:
    """2500 "Invalid Reference Id" on the CustomerRef (Q33)."""
    return error.provider_code == INVALID_REFERENCE and "CustomerRef" in (error.detail or "")


class QuickBooksDelivery:
    """The ``Deliverer`` of ``connectors.sdk.interfaces`` for QuickBooks invoices."""

    def deliver(
        self,
        client: Client,
        canonical: Any,
        *,
        mapping: Mapping[str, Any],
        tenant: str,
        current: DeliveryTarget | None,
        xrefs: CrossReferences,
    ) -> DeliveryTarget:
        if not isinstance(canonical, Invoice):
            raise Permanent(
                f"QuickBooks receives invoices here, not {type(canonical).__name__}.",
                provider_code="record_type",
            )
        try:
            response = self._send_invoice(client, canonical, mapping, tenant, current, xrefs)
        except Permanent as error:
            if not _customer_unknown(error):
                raise
            # The remembered customer is gone from QuickBooks (deleted there): find or
            # create it again, once.
            xrefs.forget(CUSTOMER, canonical.customer.source_id)
            response = self._send_invoice(
                client, canonical, mapping, tenant, current, xrefs, fresh_customer=True
            )
        invoice = read_invoice_response(response.content)
        return DeliveryTarget(
            target_id=invoice.id, reference=invoice.doc_number or "", version=invoice.sync_token
        )

    def _send_invoice(
        self, client, canonical, mapping, tenant, current, xrefs, *, fresh_customer=False
    ):
        customer = self.customer_id(client, canonical, tenant=tenant, xrefs=xrefs)
        refs = {"customer": customer}
        if current is not None and current.target_id:
            return self._update(client, canonical, current, mapping, refs, tenant)
        request = QuickBooksOutbound().build(canonical, mapping=mapping, refs=refs, tenant=tenant)
        if fresh_customer:
            # The first create was refused (its answer is what its requestid now replays):
            # the create with the new customer is another request, with a key of its own.
            key = request_id(
                tenant=tenant,
                source_object=canonical.source_object,
                source_id=canonical.source_id,
                version=canonical.source_version,
                operation=f"invoice.create\ncustomer {customer}",
            )
            request = replace(
                request, idempotency_key=key, params={**request.params, "requestid": key}
            )
        return send(client, request)

    def customer_id(
        self, client: Client, invoice: Invoice, *, tenant: str, xrefs: CrossReferences
    ) -> str:
        source_id = invoice.customer.source_id
        known = xrefs.get(CUSTOMER, source_id)
        if known:
            return known
        found = self._find(client, invoice.customer.display_name)
        if found is None:
            customer = Customer.from_ref(
                invoice.customer, source_system=invoice.source_system, currency=invoice.currency
            )
            try:
                response = send(client, customer_create_request(customer, tenant=tenant))
                found = read_customer_response(response.content).id
            except Permanent as error:
                if error.provider_code != DUPLICATE_NAME:
                    raise
                # Another worker created it between our query and our create.
                found = self._find(client, invoice.customer.display_name)
                if found is None:
                    raise
        xrefs.put(CUSTOMER, source_id, found)
        return found

    def _find(self, client: Client, display_name: str) -> str | None:
        matches = read_customer_query(send(client, customer_query(display_name)).content)
        return matches[0].id if matches else None

    def _update(self, client, invoice, current, mapping, refs, tenant) -> requests.Response:
        request = invoice_update_request(
            invoice, current.target_id, current.version, mapping=mapping, refs=refs, tenant=tenant
        )
        try:
            return send(client, request)
        except Permanent as error:
            if error.provider_code != STALE_OBJECT:
                raise
        fresh = read_invoice_response(client.get(f"invoice/{current.target_id}").content)
        request = invoice_update_request(
            invoice, current.target_id, fresh.sync_token, mapping=mapping, refs=refs, tenant=tenant
        )
        return send(client, request)
