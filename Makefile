# CareLoop — two commands: `make demo` sets up and runs the demo hospital; `make test` runs
# every test on SQLite and PostgreSQL plus the linters.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CARELOOP := $(BIN)/careloop
HOST ?= 127.0.0.1
PORT ?= 8000
TEST_PG_URL ?= $(or $(CARELOOP_TEST_PG_URL),postgres://postgres:careloop@127.0.0.1:5432/careloop)
export CARELOOP_QUIET_DEV_KEYS ?= 1

.PHONY: install demo run test test-sqlite test-pg lint format bench messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Python packages from the lock, front-end assets from package-lock.json, Debian packages only
# when missing, compiled translations.
install: $(BIN)/python
	scripts/ensure-system.sh $(SYSTEM)
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	$(CARELOOP) compilemessages --ignore=.venv --ignore=node_modules -v0

demo: install
	$(CARELOOP) migrate -v0
	$(CARELOOP) demo
	@echo ""
	@echo "CareLoop 演示医院：http://$(HOST):$(PORT)/   （按 Ctrl+C 停止）"
	@echo "用上面列出的演示账户登录；密码只在首次创建时显示（careloop demo --reset-passwords 可重置）。"
	@$(MAKE) --no-print-directory run

run:
	@trap 'kill 0' EXIT INT TERM; \
	$(CARELOOP) worker -v0 & \
	$(BIN)/gunicorn careloop.wsgi --bind $(HOST):$(PORT) --workers 2 --threads 4 --access-logfile - --log-level warning

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format:
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test-sqlite:
	env -u DATABASE_URL $(BIN)/pytest -q $(PYTEST_ARGS)

test-pg:
	scripts/ensure-postgres.sh
	DATABASE_URL=$(TEST_PG_URL) $(BIN)/pytest -q $(PYTEST_ARGS)

test:
	$(MAKE) --no-print-directory install SYSTEM=test
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-pg

bench: install
	$(BIN)/python -m bench

messages:
	$(CARELOOP) makemessages -l en --ignore=.venv --ignore=node_modules --ignore=var --ignore=tests --ignore=bench
	$(CARELOOP) compilemessages --ignore=.venv --ignore=node_modules

clean:
	rm -rf $(VENV) node_modules var/test-*
