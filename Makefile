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

.PHONY: help book test lint unit nbval book-strict browser serve lab notebooks clean setup python-setup assets bench matrix nginx

help:
	@echo "make book       build the site into _build/html (sets up .venv and front-end assets first)"
	@echo "make test       ruff, unit and vector tests, nbval on every notebook, strict book build"
	@echo "make serve      serve _build/html on http://127.0.0.1:8000"
	@echo "make lab        JupyterLab on notebooks/ (Python only, no npm; flags: make lab LAB_ARGS=\"--no-browser --port 8899\")"
	@echo "make notebooks  re-execute the notebooks in place (refresh committed outputs)"
	@echo "make bench      measure validators, notebooks and site builds (BENCH_ARGS=--with-test adds make test)"
	@echo "make matrix     regenerate book/libraries.md: what PyJWT, joserfc, jwcrypto, Authlib check"
	@echo "make clean      remove _build, .venv and node_modules"

# .venv is (re)made when missing or older than requirements.txt / pyproject.toml. The first time takes
# a few minutes: each step says what it does, and pip shows what it collects and installs.
$(STAMP): requirements.txt pyproject.toml
	@echo "setup 1/3: the virtual environment $(VENV) (Python: $(PYTHON))"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "setup 2/3: the pinned packages of requirements.txt, joselab included (pip's progress below)"
	$(BIN)/python -m pip install --progress-bar off -r requirements.txt
	@echo "setup 3/3: the notebooks' kernel, \"Python 3 (joselab)\", inside $(VENV)"
	@$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (joselab)" >/dev/null
	@touch $@

# Python alone (what `make lab` needs); `setup` adds the site's front-end files (npm).
python-setup: $(STAMP)

setup: $(STAMP) $(ASSETS) $(VENDOR)/joselab-widgets.js $(VENDOR)/joselab-workbench.js $(VENDOR)/joselab-workbench-ui.js nginx

# Chapter 8 measures Debian's nginx (its default header buffers) on 127.0.0.1. Installed where missing
# when running as root (as CI does); apt's policy-rc.d or a missing init keeps the packaged service
# from starting, and the book never uses it: joselab.algorithms runs its own nginx in a temp prefix.
nginx:
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || { \
	  if [ "$$(id -u)" = 0 ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >/dev/null \
	    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >/dev/null; }; \
	  else echo "nginx is missing: run 'sudo apt-get install nginx' (chapter 8 measures it)" >&2; exit 1; fi; }

# Front-end files the site serves itself (see book/about-assets in the docs): pinned npm packages,
# installed from the lock file and copied into $(VENDOR). No page loads from a third-party host.
$(ASSETS): package.json package-lock.json assets/joselab-mermaid.js
	npm ci --no-audit --no-fund --loglevel=error
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)/mermaid $(VENDOR)/requirejs $(VENDOR)/html-manager
	# Mermaid's classic build (one file, no ES module): it runs from file:// too (_ext/joselab_site.py).
	cp node_modules/mermaid/dist/mermaid.min.js node_modules/mermaid/LICENSE $(VENDOR)/mermaid/
	cp assets/joselab-mermaid.js $(VENDOR)/
	cp node_modules/requirejs/require.js $(VENDOR)/requirejs/
	# panva's jose for the token workbench: its package is ES modules only, which browsers refuse
	# under file://, so esbuild (pinned, from npm) bundles it into one classic script (window.jose).
	mkdir -p $(VENDOR)/jose && cp node_modules/jose/LICENSE.md $(VENDOR)/jose/
	node_modules/.bin/esbuild node_modules/jose/dist/webapi/index.js --bundle --format=iife --global-name=jose \
	  --minify --legal-comments=eof --log-level=warning --outfile=$(VENDOR)/jose/jose.js
	cp node_modules/@jupyter-widgets/html-manager/dist/embed-amd.js node_modules/@jupyter-widgets/html-manager/dist/*.woff* \
	   node_modules/@jupyter-widgets/html-manager/dist/*.ttf node_modules/@jupyter-widgets/html-manager/dist/*.eot \
	   node_modules/@jupyter-widgets/html-manager/dist/*.svg $(VENDOR)/html-manager/
	@touch $@

# Our own scripts are copied on their own, so that editing one does not re-run npm.
$(VENDOR)/joselab-widgets.js: assets/joselab-widgets.js $(ASSETS)
	cp $< $@

# The token workbench (workbench.md): joselab's validators, row for row, in the browser.
$(VENDOR)/joselab-workbench.js: assets/joselab-workbench.js $(ASSETS)
	cp $< $@
$(VENDOR)/joselab-workbench-ui.js: assets/joselab-workbench-ui.js $(ASSETS)
	cp $< $@

assets: $(ASSETS) $(VENDOR)/joselab-widgets.js $(VENDOR)/joselab-workbench.js $(VENDOR)/joselab-workbench-ui.js

book: setup
	$(BIN)/jupyter-book build . $(JB_FLAGS)
	@test -f _build/html/index.html && echo "site: _build/html/index.html"

lint: $(STAMP)
	$(BIN)/ruff check joselab tests notebooks bench libmatrix _ext
	$(BIN)/ruff format --check joselab tests bench libmatrix _ext

unit: $(STAMP)
	$(BIN)/pytest -n 2 -q -p no:cacheprovider tests --ignore=tests/browser

nbval: $(STAMP)
	$(BIN)/pytest -n 2 -q -p no:cacheprovider --dist loadfile --nbval $(NOTEBOOKS) --nbval-sanitize-with tests/nbval_sanitize.cfg

# The browser tests read the whole site, so the test build starts from fresh HTML: an incremental
# Sphinx build that rewrites some pages drops the other pages' index entries from searchindex.js.
# The executed notebooks stay cached (_build/.jupyter_cache), so this costs HTML writing only.
book-strict: setup
	rm -rf _build/html _build/.doctrees
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
BENCH_ARGS ?=
bench: setup
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# The library matrix (book/libraries.md, libmatrix/results.json), from the hostile corpus run through
# each library's recommended validation; tests/test_libmatrix.py fails when the committed page is stale.
matrix: $(STAMP)
	$(BIN)/python -m libmatrix

serve: book
	$(BIN)/python -m http.server --bind 127.0.0.1 --directory _build/html 8000

# JupyterLab needs Python only (no npm). LAB_ARGS go to `jupyter lab`, e.g.
# `make lab LAB_ARGS="--no-browser --port 8899"`; as root (a container) --allow-root is added.
LAB_ARGS ?=
LAB_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
lab: $(STAMP)
	$(BIN)/jupyter lab $(LAB_ROOT) $(LAB_ARGS) notebooks/

notebooks: setup   # chapter 7 needs node-oidc-provider (npm), chapter 8 nginx
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=300 $(NOTEBOOKS)

clean:
	rm -rf _build .venv node_modules _vendor .pytest_cache .ruff_cache .hypothesis
