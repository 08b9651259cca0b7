# One command to build the book, one to run the tests; each sets up its own virtual env.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python

.PHONY: test book figures lab lint bench clean

# the tests execute the notebooks and build the book too, so both use the same venv
$(VENV)/.stamp: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test,book,view]"
	touch $@

## make test: set up the venv and run the default (fast) test suite, in TEST_PROCESSES
## processes (pytest-xdist; each module runs whole in one process, see tests/conftest.py)
TEST_PROCESSES ?= 2
test: $(VENV)/.stamp
	$(PY) -m pytest -n $(TEST_PROCESSES) --dist loadscope --no-loadscope-reorder

## make figures: execute every notebook with papermill (QUICK=1 for the CI parameters)
figures: $(VENV)/.stamp
	$(PY) -m snnlib.cli figures $(if $(QUICK),--quick,)

## make book: set up, execute the notebooks, build the Jupyter Book into _build/html
## (--all rebuilds every page, so that -W sees the warnings of unchanged pages too).
## MathJax comes with the build (the sphinx-mathjax-offline package of the view extra copies
## it into _build/html/_static/mathjax): the pages render equations with no network.
book: figures
	$(VENV)/bin/jupyter-book build --all -W --keep-going .

## make lab: open the notebooks (notebooks/*.py, paired with .ipynb by jupytext.toml) in
## JupyterLab, with the project's venv as the kernel; .py files open as notebooks, MyST in
## the Markdown cells is rendered (jupyterlab-myst, view extra); saving without edits leaves
## the .py unchanged and running a notebook writes nothing the tests or the book read
## (tests/test_lab.py)
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings
lab: $(VENV)/.stamp
	mkdir -p $(LAB_SETTINGS)
	echo '{"@jupyterlab/docmanager-extension:plugin": {"defaultViewers": {"python": "Jupytext Notebook"}}}' > $(LAB_SETTINGS)/overrides.json
	$(VENV)/bin/jupyter lab --ServerApp.root_dir=. notebooks/concept.py

## make lint: style and types, as CI checks them (the same venv as make test): ruff's
## linter and formatter on the code, and mypy on the package ([tool.mypy] in pyproject.toml)
LINTED := snnlib tests bench notebooks
lint: $(VENV)/.stamp
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)
	$(PY) -m mypy

## make bench: run every benchmark script in bench/ (on demand, not part of the tests), the
## feed-forward scaling bench, then draw the Performance page's figure from the results
bench: $(VENV)/.stamp
	for script in bench/bench_*.py; do $(PY) $$script || exit 1; done
	$(PY) bench/bench_feedforward.py --scaling
	$(PY) bench/plot.py

clean:
	rm -rf _build
