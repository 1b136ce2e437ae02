# Two commands matter: `make run` and `make test`. Both bootstrap idempotently:
# .venv (Python 3.10) -> install -> compile catalogs -> train the model if missing.
SHELL := /bin/bash
PYTHON310 ?= $(shell pyenv prefix 3.10.13 >/dev/null 2>&1 && echo $$(pyenv prefix 3.10.13)/bin/python || command -v python3.10)
VENV := .venv
BIN := $(VENV)/bin
PASSAGE_HOME ?= ./var
MODEL ?= $(or $(PASSAGE_MODEL),$(PASSAGE_HOME)/models/passage.tar.gz)
DIALOGUES := $(shell find dialogues -name "*.yml" 2>/dev/null) config.yml bot/engine/text_classifier.py bot/engine/language_identifier.py bot/engine/sklearn_component.py
PO_FILES := $(wildcard locales/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)
export PASSAGE_HOME RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=3

.PHONY: run test install catalogs model directory lint extract clean

$(BIN)/python:
	@test -n "$(PYTHON310)" || { echo "Python 3.10 is required (Rasa 3.6 runs on 3.8-3.10): pyenv install 3.10"; exit 1; }
	$(PYTHON310) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools wheel

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

locales/%/LC_MESSAGES/messages.mo: locales/%/LC_MESSAGES/messages.po $(VENV)/.installed
	$(BIN)/pybabel compile -i $< -o $@

catalogs: $(MO_FILES)

# `passage train` writes the model and its SHA-256 beside it; a model without one is refused.
$(MODEL) $(MODEL).sha256 &: $(DIALOGUES) $(VENV)/.installed
	$(BIN)/passage train --out $(MODEL)

model: $(MODEL) $(MODEL).sha256

# The embedded default: a key file and the sample directory in SQLite (both idempotent).
directory: install
	$(BIN)/passage keys init
	$(BIN)/passage directory import services_directory/sample/services.json

run: install catalogs model directory
	@if [ -n "$$TELEGRAM_BOT_TOKEN" ]; then $(BIN)/passage run; else $(BIN)/passage chat; fi

test: install catalogs model
	$(BIN)/ruff check .
	PASSAGE_MODEL=$(MODEL) $(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check .

# Re-extract user-visible texts into the template and merge them into every catalog.
extract: install
	$(BIN)/pybabel extract -F locales/babel.cfg -o locales/messages.pot --no-location --omit-header -k n_:1,2 .
	$(BIN)/pybabel update -i locales/messages.pot -d locales --no-fuzzy-matching

clean:
	rm -rf $(VENV) var locales/*/LC_MESSAGES/*.mo
