"""Make a notebook's paper runs: `make paper-runs NOTEBOOK=<name>` (python -m cnnreport.paper_runs <name>).

Trains the runs of the notebook's paper params that the committed store (reports/paper/runs) lacks,
on the data at hand, with the same workers and resume as any sweep. First it says what it will
train and about how long; it refuses, naming the difference, where the result would mix what the
report must not: data other than the paper's (params/paper/profile.yaml), or runs of this machine
beside committed runs of the same sweep from another CPU model, device or precision (a sweep
compares runs of one machine kind). At the end it records the new runs' numbers beside the
committed ones' (tests/data/paper-numbers.json), says which files to `git add -f`
(weights and pictures are git-ignored, and kept only for the first seed of a notebook that shows
pictures: its `samples`), and once every run is there it takes the notebook out of the profile's
`pending` list.
"""
import argparse
import json
import re
import sys
from dataclasses import replace

from cnnreport import params as params_files
from cnnreport.analysis.sweeps import sweep_args, sweep_configs, trains
from cnnreport.params import ROOT, committed_store, known_data, load_params, profile_settings
from cnnreport.science.data import load_category
from cnnreport.training.config import tell_apart
from cnnreport.training.executor import lookup, stop_on_signals, train_all
from cnnreport.training.speed import cpu_name, default_device, precision
from cnnreport.training.store import number_digests, shown

NUMBERS = ROOT / "tests" / "data" / "paper-numbers.json"   # the committed runs' numbers, by run folder


def machine(run):
    """Where a run computed, as a sweep must not mix it: CPU model, device and precision."""
    return run.info["cpu"], run.info["device"], run.info["precision"]


def check_machine(configs, committed):
    """ValueError naming the difference where this machine would train `configs` on another CPU
    model, device or precision than the committed runs of the same sweep (`committed`: the stored
    Run of each config, or None)."""
    device = default_device()
    for config, run in zip(configs, committed):
        if run is None:
            continue
        here = (cpu_name(), device.type, precision(config, device))
        if here != machine(run):
            raise ValueError(f"this machine would train in {here[2]} on {here[0]} ({here[1]}), but the committed "
                             f"runs of this sweep computed in {run.info['precision']} on {run.info['cpu']} "
                             f"({run.info['device']}), e.g. {run.path.name}: a sweep compares runs of one machine kind, "
                             "so train its runs where those were trained")


def unpend(notebook, path):
    """Take `notebook` out of the `pending: [...]` line of a profile file, keeping every comment;
    False if it was not listed there."""
    text = path.read_text()
    line = re.search(r"^pending:[ \t]*\[([^\]\n]*)\]", text, re.M)
    if line is None:
        raise ValueError(f"{path}: `pending` is not a one-line list [...]: take {notebook} out of it by hand")
    listed = [name.strip() for name in line.group(1).split(",") if name.strip()]
    if notebook not in listed:
        return False
    path.write_text(text[:line.start(1)] + ", ".join(n for n in listed if n != notebook) + text[line.end(1):])
    return True


def to_add(params, runs):
    """The files of `runs` that git ignores but the report needs: the weights and pictures of the
    first seed's runs where the notebook shows pictures (`samples`)."""
    if "samples" not in params:
        return []
    first = min(params["seeds"])
    return [run.path / name for run in runs if run.config.seed == first
            for name in ("model.pt", "samples.png") if (run.path / name).exists()]


def record_numbers(runs, path=None):
    """Add the numbers of `runs` (store.number_digests) to the committed runs' numbers
    (tests/data/paper-numbers.json, by run folder) where they are not there yet; returns how many."""
    path = path or NUMBERS
    if not path.exists():
        return 0
    known = json.loads(path.read_text())
    new = {run.path.name: number_digests(run.path) for run in runs if run.path.name not in known}
    if new:
        path.write_text(json.dumps({**known, **new}, indent=1, sort_keys=True) + "\n")
    return len(new)


def paper_runs(notebook, data=None, workers=None, log=print):
    """Train the missing paper runs of `notebook` into the committed store (see the module
    docstring); returns the stored Runs of all its configs."""
    params = load_params(notebook, "paper")
    if not trains(params) or "arms" in params:
        raise ValueError(f"{notebook} declares no runs on the paper's data (its params need `models` and `seeds`, "
                         "and no `arms` of data of its own)")
    configs = sweep_configs(**sweep_args(params))
    store = committed_store("paper")
    committed = lookup(configs, store)
    missing = [c for c, run in zip(configs, committed) if run is None]
    log(f"{notebook}: {len(configs) - len(missing)} of {len(configs)} paper runs are committed in {shown(store.root)}")
    if missing:
        check_machine(configs, committed)
        fingerprint = load_category(configs[0].category, data).fingerprint
        if fingerprint != store.data:
            raise ValueError(f"the data at hand (fingerprint {fingerprint}) are not the paper's "
                             f"({known_data().get(store.data, 'unnamed')}, fingerprint {store.data}): point DATA at them")
        names = dict(zip(configs, tell_apart(configs)))
        log("to train: " + ", ".join(names[c] for c in missing))
        runs = train_all(configs, data=data, store=replace(store, trains=True), workers=workers, name=names.__getitem__,
                         log=log)
    else:
        runs = committed
    log(f"all {len(configs)} paper runs of {notebook} are in {shown(store.root)}")
    added = record_numbers(runs)
    if added:
        log(f"their numbers are recorded in {shown(NUMBERS)} ({added} new), which tests/test_paper.py holds them to")
    added = to_add(params, runs)
    if added:
        log("the report shows these, which git ignores: git add -f " + " ".join(shown(p) for p in added))
    log(f"then: git add {shown(store.root)}")
    profile = params_files.PARAMS_DIR / "paper" / "profile.yaml"
    if notebook in profile_settings("paper")["pending"] and unpend(notebook, profile):
        log(f"taken {notebook} out of `pending` in {shown(profile)}: the paper report shows it now")
    return runs


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m cnnreport.paper_runs", description=__doc__.split("\n")[0])
    ap.add_argument("notebook", help="a notebook's name, e.g. 07_architectures")
    ap.add_argument("--data", help="the paper's data (default: $CNNREPORT_DATA, else torchvision's download)")
    ap.add_argument("--workers", type=int, help="runs trained at once in local processes")
    args = ap.parse_args(argv)
    stop_on_signals()
    try:
        paper_runs(args.notebook, args.data, args.workers)
    except KeyboardInterrupt as e:
        print(f"\npaper-runs: {e or 'stopped; finished runs are stored, an unfinished one resumes next time'}",
              file=sys.stderr)
        return 130
    except (ValueError, RuntimeError, LookupError) as e:   # DataError included: one line
        print(f"paper-runs: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
