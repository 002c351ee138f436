# The README's commands. `make demo` runs the main job end to end, `make test` runs every test tier.
# Both install what they need (uv, the Python workspace, PostgreSQL, the Kafka jars) and start the
# local infrastructure on loopback first.

SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
UV ?= $(shell command -v uv 2>/dev/null || echo python3 -m uv)
PYTEST_ARGS ?=

.PHONY: demo test install infra infra-down infra-status lint format bench clean

demo: install infra
	$(UV) run rcm demo

test: install infra
	$(UV) run pytest $(PYTEST_ARGS)

install:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || \
	  python3 -m pip install -q 'uv>=0.8,<0.14' || python3 -m pip install -q --break-system-packages 'uv>=0.8,<0.14'
	$(UV) sync --all-packages --frozen

infra:
	deploy/local/up.sh

infra-down:
	deploy/local/down.sh

infra-status:
	-deploy/local/postgres.sh status
	-deploy/local/kafka.sh status

lint: install
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy

format: install
	$(UV) run ruff format .
	$(UV) run ruff check --fix .

bench: install infra
	$(UV) run python bench/x12/run.py
	$(UV) run python bench/servicekit/run.py
	$(UV) run python bench/pipeline/run.py

clean: infra-down
	rm -rf .local
