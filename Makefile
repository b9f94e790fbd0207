# Every target bootstraps .venv first; nothing needs to be installed by hand.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install run test lint fmt bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -U pip uv
	$(BIN)/uv pip install -q --python $(BIN)/python -e '.[dev]'
	touch $(STAMP)

run: install
	$(BIN)/minzheng migrate
	$(BIN)/minzheng demo
	$(BIN)/minzheng evaluate-registry --once
	$(BIN)/minzheng casework-scan
	$(BIN)/minzheng reports-refresh
	@echo "Minzheng: http://$(HOST):$(PORT)/  (API docs: http://$(HOST):$(PORT)/api/v1/docs)"
	$(BIN)/minzheng serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports
	env -u DATABASE_URL DJANGO_SETTINGS_MODULE=minzheng.config.settings $(BIN)/django-admin makemigrations --check --dry-run

fmt: install
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

# Lint and type checks, then the suite on SQLite, then again on PostgreSQL when
# DATABASE_URL points at one.
test: lint
	env -u DATABASE_URL $(BIN)/pytest
	@case "$$DATABASE_URL" in \
	  postgres*) echo "== again on PostgreSQL: $$DATABASE_URL" && $(BIN)/pytest ;; \
	  *) echo "== DATABASE_URL is not PostgreSQL: SQLite only" ;; \
	esac

bench: install
	$(BIN)/uv pip install -q --python $(BIN)/python -e '.[dev,bench]'
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
