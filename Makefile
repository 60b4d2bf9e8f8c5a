# pingyi: two commands.
#   make run   install, migrate an SQLite database in ./instance, load the demo, serve
#   make test  install with test extras (and Chromium for the browser tests), run the suite

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= localhost
PORT   ?= 5000

export PINGYI_INSTANCE_PATH ?= $(CURDIR)/instance

.PHONY: run test install install-test browser-deps lint audit lock sbom messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	PINGYI_ENV=development $(BIN)/pingyi db upgrade
	PINGYI_ENV=development $(BIN)/pingyi demo
	PINGYI_ENV=development $(BIN)/pingyi live links --demo --base-url http://127.0.0.1:$(PORT)
	PINGYI_ENV=development $(BIN)/pingyi serve --host $(HOST) --port $(PORT)

# The browser tests drive Debian's Chromium (Playwright's own download does not work on
# our machines) and need a CJK font so that Chinese renders as text, not boxes.
browser-deps:
	@if command -v chromium >/dev/null 2>&1 && fc-list :lang=zh 2>/dev/null | grep -q .; then \
		echo "browser tests: chromium and a CJK font are present"; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "browser tests: installing chromium and fonts-wqy-microhei with apt-get"; \
		apt-get install -y -q chromium fonts-wqy-microhei >/dev/null 2>&1 || \
		(apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium fonts-wqy-microhei >/dev/null); \
	else \
		echo "browser tests: chromium missing and apt-get unavailable (or not root): they will skip"; \
	fi

# Two workers: the CI machine has 2 cores, and much of the suite waits on servers and browsers.
# A test file stays on one worker (its module fixtures, e.g. a served demo, are set up once).
TEST_WORKERS ?= 2
test: install-test browser-deps
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

lint: install-test
	$(BIN)/ruff check evaluation live scoring tests bench tools

# Every package of requirements.lock checked against PyPI's project JSON (ASVS V15.1.1,
# V15.2.1; rules and time frames in docs/security.md, "Third-party components"): fails on an
# advisory that reaches a pin, a yanked pin, or a pin superseded for more than 30 days, unless
# audit-exceptions.toml accepts it until a date; exits 2 when anything cannot be checked
# (network, unknown release): never a silent pass. CI runs it after the tests with
# AUDIT_STALE=warn (a new upstream release does not block a merge; an advisory does);
# the weekly run and every release run it as is. (pip-audit is not used: the per-version
# JSON and OSV it needs are not reachable from our machines.)
AUDIT_STALE ?= fail
audit: install
	$(BIN)/python tools/dependency_audit.py --stale $(AUDIT_STALE)

# Runtime dependencies pinned with their hashes (ASVS V15.1.2), for installing a production
# host (README, "Dependencies: lock and SBOM"). `make run` and `make test` do not use it: they
# install from pyproject.toml. Regenerate after changing [project] dependencies
# (tests/test_supply_chain.py fails until then): pins already in the lock are kept;
# `make lock LOCK_UPGRADE=--upgrade` moves every package to its newest release. One lock for
# every platform and Python >= 3.11 (--universal); uv lives in a venv of its own.
LOCK_VENV    := .venv-lock
PYPI_INDEX   ?= https://pypi.org/simple
LOCK_UPGRADE ?=
lock:
	@test -x $(LOCK_VENV)/bin/uv || \
		($(PYTHON) -m venv $(LOCK_VENV) && $(LOCK_VENV)/bin/pip install --quiet uv)
	$(LOCK_VENV)/bin/uv pip compile pyproject.toml --universal --python-version 3.11 \
		--generate-hashes --index-url $(PYPI_INDEX) --custom-compile-command "make lock" \
		--quiet $(LOCK_UPGRADE) -o requirements.lock

# CycloneDX SBOM of the runtime dependencies (ASVS V15.1.2), made from the lock: each
# component with its version, package URL and hashes. CI makes it on every merge and keeps it
# with each release. cyclonedx-py lives in a venv of its own, like pip-audit.
SBOM_VENV := .venv-sbom
sbom:
	@test -x $(SBOM_VENV)/bin/cyclonedx-py || \
		($(PYTHON) -m venv $(SBOM_VENV) && $(SBOM_VENV)/bin/pip install --quiet cyclonedx-bom)
	$(SBOM_VENV)/bin/cyclonedx-py requirements --pyproject pyproject.toml \
		--output-reproducible --output-format JSON -o sbom.cdx.json requirements.lock

# Re-extract the message catalog and merge it into each language (then translate, then compile).
messages: install-test
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ -o evaluation/translations/messages.pot .
	$(BIN)/pybabel update -i evaluation/translations/messages.pot -d evaluation/translations --no-fuzzy-matching
	$(BIN)/pybabel compile -d evaluation/translations

clean:
	rm -rf $(VENV) .pytest_cache
