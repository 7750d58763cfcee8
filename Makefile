# Two commands do everything: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
FLASK  := $(BIN)/flask --app app

.PHONY: run test install translations serve clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed translations

# Compile the zh_CN / en catalogs (.po -> .mo); the .mo files are build output.
translations: $(VENV)/.installed
	$(BIN)/python -m translations.catalog

run: install
	$(FLASK) init-db
	$(FLASK) seed-demo --if-empty
	@echo "Open http://$(HOST):$(PORT)/ and log in with one of the accounts above."
	$(FLASK) run --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-dev translations
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
