# make train: run the embedded default experiment; make test: run the test suite;
# make lint: ruff lint (rule set in pyproject.toml) and ruff format --check.
# Both install the project into .venv first if it is not there yet.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The pose extra's backend, installed without its dependencies: its metadata pins numpy<2 and
# pulls opencv-contrib-python (a second cv2); the extra ".[pose]" installs the ones it needs.
MEDIAPIPE := mediapipe==0.10.21
export HF_HUB_OFFLINE ?= 1
export WANDB_MODE ?= offline

.PHONY: install train test test-slow test-all lint clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip >/dev/null
	$(PY) -m pip install -e ".[dev,pose]"
	$(PY) -m pip install --no-deps "$(MEDIAPIPE)"
	touch $(STAMP)

train: $(STAMP)
	$(PY) -m deepdance.train $(ARGS)

# Two pytest-xdist workers (one torch thread each, tests/conftest.py), a whole file per worker so
# that a module's fixture runs once. ARGS='-n 0' runs in this process.
XDIST := -n 2 --dist loadfile

# The two tiers, as in lightning-hydra-template: `test` is everything but the process tier (the
# `slow` marker: real processes at length, signals, DDP, launchers, load); CI runs both.
test: $(STAMP)
	$(PY) -m pytest $(XDIST) -m "not slow" $(ARGS)

test-slow: $(STAMP)
	$(PY) -m pytest $(XDIST) -m slow $(ARGS)

test-all: $(STAMP)
	$(PY) -m pytest $(XDIST) $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check deepdance tests hydra_plugins
	$(VENV)/bin/ruff format --check deepdance hydra_plugins tests

clean:
	rm -rf logs outputs .pytest_cache
