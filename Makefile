# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000

# Local PostgreSQL / Redis / RabbitMQ for the server-backed variants.
SERVER_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test
SERVER_REDIS_URL    ?= redis://127.0.0.1:6379/15
SERVER_AMQP_URL     ?= amqp://guest:guest@127.0.0.1:5672/%2F

.PHONY: install run test test-fast test-server test-rabbitmq lint format clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## Start everything on the embedded default with the demo territory.
run: install
	$(BIN)/parcours run --demo --host $(HOST) --port $(PORT)

## The whole suite on the embedded default (PostgreSQL started by the tests).
test: install
	$(BIN)/pytest

## Everything but the process-level (slow) tests.
test-fast: install
	$(BIN)/pytest -m "not slow"

## The whole suite against a PostgreSQL server and Redis.
test-server: install
	PARCOURS_DATABASE_URL=$(SERVER_DATABASE_URL) PARCOURS_BROKER_URL=$(SERVER_REDIS_URL) $(BIN)/pytest

## The whole suite against a PostgreSQL server and RabbitMQ.
test-rabbitmq: install
	PARCOURS_DATABASE_URL=$(SERVER_DATABASE_URL) PARCOURS_BROKER_URL=$(SERVER_AMQP_URL) $(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
