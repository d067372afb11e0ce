from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.test import Client

from tests.idp import LoopbackIdP, free_port


@pytest.fixture(scope="session")
def live_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def idp(tmp_path_factory, live_port):
    hosts = []
    for slug in ("alpha", "beta", "browser"):
        hosts += [f"{slug}.localhost", f"{slug}.localhost:{live_port}"]
    provider = LoopbackIdP(
        port=free_port(),
        users_file=tmp_path_factory.mktemp("idp") / "users.json",
        redirect_hosts=hosts,
    )
    provider.start()
    saved = {name: getattr(django_settings, name) for name in provider.endpoints()}
    for name, value in provider.endpoints().items():
        setattr(django_settings, name, value)
    yield provider
    for name, value in saved.items():
        setattr(django_settings, name, value)
    provider.stop()


def oidc_login(
    client: Client,
    idp: LoopbackIdP,
    *,
    login: str,
    password: str | None = None,
    start: str = "/oidc/authenticate/?next=/admin/",
):
    """The whole code flow: Nexiom -> provider login form -> Nexiom callback.

    `start` may be an invitation's acceptance (a POST is made when it is a
    path under /invitations/). Returns the callback's response.
    """
    begin = client.post(start) if start.startswith("/invitations/") else client.get(start)
    assert begin.status_code == 302, begin.status_code
    authorize_url = begin["Location"]
    if not authorize_url.startswith("http"):
        begin = client.get(authorize_url)
        authorize_url = begin["Location"]
    password = password or idp.users[login].password
    back = idp.sign_in(authorize_url, login=login, password=password)
    parts = urlsplit(back)
    return client.get(f"{parts.path}?{parts.query}")
