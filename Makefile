# cnnreport: `make setup`, `make report`, `make test`, `make lab`, `make runs`. Variables: PYTHON,
# DATA (image folder or CIFAR-10 root; default: $CNNREPORT_DATA, else torchvision's download), RUNS
# (runs store), PROFILE (report and lab profile: smoke, quick or paper; default quick), WORKERS
# (sweeps train N runs at once in local processes; default 1, in the notebook's own process),
# SCHEDULER (sweeps train on the workers of the dask cluster at this address, e.g. tcp://host:8786).
PYTHON ?= python3
PROFILE ?= quick
VENV   := .venv
BIN    := $(VENV)/bin
ifdef DATA
export CNNREPORT_DATA := $(abspath $(DATA))
endif
ifdef RUNS
export CNNREPORT_RUNS := $(abspath $(RUNS))
endif
ifdef WORKERS
export CNNREPORT_WORKERS := $(WORKERS)
endif
ifdef SCHEDULER
export CNNREPORT_SCHEDULER := $(SCHEDULER)
endif

.PHONY: setup test report lab runs bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,cluster]'
	touch $@

test: setup
	$(BIN)/python -m pytest tests
	$(BIN)/python -m pytest --nbval notebooks

# Executes every notebook into reports/$(PROFILE)/, then report.html and report.pdf there.
report: setup
	TQDM_DISABLE=1 $(BIN)/python -m cnnreport.report --profile $(PROFILE)

# JupyterLab on notebooks/, with this environment's kernel; notebooks run there use $(PROFILE).
lab: setup
	CNNREPORT_PROFILE=$(PROFILE) JUPYTER_PATH=$(abspath $(VENV))/share/jupyter \
	$(if $(and $(filter paper,$(PROFILE)),$(if $(CNNREPORT_RUNS),,1)),CNNREPORT_RUNS=$(abspath reports/paper/runs)) \
	$(BIN)/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

# The three architectures at the seed report's defaults (kernel 3, NF 32, lr 0.001, batch 100).
runs: setup
	$(BIN)/python -m cnnreport train --model cnn --epochs 30
	$(BIN)/python -m cnnreport train --model unet --epochs 30
	$(BIN)/python -m cnnreport train --model resnet --epochs 25

bench: setup
	$(BIN)/python benchmarks/bench.py

clean:
	rm -rf $(VENV) *.egg-info
