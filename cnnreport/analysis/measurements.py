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
from cnnreport.science import metrics
from cnnreport.science.data import DataError, prepare
from cnnreport.training.executor import lookup
from cnnreport.training.store import resolve_store


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
        change = claims.paired(b, a)
        rows.append(dict(model=run.config.model, images=len(a), twins=np.mean(b), originals=np.mean(a), diff=change.diff,
                         interval=change, verdict=change.verdict))
    return pd.DataFrame(rows)


def training_effect(arms, originals, twins):
    """Per network, the 2 x 2 of training on the original training images or on their JPEG twins
    (arms: {"originals": Sweep, "twins": Sweep}) and testing on the original test images or their
    twins: pixel accuracy mean and std over seeds. Then, paired by seed (a seed's two runs share
    their initial weights and batch order; claims.paired_seeds): `matched`, trained and tested on
    the originals minus trained and tested on the twins, which says whether our results would hold
    on the original pixels; and `diff`, what training on the twins costs on the original test images
    (twins-trained - originals-trained)."""
    cells = {}
    for arm, grid in arms.items():
        for run in (r for r in grid.runs if r.status == "finished"):
            cells[run.config.model, arm, run.config.seed] = [np.mean(v) for v in on_test_sets(run, originals, twins)]
    rows = []
    for model in dict.fromkeys(m for m, _, _ in cells):
        seeds = sorted({s for m, arm, s in cells if m == model and arm == "originals"}
                       & {s for m, arm, s in cells if m == model and arm == "twins"})
        row = dict(model=model, seeds=len(seeds))
        for arm in arms:
            for i, test in enumerate(("originals", "twins")):
                values = [cells[model, arm, s][i] for s in seeds]
                row[f"{arm}_on_{test}"], row[f"{arm}_on_{test}_std"] = np.mean(values), np.std(values, ddof=1)
        on = {(arm, i): [cells[model, arm, s][i] for s in seeds] for arm in arms for i in (0, 1)}
        matched = claims.paired_seeds(on["twins", 1], on["originals", 0])
        trained = claims.paired_seeds(on["originals", 0], on["twins", 0])
        rows.append(dict(row, matched=matched.diff, matched_interval=matched, matched_verdict=matched.verdict,
                         diff=trained.diff, interval=trained, verdict=trained.verdict))
    return pd.DataFrame(rows)


PALETTE = ROOT / "reports" / "paper" / "measurements" / "palette.json"   # tools/jpeg_copy.py, palette.compare_palettes


def palette_effect(path=PALETTE):
    """What fitting the palette on the originals rather than on their JPEG twins changes (the
    summary of palette.compare_palettes, as tools/jpeg_copy.py stored it)."""
    return json.loads(Path(path).read_text())["summary"]


BASELINES = ROOT / "reports" / "paper" / "measurements" / "baselines.json"   # tools/baselines.py


def baselines(run, path=BASELINES):
    """Pixel accuracy (%) of the predictors without a network (metrics.baselines: chance, the majority
    colour and its ceiling, the per-grey-level lookup) on the test pixels of the data `run` trained on,
    labelled with its palette: the committed measurement for the committed runs' data (the paper
    renders without data), else computed from the data at hand if it is the run's; None if not."""
    stored = json.loads(Path(path).read_text())
    if stored["data"]["fingerprint"] == run.data["fingerprint"]:
        return {k: v for k, v in stored.items() if k != "data"}
    return measure_baselines(run)


def measure_baselines(run, data=None):
    """metrics.baselines on the data at hand (`data`, else $CNNREPORT_DATA), labelled with `run`'s
    palette, if those are the data the run trained on (None if not, or if there are none)."""
    c = run.config
    try:
        t = prepare(c.category, data, c.num_colours, resolve_store() / "palettes", palette=run.palette)
    except DataError:
        return None
    if t["data"]["fingerprint"] != run.data["fingerprint"]:
        return None
    return dict(metrics.baselines(t["x_train"], t["y_train"], t["x_test"], t["y_test"], c.num_colours), data=t["data"])


def _jpeg_params():
    return load_params("09_jpeg_copy", "paper")


def jpeg_configs():
    """The Configs each arm of the JPEG-copy measurement trains (on the originals and on their twins)."""
    return sweep_configs(**sweep_args(_jpeg_params()))


def jpeg_runs():
    """(the first seed's Runs of 07_architectures, {arm: Sweep} of each network trained on the originals
    and on their twins): the paper profile's committed runs that 09_jpeg_copy measures."""
    p = _jpeg_params()
    store = committed_store("paper")
    first = lookup([c for c in profile_notebook_configs("paper", pending=True)["07_architectures"] if c.seed == 0], store)
    return first, {arm: sweep(**sweep_args(p), store=replace(store, data=data), verbose=False) for arm, data in p["arms"].items()}


def jpeg_run_list():
    """Every run of jpeg_runs(), in one list."""
    first, arms = jpeg_runs()
    return [*first, *(run for grid in arms.values() for run in grid.runs)]


def jpeg_measurements():
    """(originals_effect, training_effect, palette_effect) of jpeg_runs(): the measurements of
    09_jpeg_copy, which need both copies of the images and so exist only in the paper profile."""
    originals, twins = _jpeg_params()["arms"].values()
    first, arms = jpeg_runs()
    return originals_effect(first, originals, twins), training_effect(arms, originals, twins), palette_effect()


def precision_effect(sweep):
    """Per network, from a Sweep over amp (True: bf16, False: float32): the final val acc mean and
    std of each, bf16 - float32 with its paired interval and verdict (claims.paired_seeds: a seed's
    two runs share their initial weights and batch order), and float32's time over bf16's."""
    table = summary(sweep, original={})
    rows = []
    for model, g in table.groupby("model", sort=False):
        bf16, fp32 = (g[g.value == v].iloc[0] for v in (True, False))
        arms = [{r.config.seed: r.final["val_acc"] for r in sweep.where(model=model, value=v).runs if r.status == "finished"}
                for v in (False, True)]
        seeds = sorted(set(arms[0]) & set(arms[1]))
        change = claims.paired_seeds([arms[0][s] for s in seeds], [arms[1][s] for s in seeds])
        rows.append(dict(model=model, bf16=bf16["mean"], bf16_std=bf16["std"], float32=fp32["mean"], float32_std=fp32["std"],
                         diff=change.diff, interval=change, verdict=change.verdict,
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
    """(the residual network's best width in a size_table, as its row; claims.against_single of its
    mean against the original report's residual network)."""
    res = sizes[sizes.model == "resnet"]
    top = res.loc[res["mean"].idxmax()]
    return top, claims.against_single(top["mean"], top["std"], top.seeds, ORIGINAL["final"]["resnet"]["val_acc"])
