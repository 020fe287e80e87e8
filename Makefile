# Every target creates the virtual environment it needs, so a fresh clone needs only Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SRC := treatment storage scheduler bot

.PHONY: install test lint typecheck security audit pytest bench demo run clean messages

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

test: install lint typecheck security audit pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy --strict treatment storage scheduler bot

security: install
	$(BIN)/bandit --quiet --configfile pyproject.toml --recursive $(SRC)

# pip-audit needs the vulnerability service; with no network it warns instead of failing.
audit: install
	@$(BIN)/python scripts/audit.py

pytest: install
	$(BIN)/pytest

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
			$(BIN)/pybabel -q update --no-fuzzy-matching -i bot/locales/messages.pot -d bot/locales -l $$l; \
		else \
			$(BIN)/pybabel -q init -i bot/locales/messages.pot -d bot/locales -l $$l; \
		fi; \
	done
