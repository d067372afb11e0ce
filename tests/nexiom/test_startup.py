"""Start-up behaviour an operator sees: configuration errors, service checks, manage.py test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.core.management import call_command
from django_tenants.utils import schema_context

from tenants.models import Domain, Tenant
from tenants.services import tenant_schemas_audit

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "NEXIOM_"))}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_without_a_secret_key_stops_with_a_clear_message():
    result = run_python(
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='nexiom.settings'; django.setup()",
        DJANGO_DEBUG="0",
    )

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off" in result.stderr


def test_a_malformed_boolean_is_named_in_the_error():
    result = run_python(
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='nexiom.settings'; django.setup()",
        DJANGO_DEBUG="maybe",
    )

    assert "DJANGO_DEBUG must be one of" in result.stderr


def test_service_check_says_in_one_line_how_to_start_a_dead_service():
    result = run_python(
        "import runpy; runpy.run_path('scripts/check_services.py', run_name='__main__')",
        DATABASE_URL="postgres://postgres@127.0.0.1:1/nexiom",
        REDIS_URL="redis://127.0.0.1:1/0",
    )

    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1
    assert len(lines) == 2
    assert lines[0].startswith("PostgreSQL is not reachable at 127.0.0.1:1; start it with: ")
    assert "pg_ctlcluster" in lines[0]
    assert lines[1].startswith("Redis is not reachable at 127.0.0.1:1; start it with: redis-server")


def test_service_check_passes_when_both_answer():
    result = run_python(
        "import runpy; runpy.run_path('scripts/check_services.py', run_name='__main__')",
    )

    assert result.returncode == 0, result.stderr


def test_manage_py_test_hands_over_to_pytest():
    result = subprocess.run(
        [sys.executable, "manage.py", "test", "tests/nexiom/test_celery_config.py", "-v", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        # Its own test database and Redis db: this suite's are in use.
        env={
            **os.environ,
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/nexiom_runner",
            "NEXIOM_TEST_REDIS_URL": "redis://127.0.0.1:6379/13",
        },
    )

    assert result.returncode == 0, result.stdout[-2000:]
    assert "passed" in result.stdout


def test_platform_bootstrap_is_repeatable(db, capsys):
    call_command("platform_bootstrap")
    call_command("platform_bootstrap")

    assert Tenant.objects.filter(schema_name="public").count() == 1
    assert Domain.objects.filter(domain="localhost").count() == 1
    assert "Platform host: localhost" in capsys.readouterr().out


def test_schema_audit_reports_a_tenant_whose_schema_vanished(db, tenant_a):
    assert tenant_schemas_audit() == []
    Tenant.objects.create(schema_name="ghost", slug="ghost", name="Ghost")

    problems = tenant_schemas_audit()

    assert problems == [
        "tenant ghost: schema ghost is missing",
        "tenant ghost: has no domain",
    ]
    with schema_context("public"):
        Tenant.objects.filter(slug="ghost").delete()
