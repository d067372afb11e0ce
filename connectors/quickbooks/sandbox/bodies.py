"""QuickBooks Online's error bodies, as the real service shapes them (PROVIDERS.md 1.4).

Two families: the API gateway's lower-case JSON (``fault.error[]``, 401 code
3200, Q29; 403 code 3100, Q31) and the data service's capitalised
``Fault.Error[]`` (validation faults, Q32), plus the XML throttle fault (Q28).
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from connectors.sandbox_kit import json_response

# Intuit's sandbox companies and the fixtures live on Pacific time.
COMPANY_TZ = ZoneInfo("America/Los_Angeles")

THROTTLE_XML = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<IntuitResponse time="{time}" xmlns="http://schema.intuit.com/finance/v3">
    <Fault type="SERVICE">
        <Error code="3001">
            <Message>message=ThrottleExceeded; errorCode=003001; statusCode=429</Message>
            <Detail>The request limit was reached.  Try again later</Detail>
        </Error>
    </Fault>
</IntuitResponse>
"""


def qbo_time() -> str:
    """The ``time`` QuickBooks puts on every answer: ISO-8601, milliseconds, offset."""
    return datetime.now(COMPANY_TZ).isoformat(timespec="milliseconds")


def tid_headers() -> dict[str, str]:
    """Intuit's transaction id header (Q19); a fresh fake value per answer."""
    return {"intuit_tid": f"1-{int(time.time()):x}-sandbox{time.perf_counter_ns() % 10**8:08d}"}


def qbo_error(message: str, detail: str, code: str, element: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"Message": message, "Detail": detail, "code": code}
    if element is not None:
        error["element"] = element
    return error


def validation_fault(*errors: dict[str, Any], status: int = 400) -> web.Response:
    """400 ``{"Fault": {"Error": [...], "type": "ValidationFault"}, "time": ...}`` (Q32)."""
    body = {"Fault": {"Error": list(errors), "type": "ValidationFault"}, "time": qbo_time()}
    return json_response(body, status=status, headers=tid_headers())


def gateway_fault(status: int, name: str, code: str, detail: str | None, kind: str) -> web.Response:
    """The gateway's lower-case JSON (Q29, Q31), e.g. 401 AuthenticationFailed / 3200."""
    body = {
        "warnings": None,
        "intuitObject": None,
        "fault": {
            "error": [
                {
                    "message": f"message={name}; errorCode={int(code):06d}; statusCode={status}",
                    "detail": detail,
                    "code": code,
                    "element": None,
                }
            ],
            "type": kind,
        },
        "report": None,
        "queryResponse": None,
        "batchItemResponse": [],
        "attachableResponse": [],
        "syncErrorResponse": None,
        "requestId": None,
        "time": int(time.time() * 1000),
        "status": None,
        "cdcresponse": [],
    }
    return json_response(body, status=status, headers=tid_headers())


def unauthorized() -> web.Response:
    """401 as fixtures/qbo_fault_401.json: an expired, unknown or revoked token (Q13, Q29)."""
    return gateway_fault(401, "AuthenticationFailed", "3200", None, "AUTHENTICATION")


def forbidden() -> web.Response:
    """403 AuthorizationFailed 3100: a token used on another company's realm (Q31)."""
    return gateway_fault(403, "AuthorizationFailed", "3100", "Authorization Failure", "SERVICE")


def throttled() -> web.Response:
    """429 with the XML ThrottleExceeded body of fixtures/qbo_throttle_429.txt (Q25, Q28);
    no Retry-After header, as Intuit documents none."""
    return web.Response(
        text=THROTTLE_XML.format(time=qbo_time()),
        status=429,
        content_type="application/xml",
        headers=tid_headers(),
    )


def system_fault(status: int) -> web.Response:
    """500/503. The exact body of Intuit's server errors is not in PROVIDERS.md; this is a
    ``SystemFault`` in the validation shape with a severe code (>= 10000, Q34) [inferred]."""
    body = {
        "Fault": {
            "Error": [
                qbo_error(
                    "An application error has occurred while processing your request",
                    f"System Failure Error: sandbox injected HTTP {status}",
                    "10000",
                )
            ],
            "type": "SystemFault",
        },
        "time": qbo_time(),
    }
    return json_response(body, status=status, headers=tid_headers())


def fault(status: int) -> web.Response:
    if status == 401:
        return unauthorized()
    if status == 403:
        return forbidden()
    if status == 429:
        return throttled()
    return system_fault(status)


def object_not_found(entity: str, object_id: str) -> web.Response:
    """Reading an Id that does not exist: 400 code 610 [V2: python-quickbooks maps 610
    to ObjectNotFound, Q34]."""
    return validation_fault(
        qbo_error(
            "Object Not Found",
            f"Object Not Found : Something you're trying to use has been made inactive. "
            f"Check the fields with accounts, customers, items, vendors or employees. "
            f"({entity} Id={object_id})",
            "610",
            "",
        )
    )
