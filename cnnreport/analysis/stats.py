"""What a sweep's runs say: per setting the mean and spread over seeds beside the original report's
number, the best setting and whether it beats the noise (cnnreport.analysis.claims), the
architecture comparison, the colour metrics, and every original number beside ours.

    table = summary(runs)      # per (model, value): mean ± std over seeds, the original's number, the difference
    best_values(table)         # per model: the best value, the runner-up and whether the gap beats the noise
"""
import math
import statistics

import numpy as np
import pandas as pd

from cnnreport.analysis import claims
from cnnreport.analysis.designs import differences
from cnnreport.analysis.original import original_epochs, original_numbers
from cnnreport.science.metrics import DECODINGS, METRICS
from cnnreport.training.config import Config


def summary(sweep, original=None):
    """Per (row, value) of a Sweep (a row: a network, or a row the comparison names): its model,
    finished runs, diverged runs, mean and std of the final val acc over finished seeds (std only
    with 2+), a printable "acc" column ("45.3 ± 0.4", "diverged", "45.3 (1 of 3 diverged)", or
    "6.9 ± 0.5 (collapsed)" where its runs paint one colour everywhere: sweeps.COLLAPSED),
    the original report's number, ours minus theirs with its prediction interval and verdict
    (claims.against_single; None where the original gives no number), mean seconds, and "best"
    marking each row's highest mean where it is clearly above the runner-up (claims.ranking).
    Diverged runs count in no mean.

    original: {model: {value: acc}} or {model: acc}; default: the original report's numbers for the
    sweep's field (or, for a comparison of networks, of its final runs), beside the runs trained for
    as many epochs as its (original.original_epochs)."""
    column = None if original is not None else sweep.field or "final"
    if original is None:
        original = original_numbers(column)
    runs = sweep.table
    out = []
    for (name, value), g in runs.groupby(["row", "value"], sort=False, dropna=False):
        ok, model = g[g.status != "diverged"], g.model.iloc[0]
        n, bad = len(ok), len(g) - len(ok)
        mean = ok.val_acc.mean() if n else math.nan
        std = ok.val_acc.std() if n > 1 else math.nan
        if n == 0:
            text = "diverged"
        else:
            flat = int(ok.collapsed.sum())
            text = (f"{mean:.1f}" + (f" ± {std:.1f}" if n > 1 else "") + (f" ({bad} of {len(g)} diverged)" if bad else "")
                    + ("" if not flat else " (collapsed)" if flat == n else f" ({flat} of {n} collapsed)"))
        theirs = original.get(model, math.nan)
        if isinstance(theirs, dict):
            theirs = next((v for k, v in theirs.items() if _same(k, value)), math.nan)
        if column and not math.isnan(theirs) and g.planned.iloc[0] != original_epochs(column, model):
            theirs = math.nan   # the original's number is of a run of other epochs
        against = None if math.isnan(theirs) else claims.against_single(mean, std, n, theirs)
        out.append(dict(row=name, model=model, value=value, runs=n, diverged=bad, mean=mean, std=std, acc=text,
                        original=theirs, diff=mean - theirs, seconds=ok.seconds.mean() if n else math.nan,
                        interval=against, verdict=against and against.verdict))
    table = pd.DataFrame(out)
    table["best"] = False
    for _, g in table.groupby("row", sort=False):
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


def spans(sweep):
    """Per row of a Sweep, how far its values move the mean final accuracy: the highest mean minus the
    lowest (a Series by row)."""
    means = summary(sweep).dropna(subset=["mean"])
    return means.groupby("row", sort=False)["mean"].agg(lambda m: m.max() - m.min())


def best_values(table):
    """Per row of a summary (a network): the best value, the runner-up, the gap between their means
    with its interval (claims.ranking: Welch's, the runner-up against the best) and the verdict in words."""
    out = []
    for row, g in table.groupby("row", sort=False):
        g = g.reset_index(drop=True)
        first, second, gap, rule = claims.ranking(list(g["mean"]), list(g["std"]), list(g.runs))
        verdict = (rule if second is None else
                   f"one seed per value: a gap of {gap.diff:.1f} points has no interval" if rule == claims.ONE_SEED else
                   f"{rule}: the gap of {gap.diff:.1f} points has the 95 % interval {gap}")
        out.append(dict(row=row, model=g.model[0], best=None if first is None else g.value[first],
                        mean=math.nan if first is None else g["mean"][first],
                        runner_up=None if second is None else g.value[second], gap=math.nan if gap is None else gap.diff,
                        interval=gap, clear=rule == "clear", verdict=verdict))
    return pd.DataFrame(out)


def architecture_table(sweep):
    """The comparison of networks, one row per row of the Sweep: summary(sweep) with its runs'
    Config (seed aside), epochs, losses, parameters, and the original report's final accuracy beside
    the rows trained as long as its run; `best` marks the row
    clearly above every other (claims.ranking)."""
    table, runs = summary(sweep), sweep.table
    ok = runs[runs.status != "diverged"].groupby("row", sort=False)
    table["config"] = [sweep.where(row=name).runs[0].config for name in table.row]
    table["epochs"] = table.row.map(runs.groupby("row").planned.max())
    table["train_loss"] = table.row.map(ok.train_loss.mean())
    table["val_loss"] = table.row.map(ok.val_loss.mean())
    table["parameters"] = table.row.map(runs.groupby("row").parameters.first())
    table["best"] = _clearly_best(table.reset_index(drop=True))   # the best across rows
    cols = ["row", "model", "config", "runs", "diverged", "epochs", "parameters", "train_loss", "val_loss", "acc",
            "mean", "std", "original", "diff", "interval", "verdict", "seconds", "best"]
    return table[cols]


# The 2x2 of the comparison: (resampling, skips) -> the network that has them.
CELLS = {("fixed", "without"): "cnn", ("fixed", "with"): "cnnskips", ("learned", "without"): "convtranspose",
         ("learned", "with"): "unet"}
# The effects the comparison measures: (what, the row with it, the row without it), each row by its
# network and its settings beside the comparison's own (None: whichever row of that network is there).
EFFECTS = (("learned down/up-sampling, without skips", ("convtranspose", {}), ("cnn", {})),
           ("learned down/up-sampling, with skips", ("unet", {}), ("cnnskips", {})),
           ("skips, with fixed down/up-sampling", ("cnnskips", {}), ("cnn", {})),
           ("skips, with learned down/up-sampling", ("unet", {}), ("convtranspose", {})),
           ("residual blocks", ("resnet", None), ("unet", {})),
           ("the residual network's channel dropout", ("resnet", {}), ("resnet", {"dropout": 0.0})),
           ("30 epochs instead of 25", ("resnet", {"epochs": 30}), ("resnet", {"epochs": 25})))


def _find(table, model, settings, main):
    """The row of `table` (architecture_table) of `model` with `settings`, the others at the
    comparison's (`main`: its most common epochs, the Config's default dropout); settings None:
    the row of `model` nearest to those."""
    rows = table[table.model == model]
    want = {"epochs": main, "dropout": Config.dropout, **(settings or {})}
    exact = [i for i, c in rows.config.items() if all(getattr(c, k) == v for k, v in want.items())]
    if exact:
        return rows.loc[exact[0]]
    return rows.iloc[0] if settings is None and len(rows) else None


def unmeasured(table):
    """The effects (EFFECTS, then the interaction) that `table` (architecture_table) lacks the rows
    to measure, and so `effects` leaves out."""
    main = table.epochs.mode().iloc[0]
    out = []
    for what, (m_with, s_with), (m_without, s_without) in EFFECTS:
        a, b = _find(table, m_without, s_without, main), _find(table, m_with, s_with, main)
        if a is None or b is None or a.row == b.row:
            out.append(what)
    if any(_find(table, m, {}, main) is None for m in CELLS.values()):
        out.append("their interaction")
    return out


def effects(table):
    """What each change measured by the comparison (architecture_table) adds to the final val acc:
    the rows with and without it (EFFECTS), the difference of their means with Welch's interval
    and verdict, and all that differs between them (designs.differences); then the interaction of
    down/up-sampling and skips, the 2x2 contrast with its interval. Effects whose rows the
    comparison lacks are left out."""
    main = table.epochs.mode().iloc[0]
    out = []
    for what, (m_with, s_with), (m_without, s_without) in EFFECTS:
        a, b = _find(table, m_without, s_without, main), _find(table, m_with, s_with, main)
        if a is None or b is None or a.row == b.row:
            continue
        step = claims.welch(a["mean"], a["std"], a.runs, b["mean"], b["std"], b.runs)
        out.append(dict(change=what, rows=(b.row, a.row), diff=step.diff, interval=step, verdict=step.verdict,
                        differs=differences(a.config, b.config)))
    cells = {k: _find(table, m, {}, main) for k, m in CELLS.items()}
    if all(c is not None for c in cells.values()):
        terms = [(w, c["mean"], c["std"], c.runs) for w, c in zip((1, -1, -1, 1), (cells["learned", "with"], cells["fixed", "with"],
                                                                                    cells["learned", "without"], cells["fixed", "without"]))]
        step = claims.contrast(terms)
        out.append(dict(change="interaction: what learned down/up-sampling adds with skips beyond what it adds without",
                        rows=tuple(c.row for c in cells.values()), diff=step.diff, interval=step, verdict=step.verdict,
                        differs="the 2x2 contrast"))
    return pd.DataFrame(out)


RISING_EPOCHS = 5   # the last epochs over which "still rising" is judged (curves)


def curves(sweep):
    """What the curves of a Sweep show, per (row, value), from the mean over its finished seeds: the
    epoch of lowest validation loss (where overfitting would begin) and how much the validation loss
    rose after it (`rise`) while the training loss changed by `train_change`; and whether validation
    accuracy was still rising at the end: its least-squares slope over the last RISING_EPOCHS epochs,
    times RISING_EPOCHS - 1 (`gain`, the rise across them), exceeds the std of its epoch-to-epoch
    changes there (`noise`)."""
    groups = {}
    for run in sweep.runs:
        if run.status != "diverged":
            groups.setdefault((sweep.row(run), sweep.value(run)), []).append(run)
    out = []
    for (row, value), runs in groups.items():
        n = min(len(r.history) for r in runs)
        mean = {k: np.mean([[h[k] for h in r.history[:n]] for r in runs], axis=0) for k in ("train_loss", "val_loss", "val_acc")}
        low = int(np.argmin(mean["val_loss"]))
        tail = mean["val_acc"][-RISING_EPOCHS:]
        gain = np.polyfit(np.arange(len(tail)), tail, 1)[0] * (len(tail) - 1) if len(tail) > 1 else math.nan
        noise = np.std(np.diff(tail), ddof=1) if len(tail) > 2 else math.nan
        out.append(dict(row=row, model=runs[0].config.model, value=value, epochs=n, lowest_epoch=low + 1,
                        rise=mean["val_loss"][-1] - mean["val_loss"][low],
                        train_change=mean["train_loss"][-1] - mean["train_loss"][low],
                        gain=gain, noise=noise, rising=bool(gain > noise)))
    return pd.DataFrame(out, columns=["row", "model", "value", "epochs", "lowest_epoch", "rise", "train_change", "gain",
                                      "noise", "rising"])


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
    """One row per number of the original report that a sweep reran: its number, our runs (setting:
    the set of their folders, one for every sweep that shares them), which epoch it
    is (final, or the best one of its NF summary table), our runs' batch size, our mean over finished seeds of the same
    epoch, the spread (std over seeds), the difference, the difference had we compared our best
    epochs, and the prediction interval of one more run of ours with its verdict (claims.against_single).

    sweeps: {notebook: Sweep}, as profile_sweeps gives them; missing notebooks add no rows, nor runs
    trained for other epochs than the original's."""
    rows = []
    for notebook, column, epoch in (("04_num_filters", "num_filters", "final"), ("04_num_filters", "num_filters_best", "best"),
                                    ("05_learning_rate", "lr", "final"), ("07_architectures", "final", "final")):
        if notebook not in sweeps:
            continue
        field = sweeps[notebook].field
        for (_, value), g in sweeps[notebook].table.groupby(["row", "value"], sort=False, dropna=False):
            model = g.model.iloc[0]
            theirs = original_numbers(column).get(model, math.nan)
            if isinstance(theirs, dict):
                theirs = next((v for k, v in theirs.items() if _same(k, value)), math.nan)
            if math.isnan(theirs) or g.planned.iloc[0] != original_epochs(column, model):
                continue   # no number of the original's, or one of a run of other epochs
            ok = g[g.status != "diverged"]
            final, best = ok.val_acc.mean(), ok.best_val_acc.mean()
            mean = best if epoch == "best" else final
            std = (ok.best_val_acc if epoch == "best" else ok.val_acc).std() if len(ok) > 1 else math.nan
            against = claims.against_single(mean, std, len(ok), theirs)
            rows.append(dict(experiment=EXPERIMENTS[notebook], setting=frozenset(g.run), model=model, field=field, value=value,
                             epochs=g.epochs.max(), batch_size=g.batch_size.iloc[0], epoch=epoch, original=theirs,
                             runs=len(ok), mean=mean, std=std, diff=against.diff, best_diff=best - theirs,
                             interval=against, verdict=against.verdict))
    return pd.DataFrame(rows, columns=["experiment", "setting", "model", "field", "value", "epochs", "batch_size", "epoch",
                                       "original", "runs", "mean", "std", "diff", "best_diff", "interval", "verdict"])


def per_network(repro):
    """Per network, how our final accuracies stand against the original report's, each distinct setting
    once (one setting that several sweeps share, as NF 32 = learning rate 0.001 = the comparison's row,
    is one set of our runs against the original's repeats of it, averaged): the settings, the original's
    numbers, and the median over settings of ours minus theirs (repro: reproduction)."""
    final = repro[repro.epoch == "final"]
    settings = final.groupby("setting", sort=False).agg(model=("model", "first"), mean=("mean", "first"),
                                                        original=("original", "mean"), numbers=("original", "size"))
    settings["diff"] = settings["mean"] - settings.original
    return settings.groupby("model", sort=False).agg(settings=("diff", "size"), numbers=("numbers", "sum"),
                                                    median=("diff", "median")).reset_index()
