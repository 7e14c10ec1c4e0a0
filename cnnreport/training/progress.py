"""Progress that fits where it runs: a widget in Jupyter, a text bar on a terminal, nothing in a
log file or in the report build (which sets TQDM_DISABLE=1), and a time estimate before a sweep trains."""
import os
import sys
import time

from tqdm.auto import tqdm

from cnnreport.training.store import epochs_stored

RATE = 50e9     # multiply-accumulates a second one CPU thread trains at, when no stored run of this machine says better
STARTUP = 6.0   # seconds a local worker process takes before its first epoch: start, import torch, load the data
                # (measured on this project's 2-core CPU: benchmarks/RESULTS.md)


def in_jupyter():
    """Whether this process is a Jupyter kernel (IPython is looked up, never imported)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython else None
    return shell is not None and "IPKernelApp" in shell.config


def bar(total, unit, desc=None, initial=0, verbose=True, leave=True):
    """A tqdm bar shown in Jupyter or on a terminal (unless TQDM_DISABLE is set), silent elsewhere."""
    shown = verbose and not os.environ.get("TQDM_DISABLE") and (in_jupyter() or sys.stderr.isatty())
    return tqdm(total=total, unit=unit, desc=desc, initial=initial, leave=leave, disable=not shown)


def estimate(configs, stored, workers, threads, kept=None):
    """Seconds of wall time to train `configs` on `workers` processes of `threads` threads: the
    compute of the epochs left (kept: the epochs each has already, from which it resumes;
    cnnreport.analysis.compute.compute's measure) at the rate the `stored` runs (Runs) of this CPU
    trained at, else at RATE per thread, and with several workers their start-up (STARTUP).
    Returns (seconds, where the rate comes from)."""
    from cnnreport.science.layers import layer_table, total
    from cnnreport.science.models import build_model
    from cnnreport.training.speed import cpu_name

    def work(config, images):
        macs = total(layer_table(build_model(config.model, config.kernel, config.num_filters, config.num_colours)), "mult_adds")
        return 3 * macs * images * config.epochs

    mine = [run for run in stored if run.info["cpu"] == cpu_name() and run.info["device"] == "cpu" and run.status == "finished"]
    if mine:
        rate = sum(work(r.config, r.config.train_images or r.data["train_images"]) * len(r.history) / r.config.epochs
                   for r in mine) / sum(r.final["seconds"] for r in mine)
        source = f"the rate of {len(mine)} stored runs of this CPU"
    else:
        rate, source = RATE * threads, f"a nominal {RATE / 1e9:.0f} GMAC/s a thread"
    images = next((r.data["train_images"] for r in stored), 5000)
    left = [(c.epochs - k) / c.epochs for c, k in zip(configs, kept or [0] * len(configs))]
    seconds = sum(work(c, c.train_images or images) * f for c, f in zip(configs, left)) / rate / workers
    return seconds + (STARTUP if workers > 1 else 0), source


def duration(seconds):
    """A duration as people say it: 45 s, 12 min, 3.5 h."""
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


class Epochs:
    """One bar for a sweep, counting epochs across its runs: a finished run counts whole, one in training
    by the epochs its history.csv holds (so a run that resumes starts from its stored epoch), with
    the runs finished and training beside it; silent where `bar` is. paths: {index: run folder} of
    the configs that train; the others count as finished. update() re-reads those histories."""

    def __init__(self, configs, paths, verbose=True):
        self.configs, self.paths, self.done = configs, paths, set(range(len(configs))) - set(paths)
        self.started = time.time()
        self.bar = bar(sum(c.epochs for c in configs), "epoch", "epochs", initial=self._count(), verbose=verbose)

    def _count(self):
        return sum(c.epochs if i in self.done else epochs_stored(self.paths[i]) for i, c in enumerate(self.configs))

    def finished(self, i):
        self.done.add(i)
        self.update()

    def update(self, *_):
        """Re-read the histories of the runs still training (any arguments, such as an epoch number, are ignored)."""
        training = sum(1 for i, path in self.paths.items() if i not in self.done and (path / "config.json").exists()
                       and (path / "config.json").stat().st_mtime >= self.started)
        self.bar.n = self._count()
        self.bar.set_postfix_str(f"{len(self.done)}/{len(self.configs)} runs finished, {training} training", refresh=False)
        self.bar.refresh()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.bar.close()
