# Every target creates the virtual environment it needs, so a fresh clone needs only Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SRC := treatment storage scheduler bot
LOCK := requirements.lock
COMPILE := $(BIN)/pip-compile --quiet --generate-hashes --extra dev --strip-extras \
	--allow-unsafe --no-emit-index-url --no-emit-find-links --output-file $(LOCK) pyproject.toml

.PHONY: install test lint typecheck security audit pytest bench demo run clean messages lock lock-upgrade

# 1. Exactly what requirements.lock pins, each file checked against its hash.
# 2. The project itself; if pyproject.toml asks for something the lock does not pin yet (a
#    dependency added since `make lock`), scripts/lock_status.py says so and pip installs it from
#    pyproject.toml's range, unpinned and unverified, keeping the locked versions. `make lock`
#    then pins it.
$(STAMP): pyproject.toml $(LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	@$(BIN)/python scripts/lock_status.py || true
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip check
	@touch $(STAMP)

install: $(STAMP)

# Pin pyproject.toml's dependencies (with dev) in requirements.lock, with hashes. Keeps the
# versions already pinned where they still fit; `make lock-upgrade` moves every pin to the
# newest version pyproject.toml allows.
lock: install
	$(COMPILE)

lock-upgrade: install
	$(COMPILE) --upgrade

# The static checks side by side (each takes one core, and the audit mostly waits on the
# network), their output kept together per check; then the tests.
test: install
	@$(MAKE) --no-print-directory --output-sync=target -j4 lint typecheck security audit
	@$(MAKE) --no-print-directory pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy --strict treatment storage scheduler bot

security: install
	$(BIN)/bandit --quiet --configfile pyproject.toml --recursive $(SRC)

# pip-audit needs the vulnerability service. Packages it could not check are reported as NOT
# AUDITED, never as a pass; with TBBOT_REQUIRE_AUDIT=1 that fails the build.
audit: install
	@$(BIN)/python scripts/audit.py

# 1. Everything but the `serial` tests, spread over the machine's cores (pytest-xdist; every
#    test makes its own database, files and ports, so they share nothing).
# 2. The `serial` tests alone: they time worker processes, which a busy neighbour would skew.
# PYTEST_ARGS passes through, e.g. `make pytest PYTEST_ARGS='-k sms'`.
# (a PYTEST_ARGS that leaves no serial test is not an error: pytest exits 5 there).
# The tests' files (each test's SQLite databases, key files, logs) go to a fresh folder on
# tmpfs where the machine has one (TEST_TMP): SQLite's fsyncs cost nothing there, and no test
# asks whether a write reached a disk. The folder is removed afterwards.
PYTEST_WORKERS ?= auto
TEST_TMP ?= $(firstword $(wildcard /dev/shm) /tmp)
pytest: install
	@base=$$(mktemp -d "$(TEST_TMP)/tbbot-tests.XXXXXX") && trap 'rm -rf "$$base"' EXIT && \
	$(BIN)/pytest -n $(PYTEST_WORKERS) -m 'not serial' --basetemp="$$base/parallel" $(PYTEST_ARGS) && \
	{ $(BIN)/pytest -p no:xdist -m serial --basetemp="$$base/serial" $(PYTEST_ARGS) || test $$? -eq 5; }

bench: install
	$(BIN)/python -m bench

# Talk to the bot in this terminal: a temporary database and key, a fast clock, no token.
demo: install
	$(BIN)/tbbot demo

# The real Telegram bot, configured from .env (see .env.example).
run: install
	$(BIN)/tbbot run

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis

# Refresh the translation catalogues after adding or changing a user-facing string.
messages: install
	$(BIN)/pybabel -q extract --no-location --sort-by-file --project=tbbot \
		-k _ -k N_ -k ngettext:1,2 -o bot/locales/messages.pot bot scheduler
	for l in en ko zh_Hans; do \
		if [ -f bot/locales/$$l/LC_MESSAGES/messages.po ]; then \
			$(BIN)/pybabel -q update --no-fuzzy-matching --ignore-obsolete -i bot/locales/messages.pot -d bot/locales -l $$l; \
		else \
			$(BIN)/pybabel -q init -i bot/locales/messages.pot -d bot/locales -l $$l; \
		fi; \
	done
