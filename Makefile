# newslake: `make run` ingests seeds/ and prints the mentions-per-actor table; `make test` runs the linters and the suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
LAKE   ?= data
export PREFECT_HOME ?= $(CURDIR)/.prefect
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export DO_NOT_TRACK ?= 1

.PHONY: setup run lint docs test bench bench-speed bench-dumps conll linking check clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/prefect server database upgrade -y >/dev/null
	touch $@

run: setup
	$(BIN)/newslake ingest seeds/articles --lake $(LAKE)
	$(BIN)/newslake actors --lake $(LAKE)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/python -m flows.sqllint sql

docs: setup
	$(BIN)/python -m flows.docs

test: setup lint
	$(BIN)/python -m pytest

bench: bench-speed bench-dumps

bench-speed: setup
	$(BIN)/python benchmarks/throughput.py
	$(BIN)/python benchmarks/synthetic_lake.py 0 100000 1000000 --flow

bench-dumps: setup
	$(BIN)/python benchmarks/dumps.py --sizes 20M,1G --nlp dictionary --dir /tmp

conll: setup
	$(BIN)/python benchmarks/conll_eval.py

linking: setup
	$(BIN)/python benchmarks/linking_eval.py

check: setup
	$(BIN)/newslake check --lake $(LAKE)

clean:
	rm -rf $(VENV) .prefect data/lake data/_work data/marts data/newslake.duckdb* data/.lock data/report.html
