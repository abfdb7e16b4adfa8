# The two commands of the README: `make run` and `make test`. Everything else is setup they call.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test lint typecheck imports pytest sysdeps system-packages media-packages apt-install deps clean

run: deps media-packages ## set up everything, migrate, seed demo data on first start, run web + worker + scheduler
	$(BIN)/flask dev

test: deps system-packages lint ## set up and run the whole suite (lint, types, import contract, pytest)
	$(BIN)/pytest

lint: deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy app/
	$(BIN)/lint-imports

pytest: deps system-packages
	$(BIN)/pytest $(ARGS)

# Python dependencies, reinstalled only when the requirements files change.
deps: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# System packages (Debian), installed when missing: ffmpeg transcodes lectures (`make run` and the
# tests; without it the imageio-ffmpeg binary is used), Chromium drives the browser tests, curl and jq
# run seed 000's own test scripts (tests/api/seed000/).
system-packages:
	@$(MAKE) --no-print-directory apt-install PACKAGES="chromium ffmpeg jq curl"

media-packages:
	@$(MAKE) --no-print-directory apt-install PACKAGES="ffmpeg"

apt-install:
	@missing=""; \
	for p in $(PACKAGES); do command -v $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" -eq 0 ] && echo "" || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

clean:
	rm -rf $(VENV) instance/test-postgres instance/test-redis .pytest_cache .mypy_cache .ruff_cache
