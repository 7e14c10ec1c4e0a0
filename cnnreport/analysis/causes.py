"""The causes of our differences from the original report, weighed: every measured cause with its size
on our accuracy, and each network's gap with the part the measurements account for."""
import math

import pandas as pd

from cnnreport.analysis import claims
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
         span([b - ORIGINAL_TRAINING["batch_size"] for b in batch_sizes]), "no run compared with the original"
         if not batch_sizes else "the same batch size: not a cause" if set(batch_sizes) == {ORIGINAL_TRAINING["batch_size"]}
         else "a different batch size: not measured"),
        ("the JPEG copy", "trained and tested on the originals − on the JPEG twins", span(training["matched"]),
         f"{int((training.matched_verdict == 'clear').sum())} of {len(training)} networks clear by the paired interval "
         "over seeds"),
        ("the JPEG copy, at test time only", "the same weights: originals − JPEG twins", span(first["diff"]),
         f"{int((first.verdict == 'clear').sum())} of {len(first)} networks whose 95 % interval excludes zero"),
        ("bf16 against float32", "bf16 − float32", span(precision["diff"]),
         f"{int((precision.verdict == 'clear').sum())} of {len(precision)} networks clear by the paired interval over seeds"),
        ("the residual network's width", "best width − NF 32, residual network",
         span([res["mean"].max() - base["mean"].iloc[0]] if len(base) else []), "width does not reach the original's accuracy"
         if len(base) and best_width_against_original(sizes)[1].verdict == "ours lower" else "see the size section"),
        ("how the original measured (a hypothesis)", "its accuracy − ours at the same loss, per (loss, accuracy) pair",
         span(pairs.distance), f"{int((pairs.verdict == 'off the relation').sum())} of {len(pairs)} pairs off our relation; "
         "no measurement here tests the cause"),
    ]
    return pd.DataFrame([dict(cause=c, measured=m, low=lo, high=hi, verdict=v) for c, m, (lo, hi), v in rows])


def architecture_gaps(repro, training, precision):
    """Per row of the architecture comparison that meets a number of the original report: ours minus
    its (the gap, with the prediction interval of one more run of ours), and the measured effects
    that would move ours to the original's conditions, each with its interval and verdict: its data
    (trained and tested on the original images instead of our JPEG copy: training_effect's matched
    comparison, the data effect counted once) and its precision (float32 instead of bf16:
    -precision_effect). `clear` names the clear ones, `counted` sums them (claims.summed: their
    half-widths propagated), `left` is the gap that remains with them: gap + counted."""
    final = repro[(repro.experiment == "architectures") & (repro.epoch == "final")]
    data = training.set_index("model").matched_interval if len(training) else {}
    cost = precision.set_index("model").interval if len(precision) else {}
    rows = []
    for r in final.itertuples():
        effects = {"data": data.get(r.model), "precision": cost[r.model].negated() if r.model in cost else None}
        clear = [name for name, e in effects.items() if e is not None and e.clear]   # the effects that count
        counted = claims.summed([effects[name] for name in clear])
        gap = r.interval
        left = claims.summed([gap, counted]) if not math.isnan(gap.low) else claims.Interval(
            gap.diff + counted.diff, math.nan, math.nan, 1, gap.verdict)
        rows.append(dict(model=r.model, gap=gap, data=effects["data"], precision=effects["precision"], clear=clear,
                         counted=counted, left=left))
    return pd.DataFrame(rows, columns=["model", "gap", "data", "precision", "clear", "counted", "left"])
