"""The report's figures, from Sweeps (cnnreport.analysis.sweeps), Runs and analysis tables; each returns a Figure.

Figures are made without pyplot's global state, so none is shown twice or kept in memory; a
notebook shows one with a number and caption through cnnreport.report.present.figure, which is why
they carry no titles unless asked for one."""

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from cnnreport.analysis.consistency import FAMILY, learned
from cnnreport.analysis.original import original_numbers
from cnnreport.analysis.stats import summary
from cnnreport.report.names import FIELDS, METRICS, MODELS

LABELS = {**FIELDS, "num_filters": "NF (number of filters)", **METRICS}   # axis labels


def _colours(keys):
    cycle = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    return {k: cycle[i % len(cycle)] for i, k in enumerate(keys)}


def sweep_plot(sweep, original=None, title=None):
    """Final val acc against the swept value, one line per network: our mean over seeds (error bars:
    std, when there are several seeds), the original report's numbers as hollow markers, and diverged
    values as an x on the bottom edge, labelled."""
    field = sweep.field
    seed = original if original is not None else original_numbers(field)
    table = summary(sweep, original=seed)
    fig = Figure(figsize=(7, 4.2))
    ax = fig.subplots()
    colour = _colours(table.model.unique())
    for model, g in table.groupby("model", sort=False):
        ok = g[g["mean"].notna()]
        ax.errorbar(ok.value, ok["mean"], yerr=ok["std"].fillna(0), marker="o", capsize=3, color=colour[model],
                    label=f"{MODELS[model]} (ours)")
        theirs = seed.get(model, {})
        if isinstance(theirs, dict) and theirs:
            xs = sorted(theirs)
            ax.plot(xs, [theirs[x] for x in xs], linestyle=":", marker="o", markerfacecolor="none",
                    color=colour[model], label=f"{MODELS[model]} (original report)")
    diverged = table[table["mean"].isna()]
    for _, r in diverged.iterrows():
        ax.plot(r.value, 0.02, marker="x", markersize=10, color=colour[r.model], transform=ax.get_xaxis_transform(),
                clip_on=False)
        ax.annotate(f"{MODELS[r.model]} diverged", (r.value, 0.02), xycoords=ax.get_xaxis_transform(), xytext=(4, 6),
                    textcoords="offset points", fontsize=8, color=colour[r.model])
    if field == "lr":
        ax.set_xscale("log")
    else:
        theirs = {x for t in seed.values() if isinstance(t, dict) for x in t}
        ax.set_xticks(sorted(set(table.value) | theirs))   # the values tried, not 1.5 or 2.5
    ax.set_xlabel(LABELS.get(field, field))
    ax.set_ylabel("final val acc (%)")
    ax.set_ylim(bottom=0)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _mean_curves(sweep, metric, label):
    """{label: (epochs, mean, min, max)} of `metric` over the finished seeds of each (network, value)
    of a Sweep; label: a format of {model} (its display name) and {value}."""
    groups = {}
    for run in sweep.runs:
        if run.status != "diverged":
            groups.setdefault((run.config.model, sweep.value(run)), []).append(run.history)
    curves = {}
    for (model, value), histories in groups.items():
        n = min(len(h) for h in histories)
        y = np.array([[row[metric] for row in h[:n]] for h in histories], dtype=float)
        curves[label.format(model=MODELS[model], value=value)] = (np.arange(1, n + 1), y.mean(0), y.min(0), y.max(0))
    return curves


def curves_plot(sweep, metrics, ylabel, label="{model}", title=None):
    """Per-epoch curves of each (network, value) of a Sweep, averaged over seeds with a band
    from the lowest to the highest seed; the first metric solid, the next dashed. Diverged runs
    are left out (their losses are not finite). The y axis turns logarithmic when the curves span
    more than a factor of 20, so that one barely converging run does not flatten all the others."""
    fig = Figure(figsize=(7, 4.2))
    ax = fig.subplots()
    colour, lowest, highest = None, np.inf, -np.inf
    for i, metric in enumerate(metrics):
        curves = _mean_curves(sweep, metric, label)
        colour = colour or _colours(curves)
        for name, (x, mean, lo, hi) in curves.items():
            ax.plot(x, mean, ["-", "--", ":"][i % 3], marker="o", markersize=3, color=colour[name],
                    label=name if i == 0 else None)
            if (hi > lo).any():
                ax.fill_between(x, lo, hi, color=colour[name], alpha=0.15)
            lowest, highest = min(lowest, lo.min()), max(highest, hi.max())
    if 0 < lowest and highest > 20 * lowest:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def loss_curves(sweep, label="{model}", title=None):
    """Cross-entropy per pixel per epoch: train solid, validation dashed."""
    return curves_plot(sweep, ["train_loss", "val_loss"], "cross-entropy per pixel", label, title)


def accuracy_curves(sweep, label="{model}", title=None):
    return curves_plot(sweep, ["val_acc"], "val acc (%)", label, title)


def gradient_norms(norms, title=None):
    """The theory notebook's gradient norms: one line per variant (columns of `norms`, indexed by
    layer), on a log scale."""
    fig = Figure(figsize=(7, 3.8))
    ax = fig.subplots()
    norms.plot(ax=ax, logy=True)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.set_xlabel("layer l (1 = closest to the input)")
    ax.set_ylabel("gradient norm ||dL/dx_l||")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def samples(rows):
    """A grid of images, one row per entry of `rows` ({name: (N, 3, H, W) RGB in [0, 1]}, e.g.
    gallery.sample_rows: grey input, truth, the palette's truth, then each run's colourization);
    a single image (N = 1) is laid out as one row of titled panels instead."""
    n = len(next(iter(rows.values())))
    single = n == 1
    shape = (1, len(rows)) if single else (len(rows), n)
    fig = Figure(figsize=(1.3 * len(rows), 1.6) if single else (1.1 * n + 1.2, 1.15 * len(rows)))
    axes = fig.subplots(*shape, squeeze=False)
    for i, (name, images) in enumerate(rows.items()):
        for j in range(n):
            ax = axes[0, i] if single else axes[i, j]
            ax.imshow(images[j].permute(1, 2, 0).clamp(0, 1).numpy(), interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
        if single:
            axes[0, i].set_title(name, fontsize=8)
        else:
            axes[i, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
    fig.tight_layout()
    return fig


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


def tradeoff(quality, x="pixel_acc", y="balanced_acc", title=None):
    """What rebalancing trades, per network: an arrow from the plain to the rebalanced mean of two
    metrics (stats.metric_table of a sweep over rebalance), error bars the seed std."""
    fig = Figure(figsize=(6.4, 4.2))
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
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


FAMILY_COLOURS = {"cnn": "tab:blue", "convtranspose": "tab:orange", "unet": "tab:green", "resnet": "tab:red"}


def compute_plot(table, on_frontier, seed=None, title=None):
    """Final val acc against training compute (multiply-accumulates, log scale), one point per
    setting of `table` (compute.settings), error bars the std over seeds, one colour per network
    family, the efficient frontier (`on_frontier`, a mask) as a line; `seed` (compute.original_compute):
    the original report's numbers as hollow markers, an estimated one hollow with a question mark."""
    fig = Figure(figsize=(7.2, 4.6))
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
            ax.annotate("?", (r.compute, r.mean), xytext=(5, 3), textcoords="offset points", fontsize=9)
    ax.set_xscale("log")
    ax.set_xlabel("training compute (multiply-accumulates: 3 x forward pass x images x epochs)")
    ax.set_ylabel("final val acc (%)")
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def relation_plot(runs, fits, pairs, title=None):
    """Final val acc against final val loss of every run of `runs` (Runs) that learned, the
    fitted relation of each family (consistency.relation) over the losses it was fitted on, and the
    original report's pairs (consistency.consistency) as hollow diamonds."""
    fig = Figure(figsize=(7.2, 4.6))
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
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
