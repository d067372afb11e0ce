"""API fuzzing: schemathesis against the tenant API's own OpenAPI schema, as each role.

Every operation of the schema served at ``/api/schema/`` on a tenant host is
fuzzed as an Admin, an Editor, a Viewer (each with a personal API token) and
anonymously, with schemathesis' positive and negative data, in-process
through Django's WSGI application (no socket; the tenant comes from the Host
of the base URL, as in production). Every answer must

- not be a server error (5xx),
- use a status the operation documents, with the documented content type,
- match the documented body schema.

The tenant is a throwaway one with data everywhere (tests/security/conftest.py):
connections to the session's local sandboxes, a route, an ingest URL and one
message delivered to QuickBooks by a real Celery worker, so path ids can
point at rows that exist. Destructive operations run last for each role, and
every role starts from a re-seeded tenant with fresh members and tokens.

Bounded and repeatable: Hypothesis is derandomized (fixed seed), with a few
examples per operation and mode, no shrinking and no example database.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import ApiToken, Invitation, User
from accounts.roles import Role
from connectors.models import Connection
from pipeline.models import Delivery, Route
from sync_history.models import SyncEvent
from tests.pipeline.conftest import FIXTURES, wait_until
from tests.security.conftest import SecurityTenant, connections_make, members_ensure
from tests.security.conftest import security_tenant as make_security_tenant

#: Examples per operation, per generation mode (positive, negative), per role.
MAX_EXAMPLES = {"positive": 12, "negative": 6}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
#: Read-only first, destructive last: a role's deletes must not starve its other operations.
METHOD_ORDER = {"get": 0, "head": 0, "post": 1, "patch": 2, "put": 2, "delete": 3}
#: Anonymous and the Viewer cannot change anything: they run before the Editor and Admin.
ROLE_ORDER: tuple[Role | None, ...] = (None, Role.VIEWER, Role.EDITOR, Role.ADMIN)
INVOICES = (FIXTURES / "revenova_outbound_invoice.xml").read_bytes()


@pytest.fixture(scope="module")
def loopback_only() -> Iterator[None]:
    """Fail closed on any connection leaving this machine: a fuzzed ``environment`` of
    ``production`` must never reach Intuit or Salesforce. Only loopback addresses connect
    (PostgreSQL, Redis, the sandboxes)."""
    real_connect = socket.socket.connect

    def connect(self: socket.socket, address) -> None:
        host = address[0] if isinstance(address, tuple) else address
        if self.family in (socket.AF_INET, socket.AF_INET6) and host not in (
            "127.0.0.1",
            "::1",
            "localhost",
        ):
            raise ConnectionRefusedError(f"the security suite stays on loopback, not {host}")
        real_connect(self, address)

    socket.socket.connect = connect  # type: ignore[method-assign]
    try:
        yield
    finally:
        socket.socket.connect = real_connect  # type: ignore[method-assign]


@pytest.fixture(scope="module")
def fuzz_tenant(
    loopback_only, pipeline_worker, qbo_sandbox, sf_sandbox, revenova_sandbox, django_db_blocker
) -> Iterator[SecurityTenant]:
    with make_security_tenant("fuzz", qbo_sandbox, django_db_blocker) as tenant:
        # One message through the whole pipeline: history, deliveries and lineage to read.
        posted = tenant.client().post(tenant.hook_path, INVOICES, content_type="text/xml")
        assert posted.status_code == 200, posted.content
        wait_until(lambda: _delivered(tenant) >= 2, what="two delivered invoices")
        yield tenant


def _delivered(tenant: SecurityTenant) -> int:
    with schema_context(tenant.schema):
        return Delivery.objects.filter(status=Delivery.Status.DELIVERED).count()


@pytest.fixture(scope="module")
def wsgi_app():
    return get_wsgi_application()


@pytest.fixture(scope="module")
def api_schema(fuzz_tenant, wsgi_app, django_db_blocker):
    """The schema as a tenant host serves it, loaded through the same WSGI application."""
    with django_db_blocker.unblock():
        return schemathesis.openapi.from_wsgi(
            "/api/schema/",
            wsgi_app,
            headers={"Host": fuzz_tenant.host, "Accept": "application/json"},
        )


def _seed_ensure(tenant: SecurityTenant, qbo_sandbox) -> None:
    """Fresh members and tokens; connections, route and ingest URL again if a role deleted them."""
    members_ensure(tenant)
    with schema_context(tenant.schema):
        missing = not (
            Connection.objects.filter(pk__in=[tenant.revenova_id, tenant.books_id]).count() == 2
            and Route.objects.filter(pk=tenant.route_id).exists()
        )
    if missing:
        connections_make(tenant, qbo_sandbox)


def _existing_ids(tenant: SecurityTenant, path: str, role: Role | None) -> list[str]:
    """Ids of rows behind an operation's ``{id}``: the fuzzer hits real ones too.

    The acting member's own user and tokens are left out: revoking or demoting
    itself would turn the rest of its run into 401/403s.
    """
    actor = tenant.users[role].pk if role else None
    with schema_context(tenant.schema):
        if path.startswith("/api/connections/"):
            ids = Connection.objects.values_list("pk", flat=True)
        elif path.startswith("/api/routes/"):
            ids = Route.objects.values_list("pk", flat=True)
        elif path.startswith("/api/invitations/"):
            ids = Invitation.objects.values_list("pk", flat=True)
        elif path.startswith("/api/tokens/"):
            ids = ApiToken.objects.exclude(user_id=actor).values_list("pk", flat=True)
        elif path.startswith("/api/users/"):
            ids = User.objects.exclude(pk=actor).values_list("pk", flat=True)
        elif path.startswith("/api/sync-history/"):
            ids = SyncEvent.objects.values_list("pk", flat=True)
        else:
            return []
        return [str(pk) for pk in ids.order_by("pk")[:5]]


def _fuzz_operation(
    operation, *, tenant: SecurityTenant, role: Role | None, app, failures: dict, counts: dict
) -> None:
    has_id = any(p.name == "id" for p in operation.path_parameters)
    real_ids = _existing_ids(tenant, operation.path, role) if has_id else []
    for mode in ("positive", "negative"):
        _fuzz_mode(
            operation,
            mode=mode,
            real_ids=real_ids,
            tenant=tenant,
            role=role,
            app=app,
            failures=failures,
            counts=counts,
        )


def _fuzz_mode(
    operation,
    *,
    mode: str,
    real_ids: list[str],
    tenant: SecurityTenant,
    role: Role | None,
    app,
    failures: dict,
    counts: dict,
) -> None:
    label = f"{operation.method.upper()} {operation.path}"
    generation_mode = schemathesis.GenerationMode(mode)
    strategies = [operation.as_strategy(generation_mode=generation_mode)]
    strategies += [
        operation.as_strategy(generation_mode=generation_mode, path_parameters={"id": pk})
        for pk in real_ids
    ]
    headers = tenant.headers(role)
    base_url = f"http://{tenant.host}"

    @settings(
        max_examples=MAX_EXAMPLES[mode],
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=st.one_of(strategies))
    def run(case) -> None:
        counts[label] = counts.get(label, 0) + 1
        response = case.call(base_url=base_url, headers=headers, app=app)
        try:
            case.validate_response(
                response,
                checks=CHECKS,
                headers=headers,
                transport_kwargs={"app": app, "base_url": base_url},
            )
        except FailureGroup as group:
            for failure in group.exceptions:
                # One example per operation, mode, kind of failure and status says enough.
                key = f"{label} ({mode}) {failure.code} {response.status_code}"
                failures.setdefault(
                    key,
                    f"{failure.title}: {' '.join(failure.message.split())[:300]}\n"
                    f"    body: {response.text[:300]}\n"
                    f"    {case.as_curl_command(headers=headers)}",
                )

    run()


@pytest.mark.parametrize("role", ROLE_ORDER, ids=lambda r: r.value if r else "anonymous")
def test_every_operation_as_each_role_answers_within_its_schema(
    role, fuzz_tenant, api_schema, wsgi_app, qbo_sandbox, django_db_blocker
):
    with django_db_blocker.unblock():
        _seed_ensure(fuzz_tenant, qbo_sandbox)
        operations = sorted(
            (result.ok() for result in api_schema.get_all_operations()),
            key=lambda op: (METHOD_ORDER.get(op.method.lower(), 1), op.path),
        )
        failures: dict[str, str] = {}
        counts: dict[str, int] = {}
        started = time.monotonic()

        for operation in operations:
            _fuzz_operation(
                operation,
                tenant=fuzz_tenant,
                role=role,
                app=wsgi_app,
                failures=failures,
                counts=counts,
            )

    print(
        f"\n{role.value if role else 'anonymous'}: {len(counts)} operations, "
        f"{sum(counts.values())} requests in {time.monotonic() - started:.1f} s"
    )
    assert len(counts) == len(operations) >= 30
    assert failures == {}, "\n".join(f"{key}: {text}" for key, text in sorted(failures.items()))
