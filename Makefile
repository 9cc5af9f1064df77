# vulnmark developer tasks. `make demo` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint fmt bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,lint,fast]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/vulnmark demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/test_architecture.py  # the import contract

fmt: $(STAMP)
	$(BIN)/ruff check --fix src tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/check_scale.py --tickets 100000
	$(BIN)/python benchmarks/classify_eval.py
	$(BIN)/python benchmarks/jira_sync.py --issues 20000
	$(BIN)/python benchmarks/metrics_scale.py --tickets 100000
	$(BIN)/python benchmarks/evidence_cost.py --tickets 100000

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache vulnmark-demo-report.html
