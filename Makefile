# The two commands: `make run` (set up everything, then web + worker + beat) and `make test`.
VENV := .venv
PY := $(VENV)/bin/python
export DEBUG ?= 1

.PHONY: run test install lint check-deploy seed worker sla-worker escalation-worker chromium production production-check

$(VENV)/.installed: requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

install: $(VENV)/.installed node_modules/.package-lock.json

run: install
	$(PY) manage.py preflight
	$(PY) manage.py migrate --no-input
	$(PY) manage.py seed_demo
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/honcho start

# An extra worker (on this or another machine pointed at the same DATABASE_URL and REDIS_URL), an
# extra worker for the SLA sweep's own queue, and one for the escalation steps' queue.
worker: install
	$(VENV)/bin/celery -A handoff worker -Q celery --loglevel=info

sla-worker: install
	$(VENV)/bin/celery -A handoff worker -Q sla --hostname=sla@%h --loglevel=info --concurrency=2

escalation-worker: install
	$(VENV)/bin/celery -A handoff worker -Q escalations --hostname=escalations@%h --loglevel=info --concurrency=2

# Tests use their own Redis database, so a dev worker on database 0 never picks up a test's tasks.
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

# The browser journeys drive Debian's Chromium (Playwright's own browser download is not used).
chromium:
	@command -v $${CHROMIUM:-/usr/bin/chromium} >/dev/null || { \
		echo "Chromium is missing; installing it with apt-get"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; }

test: install chromium
	REDIS_URL=$(TEST_REDIS_URL) $(PY) manage.py preflight
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	REDIS_URL=$(TEST_REDIS_URL) $(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

# Production, as the README's Production section says: packages and assets (collectstatic needs
# node_modules), the database and beat's directory, the schema, the static files, then gunicorn + SLA
# worker + escalation worker + worker + beat from Procfile.production, nothing to activate. DEBUG is off whatever the
# environment says; SECRET_KEY and ALLOWED_HOSTS must be set (settings and preflight say so).
production: export DEBUG := 0
production: install
	$(PY) manage.py preflight
	$(PY) manage.py migrate --no-input
	$(PY) manage.py collectstatic --no-input
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" exec $(VENV)/bin/honcho -f Procfile.production start

# CI's check that `make production` starts and serves (.ci/production_check.py, on a database of its own).
production-check: install
	$(PY) .ci/production_check.py

# Production settings must pass Django's deployment checklist.
check-deploy: install
	DEBUG=0 SECRET_KEY=$$(openssl rand -hex 40) ALLOWED_HOSTS=handoff.example.com \
		$(PY) manage.py check --deploy --fail-level WARNING
