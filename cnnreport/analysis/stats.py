"""What a sweep's runs say: per setting the mean and spread over seeds beside the original report's
number, the best setting and whether it beats the noise (cnnreport.analysis.claims), the
architecture comparison, the colour metrics, and every original number beside ours.

    table = summary(runs)      # per (model, value): mean ± std over seeds, the original's number, the difference
    best_values(table)         # per model: the best value, the runner-up and whether the gap beats the noise
"""
import math
import statistics

import pandas as pd

from cnnreport.analysis import claims
from cnnreport.analysis.original import ORIGINAL, original_numbers
from cnnreport.science.metrics import DECODINGS, METRICS


def summary(sweep, original=None):
    """Per (model, value) of a Sweep: finished runs, diverged runs, mean and std of the final val acc
    over finished seeds (std only with 2+), a printable "acc" column ("45.3 ± 0.4", "diverged", or
    "45.3 (1 of 3 diverged)"), the original report's number, ours minus theirs with its prediction
    interval and verdict (claims.against_single; None where the original gives no number), mean seconds, and
    "best" marking each model's highest mean where it is clearly above the runner-up
    (claims.ranking). Diverged runs count in no mean.

    original: {model: {value: acc}} or {model: acc}; default: the original report's numbers for
    the sweep's field."""
    if original is None:
        original = original_numbers(sweep.field)
    runs = sweep.table
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
        theirs = original.get(model, math.nan)
        if isinstance(theirs, dict):
            theirs = next((v for k, v in theirs.items() if _same(k, value)), math.nan)
        against = None if math.isnan(theirs) else claims.against_single(mean, std, n, theirs)
        out.append(dict(model=model, value=value, runs=n, diverged=bad, mean=mean, std=std, acc=text,
                        original=theirs, diff=mean - theirs, seconds=ok.seconds.mean() if n else math.nan,
                        interval=against, verdict=against and against.verdict))
    table = pd.DataFrame(out)
    table["best"] = False
    for model, g in table.groupby("model", sort=False):
        table.loc[g.index, "best"] = _clearly_best(g)
    return table


def _clearly_best(rows):
    """A mask over rows (mean, std, runs): True at the one whose mean is clearly the highest
    (claims.ranking), or at the only one that finished where the others diverged."""
    first, _, _, verdict = claims.ranking(list(rows["mean"]), list(rows["std"]), list(rows.runs))
    clear = verdict == "clear" or verdict == "only one value finished" and len(rows) > 1
    return [i == first and clear for i in range(len(rows))]


def _same(a, b):
    try:
        return math.isclose(float(a), float(b), rel_tol=1e-9)
    except (TypeError, ValueError):
        return a == b


def best_values(table):
    """Per model: the best value, the runner-up, the gap between their means with its interval
    (claims.ranking: Welch's, the runner-up against the best) and the verdict in words."""
    out = []
    for model, g in table.groupby("model", sort=False):
        g = g.reset_index(drop=True)
        first, second, gap, rule = claims.ranking(list(g["mean"]), list(g["std"]), list(g.runs))
        verdict = (rule if second is None else
                   f"one seed per value: a gap of {gap.diff:.1f} points has no interval" if rule == claims.ONE_SEED else
                   f"{rule}: the gap of {gap.diff:.1f} points has the 95 % interval {gap}")
        out.append(dict(model=model, best=None if first is None else g.value[first],
                        mean=math.nan if first is None else g["mean"][first],
                        runner_up=None if second is None else g.value[second], gap=math.nan if gap is None else gap.diff,
                        interval=gap, clear=rule == "clear", verdict=verdict))
    return pd.DataFrame(out)


def architecture_table(sweep):
    """The architecture comparison: summary(sweep) with losses, parameter counts and the original
    report's final numbers (accuracy, epochs, seconds) beside ours."""
    table, runs = summary(sweep, original=original_numbers("final")), sweep.table
    ok = runs[runs.status != "diverged"].groupby("model", sort=False)
    table["epochs"] = table.model.map(runs.groupby("model").epochs.max())
    table["train_loss"] = table.model.map(ok.train_loss.mean())
    table["val_loss"] = table.model.map(ok.val_loss.mean())
    table["parameters"] = table.model.map(runs.groupby("model").parameters.first())
    final = ORIGINAL["final"]
    table["original_epochs"] = [final.get(m, {}).get("epochs", math.nan) for m in table.model]
    table["original_seconds"] = [final.get(m, {}).get("seconds", math.nan) for m in table.model]
    table["best"] = _clearly_best(table.reset_index(drop=True))   # one row per model: the best across models
    cols = ["model", "runs", "diverged", "epochs", "parameters", "train_loss", "val_loss", "acc", "mean", "std",
            "original", "diff", "interval", "verdict", "seconds", "original_epochs", "original_seconds", "best"]
    return table[cols]


# The architectural changes between neighbouring networks: (change, from, to, what changes).
STEPS = (("learned down/up-sampling", "cnn", "convtranspose", "pooling, upsampling → (transposed) strided convolutions"),
         ("skip connections", "convtranspose", "unet", "encoder features and grey input concatenated"),
         ("residual blocks", "unet", "resnet", "residual blocks, NF channels at full resolution"))


def steps(table):
    """What each architectural change adds, measured as differences of mean final val acc:
    learned resampling (convtranspose - cnn), skips (unet - convtranspose), residual blocks
    (resnet - unet), each with Welch's interval and its verdict (claims.welch)."""
    t = table.set_index("model")
    out = []
    for what, a, b, _ in STEPS:
        if a in t.index and b in t.index:
            step = claims.welch(t.loc[a, "mean"], t.loc[a, "std"], t.loc[a, "runs"], t.loc[b, "mean"], t.loc[b, "std"],
                                t.loc[b, "runs"])
            out.append(dict(change=what, model=f"{b} - {a}", diff=step.diff, interval=step, verdict=step.verdict))
    return pd.DataFrame(out)


def metric_table(sweep):
    """Per (model, value) of a Sweep: the colour metrics of the finished seeds, mean and std (std
    only with 2+ seeds), as columns <metric> and <metric>_std; diverged runs count in no mean."""
    runs = sweep.table
    ok = runs[runs.status != "diverged"]
    groups = ok.groupby(["model", "value"], sort=False, dropna=False)[list(METRICS)]
    table = groups.mean().join(groups.std().add_suffix("_std")).reset_index()
    table.insert(2, "runs", groups.size().values)
    return table


def rebalancing_effect(sweep):
    """Per model, from a Sweep over `rebalance` (False, True): what rebalancing changes on each
    metric, rebalanced minus plain, mean of each and the paired interval over the seeds both have
    (claims.paired_seeds: a seed's two runs share their initial weights and batch order), at the
    metric's printed precision (claims.DIGITS)."""
    out = []
    for model in dict.fromkeys(run.config.model for run in sweep.runs):
        arms = [{r.config.seed: r for r in sweep.where(model=model, value=v).runs if r.status == "finished"}
                for v in (False, True)]
        seeds = sorted(set(arms[0]) & set(arms[1]))
        if not seeds:
            continue
        for m in METRICS:
            plain, balanced = ([arm[s].metrics[m] for s in seeds] for arm in arms)
            change = claims.paired_seeds(plain, balanced, claims.DIGITS[m])
            out.append(dict(model=model, metric=m, seeds=len(seeds), plain=statistics.fmean(plain),
                            rebalanced=statistics.fmean(balanced), change=change.diff, interval=change,
                            verdict=change.verdict))
    return pd.DataFrame(out)


# What rebalancing promises (Zhang et al.): the sign of each metric's change.
PROMISED = {"pixel_acc": -1, "balanced_acc": 1, "colourfulness": 1}


def promises_kept(effect):
    """{metric: how many networks rebalancing clearly moves the promised way (PROMISED)}, from
    rebalancing_effect rows."""
    return {m: int(((e.verdict == "clear") & (e.change * sign > 0)).sum())
            for m, sign in PROMISED.items() for e in [effect[effect.metric == m]]}


def decodings(runs):
    """One row per (Run, decoding): the colour metrics each run recorded for its final network on
    the test split, decoded by argmax, mean and annealed mean (see metrics.decode and
    cnnreport.training.evaluate); runs trained before decodings were recorded are left out."""
    rows = []
    for run in runs:
        stored = run.evaluations().get("decodings")
        if stored is None:
            continue
        c = run.config
        for d in DECODINGS:
            rows.append(dict(model=c.model, seed=c.seed, rebalance=c.rebalance, decoding=d,
                             **(run.metrics if d == "argmax" else stored[d])))
    return pd.DataFrame(rows)


# the sweeps that rerun numbers of the original report, as the comparison names them
EXPERIMENTS = {"04_num_filters": "NF sweep", "05_learning_rate": "learning-rate sweep", "07_architectures": "architectures"}


def compared(sweeps):
    """The runs `reproduction` reads: those of the sweeps that rerun the original report's numbers."""
    return [run for notebook in EXPERIMENTS if notebook in sweeps for run in sweeps[notebook].runs]


def reproduction(sweeps):
    """One row per number of the original report that a sweep reran: its number, which epoch it
    is (final, or the best one of its NF summary table), our runs' batch size, our mean over finished seeds of the same
    epoch, the spread (std over seeds), the difference, the difference had we compared our best
    epochs, and the prediction interval of one more run of ours with its verdict (claims.against_single).

    sweeps: {notebook: Sweep}, as profile_sweeps gives them; missing notebooks add no rows."""
    rows = []
    for notebook, column, epoch in (("04_num_filters", "num_filters", "final"), ("04_num_filters", "num_filters_best", "best"),
                                    ("05_learning_rate", "lr", "final"), ("07_architectures", "final", "final")):
        if notebook not in sweeps:
            continue
        field = sweeps[notebook].field
        for (model, value), g in sweeps[notebook].table.groupby(["model", "value"], sort=False, dropna=False):
            theirs = original_numbers(column).get(model, math.nan)
            if isinstance(theirs, dict):
                theirs = next((v for k, v in theirs.items() if _same(k, value)), math.nan)
            if math.isnan(theirs):
                continue
            ok = g[g.status != "diverged"]
            final, best = ok.val_acc.mean(), ok.best_val_acc.mean()
            mean = best if epoch == "best" else final
            std = (ok.best_val_acc if epoch == "best" else ok.val_acc).std() if len(ok) > 1 else math.nan
            against = claims.against_single(mean, std, len(ok), theirs)
            rows.append(dict(experiment=EXPERIMENTS[notebook], model=model, field=field, value=value,
                             epochs=g.epochs.max(), batch_size=g.batch_size.iloc[0], epoch=epoch, original=theirs,
                             runs=len(ok), mean=mean, std=std, diff=against.diff, best_diff=best - theirs,
                             interval=against, verdict=against.verdict))
    return pd.DataFrame(rows)
