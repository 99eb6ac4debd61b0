# Every target creates or refreshes .venv itself: on a fresh machine `make test` is all it takes.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test bench lint typecheck layers venv native clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

# The compiled X12 core (mypyc): rebuilt when its sources changed, skipped without a C compiler (pure
# Python then; under CI=true a failed build fails the run, so CI always tests the compiled code).
NATIVE_FLAGS := $(if $(filter true,$(CI)),,--allow-failure)

native: $(STAMP)
	$(BIN)/python -m parsers.native build --if-stale $(NATIVE_FLAGS)

venv: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check gateway parsers partners outbound inbox tests bench

typecheck: $(STAMP)
	$(BIN)/mypy gateway parsers partners outbound inbox

layers: $(STAMP)
	$(BIN)/lint-imports

test: $(STAMP) native lint typecheck layers
	$(BIN)/pytest -q $(PYTEST_ARGS)

demo: $(STAMP) native
	$(BIN)/python -m gateway.demo

bench: $(STAMP) native
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	-$(BIN)/python -m parsers.native clean
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build dist
