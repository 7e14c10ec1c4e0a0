"""The report's take-away results: a few sentences whose every number comes from the sweeps' runs.

    findings(profile_sweeps("paper"))   # a numbered Markdown list; profile_sweeps: analysis.sweeps, {notebook: Sweep}

Each finding reads one or two sweeps and is left out when they are missing. Every verdict is
cnnreport.analysis.claims', as everywhere in the report.
"""
import math
from collections import Counter

import pandas as pd
from IPython.display import Markdown

from cnnreport.analysis import claims, measurements, stats
from cnnreport.analysis.consistency import consistency as consistency_of
from cnnreport.analysis.consistency import ours_off
from cnnreport.analysis.original import ORIGINAL, ORIGINAL_CHOICES
from cnnreport.report.names import MODELS, field_name, network
from cnnreport.report.present import number, signed
from cnnreport.report.sentences import beside_lookup, listed, said


def _acc(row):
    """A summary row's accuracy as text, e.g. 60.4 ± 0.3 %."""
    return f"{row.acc} %"


def architectures(table, base=None):
    """Which network colours best, and the others' accuracy; table: stats.architecture_table; base:
    measurements.baselines, whose per-grey-level lookup the networks are measured against."""
    t = table.dropna(subset=["mean"]).sort_values("mean", ascending=False)
    if t.empty:
        return None
    first, rest = t.iloc[0], t.iloc[1:]
    top = stats.best_values(t.assign(value=t.row, row="all")).iloc[0]   # the rows ranked as a sweep's values are
    name = network(first.row)
    headline = (f"The {name} colours best." if top.clear else
                f"The {name} scores highest, on one seed per network: no ranking." if top.verdict.startswith("one seed")
                else f"The {name} scores highest, {top.interval.verdict} against the {network(top.runner_up)}.")
    others = [f"{_acc(r)} for the {network(r.row)}" + (f" after {r.epochs}" if r.epochs != first.epochs else "")
              for r in rest.itertuples()]
    others = ", ".join(others[:-1]) + (" and " if len(others) > 1 else "") + others[-1] if others else "no other network"
    seeds = int(t.runs.max())
    text = (f"**{headline}** It gives {_acc(first)} of the test pixels their colour category after {first.epochs} "
            f"epoch{'s' if first.epochs != 1 else ''}, against {others} (final epoch, mean ± std over {seeds} seeds).")
    if base:
        text += (f" Without a network, the majority colour scores {base['majority']:.1f} % and a lookup of each grey "
                 f"level's most frequent colour {base['grey_lookup']:.1f} %: {beside_lookup(table, base)}.")
    return text


def steps(t):
    """What each change the comparison measures adds, and at what cost; t: stats.architecture_table."""
    s = stats.effects(t)
    if s.empty:
        return None
    by = t.set_index("row")
    parts = []
    for r in s.itertuples():
        cost = "" if len(r.rows) != 2 else (f"; {by.loc[r.rows[0], 'seconds'] / by.loc[r.rows[1], 'seconds']:.1f}x the "
                                            "time per run")
        parts.append(f"{r.change} {signed(r.diff)} points ({said(r.interval)}{cost})")
    return "**What each change adds** to the final accuracy: " + "; ".join(parts) + "."


def choice(sweep, field):
    """Per network, a sentence: the best value of a sweep, whether it beats the runner-up beyond
    seed noise, how far the whole grid moves the accuracy, and the original report's choice."""
    table = stats.summary(sweep)
    name, parts = field_name(field), []
    for r in stats.best_values(table).itertuples():
        if pd.isna(r.best):
            parts.append(f"{MODELS[r.model]}: {r.verdict}")
            continue
        text = f"{MODELS[r.model]}: best {name} {number(r.best)} ({r.mean:.1f} %)"
        if not pd.isna(r.runner_up):
            how = "clearly above" if r.clear else "above"
            text += f", {how} {name} {number(r.runner_up)} by {r.gap:.1f} points ({said(r.interval)})"
        g = table[(table.model == r.model) & table["mean"].notna()]
        if len(g) > 2:
            text += f"; {name} {number(g.value.min())} to {number(g.value.max())} span {g['mean'].max() - g['mean'].min():.1f} points"
        theirs = ORIGINAL_CHOICES.get(field, {}).get(r.model)
        if theirs is not None:
            text += " (the original report's choice too)" if math.isclose(theirs, r.best) else f" (the original report chose {name} {number(theirs)})"
        parts.append(text)
    return parts


def _failed(sweep, field):
    """The sentences naming the settings that diverged or collapsed (". Diverged: the CNN at learning
    rate 10 (3 of 3 seeds). Collapsed to one colour everywhere: ..."), or "" when none did."""
    runs = sweep.table
    total = runs.groupby(["model", "value"], sort=False).size()
    text = ""
    for what, mask in (("Diverged", runs.status == "diverged"), ("Collapsed to one colour everywhere", runs.collapsed)):
        counts = runs[mask].groupby(["model", "value"], sort=False).size()
        if not counts.empty:
            text += f". {what}: " + ", ".join(f"the {MODELS[m]} at {field_name(field)} {number(v)} ({n} of {total[(m, v)]} seeds)"
                                              for (m, v), n in counts.items())
    return text


def width_and_kernel(sweeps):
    """The original report's NF and kernel choices answered."""
    parts = [part for nb, field in (("04_num_filters", "num_filters"), ("06_kernel_size", "kernel")) if nb in sweeps
             for part in choice(sweeps[nb], field)]
    return "**Width and kernel size.** " + ". ".join(parts) + "." if parts else None


def learning_rate(sweep):
    """The original report's learning rates answered, with the rates that diverge."""
    return "**Learning rate.** " + ". ".join(choice(sweep, "lr")) + _failed(sweep, "lr") + "."


def rebalancing(sweep):
    """What class rebalancing changes, per network with its verdict (claims.between): pixel
    accuracy, balanced accuracy and colourfulness."""
    table = stats.metric_table(sweep)
    effect = stats.rebalancing_effect(sweep)
    if effect.empty:
        return None
    e = effect.set_index(["metric", "model"])
    n = effect.model.nunique()

    def changes(metric, unit, note=""):
        return f"{_span(e.change[metric], unit)} ({_verdicts(e.verdict[metric])}{note})"
    kept = stats.promises_kept(effect)
    colour, cost = kept["colourfulness"], kept["pixel_acc"]
    head = ("Class rebalancing trades pixel accuracy for colour" if colour == n and cost == n else
            f"Class rebalancing clearly adds colour to {colour} of {n} networks" + (f"; its pixel-accuracy cost is clear for {cost}"
                                                                             if cost else "; its pixel-accuracy cost is clear for none"))
    truth = table.colourfulness_true.mean()
    return (f"**{head}.** Over the {n} networks it changes pixel accuracy by {changes('pixel_acc', ' points')}, "
            f"balanced accuracy (mean per-colour recall) by {changes('balanced_acc', ' points')} and colourfulness by "
            f"{changes('colourfulness', '', f'; the true images score {truth:.1f}')}.")


def reproduction(sweeps):
    """How our numbers stand against the original report's: per network (medians), then per number."""
    r = stats.reproduction(sweeps)
    r = r[r.epoch == "final"]
    if r.empty:
        return None
    counts = r.verdict.value_counts()
    classes = [(counts.get("within noise", 0), "lies", "lie", "within the prediction interval of one more run of ours"),
               (counts.get("borderline", 0), "lies", "lie", "on the edge of that interval (borderline)"),
               (counts.get("ours higher", 0), "is", "are", "below it"), (counts.get("ours lower", 0), "is", "are", "above it"),
               (counts.get(claims.ONE_SEED, 0), "rests", "rest", "on one seed of ours (no interval)"),
               (counts.get("every seed diverged", 0), "has", "have", "every seed of ours diverged")]
    told = [f"{n} {one if n == 1 else many} {what}" for n, one, many, what in classes if n]
    assert sum(c[0] for c in classes) == len(r), "every comparison in one class"
    worst = r.loc[r["diff"].abs().idxmax()]
    setting = f"{field_name(worst.field)} {number(worst.value)}" if isinstance(worst.field, str) else f"{worst.epochs} epochs"
    return (f"**Against the original report, {medians(stats.per_network(stats.reproduction(sweeps)))}.** Of its {len(r)} "
            f"final accuracies that we reran, {', '.join(told[:-1]) + ' and ' + told[-1] if len(told) > 1 else told[0]}; "
            f"the largest difference is {signed(worst['diff'])} points (the {MODELS[worst.model]} at {setting}: ours "
            f"{worst['mean']:.1f} %, the original report's {worst.original:.1f} %; {worst.verdict}); @sec:12_reproduction "
            "weighs the causes.")


def medians(networks):
    """Ours minus the original report's per network, as stats.per_network gives it: "ours minus its final
    accuracy has a median of -3.4 points for the CNN (12 distinct settings), ..." """
    parts = [f"{signed(r.median)} points for the {MODELS[r.model]} ({r.settings} distinct setting{'s' if r.settings > 1 else ''})"
             for r in networks.itertuples()]
    return "ours minus its final accuracy has a median of " + listed(parts)


def _span(values, unit=" points"):
    lo, hi = min(values), max(values)
    return f"{signed(lo)}{unit}" if math.isclose(lo, hi, abs_tol=0.05) else f"{signed(lo)} to {signed(hi)}{unit}"


def _verdicts(verdicts):
    """How many comparisons fall in each class of the claims, e.g. "2 clear, 1 within noise"."""
    counts = Counter(verdicts)
    return ", ".join(f"{n} {'on one seed' if v.startswith('one seed') else v}" for v, n in counts.items())





def precision(sweep):
    """Whether bf16 costs accuracy against float32 (10_precision)."""
    effect = measurements.precision_effect(sweep)
    clear = effect[effect.verdict == "clear"]
    head = ("bf16 changes the accuracy of " + ", ".join(f"the {MODELS[m]}" for m in clear.model) if len(clear) else
            "bf16 costs no accuracy here" if (effect.verdict == "within noise").all() else
            "bf16 against float32: too few seeds to tell")
    return (f"**{head}.** Against float32, the original report's precision, it changes final accuracy by "
            f"{_span(effect['diff'])} ({_verdicts(effect.verdict)}).")


def size(sweep):
    """Whether the residual network's width explains its gap to the original report, and what the residual block buys at equal compute (11_size)."""
    sizes = measurements.size_table(sweep)
    res, unet = sizes[sizes.model == "resnet"], sizes[sizes.model == "unet"]
    if len(res) < 2 or len(unet) != len(res):
        return None
    seed = ORIGINAL["final"]["resnet"]["val_acc"]
    diffs = [r - u for r, u in zip(res["mean"], unet["mean"])]
    verdicts = [claims.welch(u.mean, u.std, u.seeds, r.mean, r.std, r.seeds).verdict
                for r, u in zip(res.itertuples(), unet.itertuples())]
    top, against = measurements.best_width_against_original(sizes)
    verdict = against.verdict
    short = seed - top["mean"]
    head = ("The residual network's width against its gap to the original report (one seed: no verdict)" if verdict.startswith("one seed")
            else "Width does not explain the residual network's gap to the original report" if verdict == "ours lower"
            else "Width could explain the residual network's gap to the original report")
    return (f"**{head}.** From NF {res.num_filters.min()} to {res.num_filters.max()} "
            f"({res.mult_adds.max() / res.mult_adds.min():.1f}x the multiply-adds) it reaches {res['mean'].min():.1f} to "
            f"{res['mean'].max():.1f} %, {short:.1f} points short of the original report's {seed:.1f} % at best. "
            f"At equal multiply-adds, both trained for {res.epochs.max()} epochs, it "
            f"{'beats' if min(diffs) > 0 else 'differs from'} the U-Net by {_span(diffs)} "
            f"({_verdicts(verdicts)}).")


def jpeg_copy():
    """What our JPEG copy of the horses does to our numbers (the paper profile's committed measurements),
    led by the matched comparison: trained and tested on the originals against on their twins."""
    first, training, palette = measurements.jpeg_measurements()
    clear = int(training.matched_interval.map(lambda i: i.clear).sum())
    head = (f"Trained and tested on the original images instead of our JPEG copy, the networks score "
            f"{_span(training['matched'])} ({clear} of {len(training)} clear)" +
            (": our conclusions rest on the copy without a measured cost" if clear == 0 else ""))
    return (f"**{head}.** That is the matched comparison, paired by seed on the {first.images.iloc[0]} original test "
            f"horses and their twins. Mismatched, the same weights trained on the copy score {_span(first['diff'])} on "
            f"the originals against the twins ({(first.verdict == 'clear').sum()} of {len(first)} networks clear), and "
            f"the JPEG encoding alone changes the colour category of {palette['labels_changed_one_palette']:.0f} % of the "
            "training pixels.")


def consistency(sweeps):
    """Whether the original report's (loss, accuracy) pairs lie on the relation of our runs (analysis.consistency)."""
    every = [run for sweep in sweeps.values() for run in sweep.runs]
    pairs = consistency_of(every).dropna(subset=["distance"])
    if pairs.empty:
        return None
    above, off = (pairs.distance > 0).sum(), (pairs.verdict == "off the relation").sum()
    mine, fitted = ours_off(every)
    head = ("The original report counts more pixels right at the same loss than our runs do" if above > len(pairs) / 2 and off
            else "The original report's losses and accuracies agree with ours")
    return (f"**{head}.** Its {len(pairs)} (loss, accuracy) pairs lie {_span(pairs.distance)} from the accuracy our runs of "
            f"the same network reach at that loss ({off} of {len(pairs)} beyond twice our scatter, against {mine} of our own "
            f"{fitted} runs by the same rule; the relation is fitted on our runs with the plain loss). Why is not measured "
            "here: a different measurement of accuracy (another palette, other images) is one hypothesis.")


def findings(sweeps, jpeg=True):
    """The take-aways as a numbered Markdown list (see the module docstring); jpeg: include the
    paper profile's measurements of our JPEG copy (which exist only there)."""
    arch = stats.architecture_table(sweeps["07_architectures"]) if "07_architectures" in sweeps else None
    base = measurements.baselines(sweeps["07_architectures"].runs[0]) if arch is not None else None
    items = [architectures(arch, base) if arch is not None else None,
             steps(arch) if arch is not None else None,
             width_and_kernel(sweeps),
             learning_rate(sweeps["05_learning_rate"]) if "05_learning_rate" in sweeps else None,
             rebalancing(sweeps["08_colour_quality"]) if "08_colour_quality" in sweeps else None,
             reproduction(sweeps),
             consistency(sweeps),
             jpeg_copy() if jpeg else None,
             precision(sweeps["10_precision"]) if "10_precision" in sweeps else None,
             size(sweeps["11_size"]) if "11_size" in sweeps else None]
    return Markdown("\n".join(f"{n}. {text}" for n, text in enumerate((i for i in items if i), 1)))
