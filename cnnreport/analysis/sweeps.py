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
    """The runs of one sweep, in grid order, and the setting it varies (None: a comparison of models)."""
    field: str
    runs: tuple

    def value(self, run):
        """The swept setting's value in `run` (None for a comparison of models)."""
        return getattr(run.config, self.field) if self.field else None

    def where(self, **settings):
        """The sweep of the runs whose settings match, e.g. where(model="cnn", seed=0); `value` is the swept one."""
        return Sweep(self.field, tuple(r for r in self.runs if all(
            (self.value(r) if k == "value" else getattr(r.config, k)) == v for k, v in settings.items())))

    @property
    def table(self):
        """One row per run: model, value, seed, status, epochs, batch_size, train_loss, val_loss, val_acc
        (final epoch), best_val_acc, seconds (training time of the run), parameters and the colour metrics
        of cnnreport.science.metrics. Diverged runs: val_acc and the colour metrics are NaN."""
        return pd.DataFrame([row(run, self.field) for run in self.runs])


def distinct(runs):
    """Runs without repeats (a run that several sweeps share counts once), in order."""
    return list({run.path: run for run in runs}.values())


def sweep_configs(base, field, values, models, seeds=(0,), per_model=None):
    """Every Config of the grid, built (and so validated) before anything trains.

    values: a list, or {model: list} where models sweep different grids (the original report's LR sweeps).
    per_model: {model: {field: value}} overrides, e.g. {"resnet": {"epochs": 25}}."""
    per_model = per_model or {}
    configs = []
    for model in models:
        grid = values[model] if isinstance(values, dict) else values
        for value in grid:
            for seed in seeds:
                settings = {**base, **per_model.get(model, {}), "model": model, "seed": seed}
                if field is not None:
                    settings[field] = value
                configs.append(Config(**settings))
    return configs


def sweep_args(params):
    """The sweep() arguments from a sweep notebook's params (params.load_params): `models`, `seeds`,
    the values of the setting it varies (params.swept; a list, or {model: list}) and every other
    Config field, one value or {model: value}, e.g. epochs: {cnn: 30, resnet: 25}."""
    field, models = swept(params), params["models"]
    fields = {k: v for k, v in params.items() if k in Config.names() and k != field}
    for name, v in params.items():
        if name in Config.names() and isinstance(v, dict) and set(v) != set(models):
            raise ValueError(f"{name} is given per network for {', '.join(v)}, but the sweep trains {', '.join(models)}")
    return dict(base={k: v for k, v in fields.items() if not isinstance(v, dict)}, field=field,
                values=params[field] if field else [None], models=models, seeds=params["seeds"],
                per_model={m: {k: v[m] for k, v in fields.items() if isinstance(v, dict)} for m in models})


def trains(params):
    """Whether a notebook's params declare runs to train: networks and seeds."""
    return "models" in params and "seeds" in params


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


def sweep(base, field, values, models, seeds=(0,), per_model=None, data=None, store=None, verbose=True,
          workers=None, scheduler=None):
    """The Sweep of the grid, every run trained (or loaded), in grid order. store: a store.Store
    or folder (params.profile_store(profile) gives a profile's; a store of committed results is
    read without data and never trains); workers: train N runs side by side in local processes;
    scheduler: on the workers of the dask cluster at this address (see executor.train_all)."""
    configs = sweep_configs(base, field, values, models, seeds, per_model)
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
    return Sweep(field, tuple(runs))


def row(run, field=None):
    """One run as a table row (see Sweep.table)."""
    final, diverged = run.final, run.status == "diverged"
    finite = [h["val_acc"] for h in run.history if math.isfinite(h["train_loss"]) and math.isfinite(h["val_loss"])]
    return dict(model=run.config.model, value=getattr(run.config, field) if field else None, seed=run.config.seed,
                status=run.status, epochs=len(run.history), batch_size=run.config.batch_size,
                train_loss=final["train_loss"], val_loss=final["val_loss"], val_acc=math.nan if diverged else final["val_acc"],
                best_val_acc=max(finite, default=math.nan), seconds=final["seconds"], parameters=run.parameters,
                **{m: math.nan if diverged else run.metrics[m] for m in METRICS})


def check_sweep(sweep, table, params):
    """Assert what must hold for every sweep notebook's results under any profile: one row per
    run and per (model, value), every model present, accuracies in range, diverged runs without
    an accuracy and reading "diverged", at most one best value per model, finished runs complete.

    table: stats.summary(sweep); params: the notebook's (params.load_params)."""
    args = sweep_args(params)
    models, values = args["models"], args["values"]
    runs = sweep.table
    n_values = sum(len(values[m]) for m in models) if isinstance(values, dict) else len(values) * len(models)
    assert len(runs) == n_values * len(args["seeds"]), "one row per (model, value, seed)"
    assert len(table) == n_values, "one summary row per (model, value)"
    assert set(runs.model) == set(table.model) == set(models), "every model present"
    assert runs.val_acc.dropna().between(0, 100).all() and table["mean"].dropna().between(0, 100).all()
    assert runs.val_acc[runs.status == "diverged"].isna().all(), "a diverged run has no accuracy"
    assert (table.acc[table.runs == 0] == "diverged").all(), "a value whose every seed diverged reads 'diverged'"
    assert (table.groupby("model").best.sum() <= 1).all()
    finished = runs[runs.status == "finished"]
    epochs = {m: args["per_model"][m].get("epochs", args["base"].get("epochs", Config.epochs)) for m in models}
    assert (finished.epochs == finished.model.map(epochs)).all(), "every finished run trained every epoch"
