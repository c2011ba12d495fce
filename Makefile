# cpnkit — two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
PIP     = $(PY) -m pip
EXTRAS ?= all,dev
STAMP   = $(VENV)/.installed

.PHONY: install demo test test-all check lint typecheck contracts bench format clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -c constraints.txt -e ".[$(EXTRAS)]"
	touch $(STAMP)

demo: install
	$(VENV)/bin/cpnkit bench paper --topology abilene --tasks 300 --seeds 5 --backend process --out results/demo --json results/demo/bench_paper.json

test: install
	$(PY) -m pytest -q

test-all: install
	$(PY) -m pytest -q -m ""

lint: install
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(VENV)/bin/ruff format --check src tests benchmarks examples

typecheck: install
	$(VENV)/bin/mypy

contracts: install
	$(VENV)/bin/lint-imports

check: lint typecheck contracts test

bench: install
	$(PY) benchmarks/bench_sim.py --json results/bench_sim.json
	$(PY) benchmarks/bench_transfers.py --json results/bench_transfers.json
	$(PY) benchmarks/bench_transport_closed_loop.py --json results/bench_transport_closed_loop.json
	$(PY) benchmarks/bench_predictor.py --json results/bench_predictor.json
	$(PY) benchmarks/bench_paper.py --json results/bench_paper.json
	$(PY) benchmarks/bench_green.py --json results/bench_green.json
	$(PY) benchmarks/bench_rl.py --json results/bench_rl.json
	$(PY) benchmarks/bench_rl_sensitivity.py --json results/bench_rl_sensitivity.json

format: install
	$(VENV)/bin/ruff format src tests benchmarks examples
	$(VENV)/bin/ruff check --fix src tests benchmarks examples

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis .import_linter_cache results
