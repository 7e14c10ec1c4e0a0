"""Sweeps: train a grid of configs (stored runs are reused) and tabulate them beside the seed report.

    runs = sweep(dict(epochs=30), "num_filters", [16, 32, 64], models=["cnn", "unet"], seeds=[0, 1])
    table = summary(runs)      # per (model, value): mean ± std over seeds, the seed's number, the difference
    best_values(table)         # per model: the best value, the runner-up and whether the gap beats the noise

A diverged run keeps its row, says "diverged" and counts in no mean: an accuracy taken after the
loss became NaN measures nothing, and a 0 % would pull the mean down as if it were a result.
"""
import math
import time

import pandas as pd
import yaml

from cnnreport.params import PARAMS_DIR, profile_settings, profile_store
from cnnreport.science.metrics import DECODINGS, METRICS
from cnnreport.training.executor import train_all
from cnnreport.training.progress import bar
from cnnreport.training.train import Config, load_run

# ----------------------------------------------------------------------------- the seed report's numbers

# Final val acc (%) after 30 epochs at kernel 3, by swept field, model and value. The kernel sweep
# is a figure only (kernel 3 best for both). The CNN's NF sweep has a second column in the report's
# summary table, apparently the best epoch: "num_filters_best".
SEED_REPORT = {
    "num_filters": {
        "cnn": {16: 43.2, 32: 45.2, 48: 44.0, 64: 45.4, 80: 44.3, 96: 46.0, 128: 45.3},
        "unet": {16: 55.0, 32: 56.4, 48: 56.4, 64: 57.4, 80: 56.1, 96: 56.8, 128: 56.5},
    },
    "num_filters_best": {"cnn": {16: 43.2, 32: 45.4, 48: 44.2, 64: 45.8, 80: 46.0, 96: 46.7, 128: 46.7}},
    "num_filters_loss": {"cnn": {16: 1.5906, 32: 1.5095, 48: 1.5207, 64: 1.5019, 80: 1.5415, 96: 1.4845, 128: 1.5095}},
    "num_filters_seconds": {"cnn": {16: 459, 32: 646, 48: 838, 64: 1071, 80: 1288, 96: 1665, 128: 2379}},
    "lr": {
        "cnn": {1.0: 7.4, 0.1: 41.5, 0.01: 46.7, 0.001: 45.5, 0.0001: 41.5, 0.00001: 27.3},
        "unet": {10.0: 39.8, 1.0: 61.2, 0.1: 54.0, 0.01: 57.6, 0.001: 56.4, 0.0001: 45.7},
    },
    "kernel": {},
    # NF 32, kernel 3, lr 0.001; resnet: NF not stated, 25 epochs. Times on the student's machine.
    "final": {
        "cnn": dict(epochs=30, train_loss=1.4972, val_loss=1.5197, val_acc=44.7, seconds=635),
        "unet": dict(epochs=30, train_loss=1.2096, val_loss=1.2101, val_acc=56.4, seconds=694),
        "resnet": dict(epochs=25, train_loss=0.9064, val_loss=0.8474, val_acc=70.5, seconds=4359),
    },
}

# The settings the seed report concludes are best (for the U-Net's learning rate it states none).
SEED_CHOICES = {"num_filters": {"cnn": 96, "unet": 64}, "kernel": {"cnn": 3, "unet": 3}, "lr": {"cnn": 0.01}}

SHORT = {"num_filters": "nf", "kernel": "k", "lr": "lr", "seed": "seed", "epochs": "epochs", "batch_size": "bs"}


def seed_numbers(field):
    """{model: {value: val acc}} of the seed report for a swept field; for "final", {model: val acc}."""
    if field == "final":
        return {m: r["val_acc"] for m, r in SEED_REPORT["final"].items()}
    return SEED_REPORT.get(field, {})

# ----------------------------------------------------------------------------- running a sweep


def sweep_configs(base, field, values, models, seeds=(0,), per_model=None):
    """Every Config of the grid, built (and so validated) before anything trains.

    values: a list, or {model: list} where models sweep different grids (the seed's LR sweeps).
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


# The setting each sweep notebook varies; params/<profile>/<notebook>.yaml gives its grid.
SWEPT = {"03_num_filters": "num_filters", "04_learning_rate": "lr", "05_kernel_size": "kernel",
         "06_architectures": None, "07_colour_quality": "rebalance", "09_precision": "amp", "10_size": "num_filters"}


def sweep_args(notebook, params):
    """The sweep() arguments of a sweep notebook from its params: `models`, `seeds`, `values`
    (the grid of SWEPT[notebook]; a list, or {model: list}) and Config fields, each one value
    or {model: value}, e.g. epochs: {cnn: 30, resnet: 25}."""
    fields = {k: v for k, v in params.items() if k in Config.names()}
    return dict(base={k: v for k, v in fields.items() if not isinstance(v, dict)}, field=SWEPT.get(notebook),
                values=params.get("values", [None]), models=params["models"], seeds=params["seeds"],
                per_model={m: {k: v[m] for k, v in fields.items() if isinstance(v, dict)} for m in params["models"]})


def _profile_args(profile, pending=False):
    """{sweep notebook: its sweep() arguments} under `profile`; the notebooks whose runs the profile
    lists as still arriving (params.profile_settings) only if `pending`."""
    left_out = () if pending else profile_settings(profile)["pending"]
    return {nb: sweep_args(nb, yaml.safe_load((PARAMS_DIR / profile / f"{nb}.yaml").read_text()))
            for nb in SWEPT if nb not in left_out}


def profile_notebook_configs(profile, pending=False):
    """{sweep notebook: the Configs of its sweep} under `profile` (pending: see _profile_args)."""
    return {nb: sweep_configs(**args) for nb, args in _profile_args(profile, pending).items()}


def profile_configs(profile, pending=False):
    """Every distinct Config the sweep notebooks of `profile` train, in notebook order (pending: see _profile_args)."""
    configs = []
    for notebook_configs in profile_notebook_configs(profile, pending).values():
        configs += [c for c in notebook_configs if c not in configs]
    return configs


def profile_sweeps(profile, data=None, verbose=True):
    """{sweep notebook: its sweep's runs} under `profile`, as each notebook gets them (from
    params.profile_store(profile)): what the findings and the comparison with the seed report read."""
    store = profile_store(profile)
    return {nb: sweep(**args, data=data, store=store, verbose=verbose) for nb, args in _profile_args(profile).items()}


def sweep(base, field, values, models, seeds=(0,), per_model=None, data=None, store=None, verbose=True,
          workers=None, scheduler=None):
    """Train (or load) every run of the grid; one DataFrame row per run, in grid order.
    store: a runs.Store or folder (params.profile_store(profile) gives a profile's; a store of
    committed results is read without data and never trains); workers: train N runs side by side
    in local processes; scheduler: on the workers of the dask cluster at this address (see executor.train_all).

    Columns: model, value, seed, status, epochs, train_loss, val_loss, val_acc (final epoch),
    best_val_acc, seconds (training time of the run), parameters, the colour metrics of
    cnnreport.science.metrics, path. Diverged runs: val_acc and the colour metrics are NaN."""
    configs = sweep_configs(base, field, values, models, seeds, per_model)

    def name(c):
        return f"{c.model} {SHORT.get(field, field)}={getattr(c, field)} seed {c.seed}" if field else f"{c.model} seed {c.seed}"

    started = time.time()
    with bar(len(configs), "run", "runs", verbose=verbose) as progress:
        runs = train_all(configs, data=data, store=store, workers=workers, scheduler=scheduler, name=name,
                         done=lambda c, run: progress.update(), log=print if verbose else None)
    trained = [(c, run) for c, run in zip(configs, runs) if (run.path / "result.json").stat().st_mtime >= started]
    if verbose and trained:   # what just trained, as one compact table (runs loaded from the store say nothing more)
        print(f"trained now ({len(trained)}):")
        for c, run in trained:
            acc = "diverged" if run.status == "diverged" else f"val acc {run.final['val_acc']:5.1f} %"
            print(f"  {name(c):<32} {acc}  {len(run.history):>3} epochs  {run.final['seconds']:6.0f} s")
    df = pd.DataFrame([row(run, field) for run in runs])
    df.attrs["field"] = field
    return df


def row(run, field=None):
    """One run as a table row (see sweep)."""
    final, diverged = run.final, run.status == "diverged"
    finite = [h["val_acc"] for h in run.history if math.isfinite(h["train_loss"]) and math.isfinite(h["val_loss"])]
    return dict(model=run.config.model, value=getattr(run.config, field) if field else None, seed=run.config.seed,
                status=run.status, epochs=len(run.history), train_loss=final["train_loss"],
                val_loss=final["val_loss"], val_acc=math.nan if diverged else final["val_acc"],
                best_val_acc=max(finite, default=math.nan), seconds=final["seconds"], parameters=run.parameters,
                **{m: math.nan if diverged else run.metrics[m] for m in METRICS}, path=str(run.path))


def check_sweep(runs, table, models, values, seeds, epochs):
    """Assert what must hold for every sweep notebook's results under any profile: one row per
    run and per (model, value), every model present, accuracies in range, diverged runs without
    an accuracy and reading "diverged", at most one best value per model, finished runs complete.

    values: as for sweep ([None] for a comparison of models); epochs: a number, or {model: epochs}."""
    n_values = sum(len(values[m]) for m in models) if isinstance(values, dict) else len(values) * len(models)
    assert len(runs) == n_values * len(seeds), "one row per (model, value, seed)"
    assert len(table) == n_values, "one summary row per (model, value)"
    assert set(runs.model) == set(table.model) == set(models), "every model present"
    assert runs.val_acc.dropna().between(0, 100).all() and table["mean"].dropna().between(0, 100).all()
    assert runs.val_acc[runs.status == "diverged"].isna().all(), "a diverged run has no accuracy"
    assert (table.acc[table.runs == 0] == "diverged").all(), "a value whose every seed diverged reads 'diverged'"
    assert (table.groupby("model").best.sum() <= 1).all()
    finished = runs[runs.status == "finished"]
    expected = finished.model.map(epochs) if isinstance(epochs, dict) else epochs
    assert (finished.epochs == expected).all(), "every finished run trained every epoch"

# ----------------------------------------------------------------------------- tables


def summary(runs, seed_report=None):
    """Per (model, value): finished runs, diverged runs, mean and std of the final val acc over
    finished seeds (std only with 2+), a printable "acc" column ("45.3 ± 0.4", "diverged", or
    "45.3 (1 of 3 diverged)"), the seed report's number, ours minus theirs, mean seconds, and
    "best" marking each model's highest mean. Diverged runs count in no mean.

    seed_report: {model: {value: acc}} or {model: acc}; default: the seed report's numbers for
    the sweep's field."""
    if seed_report is None:
        seed_report = seed_numbers(runs.attrs.get("field"))
    out = []
    for (model, value), g in runs.groupby(["model", "value"], sort=False, dropna=False):
        ok = g[g.status != "diverged"]
        n, bad = len(ok), len(g) - len(ok)
        mean = ok.val_acc.mean() if n else math.nan
        std = ok.val_acc.std() if n > 1 else math.nan
        if n == 0:
            text = "diverged"
        else:
            text = f"{mean:.1f}" + (f" ± {std:.1f}" if n > 1 else "") + (f" ({bad} of {len(g)} diverged)" if bad else "")
        theirs = seed_report.get(model, math.nan)
        if isinstance(theirs, dict):
            theirs = next((v for k, v in theirs.items() if _same(k, value)), math.nan)
        out.append(dict(model=model, value=value, runs=n, diverged=bad, mean=mean, std=std, acc=text,
                        seed_report=theirs, diff=mean - theirs, seconds=ok.seconds.mean() if n else math.nan))
    table = pd.DataFrame(out)
    table["best"] = False
    for model, g in table.groupby("model", sort=False):
        if g["mean"].notna().any():
            table.loc[g["mean"].idxmax(), "best"] = True
    table.attrs["field"] = runs.attrs.get("field")
    return table


def _same(a, b):
    try:
        return math.isclose(float(a), float(b), rel_tol=1e-9)
    except (TypeError, ValueError):
        return a == b


def _larger(a, b):
    """The larger of two stds, ignoring a NaN (a value with one finished seed)."""
    known = [x for x in (a, b) if not math.isnan(x)]
    return max(known) if known else math.nan


def best_values(table):
    """Per model: the best value, the runner-up, the gap between their means and the seed spread
    (the larger std of the two), with a verdict: a gap under twice the spread is seed noise."""
    out = []
    for model, g in table.groupby("model", sort=False):
        g = g[g["mean"].notna()].sort_values("mean", ascending=False)
        if g.empty:
            out.append(dict(model=model, best=None, mean=math.nan, runner_up=None, gap=math.nan,
                            spread=math.nan, verdict="every run diverged"))
            continue
        first = g.iloc[0]
        second = g.iloc[1] if len(g) > 1 else None
        gap = first["mean"] - second["mean"] if second is not None else math.nan
        spread = _larger(first["std"], second["std"]) if second is not None else first["std"]
        if second is None:
            verdict = "only one value finished"
        elif math.isnan(spread):
            verdict = f"one seed per value: a gap of {gap:.1f} points cannot be told from seed noise"
        elif gap > 2 * spread:
            verdict = f"clear: the gap ({gap:.1f} points) is over twice the seed spread ({spread:.1f})"
        else:
            verdict = f"not clear: the gap ({gap:.1f} points) is within twice the seed spread ({spread:.1f})"
        out.append(dict(model=model, best=first["value"], mean=first["mean"],
                        runner_up=None if second is None else second["value"], gap=gap, spread=spread,
                        verdict=verdict))
    return pd.DataFrame(out)


def architecture_table(runs):
    """The architecture comparison: summary(runs) with losses, parameter counts and the seed
    report's final numbers (accuracy, epochs, seconds) beside ours."""
    table = summary(runs, seed_report=seed_numbers("final"))
    ok = runs[runs.status != "diverged"].groupby("model", sort=False)
    table["epochs"] = table.model.map(runs.groupby("model").epochs.max())
    table["train_loss"] = table.model.map(ok.train_loss.mean())
    table["val_loss"] = table.model.map(ok.val_loss.mean())
    table["parameters"] = table.model.map(runs.groupby("model").parameters.first())
    final = SEED_REPORT["final"]
    table["seed_epochs"] = [final.get(m, {}).get("epochs", math.nan) for m in table.model]
    table["seed_seconds"] = [final.get(m, {}).get("seconds", math.nan) for m in table.model]
    table["best"] = table["mean"] == table["mean"].max()  # one row per model: the best across models
    cols = ["model", "runs", "diverged", "epochs", "parameters", "train_loss", "val_loss", "acc", "mean", "std",
            "seed_report", "diff", "seconds", "seed_epochs", "seed_seconds", "best"]
    return table[cols]


def steps(table):
    """What each architectural change adds, measured as differences of mean final val acc:
    learned resampling (convtranspose - cnn), skips (unet - convtranspose), residual blocks
    (resnet - unet). The spread is the larger std of the two, NaN with one seed; the verdict
    calls a difference clear only beyond twice the spread, as best_values does."""
    t = table.set_index("model")
    out = []
    for what, a, b in (("learned down/up-sampling", "cnn", "convtranspose"), ("skip connections", "convtranspose", "unet"),
                       ("residual blocks", "unet", "resnet")):
        if a in t.index and b in t.index:
            diff, spread = t.loc[b, "mean"] - t.loc[a, "mean"], _larger(t.loc[a, "std"], t.loc[b, "std"])
            verdict = ("no difference: a model diverged" if math.isnan(diff) else
                       "one seed: spread unknown" if math.isnan(spread) else
                       "clear" if abs(diff) > 2 * spread else "within seed noise")
            out.append(dict(change=what, model=f"{b} - {a}", diff=diff, spread=spread, verdict=verdict))
    return pd.DataFrame(out)

# ----------------------------------------------------------------------------- colour quality

METRIC_NAMES = {"pixel_acc": "pixel accuracy (%)", "balanced_acc": "balanced accuracy (%)", "auc": "AuC (%)",
                "psnr": "PSNR (dB)", "colourfulness": "colourfulness", "colourfulness_true": "colourfulness of the truth"}


def metric_table(runs):
    """Per (model, value): the colour metrics of the finished seeds, mean and std (std only with
    2+ seeds), as columns <metric> and <metric>_std; diverged runs count in no mean."""
    ok = runs[runs.status != "diverged"]
    groups = ok.groupby(["model", "value"], sort=False, dropna=False)[list(METRICS)]
    table = groups.mean().join(groups.std().add_suffix("_std")).reset_index()
    table.insert(2, "runs", groups.size().values)
    return table


def rebalancing_effect(table):
    """Per model, from a metric_table of a sweep over `rebalance` (False, True): what rebalancing
    changes, rebalanced minus plain, for each metric, and the larger seed std of the two."""
    out = []
    for model, g in table.groupby("model", sort=False):
        plain, balanced = (g[g.value == v] for v in (False, True))
        if plain.empty or balanced.empty:
            continue
        for m in METRICS:
            out.append(dict(model=model, metric=m, plain=plain[m].iloc[0], rebalanced=balanced[m].iloc[0],
                            change=balanced[m].iloc[0] - plain[m].iloc[0],
                            spread=_larger(plain[f"{m}_std"].iloc[0], balanced[f"{m}_std"].iloc[0])))
    return pd.DataFrame(out)


def decodings(paths):
    """One row per (run, decoding): the colour metrics each stored run recorded for its final
    network on the test split, decoded by argmax, mean and annealed mean (see metrics.decode and
    cnnreport.training.evaluate); runs trained before decodings were recorded are left out."""
    rows = []
    for path in paths:
        run = load_run(path)
        stored = run.evaluations().get("decodings")
        if stored is None:
            continue
        c = run.config
        for d in DECODINGS:
            rows.append(dict(model=c.model, seed=c.seed, rebalance=c.rebalance, decoding=d,
                             **(run.metrics if d == "argmax" else stored[d])))
    return pd.DataFrame(rows)

# ----------------------------------------------------------------------------- ours against the seed report


# the sweeps that rerun numbers of the seed report, as the comparison names them
EXPERIMENTS = {"03_num_filters": "NF sweep", "04_learning_rate": "learning-rate sweep", "06_architectures": "architectures"}


def reproduction(sweeps):
    """One row per number of the seed report that a sweep reran: the seed's number, which epoch it
    is (final, or the best one of its NF summary table), our mean over finished seeds of the same
    epoch, the spread (std over seeds), the difference, the difference had we compared our best
    epochs, and a verdict: within noise when the difference is at most twice the spread.

    sweeps: {notebook: runs}, as profile_sweeps gives them; missing notebooks add no rows."""
    rows = []
    for notebook, column, epoch in (("03_num_filters", "num_filters", "final"), ("03_num_filters", "num_filters_best", "best"),
                                    ("04_learning_rate", "lr", "final"), ("06_architectures", "final", "final")):
        runs = sweeps.get(notebook)
        if runs is None:
            continue
        field = runs.attrs.get("field")
        for (model, value), g in runs.groupby(["model", "value"], sort=False, dropna=False):
            theirs = seed_numbers(column).get(model, math.nan)
            if isinstance(theirs, dict):
                theirs = next((v for k, v in theirs.items() if _same(k, value)), math.nan)
            if math.isnan(theirs):
                continue
            ok = g[g.status != "diverged"]
            final, best = ok.val_acc.mean(), ok.best_val_acc.mean()
            mean = best if epoch == "best" else final
            std = (ok.best_val_acc if epoch == "best" else ok.val_acc).std() if len(ok) > 1 else math.nan
            diff = mean - theirs
            verdict = ("every seed diverged" if ok.empty else "one seed: spread unknown" if math.isnan(std) else
                       "within noise" if abs(diff) <= 2 * std else "ours higher" if diff > 0 else "ours lower")
            rows.append(dict(experiment=EXPERIMENTS[notebook], model=model, field=field, value=value,
                             epochs=g.epochs.max(), epoch=epoch, seed_report=theirs,
                             runs=len(ok), mean=mean, std=std, diff=diff, best_diff=best - theirs, verdict=verdict))
    return pd.DataFrame(rows)


def seed_repeats():
    """{model: [val acc, ...]}: the seed report's final accuracies of one and the same setting (NF 32,
    kernel 3, lr 0.001, 30 epochs), which its NF sweep, LR sweep and final comparison each report:
    how far its own numbers move between runs of one setting."""
    return {m: [SEED_REPORT["num_filters"][m][32], SEED_REPORT["lr"][m][0.001], SEED_REPORT["final"][m]["val_acc"]]
            for m in ("cnn", "unet")}
