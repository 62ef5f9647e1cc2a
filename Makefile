# Every target creates .venv when it is missing, so a fresh clone needs only `make serve` or `make test`.
# One .venv, one stamp per set of extras installed in it: `make serve` installs what serving
# needs (plus EXTRAS, e.g. `make serve EXTRAS=tf` for a Keras model, EXTRAS=redis for the Redis
# store); every other target installs everything (ALL). `make test` after `make serve` adds the
# rest to the same venv; `make serve` after `make test` installs nothing (ALL holds any EXTRAS).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
ALL    := test,tf,browser,redis,lab
EXTRAS ?=
comma  := ,
STAMP  := $(VENV)/.installed-stamp
SERVE_STAMP := $(VENV)/.installed-serve$(if $(EXTRAS),-$(subst $(comma),-,$(EXTRAS)))

.PHONY: setup serve classroom test test-lowest lint lab lab-solutions conformance bench doctor learner clean fuzz

# A wheelhouse/ folder at the top (the offline workshop of docs/instructor.md) is where every
# install then comes from, pip itself and the build backend included: no target reaches the
# network. Without one, pip's own settings apply (PIP_NO_INDEX, PIP_FIND_LINKS, an index).
WHEELHOUSE := $(wildcard wheelhouse)
PIP_FROM   := $(if $(WHEELHOUSE),--no-index --find-links $(WHEELHOUSE))

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet $(PIP_FROM) --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet $(PIP_FROM) -e '.[$(ALL)]'
	touch $(STAMP)

# --no-compile: byte-compiling every installed module took 11 of the install's 21 s; Python
# compiles what the server imports on first use instead (and the venv is 140 MB smaller).
$(SERVE_STAMP): pyproject.toml | $(BIN)/python
	if [ $(STAMP) -nt pyproject.toml ]; then echo "$(VENV) already holds everything"; \
	else $(BIN)/python -m pip install --quiet --no-compile $(PIP_FROM) -e '.$(if $(EXTRAS),[$(EXTRAS)])'; fi
	touch $(SERVE_STAMP)

setup: $(STAMP)

# make serve HOST=0.0.0.0 PORT=8080; make serve LAN=1 serves the local network and prints a QR
# code of the session's link for a phone (LAN=192.168.1.20 names the address to put in it).
HOST ?= 127.0.0.1
PORT ?= 8000
LAN  ?=
serve: $(SERVE_STAMP)
	$(BIN)/python -m serving --train-default-model --host $(HOST) --port $(PORT) \
		$(if $(filter 1 yes true,$(LAN)),--lan,$(if $(LAN),--lan $(LAN)))

# make classroom: the server on the workshop network (every interface, as make serve LAN=1) and
# a classroom on it (course classroom start): the join code, the learners' COURSE_CLASSROOM line
# with its QR code, the instructor's page. LAN=ADDRESS names the address learners reach (default:
# this computer's on the LAN); AGENDA=one-day|two-days, TITLE="Monday". Ctrl-C stops the server.
AGENDA ?=
TITLE  ?=
CLASSROOM_URL = $(if $(filter-out 1 yes true,$(LAN)),--url http://$(LAN):$(PORT),--lan --port $(PORT))
classroom: $(SERVE_STAMP)
	$(BIN)/python -m serving --train-default-model --host 0.0.0.0 --port $(PORT) & server=$$!; \
	trap 'kill -INT $$server 2>/dev/null; wait $$server' INT TERM; \
	$(BIN)/course classroom start $(CLASSROOM_URL) --wait 300 \
		$(if $(AGENDA),--agenda $(AGENDA)) $(if $(TITLE),--title "$(TITLE)") || kill -INT $$server; \
	wait $$server

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

# make lab: JupyterLab on my-notebooks/, the learner versions, which `course lab` writes or brings
# up to date first (a notebook the learner edited is never overwritten: course/workspace.py);
# make lab-solutions: on notebooks/, the answer key, for instructors and authors. JupyterLab comes
# with setup (the lab extra), so nothing is installed here. Jupyter's own port 8888 unless PORT is
# given (its default of 8000 above is the server's: `make lab PORT=8890`); HOST as for serve.
# --allow-root only as root (containers, Codespaces), where JupyterLab refuses to start without it.
WORKSPACE ?= my-notebooks
LAB_PORT = $(if $(filter command line environment environment override,$(origin PORT)),$(PORT),8888)
LAB_ARGS = --ip $(HOST) --port $(LAB_PORT) $(if $(filter 0,$(shell id -u)),--allow-root)
lab: setup
	$(BIN)/course lab --dir $(WORKSPACE)
	$(BIN)/jupyter lab $(LAB_ARGS) --notebook-dir $(WORKSPACE)

lab-solutions: setup
	$(BIN)/jupyter lab $(LAB_ARGS) --notebook-dir notebooks

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
