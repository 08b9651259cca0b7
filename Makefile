# One command to build the book, one to run the tests; each sets up its own virtual env.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python

.PHONY: test book figures lint bench clean

# the tests execute the notebooks and build the book too, so both use the same venv
$(VENV)/.stamp: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test,book]"
	touch $@

## make test: set up the venv and run the default (fast) test suite
test: $(VENV)/.stamp
	$(PY) -m pytest

## make figures: execute every notebook with papermill (QUICK=1 for the CI parameters)
figures: $(VENV)/.stamp
	$(PY) -m snnlib.cli figures $(if $(QUICK),--quick,)

## make book: set up, execute the notebooks, build the Jupyter Book into _build/html
## (--all rebuilds every page, so that -W sees the warnings of unchanged pages too)
book: figures
	$(VENV)/bin/jupyter-book build --all -W --keep-going .

lint: $(VENV)/.stamp
	$(VENV)/bin/ruff check snnlib tests bench notebooks

## make bench: run every benchmark script in bench/ (on demand, not part of the tests)
bench: $(VENV)/.stamp
	for script in bench/*.py; do $(PY) $$script || exit 1; done

clean:
	rm -rf _build
