# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= demo/company
DEMO_CUSTOMERS ?= 2000
DEMO_SEED ?= 7
WS ?= demo/ordito.duckdb
HOST ?= 127.0.0.1
PORT ?= 8765

.PHONY: demo test test-slow test-browser test-all lint typecheck bench venv clean serve

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

## demo: generate the demo company, ingest it, resolve identities, analyse journeys and VoC, score against
## ground truth, write demo/report.html, print a summary, serve the app
demo: $(STAMP)
	rm -rf $(DEMO_DIR) $(WS) $(WS).wal $(WS).d
	$(BIN)/ordito generate $(DEMO_DIR) --customers $(DEMO_CUSTOMERS) --seed $(DEMO_SEED)
	$(BIN)/ordito --workspace $(WS) ingest $(DEMO_DIR)
	$(BIN)/ordito --workspace $(WS) resolve
	$(BIN)/ordito --workspace $(WS) analyze
	$(BIN)/ordito --workspace $(WS) score $(DEMO_DIR)/ground_truth
	$(BIN)/ordito --workspace $(WS) report demo/report.html
	$(BIN)/ordito --workspace $(WS) summary
	$(BIN)/ordito --workspace $(WS) knowledge index $(DEMO_DIR)/knowledge_base
	$(BIN)/ordito --workspace $(WS) serve --host $(HOST) --port $(PORT) --demo

## test: the default suite (under 15 minutes on 2 cores); lint and types first
test: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/pytest -q

## test-slow: large demo companies and the Spark engine (needs pyspark: installed here from the `spark`
## extra, and Java 17 or later on the PATH; Spark tests skip with a reason without them)
test-slow: $(STAMP)
	$(BIN)/python -c "import pyspark" 2>/dev/null || $(BIN)/pip install -q -e ".[dev,spark]" \
		|| echo "warning: could not install pyspark; the Spark tests will be skipped"
	$(BIN)/pytest -q -m slow

test-browser: $(STAMP)
	$(BIN)/pytest -q -m browser

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

## bench: the speed figures of bench/RESULTS.md (several minutes; writes bench/results/*.json)
bench: $(STAMP)
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) demo build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
