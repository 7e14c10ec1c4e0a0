"""The colourization networks, built by name: `build_model("unet", kernel=3, num_filters=32)`.

Every network maps a greyscale batch (N, 1, H, W) to per-pixel colour logits (N, NC, H, W), with
H and W divisible by 4. Padding is kernel // 2, so every odd kernel keeps the 32x32 size. Shape
comments are for a 32x32 input; NF is num_filters, NC num_colours.

Layouts follow the University of Toronto CSC321/CSC413 colourization assignment (its 2021-22
version, whose numbers the original report matches). `convtranspose` is ours: the U-Net without its
skip connections, and `cnnskips`, the base CNN with the U-Net's skip connections: with the CNN and
the U-Net they make a 2x2 of resampling (fixed or learned) and skips (without or with), so that
each is measured both ways. `resnet` is ours too (see `ResUNet`): the residual network the
original report trains.

Plain torch.nn only: the trainer makes them fast (cnnreport.training.speed) without changing what they compute.
"""
import torch
from torch import nn

ARCHITECTURES = ("cnn", "unet", "convtranspose", "resnet", "cnnskips")


class CNN(nn.Module):
    """The base "pool/upsample" network: fixed resampling, no skips."""

    def __init__(self, k, nf, nc):
        super().__init__()
        p = k // 2
        self.layers = nn.Sequential(
            nn.Conv2d(1, nf, k, padding=p), nn.MaxPool2d(2),                   # (N, NF, 16, 16)
            nn.BatchNorm2d(nf), nn.ReLU(inplace=True),
            nn.Conv2d(nf, 2 * nf, k, padding=p), nn.MaxPool2d(2),              # (N, 2NF, 8, 8)
            nn.BatchNorm2d(2 * nf), nn.ReLU(inplace=True),
            nn.Conv2d(2 * nf, nf, k, padding=p), nn.Upsample(scale_factor=2),  # (N, NF, 16, 16)
            nn.BatchNorm2d(nf), nn.ReLU(inplace=True),
            nn.Conv2d(nf, nc, k, padding=p), nn.Upsample(scale_factor=2),      # (N, NC, 32, 32)
            nn.BatchNorm2d(nc), nn.ReLU(inplace=True),
            nn.Conv2d(nc, nc, k, padding=p),                                   # (N, NC, 32, 32)
        )

    def forward(self, x):
        return self.layers(x)


class SkipCNN(nn.Module):
    """The base CNN with exactly the U-Net's two concatenations added and nothing else changed: its
    16x16 encoder features joined to the decoder's before the last upsampling, and the grey input
    to the last features before the final convolution. (The older assignment's U-Net also adds a
    bottleneck; this network does not.)"""

    def __init__(self, k, nf, nc):
        super().__init__()
        p = k // 2
        self.down1 = nn.Sequential(nn.Conv2d(1, nf, k, padding=p), nn.MaxPool2d(2),                  # (N, NF, 16, 16)
                                   nn.BatchNorm2d(nf), nn.ReLU(inplace=True))
        self.down2 = nn.Sequential(nn.Conv2d(nf, 2 * nf, k, padding=p), nn.MaxPool2d(2),             # (N, 2NF, 8, 8)
                                   nn.BatchNorm2d(2 * nf), nn.ReLU(inplace=True))
        self.up1 = nn.Sequential(nn.Conv2d(2 * nf, nf, k, padding=p), nn.Upsample(scale_factor=2),   # (N, NF, 16, 16)
                                 nn.BatchNorm2d(nf), nn.ReLU(inplace=True))
        self.up2 = nn.Sequential(nn.Conv2d(2 * nf, nc, k, padding=p), nn.Upsample(scale_factor=2),   # on cat(up1, down1): (N, NC, 32, 32)
                                 nn.BatchNorm2d(nc), nn.ReLU(inplace=True))
        self.final = nn.Conv2d(nc + 1, nc, k, padding=p)                                              # on cat(up2, x): (N, NC, 32, 32)

    def forward(self, x):
        d1 = self.down1(x)                                       # (N, NF, 16, 16)
        u1 = self.up1(self.down2(d1))                            # (N, NF, 16, 16)
        u2 = self.up2(torch.cat([u1, d1], 1))                    # (N, NC, 32, 32)
        return self.final(torch.cat([u2, x], 1))                 # (N, NC, 32, 32)


class UNet(nn.Module):
    """Strided convolutions down, transposed convolutions up; `skips=False` drops both concatenations.
    A transposed convolution with stride 2, padding k // 2 and output_padding 1 doubles H and W for
    any odd k: (H - 1) * 2 - 2 (k // 2) + k + 1 = 2H."""

    def __init__(self, k, nf, nc, skips=True):
        super().__init__()
        p = k // 2
        self.skips = skips
        s1, s0 = (nf, 1) if skips else (0, 0)  # extra input channels brought by each skip
        self.down1 = nn.Sequential(nn.Conv2d(1, nf, k, stride=2, padding=p),                         # (N, NF, 16, 16)
                                   nn.BatchNorm2d(nf), nn.ReLU(inplace=True))
        self.down2 = nn.Sequential(nn.Conv2d(nf, 2 * nf, k, stride=2, padding=p),                    # (N, 2NF, 8, 8)
                                   nn.BatchNorm2d(2 * nf), nn.ReLU(inplace=True))
        self.up1 = nn.Sequential(nn.ConvTranspose2d(2 * nf, nf, k, stride=2, padding=p, output_padding=1),  # (N, NF, 16, 16)
                                 nn.BatchNorm2d(nf), nn.ReLU(inplace=True))
        self.up2 = nn.Sequential(nn.ConvTranspose2d(nf + s1, nc, k, stride=2, padding=p, output_padding=1),  # (N, NC, 32, 32)
                                 nn.BatchNorm2d(nc), nn.ReLU(inplace=True))
        self.final = nn.Conv2d(nc + s0, nc, k, padding=p)                                            # (N, NC, 32, 32)

    def forward(self, x):
        d1 = self.down1(x)                                           # (N, NF, 16, 16)
        u1 = self.up1(self.down2(d1))                                # (N, NF, 16, 16)
        u2 = self.up2(torch.cat([u1, d1], 1) if self.skips else u1)  # (N, NC, 32, 32)
        return self.final(torch.cat([u2, x], 1) if self.skips else u2)


class ResBlock(nn.Module):
    """Two k x k convolutions with BN added to a shortcut (He et al. 2016): identity when the shape
    is kept, else a 1x1 (strided) projection with BN. Optional channel dropout between the two
    convolutions, as in wide residual networks (Zagoruyko & Komodakis 2016)."""

    def __init__(self, cin, cout, k, stride=1, dropout=0.0):
        super().__init__()
        p = k // 2
        self.body = nn.Sequential(
            nn.Conv2d(cin, cout, k, stride=stride, padding=p),  # (N, cout, H / stride, W / stride)
            nn.BatchNorm2d(cout), nn.ReLU(inplace=True), nn.Dropout2d(dropout),
            nn.Conv2d(cout, cout, k, padding=p),                # (N, cout, H / stride, W / stride)
            nn.BatchNorm2d(cout))
        self.shortcut = (nn.Identity() if cin == cout and stride == 1 else
                         nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride), nn.BatchNorm2d(cout)))  # same shape

    def forward(self, x):
        return torch.relu(self.body(x) + self.shortcut(x))


DROPOUT = 0.2  # ResUNet's channel dropout (Config.dropout): enough to stop it overfitting 5,000 horses (benchmarks/RESULTS.md)


class ResUNet(nn.Module):
    """The residual network: a U-Net whose every stage is a residual block.

    Unlike the U-Net, it keeps NF feature channels at full resolution from the first layer on
    and refines them with residual blocks, where the U-Net's only full-resolution layer is its
    final convolution; identity paths keep this deeper net as easy to train as the shallow ones.
    Every block has Dropout2d(dropout) between its convolutions: without it the net overfits the
    training horses within its 25 epochs.
    """

    def __init__(self, k, nf, nc, dropout=DROPOUT):
        super().__init__()
        p, d = k // 2, dropout
        self.stem = nn.Sequential(nn.Conv2d(1, nf, k, padding=p),                                 # (N, NF, 32, 32)
                                  nn.BatchNorm2d(nf), nn.ReLU(inplace=True))
        self.down1 = ResBlock(nf, nf, k, stride=2, dropout=d)                                     # (N, NF, 16, 16)
        self.down2 = ResBlock(nf, 2 * nf, k, stride=2, dropout=d)                                 # (N, 2NF, 8, 8)
        self.up1 = nn.Sequential(nn.ConvTranspose2d(2 * nf, nf, k, stride=2, padding=p, output_padding=1),  # (N, NF, 16, 16)
                                 nn.BatchNorm2d(nf), nn.ReLU(inplace=True))
        self.res1 = ResBlock(2 * nf, nf, k, dropout=d)                   # on cat(up1, down1): (N, NF, 16, 16)
        self.up2 = nn.Sequential(nn.ConvTranspose2d(nf, nf, k, stride=2, padding=p, output_padding=1),      # (N, NF, 32, 32)
                                 nn.BatchNorm2d(nf), nn.ReLU(inplace=True))
        self.res2 = ResBlock(2 * nf, nf, k, dropout=d)                   # on cat(up2, stem): (N, NF, 32, 32)
        self.head = nn.Conv2d(nf, nc, 1)                                                          # (N, NC, 32, 32)

    def forward(self, x):
        s = self.stem(x)                                              # (N, NF, 32, 32)
        d1 = self.down1(s)                                            # (N, NF, 16, 16)
        u1 = self.res1(torch.cat([self.up1(self.down2(d1)), d1], 1))  # (N, NF, 16, 16)
        u2 = self.res2(torch.cat([self.up2(u1), s], 1))               # (N, NF, 32, 32)
        return self.head(u2)                                          # (N, NC, 32, 32)


def check_shape_params(kernel, num_filters, num_colours=24):
    """Raise a ValueError naming the first bad size (shared by models and configs)."""
    for name, value in (("kernel", kernel), ("num_filters", num_filters), ("num_colours", num_colours)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be an integer, got {value!r}")
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")
    if kernel % 2 == 0:
        raise ValueError(f"kernel must be odd (1, 3, 5, ...) to keep 32x32 outputs, got {kernel}")
    if num_colours < 2:
        raise ValueError(f"num_colours must be >= 2, got {num_colours}")


def build_model(name, kernel=3, num_filters=32, num_colours=24, dropout=DROPOUT):
    if name not in ARCHITECTURES:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(ARCHITECTURES)}")
    check_shape_params(kernel, num_filters, num_colours)
    k, nf, nc = kernel, num_filters, num_colours
    if name == "cnn":
        return CNN(k, nf, nc)
    if name == "cnnskips":
        return SkipCNN(k, nf, nc)
    if name == "resnet":
        return ResUNet(k, nf, nc, dropout)
    return UNet(k, nf, nc, skips=name == "unet")
