# hashkit — `make book` builds the whole book, `make test` runs the tests; each does its own set-up.
#
# The virtual environment lives outside the clone, keyed by a hash of requirements.lock and the
# Python version, so a fresh clone with an unchanged lock reuses it; any change to the lock builds
# a new one from scratch (the stamp file is written only after a complete, verified install).

PYTHON       ?= python3
VENV_ROOT    ?= $(HOME)/.cache/hashkit/venvs
LOCK_HASH    := $(shell { cat requirements.lock; $(PYTHON) -c 'import sys; print(sys.version)'; } | sha256sum | cut -c1-16)
VENV         := $(VENV_ROOT)/$(LOCK_HASH)
VENV_PY      := $(VENV)/bin/python
FASHION_DIR  := /usr/share/datasets/fashion-mnist
CHAPTERS     ?=
BOOK_ARGS    ?=

SHELL        := /bin/bash
.SHELLFLAGS  := -o pipefail -c
# Some pip configurations list local indexes that lack most packages; their warnings are noise.
PIP_QUIET    := 2>&1 | { grep -v '^WARNING: Location' || true; }

export PYTHONPATH := $(CURDIR)
export PYTHONHASHSEED := 0
export SOURCE_DATE_EPOCH := 0

.PHONY: book test bench env data browser lock clean help

help:
	@echo "make book   execute every chapter (papermill) and build the HTML into _build/html"
	@echo "make test   run the test suite (executes every chapter with smoke parameters)"
	@echo "make bench  run the benchmarks and print their table"
	@echo "make lock   rewrite requirements.lock from a fresh install of pyproject.toml's pins"

# BOOK_ARGS may span lines (a long command pasted from book/rerun.md): its newlines become spaces,
# which the shell would otherwise read as the end of the command.
define NEWLINE


endef

book: env data
	$(VENV_PY) -m hashkit.book $(if $(CHAPTERS),--chapters $(CHAPTERS)) $(subst $(NEWLINE), ,$(BOOK_ARGS))

test: env data browser
	$(VENV_PY) -m pytest

bench: env data
	$(VENV_PY) -m benchmarks

env: $(VENV)/.complete

# No prerequisite on purpose: the path already carries the lock's hash, and a fresh clone's newer
# file times must not force a rebuild of an environment that matches it.
$(VENV)/.complete:
	rm -rf "$(VENV)"
	$(PYTHON) -m venv "$(VENV)"
	"$(VENV_PY)" -m pip install --quiet -r requirements.lock $(PIP_QUIET)
	"$(VENV_PY)" -c "import torch, torchvision.ops, faiss, papermill, jupytext, jupyter_book"
	"$(VENV_PY)" -m ipykernel install --sys-prefix --name hashkit --display-name "Python (hashkit)"
	touch "$@"

# Fashion-MNIST is the embedded default: found in $HASHKIT_DATA, data/ or Debian's package.
data:
	@if [ -n "$$HASHKIT_DATA" ] && ls "$$HASHKIT_DATA"/train-images-idx3-ubyte.gz "$$HASHKIT_DATA"/fashion-mnist/train-images-idx3-ubyte.gz >/dev/null 2>&1; then :; \
	elif [ -f data/fashion-mnist/train-images-idx3-ubyte.gz ] || [ -f $(FASHION_DIR)/train-images-idx3-ubyte.gz ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "Fashion-MNIST missing: installing Debian's dataset-fashion-mnist"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null; \
	else \
		echo "Fashion-MNIST not found. Get it one of these ways:"; \
		echo "  sudo apt-get install dataset-fashion-mnist   (puts it in $(FASHION_DIR))"; \
		echo "  copy the four *-ubyte.gz files into data/fashion-mnist/"; \
		echo "  export HASHKIT_DATA=/dir/holding/the/files"; \
		exit 1; \
	fi

# The browser test renders the built book in Debian's Chromium; without it (and not root) it is skipped.
browser:
	@if ! command -v chromium >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "installing Debian's chromium for the rendered-page test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	fi

lock:
	rm -rf /tmp/hashkit-lock-venv
	$(PYTHON) -m venv /tmp/hashkit-lock-venv
	/tmp/hashkit-lock-venv/bin/pip install --quiet ".[book,test]" $(PIP_QUIET)
	{ echo "# The full pinned dependency tree that 'make' installs (pip freeze of a working environment)."; \
	  echo "# Regenerate after changing pyproject.toml: make lock"; \
	  /tmp/hashkit-lock-venv/bin/pip freeze --exclude hashkit; } > requirements.lock

clean:
	rm -rf _build book/executed
