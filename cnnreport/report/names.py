"""The names a reader sees, in one place: the networks, the settings and the metrics, in tables,
legends, axes and sentences alike."""

MODELS = {"cnn": "CNN", "convtranspose": "U-Net without skips", "unet": "U-Net", "resnet": "residual network"}
FIELDS = {"num_filters": "NF", "lr": "learning rate", "kernel": "kernel size", "rebalance": "rebalanced loss",
          "amp": "bf16"}
METRICS = {"pixel_acc": "pixel accuracy (%)", "balanced_acc": "balanced accuracy (%)", "auc": "AuC (%)",
           "psnr": "PSNR (dB)", "colourfulness": "colourfulness", "colourfulness_true": "colourfulness of the truth"}
