"""The abstract, the conclusions and the limitations: built from the same analyses as the findings,
so that every number and verdict in them is the runs' own (claims: cnnreport.analysis.claims)."""
import re

import pandas as pd
from IPython.display import Markdown

from cnnreport.analysis import claims, stats
from cnnreport.analysis.original import ORIGINAL, ORIGINAL_CHOICES
from cnnreport.analysis.sweeps import distinct
from cnnreport.report import findings
from cnnreport.report.names import MODELS, field_name
from cnnreport.report.present import number, signed, table
from cnnreport.report.sentences import said


def _headline(text):
    """The bold first sentence of a finding, without its markup."""
    return re.match(r"\*\*(.+?)\*\*", text).group(1).rstrip(".:") + "." if text else None


def results(sweeps, jpeg=True):
    """The report's results as computed sentences, one per finding that makes a claim: the best
    network, what each architectural change adds, the comparison with the original report, and
    the headlines of the measured causes and of rebalancing."""
    out = []
    if "07_architectures" in sweeps:
        arch = stats.architecture_table(sweeps["07_architectures"])
        out.append(_headline(findings.architectures(arch)))
        out.append("Measured change by change: " + ", ".join(
            f"{r.change} {signed(r.diff)} points ({said(r.interval)})" for r in stats.effects(arch).itertuples()) + ".")
    repro = stats.reproduction(sweeps)
    final = repro[repro.epoch == "final"]
    if len(final):
        out.append(f"Of the original report's {len(final)} final accuracies that we reran, "
                   f"{(final.verdict == 'within noise').sum()} lie within the prediction interval of one more run of "
                   f"ours; {findings.medians(stats.per_network(repro))}.")
    parts = [findings.consistency(sweeps), findings.jpeg_copy() if jpeg else None,
             findings.precision(sweeps["10_precision"]) if "10_precision" in sweeps else None,
             findings.size(sweeps["11_size"]) if "11_size" in sweeps else None,
             findings.rebalancing(sweeps["08_colour_quality"]) if "08_colour_quality" in sweeps else None]
    return out + [_headline(p) for p in parts if p]


def abstract(sweeps, jpeg=True):
    """One paragraph: the task, how much was trained, and the results (see `results`)."""
    runs = distinct(run for s in sweeps.values() for run in s.runs)
    seeds = len({run.config.seed for run in runs})
    return Markdown("We rerun and extend a student's deep-learning homework report [@original] on colourization as classification: "
                    f"grey CIFAR-10 horses in, one of {runs[0].config.num_colours} colour categories per pixel out, "
                    f"with a CNN, a U-Net, the U-Net without its skips and a residual network, over {len(runs)} training "
                    f"runs with {seeds} seeds per setting. A difference counts only where its 95 % interval excludes zero. "
                    + " ".join(results(sweeps, jpeg)))


def conclusions(sweeps, jpeg=True):
    """The results (see `results`), one line each, as a Markdown list."""
    return Markdown("\n".join(f"- {sentence}" for sentence in results(sweeps, jpeg)))


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
                         "we measure": ", ".join(f"{c} {signed(r['diff'])}" for c, r in steps.loc[[r.name for r in both]].iterrows()),
                         "verdict": "mostly by learned resampling" if any(r.verdict == "clear" for r in resampling)
                         and not any(r.verdict == "clear" for r in skipping) else
                         "by its skips" if any(r.verdict == "clear" for r in skipping) else "not separable"})
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
    return table(pd.DataFrame(rows), label, caption, runs=read)


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

