"""The names a reader sees, in one place: the networks, the settings and the metrics, in tables,
legends, axes and sentences alike."""

MODELS = {"cnn": "CNN", "convtranspose": "U-Net without skips", "unet": "U-Net", "resnet": "residual network"}
FIELDS = {"num_filters": "NF", "lr": "learning rate", "kernel": "kernel size", "rebalance": "rebalanced loss",
          "amp": "bf16"}
METRICS = {"pixel_acc": "pixel accuracy (%)", "balanced_acc": "balanced accuracy (%)", "auc": "AuC (%)",
           "psnr": "PSNR (dB)", "colourfulness": "colourfulness", "colourfulness_true": "colourfulness of the truth"}
# The experiments, by notebook, as the appendix's tables name them (each is a section of the report).
SECTIONS = {"04_num_filters": "Number of filters", "05_learning_rate": "Learning rate", "06_kernel_size": "Kernel size",
            "07_architectures": "Architectures", "08_colour_quality": "Colour quality", "09_jpeg_copy": "Our JPEG copy",
            "10_precision": "Precision", "11_size": "Residual network's size"}
