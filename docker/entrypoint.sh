#!/usr/bin/env bash
# Entrypoint of the Nexiom image. One image runs every process; the first
# argument picks which one:
#
#   web            gunicorn serving Django on :8000
#   worker         Celery worker
#   beat           Celery beat, schedule kept in PostgreSQL (django-celery-beat)
#   flower         Flower, the Celery monitoring UI, on :5555
#   migrate        migrate the public schema, ensure the platform tenant,
#                  then migrate every tenant schema
#   manage ARGS    any manage.py command, e.g. `manage createsuperuser`
#   healthcheck [ROLE]
#                  exit 0 when the process of this container is healthy
#                  (used by the image HEALTHCHECK and by compose)
#
# Anything else is executed as given (`bash`, `python`, ...), which is handy
# for debugging a running deployment.
#
# Extra arguments after web/worker/beat/flower are passed to the program,
# e.g. `worker -Q sync -c 4`.
set -euo pipefail

# The role of the main process is written here so that HEALTHCHECK, which runs
# as a separate process, knows what to probe. /tmp is used because it is the
# only place the unprivileged user can write to. The first process of the
# container wins: a later `docker exec ... entrypoint.sh manage shell` must not
# turn the web container's probe into a no-op.
ROLE_FILE=/tmp/nexiom.role

remember_role() {
    if [[ ! -e "$ROLE_FILE" ]]; then
        printf '%s\n' "$1" >"$ROLE_FILE"
    fi
}

# GET a local URL; non-2xx, refused connection or timeout exit non-zero.
# The Host header must be one that ALLOWED_HOSTS accepts, hence the base domain.
http_ok() {
    python - "$1" <<'PY'
import os
import sys
import urllib.request

host = os.environ.get("NEXIOM_BASE_DOMAIN") or "localhost"
request = urllib.request.Request(sys.argv[1], headers={"Host": host})
with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - fixed local URL
    sys.exit(0 if 200 <= response.status < 300 else 1)
PY
}

healthcheck() {
    local role="${1:-}"
    if [[ -z "$role" && -r "$ROLE_FILE" ]]; then
        role="$(<"$ROLE_FILE")"
    fi
    case "$role" in
        web)
            http_ok "http://127.0.0.1:8000/healthz"
            ;;
        worker)
            # Asks this very worker (default node name celery@<hostname>) to
            # answer over the broker: proves both the process and Redis work.
            celery -A nexiom inspect ping --timeout 5 \
                --destination "celery@${HOSTNAME}" >/dev/null
            ;;
        beat)
            # Beat has no port to probe. It is useless without the broker,
            # so check that Redis answers from inside this container.
            python - <<'PY'
import os

from redis import Redis

Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), socket_timeout=5).ping()
PY
            ;;
        flower)
            http_ok "http://127.0.0.1:5555/healthcheck"
            ;;
        *)
            # One-off containers (migrate, manage, a shell) have nothing to
            # probe: they are healthy while they run.
            return 0
            ;;
    esac
}

command="${1:-web}"
if [[ $# -gt 0 ]]; then
    shift
fi

# Prometheus: with NEXIOM_METRICS_DIR (a volume shared by web and workers), each
# container writes its processes' metric files into its own subdirectory, emptied
# at start, and the web's /metrics merges them all (nexiom/metrics_view.py).
if [[ -n "${NEXIOM_METRICS_DIR:-}" && -z "${PROMETHEUS_MULTIPROC_DIR:-}" ]] \
    && [[ "$command" == web || "$command" == worker ]]; then
    export PROMETHEUS_MULTIPROC_DIR="$NEXIOM_METRICS_DIR/${HOSTNAME:-$command}"
    rm -rf "$PROMETHEUS_MULTIPROC_DIR"
    mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
fi

case "$command" in
    web)
        remember_role web
        # WEB_CONCURRENCY lets a deployment size the worker count without
        # editing the command; 2 suits the 2-core machines we run on.
        exec gunicorn nexiom.wsgi:application \
            --bind 0.0.0.0:8000 \
            --workers "${WEB_CONCURRENCY:-2}" \
            --access-logfile - \
            --logger-class nexiom.gunicorn_logging.RedactingLogger \
            "$@"
        ;;
    worker)
        remember_role worker
        exec celery -A nexiom worker -l "${CELERY_LOG_LEVEL:-info}" "$@"
        ;;
    beat)
        remember_role beat
        exec celery -A nexiom beat -l "${CELERY_LOG_LEVEL:-info}" \
            --scheduler django_celery_beat.schedulers:DatabaseScheduler "$@"
        ;;
    flower)
        # Flower shows task arguments and can revoke tasks: never without a login.
        # It reads FLOWER_BASIC_AUTH (user:password[,user:password]) itself, so the
        # password stays out of the process list.
        if [[ "${FLOWER_BASIC_AUTH:-}" != ?*:?* ]]; then
            echo "entrypoint: flower needs FLOWER_BASIC_AUTH=user:password; not starting" >&2
            exit 64
        fi
        remember_role flower
        exec celery -A nexiom flower --port=5555 "$@"
        ;;
    migrate)
        remember_role migrate
        # django-tenants: the public (shared) schema first, because tenant
        # schemas are listed in it; then make sure the platform's public
        # tenant and its domain (NEXIOM_BASE_DOMAIN) exist, without which no
        # request on the base domain is routed; then every tenant schema.
        # All three steps are safe to re-run (same order as `make migrate`).
        python manage.py migrate_schemas --shared --noinput
        python manage.py platform_bootstrap
        exec python manage.py migrate_schemas --tenant --noinput
        ;;
    manage)
        remember_role manage
        exec python manage.py "$@"
        ;;
    healthcheck)
        healthcheck "$@"
        ;;
    *)
        remember_role other
        exec "$command" "$@"
        ;;
esac
