"""The causes of our differences from the original report, weighed: every measured cause with its size
on our accuracy, and each network's gap with the part the measurements account for."""
import math

import pandas as pd

from cnnreport.analysis.measurements import best_width_against_original
from cnnreport.analysis.original import ORIGINAL_TRAINING


def weighed(repro, first, training, precision, sizes, pairs):
    """One row per cause of a difference from the original report, with its measured size on our
    accuracy (points: the range over networks or settings) and what it can explain. repro:
    stats.reproduction (whose rows carry the batch size of the runs compared); the others:
    measurements' tables (originals_effect, training_effect, precision_effect, size_table) and
    consistency.consistency."""
    final = repro[repro.epoch == "final"]
    batch_sizes = sorted(set(final.batch_size))
    def span(values):
        values = [v for v in values if not math.isnan(v)]
        return (min(values), max(values)) if values else (math.nan, math.nan)
    res = sizes[sizes.model == "resnet"]
    base = res[res.num_filters == 32]
    rows = [
        ("chance", "std over our seeds, per setting", span(final["std"]),
         f"{int((final.verdict == 'within noise').sum())} of {len(final)} differences lie within the prediction "
         "interval of one more run of ours"),
        ("best against final epoch", "our best epoch − our final epoch, per setting", span(final.best_diff - final["diff"]),
         "moves every difference the same way, upwards"),
        ("the batch size", f"ours − the original's ({ORIGINAL_TRAINING['batch_size']} images)",
         span([b - ORIGINAL_TRAINING["batch_size"] for b in batch_sizes]), "the same batch size: not a cause"
         if set(batch_sizes) == {ORIGINAL_TRAINING["batch_size"]} else "a different batch size: not measured"),
        ("the JPEG copy, at test time", "the same weights: originals − JPEG twins", span(first["diff"]),
         f"{int((first.verdict == 'clear').sum())} of {len(first)} networks whose 95 % interval excludes zero"),
        ("the JPEG copy, in training", "trained on originals − on twins, tested on originals", span(-training["diff"]),
         f"{int((training.verdict == 'clear').sum())} of {len(training)} networks clear by the paired interval over seeds"),
        ("bf16 against float32", "bf16 − float32", span(precision["diff"]),
         f"{int((precision.verdict == 'clear').sum())} of {len(precision)} networks clear by the paired interval over seeds"),
        ("the residual network's width", "best width − NF 32, residual network",
         span([res["mean"].max() - base["mean"].iloc[0]] if len(base) else []), "width does not reach the original's accuracy"
         if len(base) and best_width_against_original(sizes)[1].verdict == "ours lower" else "see the size section"),
        ("how the original measured", "its accuracy − ours at the same loss, per (loss, accuracy) pair", span(pairs.distance),
         f"{int((pairs.verdict == 'off the relation').sum())} of {len(pairs)} pairs off our relation"),
    ]
    return pd.DataFrame([dict(cause=c, measured=m, low=lo, high=hi, verdict=v) for c, m, (lo, hi), v in rows])


def architecture_gaps(repro, first, training, pairs):
    """Per network the original report's final number names, our final accuracy minus its (the gap),
    and the measured effects that would move ours towards its: the JPEG copy at test time and in
    training (originals − twins) and how far its (loss, accuracy) pair lies above our relation;
    their sum, were they additive, and the part of the gap left unexplained."""
    final = repro[(repro.experiment == "architectures") & (repro.epoch == "final")].set_index("model")
    test, train = first.set_index("model")["diff"], (-training.set_index("model")["diff"])
    measured = pairs[pairs.what == "final"].set_index("model").distance
    rows = []
    for model, r in final.iterrows():
        parts = {"at test": test.get(model, math.nan), "in training": train.get(model, math.nan), "measurement": measured.get(model, math.nan)}
        known = sum(v for v in parts.values() if not math.isnan(v))
        rows.append(dict(model=model, gap=r["diff"], test=parts["at test"], training=parts["in training"],
                         measurement=parts["measurement"], together=known, left=-r["diff"] - known))
    return pd.DataFrame(rows)
