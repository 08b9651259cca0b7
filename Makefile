# One command to build the book, one to run the tests; each sets up its own virtual env.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python

.PHONY: test book figures lint bench clean

$(VENV)/.stamp-test: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

$(VENV)/.stamp-book: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test,book]"
	touch $@

## make test: set up the venv and run the default (fast) test suite
test: $(VENV)/.stamp-test
	$(PY) -m pytest

## make figures: execute every notebook with papermill (QUICK=1 for the CI parameters)
figures: $(VENV)/.stamp-book
	$(PY) -m snnlib.cli figures $(if $(QUICK),--quick,)

## make book: set up, execute the notebooks, build the Jupyter Book into _build/html
book: figures
	$(VENV)/bin/jupyter-book build -W --keep-going .

lint: $(VENV)/.stamp-test
	$(VENV)/bin/ruff check snnlib tests bench notebooks

bench: $(VENV)/.stamp-test
	$(PY) bench/bench_simulate.py

clean:
	rm -rf _build
