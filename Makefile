# The two commands of the README. Both create .venv when it is missing and reinstall only when
# pyproject.toml changed, so a second run starts fast.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# make run and make test are development commands: debug on, no secret key needed.
export DJANGO_DEBUG ?= 1

.PHONY: run test lint format messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py load_demo
	$(BIN)/python manage.py runserver 127.0.0.1:8000

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m pytest

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Needs GNU gettext (msgfmt); the compiled .mo files are committed so users do not need it.
messages: $(STAMP)
	$(BIN)/python manage.py makemessages -l sl --no-obsolete --ignore=.venv
	$(BIN)/python manage.py compilemessages --ignore=.venv
