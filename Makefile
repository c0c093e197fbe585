# make demo / make test do all the set-up on a fresh machine: .venv with pinned dependencies.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NODE_DEPS := tests/browser/node_modules/.package-lock.json tests/oidc/node_modules/.package-lock.json

.PHONY: install test test-fast demo bench screenshots smoke-py312 clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@# PYTHONDONTWRITEBYTECODE may be set on these machines: compile once so `isp check` starts fast.
	@# (Some packages ship files for newer Pythons only, which do not compile here: not an error.)
	$(BIN)/python -m compileall -q -j 0 $(VENV)/lib isp_lifecycle rules flows notifications >/dev/null 2>&1 || true
	touch $(STAMP)

# `make test` is what CI runs: PostgreSQL must answer (ISP_TEST_REQUIRE_PG=1), or the run fails.
# `make test-fast` skips the slow tests, and skips the PostgreSQL ones (one line why) when no server answers;
# it runs on every core (pytest-xdist): each test has its own temporary folder, database and ports.
test: $(STAMP) $(NODE_DEPS)
	ISP_TEST_REQUIRE_PG=1 $(BIN)/python -m pytest

test-fast: $(STAMP) $(NODE_DEPS)
	$(BIN)/python -m pytest -m "not slow" -n auto

# Test-only npm packages (axe-core for the page tests, oidc-provider for single sign-on),
# installed from their committed lock files; again only when a lock file changes.
tests/%/node_modules/.package-lock.json: tests/%/package-lock.json tests/%/package.json
	cd tests/$* && npm ci --no-audit --no-fund --prefer-offline --loglevel=error
	touch $@

demo: $(STAMP)
	$(BIN)/isp demo

bench: $(STAMP)
	@# start-up is measured as installed: bytecode current for sources edited since set-up
	$(BIN)/python -m compileall -q isp_lifecycle rules flows notifications >/dev/null
	$(BIN)/python -m benchmarks

# The README's pictures of the pages, taken in the browser the page tests use.
screenshots: $(STAMP)
	$(BIN)/python -m tests.browser.screenshots

# Python 3.12 support: install on pyenv's 3.12 and check both examples (CI runs this).
smoke-py312:
	bash .ci/smoke-py312

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .hypothesis
