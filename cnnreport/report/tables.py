"""The report's tables, built on cnnreport.report.present.table: each formats one analysis table
for reading (display names, mean ± std cells that do not break, signed differences, verdicts)."""
import re

import pandas as pd
from IPython.display import Markdown

from cnnreport.analysis import claims
from cnnreport.analysis.sweeps import differing
from cnnreport.report.names import METRICS, MODELS, field_name, network
from cnnreport.report.present import fixed, known, number, setting, signed, table


def _bounds(intervals):
    """Intervals (claims.Interval, or None) as unbreakable cells: "[-1.3, 0.4]", "–"."""
    return [None if i is None or i != i else str(i).replace(" ", "\u00a0") for i in intervals]


def _star(text, best):
    """An accuracy cell, unbreakable ("45.3 ± 0.4"), starred when it is clearly the best."""
    return (f"{text} ★" if best else text).replace(" ", "\u00a0")


def summary_table(summary, field, label, caption, *, runs):
    """A sweep's summary (stats.summary) over `field`: per network and value, our accuracy (★: the
    network's clearly best), the original report's, the difference with the prediction interval of
    one more run of ours and its verdict where it gave numbers, and the time per run."""
    df = pd.DataFrame({"network": summary.model.map(MODELS), field_name(field): summary.value,
                       "val acc (%)": [_star(a, b) for a, b in zip(summary.acc, summary.best)],
                       "original report (%)": summary.original, "ours − original (points)": summary["diff"],
                       "95 % interval": _bounds(summary.interval), "verdict": summary.verdict,
                       "time per run (s)": summary.seconds})
    return table(df[known(df, df.columns)], label, caption,
                 {"original report (%)": fixed(1), "ours − original (points)": fixed(1, signed=True),
                  "time per run (s)": fixed(0)}, runs=runs)


def sweeps_table(sweeps, label, caption):
    """The sweeps together ({what: Sweep}), one row per sweep and network: the best value
    (stats.best_values) with its mean, its gap to the runner-up with the interval's verdict, the span
    of the means over the values, and the original report's choice."""
    from cnnreport.analysis.original import ORIGINAL_CHOICES
    from cnnreport.analysis.stats import best_values, summary
    rows = []
    for what, grid in sweeps.items():
        means = summary(grid)
        for r in best_values(means).itertuples():
            g = means[(means.row == r.row) & means["mean"].notna()]
            theirs = ORIGINAL_CHOICES.get(grid.field, {}).get(r.model)
            rows.append({"setting": what, "network": network(r.row), "best": number(r.best) if r.best is not None else "–",
                         "val acc (%)": r.mean,
                         "runner-up": number(r.runner_up) if r.runner_up is not None else "–",
                         "gap (points)": r.gap, "95 % interval": _bounds([r.interval])[0], "verdict":
                         r.interval.verdict if r.interval is not None else "–",
                         "span (points)": g["mean"].max() - g["mean"].min(),
                         "original's choice": number(theirs) if theirs is not None else "–"})
    df = pd.DataFrame(rows)
    return table(df, label, caption, {"val acc (%)": fixed(1), "gap (points)": fixed(1), "span (points)": fixed(1)},
                 runs=[run for grid in sweeps.values() for run in grid.runs])


def runs_table(sweep, label, caption):
    """Every run of a Sweep, one row each: final and best-epoch accuracy, losses and time. The seed
    and status columns (finished, diverged, or collapsed: sweeps.COLLAPSED) appear only where they
    tell runs apart."""
    runs = sweep.table
    value = runs.value.map(lambda v: setting(v) if pd.api.types.is_bool(v) else v)   # rebalanced loss, bf16; numbers stay numbers
    df = pd.DataFrame({"network": runs.model.map(MODELS), field_name(sweep.field) if sweep.field else "value": value,
                       "seed": runs.seed,
                       "status": runs.status.where(~runs.collapsed, "collapsed"), "epochs": runs.epochs, "final val acc (%)": runs.val_acc,
                       "best val acc (%)": runs.best_val_acc, "train loss": runs.train_loss,
                       "val loss": runs.val_loss, "time (s)": runs.seconds})
    shown = [c for c in known(df, df.columns) if c not in ("seed", "status", "epochs") or df[c].nunique() > 1]
    return table(df[shown], label, caption, {"final val acc (%)": fixed(1), "best val acc (%)": fixed(1),
                                             "train loss": fixed(3), "val loss": fixed(3), "time (s)": fixed(0)}, runs=sweep)


BASELINES = {"chance": "chance", "majority": "majority colour", "grey_lookup": "grey-level lookup"}   # their rows' names


def architecture_table(arch, label, caption, *, runs, baselines=None):
    """The architecture comparison (stats.architecture_table) beside the original report's, ours minus
    its with the verdict; time per run (mean over seeds); then, if given, the predictors without a
    network (measurements.baselines: chance, the majority colour, a colour per grey level). Losses are in runs_table: an A4 page holds no more
    columns."""
    df = pd.DataFrame({"network": arch.row.map(network), "epochs": arch.epochs, "parameters": arch.parameters,
                       "val acc (%)": [_star(a, b) for a, b in zip(arch.acc, arch.best)],
                       "original (%)": arch.original, "difference (points)": arch["diff"],
                       "95 % interval": _bounds(arch.interval), "verdict": arch.verdict, "time (s)": arch.seconds})
    if baselines:
        df = pd.concat([df, pd.DataFrame({"network": list(BASELINES.values()),
                                          "val acc (%)": [f"{baselines[k]:.1f}" for k in BASELINES]})], ignore_index=True)
        caption += (" The last three rows score predictors without a network: chance, the training pixels' most "
                    "frequent colour everywhere, and each grey level's most frequent colour.")
    return table(df[known(df, df.columns)], label, caption,
                 {"original (%)": fixed(1), "difference (points)": fixed(1, signed=True), "time (s)": fixed(0)}, runs=runs)


def effects_table(effects, label, caption, *, runs):
    """What each change the comparison measures adds (stats.effects): the rows with and without it,
    the difference with Welch's interval and its verdict, and all else that differs between them."""
    df = pd.DataFrame({"change (the rows compared)": [f"{c} ({' − '.join(map(network, r[:2])) if len(r) == 2 else 'the 2x2'})"
                                                      for c, r in zip(effects.change, effects.rows)],
                       "difference (points)": effects["diff"], "95 % interval": _bounds(effects.interval),
                       "verdict": effects.verdict, "all that differs": effects.differs})
    return table(df, label, caption, {"difference (points)": fixed(1, signed=True)}, runs=runs,
                 prose=("change (the rows compared)", "all that differs"))


def verdicts(best, field):
    """The best value of each model (stats.best_values) and how sure it is, as sentences."""
    name = field_name(field)
    lines = []
    for r in best.itertuples():
        if pd.isna(r.best):
            lines.append(f"- **{MODELS[r.model]}**: {r.verdict}.")
            continue
        runner = "" if pd.isna(r.runner_up) else f", runner-up {name} {number(r.runner_up)}"
        lines.append(f"- **{MODELS[r.model]}**: best {name} {number(r.best)} ({r.mean:.1f} %){runner}; {r.verdict}.")
    return Markdown("\n".join(lines))


def _stage(layer):
    """The stage a layer belongs to, from its place in the network: "down 1", "down 1, shortcut",
    "final"; "" for a layer of a plain stack or a skip's concatenation or sum (its operation says it)."""
    stage, *rest = layer.split(".")
    if stage in ("layers", "cat", "add"):
        return ""
    return re.sub(r"(\D)(\d+)$", r"\1 \2", stage) + (", shortcut" if "shortcut" in rest else "")


def layer_table(model, label, caption):
    """A network layer by layer (cnnreport.science.layers): output shape, parameters, exact and textbook
    receptive field; the caption ends with the totals."""
    from cnnreport.science.layers import layer_table as rows_of
    from cnnreport.science.layers import total
    rows = rows_of(model)
    df = pd.DataFrame({"stage": [_stage(r["layer"]) for r in rows], "operation": [r["op"] for r in rows],
                       "output (C, H, W)": ["({}, {}, {})".format(*r["shape"]) for r in rows],
                       "parameters": [r["params"] for r in rows], "RF": [r["rf"] for r in rows],
                       "RF textbook": [r["rf_textbook"] for r in rows]})
    if not df.stage.any():
        df = df.drop(columns="stage")   # a plain stack: its operations say it all
    rf = rows[-1]["rf"]
    return table(df, label, f"{caption} In all {total(rows, 'params'):,} parameters; an output pixel depends on "
                            f"{rf} x {rf} input pixels.", runs=())


QUALITY = {m: (METRICS[m], claims.DIGITS[m]) for m in METRICS}   # a colour metric's column name and decimals


def _mean_std(mean, std, digits):
    """mean ± std as one unbreakable cell ("45.3 ± 0.4"; "–" without a mean, the mean alone without a std)."""
    return "–" if mean != mean else (f"{mean:.{digits}f}" + ("" if std != std else f" ± {std:.{digits}f}")).replace(" ", "\u00a0")


def quality_table(quality, label, caption, *, runs):
    """Colour metrics per network (stats.metric_table rows), mean ± std over seeds; ★ marks
    the network clearly best on a metric (claims.ranking, at the metric's printed precision), none where none is. The truth's colourfulness, the same for every row, ends the caption."""
    cols = {"network": quality.model.map(MODELS)}
    for m, (name, digits) in QUALITY.items():
        if m != "colourfulness_true":
            first, _, _, verdict = claims.ranking(list(quality[m]), list(quality[f"{m}_std"]), list(quality.runs), digits)
            cols[name] = [_star(_mean_std(a, s, digits), i == first and verdict == "clear")
                          for i, (a, s) in enumerate(zip(quality[m], quality[f"{m}_std"]))]
    return table(pd.DataFrame(cols), label, f"{caption} The true images' colourfulness: "
                                            f"{quality.colourfulness_true.iloc[0]:.1f}.", runs=runs)


def rebalancing_table(effect, label, caption, *, runs):
    """What class rebalancing changes (stats.rebalancing_effect): per network and metric, the
    plain and rebalanced means, the change and its paired interval over seeds with its verdict,
    each at the metric's printed precision."""
    digits = [QUALITY[m][1] for m in effect.metric]
    df = pd.DataFrame({"network": effect.model.map(MODELS), "metric": [QUALITY[m][0] for m in effect.metric],
                       "plain": [f"{v:.{d}f}" for v, d in zip(effect.plain, digits)],
                       "rebalanced": [f"{v:.{d}f}" for v, d in zip(effect.rebalanced, digits)],
                       "change": [signed(v, d) for v, d in zip(effect.change, digits)],
                       "95 % interval": _bounds(effect.interval), "verdict": effect.verdict})
    df = df[effect.metric != "colourfulness_true"]
    return table(df[known(df, df.columns)], label, caption, runs=runs)


def decoding_table(decoded, label, caption, *, runs):
    """The colour metrics of stored weights under each decoding (stats.decodings),
    mean over the runs given."""
    shown = [m for m in QUALITY if m != "colourfulness_true"]   # the truth's: the same for every row
    g = decoded.groupby(["model", "rebalance", "decoding"], sort=False)[shown].mean().reset_index()
    df = pd.DataFrame({"network": g.model.map(MODELS), "rebalanced": ["yes" if r else "no" for r in g.rebalance],
                       "decoding": g.decoding, **{QUALITY[m][0]: g[m] for m in shown}})
    if df.rebalanced.nunique() == 1:
        df = df.drop(columns="rebalanced")
    return table(df, label, caption, {QUALITY[m][0]: fixed(QUALITY[m][1]) for m in shown}, runs=runs)


def reproduction_table(repro, label, caption, *, runs):
    """Every original-report number a sweep reran (stats.reproduction) beside ours: mean ± std
    over seeds of the same epoch, the difference, the difference had we taken our best epochs,
    and the verdict. A sweep's setting is its value alone (the experiment names the field)."""
    what = [number(v) if isinstance(f, str) else f"{e} epochs" for f, v, e in zip(repro.field, repro.value, repro.epochs)]
    df = pd.DataFrame({"experiment": repro.experiment, "network": repro.model.map(MODELS), "setting": what,
                       "epoch": repro.epoch, "original (%)": repro.original,
                       "ours (%)": [_mean_std(m, s, 1) for m, s in zip(repro["mean"], repro["std"])],
                       "difference (points)": repro["diff"], "95 % interval": _bounds(repro.interval),
                       "verdict": repro.verdict, "with our best epoch": repro.best_diff})
    return table(df, label, caption, {"original (%)": fixed(1), "difference (points)": fixed(1, signed=True),
                                      "with our best epoch": fixed(1, signed=True)}, runs=runs)


def originals_table(effect, label, caption, *, runs):
    """The same weights on the original test images and on their JPEG twins (measurements.originals_effect)."""
    df = pd.DataFrame({"network": effect.model.map(MODELS), "on the JPEG twins (%)": effect.twins,
                       "on the originals (%)": effect.originals, "originals − twins (points)": effect["diff"],
                       "95 % interval": _bounds(effect.interval),
                       "verdict": effect.verdict})
    return table(df, label, caption, {"on the JPEG twins (%)": fixed(2), "on the originals (%)": fixed(2),
                                      "originals − twins (points)": fixed(2, signed=True)}, runs=runs)


def training_table(effect, label, caption, *, runs):
    """The 2 x 2 of training and testing on the originals or their JPEG twins (measurements.training_effect)."""
    rows = []
    for r in effect.to_dict("records"):
        for arm, name in (("originals", "originals"), ("twins", "JPEG twins")):
            rows.append({"network": MODELS[r["model"]], "trained on": name,
                         "tested on the originals (%)": _mean_std(r[f"{arm}_on_originals"], r[f"{arm}_on_originals_std"], 1),
                         "tested on the JPEG twins (%)": _mean_std(r[f"{arm}_on_twins"], r[f"{arm}_on_twins_std"], 1)})
    return table(pd.DataFrame(rows), label, caption, runs=runs)


def precision_table(effect, label, caption, *, runs):
    """bf16 against float32 per network (measurements.precision_effect)."""
    df = pd.DataFrame({"network": effect.model.map(MODELS), "bf16 (%)": [_mean_std(m, s, 1) for m, s in zip(effect.bf16, effect.bf16_std)],
                       "float32 (%)": [_mean_std(m, s, 1) for m, s in zip(effect.float32, effect.float32_std)],
                       "bf16 − float32 (points)": effect["diff"], "95 % interval": _bounds(effect.interval),
                       "verdict": effect.verdict,
                       "float32's time / bf16's": effect.time_ratio})
    return table(df, label, caption, {"bf16 − float32 (points)": fixed(1, signed=True), "float32's time / bf16's": fixed(1)}, runs=runs)


def consistency_table(pairs, label, caption, *, runs):
    """The original report's (loss, accuracy) pairs against our runs' relation (consistency.consistency)."""
    df = pd.DataFrame({"network": pairs.model.map(MODELS), "run": pairs.what.str.replace(" ", "\u00a0"), "val loss": pairs.val_loss,
                       "val acc (%)": pairs.val_acc, "ours at that loss (%)": pairs.expected,
                       "distance (points)": pairs.distance, "our scatter (points)": pairs.residual,
                       "verdict": [v + ("" if inside else ", beyond our losses") for v, inside in zip(pairs.verdict, pairs.within_range)]})
    return table(df, label, caption, {"val loss": fixed(4), "val acc (%)": fixed(1), "ours at that loss (%)": fixed(1),
                                      "distance (points)": fixed(1, signed=True), "our scatter (points)": fixed(1)}, runs=runs)


def size_table(sizes, label, caption, *, runs):
    """Width against accuracy of the residual network and the U-Net (measurements.size_table)."""
    df = pd.DataFrame({"network": sizes.model.map(MODELS), "NF": sizes.num_filters, "parameters": sizes.parameters,
                       "multiply-adds per image (M)": sizes.mult_adds / 1e6, "training compute (TMAC)": sizes.compute / 1e12,
                       "val acc (%)": [_mean_std(m, s, 1) for m, s in zip(sizes["mean"], sizes["std"])],
                       "time per run (s)": sizes.seconds})
    return table(df, label, caption, {"multiply-adds per image (M)": fixed(1), "training compute (TMAC)": fixed(1),
                                      "time per run (s)": fixed(0)}, runs=runs)


def palette_table(palette, label, caption):
    """The palettes fitted on two copies of the same images against each other (measurements.palette_effect)."""
    columns = {"median move (CIELAB ΔE)": "median_delta_e", "largest move (ΔE)": "max_delta_e",
               "pixels changing category, each its own palette (%)": "labels_changed_own_palettes",
               "pixels changing category, one palette for both (%)": "labels_changed_one_palette"}
    return table(pd.DataFrame([{name: palette[key] for name, key in columns.items()}]), label, caption,
                 {name: fixed(1) for name in columns}, runs=())


def weighed_table(causes, label, caption, *, runs):
    """The causes of our differences from the original report, each with its measured size (causes.weighed)."""
    def size(lo, hi, cause):
        if lo != lo:
            return "–"
        fmt = fixed(1) if cause == "chance" else signed   # a spread has no sign
        return f"{fmt(lo)} to {fmt(hi)}".replace(" ", "\u00a0")
    size = [size(lo, hi, c) for lo, hi, c in zip(causes.low, causes.high, causes.cause)]
    return table(pd.DataFrame({"cause": causes.cause, "measured as": causes.measured, "effect (points)": size,
                               "what it explains": causes.verdict}), label, caption, runs=runs,
                 prose=("cause", "measured as", "what it explains"))


def gaps_table(gaps, label, caption, *, runs):
    """Each network's gap to the original report beside the measured effects that would move it, each
    with its interval and verdict, their sum where clear, and what is left (causes.architecture_gaps)."""
    def cell(i):
        return "–" if i is None else f"{signed(i.diff)} {i}".replace(" –", "").replace(" ", "\u00a0")
    df = pd.DataFrame({"network": gaps.model.map(MODELS), "ours − original": gaps.gap.map(cell),
                       "on the original images": gaps.data.map(cell), "data verdict": [i and i.verdict for i in gaps.data],
                       "in float32": gaps.precision.map(cell), "precision verdict": [i and i.verdict for i in gaps.precision],
                       "clear effects together": [cell(c) if clear else "none" for c, clear in zip(gaps.counted, gaps.clear)],
                       "left": gaps.left.map(cell)})
    return table(df, label, caption, runs=runs)


def receptive_fields(kernels):
    """{(kernel, network): the last layer's row of science.layers.layer_table} for each kernel size
    and network (the field of an output pixel does not depend on the widths)."""
    from cnnreport.science.layers import layer_table as rows_of
    from cnnreport.science.models import ARCHITECTURES, build_model
    return {(k, a): rows_of(build_model(a, k, 2, 2))[-1] for k in kernels for a in ARCHITECTURES}


def receptive_field_table(kernels, label, caption):
    """The receptive field of an output pixel by kernel size and network, exact, and by the textbook
    recursion in brackets where it differs."""
    from cnnreport.science.models import ARCHITECTURES
    last = receptive_fields(kernels)
    df = pd.DataFrame([{"kernel": k, **{MODELS[a]: f"{last[k, a]['rf']}" + ("" if last[k, a]["rf"] == last[k, a]["rf_textbook"]
                                                    else f" ({last[k, a]['rf_textbook']})") for a in ARCHITECTURES}}
                       for k in kernels])
    return table(df, label, caption, runs=())


QUANTITIES = {"params": "weights", "outputs": "outputs", "mult_adds": "multiply-adds"}   # science.layers' totals


def formula_table(kernel, label, caption):
    """Weights, outputs and multiply-adds per image of each network as polynomials in NF and NC."""
    from cnnreport.science.layers import count_formula, format_formula
    from cnnreport.science.models import ARCHITECTURES
    return table(pd.DataFrame([{"network": MODELS[a], **{name: format_formula(count_formula(a, q, kernel))
                                                         for q, name in QUANTITIES.items()}} for a in ARCHITECTURES]),
                 label, caption, runs=(), prose=tuple(QUANTITIES.values()))


def count_table(kernel, num_filters, num_colours, label, caption):
    """Weights, outputs and multiply-adds per image of each network at one NF and NC."""
    from cnnreport.science.layers import layer_table as rows_of
    from cnnreport.science.layers import total
    from cnnreport.science.models import ARCHITECTURES, build_model
    return table(pd.DataFrame([{"network": MODELS[a], **{name: total(rows_of(build_model(a, kernel, num_filters, num_colours)), q)
                                                         for q, name in QUANTITIES.items()}} for a in ARCHITECTURES]),
                 label, caption, runs=())


def settings_table(experiments, label, caption):
    """One row per experiment and network ({title: (the field it varies or None, its Configs)}): the
    values of the setting it varies, of every other setting that differs between experiments
    (sweeps.differing; sentences.common_settings words the rest) and the seeds."""

    def values(cs, name):
        seen = sorted({getattr(c, name) for c in cs}, reverse=name == "lr")
        return ", ".join(setting(v) for v in seen)
    rows = []
    for title, (field, cs) in experiments.items():
        for i, model in enumerate(dict.fromkeys(c.model for c in cs)):
            mine = [c for c in cs if c.model == model]
            rows.append({"experiment": "" if i else title, "network": MODELS[model],
                         "varied": f"{field_name(field)}: {values(mine, field)}" if field else "the network",
                         **{field_name(name): "" if name == field else values(mine, name) for name in differing(experiments)},
                         "seeds": values(mine, "seed")})
    return table(pd.DataFrame(rows), label, caption, runs=(), prose=("varied",))
