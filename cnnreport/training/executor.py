"""Where a sweep's runs train: side by side in a pool of local worker processes (`workers=N`; on
a CPU of 2 or more cores two by default), one after another in this process (`workers=1`; the
default on a GPU), or on the workers of a dask cluster (`scheduler=` its address). The pool and
the cluster sit behind the same concurrent.futures.Executor interface.

Small nets leave cores idle, so two runs on one thread each finish sooner than the same runs on
two threads one after the other (benchmarks/RESULTS.md). Runs already in the store are loaded,
never submitted. Local
processes train straight into the store (its checkpoints and locks included); a dask worker needs
no shared filesystem: it trains in a scratch store of its own and hands the finished run's files
back, which this process writes into its store (install).
"""
import atexit
import ctypes
import functools
import json
import multiprocessing
import os
import shutil
import signal
import socket
import sys
import tempfile
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager
from pathlib import Path

from cnnreport.science.data import DataError, load_category, resolve_data
from cnnreport.science.files import atomic_write
from cnnreport.science.palette import cache_path
from cnnreport.training.progress import Epochs, duration, estimate
from cnnreport.training.speed import default_device, precision, usable_cores
from cnnreport.training.store import (
    DamagedRun,
    MissingRuns,
    Store,
    find,
    install,
    load_result,
    quarantine,
    resolve_store,
    resumes_from,
    shown,
)
from cnnreport.training.train import dask_worker, find_run, load_run, locate, train

# A run that raises on a dask worker is tried this many more times. A worker that dies mid-run is
# another matter: the scheduler resubmits its runs by itself (up to distributed's allowed-failures).
RETRIES = 2


def train_all(configs, data=None, store=None, workers=None, scheduler=None, done=lambda config, run: None,
              name=str, palette=None, log=None):
    """The Run of every config, in order, training those not stored yet; `done(config, run)` is
    called as each finishes. store: a Store or a folder (default: resolve_store()); a Store
    that never trains (committed results) is read without loading any data, and MissingRuns names
    the runs it lacks. workers: 1 trains here, N > 1 in N local processes of
    usable_cores() // N threads each; None reads $CNNREPORT_WORKERS (`make report WORKERS=N`),
    else default_workers(). scheduler: the address of a dask scheduler (tcp://host:8786) whose workers train every
    run; None reads $CNNREPORT_SCHEDULER (`make report SCHEDULER=...`). A failing run raises
    RuntimeError naming `name(config)`: at once here, once the others are stored in a pool.
    palette: colours to label with instead of the data's own (see data.prepare). log: called with
    one line saying how many runs the store holds and how many will train, how long for, before
    any trains; given, a bar counts the epochs while they train (progress.Epochs). Ctrl-C or a
    kernel's interrupt raises Interrupted, which says what is stored and what resumes."""
    store, (workers, scheduler) = as_store(store), _settings(workers, scheduler)
    results = lookup(configs, store, data, palette)
    missing = [c for c, run in zip(configs, results) if run is None]
    if missing and not store.trains:
        listed = ", ".join(name(c) for c in missing[:5]) + (", ..." if len(missing) > 5 else "")
        raise MissingRuns(f"{len(missing)} of {len(configs)} runs are not in {store.root}, which holds committed "
                               f"results and never trains ({listed}); `make reproduce` trains them into a store of its own")
    for c, run in zip(configs, results):
        if run is not None:
            done(c, run)
    todo = [i for i, run in enumerate(results) if run is None]
    line = f"{len(configs) - len(todo)} of {len(configs)} runs loaded from {shown(store.root)}"
    if not todo:
        if log:
            log(line)
        return results
    paths = {i: locate(configs[i], data, store.root, palette=palette)[0] for i in todo}
    resumed = {i: resumes_from(paths[i]) for i in todo}   # epochs a run cut off earlier has kept
    threads = max(1, usable_cores() // workers if workers > 1 else usable_cores())
    if log:
        stored = [run for run in results if run is not None]
        seconds, source = estimate([configs[i] for i in todo], stored, 1 if scheduler else workers, threads,
                                   [resumed[i] for i in todo])
        where = f"on the dask cluster at {scheduler}" if scheduler else f"on {workers} worker(s) of {threads} thread(s)"
        again = sum(1 for e in resumed.values() if e)
        log(f"{line}; {len(todo)} to train{f' ({_resume(again)})' if again else ''} {where}, "
            f"about {duration(seconds)} ({source})")
    with Epochs(configs, paths, verbose=log is not None) as epochs:
        try:
            if scheduler is None and workers == 1:
                for i in todo:
                    results[i] = _named(configs[i], name, lambda c: train(
                        c, data=data, runs_dir=store.root, verbose=False, palette=palette, on_epoch=epochs.update))
                    epochs.finished(i)
                    done(configs[i], results[i])
            else:
                _train_pooled(configs, todo, results, epochs, data, store.root, workers, threads, scheduler, palette,
                              name, done)
        except KeyboardInterrupt:
            raise Interrupted(configs, results, paths, name) from None
    return results


def _train_pooled(configs, todo, results, epochs, data, runs_dir, workers, threads, scheduler, palette, name, done):
    """train_all's runs in a pool of local processes or on a dask cluster, results[i] set as each
    arrives; the bar follows the runs' histories in the store meanwhile (a dask worker's only once
    its run is back)."""
    if scheduler:
        pool = _cluster(scheduler)
        submit = functools.partial(_submit_remote, data=data, runs_dir=runs_dir, palette=palette)
    else:
        # spawn, not fork: a forked child inherits torch's thread pools in whatever state they are
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_die_with_parent)
        submit = functools.partial(_submit_local, data=data, runs_dir=runs_dir, threads=threads, palette=palette)
    failures = []
    with pool as executor:
        futures = {}
        try:
            for i in todo:
                future, finish = submit(executor, configs[i])
                futures[future] = i, finish
            waiting = set(futures)
            while waiting:
                ready, waiting = wait(waiting, timeout=0.5, return_when=FIRST_COMPLETED)
                epochs.update()
                for future in ready:
                    i, finish = futures[future]
                    try:
                        results[i] = _named(configs[i], name, lambda c: finish(future.result()))
                    except RuntimeError as e:
                        failures.append(e)
                        continue
                    epochs.finished(i)
                    done(configs[i], results[i])
        except BaseException:   # Ctrl-C, a stopped kernel: the local workers stop too, not after their runs
            for process in getattr(executor, "_processes", {}).values():
                process.terminate()
            executor.shutdown(wait=False, cancel_futures=True)
            raise
    if failures:
        raise failures[0]


def _resume(n):
    return f"{n} resume{'s' if n == 1 else ''} from {'its' if n == 1 else 'their'} last epoch"


class Interrupted(KeyboardInterrupt):
    """Training stopped by Ctrl-C or a kernel's interrupt: which runs are stored, which resume from
    their last epoch next time and which start afresh, in a few lines instead of the pool's
    traceback (IPython shows _render_traceback_). Still a KeyboardInterrupt: Run All stops there."""

    def __init__(self, configs, results, paths, name):
        left = [i for i, run in enumerate(results) if run is None]
        kept = {i: resumes_from(paths[i]) for i in left}
        again = [f"{name(configs[i])} (epoch {e} of {configs[i].epochs})" for i, e in kept.items() if e]
        fresh = sum(1 for e in kept.values() if not e)
        super().__init__(f"Interrupted: {len(results) - len(left)} of {len(results)} runs are finished and stored. "
                         + (f"At the next run, {_resume(len(again))}: {', '.join(again)}" if again
                            else "At the next run, none resumes")
                         + (f"; {fresh} start{'s' if fresh == 1 else ''} from the beginning." if fresh else "."))

    def _render_traceback_(self):
        return [str(self)]


def as_store(store=None):
    """A Store from a Store, a folder or None (resolve_store(): the default store, which trains)."""
    return store if isinstance(store, Store) else Store(resolve_store(store))


def lookup(configs, store=None, data=None, palette=None):
    """The stored Run of each config, or None: in a store that never trains, by the identity its
    runs record, without loading any data; in one that trains, on the data at hand (`data`,
    labelled with `palette` if given). A damaged run (DamagedRun) stops a store that never trains,
    saying to restore it; in a store that trains it is moved aside, said in one line, and trains again."""
    store = as_store(store)
    if store.trains:
        return [_undamaged(c, data, store.root, palette) for c in configs]
    try:
        return [None if path is None else load_run(path) for path in find(store, configs)]
    except DamagedRun as e:
        raise e.advise(f"restore it from git: git checkout -- {shown(e.run)}") from None


def _undamaged(config, data, root, palette):
    """find_run, a damaged run moved aside (store.quarantine) and said on stderr, which a notebook shows too."""
    try:
        return find_run(config, data=data, runs_dir=root, palette=palette)
    except DamagedRun as e:
        print(f"{e}: moved to {shown(quarantine(e.run))}; it will retrain", file=sys.stderr)
        return None


def _settings(workers=None, scheduler=None):
    """(workers, scheduler address or None) from the arguments, else the environment, checked
    before anything is trained or submitted."""
    scheduler = scheduler or os.environ.get("CNNREPORT_SCHEDULER") or None
    given = workers or os.environ.get("CNNREPORT_WORKERS") or (1 if scheduler else default_workers())
    if not str(given).strip().isdigit() or int(given) < 1:
        raise ValueError(f"workers (CNNREPORT_WORKERS) must be a whole number >= 1, got {given!r}")
    workers = int(given)
    if scheduler and workers > 1:
        raise ValueError(f"both workers={workers} and a dask scheduler ({scheduler}) are set: choose one "
                         "(on a cluster, its workers are the pool)")
    return workers, scheduler


def default_workers():
    """2 on a CPU of 2 or more cores (one thread each: 1.3x the quick profile's sweeps on 2 cores),
    else 1 (one GPU trains one run at a time)."""
    return 2 if default_device().type == "cpu" and usable_cores() >= 2 else 1


def stop_on_signals():
    """Make SIGTERM and SIGHUP stop this process as Ctrl-C does (KeyboardInterrupt), so that a long
    command (a report build, a reproduction) stops the processes it started instead of leaving
    them to train on (see train_all)."""
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.default_int_handler)


def _named(config, name, get):
    try:
        return get(config)
    except Exception as e:
        raise RuntimeError(f"run {name(config)} failed: {type(e).__name__}: {e}") from e

# ----------------------------------------------------------------------------- a local pool


def _submit_local(pool, config, data, runs_dir, threads, palette):
    """(future of the run's directory, how to load it): local processes share the store."""
    future = pool.submit(_train_path, config, data, str(runs_dir) if runs_dir else None, threads, palette)
    return future, load_run


def _die_with_parent():
    """In a local worker (Linux): end with the process that started it, even if that one is killed
    outright (a Jupyter kernel restarted), instead of training on unseen."""
    if sys.platform.startswith("linux"):
        PR_SET_PDEATHSIG = 1   # <sys/prctl.h>
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _train_path(config, data, runs_dir, threads, palette):
    """In a local worker: train (or load) one run and return its directory."""
    return str(train(config, data=data, runs_dir=runs_dir, verbose=False, threads=threads, palette=palette).path)

# ----------------------------------------------------------------------------- a dask cluster


@contextmanager
def _cluster(address):
    """An Executor on the workers of the dask scheduler at `address`, connected for one sweep;
    leaving it early (an error, Ctrl-C) lets go of the runs not collected yet."""
    try:
        from distributed import Client
    except ImportError:
        raise ImportError("training on a dask cluster needs dask.distributed: pip install -e '.[cluster]'") from None
    with Client(address, set_as_default=False) as client:
        yield client.get_executor(retries=RETRIES)


def _submit_remote(pool, config, data, runs_dir, palette):
    """(future of the run's files, how to store them here): the task carries what the worker's run
    must match, the data's fingerprint, the palette and the store key, so that it cannot be stored
    under a key that does not describe it."""
    path, tensors, _ = locate(config, data, runs_dir, palette=palette)
    future = pool.submit(train_remote, config, resolve_data(data), tensors["data"]["fingerprint"],
                         tensors["palette"].tolist(), path.name)
    return future, functools.partial(_install, path)


def _install(path, files):
    install(path, files)
    return load_run(path)


def train_remote(config, data, fingerprint, palette, key):
    """On a dask worker: train `config` in this process's scratch store and return the finished
    run's files ({name: bytes}). The data are the worker's own $CNNREPORT_DATA, else the client's
    path `data` where it exists here (else torchvision's download); their fingerprint must be the
    client's, and the palette is the client's, so that the run is the one the client's store `key`
    names. A mismatch fails before training, naming both sides."""
    data = os.environ.get("CNNREPORT_DATA") or (data if data and Path(data).exists() else None)
    here = load_category(config.category, data)
    where = f"dask worker {dask_worker()} on {socket.gethostname()}"
    if here.fingerprint != fingerprint:
        raise DataError(f"{where} has other data than the client: {here.kind} {here.folder} has fingerprint "
                        f"{here.fingerprint}, the client's data {fingerprint}; point the worker's "
                        "CNNREPORT_DATA at the client's images")
    store = _scratch()
    atomic_write(cache_path(store / "palettes", fingerprint, config.num_colours), json.dumps(palette))
    path = locate(config, data, store)[0]
    if path.name != key:
        device = default_device()
        raise ValueError(f"{where} would train this run as {path.name}, not as the client's {key}: it computes "
                         f"in {precision(config, device)} on {device}, or runs another cnnreport store format")
    threads = int(os.environ.get("OMP_NUM_THREADS") or 0) or None  # dask's nanny sets 1 unless told otherwise
    run = train(config, data=data, runs_dir=store, verbose=False, threads=threads)
    names = [*load_result(run.path)["checksums"], "result.json"]
    files = {name: (run.path / name).read_bytes() for name in names}
    shutil.rmtree(run.path)
    return files


@functools.cache
def _scratch():
    """This worker process's scratch store (palettes stay for its next runs; runs leave once sent)."""
    path = tempfile.mkdtemp(prefix=f"cnnreport-scratch-{os.getpid()}-")
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return Path(path)
