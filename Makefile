# doanbot — everything a person or CI needs, from a fresh machine with Python 3.11+ and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Tests run in parallel, one worker per core (each worker has its own PostgreSQL database).
TEST_WORKERS ?= auto

.PHONY: install test lint typecheck pytest demo run bench lock clean

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "doanbot needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

## Every test: lint, types, then the suite (PostgreSQL too when DOANBOT_TEST_DATABASE_URL is set).
test: install lint typecheck pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

pytest: install
	@# The bot processes the tests start read compiled code, even where Python is told
	@# not to write any (PYTHONDONTWRITEBYTECODE): compile once, before they start.
	$(BIN)/python -m compileall -q -j 0 bot handlers storage scheduler tests
	$(BIN)/pytest -q -n $(TEST_WORKERS)

## A local sandbox: fake Telegram and Zalo servers, SQLite, a sample province; chat from the terminal.
demo: install
	$(BIN)/doanbot demo

run: install
	$(BIN)/doanbot run

bench: install
	$(BIN)/python bench/engine.py
	$(BIN)/python -m bench.broadcast --chats 600
	$(BIN)/python -m bench.polls --members 20000
	$(BIN)/python -m bench.visits
	$(BIN)/python -m bench.oneplusone
	$(BIN)/python -m bench.oneplusone_nudge --skip-per-person

## Re-pin dependencies after changing pyproject.toml.
lock: install
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --no-header -o requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache data/demo
