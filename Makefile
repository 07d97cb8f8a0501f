# The two commands of the README's quick start:
#   make book   install everything pinned into .venv and build the book to _build/html
#   make test   install the same and run the whole test suite (what .ci/run calls)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: book test install chromium freeze clean

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# Warnings are errors; notebooks execute once and are cached in _build/.jupyter_cache.
book: $(STAMP)
	$(BIN)/jupyter-book build . --warningiserror --keep-going

test: $(STAMP) chromium
	$(BIN)/python -m pytest

# The browser test drives Debian's chromium (Playwright's own browser download cannot work
# offline). Installed here when missing and we may (root); otherwise the test says why it skips.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "note: chromium is not installed; the browser test will be skipped"; fi; }

# Re-freeze the exact versions after changing requirements.in.
freeze:
	rm -rf .venv-freeze && $(PYTHON) -m venv .venv-freeze
	.venv-freeze/bin/python -m pip install --quiet -r requirements.in
	{ sed -n '1,2p' requirements.txt; .venv-freeze/bin/python -m pip freeze | sed 's/^torch==\(.*\)+cpu$$/torch==\1/'; } > requirements.txt.new
	mv requirements.txt.new requirements.txt && rm -rf .venv-freeze

clean:
	rm -rf _build artifacts
