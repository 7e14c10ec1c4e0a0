"""Training compute: multiply-accumulates of a forward pass (cnnreport.science.layers) x 3 (forward
and backward) x images x epochs, per run and per setting, the efficient frontier of accuracy
against it, and the original report's numbers placed on the same axis."""
import math

import numpy as np
import pandas as pd

from cnnreport.analysis.original import ORIGINAL
from cnnreport.analysis.sweeps import distinct
from cnnreport.science.layers import layer_table, total
from cnnreport.science.models import build_model


def mult_adds(config):
    """Multiply-accumulates of one forward pass of one 32x32 image through `config`'s network."""
    return total(layer_table(build_model(config.model, config.kernel, config.num_filters, config.num_colours)), "mult_adds")


def compute(run):
    """A run's training compute in multiply-accumulates: forward and backward (3x a forward pass)
    for every training image in every epoch it trained."""
    images = run.config.train_images or run.data["train_images"]
    return 3 * mult_adds(run.config) * images * len(run.history)


def settings(runs):
    """One row per setting (a run's settings but its seed) of `runs` (Runs; one that several sweeps
    share counts once): model, the setting's name, seeds, final val acc mean and std over its
    finished seeds, its training compute, seconds per run and final val loss mean."""
    rows = {}
    for run in distinct(runs):
        if run.status != "finished":
            continue
        c = run.config
        key = (c.model, c.num_filters, c.kernel, c.lr, c.epochs, c.rebalance, c.amp, c.train_images)
        rows.setdefault(key, []).append(run)
    out = []
    for (model, nf, k, lr, epochs, rebalance, amp, _), group in rows.items():
        acc = [r.final["val_acc"] for r in group]
        out.append(dict(model=model, num_filters=nf, kernel=k, lr=lr, epochs=epochs, rebalance=rebalance,
                        precision=group[0].info["precision"], seeds=len(group), mean=np.mean(acc),
                        std=np.std(acc, ddof=1) if len(acc) > 1 else math.nan, compute=compute(group[0]),
                        seconds=np.mean([r.final["seconds"] for r in group]),
                        val_loss=np.mean([r.final["val_loss"] for r in group])))
    return pd.DataFrame(out)


def frontier(table):
    """The settings on the efficient frontier of `table` (settings()): none cheaper is as accurate."""
    best, on = -math.inf, []
    for i, r in table.sort_values(["compute", "mean"], ascending=[True, False]).iterrows():
        if r["mean"] > best:
            best = r["mean"]
            on.append(i)
    return table.index.isin(on)


def original_compute(ours):
    """The original report's final accuracies placed on our compute axis: its CNN's and U-Net's
    exactly (the same networks and epochs as ours), its residual network's estimated from its time,
    assuming its machine ran the residual network at the multiply-accumulates per second it ran its
    U-Net. ours: settings() of our runs, for how far that assumption held for us (the `our_rate`
    column: our residual network's rate over our U-Net's). One row per point."""
    from cnnreport.training.config import Config
    rows = []
    for model in ("cnn", "unet"):
        for nf, acc in ORIGINAL["num_filters"][model].items():
            run = Config(model=model, num_filters=nf, epochs=30)
            rows.append(dict(model=model, num_filters=nf, epochs=30, mean=acc, compute=3 * mult_adds(run) * 5000 * 30,
                             estimated=False))
    final = ORIGINAL["final"]
    unet = Config(model="unet", epochs=final["unet"]["epochs"])
    rate = 3 * mult_adds(unet) * 5000 * unet.epochs / final["unet"]["seconds"]            # their U-Net's MAC/s
    ours_rate = _rate(ours, "resnet") / _rate(ours, "unet")
    rows.append(dict(model="resnet", num_filters=math.nan, epochs=final["resnet"]["epochs"], mean=final["resnet"]["val_acc"],
                     compute=rate * final["resnet"]["seconds"], estimated=True, our_rate=ours_rate))
    return pd.DataFrame(rows)


def _rate(table, model):
    """Our multiply-accumulates per second of training, for `model` at NF 32 (settings() table)."""
    r = table[(table.model == model) & (table.num_filters == 32) & (table.kernel == 3) & (table.lr == 0.001)
              & ~table.rebalance.astype(bool) & (table.precision == "bf16")]
    return r.compute.iloc[0] / r.seconds.iloc[0] if len(r) else math.nan
