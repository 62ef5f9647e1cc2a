# Every target creates .venv when it is missing, so a fresh clone needs only `make serve` or `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
EXTRAS ?= test,tf,browser,redis

.PHONY: setup serve test test-lowest lint lab conformance bench doctor learner clean fuzz

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $(STAMP)

setup: $(STAMP)

# make serve HOST=0.0.0.0 PORT=8080; make serve LAN=1 serves the local network and prints a QR
# code of the session's link for a phone (LAN=192.168.1.20 names the address to put in it).
HOST ?= 127.0.0.1
PORT ?= 8000
LAN  ?=
serve: setup
	$(BIN)/python -m serving --train-default-model --host $(HOST) --port $(PORT) \
		$(if $(filter 1 yes true,$(LAN)),--lan,$(if $(LAN),--lan $(LAN)))

lint: setup
	$(BIN)/python -m ruff check course serving tests benchmarks
	$(BIN)/python -m mypy course serving  # strict; configured in pyproject.toml [tool.mypy]

test: setup lint
	$(BIN)/python -m pytest

# The lowest versions pyproject.toml allows, on a fast subset (its own venv in .venv-lowest;
# uv from PyPI resolves them). CI runs it after `make test`.
test-lowest:
	PYTHON=$(PYTHON) .ci/lowest

conformance: setup
	$(BIN)/python -m pytest tests/serving/conformance -v

lab: setup
	$(BIN)/python -m pip install --quiet jupyterlab
	$(BIN)/jupyter lab notebooks/

fuzz: setup
	FUZZ_PROFILE=fuzz-long $(BIN)/python -m pytest tests/fuzz

bench: setup
	$(BIN)/python -m benchmarks.suite

doctor: setup
	$(BIN)/course doctor

learner: setup
	$(BIN)/course exercises build

clean:
	rm -rf $(VENV) $(VENV)-lowest build *.egg-info
