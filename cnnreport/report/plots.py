"""The report's figures, from Sweeps (cnnreport.analysis.sweeps), Runs and analysis tables; each returns a Figure.

Figures are made without pyplot's global state, so none is shown twice or kept in memory; a
notebook shows one with a number and caption through cnnreport.report.present.figure, which is why
they carry no titles unless asked for one."""

import functools
import math
import textwrap

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

from cnnreport.analysis.consistency import FAMILY, learned
from cnnreport.analysis.original import original_numbers
from cnnreport.analysis.stats import summary
from cnnreport.report.names import FIELDS, METRICS, MODELS, field_name, network
from cnnreport.report.present import setting

LABELS = {**FIELDS, "num_filters": "NF (number of filters)", **METRICS}   # axis labels

# The report shows a figure at most 17 cm (6.7 in) wide: figures that wide print their fonts at
# the sizes set here, none under 8 pt.
WIDTH = 6.7
STYLE = {"font.size": 9, "axes.titlesize": 9, "axes.labelsize": 9, "xtick.labelsize": 8.5,
         "ytick.labelsize": 8.5, "legend.fontsize": 8.5, "figure.titlesize": 10, "figure.labelsize": 9}

# The two curves of every loss figure, in the same colour and style in each: (legend entry, style).
STAGES = {"train": ("training", dict(color="tab:blue", linestyle="-")),
          "val": ("validation", dict(color="tab:orange", linestyle="--"))}


def print_size(draw):
    """Draw a figure under STYLE (rcParams are read as each artist is made, so the whole drawing
    runs inside the context)."""
    @functools.wraps(draw)
    def styled(*args, **kwargs):
        with matplotlib.rc_context(STYLE):
            return draw(*args, **kwargs)
    return styled


def _colours(keys):
    cycle = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    return {k: cycle[i % len(cycle)] for i, k in enumerate(keys)}


def _original(sweep, original=None):
    """What sweep_plot draws of a Sweep: its summary (stats.summary) and the original report's
    numbers ({model: {value: acc}}) of the networks the sweep has, where the report gives some."""
    numbers = original if original is not None else original_numbers(sweep.field)
    table = summary(sweep, original=numbers)
    theirs = {m: numbers[m] for m in table.model.unique() if isinstance(numbers.get(m), dict) and numbers[m]}
    return table, theirs


def _sweep_axes(ax, sweep, original=None):
    """Draw a sweep on `ax` (see sweep_plot); returns the legend's handles: ours, then the original's."""
    field = sweep.field
    table, theirs = _original(sweep, original)
    colour = _colours(table.model.unique())
    ours, reported = [], []
    for model, g in table.groupby("model", sort=False):
        ok = g[g["mean"].notna()]
        ours.append(ax.errorbar(ok.value, ok["mean"], yerr=ok["std"].fillna(0), marker="o", capsize=3,
                                color=colour[model], label=f"{MODELS[model]} (ours)"))
        if model in theirs:
            xs = sorted(theirs[model])
            reported += ax.plot(xs, [theirs[model][x] for x in xs], linestyle=":", marker="o", markerfacecolor="none",
                                color=colour[model], label=f"{MODELS[model]} (original report)")
    std = table["std"].fillna(0)
    drawn = [*(table["mean"] - std), *(table["mean"] + std), *(a for t in theirs.values() for a in t.values())]
    low, high = np.nanmin(drawn), np.nanmax(drawn)
    margin = max(high - low, 2.0) * 0.08
    diverged = table[table["mean"].isna()]
    ax.set_ylim(low - margin * (2.5 if len(diverged) else 1), high + margin)   # room above the x for its label
    for _, r in diverged.iterrows():
        ax.plot(r.value, 0, marker="x", markersize=10, markeredgewidth=2, color=colour[r.model],
                transform=ax.get_xaxis_transform(), clip_on=False)
        ax.annotate(f"{MODELS[r.model]} diverged", (r.value, 0), xycoords=ax.get_xaxis_transform(), xytext=(0, 8),
                    textcoords="offset points", ha="center", color=colour[r.model])
    if field == "lr":
        ax.set_xscale("log")
    else:
        ax.set_xticks(sorted(set(table.value) | {x for t in theirs.values() for x in t}))   # the values tried, not 1.5
    ax.set_xlabel(LABELS.get(field) or field_name(field))
    ax.grid(alpha=0.3)
    return ours + reported, bool(reported)


@print_size
def sweep_plot(sweep, original=None, title=None):
    """Final val acc against the swept value, one line per network: our mean over seeds (error bars:
    std, when there are several seeds), the original report's numbers as hollow markers on a dotted
    line, and diverged values as an x on the bottom edge, labelled. The y axis spans the numbers
    drawn, not 0 to 100, so that differences of a point or two show; sweep_caption says all this."""
    fig = Figure(figsize=(WIDTH, 3.8), layout="constrained")
    ax = fig.subplots()
    handles, reported = _sweep_axes(ax, sweep, original)
    ax.set_ylabel("final validation accuracy (%)")
    ax.set_title(title)
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=2 if reported else 4,
              frameon=False)   # below the axes: ours in one column, the original report's in the other
    return fig


@print_size
def sweeps_plot(sweeps):
    """The sweeps side by side, one panel each ({what: Sweep}, e.g. {"NF": ..., "learning rate": ...}),
    each drawn as sweep_plot draws it on its own y axis, with one legend for all."""
    fig = Figure(figsize=(WIDTH, 2.9), layout="constrained")
    axes = fig.subplots(1, len(sweeps), squeeze=False)[0]
    legend = {}
    for ax, (what, grid) in zip(axes, sweeps.items()):
        handles, _ = _sweep_axes(ax, grid)
        legend.update({h.get_label(): h for h in handles})
    axes[0].set_ylabel("final validation accuracy (%)")
    fig.legend(handles=list(legend.values()), loc="outside lower center", ncols=min(4, len(legend)), frameon=False)
    return fig


def sweep_caption(sweep, what, original=None):
    """The caption of sweep_plot(sweep), or of sweeps_plot given {what: Sweep}: it names what the figure
    draws and nothing else (error bars only with several seeds, the original report's markers only where
    it gives numbers, the x only when a setting diverged). what: the swept setting in words, e.g. "NF"
    or "learning rate"."""
    drawn = [_original(s, original) for s in (sweep.values() if isinstance(sweep, dict) else [sweep])]
    table = pd.concat([t for t, _ in drawn])
    theirs = any(t for _, t in drawn)
    several = (table.runs > 1).any()
    text = f"Final validation accuracy against {what}: " + (
        "our mean over seeds (error bars: std over seeds)" if several else "ours (one seed)")
    if theirs:
        text += ", the original report's numbers as hollow markers on a dotted line"
    if table["mean"].isna().any():
        text += ", diverged settings as an x on the bottom edge"
    return text + "."


def _mean_curves(sweep, metric, label):
    """{label: (epochs, mean, min, max)} of `metric` over the finished seeds of each (network, value)
    of a Sweep; label: a format of {model} (its display name) and {value}."""
    groups = {}
    for run in sweep.runs:
        if run.status != "diverged":
            groups.setdefault((sweep.row(run), sweep.value(run)), []).append(run.history)
    curves = {}
    for (row, value), histories in groups.items():
        n = min(len(h) for h in histories)
        y = np.array([[row[metric] for row in h[:n]] for h in histories], dtype=float)
        curves[label.format(model=network(row), value=setting(value))] = (np.arange(1, n + 1), y.mean(0), y.min(0), y.max(0))
    return curves


def _band(ax, x, mean, lo, hi, **style):
    """A mean curve with its band from the lowest to the highest seed (none with one seed);
    markers only when there are few epochs, so that a single epoch still shows."""
    line, = ax.plot(x, mean, marker="o" if len(x) < 10 else None, markersize=3, **style)
    if (hi > lo).any():
        ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.2, linewidth=0)
    return line


@print_size
def curves_plot(sweep, metrics, ylabel, label="{model}", title=None):
    """Per-epoch curves of a Sweep as small multiples: one panel per (network, value), titled with
    `label` (a format of {model} and {value}), at most 4 across, sharing the epochs but each with a
    y axis of its own (a barely converging run, losses in the hundreds, would flatten every other
    panel of a shared one); in each the mean over seeds of each metric (train_* and val_*, in the
    colours and styles of STAGES, named by one legend), with a band from the lowest to the highest
    seed. Diverged runs are left out (their losses are not finite). The y axes are logarithmic."""
    curves = {metric: _mean_curves(sweep, metric, label) for metric in metrics}
    names = list(curves[metrics[0]])
    cols = math.ceil(len(names) / math.ceil(len(names) / 4)) if names else 1   # rows as full as can be
    rows = max(1, math.ceil(len(names) / cols))
    fig = Figure(figsize=(WIDTH, 0.6 + 1.5 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, sharex=True, squeeze=False).ravel()
    for ax in axes[len(names):]:
        ax.remove()
    handles = {}
    for ax, name in zip(axes, names):
        for metric in metrics:
            entry, style = STAGES[metric.split("_")[0]]
            handles[entry] = _band(ax, *curves[metric][name], **style)
        ax.set_title(textwrap.fill(name, int(WIDTH / cols * 13)))   # about 13 characters an inch at 9 pt
        ax.grid(alpha=0.3)
    for ax in axes[max(0, len(names) - cols):len(names)]:
        ax.xaxis.set_tick_params(labelbottom=True)   # the lowest panel of each column, in a row left part empty too
    for ax in axes[:len(names)]:
        ax.set_yscale("log")
        decades = math.log10(ax.get_ylim()[1] / ax.get_ylim()[0])   # label as many ticks as the span leaves room for
        subs = (1, 1.5, 2, 2.5, 3, 4, 5, 7) if decades < 0.8 else (1, 2, 5) if decades < 1.5 else (1, 3) if decades < 2.5 else (1,)
        ax.yaxis.set_major_locator(LogLocator(subs=subs))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True, min_n_ticks=1))
    fig.supxlabel("epoch")
    fig.supylabel(ylabel)
    if title:
        fig.suptitle(title)
    fig.legend(list(handles.values()), list(handles), loc="outside upper center", ncols=2, frameon=False)
    return fig


def loss_curves(sweep, label="{model}", title=None):
    """Cross-entropy per pixel per epoch, one panel per (network, value): training and validation."""
    return curves_plot(sweep, ["train_loss", "val_loss"], "cross-entropy per pixel", label, title)


def loss_caption(sweep, what=None):
    """The caption of loss_curves(sweep): bands only when a setting has several finished seeds, and
    the diverged runs, which have no curve, named. what: the swept setting in words (None for a
    comparison of networks)."""
    models = list(dict.fromkeys(sweep.row(run) for run in sweep.runs))
    seeds = {}
    for run in sweep.runs:
        if run.status != "diverged":
            seeds.setdefault((sweep.row(run), sweep.value(run)), set()).add(run.config.seed)
    whose = f"The {network(models[0])}'s cross-entropy" if len(models) == 1 else "Cross-entropy"
    per = " and ".join(["network"] * (len(models) > 1 or not what) + [what] * bool(what))
    text = f"{whose} per pixel per epoch, one panel per {per}"
    text += ", log scale: training (solid) and validation (dashed)"
    if any(len(s) > 1 for s in seeds.values()):
        text += ", mean over seeds; bands from the lowest to the highest seed"
    else:
        text += " of one seed"
    runs = sweep.table
    gone = []
    for (row, value), g in runs.groupby(["row", "value"], sort=False, dropna=False):
        k = (g.status == "diverged").sum()
        if k:
            at = f" at {what} {setting(value)}" if what else ""
            gone.append(f"{network(row)}{at} ({k} of {len(g)} seeds{', no panel' if k == len(g) else ''})")
    if gone:
        text += "; runs that diverged are left out: " + ", ".join(gone)
    return text + "."


@print_size
def accuracy_curves(sweep, label="{model}", title=None):
    """Validation accuracy per epoch, one line per (network, value) named by the legend: the mean
    over seeds, with a band from the lowest to the highest seed."""
    fig = Figure(figsize=(WIDTH, 3.6), layout="constrained")
    ax = fig.subplots()
    curves = _mean_curves(sweep, "val_acc", label)
    colour = _colours(curves)
    for name, curve in curves.items():
        _band(ax, *curve, color=colour[name], label=name)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation accuracy (%)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    return fig


@print_size
def gradient_norms(norms, title=None):
    """The theory notebook's gradient norms: one line per variant (columns of `norms`, indexed by
    layer), on a log scale."""
    fig = Figure(figsize=(WIDTH, 3.6))
    ax = fig.subplots()
    norms.plot(ax=ax, logy=True)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.set_xlabel("layer l (1 = closest to the input)")
    ax.set_ylabel("gradient norm ||dL/dx_l||")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


@print_size
def samples(rows):
    """A grid of images, one row per entry of `rows` ({name: (N, 3, H, W) RGB in [0, 1]}, e.g.
    gallery.sample_rows: grey input, truth, the palette's truth, then each run's colourization),
    each row named on its left; a single image (N = 1) is laid out as one row of titled panels
    instead. The figure is WIDTH wide whatever N, so that the names print at their font size."""
    n = len(next(iter(rows.values())))
    single = n == 1
    if single:
        side = WIDTH / len(rows)
        fig = Figure(figsize=(WIDTH, side + 0.5), layout="constrained")
        axes = fig.subplots(1, len(rows), squeeze=False)
    else:
        names = 1.3                                    # inches for the names, wrapped to two lines
        side = min(1.0, (WIDTH - names) / n)
        fig = Figure(figsize=(names + side * n, side * len(rows)))
        axes = fig.subplots(len(rows), n, squeeze=False, gridspec_kw=dict(
            left=names / (names + side * n), right=1, bottom=0, top=1, wspace=0.06, hspace=0.06))
    for i, (name, images) in enumerate(rows.items()):
        for j in range(n):
            ax = axes[0, i] if single else axes[i, j]
            ax.imshow(images[j].permute(1, 2, 0).clamp(0, 1).numpy(), interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
        if single:
            axes[0, i].set_title(textwrap.fill(name, max(8, int(side * 14))))
        else:
            axes[i, 0].set_ylabel(textwrap.fill(name, 18), rotation=0, ha="right", va="center", labelpad=6)
    return fig


@print_size
def confusion(matrix, palette, title=None):
    """A confusion matrix (true colour down, predicted across) as a picture: each row normalised
    to the share of that colour's pixels, the palette's colours as the tick marks."""
    counts = matrix.double()
    share = (counts / counts.sum(1, keepdim=True).clamp(min=1)).numpy()
    n = len(palette)
    fig = Figure(figsize=(6.4, 5.6))
    ax = fig.subplots()
    image = ax.imshow(share, cmap="viridis", vmin=0, vmax=1)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="share of the true colour's pixels")
    swatches = palette.clamp(0, 1).numpy()
    ax.imshow(swatches[None], extent=(-0.5, n - 0.5, n + 0.7, n - 0.2), clip_on=False)    # predicted colours below
    ax.imshow(swatches[:, None], extent=(-1.7, -0.8, n - 0.5, -0.5), clip_on=False)      # true colours left
    ax.set_xlim(-1.8, n - 0.5)
    ax.set_ylim(n + 0.8, -0.5)
    ax.set_xticks(range(0, n, 4))
    ax.set_yticks(range(0, n, 4))
    ax.set_xlabel("predicted colour (palette index; swatches below)")
    ax.set_ylabel("true colour (swatches left)")
    ax.set_title(title)
    fig.tight_layout()
    return fig


@print_size
def tradeoff(quality, x="pixel_acc", y="balanced_acc", title=None):
    """What rebalancing trades, per network: an arrow from the plain to the rebalanced mean of two
    metrics (stats.metric_table of a sweep over rebalance), error bars the seed std."""
    fig = Figure(figsize=(WIDTH, 3.3))
    ax = fig.subplots()
    colour = _colours(quality.model.unique())
    for model, g in quality.groupby("model", sort=False):
        plain, balanced = g[g.value == False], g[g.value == True]   # noqa: E712 - the swept values
        for part, marker in ((plain, "o"), (balanced, "s")):
            if not part.empty:
                ax.errorbar(part[x], part[y], xerr=part[f"{x}_std"].fillna(0), yerr=part[f"{y}_std"].fillna(0),
                            marker=marker, color=colour[model], capsize=2, linestyle="none")
        if not plain.empty and not balanced.empty:
            ax.annotate("", (balanced[x].iloc[0], balanced[y].iloc[0]), (plain[x].iloc[0], plain[y].iloc[0]),
                        arrowprops=dict(arrowstyle="->", color=colour[model]))
            ax.plot([], [], color=colour[model], label=MODELS[model])
    ax.plot([], [], "ko", label="plain loss")
    ax.plot([], [], "ks", label="rebalanced loss")
    ax.set_xlabel(LABELS.get(x, x))
    ax.set_ylabel(LABELS.get(y, y))
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


FAMILY_COLOURS = {"cnn": "tab:blue", "cnnskips": "tab:purple", "convtranspose": "tab:orange", "unet": "tab:green",
                  "resnet": "tab:red"}


@print_size
def compute_plot(table, on_frontier, seed=None, title=None):
    """Final val acc against training compute (multiply-accumulates, log scale), one point per
    setting of `table` (compute.settings), error bars the std over seeds, one colour per network
    family, the efficient frontier (`on_frontier`, a mask) as a line; `seed` (compute.original_compute):
    the original report's numbers as hollow markers, an estimated one hollow with a question mark."""
    fig = Figure(figsize=(WIDTH, 5.2), layout="constrained")
    ax = fig.subplots()
    for model, g in table.groupby("model", sort=False):
        ax.errorbar(g.compute, g["mean"], yerr=g["std"].fillna(0), marker="o", markersize=4, linestyle="none",
                    capsize=2, color=FAMILY_COLOURS[model], label=f"{MODELS[model]} (ours)")
    best = table[on_frontier].sort_values("compute")
    ax.step(best.compute, best["mean"], where="post", color="k", linewidth=1, alpha=0.6, label="efficient frontier (ours)")
    if seed is not None:
        for model, g in seed.groupby("model", sort=False):
            ax.plot(g.compute, g["mean"], marker="D", markerfacecolor="none", linestyle="none", color=FAMILY_COLOURS[model],
                    label=f"{MODELS[model]} (original report{', estimated' if g.estimated.any() else ''})")
        for r in seed[seed.estimated].itertuples():
            ax.annotate("?", (r.compute, r.mean), xytext=(5, 3), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_xlabel("training compute (multiply-accumulates: 3 x forward pass x images x epochs)")
    ax.set_ylabel("final val acc (%)")
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=2, frameon=False)   # below: it hid points
    return fig


@print_size
def relation_plot(runs, fits, pairs, title=None):
    """Final val acc against final val loss of every run of `runs` (Runs) that learned, the
    fitted relation of each family (consistency.relation) over the losses it was fitted on, and the
    original report's pairs (consistency.consistency) as hollow diamonds."""
    fig = Figure(figsize=(WIDTH, 4.6))
    ax = fig.subplots()
    ok = learned(runs)
    for family, g in ok.groupby(ok.model.map(FAMILY)):
        ax.plot(g.val_loss, g.val_acc, "o", markersize=3, alpha=0.5, color=FAMILY_COLOURS[family],
                label=f"{MODELS[family]} family (ours)")
        if family in fits:
            c, _, low, high = fits[family]
            x = np.linspace(low, high, 100)
            ax.plot(x, np.polyval(c, x), color=FAMILY_COLOURS[family], linewidth=1)
    for family, g in pairs.groupby(pairs.model.map(FAMILY)):
        ax.plot(g.val_loss, g.val_acc, "D", markerfacecolor="none", markersize=7, color=FAMILY_COLOURS[family],
                label=f"{MODELS[family]} (original report)")
    ax.set_xlabel("final val loss (cross-entropy per pixel)")
    ax.set_ylabel("final val acc (%)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig
