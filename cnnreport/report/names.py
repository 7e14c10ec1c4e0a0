"""The names a reader sees, in one place: the networks, the settings and the metrics, in tables,
legends, axes and sentences alike. An experiment is named by its notebook's title (cnnreport.contents.title)."""

MODELS = {"cnn": "CNN", "cnnskips": "CNN with skips", "convtranspose": "U-Net without skips", "unet": "U-Net",
          "resnet": "residual network"}
FIELDS = {"num_filters": "NF", "lr": "learning rate", "kernel": "kernel size", "rebalance": "rebalanced loss",
          "amp": "bf16", "num_colours": "colour categories", "train_images": "training images",
          "rebalance_mix": "rebalancing's uniform share", "rebalance_sigma": "rebalancing's smoothing (ab units)",
          "dropout": "the residual network's channel dropout", "category": "CIFAR-10 class"}
METRICS = {"pixel_acc": "pixel accuracy (%)", "balanced_acc": "balanced accuracy (%)", "auc": "AuC (%)",
           "psnr": "PSNR (dB)", "colourfulness": "colourfulness", "colourfulness_true": "colourfulness of the truth"}


def field_name(field):
    """A setting's display name: FIELDS', else its own name in words (batch_size: "batch size")."""
    return FIELDS.get(field, field.replace("_", " "))


def network(row):
    """A sweep's row as a reader sees it: its network's name where the row is a network, else the
    name the comparison gives the row ("residual network, 25 epochs")."""
    return MODELS.get(row, row)
