"""Every page of every ModelAdmin on the Desk, as B's Admin on B's host.

B's lists show B's rows and none of A's; A's objects' change, delete and
history pages are 403/404 or the Desk's "doesn't exist" redirect, posted
or fetched, and nothing of A changes.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.helpers import signed_in
from tests.isolation.sweep import Swept, a_object, body_of, followed, verdict
from tests.isolation.world import World, rows_snapshot

#: Lists that must show B's own rows (B's seed names them "bluewx"): proof they list at all.
B_LISTED = {
    "accounts.User",
    "accounts.Invitation",
    "accounts.ApiToken",
    "connectors.Connection",
    "pipeline.Route",
}


#: B's Admin, and B's break-glass superuser, whom no Desk permission stops before the lookup.
ACTORS = ("admin", "breakglass")


@pytest.mark.parametrize("actor", ACTORS)
def test_b_changelists_show_b_rows_and_nothing_of_a(world: World, db, actor: str) -> None:
    client = signed_in(world.b.tenant, getattr(world.b, actor))
    problems, listing_b = [], set()

    for model in admin.site._registry:
        path = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = client.get(path, HTTP_HOST=world.b.host)
        text = body_of(response)
        if response.status_code not in {200, 403}:
            problems.append(f"{path}: {response.status_code}")
        if leaks := world.leaks(text, request_path=path):
            problems.append(f"{path}: shows A's {leaks[:5]}")
        if "bluewx" in text.lower():
            listing_b.add(model._meta.label)

    assert not problems, "\n".join(problems)
    assert listing_b >= B_LISTED, B_LISTED - listing_b


@pytest.mark.parametrize("actor", ACTORS)
def test_a_objects_are_not_found_on_b_desk(world: World, db, actor: str) -> None:
    before = rows_snapshot(world.a.tenant)
    client = signed_in(world.b.tenant, getattr(world.b, actor))
    client.raise_request_exception = False
    problems, pages = [], 0

    for model in admin.site._registry:
        pk = a_object(world, model).pk
        for page in ("change", "delete", "history"):
            name = f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}"
            one = Swept(name, reverse(name, args=[pk]), name, of_a=True, is_api=False)
            for method in ("get", "post"):
                response = getattr(client, method)(one.path, HTTP_HOST=world.b.host)
                chain = followed(client, response, world.b.host)
                pages += 1
                if problem := verdict(world, one, method, chain, signed_in=True):
                    problems.append(f"{method.upper()} {one.path}: {problem}")

    print(f"Desk as {actor}: {len(admin.site._registry)} ModelAdmins, {pages} pages of A")
    assert pages == 6 * len(admin.site._registry)
    assert not problems, "\n".join(problems)
    assert rows_snapshot(world.a.tenant) == before
