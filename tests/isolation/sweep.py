"""Every URL of the tenant URLconf, filled with A's ids and tokens, and how B must answer.

The patterns come from the resolver, never from a list: a new endpoint is
swept the day it is added. Each path parameter is filled by its name and
the view's model (the ModelAdmin's model, the DRF view's queryset or
serializer model); one that cannot be filled is reported, so the sweep
fails instead of skipping it.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.regex_helper import normalize
from django_tenants.utils import tenant_context

from connectors.models import Connection
from tests.isolation.world import A_ID_BASE, World, tenant_models
from tests.pipeline.support import invoice, message, tag

TENANT_URLCONF = "nexiom.urls_tenant"
METHODS = ("get", "post", "put", "patch", "delete", "options")

#: Parameters that carry nothing of a tenant (documented allow-list, kept small):
#: a format suffix (the routers have none today), the admin's app index label,
#: the admin's catch-all path.
FREE_PARAMETERS = {"format": ("json", ".json"), "app_label": ("connectors",), "url": ("nothing/",)}
#: URLs that answer 404 on A's own host too, so they prove nothing as a control.
CONTROL_EXEMPT = {"view_on_site": "no model of ours has get_absolute_url: always 404"}
#: Views whose model the resolver cannot tell (no queryset, no model serializer).
VIEW_MODELS: dict[str, type[models.Model]] = {"connection-hook": Connection}
#: ``token`` parameters: secrets of A, by URL name (each of A's tokens is tried).
TOKEN_KINDS = {"hook": "hook_tokens", "invitation": "invitation_tokens"}

#: What B's Desk says when the object in the URL is not there (Django's and ours).
NOT_FOUND_TEXTS = ("doesn\u2019t exist", "doesn't exist", "No such")


@dataclass(frozen=True)
class Swept:
    """One URL to try: the route it came from, the path filled in, and whether of A."""

    route: str
    path: str
    name: str
    of_a: bool  # a parameter carries an id or a token of A
    is_api: bool


class Unfillable(Exception):
    """A parameter the sweep does not know how to fill: teach it (see the module doc)."""


def _walk(
    patterns: list, prefix: str = "", admin_model: type[models.Model] | None = None
) -> Iterator[tuple[str, URLPattern, type[models.Model] | None]]:
    # Custom admin views (a connection's Connect button) are not wrapped by the
    # ModelAdmin; they share its include(), so the include's model names theirs.
    for pattern in patterns:
        regex = pattern.pattern.regex.pattern.removeprefix("^")
        if isinstance(pattern, URLResolver):
            model_admins = [
                p.callback.model_admin.model
                for p in pattern.url_patterns
                if isinstance(p, URLPattern) and hasattr(p.callback, "model_admin")
            ]
            inner = model_admins[0] if model_admins else admin_model
            yield from _walk(pattern.url_patterns, prefix + regex, inner)
        else:
            yield prefix + regex, pattern, admin_model


def _view_model(pattern: URLPattern, admin_model) -> type[models.Model] | None:
    callback = pattern.callback
    if pattern.name in VIEW_MODELS:
        return VIEW_MODELS[pattern.name]
    if hasattr(callback, "model_admin"):
        return callback.model_admin.model
    view = getattr(callback, "cls", None)
    if view is not None:
        queryset = getattr(view, "queryset", None)
        if queryset is not None:
            return queryset.model
        meta = getattr(getattr(view, "serializer_class", None), "Meta", None)
        if meta is not None and hasattr(meta, "model"):
            return meta.model
    return admin_model


def a_object(world: World, model: type[models.Model]) -> models.Model:
    """One row of A that B cannot have: an id past A's bump (or A's own UUID)."""
    with tenant_context(world.a.tenant):
        rows = model._base_manager.order_by("pk")
        if model._meta.pk.get_internal_type() in {"AutoField", "BigAutoField"}:
            rows = rows.filter(pk__gte=A_ID_BASE)
        row = rows.first()
    if row is None:
        raise Unfillable(f"A has no row of {model._meta.label} to fill the URL with")
    return row


def _values(world: World, name: str, param: str, model) -> list[str]:
    if param in FREE_PARAMETERS:
        return list(FREE_PARAMETERS[param])
    if param == "token":
        if name not in TOKEN_KINDS:
            raise Unfillable(f"a token of which kind? add the URL name {name!r} to TOKEN_KINDS")
        return list(getattr(world.a, TOKEN_KINDS[name]))
    if param in {"pk", "id", "object_id"}:
        if model is None:
            raise Unfillable(f"{param}: the view's model is unknown; add it to VIEW_MODELS")
        return [str(a_object(world, model).pk)]
    if param.endswith("_id"):
        wanted = param.removesuffix("_id").replace("_", "")
        if wanted == "contenttype":
            with tenant_context(world.a.tenant):
                return [str(ContentType.objects.get_for_model(Connection).pk)]
        for candidate in tenant_models():
            if candidate._meta.model_name == wanted:
                return [str(a_object(world, candidate).pk)]
    raise Unfillable(f"no rule fills the parameter {param!r}")


def _paths(world: World, regex: str, pattern: URLPattern, admin_model) -> list[Swept]:
    (template, params), *_ = normalize(regex)
    name = pattern.name or ""
    model = _view_model(pattern, admin_model)
    if name == "view_on_site":  # admin/r/<content type>/<object>/: A's connection
        model = Connection
    choices = {p: _values(world, name, p, model) for p in params}
    full = re.compile(regex)
    of_a = any(p not in FREE_PARAMETERS for p in params)
    swept: dict[tuple, Swept] = {}
    # Every combination of values; the free ones only pick a form the pattern
    # accepts (the format suffix is "json" in one place and ".json" in another).
    for combination in itertools.product(*choices.values()):
        values = dict(zip(params, combination, strict=True))
        path = template % values
        own = tuple(v for p, v in values.items() if p not in FREE_PARAMETERS)
        if full.fullmatch(path) and own not in swept:
            swept[own] = Swept(regex, "/" + path, name, of_a, path.startswith("api/"))
    if not swept:
        raise Unfillable(f"no filled path matches its own pattern ({template})")
    return list(swept.values())


def sweep_urls(world: World) -> tuple[list[Swept], list[str]]:
    """Every tenant URL filled with A's data, and the patterns that could not be."""
    swept: dict[str, Swept] = {}
    unfillable = []
    for regex, pattern, admin_model in _walk(get_resolver(TENANT_URLCONF).url_patterns):
        try:
            for one in _paths(world, regex, pattern, admin_model):
                swept.setdefault(one.path, one)  # the API root is included four times
        except Unfillable as error:
            unfillable.append(f"{regex} ({pattern.name}): {error}")
    return list(swept.values()), unfillable


def request(client: Client, swept: Swept, method: str, **extra) -> HttpResponse:
    """One call as a script or a browser would make it; hooks get a real message of A."""
    if method in {"get", "options", "delete"}:
        return getattr(client, method)(swept.path, **extra)
    if swept.name == "hook":
        body = message([invoice(tag(), 1, customer="Amberqz Leak Test")])
        return client.generic(
            method.upper(), swept.path, body, content_type="text/xml; charset=utf-8", **extra
        )
    if swept.is_api:
        return client.generic(
            method.upper(), swept.path, "{}", content_type="application/json", **extra
        )
    return getattr(client, method)(swept.path, {}, **extra)


def body_of(response: HttpResponse) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode("utf-8", errors="replace")


def followed(client: Client, response: HttpResponse, host: str) -> list[HttpResponse]:
    """The redirect chain on the same host (a login page elsewhere is not followed)."""
    chain = [response]
    while chain[-1].status_code in {301, 302, 303} and len(chain) < 4:
        location = urlsplit(chain[-1]["Location"])
        if location.netloc and location.netloc.split(":")[0] != host:
            break
        target = location.path + (f"?{location.query}" if location.query else "")
        chain.append(client.get(target))
    return chain


def verdict(
    world: World,
    swept: Swept,
    method: str,
    chain: list[HttpResponse],
    *,
    signed_in: bool,
) -> str | None:
    """Why B's answer is wrong, or None. ``chain`` is the response and its redirects."""
    first, last = chain[0], chain[-1]
    for response in chain:
        if response.status_code >= 500:
            return f"{response.status_code} (server error)"
        leaks = world.leaks(body_of(response), request_path=swept.path)
        if leaks:
            return f"{response.status_code} shows A's {leaks[:5]}"
    if not swept.of_a:
        return None
    status = first.status_code
    if status in {401, 403, 404, 405, 410}:
        return None
    if method == "options" and status == 200:
        return None  # the Allow header or DRF's field metadata: no object is read
    if status in {301, 302, 303}:
        if last.status_code in {403, 404, 410}:
            return None  # e.g. /admin/auth/group/<id>/ -> .../change/ -> 403
        text = body_of(last)
        location = first["Location"]
        to_login = "/login/" in location or "/oidc/authenticate" in location
        if any(t in text for t in NOT_FOUND_TEXTS) or (to_login and not signed_in):
            return None
        if to_login and signed_in:
            return f"redirected a signed-in Admin to {location}"
        return f"redirected to {location} without saying A's object is not there"
    return f"{status}: B answered for A's object"
