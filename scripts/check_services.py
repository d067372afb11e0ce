"""Check that PostgreSQL and Redis answer; say in one line how to start what does not.

Also creates the application database when the server runs but the
database is missing (a fresh machine). Exit status 1 when a service is down.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import redis

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/nexiom"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
START_POSTGRES = "pg_ctlcluster --skip-systemctl-redirect {version} main start"
START_REDIS = (
    'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" '
    "--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log"
)


def _postgres_version() -> str:
    versions = (
        sorted(p.name for p in Path("/etc/postgresql").glob("*"))
        if Path("/etc/postgresql").is_dir()
        else []
    )
    return versions[-1] if versions else "$(ls /etc/postgresql)"


def check_postgres(url: str) -> str | None:
    parts = urlsplit(url)
    database = parts.path.lstrip("/") or "postgres"
    where = f"{parts.hostname or '127.0.0.1'}:{parts.port or 5432}"
    admin_url = parts._replace(path="/postgres").geturl()
    try:
        with psycopg.connect(admin_url, connect_timeout=3, autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{database}"')
                print(f"Created database {database} on {where}.")
    except psycopg.OperationalError:
        start = START_POSTGRES.format(version=_postgres_version())
        return f"PostgreSQL is not reachable at {where}; start it with: {start}"
    return None


def check_redis(url: str) -> str | None:
    parts = urlsplit(url)
    where = f"{parts.hostname or '127.0.0.1'}:{parts.port or 6379}"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError:
        return f"Redis is not reachable at {where}; start it with: {START_REDIS}"
    return None


def main() -> int:
    problems = [
        problem
        for problem in (
            check_postgres(os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)),
            check_redis(os.environ.get("REDIS_URL", DEFAULT_REDIS_URL)),
        )
        if problem
    ]
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
