"""Sweeps: every config of a notebook's grid built from its params, trained or loaded through the
runs store, and kept as a Sweep: its runs and the setting it varies.

    s = sweep(dict(epochs=30), "num_filters", [16, 32, 64], models=["cnn", "unet"], seeds=[0, 1])
    s.table                       # one row per run
    s.where(model="cnn").runs     # its Runs, as the store keeps them

A diverged run keeps its row, says "diverged" and counts in no mean: an accuracy taken after the
loss became NaN measures nothing, and a 0 % would pull the mean down as if it were a result.
"""
import math
import time
from dataclasses import dataclass

import pandas as pd

from cnnreport import contents
from cnnreport.params import has_params, load_params, profile_settings, profile_store, swept
from cnnreport.science.metrics import METRICS
from cnnreport.training.config import Config, tell_apart
from cnnreport.training.executor import lookup, train_all
from cnnreport.training.store import shown


@dataclass(frozen=True)
class Sweep:
    """The runs of one sweep, in grid order, the setting it varies (None: a comparison of networks)
    and the row each run belongs to: its network's id, or the name a comparison gives the row
    (params `rows`, e.g. "residual network, 25 epochs")."""
    field: str
    runs: tuple
    rows: tuple = ()   # one name per run; empty: each run's model

    def value(self, run):
        """The swept setting's value in `run` (None for a comparison of networks)."""
        return getattr(run.config, self.field) if self.field else None

    def row(self, run):
        """The row `run` belongs to (see the class docstring)."""
        return self.rows[self.runs.index(run)] if self.rows else run.config.model

    def where(self, **settings):
        """The sweep of the runs whose settings match, e.g. where(model="cnn", seed=0); `value` is the
        swept one, `row` the row."""
        def get(r, k):
            return self.value(r) if k == "value" else self.row(r) if k == "row" else getattr(r.config, k)
        kept = [(r, self.row(r)) for r in self.runs if all(get(r, k) == v for k, v in settings.items())]
        return Sweep(self.field, tuple(r for r, _ in kept), tuple(n for _, n in kept) if self.rows else ())

    @property
    def table(self):
        """One row per run: row, run (its folder's name), model, value, seed, status, epochs (trained), planned (epochs set), batch_size, train_loss, val_loss,
        val_acc (final epoch), best_val_acc, seconds (training time of the run), parameters, the colour
        metrics of cnnreport.science.metrics, one_colour (the share of test pixels given the most
        frequent colour) and collapsed (one_colour >= COLLAPSED). Diverged runs: val_acc and the
        colour metrics are NaN."""
        return pd.DataFrame([dict(row=self.row(run), **row(run, self.field)) for run in self.runs])


def distinct(runs):
    """Runs without repeats (a run that several sweeps share counts once), in order."""
    return list({run.path: run for run in runs}.values())


def by_model(models, per_model=None):
    """The rows of a sweep of plain networks, each named by its model: {model: {"model": model, ...}},
    with per_model's settings for it, e.g. by_model(["cnn", "resnet"], {"resnet": {"epochs": 25}})."""
    return {m: {"model": m, **(per_model or {}).get(m, {})} for m in models}


def sweep_configs(base, field, values, rows, seeds=(0,)):
    """Every Config of the grid, built (and so validated) before anything trains: for each row
    ({name: its network and what it sets beside `base`}, see by_model), each value of `field`
    (a list, or {row: list} where rows sweep different grids, as the original report's learning
    rates) and each seed."""
    return [config for _, config in _grid(base, field, values, rows, seeds)]


def _grid(base, field, values, rows, seeds):
    """[(row name, Config)] of sweep_configs."""
    out = []
    for name, settings in rows.items():
        grid = values[name] if isinstance(values, dict) else values
        for value in grid:
            for seed in seeds:
                out.append((name, Config(**{**base, **settings, "seed": seed, **({field: value} if field else {})})))
    return out


def sweep_args(params):
    """The sweep() arguments from a sweep notebook's params (params.load_params): `seeds`, the values
    of the setting it varies (params.swept; a list, or {row: list}), every other Config field (one
    value, or {model: value}, e.g. epochs: {cnn: 30, resnet: 25}), and the rows: its `models`, each
    a row named by its id, or its `rows`, {name: {model: ..., and any setting of its own}}."""
    field = swept(params)
    if ("models" in params) == ("rows" in params):
        raise ValueError(f"a sweep names its networks by `models` or its rows by `rows`, one of the two; got {sorted(params)}")
    names = params.get("models") or list(params["rows"])
    fields = {k: v for k, v in params.items() if k in Config.names() and k != field}
    for name, v in params.items():
        if name in Config.names() and isinstance(v, dict) and set(v) != set(names):
            raise ValueError(f"{name} is given per network for {', '.join(v)}, but the sweep trains {', '.join(names)}")
    per_row = {n: {k: v[n] for k, v in fields.items() if isinstance(v, dict)} for n in names}
    rows = (by_model(params["models"], per_row) if "models" in params else
            {n: {**per_row[n], **settings} for n, settings in params["rows"].items()})
    return dict(base={k: v for k, v in fields.items() if not isinstance(v, dict)}, field=field,
                values=params[field] if field else [None], rows=rows, seeds=params["seeds"])


def trains(params):
    """Whether a notebook's params declare runs to train: networks (or rows) and seeds."""
    return ("models" in params or "rows" in params) and "seeds" in params


def is_sweep(params):
    """Whether a notebook's params declare a sweep of the profile's data: runs to train (`trains`), and
    no data sets of their own (`arms`, which a measurement such as 09_jpeg_copy trains on instead)."""
    return trains(params) and "arms" not in params


def profile_params(profile, pending=False, which=is_sweep):
    """{notebook: its params} of the notebooks whose params `which` accepts (default: the sweeps)
    under `profile`, in report order (cnnreport.contents); the notebooks the profile lists as still
    arriving (params.profile_settings) only if `pending`."""
    listed = profile_settings(profile)["pending"]
    notebooks = contents.notebooks() + [nb for nb in listed if nb not in contents.notebooks()]
    found = {nb: load_params(nb, profile) for nb in notebooks if (pending or nb not in listed) and has_params(nb, profile)}
    return {nb: p for nb, p in found.items() if which(p)}


def differing(experiments):
    """The Config fields (but the network and the seed) that take several values across experiments
    ({name: (the field it varies or None, its Configs)}) outside the experiments that vary them."""
    return [f for f in Config.names() if f not in ("model", "seed")
            and len({getattr(c, f) for field, cs in experiments.values() if field != f for c in cs}) > 1]


def experiments(profile):
    """{experiment's title: (the field it varies or None, its Configs)} of every notebook that trains
    runs under `profile` (its sweeps, and measurements on data of their own), in report order."""
    return {contents.title(nb): (swept(p), sweep_configs(**sweep_args(p)))
            for nb, p in profile_params(profile, which=trains).items()}


def _profile_args(profile, pending=False):
    """{sweep notebook: its sweep() arguments} under `profile` (pending: see profile_params)."""
    return {nb: sweep_args(p) for nb, p in profile_params(profile, pending).items()}


def profile_notebook_configs(profile, pending=False):
    """{sweep notebook: the Configs of its sweep} under `profile` (pending: see profile_params)."""
    return {nb: sweep_configs(**args) for nb, args in _profile_args(profile, pending).items()}


def profile_configs(profile, pending=False):
    """Every distinct Config the sweep notebooks of `profile` train, in report order (pending: see profile_params)."""
    configs = []
    for notebook_configs in profile_notebook_configs(profile, pending).values():
        configs += [c for c in notebook_configs if c not in configs]
    return configs


def profile_sweeps(profile, data=None, verbose=True):
    """{sweep notebook: its Sweep} under `profile`, as each notebook gets them (from
    params.profile_store(profile)): what the findings and the comparison with the original report
    read. Where every run is stored, it says so in one line; else each sweep says what it trains."""
    store, args = profile_store(profile), _profile_args(profile)
    configs = profile_configs(profile)
    if verbose and all(run is not None for run in lookup(configs, store, data)):
        print(f"{len(configs)} runs of {len(args)} sweeps loaded from {shown(store.root)}")
        verbose = False
    return {nb: sweep(**a, data=data, store=store, verbose=verbose) for nb, a in args.items()}


def sweep(base, field, values, rows, seeds=(0,), data=None, store=None, verbose=True, workers=None, scheduler=None):
    """The Sweep of the grid, every run trained (or loaded), in grid order. store: a store.Store
    or folder (params.profile_store(profile) gives a profile's; a store of committed results is
    read without data and never trains); workers: train N runs side by side in local processes;
    scheduler: on the workers of the dask cluster at this address (see executor.train_all)."""
    grid = _grid(base, field, values, rows, seeds)
    configs = [config for _, config in grid]
    name = dict(zip(configs, tell_apart(configs, always=[field]))).__getitem__

    started = time.time()
    runs = train_all(configs, data=data, store=store, workers=workers, scheduler=scheduler, name=name,
                     log=print if verbose else None)
    trained = [(c, run) for c, run in zip(configs, runs) if (run.path / "result.json").stat().st_mtime >= started]
    if verbose and trained:   # what just trained, as one compact table (runs loaded from the store say nothing more)
        print(f"trained now ({len(trained)}):")
        for c, run in trained:
            acc = "diverged" if run.status == "diverged" else f"val acc {run.final['val_acc']:5.1f} %"
            print(f"  {name(c):<32} {acc}  {len(run.history):>3} epochs  {run.final['seconds']:6.0f} s")
    return Sweep(field, tuple(runs), tuple(n for n, _ in grid) if any(n != c.model for n, c in grid) else ())


COLLAPSED = 90   # % of the test pixels given one colour from which a run reads "collapsed": it paints one colour everywhere


def one_colour(run):
    """The share (%) of the test pixels that the run's final network gives its most frequent colour,
    from its confusion matrix (NaN for a run that keeps none: a diverged one)."""
    if not (run.path / "confusion.csv").exists():
        return math.nan
    matrix = run.confusion()
    return 100 * matrix.sum(0).max().item() / matrix.sum().item()


def row(run, field=None):
    """One run as a table row (see Sweep.table)."""
    final, diverged, share = run.final, run.status == "diverged", one_colour(run)
    finite = [h["val_acc"] for h in run.history if math.isfinite(h["train_loss"]) and math.isfinite(h["val_loss"])]
    return dict(run=run.path.name, model=run.config.model, value=getattr(run.config, field) if field else None, seed=run.config.seed,
                status=run.status, epochs=len(run.history), planned=run.config.epochs, batch_size=run.config.batch_size,
                train_loss=final["train_loss"], val_loss=final["val_loss"], val_acc=math.nan if diverged else final["val_acc"],
                best_val_acc=max(finite, default=math.nan), seconds=final["seconds"], parameters=run.parameters,
                one_colour=share, collapsed=share >= COLLAPSED,
                **{m: math.nan if diverged else run.metrics[m] for m in METRICS})


def check_sweep(sweep, table, params):
    """Assert what must hold for every sweep notebook's results under any profile: one row per
    run and per (row, value), every row present, accuracies in range, diverged runs without
    an accuracy and reading "diverged", at most one best value per row, finished runs complete.

    table: stats.summary(sweep); params: the notebook's (params.load_params)."""
    args = sweep_args(params)
    rows, values = args["rows"], args["values"]
    runs = sweep.table
    n_values = sum(len(values[r]) for r in rows) if isinstance(values, dict) else len(values) * len(rows)
    assert len(runs) == n_values * len(args["seeds"]), "one row per (row, value, seed)"
    assert len(table) == n_values, "one summary row per (row, value)"
    assert set(runs.row) == set(table.row) == set(rows), "every row present"
    assert runs.val_acc.dropna().between(0, 100).all() and table["mean"].dropna().between(0, 100).all()
    assert runs.val_acc[runs.status == "diverged"].isna().all(), "a diverged run has no accuracy"
    assert (table.acc[table.runs == 0] == "diverged").all(), "a value whose every seed diverged reads 'diverged'"
    assert (table.groupby("row").best.sum() <= 1).all()
    finished = runs[runs.status == "finished"]
    assert (finished.epochs == finished.planned).all(), "every finished run trained every epoch"
