# The two entry points of the README: `make dashboard` and `make test`; `make check` runs the quick tiers only.
# Each creates .venv on first use and re-installs only when a requirements file changes.

VENV := .venv
PYTHON := $(VENV)/bin/python
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
PYTEST_ARGS ?=
# With no terminal on stdin (nohup, a service, a container, CI) nobody is there to see a browser: run headless.
HEADLESS_WITHOUT_TTY = $$([ -t 0 ] || echo --server.headless=true)

.PHONY: dashboard test check chromium postgresql

dashboard: $(VENV)/.runtime-installed
	$(PYTHON) -m streamlit run dashboard/Home.py $(HEADLESS_WITHOUT_TTY)

# Every tier, in one process. On two pytest-xdist workers (PYTEST_ARGS="-n 2 --dist loadgroup"; each module of the
# process, browser and full-MNIST tiers then stays on one worker) it took 12.8 min instead of about 15, but the browser
# tests, sharing the cores with the other worker, are not yet green that way (issue 37).
test: $(VENV)/.dev-installed chromium postgresql
	$(PYTHON) -m pytest $(PYTEST_ARGS)

# The in-process tiers only: unit tests and the dashboard under AppTest (no other process, no browser, no database),
# on two pytest-xdist workers (on two cores, little more than half the time of one process; PYTEST_ARGS=-n0 runs
# them in one process). Session fixtures that train are shared between the workers (tests/support/shared.py).
check: $(VENV)/.dev-installed
	$(PYTHON) -m pytest -n 2 tests/unit tests/app $(PYTEST_ARGS)

$(VENV)/bin/python:
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip

$(VENV)/.runtime-installed: requirements.txt | $(VENV)/bin/python
	$(PYTHON) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PYTHON) -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime-installed

# The browser tests drive Debian's Chromium (Playwright cannot download its own browser offline).
chromium:
	@test -x /usr/bin/chromium || { $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium; }

# The scale-out tests start a throw-away PostgreSQL server of their own (tests/support/postgres_server.py);
# Debian keeps its server binaries in /usr/lib/postgresql/<version>/bin.
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || \
		{ $(SUDO) apt-get update && $(SUDO) apt-get install -y postgresql; }
