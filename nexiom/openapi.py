"""The OpenAPI schema's view of errors: every operation documents the one error body.

``NexiomAutoSchema`` (``REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]``) adds the 4xx
answers an operation can give to the responses it declares, each referencing
the single ``Error`` component (``nexiom.api_errors.ErrorResponseSerializer``).
An operation that declares a 4xx response itself keeps its own; views declare
the refusals only they give (a connection's state, the provider's answer) with
``error_responses("409", ...)``.
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework.permissions import AllowAny

from nexiom.api_errors import ErrorResponseSerializer

_BODY_METHODS = ("POST", "PUT", "PATCH")
_ERROR_DESCRIPTIONS = {
    "400": "The request is invalid (see `fields`), or its body is not well-formed JSON.",
    "401": "No credentials, or the token is invalid, expired or revoked.",
    "403": "Your role may not do this.",
    "404": "Not found, or not visible to you.",
    "404-page": "No such page (a page number past the last page, or a cursor that is not ours).",
    "409": "The current state refuses this (e.g. the connection is disabled or still used).",
    "413": "The body is larger than the API accepts (1 MiB).",
    "415": "The body is neither JSON nor a form.",
    "422": "The provider refused the request; the message says why.",
    "429": "The provider asked us to slow down; try again later (see Retry-After).",
    "503": "The provider could not be reached or failed; try again later.",
}


def error_responses(*codes: str) -> dict[str, OpenApiResponse]:
    """``extend_schema(responses=...)`` entries for refusals a view gives beyond the usual ones."""
    return {code: OpenApiResponse(ErrorSerializer, _ERROR_DESCRIPTIONS[code]) for code in codes}


class ErrorSerializer(ErrorResponseSerializer):
    """Every non-2xx answer of the API: `{"error": {"code", "message", "fields"}}`."""

    # Named "Error" in the schema (drf-spectacular drops the "Serializer" suffix).


class NexiomAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response") -> dict:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code, description in self._error_statuses():
            if code not in responses:
                response = OpenApiResponse(ErrorSerializer, _ERROR_DESCRIPTIONS[description])
                responses[code] = self._get_response_for_code(response, code, direction=direction)
        return responses

    def _error_statuses(self) -> list[tuple[str, str]]:
        """(status, description key) of the errors every such operation can answer."""
        codes = []
        takes_body = self.method in _BODY_METHODS and self.get_request_serializer() is not None
        if takes_body:
            codes.append("400")
        if not all(issubclass(p, AllowAny) for p in self.view.permission_classes):
            codes += ["401", "403"]
        if "{" in self.path:
            codes.append("404")
        elif self.method == "GET" and self._is_list_view() and self._get_paginator() is not None:
            # ?page=999 or a forged cursor: DRF's paginators answer 404 (found by the API fuzzing).
            codes.append("404-page")
        if takes_body:
            codes += ["413", "415"]
        return [(code[:3], code) for code in codes]
