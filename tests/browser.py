"""A live Nexiom server thread and headless Debian Chromium, for every test folder.

Plugged in by the root conftest (``pytest_plugins``): one server and one
browser per test session, whichever folders use them.
"""

from __future__ import annotations

import os
import shutil
import threading

import pytest
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.core.wsgi import get_wsgi_application
from django.db import connection

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps dialling out of a
# machine that has no internet; the sandbox can't start as root in CI.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="session")
def live_server_url(live_port, django_db_setup, django_db_blocker):
    """Nexiom served on 127.0.0.1:<live_port>; reach tenants at <slug>.localhost:<port>."""
    # pytest-django creates the test database only when a selected test asks for
    # `db`; these tests reach it through django_db_blocker, so alone they would
    # commit tenants into DATABASE_URL's own database. Refuse that.
    if not connection.settings_dict["NAME"].startswith("test_"):
        pytest.fail(
            "tests/e2e needs the test database: run it with a test that uses `db`, "
            "e.g. pytest tests/e2e tests/accounts/test_oidc_login.py (make test does)"
        )
    server = ThreadedWSGIServer(("127.0.0.1", live_port), _QuietHandler, allow_reuse_address=True)
    server.set_app(StaticFilesHandler(get_wsgi_application()))
    server.daemon_threads = True
    blocker = django_db_blocker.unblock()
    blocker.__enter__()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"localhost:{live_port}"
    server.shutdown()
    server.server_close()
    blocker.__exit__(None, None, None)


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread; Django's ORM
    # calls from the test body are still synchronous (the documented escape).
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()
