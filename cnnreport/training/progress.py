"""Progress that fits where it runs: a widget in Jupyter, a text bar on a terminal, nothing in a
log file or in the report build (which sets TQDM_DISABLE=1), and a time estimate before a sweep trains."""
import os
import sys

from tqdm.auto import tqdm

RATE = 50e9   # multiply-accumulates a second one CPU thread trains at, when no stored run of this machine says better


def in_jupyter():
    """Whether this process is a Jupyter kernel (IPython is looked up, never imported)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython else None
    return shell is not None and "IPKernelApp" in shell.config


def bar(total, unit, desc=None, initial=0, verbose=True, leave=True):
    """A tqdm bar shown in Jupyter or on a terminal (unless TQDM_DISABLE is set), silent elsewhere."""
    shown = verbose and not os.environ.get("TQDM_DISABLE") and (in_jupyter() or sys.stderr.isatty())
    return tqdm(total=total, unit=unit, desc=desc, initial=initial, leave=leave, disable=not shown)


def estimate(configs, stored, workers, threads):
    """Seconds of wall time to train `configs` on `workers` processes of `threads` threads: their
    compute (cnnreport.analysis.compute.compute's measure) at the rate the `stored` runs (Runs) of this CPU
    trained at, else at RATE per thread. Returns (seconds, where the rate comes from)."""
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
    return sum(work(c, c.train_images or images) for c in configs) / rate / workers, source


def duration(seconds):
    """A duration as people say it: 45 s, 12 min, 3.5 h."""
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"
