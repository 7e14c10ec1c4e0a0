"""Where a sweep's runs train: one after another in this process (the default), or side by side
in a pool of local worker processes (`workers=N`), each on its share of the cores.

Small nets leave cores idle, so two runs on one thread each finish sooner than the same runs on
two threads one after the other. Runs already in the store are loaded, never submitted.
"""
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed

from .speed import usable_cores
from .train import find_run, load_run, train


def _train_path(config, data, runs_dir, threads):
    """In a worker: train (or load) one run and return its directory."""
    return str(train(config, data=data, runs_dir=runs_dir, verbose=False, threads=threads).path)


def train_all(configs, data=None, runs_dir=None, workers=None, done=lambda config, run: None, name=str):
    """The Run of every config, in order, training those not stored yet; `done(config, run)` is
    called as each finishes. workers: 1 trains here, N > 1 in N processes of usable_cores() // N
    threads each; None reads $CNNREPORT_WORKERS (`make report WORKERS=N`), else 1. A failing run
    raises RuntimeError naming `name(config)`."""
    workers = int(workers or os.environ.get("CNNREPORT_WORKERS") or 1)
    runs = [find_run(c, data=data, runs_dir=runs_dir) for c in configs]
    for c, run in zip(configs, runs):
        if run is not None:
            done(c, run)
    todo = [i for i, run in enumerate(runs) if run is None]
    if workers == 1:
        for i in todo:
            runs[i] = _named(configs[i], name, lambda c: train(c, data=data, runs_dir=runs_dir, verbose=False))
            done(configs[i], runs[i])
        return runs
    threads = max(1, usable_cores() // workers)
    # spawn, not fork: a forked child inherits torch's thread pools in whatever state they are
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(_train_path, configs[i], data, str(runs_dir) if runs_dir else None, threads): i
                   for i in todo}
        for future in as_completed(futures):
            i = futures[future]
            runs[i] = _named(configs[i], name, lambda c: load_run(future.result()))
            done(configs[i], runs[i])
    return runs


def _named(config, name, get):
    try:
        return get(config)
    except Exception as e:
        raise RuntimeError(f"run {name(config)} failed: {type(e).__name__}: {e}") from e
