"""The original report's numbers, as data: what it measured, what it chose, and the (loss, accuracy)
pairs it gives, which the comparisons read (see ../shared/mission/original-report.md for the report)."""
import pandas as pd

# Final val acc (%) after 30 epochs at kernel 3, by swept field, model and value. The kernel sweep
# is a figure only (kernel 3 best for both). The CNN's NF sweep has a second column in the report's
# summary table, apparently the best epoch: "num_filters_best".
ORIGINAL = {
    "num_filters": {
        "cnn": {16: 43.2, 32: 45.2, 48: 44.0, 64: 45.4, 80: 44.3, 96: 46.0, 128: 45.3},
        "unet": {16: 55.0, 32: 56.4, 48: 56.4, 64: 57.4, 80: 56.1, 96: 56.8, 128: 56.5},
    },
    "num_filters_best": {"cnn": {16: 43.2, 32: 45.4, 48: 44.2, 64: 45.8, 80: 46.0, 96: 46.7, 128: 46.7}},
    "num_filters_loss": {"cnn": {16: 1.5906, 32: 1.5095, 48: 1.5207, 64: 1.5019, 80: 1.5415, 96: 1.4845, 128: 1.5095}},
    "num_filters_seconds": {"cnn": {16: 459, 32: 646, 48: 838, 64: 1071, 80: 1288, 96: 1665, 128: 2379}},
    "lr": {
        "cnn": {1.0: 7.4, 0.1: 41.5, 0.01: 46.7, 0.001: 45.5, 0.0001: 41.5, 0.00001: 27.3},
        "unet": {10.0: 39.8, 1.0: 61.2, 0.1: 54.0, 0.01: 57.6, 0.001: 56.4, 0.0001: 45.7},
    },
    "kernel": {},
    # NF 32, kernel 3, lr 0.001; resnet: NF not stated, 25 epochs. Times on the student's machine.
    "final": {
        "cnn": dict(epochs=30, train_loss=1.4972, val_loss=1.5197, val_acc=44.7, seconds=635),
        "unet": dict(epochs=30, train_loss=1.2096, val_loss=1.2101, val_acc=56.4, seconds=694),
        "resnet": dict(epochs=25, train_loss=0.9064, val_loss=0.8474, val_acc=70.5, seconds=4359),
    },
}


# How the original report trained, where it differs from nothing of ours: the assignment's defaults
# (its report names Adam and these; it trained in PyTorch's default precision).
ORIGINAL_TRAINING = {"optimiser": "Adam", "batch_size": 100, "precision": "float32"}

# The settings the original report concludes are best (for the U-Net's learning rate it states none).
ORIGINAL_CHOICES = {"num_filters": {"cnn": 96, "unet": 64}, "kernel": {"cnn": 3, "unet": 3}, "lr": {"cnn": 0.01}}


SWEEP_EPOCHS = 30   # the epochs of every run of the original report's sweeps


def original_epochs(column, model):
    """The epochs the original report trained the run behind its number in ORIGINAL[column] for `model`."""
    return ORIGINAL["final"][model]["epochs"] if column == "final" else SWEEP_EPOCHS


def original_numbers(field):
    """{model: {value: val acc}} of the original report for a swept field; for "final", {model: val acc}."""
    if field == "final":
        return {m: r["val_acc"] for m, r in ORIGINAL["final"].items()}
    return ORIGINAL.get(field, {})


def seed_repeats():
    """{model: [val acc, ...]}: the original report's final accuracies of one and the same setting (NF 32,
    kernel 3, lr 0.001, 30 epochs), which its NF sweep, LR sweep and final comparison each report:
    how far its own numbers move between runs of one setting."""
    return {m: [ORIGINAL["num_filters"][m][32], ORIGINAL["lr"][m][0.001], ORIGINAL["final"][m]["val_acc"]]
            for m in ("cnn", "unet")}


def seed_pairs():
    """The original report's (final val loss, final val acc) pairs: its CNN's NF sweep and its three final runs."""
    rows = [dict(model="cnn", what=f"NF {nf}", val_loss=loss, val_acc=ORIGINAL["num_filters"]["cnn"][nf])
            for nf, loss in ORIGINAL["num_filters_loss"]["cnn"].items()]
    rows += [dict(model=m, what="final", val_loss=r["val_loss"], val_acc=r["val_acc"]) for m, r in ORIGINAL["final"].items()]
    return pd.DataFrame(rows)
