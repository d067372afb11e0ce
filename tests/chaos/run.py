"""``make chaos``: the chaos suite against a Redis and a PostgreSQL of its own.

    python -m tests.chaos.run [pytest arguments]

Django reads ``DATABASE_URL`` and the Redis URL once, when pytest starts, before
any conftest; so this launcher chooses free ports for the run's own servers and
hands them to the test session through the environment. The session fixture
(``tests/chaos/conftest.py``) starts the servers, the tests restart them, and
the fixture's teardown removes them. Where no private PostgreSQL can run (see
``infra.pg_tools``) the system's server holds the run's database
(``test_nexiom_chaos``) and the PostgreSQL fault is skipped with the reason printed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from connectors.sdk.testing import free_port
from tests.chaos import infra

ROOT = Path(__file__).resolve().parents[2]


def _system_database_url() -> str:
    """The configured server with the chaos run's own database name."""
    url = urlsplit(os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/nexiom")
    return urlunsplit(url._replace(path=f"/{infra.DATABASE}"))


def main(argv: list[str]) -> int:
    env = {**os.environ, infra.ENV_RUN: "1"}
    env.setdefault("NEXIOM_LOG_LEVEL", "WARNING")  # the tables, not every provisioning line
    if not any(Path(p).joinpath("redis-server").exists() for p in env["PATH"].split(os.pathsep)):
        print("make chaos needs redis-server (apt-get install redis-server)", file=sys.stderr)
        return 2
    redis_port = free_port()
    env[infra.ENV_REDIS_PORT] = str(redis_port)
    env["NEXIOM_TEST_REDIS_URL"] = env["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
    tools = infra.pg_tools()
    if isinstance(tools, str):
        env[infra.ENV_PG_SKIP] = tools
        env["DATABASE_URL"] = _system_database_url()
    else:
        pg_port = free_port()
        env[infra.ENV_PG_PORT] = str(pg_port)
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:{pg_port}/{infra.DATABASE}"
    command = [
        *(sys.executable, "-m", "pytest", "tests/chaos", "-q", "-s", "-p", "no:cacheprovider"),
        *("--no-cov", "-o", "testpaths=tests/chaos", *argv),
    ]
    return subprocess.run(command, cwd=ROOT, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
