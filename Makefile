# Two commands on a fresh machine:
#   make repro   create .venv, install the pinned requirements, run the whole DVC pipeline
#   make test    the same environment plus test tools, then the test suite
SHELL := /bin/bash
VENV := .venv
PYTHON := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: setup ray repro test lint bench clean-venv

$(VENV)/.installed: requirements.txt requirements-nodeps.txt constraints.txt pyproject.toml
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip==26.3
	$(PYTHON) -m pip install --quiet -r requirements.txt -c constraints.txt
	# Packages whose metadata would drag in torch: installed without their dependencies.
	$(PYTHON) -m pip install --quiet --no-deps -r requirements-nodeps.txt
	# The project's own package (src/movie_genres), editable, on top of the pinned set.
	$(PYTHON) -m pip install --quiet --no-deps -e .
	@if $(PYTHON) -m pip list 2>/dev/null | grep -qi '^torch '; then echo "torch got installed: check requirements" >&2; exit 1; fi
	touch $@

# The optional Ray engine (feature_engine.engine: ray); the tests need it, the default run does not.
$(VENV)/.installed-ray: $(VENV)/.installed requirements-ray.txt
	$(PYTHON) -m pip install --quiet -r requirements-ray.txt -c constraints.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed-ray requirements-dev.txt
	$(PYTHON) -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	touch $@

setup: $(VENV)/.installed

ray: $(VENV)/.installed-ray

# DVC ends every run that changed something with a hint to `dvc push`, remote or not: it is shown
# only when a remote is configured.
repro: setup
	@set -o pipefail; if [ -n "$$(dvc remote list)" ]; then dvc repro; \
	else PYTHONUNBUFFERED=1 dvc repro | sed -u '/to send your updates to remote storage/d'; fi

# Three workers (pytest-xdist) on two cores: one at a time the suite kept about one core busy, two kept
# 1.5 busy (the end-to-end tests wait on their subprocesses' I/O); 8:48 against 9:35 for two, at 69e223c.
test: $(VENV)/.installed-dev
	$(PYTHON) -m pytest -q -n 3

lint: $(VENV)/.installed-dev
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .
	$(PYTHON) -m mypy

bench: setup
	$(PYTHON) -m bench.svm_speed

clean-venv:
	rm -rf $(VENV)
