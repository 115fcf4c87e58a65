#!/bin/sh
# The container's entrypoint: one image, one role per container (see compose.yaml and the README).
#   web     migrate (unless MIGRATE_ON_START=false), then gunicorn serving the site and its static files
#   worker  a Celery worker (WORKER_QUEUES, default "default,sync"; WORKER_CONCURRENCY, default 2)
#   beat    Celery beat: run exactly ONE in the whole deployment
#   anything else is run as given (e.g. "python manage.py createsuperuser")
# A production process refuses to start without its required settings (portal/checks.py).
set -eu

role="${1:-web}"
case "$role" in
    web)
        if [ "${MIGRATE_ON_START:-true}" = "true" ]; then
            python manage.py migrate --noinput
        fi
        exec gunicorn portal.wsgi \
            --bind "0.0.0.0:${PORT:-8000}" \
            --workers "${WEB_CONCURRENCY:-4}" \
            --timeout "${GUNICORN_TIMEOUT:-30}" \
            --access-logfile - \
            --config deploy/gunicorn.conf.py
        ;;
    worker)
        exec celery -A portal worker \
            --queues "${WORKER_QUEUES:-default,sync}" \
            --concurrency "${WORKER_CONCURRENCY:-2}" \
            --loglevel "${LOG_LEVEL:-INFO}"
        ;;
    beat)
        exec celery -A portal beat --loglevel "${LOG_LEVEL:-INFO}" --schedule "${RUN_DIR:-/tmp}/celerybeat-schedule"
        ;;
    *)
        exec "$@"
        ;;
esac
