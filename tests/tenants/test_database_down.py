"""PostgreSQL down: every host answers 503 with Retry-After, never a 500.

Found by ``make chaos``: while its PostgreSQL restarted, ``POST /hooks/<token>``
crashed (500) in the host lookup, before the gateway could say 503. The server
is made unreachable for real here: the connection points at a port where
nothing listens (the chaos run crashes a real server).
"""

from __future__ import annotations

from django.db import connections
from django.test import Client

from tests.idp import free_port


def test_a_tenant_host_answers_503_while_postgresql_is_unreachable(django_db_blocker):
    default = connections["default"]
    saved = default.settings_dict["PORT"]
    with django_db_blocker.unblock():
        default.close()
        default.settings_dict["PORT"] = str(free_port())  # nothing listens there
        try:
            response = Client(HTTP_HOST="alpha.localhost").post(
                "/hooks/some-token", b"<soap/>", content_type="text/xml"
            )
        finally:
            default.close()
            default.settings_dict["PORT"] = saved

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["error"]["code"] == "unavailable"
