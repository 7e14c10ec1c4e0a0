"""How results read in the report: numbered, captioned figures and tables, formatted for reading.

A notebook shows a figure with `figure(fig, "fig:lr-sweep", "caption")` and a table with
`table(df, "tab:lr", "caption")` (or one of the tables below built on it); its markdown refers
to them as `@fig:lr-sweep` and `@tab:lr`. Numbers given here count within one notebook;
`cnnreport.report` numbers every figure and table again across the whole report, in order, and
replaces each reference by its "Figure 3" or "Table 2", linked to it.
"""
import base64
import html
import io
import math
import numbers
import re

import pandas as pd
from IPython.display import Markdown

FIELDS = {"num_filters": "NF", "lr": "learning rate", "kernel": "kernel size"}
KINDS = {"fig": "Figure", "tab": "Table"}
LABEL = re.compile(r"^(fig|tab):[A-Za-z0-9_-]+$")
LONG_TABLE = 25   # rows beyond which a table may break across pages (rows themselves never do)
_numbers = {"fig": {}, "tab": {}}   # label -> number, in the order this kernel first showed them


class Captioned:
    """A numbered figure or table: HTML in Jupyter and the report, its caption as plain text."""

    def __init__(self, html_text, text):
        self.html, self.text = html_text, text

    def _repr_html_(self):
        return self.html

    def __repr__(self):
        return self.text


def _captioned(label, caption, body, long=False):
    """`body` in a <figure> carrying the label (report.py finds and renumbers it) and its caption:
    above a table, below a figure, as papers place them. A long table may break across pages
    (report.py's print style), so that it starts under its caption rather than on a new page."""
    if not LABEL.match(label):
        raise ValueError(f"label {label!r} must look like fig:name or tab:name (letters, digits, - and _)")
    kind = label[:3]
    n = _numbers[kind].setdefault(label, len(_numbers[kind]) + 1)
    cap = f'<figcaption><b>{KINDS[kind]} <span class="report-number">{n}</span>:</b> {caption}</figcaption>'
    inner = cap + body if kind == "tab" else body + cap
    classes = f"report-{kind}" + (" report-long" if long else "")
    return Captioned(f'<figure class="{classes}" id="{label.replace(":", "-")}" data-label="{label}">'
                     f"{inner}</figure>", f"{KINDS[kind]} {n}: {re.sub(r'<[^>]+>', '', caption)}")


def figure(fig, label, caption, dpi=130):
    """A matplotlib Figure as a numbered figure with a caption (HTML allowed in captions)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    png = base64.b64encode(buf.getvalue()).decode()
    return _captioned(label, caption, f'<img src="data:image/png;base64,{png}" alt="{html.escape(label)}">')

# ----------------------------------------------------------------------------- cells


def number(x):
    """A plain number as people write it: 0.001, 1e-05 and 1e+30 at the extremes, 12,345 for integers."""
    if isinstance(x, numbers.Integral) and not isinstance(x, bool):
        return f"{x:,}"
    if x is None or isinstance(x, float) and math.isnan(x):
        return "–"
    if float(x).is_integer() and abs(x) < 1e6:
        return f"{int(x):,}"
    return f"{x:g}"


def fixed(digits, signed=False):
    """A formatter with `digits` decimals (a sign always shown when `signed`); NaN reads "–", and
    a value that rounds to zero reads 0.0, never -0.0."""
    spec = f"{'+' if signed else ''},.{digits}f"
    return lambda x: "–" if x is None or isinstance(x, float) and math.isnan(x) else format(round(x, digits) + 0.0, spec)


def signed(x, digits=1):
    """A difference with its sign, e.g. +1.2 or -0.5; one that rounds to zero reads +0.0, never -0.0."""
    return fixed(digits, signed=True)(x)


def table(df, label, caption, formats=None):
    """A DataFrame as a numbered table: no index column, each column through formats[column] (a
    function of the value; default `number` for numbers, str otherwise), numbers right-aligned."""
    formats = formats or {}
    columns = list(df.columns)
    numeric = {c: pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]) for c in columns}
    fmt = {c: formats.get(c, number if numeric[c] else str) for c in columns}
    align = {c: "right" if numeric[c] else "left" for c in columns}
    head = "".join(f'<th style="text-align:{align[c]}">{html.escape(str(c))}</th>' for c in columns)
    body = "".join("<tr>" + "".join(f'<td style="text-align:{align[c]}">{html.escape(fmt[c](v))}</td>'
                                    for c, v in zip(columns, values)) + "</tr>"
                   for values in df.itertuples(index=False))
    return _captioned(label, caption, f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>",
                      long=len(df) > LONG_TABLE)


def _known(df, columns):
    """`columns` without those that hold no value at all (a seed-report column where it gave none)."""
    return [c for c in columns if df[c].notna().any()]

# ----------------------------------------------------------------------------- the report's tables


def settings(p, profile):
    """A notebook's parameters (from load_params) as one compact table, three settings a row."""
    def value(name, v):
        if isinstance(v, dict):
            return "; ".join(f"{k}: {value(name, x)}" for k, x in v.items())
        if isinstance(v, list):
            return ", ".join(value(name, x) for x in v)
        return "all" if name.endswith("_images") and v == 0 else number(v) if isinstance(v, (int, float)) else str(v)
    cells = [f"<th>{html.escape(FIELDS.get(k, k.replace('_', ' ')))}</th><td>{html.escape(value(k, v))}</td>"
             for k, v in p.items()]
    rows = "".join("<tr>" + "".join(cells[i:i + 3]) + "</tr>" for i in range(0, len(cells), 3))
    return Captioned(f'<table class="report-settings"><caption>Settings ({html.escape(profile)} profile)</caption>'
                     f"{rows}</table>", f"Settings ({profile} profile): {p}")


def _star(text, best):
    """An accuracy cell, unbreakable ("45.3 ± 0.4"), starred when it is the best."""
    return (f"{text} ★" if best else text).replace(" ", "\u00a0")


def summary_table(summary, label, caption):
    """A sweep's summary (experiments.summary): per model and value, our accuracy (★: the model's
    best), the seed report's and the difference where it gave numbers, and the time per run."""
    field = summary.attrs.get("field")
    df = pd.DataFrame({"model": summary.model, FIELDS.get(field, field): summary.value,
                       "val acc (%)": [_star(a, b) for a, b in zip(summary.acc, summary.best)],
                       "seed report (%)": summary.seed_report, "ours − seed (points)": summary["diff"],
                       "time per run (s)": summary.seconds})
    return table(df[_known(df, df.columns)], label, caption,
                 {"seed report (%)": fixed(1), "ours − seed (points)": fixed(1, signed=True),
                  "time per run (s)": fixed(0)})


def runs_table(runs, label, caption):
    """Every run of a sweep (experiments.sweep), one row each: final and best-epoch accuracy, losses
    and time. The seed and status columns appear only where they tell runs apart."""
    field = runs.attrs.get("field")
    df = pd.DataFrame({"model": runs.model, FIELDS.get(field, field) or "value": runs.value, "seed": runs.seed,
                       "status": runs.status, "epochs": runs.epochs, "final val acc (%)": runs.val_acc,
                       "best val acc (%)": runs.best_val_acc, "train loss": runs.train_loss,
                       "val loss": runs.val_loss, "time (s)": runs.seconds})
    shown = [c for c in _known(df, df.columns) if c not in ("seed", "status", "epochs") or df[c].nunique() > 1]
    return table(df[shown], label, caption, {"final val acc (%)": fixed(1), "best val acc (%)": fixed(1),
                                             "train loss": fixed(3), "val loss": fixed(3), "time (s)": fixed(0)})


def architecture_table(arch, label, caption):
    """The architecture comparison (experiments.architecture_table) beside the seed report's; time
    per run (mean over seeds). Train losses are in runs_table: an A4 page holds no more columns."""
    df = pd.DataFrame({"model": arch.model, "epochs": arch.epochs, "parameters": arch.parameters,
                       "val loss": arch.val_loss, "val acc (%)": [_star(a, b) for a, b in zip(arch.acc, arch.best)],
                       "seed report (%)": arch.seed_report, "ours − seed (points)": arch["diff"],
                       "time (s)": arch.seconds, "seed epochs": arch.seed_epochs, "seed time (s)": arch.seed_seconds})
    return table(df[_known(df, df.columns)], label, caption,
                 {"val loss": fixed(3), "seed report (%)": fixed(1), "ours − seed (points)": fixed(1, signed=True),
                  "time (s)": fixed(0), "seed time (s)": fixed(0)})


def steps_table(steps, label, caption):
    """What each architectural change adds (experiments.steps), with its verdict."""
    df = pd.DataFrame({"change": steps.change, "models": steps.model, "difference (points)": steps["diff"],
                       "seed spread (points)": steps.spread, "verdict": steps.verdict})
    return table(df[_known(df, df.columns)], label, caption,
                 {"difference (points)": fixed(1, signed=True), "seed spread (points)": fixed(1)})


def verdicts(best, field):
    """The best value of each model (experiments.best_values) and how sure it is, as sentences."""
    name = FIELDS.get(field, field)
    lines = []
    for r in best.itertuples():
        if pd.isna(r.best):
            lines.append(f"- **{r.model}**: {r.verdict}.")
            continue
        runner = "" if pd.isna(r.runner_up) else f", runner-up {name} {number(r.runner_up)}"
        lines.append(f"- **{r.model}**: best {name} {number(r.best)} ({r.mean:.1f} %){runner}; {r.verdict}.")
    return Markdown("\n".join(lines))


def layer_table(model, label, caption):
    """A network layer by layer (cnnreport.science.layers): output shape, parameters, exact and textbook
    receptive field; the caption ends with the totals."""
    from cnnreport.science.layers import layer_table as rows_of
    from cnnreport.science.layers import total
    rows = rows_of(model)
    df = pd.DataFrame({"layer": [r["layer"] for r in rows], "operation": [r["op"] for r in rows],
                       "output (C, H, W)": ["({}, {}, {})".format(*r["shape"]) for r in rows],
                       "parameters": [r["params"] for r in rows], "RF": [r["rf"] for r in rows],
                       "RF textbook": [r["rf_textbook"] for r in rows]})
    rf = rows[-1]["rf"]
    return table(df, label, f"{caption} In all {total(rows, 'params'):,} parameters; an output pixel depends on "
                            f"{rf} x {rf} input pixels.")

# ----------------------------------------------------------------------------- colour quality

QUALITY = {"pixel_acc": ("pixel acc (%)", 1), "balanced_acc": ("balanced acc (%)", 1), "auc": ("AuC (%)", 1),
           "psnr": ("PSNR (dB)", 2), "colourfulness": ("colourfulness", 1),
           "colourfulness_true": ("colourfulness of the truth", 1)}


def _mean_std(mean, std, digits):
    """mean ± std as one unbreakable cell ("45.3 ± 0.4"; "–" without a mean, the mean alone without a std)."""
    return "–" if mean != mean else (f"{mean:.{digits}f}" + ("" if std != std else f" ± {std:.{digits}f}")).replace(" ", "\u00a0")


def quality_table(quality, label, caption):
    """Colour metrics per network (experiments.metric_table rows), mean ± std over seeds; ★ marks
    the best network on each metric. The truth's colourfulness, the same for every row, ends the caption."""
    cols = {"model": quality.model}
    for m, (name, digits) in QUALITY.items():
        if m != "colourfulness_true":
            cols[name] = [_star(_mean_std(a, s, digits), a == quality[m].max()) for a, s in zip(quality[m], quality[f"{m}_std"])]
    return table(pd.DataFrame(cols), label, f"{caption} The true images' colourfulness: "
                                            f"{quality.colourfulness_true.iloc[0]:.1f}.")


def rebalancing_table(effect, label, caption):
    """What class rebalancing changes (experiments.rebalancing_effect): per network and metric, the
    plain and rebalanced means, the change and the seed spread."""
    df = pd.DataFrame({"model": effect.model, "metric": [QUALITY[m][0] for m in effect.metric],
                       "plain": effect.plain, "rebalanced": effect.rebalanced, "change": effect.change,
                       "seed spread": effect.spread})
    df = df[effect.metric != "colourfulness_true"]
    return table(df[_known(df, df.columns)], label, caption,
                 {"plain": fixed(2), "rebalanced": fixed(2), "change": fixed(2, signed=True), "seed spread": fixed(2)})


def decoding_table(decoded, label, caption):
    """The colour metrics of stored weights under each decoding (experiments.compare_decodings),
    mean over the runs given."""
    shown = [m for m in QUALITY if m != "colourfulness_true"]   # the truth's: the same for every row
    g = decoded.groupby(["model", "rebalance", "decoding"], sort=False)[shown].mean().reset_index()
    df = pd.DataFrame({"model": g.model, "rebalanced": ["yes" if r else "no" for r in g.rebalance],
                       "decoding": g.decoding, **{QUALITY[m][0]: g[m] for m in shown}})
    if df.rebalanced.nunique() == 1:
        df = df.drop(columns="rebalanced")
    return table(df, label, caption, {QUALITY[m][0]: fixed(QUALITY[m][1]) for m in shown})

# ----------------------------------------------------------------------------- ours against the seed report


def reproduction_table(repro, label, caption):
    """Every seed-report number a sweep reran (experiments.reproduction) beside ours: mean ± std
    over seeds of the same epoch, the difference, the difference had we taken our best epochs,
    and the verdict."""
    setting = [f"{FIELDS[f]} {number(v)}" if isinstance(f, str) else f"{e} epochs"
               for f, v, e in zip(repro.field, repro.value, repro.epochs)]
    df = pd.DataFrame({"experiment": repro.experiment, "model": repro.model, "setting": setting,
                       "epoch": repro.epoch, "seed report (%)": repro.seed_report,
                       "ours (%)": [_mean_std(m, s, 1) for m, s in zip(repro["mean"], repro["std"])],
                       "ours − seed (points)": repro["diff"], "with our best epoch": repro.best_diff,
                       "verdict": repro.verdict})
    return table(df, label, caption, {"seed report (%)": fixed(1), "ours − seed (points)": fixed(1, signed=True),
                                      "with our best epoch": fixed(1, signed=True)})


# ----------------------------------------------------------------------------- the causes, measured (cnnreport.analysis.causes)

NAMES = {"cnn": "CNN", "convtranspose": "U-Net without skips", "unet": "U-Net", "resnet": "residual network"}


def originals_table(effect, label, caption):
    """The same weights on the original test images and on their JPEG twins (causes.originals_effect)."""
    df = pd.DataFrame({"network": effect.model.map(NAMES), "on the JPEG twins (%)": effect.twins,
                       "on the originals (%)": effect.originals, "originals − twins (points)": effect["diff"],
                       "95 % interval": [f"{signed(lo, 2)} to {signed(hi, 2)}".replace(" ", "\u00a0") for lo, hi in zip(effect.low, effect.high)],
                       "verdict": effect.verdict})
    return table(df, label, caption, {"on the JPEG twins (%)": fixed(2), "on the originals (%)": fixed(2),
                                      "originals − twins (points)": fixed(2, signed=True)})


def training_table(effect, label, caption):
    """The 2 x 2 of training and testing on the originals or their JPEG twins (causes.training_effect)."""
    rows = []
    for r in effect.to_dict("records"):
        for arm, name in (("originals", "originals"), ("twins", "JPEG twins")):
            rows.append({"network": NAMES[r["model"]], "trained on": name,
                         "tested on the originals (%)": _mean_std(r[f"{arm}_on_originals"], r[f"{arm}_on_originals_std"], 1),
                         "tested on the JPEG twins (%)": _mean_std(r[f"{arm}_on_twins"], r[f"{arm}_on_twins_std"], 1)})
    return table(pd.DataFrame(rows), label, caption)


def precision_table(effect, label, caption):
    """bf16 against float32 per network (causes.precision_effect)."""
    df = pd.DataFrame({"network": effect.model.map(NAMES), "bf16 (%)": [_mean_std(m, s, 1) for m, s in zip(effect.bf16, effect.bf16_std)],
                       "float32 (%)": [_mean_std(m, s, 1) for m, s in zip(effect.float32, effect.float32_std)],
                       "bf16 − float32 (points)": effect["diff"], "verdict": effect.verdict,
                       "float32's time / bf16's": effect.time_ratio})
    return table(df, label, caption, {"bf16 − float32 (points)": fixed(1, signed=True), "float32's time / bf16's": fixed(1)})


def consistency_table(pairs, label, caption):
    """The original report's (loss, accuracy) pairs against our runs' relation (causes.consistency)."""
    df = pd.DataFrame({"network": pairs.model.map(NAMES), "run": pairs.what.str.replace(" ", "\u00a0"), "val loss": pairs.val_loss,
                       "val acc (%)": pairs.val_acc, "ours at that loss (%)": pairs.expected,
                       "distance (points)": pairs.distance, "our scatter (points)": pairs.residual,
                       "verdict": [v + ("" if inside else ", beyond our losses") for v, inside in zip(pairs.verdict, pairs.within_range)]})
    return table(df, label, caption, {"val loss": fixed(4), "val acc (%)": fixed(1), "ours at that loss (%)": fixed(1),
                                      "distance (points)": fixed(1, signed=True), "our scatter (points)": fixed(1)})


def size_table(sizes, label, caption):
    """Width against accuracy of the residual network and the U-Net (causes.size_table)."""
    df = pd.DataFrame({"network": sizes.model.map(NAMES), "NF": sizes.num_filters, "parameters": sizes.parameters,
                       "multiply-adds per image (M)": sizes.mult_adds / 1e6, "training compute (TMAC)": sizes.compute / 1e12,
                       "val acc (%)": [_mean_std(m, s, 1) for m, s in zip(sizes["mean"], sizes["std"])],
                       "time per run (s)": sizes.seconds})
    return table(df, label, caption, {"multiply-adds per image (M)": fixed(1), "training compute (TMAC)": fixed(1),
                                      "time per run (s)": fixed(0)})


def palette_table(palette, label, caption):
    """The palettes fitted on two copies of the same images against each other (causes.palette_effect)."""
    columns = {"median move (CIELAB ΔE)": "median_delta_e", "largest move (ΔE)": "max_delta_e",
               "pixels changing category, each its own palette (%)": "labels_changed_own_palettes",
               "… with one palette for both (%)": "labels_changed_one_palette"}
    return table(pd.DataFrame([{name: palette[key] for name, key in columns.items()}]), label, caption,
                 {name: fixed(1) for name in columns})


def weighed_table(causes, label, caption):
    """The causes of our differences from the original report, each with its measured size (causes.weighed)."""
    def size(lo, hi, cause):
        if lo != lo:
            return "–"
        fmt = fixed(1) if cause == "chance" else signed   # a spread has no sign
        return f"{fmt(lo)} to {fmt(hi)}".replace(" ", "\u00a0")
    size = [size(lo, hi, c) for lo, hi, c in zip(causes.low, causes.high, causes.cause)]
    return table(pd.DataFrame({"cause": causes.cause, "measured as": causes.measured, "effect (points)": size,
                               "what it explains": causes.verdict}), label, caption)


def gaps_table(gaps, label, caption):
    """Each network's gap to the original report beside the measured effects that move it (causes.architecture_gaps)."""
    df = pd.DataFrame({"network": gaps.model.map(NAMES), "ours − original (points)": gaps.gap,
                       "JPEG copy at test": gaps.test, "JPEG copy in training": gaps.training,
                       "measured differently": gaps.measurement, "together": gaps.together, "left unexplained": gaps.left})
    return table(df, label, caption, {c: fixed(1, signed=True) for c in df.columns if c != "network"})
