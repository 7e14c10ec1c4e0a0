"""The Setup section's figures: the palette's colours and the networks' shapes, drawn from
the runs' palette and the networks' stages (the layer tables in the appendix give every layer)."""
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Rectangle

from cnnreport.report.names import MODELS
from cnnreport.report.plots import WIDTH, print_size

# Each network's stages, input first: (what the stage does, its output channels, its output side).
# A stage's box grows with its output side; SKIPS join a stage's output to a later stage's input.
STAGES = {
    "cnn": [("grey", "1", 32), ("conv, max-pool", "NF", 16), ("conv, max-pool", "2NF", 8), ("conv, upsample", "NF", 16),
            ("conv, upsample", "NC", 32), ("conv", "NC", 32)],
    "cnnskips": [("grey", "1", 32), ("conv, max-pool", "NF", 16), ("conv, max-pool", "2NF", 8), ("conv, upsample", "NF", 16),
                 ("conv, upsample", "NC", 32), ("conv", "NC", 32)],
    "convtranspose": [("grey", "1", 32), ("conv /2", "NF", 16), ("conv /2", "2NF", 8), ("tconv x2", "NF", 16),
                      ("tconv x2", "NC", 32), ("conv", "NC", 32)],
    "unet": [("grey", "1", 32), ("conv /2", "NF", 16), ("conv /2", "2NF", 8), ("tconv x2", "NF", 16),
             ("tconv x2", "NC", 32), ("conv", "NC", 32)],
    "resnet": [("grey", "1", 32), ("conv", "NF", 32), ("res /2", "NF", 16), ("res /2", "2NF", 8),
               ("tconv x2, res", "NF", 16), ("tconv x2, res", "NF", 32), ("1x1 conv", "NC", 32)],
}
SKIPS = {"cnn": [], "cnnskips": [(1, 4), (0, 5)], "convtranspose": [], "unet": [(1, 4), (0, 5)],   # (from, into)
         "resnet": [(2, 4), (1, 5)]}


@print_size
def networks(models):
    """One row per network (`models`, by id): a box per stage (taller for a larger side, labelled with its channels
    and side; under it, the operation that made it), arcs for the concatenations that skip ahead;
    "res" marks residual blocks."""
    fig = Figure(figsize=(WIDTH, 1.2 * len(models)), layout="constrained")
    axes = fig.subplots(len(models), 1, squeeze=False)[:, 0]
    for ax, model in zip(axes, models):
        stages = STAGES[model]
        for i, (what, channels, side) in enumerate(stages):
            h = 0.85 * (side / 32) ** 0.5   # 8x8 still holds its two lines of label
            ax.add_patch(Rectangle((i - 0.35, -h / 2), 0.7, h, facecolor="#dde6f0" if i else "#e4e4e4", edgecolor="#345"))
            ax.text(i, -0.48, what, ha="center", va="top", fontsize=8)
            ax.text(i, 0, f"{channels}\n{side}x{side}", ha="center", va="center", fontsize=8)
            if i:
                ax.annotate("", (i - 0.36, 0), (i - 0.64, 0), arrowprops=dict(arrowstyle="->", color="#345"))
        for a, b in SKIPS[model]:
            top = [0.425 * (stages[j][2] / 32) ** 0.5 for j in (a, b)]
            ax.add_patch(FancyArrowPatch((a, top[0]), (b - 0.2, top[1]), connectionstyle=f"arc3,rad={-0.6 / (b - a):.2f}",
                                         arrowstyle="->", color="tab:red", mutation_scale=8))
        ax.set_xlim(-0.6, len(stages) - 0.4)
        ax.set_ylim(-0.9, 1.05)
        ax.set_axis_off()
        ax.set_title(MODELS[model] + (" (red: concatenated skips)" if SKIPS[model] else ""), loc="left")
    return fig


@print_size
def palette(colours):
    """The palette's colours as swatches, dark to light, numbered as the categories are."""
    fig = Figure(figsize=(WIDTH, 1.0), layout="constrained")
    ax = fig.subplots()
    for i, rgb in enumerate(colours.tolist()):
        ax.add_patch(Rectangle((i, 0), 0.92, 1, facecolor=rgb))
        ax.text(i + 0.46, -0.15, str(i), ha="center", va="top", fontsize=8)
    ax.set_xlim(-0.1, len(colours))
    ax.set_ylim(-0.6, 1.05)
    ax.set_axis_off()
    return fig
