"""One body shape for every API error: ``{"error": {"code", "message", "fields"}}``.

``exception_handler`` (``REST_FRAMEWORK["EXCEPTION_HANDLER"]``) renders both
our ``DomainError`` subclasses and DRF's own exceptions (validation, 401,
403, 404, 405, 415, 429, parse errors) in that shape, keeping DRF's headers
(``WWW-Authenticate``, ``Retry-After``, ``Allow``). ``ErrorResponseSerializer``
documents it in the OpenAPI schema.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from nexiom.errors import DomainError

NON_FIELD_KEY = "non_field_errors"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return Response(exc.as_body(), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*(exc.args[:1] or ()))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a bug: Django's 500 handling takes over
    response.data = _body_of(exc)
    return response


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler404``: a path under ``/api/`` that no route matches (``/api/routes/1.5/``)
    answers the API's error body, not Django's HTML page; other paths keep the page."""
    if request.path.startswith("/api/"):
        body = {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}
        return JsonResponse(body, status=404)
    return defaults.page_not_found(request, exception)


def _body_of(exc: exceptions.APIException) -> dict:
    if isinstance(exc, exceptions.ValidationError):
        fields, message = _validation_fields(exc.detail)
        return {"error": {"code": "invalid", "message": message, "fields": fields}}
    detail = exc.detail
    code = getattr(detail, "code", None) or exc.default_code
    return {"error": {"code": str(code), "message": str(detail), "fields": {}}}


def _validation_fields(detail: Any) -> tuple[dict[str, list[str]], str]:
    """Flatten DRF's nested detail into ``{"field.sub": ["message", ...]}``."""
    fields: dict[str, list[str]] = {}

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for key, child in value.items():
                walk(child, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list) and value and not all(isinstance(v, str) for v in value):
            for index, child in enumerate(value):
                walk(child, f"{path}.{index}" if path else str(index))
        else:
            messages = value if isinstance(value, list) else [value]
            fields.setdefault(path or NON_FIELD_KEY, []).extend(str(m) for m in messages)

    walk(detail, "")
    general = fields.get(NON_FIELD_KEY)
    if general:
        message = general[0]
    elif fields:
        name, problems = next(iter(fields.items()))
        message = f"{name}: {problems[0]}"
    else:
        message = "The request is invalid."
    return fields, message


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, machine-readable, e.g. `last_admin`.")
    message = serializers.CharField(help_text="For people; safe to show.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Per input field (dotted for nested ones), the problems found.",
    )


class ErrorResponseSerializer(serializers.Serializer):
    """Every non-2xx answer of the API."""

    error = ErrorDetailSerializer()
