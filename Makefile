# The two commands: `make run` (set up, then start the portal) and `make test` (set up, then
# run the whole suite). Everything they need is installed here, into .venv and node_modules.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
HOST ?= 127.0.0.1
export DJANGO_SETTINGS_MODULE := portal.settings

.PHONY: setup run test lint fmt compile migrate clean slither photos

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

migrate: setup
	$(PY) manage.py migrate --noinput

# The portal names itself by the address it serves (links in e-mails, its own URLs in manifests).
run: migrate
	$(PY) manage.py collectstatic --noinput -v 0
	PORTAL_BASE_URL="$${PORTAL_BASE_URL:-http://$(HOST):$(PORT)}" exec $(PY) manage.py devstack --host $(HOST) --port $(PORT)

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

# Real photographs for the matcher's tests and bench/audit.py's quality section: Debian's
# wallpaper packages (tests/fixtures/photos.py says which); needs root, as apt-get does.
PHOTO_PACKAGES := plasma-workspace-wallpapers mate-backgrounds gnome-backgrounds \
	lomiri-wallpapers-16.04 lomiri-wallpapers ukui-wallpapers
photos:
	@dpkg -s $(PHOTO_PACKAGES) >/dev/null 2>&1 || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(PHOTO_PACKAGES) >/dev/null; }
	@dpkg -s $(PHOTO_PACKAGES) >/dev/null

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

fmt: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Slither on the contracts (contracts/SECURITY.md: what it reports and why each finding left is
# accepted); fails on any finding of medium impact or above. Its own venv: its pins are its own.
SLITHER_VENV := .venv-slither
$(SLITHER_VENV)/.installed: requirements-slither.txt
	@test -x $(SLITHER_VENV)/bin/python || $(PYTHON) -m venv $(SLITHER_VENV)
	$(SLITHER_VENV)/bin/python -m pip install --disable-pip-version-check -q -r requirements-slither.txt
	@touch $@

slither: $(SLITHER_VENV)/.installed node_modules/.installed
	@mkdir -p var
	node contracts/compile.js --standard-input var/slither-input.json
	$(SLITHER_VENV)/bin/slither var/slither-input.json --config-file slither.config.json

clean:
	rm -rf var/celery var/static
