# Two commands: `make run` (the demo marketplace on http://127.0.0.1:8000) and `make test`.
PYTHON ?= $(shell command -v python3.12 || command -v python3.13 || command -v python3.14 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements/dev.txt | cksum | cut -d' ' -f1)
# The local demo's opt-ins, off by default everywhere (portal/settings.py): debug pages, and
# syncing from 127.0.0.1 (the demo's feeds and mock APIs are served by its own web server).
DEMO_ENV := DEBUG=true SYNC_ALLOW_PRIVATE_ADDRESSES=true DEMO_ENABLED=true

.PHONY: install lock run test lint format messages migrate demo bench bench-quick screenshots clean

install: $(STAMP)

# Development installs both locks (dev.txt pins the runtime's versions too); production installs
# requirements/runtime.txt only. Every package is checked against its hash.
$(STAMP): requirements/dev.txt requirements/runtime.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 12))' || { echo "Python 3.12+ is needed (found $$($(PYTHON) --version))"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-virtualenv --require-hashes -r requirements/dev.txt
	rm -f $(VENV)/.installed-*
	touch $@

# Re-pin requirements/*.txt from requirements/*.in (with hashes); add --upgrade to take new releases.
lock: install
	cd requirements && ../$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-header $(LOCK_ARGS) -o runtime.txt runtime.in
	cd requirements && ../$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-header $(LOCK_ARGS) -o dev.txt dev.in

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(DEMO_ENV) $(BIN)/python manage.py load_demo

run: demo
	@mkdir -p .run/broker/processed
	$(DEMO_ENV) PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile.dev

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Benchmarks (docs/performance.md), on PostgreSQL: BENCH_DATABASE_URL, or DATABASE_URL + "_bench".
# bench: 10k, 100k and 1M offers (~10 min); BENCH_ARGS="--sizes 10k,100k" skips the million;
# BENCH_STRICT=1 exits non-zero when a target of docs/performance.md is missed.
bench: install
	$(BIN)/python -m bench.run $(BENCH_ARGS)

bench-quick: install
	$(BIN)/python -m bench.run --quick $(BENCH_ARGS)

# The README's and docs' screenshots (docs/screenshots/), from the demo in a throwaway database;
# needs Chromium (CHROMIUM=/usr/bin/chromium by default). SCREENSHOTS_ARGS="--only catalog".
screenshots: install
	$(BIN)/python -m demo.screenshots $(SCREENSHOTS_ARGS)

# Needs GNU gettext. The compiled .mo is committed: machines without gettext cannot build it.
messages: install
	$(BIN)/python manage.py makemessages -l fr --ignore=.venv --ignore=bench --ignore=staticfiles --ignore=docs \
		--no-obsolete --add-location=file
	$(BIN)/python manage.py compilemessages -l fr --ignore=.venv

clean:
	rm -rf $(VENV) .run db.sqlite3 db.sqlite3-* staticfiles
