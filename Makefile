# cnnreport: `make setup`, `make report`, `make reproduce`, `make test`, `make lab`, `make runs`,
# `make paper`, `make paper-runs`, `make diff`. Variables: PYTHON, DATA (image folder or CIFAR-10 root; default: $CNNREPORT_DATA,
# else torchvision's download), RUNS (runs store), PROFILE (smoke, quick or paper; default: paper for
# report and reproduce, quick for lab), WORKERS (sweeps train N runs at once in local processes;
# default 2 on a CPU of 2 or more cores, else 1), SCHEDULER (sweeps train on the workers of the dask
# cluster at this address, e.g. tcp://host:8786); for reproduce, NOTEBOOK, MODEL and SEEDS choose runs; for
# paper-runs, NOTEBOOK names the notebook whose paper runs to make.
PYTHON ?= python3
PORT   ?= 8888
VENV   := .venv
# what Jupyter adds to a notebook's language details, stripped with its outputs
STRIP_KEYS := --extra-keys 'metadata.language_info.version metadata.language_info.codemirror_mode metadata.language_info.file_extension metadata.language_info.mimetype metadata.language_info.nbconvert_exporter metadata.language_info.pygments_lexer'
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

.PHONY: setup test report paper reproduce paper-runs diff lab runs bench clean

setup: $(VENV)/.installed

# The git filter keeps committed notebooks output-free whatever saved them (nbstripout, in this
# checkout's .git; outside a git checkout there is nothing to configure).
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[report,cluster,dev]'
	if git rev-parse --git-dir >/dev/null 2>&1; then \
	    git config filter.nbstripout.clean "'$(abspath $(BIN))/python' -m nbstripout --keep-id $(STRIP_KEYS)" && \
	    git config filter.nbstripout.smudge cat && git config filter.nbstripout.required true && \
	    attributes="$$(git rev-parse --git-path info/attributes)" && mkdir -p "$$(dirname "$$attributes")" && \
	    { grep -qs 'ipynb filter=nbstripout' "$$attributes" || echo '*.ipynb filter=nbstripout' >> "$$attributes"; }; fi
	touch $@

test: setup
	$(BIN)/python -m pytest tests
	$(BIN)/python -m pytest --nbval notebooks

# Executes every notebook into build/report/$(PROFILE)/ (again only where something it depends on
# changed since the last build there; FORCE=1 executes all), then report.html and report.pdf there.
# The paper profile (the default) renders the committed runs: no data, minutes, nothing trains.
# (`exec`: a kill of make reaches the build, which stops everything it started.)
report: setup
	exec env TQDM_DISABLE=1 $(BIN)/python -m cnnreport.report --profile $(or $(PROFILE),paper) $(if $(FORCE),--force)

# The committed paper report, reports/paper/report.html and .pdf, rebuilt from the committed runs,
# every notebook executed afresh (--force).
paper: setup
	exec env TQDM_DISABLE=1 $(BIN)/python -m cnnreport.report --profile paper --out reports/paper --force

# Retrains the chosen runs of $(PROFILE) on DATA into build/reproduce/$(PROFILE)/runs (or RUNS) and
# compares them with the committed ones: build/reproduce/$(PROFILE)/comparison.csv and .html.
reproduce: setup
	exec $(BIN)/python -m cnnreport.reproduce --profile $(or $(PROFILE),paper) $(if $(RUNS),--runs $(RUNS)) \
	    $(if $(NOTEBOOK),--notebook $(NOTEBOOK)) $(if $(MODEL),--model $(MODEL)) $(if $(SEEDS),--seeds $(SEEDS))

# Trains the paper runs of NOTEBOOK that the committed store (reports/paper/runs) lacks, on DATA (the
# paper's data), refusing where they would mix machines in one sweep; says what to `git add -f`, and
# takes NOTEBOOK out of params/paper/profile.yaml's pending list once every run is there.
paper-runs: setup
	$(if $(NOTEBOOK),,$(error give the notebook: make paper-runs NOTEBOOK=<name>))
	exec $(BIN)/python -m cnnreport.paper_runs $(NOTEBOOK)

# What differs between two runs (A, B: run folders), or between the runs of a store (A) or two (A, B)
# paired by the one setting BY (e.g. BY=precision); HTML=page.html also writes it as a page.
diff: setup
	$(if $(A),,$(error give what to compare: make diff A=<run or store> [B=<run or store>] [BY=<setting>]))
	$(BIN)/python -m cnnreport diff $(A) $(B) $(if $(BY),--by $(BY)) $(if $(HTML),--html $(HTML))

# JupyterLab on notebooks/ at PORT, with this environment's kernel; notebooks run there use $(PROFILE)
# and are saved without outputs. NO_BROWSER=1: no browser is opened (a remote machine, a container).
lab: setup
	CNNREPORT_PROFILE=$(or $(PROFILE),quick) JUPYTER_PATH=$(abspath $(VENV))/share/jupyter \
	$(BIN)/jupyter lab --notebook-dir=notebooks --port=$(PORT) $(if $(NO_BROWSER),--no-browser) \
	    --ContentsManager.pre_save_hook=cnnreport.report.lab.strip_outputs $(if $(filter 0,$(shell id -u)),--allow-root)

# The three architectures at the original report's defaults (kernel 3, NF 32, lr 0.001, batch 100).
runs: setup
	$(BIN)/python -m cnnreport train --model cnn --epochs 30
	$(BIN)/python -m cnnreport train --model unet --epochs 30
	$(BIN)/python -m cnnreport train --model resnet --epochs 25

bench: setup
	$(BIN)/python benchmarks/bench.py

clean:
	rm -rf $(VENV) *.egg-info
