# The two set-up commands of README.md: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test install clean bench-fanout bench-ingest bench-compose bench-upload bench-mymedia

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet ".[test]"
	touch $(STAMP)

install: $(STAMP)

run: install
	$(PY) scripts/run.py

test: install
	$(PY) scripts/with_redis.py $(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var build *.egg-info
