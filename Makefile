PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench lint clean

$(STAMP): pyproject.toml constraints.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m sisso_lite.cli.demo --output demo_output

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/pip install -q -c constraints.txt -e '.[dev,bench]'
	$(BIN)/python -m benchmarks.run_all

lint: $(STAMP)
	$(BIN)/ruff check sisso_lite descriptors tests benchmarks examples

clean:
	rm -rf $(VENV) demo_output site

.PHONY: wheel
wheel: $(STAMP)
	rm -rf build
	$(BIN)/python -m build --wheel --outdir dist

# Documentation site into site/ (mkdocs.yml). --strict: a broken link, anchor, nav entry or
# API reference fails the build (never add -q: it also hides the warnings strict counts).
.PHONY: docs
docs: $(STAMP)
	$(BIN)/pip install -q -c constraints.txt -e '.[dev,docs]'
	NO_MKDOCS_2_WARNING=1 $(BIN)/python -m mkdocs build --strict
