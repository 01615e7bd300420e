# The two set-up commands of README.md: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test check install clean bench-fanout bench-ingest bench-compose bench-upload bench-mymedia

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet ".[test]"
	touch $(STAMP)

install: $(STAMP)

run: install
	$(PY) scripts/run.py

# The static checks first (lint, format, types, the layer contracts), then the suite.
test: install check
	$(PY) scripts/with_redis.py $(PY) -m pytest $(PYTEST_ARGS)

check: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache --no-logo

clean:
	rm -rf $(VENV) var build *.egg-info
