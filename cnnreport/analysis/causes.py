"""The causes of our differences from the original report, measured: what our JPEG copy of the
horses changes against the lossless originals, what bf16 changes against float32, whether the
residual network's size explains its gap, every run's accuracy against its training compute, and
whether the original report's own (loss, accuracy) pairs agree with each other.

Every function reads stored runs (sweep tables of cnnreport.analysis.experiments, or Runs) and returns a
table; verdicts follow cnnreport.analysis.claims.
"""
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from cnnreport.analysis import claims
from cnnreport.analysis.experiments import SEED_REPORT, summary
from cnnreport.params import ROOT
from cnnreport.report.present import NAMES, signed
from cnnreport.science.layers import layer_table, total
from cnnreport.science.models import build_model
from cnnreport.training.train import load_run

# ----------------------------------------------------------------------------- the JPEG copy


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
    (arms: {"originals": sweep table, "twins": sweep table}) and testing on the original test images
    or their twins: pixel accuracy mean and std over seeds; then what training on the JPEG copy
    changes on the original test images (twins-trained - originals-trained) with its verdict."""
    cells = []
    for arm, table in arms.items():
        for r in table[table.status == "finished"].itertuples():
            a, b = on_test_sets(load_run(r.path), originals, twins)
            cells.append(dict(model=r.model, trained_on=arm, seed=r.seed, originals=np.mean(a), twins=np.mean(b)))
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


def jpeg_measurements():
    """(originals_effect, training_effect, palette_effect) of the paper profile's committed runs: the
    measurements of 08_jpeg_copy, which need both copies of the images and so exist only there."""
    from dataclasses import replace

    import yaml

    from cnnreport.analysis.experiments import (
        profile_notebook_configs,
        sweep,
        sweep_args,
    )
    from cnnreport.params import PARAMS_DIR, committed_store
    from cnnreport.training.executor import lookup
    p = yaml.safe_load((PARAMS_DIR / "paper" / "08_jpeg_copy.yaml").read_text())
    store = committed_store("paper")
    first = lookup([c for c in profile_notebook_configs("paper", pending=True)["06_architectures"] if c.seed == 0], store)
    arms = {arm: sweep(**sweep_args("08_jpeg_copy", p), store=replace(store, data=p[arm]), verbose=False)
            for arm in ("originals", "twins")}
    return (originals_effect(first, p["originals"], p["twins"]), training_effect(arms, p["originals"], p["twins"]),
            palette_effect())


def jpeg_sentence(first, training, palette):
    """What the JPEG copy does to our numbers, in one paragraph: from originals_effect (first),
    training_effect (training) and palette_effect (palette)."""
    def span(values):
        return f"{signed(min(values))} to {signed(max(values))}" if len(values) > 1 else signed(values[0])
    clear = first[first.verdict == "clear"]
    text = (f"Tested on the original images instead of their JPEG twins, the same weights score {span(list(first['diff']))} "
            f"points (original − twin; {len(clear)} of {len(first)} networks beyond the 95 % interval). ")
    text += ("Trained on the originals instead of the twins, and tested on the originals, the networks score "
             + "; ".join(f"{_name(r.model)} {signed(-r.diff)} points ({r.verdict})" for r in training.itertuples()) + ". ")
    text += (f"Fitted on the originals rather than on their twins, the palette's colours move by a median of "
             f"{palette['median_delta_e']:.1f} CIELAB units (at most {palette['max_delta_e']:.1f}), and "
             f"{palette['labels_changed_own_palettes']:.1f} % of the training pixels change category; with one palette "
             f"for both, the JPEG encoding alone changes the category of {palette['labels_changed_one_palette']:.1f} %.")
    return text

# ----------------------------------------------------------------------------- precision


def precision_effect(runs):
    """Per network, from a sweep over amp (True: bf16, False: float32): the final val acc mean and
    std of each, bf16 - float32 with its verdict, and float32's time over bf16's."""
    table = summary(runs, seed_report={})
    rows = []
    for model, g in table.groupby("model", sort=False):
        bf16, fp32 = (g[g.value == v].iloc[0] for v in (True, False))
        diff = bf16["mean"] - fp32["mean"]
        rows.append(dict(model=model, bf16=bf16["mean"], bf16_std=bf16["std"], float32=fp32["mean"], float32_std=fp32["std"],
                         diff=diff, spread=claims.spread(bf16["std"], fp32["std"]),
                         verdict=claims.between(diff, bf16["std"], fp32["std"], bf16.runs, fp32.runs),
                         time_ratio=fp32["seconds"] / bf16["seconds"]))
    return pd.DataFrame(rows)

def precision_sentence(effect, runs):
    """What bf16 costs, in one paragraph computed from precision_effect and the sweep's runs."""
    bf16 = {load_run(p).info["precision"] for p in runs[runs.value == True].path}   # noqa: E712 - the swept values
    if bf16 != {"bf16"}:
        return ("This machine computes no bfloat16 natively, so both arms trained in float32 here: the comparison "
                "needs a CPU with AVX512-BF16 or AMX, or a GPU.")
    parts = [f"{_name(r.model)} {signed(r.diff)} points ({r.verdict})" for r in effect.itertuples()]
    clear = effect[effect.verdict == "clear"]
    verdict = ("bf16 costs no accuracy that three seeds can tell apart" if clear.empty else
               "; ".join(f"the {_name(r.model)} is clearly {'better' if r['diff'] > 0 else 'worse'} in bf16"
                         for _, r in clear.iterrows()))
    return (f"Against float32, bf16 changes the final accuracy by {', '.join(parts)}: {verdict}. Float32 takes "
            f"{effect.time_ratio.min():.1f} to {effect.time_ratio.max():.1f} times as long as bf16 on the machine that "
            "trained them.")


def _name(model):
    return NAMES[model]

# ----------------------------------------------------------------------------- compute


def mult_adds(config):
    """Multiply-accumulates of one forward pass of one 32x32 image through `config`'s network."""
    return total(layer_table(build_model(config.model, config.kernel, config.num_filters, config.num_colours)), "mult_adds")


def compute(run):
    """A run's training compute in multiply-accumulates: forward and backward (3x a forward pass)
    for every training image in every epoch it trained."""
    images = run.config.train_images or run.data["train_images"]
    return 3 * mult_adds(run.config) * images * len(run.history)


def settings(runs):
    """One row per setting (a run's settings but its seed) of sweep tables `runs` (one DataFrame,
    duplicates allowed): model, the setting's name, seeds, final val acc mean and std over its
    finished seeds, its training compute, seconds per run and final val loss mean."""
    rows = {}
    for path in runs.path.drop_duplicates():
        run = load_run(path)
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


def size_table(runs):
    """Per network and width of a sweep over num_filters (sweep table `runs`): multiply-adds per
    image, parameters, training compute, final val acc mean and std over seeds."""
    table = settings(runs)
    table["mult_adds"] = [mult_adds(load_run(p).config) for p in
                          (runs[(runs.model == m) & (runs.value == nf)].path.iloc[0] for m, nf in zip(table.model, table.num_filters))]
    table["parameters"] = [runs[(runs.model == m) & (runs.value == nf)].parameters.iloc[0]
                           for m, nf in zip(table.model, table.num_filters)]
    return table.sort_values(["model", "num_filters"], key=lambda c: c.map({"resnet": 0, "unet": 1}) if c.name == "model" else c)


def size_sentence(table, reference=32):
    """Whether width explains the residual network's gap to the original report, and whether the
    residual block pays at equal compute, from size_table."""
    res, unet = table[table.model == "resnet"].reset_index(drop=True), table[table.model == "unet"].reset_index(drop=True)
    base = res[res.num_filters == reference]
    if base.empty or len(res) < 2:
        return "This profile trains too few widths to say what size does."
    base = base.iloc[0]
    top = res.loc[res["mean"].idxmax()]
    gap = top["mean"] - base["mean"]
    verdict = claims.between(gap, top["std"], base["std"], top.seeds, base.seeds)
    seed = SEED_REPORT["final"]["resnet"]["val_acc"]
    text = (f"From NF {res.num_filters.min()} to NF {res.num_filters.max()} ({res.mult_adds.max() / base.mult_adds:.1f}x the "
            f"multiply-adds at NF {reference}) the residual network's accuracy moves between {res['mean'].min():.1f} and "
            f"{res['mean'].max():.1f} %. Its best width, NF {top.num_filters}, is {signed(gap)} points from NF {reference} "
            f"({verdict}), and still {seed - top['mean']:.1f} points below the original report's {seed:.1f} %: "
            + ("width does not explain the gap." if seed - top["mean"] > 2 * claims.spread(top["std"], base["std"])
               else "width could explain the gap."))
    pairs = []
    for r, u in zip(res.itertuples(), unet.itertuples()):
        diff = r.mean - u.mean
        pairs.append(f"NF {r.num_filters} against the U-Net at NF {u.num_filters}: {signed(diff)} points "
                     f"({claims.between(diff, r.std, u.std, r.seeds, u.seeds)})")
    if pairs:
        text += (" At matched multiply-adds, the residual network against the U-Net: " + "; ".join(pairs) + ".")
    return text


def frontier(table):
    """The settings on the efficient frontier of `table` (settings()): none cheaper is as accurate."""
    best, on = -math.inf, []
    for i, r in table.sort_values(["compute", "mean"], ascending=[True, False]).iterrows():
        if r["mean"] > best:
            best = r["mean"]
            on.append(i)
    return table.index.isin(on)


def seed_compute(ours):
    """The original report's final accuracies placed on our compute axis: its CNN's and U-Net's
    exactly (the same networks and epochs as ours), its residual network's estimated from its time,
    assuming its machine ran the residual network at the multiply-accumulates per second it ran its
    U-Net. ours: settings() of our runs, for how far that assumption held for us (the `our_rate`
    column: our residual network's rate over our U-Net's). One row per point."""
    from cnnreport.training.config import Config
    rows = []
    for model in ("cnn", "unet"):
        for nf, acc in SEED_REPORT["num_filters"][model].items():
            run = Config(model=model, num_filters=nf, epochs=30)
            rows.append(dict(model=model, num_filters=nf, epochs=30, mean=acc, compute=3 * mult_adds(run) * 5000 * 30,
                             estimated=False))
    final = SEED_REPORT["final"]
    unet = Config(model="unet", epochs=final["unet"]["epochs"])
    rate = 3 * mult_adds(unet) * 5000 * unet.epochs / final["unet"]["seconds"]            # their U-Net's MAC/s
    ours_rate = _rate(ours, "resnet") / _rate(ours, "unet")
    rows.append(dict(model="resnet", num_filters=math.nan, epochs=final["resnet"]["epochs"], mean=final["resnet"]["val_acc"],
                     compute=rate * final["resnet"]["seconds"], estimated=True, our_rate=ours_rate))
    return pd.DataFrame(rows)


def compute_sentence(table, on_frontier, seed):
    """What the accuracy-against-compute figure shows, from settings(), frontier() and seed_compute()."""
    best = table[on_frontier].sort_values("compute")
    names = [f"{_name(r.model)} NF {r.num_filters} kernel {r.kernel}" + (f" lr {r.lr:g}" if r.lr != 0.001 else "")
             + (" rebalanced" if r.rebalance else "") for r in best.itertuples()]
    text = (f"Of {len(table)} settings, {len(best)} lie on the efficient frontier (none cheaper is as accurate): "
            f"{', '.join(names)}.")
    estimated = seed[seed.estimated]
    if not estimated.empty:
        r = estimated.iloc[0]
        ours = best[best.compute <= r.compute]["mean"].max()
        text += (f" The original report's residual network, placed from its time at {r.compute / 1e12:.0f} TMAC on the "
                 f"assumption that its machine ran it at the multiply-accumulates per second it ran its U-Net, lies "
                 f"{r['mean'] - ours:.1f} points above our frontier there"
                 + (f"; our own residual network ran at {r.our_rate:.1f} times our U-Net's rate, so the estimate may be "
                    "off by about that factor." if not math.isnan(r.our_rate) else "."))
    return text


def _rate(table, model):
    """Our multiply-accumulates per second of training, for `model` at NF 32 (settings() table)."""
    r = table[(table.model == model) & (table.num_filters == 32) & (table.kernel == 3) & (table.lr == 0.001)
              & ~table.rebalance.astype(bool) & (table.precision == "bf16")]
    return r.compute.iloc[0] / r.seconds.iloc[0] if len(r) else math.nan

# ----------------------------------------------------------------------------- the original report's own numbers


def seed_pairs():
    """The original report's (final val loss, final val acc) pairs: its CNN's NF sweep and its three final runs."""
    rows = [dict(model="cnn", what=f"NF {nf}", val_loss=loss, val_acc=SEED_REPORT["num_filters"]["cnn"][nf])
            for nf, loss in SEED_REPORT["num_filters_loss"]["cnn"].items()]
    rows += [dict(model=m, what="final", val_loss=r["val_loss"], val_acc=r["val_acc"]) for m, r in SEED_REPORT["final"].items()]
    return pd.DataFrame(rows)


FAMILY = {"cnn": "cnn", "convtranspose": "unet", "unet": "unet", "resnet": "resnet"}   # one relation per family


def relation(runs, degree=2):
    """Per network family (FAMILY), our runs' final val acc as a polynomial of their final val
    loss, fitted over every finished run of the sweep tables `runs` (one DataFrame) whose loss is
    below 2 (runs that learned): {family: (coefficients, residual std, lowest and highest loss fitted)}."""
    ok = runs.drop_duplicates("path")
    ok = ok[(ok.status == "finished") & (ok.val_loss < 2)]
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
    network family (sweep tables `runs`, see relation): the accuracy our runs have at its loss, the
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


# ----------------------------------------------------------------------------- the causes weighed


def weighed(repro, first, training, precision, sizes, pairs):
    """One row per cause of a difference from the original report, with its measured size on our
    accuracy (points: the range over networks or settings) and what it can explain. repro:
    experiments.reproduction; the others: this module's tables (originals_effect, training_effect,
    precision_effect, size_table, consistency)."""
    final = repro[repro.epoch == "final"]
    def span(values):
        values = [v for v in values if not math.isnan(v)]
        return (min(values), max(values)) if values else (math.nan, math.nan)
    res = sizes[sizes.model == "resnet"]
    base = res[res.num_filters == 32]
    rows = [
        ("chance", "std over our seeds, per setting", span(final["std"]),
         f"{int((final['diff'].abs() <= 2 * final['std']).sum())} of {len(final)} differences lie within twice it"),
        ("best against final epoch", "our best epoch − our final epoch, per setting", span(final.best_diff - final["diff"]),
         "moves every difference the same way, upwards"),
        ("the JPEG copy, at test time", "the same weights: originals − JPEG twins", span(first["diff"]),
         f"{int((first.verdict == 'clear').sum())} of {len(first)} networks clear of their 95 % interval"),
        ("the JPEG copy, in training", "trained on originals − on twins, tested on originals", span(-training["diff"]),
         f"{int((training.verdict == 'clear').sum())} of {len(training)} networks clear of twice their seed spread"),
        ("bf16 against float32", "bf16 − float32", span(precision["diff"]),
         f"{int((precision.verdict == 'clear').sum())} of {len(precision)} networks clear of twice their seed spread"),
        ("the residual network's width", "best width − NF 32, residual network",
         span([res["mean"].max() - base["mean"].iloc[0]] if len(base) else []), "width does not reach the original's accuracy"
         if len(base) and SEED_REPORT["final"]["resnet"]["val_acc"] - res["mean"].max() > 2 * res["std"].max() else "see the size section"),
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


def consistency_sentence(pairs):
    """What the original report's (loss, accuracy) pairs say against our relation (consistency), one paragraph."""
    if pairs.distance.isna().all():
        return "Too few of this profile's runs learned to fit a relation between loss and accuracy."
    parts = []
    for model, g in pairs.dropna(subset=["distance"]).groupby("model", sort=False):
        where = (f"{signed(g.distance.iloc[0])} points" if len(g) == 1 else
                 f"{signed(g.distance.min())} to {signed(g.distance.max())} points")
        off = int((g.verdict == "off the relation").sum())
        beyond = "" if g.within_range.all() else " (partly at losses below any of ours, where the relation is extrapolated)"
        parts.append(f"its {_name(model)}'s {len(g)} pair{'s' if len(g) > 1 else ''} lie{'s' if len(g) == 1 else ''} "
                     f"{where} from our {_name(model)}s' relation, {off} beyond twice our scatter{beyond}")
    above = (pairs.distance.dropna() > 0).mean()
    return ("Against the accuracy our runs reach at the same validation loss, " + "; ".join(parts) + ". "
            + (f"{above:.0%} of the original's pairs lie above our relation: at the same cross-entropy it counted more "
               "pixels right than we do, which points to a difference in how accuracy was measured (another palette, other "
               "images) rather than to a better network, which would move along the relation; the distance is how much "
               "of a difference that alone accounts for."
               if above > 0.5 else "Most of the original's pairs lie on or below our relation: its numbers were measured as ours are."))


def gaps_sentence(gaps):
    """The architecture gaps and how much of each the measured effects account for, one paragraph."""
    parts = []
    for r in gaps.itertuples():
        towards = r.together * -r.gap > 0   # the effects move ours towards the original's number
        share = f", {r.together / -r.gap:.0%} of the way" if towards else ", away from it"
        parts.append(f"the {_name(r.model)} is {signed(r.gap)} points from the original's; the measured effects would move "
                     f"ours by {signed(r.together)}{share}, leaving {signed(r.left)} unexplained")
    return ("Were the measured effects additive: " + "; ".join(parts) + ". What is left is not measured here: the "
            "original report describes its training no further than its settings.")
