"""A run's settings: `Config`, checked when made, so that a bad value fails before any training.
Every field that changes the numbers is part of the run's identity in the runs store."""
import math
from dataclasses import dataclass, fields

from cnnreport.science.data import check_category
from cnnreport.science.models import ARCHITECTURES, DROPOUT, check_shape_params
from cnnreport.science.palette import MIX, SIGMA


@dataclass(frozen=True)
class Config:
    model: str = "cnn"        # one of models.ARCHITECTURES
    num_filters: int = 32     # NF: width of the first layer; deeper layers use multiples
    kernel: int = 3           # odd convolution kernel size; padding kernel // 2 keeps 32x32
    num_colours: int = 24     # NC: k-means palette size = number of classes per pixel
    lr: float = 0.001         # Adam learning rate (the assignment's default)
    epochs: int = 30          # passes over the training images
    batch_size: int = 100     # images per training step (the assignment's default)
    seed: int = 0             # weight init and per-epoch shuffles
    category: str = "horse"   # CIFAR-10 class to colourize
    train_images: int = 0     # use only the first N training images (0: all), for quick looks
    test_images: int = 0      # use only the first N test images (0: all)
    amp: bool = True          # bf16 autocast where native (see speed.precision); False: float32
    rebalance: bool = False   # weight each pixel's loss by its colour's rarity (palette.rebalance_weights);
                              # train_loss is then the weighted loss, val_loss stays the plain one
    rebalance_mix: float = MIX      # ... the uniform distribution's share in the weights (Zhang et al.'s lambda)
    rebalance_sigma: float = SIGMA  # ... Gaussian smoothing of the colour frequencies, in CIELAB ab units
    dropout: float = DROPOUT  # channel dropout inside the residual network's blocks (the other networks have none)

    def __post_init__(self):
        if self.model not in ARCHITECTURES:
            raise ValueError(f"unknown model {self.model!r}; choose one of {', '.join(ARCHITECTURES)}")
        check_shape_params(self.kernel, self.num_filters, self.num_colours)
        for name, least in (("epochs", 1), ("batch_size", 1), ("seed", 0), ("train_images", 0), ("test_images", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{name} must be an integer, got {value!r}")
            if value < least:
                raise ValueError(f"{name} must be >= {least}, got {value}")
        if isinstance(self.lr, bool) or not isinstance(self.lr, (int, float)) or not self.lr > 0 or math.isinf(self.lr):
            raise ValueError(f"lr must be a positive number, got {self.lr!r}")
        object.__setattr__(self, "lr", float(self.lr))  # 1 and 1.0 are one run
        for name, low, high in (("rebalance_mix", 0, 1), ("rebalance_sigma", 0, math.inf), ("dropout", 0, 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
                raise ValueError(f"{name} must be a number from {low} to {high}, got {value!r}")
            object.__setattr__(self, name, float(value))
        if self.rebalance_sigma == 0 or self.dropout == 1:
            raise ValueError(f"rebalance_sigma must be > 0 and dropout < 1, got {self.rebalance_sigma} and {self.dropout}")
        for name in ("amp", "rebalance"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false, got {getattr(self, name)!r}")
        check_category(self.category)

    @classmethod
    def names(cls):
        return [f.name for f in fields(cls)]


SHORT = {"num_filters": "nf", "kernel": "k", "batch_size": "bs"}   # settings as console lines name them


def tell_apart(configs, always=()):
    """Each config in a few words that tell it from the others: its model, every setting that varies
    among them or is named in `always` (nf=16 lr=0.01 bs=25 ...), and its seed."""
    varying = [f for f in Config.names() if f not in ("model", "seed")
               and (f in always or len({getattr(c, f) for c in configs}) > 1)]

    def said(v):
        return f"{v:g}" if isinstance(v, float) else str(v)
    return [" ".join([c.model, *(f"{SHORT.get(f, f)}={said(getattr(c, f))}" for f in varying), f"seed {c.seed}"])
            for c in configs]
