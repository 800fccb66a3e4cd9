# Two entry points, both self-contained on a machine with Python >= 3.11 and pip:
#   make demo   install into .venv and analyse each bundled sample_logs/ scenario into reports/
#   make test   install into .venv with the test and distributed extras, lint, and run
#               the whole suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The distributed extra too: the --scheduler tests run a LocalCluster (no skip in CI).
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,distributed]'
	touch $@

# One evidence set per incident: each folder is its own server and story.
demo: $(VENV)/.installed
	mkdir -p reports
	for d in sample_logs/*/; do \
	  n=$$(basename $$d); \
	  $(BIN)/smtp-forensics analyze $$d -o reports/$$n.html --json reports/$$n.json || exit $$?; \
	done

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest

bench: $(VENV)/.installed
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) build dist *.egg-info forensics-report.html reports
