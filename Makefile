# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test setup system-deps lint bench translations clean

run: setup
	$(BIN)/turnos db upgrade
	$(BIN)/turnos demo
	test -d instance/keys || $(BIN)/turnos keys init
	TURNOS_SIGNING_PASSPHRASE="$${TURNOS_SIGNING_PASSPHRASE:-$$(cat instance/keys/signing.passphrase)}" \
		$(BIN)/turnos serve --host $(HOST) --port $(PORT)

test: setup system-deps
	$(BIN)/python -m pytest

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

system-deps:
	scripts/install-system-deps.sh

lint: setup
	$(BIN)/ruff check .

# After changing user-facing text: extract, merge into the catalogs, translate, compile.
translations: setup
	$(BIN)/pybabel extract -F babel.cfg -o server/translations/messages.pot --no-location --project Turnos .
	$(BIN)/pybabel update -i server/translations/messages.pot -d server/translations --no-fuzzy-matching
	$(BIN)/pybabel compile -d server/translations

bench: setup system-deps
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis
