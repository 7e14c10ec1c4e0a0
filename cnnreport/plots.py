"""The report's figures, from sweep tables (cnnreport.experiments) and runs; each returns a Figure.

Figures are made without pyplot's global state, so none is shown twice or kept in memory: a
notebook cell (after `%matplotlib inline`) displays the one it ends with."""
import math


import matplotlib
import numpy as np
from matplotlib.figure import Figure

from .data import greyscale, load_category
from .experiments import seed_numbers, summary
from .palette import labels, to_rgb
from .train import colourize, load_run

LABELS = {"num_filters": "number of filters (NF)", "lr": "learning rate", "kernel": "kernel size"}


def _colours(keys):
    cycle = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    return {k: cycle[i % len(cycle)] for i, k in enumerate(keys)}


def sweep_plot(runs, field=None, seed_report=None, title=None):
    """Final val acc against the swept value, one line per model: our mean over seeds (error bars:
    std, when there are several seeds), the seed report's numbers as hollow markers, and diverged
    values as an x on the bottom edge, labelled."""
    field = field or runs.attrs.get("field")
    seed = seed_report if seed_report is not None else seed_numbers(field)
    table = summary(runs, seed_report=seed)
    fig = Figure(figsize=(7, 4.2))
    ax = fig.subplots()
    colour = _colours(table.model.unique())
    for model, g in table.groupby("model", sort=False):
        ok = g[g["mean"].notna()]
        ax.errorbar(ok.value, ok["mean"], yerr=ok["std"].fillna(0), marker="o", capsize=3, color=colour[model],
                    label=f"{model} (ours)")
        theirs = seed.get(model, {})
        if isinstance(theirs, dict) and theirs:
            xs = sorted(theirs)
            ax.plot(xs, [theirs[x] for x in xs], linestyle=":", marker="o", markerfacecolor="none",
                    color=colour[model], label=f"{model} (seed report)")
    diverged = table[table["mean"].isna()]
    for _, r in diverged.iterrows():
        ax.plot(r.value, 0.02, marker="x", markersize=10, color=colour[r.model], transform=ax.get_xaxis_transform(),
                clip_on=False)
        ax.annotate(f"{r.model} diverged", (r.value, 0.02), xycoords=ax.get_xaxis_transform(), xytext=(4, 6),
                    textcoords="offset points", fontsize=8, color=colour[r.model])
    if field == "lr":
        ax.set_xscale("log")
    ax.set_xlabel(LABELS.get(field, field))
    ax.set_ylabel("final val acc (%)")
    ax.set_ylim(bottom=0)
    ax.set_title(title or f"Validation accuracy against {LABELS.get(field, field)}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _mean_curves(runs, metric, label):
    """{label: (epochs, mean, min, max)} of `metric` over the finished seeds of each (model, value)."""
    curves = {}
    for (model, value), g in runs[runs.status != "diverged"].groupby(["model", "value"], sort=False, dropna=False):
        histories = [load_run(p).history for p in g.path]
        n = min(len(h) for h in histories)
        y = np.array([[row[metric] for row in h[:n]] for h in histories], dtype=float)
        name = model if value is None or (isinstance(value, float) and math.isnan(value)) else label.format(model=model, value=value)
        curves[name] = (np.arange(1, n + 1), y.mean(0), y.min(0), y.max(0))
    return curves


def curves_plot(runs, metrics, ylabel, label="{model}", title=None):
    """Per-epoch curves of each (model, value) of a sweep table, averaged over seeds with a band
    from the lowest to the highest seed; the first metric solid, the next dashed. Diverged runs
    are left out (their losses are not finite)."""
    fig = Figure(figsize=(7, 4.2))
    ax = fig.subplots()
    colour = None
    for i, metric in enumerate(metrics):
        curves = _mean_curves(runs, metric, label)
        colour = colour or _colours(curves)
        for name, (x, mean, lo, hi) in curves.items():
            ax.plot(x, mean, ["-", "--", ":"][i % 3], marker="o", markersize=3, color=colour[name],
                    label=name if i == 0 else None)
            if (hi > lo).any():
                ax.fill_between(x, lo, hi, color=colour[name], alpha=0.15)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.set_title(title or ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def loss_curves(runs, label="{model}", title="Cross-entropy per pixel (train solid, val dashed)"):
    return curves_plot(runs, ["train_loss", "val_loss"], "loss", label, title)


def accuracy_curves(runs, label="{model}", title="Validation accuracy per epoch"):
    return curves_plot(runs, ["val_acc"], "val acc (%)", label, title)


def samples(named_runs, n=8, data=None, category="horse", start=0):
    """A grid of test images: grey input, truth, truth in the palette's colours (the best any
    network can do), then each run's colourization. named_runs: {label: Run or run path}."""
    named_runs = {k: (load_run(v) if not hasattr(v, "palette") else v) for k, v in named_runs.items()}
    rgb = load_category(category, data).test[start:start + n]
    grey = greyscale(rgb)
    palette = next(iter(named_runs.values())).palette
    rows = {"grey input": grey.expand(-1, 3, -1, -1), "truth": rgb.float() / 255,
            f"truth, {len(palette)} colours": to_rgb(labels(rgb, palette), palette)}
    rows.update({name: colourize(run, grey) for name, run in named_runs.items()})
    fig = Figure(figsize=(1.1 * n + 1.2, 1.15 * len(rows)))
    axes = fig.subplots(len(rows), n, squeeze=False)
    for i, (name, images) in enumerate(rows.items()):
        for j in range(n):
            ax = axes[i, j]
            ax.imshow(images[j].permute(1, 2, 0).clamp(0, 1).numpy())
            ax.set_xticks([])
            ax.set_yticks([])
        axes[i, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
    fig.tight_layout()
    return fig
