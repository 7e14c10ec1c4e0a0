"""The measured causes of our differences from the original report, beside the sweeps: what our JPEG
copy of the horses changes against the lossless originals (the paper profile's committed
measurements), what bf16 changes against float32, and what width does to the residual network."""
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from cnnreport.analysis import claims
from cnnreport.analysis.compute import mult_adds, settings
from cnnreport.analysis.original import ORIGINAL
from cnnreport.analysis.stats import summary
from cnnreport.analysis.sweeps import profile_notebook_configs, sweep, sweep_args, sweep_configs
from cnnreport.params import ROOT, committed_store, load_params
from cnnreport.training.executor import lookup


def on_test_sets(run, originals, twins):
    """(per-image pixel accuracies on the original test images, on their JPEG twins) of a run."""
    sets = run.evaluations()["test_sets"]
    return sets[originals]["per_image"], sets[twins]["per_image"]


def originals_effect(runs, originals, twins):
    """Per run (Runs, e.g. each network's first seed): its pixel accuracy (%) on the original test
    images and on their JPEG twins, each labelled from its own pixels, and the paired difference
    originals - twins with its 95 % interval and verdict (claims.paired)."""
    rows = []
    for run in runs:
        a, b = on_test_sets(run, originals, twins)
        diff, low, high, verdict = claims.paired(b, a)
        rows.append(dict(model=run.config.model, images=len(a), twins=np.mean(b), originals=np.mean(a), diff=diff,
                         low=low, high=high, verdict=verdict))
    return pd.DataFrame(rows)


def training_effect(arms, originals, twins):
    """Per network, the 2 x 2 of training on the original training images or on their JPEG twins
    (arms: {"originals": Sweep, "twins": Sweep}) and testing on the original test images
    or their twins: pixel accuracy mean and std over seeds; then what training on the JPEG copy
    changes on the original test images (twins-trained - originals-trained) with its verdict."""
    cells = []
    for arm, grid in arms.items():
        for run in (r for r in grid.runs if r.status == "finished"):
            a, b = on_test_sets(run, originals, twins)
            cells.append(dict(model=run.config.model, trained_on=arm, seed=run.config.seed, originals=np.mean(a),
                              twins=np.mean(b)))
    cells = pd.DataFrame(cells)
    rows = []
    for model, g in cells.groupby("model", sort=False):
        row = dict(model=model)
        for arm in arms:
            for test in ("originals", "twins"):
                values = g[g.trained_on == arm][test]
                row[f"{arm}_on_{test}"], row[f"{arm}_on_{test}_std"] = values.mean(), values.std()
                row[f"{arm}_seeds"] = len(values)
        row["diff"] = row["twins_on_originals"] - row["originals_on_originals"]
        row["verdict"] = claims.between(row["diff"], row["twins_on_originals_std"], row["originals_on_originals_std"],
                                        row["twins_seeds"], row["originals_seeds"])
        rows.append(row)
    return pd.DataFrame(rows)


PALETTE = ROOT / "reports" / "paper" / "measurements" / "palette.json"   # tools/jpeg_copy.py, palette.compare_palettes


def palette_effect(path=PALETTE):
    """What fitting the palette on the originals rather than on their JPEG twins changes (the
    summary of palette.compare_palettes, as tools/jpeg_copy.py stored it)."""
    return json.loads(Path(path).read_text())["summary"]


def _jpeg_params():
    return load_params("09_jpeg_copy", "paper")


def jpeg_configs():
    """The Configs each arm of the JPEG-copy measurement trains (on the originals and on their twins)."""
    return sweep_configs(**sweep_args(_jpeg_params()))


def jpeg_measurements():
    """(originals_effect, training_effect, palette_effect) of the paper profile's committed runs: the
    measurements of 09_jpeg_copy, which need both copies of the images and so exist only there."""
    p = _jpeg_params()
    originals, twins = p["arms"]["originals"], p["arms"]["twins"]
    store = committed_store("paper")
    first = lookup([c for c in profile_notebook_configs("paper", pending=True)["07_architectures"] if c.seed == 0], store)
    arms = {arm: sweep(**sweep_args(p), store=replace(store, data=data), verbose=False) for arm, data in p["arms"].items()}
    return originals_effect(first, originals, twins), training_effect(arms, originals, twins), palette_effect()


def precision_effect(sweep):
    """Per network, from a Sweep over amp (True: bf16, False: float32): the final val acc mean and
    std of each, bf16 - float32 with its verdict, and float32's time over bf16's."""
    table = summary(sweep, original={})
    rows = []
    for model, g in table.groupby("model", sort=False):
        bf16, fp32 = (g[g.value == v].iloc[0] for v in (True, False))
        diff = bf16["mean"] - fp32["mean"]
        rows.append(dict(model=model, bf16=bf16["mean"], bf16_std=bf16["std"], float32=fp32["mean"], float32_std=fp32["std"],
                         diff=diff, spread=claims.spread(bf16["std"], fp32["std"]),
                         verdict=claims.between(diff, bf16["std"], fp32["std"], bf16.runs, fp32.runs),
                         time_ratio=fp32["seconds"] / bf16["seconds"]))
    return pd.DataFrame(rows)


def size_table(sweep):
    """Per network and width of a Sweep over num_filters: multiply-adds per image, parameters,
    training compute, final val acc mean and std over seeds."""
    table = settings(sweep.runs)
    first = [sweep.where(model=m, value=nf).runs[0] for m, nf in zip(table.model, table.num_filters)]
    table["mult_adds"] = [mult_adds(run.config) for run in first]
    table["parameters"] = [run.parameters for run in first]
    return table.sort_values(["model", "num_filters"], key=lambda c: c.map({"resnet": 0, "unet": 1}) if c.name == "model" else c)


def best_width_against_original(sizes):
    """(the residual network's best width in a size_table, as its row; the verdict of
    claims.against_single on its mean against the original report's residual network)."""
    res = sizes[sizes.model == "resnet"]
    top = res.loc[res["mean"].idxmax()]
    return top, claims.against_single(top["mean"] - ORIGINAL["final"]["resnet"]["val_acc"], top["std"], top.seeds)
