# Two commands do all set-up on a fresh machine with Python 3.11: `make app` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8501

.PHONY: app test install bench lint clean assets

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

app: $(STAMP)
	$(PY) -m streamlit run app.py --server.port $(PORT)

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) benchmarks/bench_core.py
	$(PY) benchmarks/bench_cli.py
	$(PY) benchmarks/bench_app.py
	$(PY) benchmarks/bench_eval.py
	$(PY) benchmarks/bench_cost.py
	$(PY) benchmarks/bench_engine.py
	$(PY) benchmarks/bench_design.py
	$(PY) benchmarks/bench_train.py
	$(PY) benchmarks/bench_train_gpu.py

lint: $(STAMP)
	$(PY) -m ruff check dither_lab tests benchmarks scripts app.py app_pages

assets: $(STAMP)
	$(PY) scripts/make_assets.py

clean:
	rm -rf $(VENV) .pytest_cache
