from __future__ import annotations

from urllib.parse import urlsplit

from django.test import Client

from tests.idp import LoopbackIdP


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
