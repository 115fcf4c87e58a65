# One image for every role: web (gunicorn + WhiteNoise), worker, beat (deploy/entrypoint.sh).
#   docker build -t gpu-marketplace .
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_ENV=production \
    RUN_DIR=/tmp

# pg_dump and pg_restore for deploy/backup.sh and deploy/restore.sh; nothing else is needed:
# psycopg's binary wheel carries its own libpq.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# The runtime lock only, every package checked against its hash.
COPY requirements/runtime.txt requirements/runtime.txt
RUN pip install --require-hashes -r requirements/runtime.txt

COPY . .
# Static files are collected into the image (WhiteNoise serves them, with hashed names). The
# production settings need a secret to load; this one exists only for this build step.
# The French .mo is committed (no gettext needed here).
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput

# Runs as a user of its own; /metrics is where processes share Prometheus figures (compose.yaml).
RUN useradd --system --uid 10001 --home-dir /app market && mkdir /metrics && chown -R market /app /metrics
USER market

EXPOSE 8000
ENTRYPOINT ["deploy/entrypoint.sh"]
CMD ["web"]
