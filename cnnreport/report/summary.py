"""The abstract, the conclusions and the limitations: built from the same analyses as the findings,
so that every number and verdict in them is the runs' own (claims: cnnreport.analysis.claims)."""
import math
import re

import pandas as pd
from IPython.display import Markdown

from cnnreport.analysis import claims, measurements, stats
from cnnreport.analysis.original import ORIGINAL, ORIGINAL_CHOICES
from cnnreport.analysis.sweeps import distinct
from cnnreport.report import findings
from cnnreport.report.names import MODELS, field_name, network
from cnnreport.report.present import number, signed, table
from cnnreport.report.sentences import beside_lookup, listed, spans_sentence


def _headline(text):
    """The bold first sentence of a finding, without its markup."""
    return re.match(r"\*\*(.+?)\*\*", text).group(1).rstrip(".:") + "." if text else None


SWEPT = {"04_num_filters": "the number of filters", "05_learning_rate": "the learning rate", "06_kernel_size": "the kernel size"}

# Why the report exists, in one sentence: the motivation is the report's framing, not a result.
MOTIVATION = "Colourization as classification is a small, complete test of what a convolutional network's design choices buy."


def abstract(sweeps, jpeg=True):
    """One paragraph of at most 200 words: motivation, method, the headline results per network and the
    lessons, each computed as the findings and the lessons compute them."""
    runs = distinct(run for s in sweeps.values() for run in s.runs)
    seeds = len({run.config.seed for run in runs})
    out = [MOTIVATION]
    if "07_architectures" in sweeps:
        grid = sweeps["07_architectures"]
        names = listed(f"a {network(r)}" for r in dict.fromkeys(grid.row(run) for run in grid.runs) if r in MODELS)
        out.append(f"We rerun a student's homework report [@original] with {names}: {len(runs)} training runs, {seeds} seeds "
                   "per setting, each difference judged by its 95 % interval.")
        arch = stats.architecture_table(grid)
        out.append(_headline(findings.architectures(arch))[:-1] + " (final accuracy: " + ", ".join(
            f"{network(r.row)} {r['mean']:.1f} %" for _, r in arch.dropna(subset=["mean"]).iterrows() if r.row in MODELS) + ").")
        effects = stats.effects(arch)
        effects = effects[effects.rows.map(len) == 2]
        clear = effects[effects.verdict == "clear"]
        out.append("Change by change, " + "; ".join(
            [*(f"{r.change} adds {signed(r.diff)} points" for r in clear.itertuples()),
             *([f"{listed(effects[effects.verdict != 'clear'].change)}: no clear effect"] if len(clear) < len(effects) else [])]) + ".")
        base = measurements.baselines(grid.runs[0])
        if base:
            out.append(f"Yet each grey level's most frequent colour alone gets {base['grey_lookup']:.1f} % of the pixels right.")
    swept = {SWEPT[nb]: sweeps[nb] for nb in SWEPT if nb in sweeps}
    if swept:
        spans = {what: stats.spans(grid) for what, grid in swept.items()}
        order = sorted(spans, key=lambda w: spans[w].max(), reverse=True)
        out.append(_capital(listed([f"{order[0]} moves accuracy by up to {spans[order[0]].max():.1f} points",
                                    *(f"{w} by {spans[w].max():.1f}" for w in order[1:])])) + ".")
    repro = stats.reproduction(sweeps)
    final = repro[repro.epoch == "final"]
    if len(final):
        medians = stats.per_network(repro)
        out.append("Against the original report, ours differ by a median of " + listed(
            f"{signed(r.median)} points ({MODELS[r.model]})" for r in medians.itertuples())
            + f"; {(final.verdict == 'within noise').sum()} of its {len(final)} numbers lie within the prediction interval "
            "of one more run of ours.")
    if jpeg:
        out.append(_headline(findings.jpeg_copy()))
    return Markdown(" ".join(out))


def _capital(text):
    return text[:1].upper() + text[1:]


def lessons(sweeps):
    """What the results mean, as a Markdown list: which settings matter, where the accuracy of the
    architectures comes from, what pixel accuracy measures, what one run per setting can tell, and
    what to try next; each computed from the results."""
    items = []
    swept = {SWEPT[nb]: sweeps[nb] for nb in SWEPT if nb in sweeps}
    if swept:
        items.append(spans_sentence(swept))
    if "07_architectures" in sweeps:
        grid = sweeps["07_architectures"]
        arch = stats.architecture_table(grid)
        effects = stats.effects(arch)
        clear = effects[effects.verdict == "clear"].sort_values("diff", ascending=False)
        if len(clear):
            items.append("Of the design changes measured, " + listed(f"{r.change} ({signed(r.diff)} points)"
                                                                      for r in clear.itertuples())
                         + (" add clearly, in that order" if len(clear) > 1 else " adds clearly")
                         + "; the others are within seed noise (@tab:effects).")
        base = measurements.baselines(grid.runs[0])
        if base:
            items.append(f"Pixel accuracy is a weak judge of colourization here: each grey level's most frequent colour "
                         f"alone scores {base['grey_lookup']:.1f} % ({beside_lookup(arch, base)}), so the colour "
                         "measures of @sec:08_colour_quality are needed to tell the networks' colours apart.")
        rising = stats.curves(grid)
        rising = rising[rising.rising]
        if len(rising):
            items.append(f"Validation accuracy was still rising at the last epoch for {listed(f'the {network(r)}' for r in rising.row)}: "
                         "more epochs would tell how far they go.")
    repro = stats.reproduction(sweeps)
    final = repro[(repro.epoch == "final") & repro.interval.map(lambda i: i is not None and not math.isnan(i.low))]
    if len(final):
        half = final.interval.map(lambda i: (i.high - i.low) / 2).median()
        items.append(f"One run per setting cannot settle differences of a few points: the prediction interval of one more "
                     f"run of ours is ±{half:.1f} points wide at its median, and {(final.verdict == 'within noise').sum()} "
                     f"of the original report's {len(final)} numbers lie inside theirs.")
    return Markdown("\n".join(f"- {item}" for item in items))


def _skips_verdict(resampling, skipping):
    """Whether the U-Net's gain over the CNN is its skips' (the original report's claim), from the
    effects (stats.effects rows) of learned down/up-sampling and of skips."""
    def clear(rows):
        return [r["diff"] for r in rows if r.verdict == "clear"]
    if clear(resampling) and clear(skipping):
        return ("in part: learned down/up-sampling adds more" if max(clear(resampling)) > max(clear(skipping))
                else "mostly by its skips")
    return ("mostly by learned down/up-sampling" if clear(resampling) else "by its skips" if clear(skipping)
            else "not separable")


def original_conclusions(sweeps, label, caption):
    """A table: each conclusion of the original report that our sweeps test, what we measure and the
    verdict by claims (a best value is confirmed only when it is clearly best)."""
    rows = []
    for notebook, field in (("04_num_filters", "num_filters"), ("06_kernel_size", "kernel"), ("05_learning_rate", "lr")):
        if notebook not in sweeps:
            continue
        for r in stats.best_values(stats.summary(sweeps[notebook])).itertuples():
            theirs = ORIGINAL_CHOICES[field].get(r.model)
            if theirs is None or r.best is None:
                continue
            verdict = ("confirmed" if r.clear and r.best == theirs else "contradicted" if r.clear else
                       "one seed: no verdict" if r.verdict.startswith("one seed") else "not separable from the runner-up")
            rows.append({"the original report": f"{MODELS[r.model]}: best {field_name(field)} {number(theirs)}",
                         "we measure": f"best {number(r.best)} ({r.mean:.1f} %), {number(r.runner_up)} {r.gap:.1f} behind",
                         "verdict": verdict})
    if "07_architectures" in sweeps:
        arch = stats.architecture_table(sweeps["07_architectures"])
        steps = stats.effects(arch).set_index("change")
        resampling = [r for c, r in steps.iterrows() if c.startswith("learned down/up-sampling")]
        skipping = [r for c, r in steps.iterrows() if c.startswith("skips")]
        if resampling and skipping:
            both = resampling + skipping
            rows.append({"the original report": "the U-Net gains over the CNN by its skips",
                         "we measure": "; ".join(f"{c} {signed(r['diff'])}" for c, r in steps.loc[[r.name for r in both]].iterrows()),
                         "verdict": _skips_verdict(resampling, skipping)})
        compared = arch[(arch.model == "resnet") & arch.original.notna()]
        res = compared.iloc[0] if len(compared) else None
        if res is not None:
            theirs = ORIGINAL["final"]["resnet"]["val_acc"]
            against = claims.against_single(res["mean"], res["std"], res["runs"], theirs)
            rows.append({"the original report": f"the residual network reaches {theirs:.1f} %",
                         "we measure": f"{res['acc']} % at NF 32, {res['epochs']} epochs",
                         "verdict": f"{against.verdict} {against}".replace(" –", "")})
    read = [run for nb in ("04_num_filters", "05_learning_rate", "06_kernel_size", "07_architectures") if nb in sweeps
            for run in sweeps[nb].runs]
    return table(pd.DataFrame(rows), label, caption, runs=read, prose=("the original report", "we measure", "verdict"))


def limitations(sweeps):
    """What the measurements cannot say, with the numbers that bound it."""
    runs = distinct(run for s in sweeps.values() for run in s.runs)
    d = runs[0].data
    seeds = len({run.config.seed for run in runs})
    items = [
        f"One CIFAR-10 class (horses), {d['train_images']:,} training images of 32x32 pixels: what holds here need not "
        "hold for other classes, larger images or more data.",
        f"The {d['test_images']:,} test images are also the validation set, as in the assignment: the best epochs and "
        "the best values of each sweep are chosen on the images they are measured on, so they flatter a little.",
        f"{seeds} seeds per setting estimate each spread from {seeds} numbers, so the intervals are wide; each is a 95 % "
        "interval on its own, and among this many comparisons a few clear ones may be chance.",
        "We trained on a JPEG re-encoded copy of the images, and measured what that changes only on the subset whose "
        "lossless originals could be recovered.",
        "The original report states neither its residual network's width nor its exact evaluation; where our numbers "
        "differ, the measured causes bound how much those unknowns can explain, not what they were.",
        "Times are those of our hardware and thread settings; their ratios between networks carry over, their "
        "values do not.",
    ]
    return Markdown("\n".join(f"- {item}" for item in items))

