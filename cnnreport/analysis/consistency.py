"""Whether the original report's numbers agree with each other: over our runs a network's final
validation accuracy follows its final validation loss closely; each of the original's (loss,
accuracy) pairs is placed against that relation, its distance given in points."""
import math

import numpy as np
import pandas as pd

from cnnreport.analysis import claims
from cnnreport.analysis.original import seed_pairs
from cnnreport.analysis.sweeps import distinct

FAMILY = {"cnn": "cnn", "cnnskips": "cnn", "convtranspose": "unet", "unet": "unet", "resnet": "resnet"}   # one relation per family


def learned(runs):
    """The finished runs among `runs` (Runs, each counted once) trained with the plain loss (the
    rebalanced ones minimise another) whose final val loss is below 2, that is that learned, as a
    table: model, val_loss, val_acc."""
    return pd.DataFrame([dict(model=r.config.model, val_loss=r.final["val_loss"], val_acc=r.final["val_acc"])
                         for r in distinct(runs) if r.status == "finished" and not r.config.rebalance
                         and r.final["val_loss"] < 2], columns=["model", "val_loss", "val_acc"])


def ours_off(runs):
    """(how many of our runs that the relation is fitted on lie off it by the rule the original's pairs
    are judged by, how many it is fitted on)."""
    fits, ok = relation(runs), learned(runs)
    ok = ok[ok.model.map(FAMILY).isin(fits)]
    off = [claims.off_relation(r.val_acc - np.polyval(fits[FAMILY[r.model]][0], r.val_loss), fits[FAMILY[r.model]][1])
           for r in ok.itertuples()]
    return off.count("off the relation"), len(off)


def relation(runs, degree=2):
    """Per network family (FAMILY), our runs' final val acc as a polynomial of their final val
    loss, fitted over every run of `runs` (Runs) that `learned` with the plain loss: {family:
    (coefficients, residual std, lowest and highest loss fitted)}."""
    ok = learned(runs)
    fits = {}
    for family, g in ok.groupby(ok.model.map(FAMILY)):
        if len(g) < 3 * (degree + 1):   # too few runs that learned to fit a relation through
            continue
        c = np.polyfit(g.val_loss, g.val_acc, degree)
        fits[family] = (c, float(np.std(g.val_acc - np.polyval(c, g.val_loss), ddof=degree + 1)),
                        float(g.val_loss.min()), float(g.val_loss.max()))
    return fits


def consistency(runs):
    """Each of the original report's (loss, accuracy) pairs against the relation of our runs of its
    network family (Runs, see relation): the accuracy our runs have at its loss, the
    distance in points, whether the loss lies within the range we fitted, and the verdict (claims.off_relation)."""
    fits = relation(runs)
    rows = []
    for r in seed_pairs().itertuples():
        if FAMILY[r.model] not in fits:
            rows.append(dict(model=r.model, what=r.what, val_loss=r.val_loss, val_acc=r.val_acc, expected=math.nan,
                             distance=math.nan, residual=math.nan, within_range=False,
                             verdict="no relation: too few of our runs of this family learned"))
            continue
        c, residual, low, high = fits[FAMILY[r.model]]
        expected = float(np.polyval(c, r.val_loss))
        rows.append(dict(model=r.model, what=r.what, val_loss=r.val_loss, val_acc=r.val_acc, expected=expected,
                         distance=r.val_acc - expected, residual=residual, within_range=low <= r.val_loss <= high,
                         verdict=claims.off_relation(r.val_acc - expected, residual)))
    return pd.DataFrame(rows)
