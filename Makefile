# CityOps: two commands do everything on a fresh Debian machine.
#   make demo   installs what it needs, then runs the control center on the embedded default
#   make test   installs what the tests need (Mosquitto, PostgreSQL, Chromium, Node.js), then runs
#               the suite
#   make fresh-check  (root) proves both on a clean Debian 12 root: scripts/fresh-check.sh
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck unit bench clean system-deps fresh-check

$(STAMP): pyproject.toml
	bash scripts/bootstrap.sh "$(PYTHON)" "$(VENV)"
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/cityops demo

system-deps:
	bash scripts/install-system-deps.sh

lint: $(STAMP)
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy

typecheck: lint

test: $(STAMP) system-deps lint
	$(PY) -m pytest -q -p no:cacheprovider

bench: $(STAMP) system-deps
	$(PY) -m bench.ingest

# Prove `make demo` and `make test` on a clean Debian 12 root (debootstrap, cached), as root.
fresh-check:
	bash scripts/fresh-check.sh $(FRESH_CHECK_ARGS)

clean:
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache .pytest_cache
