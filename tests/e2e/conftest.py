"""Whole-flow fixtures: the development OpenID provider of `make up` with its demo tenant.

The live server and the browser are session fixtures of ``tests/browser.py``.
"""

from __future__ import annotations

import pytest

from tenants.models import Tenant
from tenants.services import tenant_provision
from tests.idp import DevIdP, free_port


@pytest.fixture(scope="module")
def demo_tenant(django_db_setup, django_db_blocker):
    """A committed `demo` tenant, as `make up` provisions it; dropped afterwards."""
    with django_db_blocker.unblock():
        tenant = tenant_provision(slug="demo", name="Demo Freight Co").tenant
        yield tenant
        Tenant.objects.get(pk=tenant.pk).delete(force_drop=True)


@pytest.fixture(scope="module")
def dev_idp_server(tmp_path_factory):
    """The Procfile's `idp` process (scripts/dev_idp_seed.py --serve) on a free port.

    Seeded for the demo tenant into a temporary directory, not var/dev-idp.
    """
    provider = DevIdP(port=free_port(), state_dir=tmp_path_factory.mktemp("dev-idp"))
    provider.start()
    yield provider
    provider.stop()


@pytest.fixture
def dev_idp(dev_idp_server, settings):
    """That provider, with Nexiom's OIDC settings pointing at it for this test only.

    (Per test, through pytest-django's `settings`, since pytest may run tests
    that use the session's `idp` in between tests of the same module.)
    """
    for name, value in dev_idp_server.endpoints().items():
        setattr(settings, name, value)
    return dev_idp_server
