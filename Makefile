# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint worker beat demo

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Embedded default: SQLite, Celery tasks in process, mail to the console, HTTPS on :8443.
# Another port: `make run PORT=9443` (serves and tells devices https://localhost:9443);
# a PORTAL_BASE_URL in the environment wins over PORT.
PORT ?= 8443
RUN_ENV = PORTAL_BASE_URL="$${PORTAL_BASE_URL:-https://localhost:$(PORT)}"

run: $(STAMP)
	$(RUN_ENV) $(BIN)/python manage.py migrate --noinput
	$(RUN_ENV) $(BIN)/python manage.py demo
	$(RUN_ENV) $(BIN)/python manage.py serve

test: $(STAMP)
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

worker: $(STAMP)
	$(BIN)/celery -A portal worker --loglevel=INFO

beat: $(STAMP)
	$(BIN)/celery -A portal beat --loglevel=INFO
