# Every target creates the virtual environment it needs, so a fresh clone needs only Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SRC := treatment storage scheduler bot

.PHONY: install test lint typecheck security audit pytest bench demo run clean

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
	$(BIN)/mypy --strict treatment storage
	$(BIN)/mypy scheduler bot

security: install
	$(BIN)/bandit --quiet --configfile pyproject.toml --recursive $(SRC)

# pip-audit needs the vulnerability service; with no network it warns instead of failing.
audit: install
	@$(BIN)/python scripts/audit.py

pytest: install
	$(BIN)/pytest

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
