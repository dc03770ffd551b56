# joselab: the two commands are `make book` and `make test`; both set up what they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Vendored front-end files land in _vendor/_static/vendor, which Sphinx copies into the site's
# _static/vendor through html_extra_path (files under html_static_path itself would be added to every
# page by Jupyter Book).
VENDOR := _vendor/_static/vendor
ASSETS := $(VENDOR)/.installed
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))
JB_FLAGS := --warningiserror --keep-going --builder html
# Notebooks run with the repository's package, never the network.
export PYTHONHASHSEED := 0
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: help book test lint unit nbval book-strict browser serve lab notebooks clean setup assets bench

help:
	@echo "make book       build the site into _build/html (sets up .venv and front-end assets first)"
	@echo "make test       ruff, unit and vector tests, nbval on every notebook, strict book build"
	@echo "make serve      serve _build/html on http://127.0.0.1:8000"
	@echo "make lab        JupyterLab on notebooks/"
	@echo "make notebooks  re-execute the notebooks in place (refresh committed outputs)"
	@echo "make bench      measure builds, make test, notebooks and validators (after make test)"
	@echo "make clean      remove _build, .venv and node_modules"

# .venv is (re)made when missing or older than requirements.txt / pyproject.toml.
$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (joselab)" >/dev/null
	@touch $@

setup: $(STAMP) $(ASSETS)

# Front-end files the site serves itself (see book/about-assets in the docs): pinned npm packages,
# installed from the lock file and copied into $(VENDOR). No page loads from a third-party host.
$(ASSETS): package.json package-lock.json assets/joselab-widgets.js assets/joselab-mermaid.js
	npm ci --no-audit --no-fund --loglevel=error
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)/mermaid $(VENDOR)/requirejs $(VENDOR)/html-manager
	# Mermaid's classic build (one file, no ES module): it runs from file:// too (_ext/joselab_site.py).
	cp node_modules/mermaid/dist/mermaid.min.js node_modules/mermaid/LICENSE $(VENDOR)/mermaid/
	cp assets/joselab-mermaid.js $(VENDOR)/
	cp node_modules/requirejs/require.js $(VENDOR)/requirejs/
	cp assets/joselab-widgets.js $(VENDOR)/
	cp node_modules/@jupyter-widgets/html-manager/dist/embed-amd.js node_modules/@jupyter-widgets/html-manager/dist/*.woff* \
	   node_modules/@jupyter-widgets/html-manager/dist/*.ttf node_modules/@jupyter-widgets/html-manager/dist/*.eot \
	   node_modules/@jupyter-widgets/html-manager/dist/*.svg $(VENDOR)/html-manager/
	@touch $@

assets: $(ASSETS)

book: setup
	$(BIN)/jupyter-book build . $(JB_FLAGS)
	@test -f _build/html/index.html && echo "site: _build/html/index.html"

lint: $(STAMP)
	$(BIN)/ruff check joselab tests notebooks bench
	$(BIN)/ruff format --check joselab tests bench

unit: $(STAMP)
	$(BIN)/pytest -n 2 -q -p no:cacheprovider tests --ignore=tests/browser

nbval: $(STAMP)
	$(BIN)/pytest -n 2 -q -p no:cacheprovider --dist loadfile --nbval $(NOTEBOOKS) --nbval-sanitize-with tests/nbval_sanitize.cfg

book-strict: setup
	$(BIN)/jupyter-book build . $(JB_FLAGS)

# The built site in Debian's chromium (skips, saying why, where chromium is not installed).
browser: $(STAMP)
	$(BIN)/pytest -q -p no:cacheprovider -rs tests/browser

test: setup
	@start=$$(date +%s); \
	for stage in lint unit nbval book-strict browser; do \
	  t0=$$(date +%s); $(MAKE) --no-print-directory $$stage || exit $$?; \
	  echo "stage $$stage: $$(( $$(date +%s) - t0 ))s"; \
	done; echo "make test: $$(( $$(date +%s) - start ))s"

# Timings in a throwaway copy of the tree (site builds, make test, notebooks) and of the validators
# against jwcrypto, PyJWT and joserfc; prints a table and writes _build/bench.json. See book/performance.md.
bench: setup
	$(BIN)/python bench/run.py

serve: book
	$(BIN)/python -m http.server --bind 127.0.0.1 --directory _build/html 8000

lab: setup
	$(BIN)/jupyter lab notebooks/

notebooks: setup
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=300 $(NOTEBOOKS)

clean:
	rm -rf _build .venv node_modules _vendor .pytest_cache .ruff_cache .hypothesis
