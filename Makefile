# Two commands on a fresh machine (only python3 needed):
#   make run    start the app on the embedded data (http://127.0.0.1:8501)
#   make test   run every test, browser tests included (installs Debian's chromium if it can)
# Each creates the virtual environment it needs in .venv/, with the exact versions in requirements.lock.
# Also: make lint (ruff, format, mypy, import contracts; CI runs it before make test),
#       make test-fast (every test except the browser ones), make lock (refresh requirements.lock).

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501
PYTEST_ARGS ?=

.PHONY: run run-public test test-fast lint lock build checks bench bench-capacity chromium clean

$(VENV)/.runtime: requirements.txt requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -c requirements.lock
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt requirements.lock
	$(PY) -m pip install --quiet -r requirements-dev.txt -c requirements.lock
	touch $@

run: $(VENV)/.runtime
	$(PY) -m csp_data.ui.serve --server.port $(PORT)

# The residents' deployment: prepare the data in a separate (internal) process, then serve only
# the public pages from a process that cannot read point-level or other restricted files.
run-public: $(VENV)/.runtime
	$(PY) -m csp_data build
	CSP_MODE=public $(PY) -m csp_data.ui.serve --server.port $(PORT)

build: $(VENV)/.runtime
	$(PY) -m csp_data build

checks: $(VENV)/.runtime
	$(PY) -m csp_data checks

# Browser tests drive Debian's chromium (no Playwright browser download is possible here).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "Browser tests need /usr/bin/chromium: run 'sudo apt-get install chromium' and retry" >&2; exit 1; \
	  fi; \
	fi

test: $(VENV)/.dev chromium
	$(PY) -m pytest -n 2 $(PYTEST_ARGS)

# The quick loop while working: everything but the browser tests (no chromium needed).
test-fast: $(VENV)/.dev
	$(PY) -m pytest -n 2 --ignore=tests/e2e $(PYTEST_ARGS)

# The gates (rules in pyproject.toml; docs/ARCHITECTURE.md says why): lint, formatting, types on
# csp_data, the layer contracts, and pages importing only csp_data.ui.
lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m pytest -q -p no:cacheprovider tests/test_layers.py tests/test_pages_layer.py

# Refresh requirements.lock from the newest versions the floors allow (then run make lint test).
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --upgrade pip
	.lock-venv/bin/pip install --quiet -r requirements-dev.txt
	{ sed -n '1,3p' requirements.lock; .lock-venv/bin/pip freeze | sort -f; } > requirements.lock.new
	mv requirements.lock.new requirements.lock
	rm -rf .lock-venv

bench: $(VENV)/.dev
	$(PY) benchmarks/run.py

# N = 1, 10, 25, 50 concurrent sessions against one server (slow: about 10 minutes); updates the
# capacity table in docs/PERFORMANCE.md.
bench-capacity: $(VENV)/.dev
	$(PY) benchmarks/capacity.py --doc docs/PERFORMANCE.md

clean:
	rm -rf data/warehouse data/.warehouse-* .pytest_cache .mypy_cache .ruff_cache
