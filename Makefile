# CityOps: two commands do everything on a fresh Debian machine.
#   make demo   installs what it needs (Mosquitto too, as root), then runs the control center on
#               the embedded default
#   make test   installs what the tests need (Mosquitto, PostgreSQL, Chromium, Node.js), then runs
#               the suite
#   make fresh-check  (root) proves both on a clean Debian 12 root: scripts/fresh-check.sh
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck unit bench clean system-deps lint-js test-js fresh-check audit

# The console's JavaScript: type-checked by tsc (web/tsconfig.json), unit-tested by node --test
# (explicit file names: Node 18 has no globs). npm ci runs again when the lockfile changes.
WEB_STAMP := web/node_modules/.installed
JS_TESTS  := $(sort $(wildcard web/test/*.test.mjs))

$(STAMP): pyproject.toml
	bash scripts/bootstrap.sh "$(PYTHON)" "$(VENV)"
	@touch $(STAMP)

$(WEB_STAMP): web/package-lock.json
	cd web && npm ci --ignore-scripts --no-audit --no-fund
	@touch $(WEB_STAMP)

# The tests' OpenID Connect provider (panva's oidc-provider, pinned in tests/oidc_op)
OP_STAMP := tests/oidc_op/node_modules/.installed

$(OP_STAMP): tests/oidc_op/package-lock.json
	cd tests/oidc_op && npm ci --ignore-scripts --no-audit --no-fund
	@touch $(OP_STAMP)

lint-js: $(WEB_STAMP)
	web/node_modules/.bin/tsc -p web

test-js:
	node --test $(JS_TESTS)

demo: $(STAMP)
	bash scripts/install-broker.sh
	$(VENV)/bin/cityops demo

system-deps:
	bash scripts/install-system-deps.sh

lint: $(STAMP) lint-js
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy

typecheck: lint

test: $(STAMP) system-deps lint test-js $(OP_STAMP)
	$(PY) -m pytest -q -p no:cacheprovider

bench: $(STAMP) system-deps
	$(PY) -m bench.ingest

# Known vulnerabilities in the pinned Python and npm dependencies (pip-audit, npm audit). Needs
# the vulnerability databases online, so it is not part of the offline `make test`.
audit: $(STAMP)
	bash scripts/audit.sh "$(VENV)"

# Prove `make demo` and `make test` on a clean Debian 12 root (debootstrap, cached), as root.
fresh-check:
	bash scripts/fresh-check.sh $(FRESH_CHECK_ARGS)

clean:
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache .pytest_cache
