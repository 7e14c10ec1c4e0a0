"""The colourization networks, built by name: `build_model("unet", kernel=3, num_filters=32)`.

Every network maps a greyscale batch (N, 1, H, W) to per-pixel colour logits (N, NC, H, W), with
H and W divisible by 4. Padding is kernel // 2, so every odd kernel keeps the 32x32 size.

Layouts follow the University of Toronto CSC321/CSC413 colourization assignment (its 2021-22
version, whose numbers the seed report matches). `convtranspose` is ours: the U-Net without its
skip connections, to separate what the skips add from what learned resampling adds. `resnet` is
ours too (see `ResUNet`): the residual network the seed report trains.
"""
import torch
import torch.nn.functional as F
from torch import nn

ARCHITECTURES = ("cnn", "unet", "convtranspose", "resnet")


def conv(cin, cout, k, stride=1):
    return Down(cin, cout, k) if stride == 2 else nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2)


def bn_relu(c):
    return [nn.BatchNorm2d(c), nn.ReLU(inplace=True)]


class Down(nn.Conv2d):
    """Convolution halving H and W (stride 2, padding k // 2), with the backward of `_Conv`."""

    def __init__(self, cin, cout, k):
        super().__init__(cin, cout, k, stride=2, padding=k // 2)

    def forward(self, x):
        return _Conv.apply(x, self.weight, self.bias, self)


class Up(nn.ConvTranspose2d):
    """Transposed convolution doubling H and W for any odd k: (H-1)*2 - 2(k//2) + k + 1 = 2H,
    with the backward of `_Conv`."""

    def __init__(self, cin, cout, k):
        super().__init__(cin, cout, k, stride=2, padding=k // 2, output_padding=1)

    def forward(self, x):
        return _Conv.apply(x, self.weight, self.bias, self)


WIDE = 4096  # in x out channels from which a weight gradient is one matmul on the CPU (see _Conv)


class _Conv(torch.autograd.Function):
    """The forward of module m (a Down or an Up), and a backward that mends two slow spots of
    oneDNN, the CPU backend (ms from benchmarks/bench.py; gradients equal up to rounding):
    - bias gradients as a plain sum: oneDNN computes a transposed convolution's in a slow loop
      of its own (U-Net NF 32: 1.3 and 4.2 ms of a 49 ms step, where the sums take 0.04 and 0.15);
    - on the CPU, the weight gradient of wide layers (in x out channels >= WIDE) as one matmul
      over im2col columns (`_weight_grad`), which runs near the matmul peak where oneDNN's
      jit_bf16 kernels reach ~225 GFLOP/s (U-Net NF 128: 152-157 -> 138-142 ms a step; none of
      its layers at NF 32, where it gains nothing)."""

    @staticmethod
    def forward(ctx, x, weight, bias, m):
        ctx.save_for_backward(x, weight)
        ctx.m = m
        if m.transposed:  # autocast applies to both
            return F.conv_transpose2d(x, weight, bias, m.stride, m.padding, m.output_padding, m.groups, m.dilation)
        return F.conv2d(x, weight, bias, m.stride, m.padding, m.dilation, m.groups)

    @staticmethod
    def backward(ctx, gy):
        m, dt = ctx.m, gy.dtype   # gy's dtype is the one the forward computed in (bf16 under autocast)
        x, weight = ctx.saved_tensors
        x, w = x.to(dt), weight.to(dt)
        by_matmul = gy.device.type == "cpu" and m.in_channels * m.out_channels >= WIDE
        gx = gw = None
        if ctx.needs_input_grad[0] or not by_matmul:
            gx, gw, _ = torch.ops.aten.convolution_backward(
                gy, x, w, None, m.stride, m.padding, m.dilation, m.transposed, m.output_padding, m.groups,
                [ctx.needs_input_grad[0], not by_matmul, False])
        if by_matmul:  # the low-resolution side first: a Down's output, an Up's input
            gw = _weight_grad(x, gy, m) if m.transposed else _weight_grad(gy, x, m)
        return gx, gw.to(weight.dtype), gy.sum((0, 2, 3)).to(weight.dtype), None


def _weight_grad(low, high, m):
    """The weight gradient of m (a Down or an Up: square kernel, stride 2, no dilation or groups)
    as one (A, N*h*w) @ (N*h*w, k*k*B) matmul: every position of the low-resolution side low
    (N, A, h, w) times the k x k taps, stride s, of the padded high-resolution side high
    (N, B, H, W) that it meets; returns (A, B, k, k)."""
    (k, _), (s, _), (p, _) = m.kernel_size, m.stride, m.padding
    n, a, h, w = low.shape
    high = F.pad(high, (p, p, p, p)).permute(0, 2, 3, 1)                           # (N, H+2p, W+2p, B)
    taps = [high[:, i:i + s * (h - 1) + 1:s, j:j + s * (w - 1) + 1:s] for i in range(k) for j in range(k)]
    cols = torch.stack(taps, 3).view(n * h * w, -1)                                 # (N*h*w, k*k*B)
    return (low.permute(0, 2, 3, 1).reshape(-1, a).t() @ cols).view(a, k, k, -1).permute(0, 3, 1, 2)


class CNN(nn.Module):
    """The base "pool/upsample" network: fixed resampling, no skips."""

    def __init__(self, k, nf, nc):
        super().__init__()
        self.layers = nn.Sequential(
            conv(1, nf, k), nn.MaxPool2d(2), *bn_relu(nf),                      # (N, NF, 16, 16)
            conv(nf, 2 * nf, k), nn.MaxPool2d(2), *bn_relu(2 * nf),             # (N, 2NF, 8, 8)
            conv(2 * nf, nf, k), nn.Upsample(scale_factor=2), *bn_relu(nf),     # (N, NF, 16, 16)
            conv(nf, nc, k), nn.Upsample(scale_factor=2), *bn_relu(nc),         # (N, NC, 32, 32)
            conv(nc, nc, k),                                                    # (N, NC, 32, 32)
        )

    def forward(self, x):
        return self.layers(x)


class UNet(nn.Module):
    """Strided convolutions down, transposed convolutions up; `skips=False` drops both concatenations."""

    def __init__(self, k, nf, nc, skips=True):
        super().__init__()
        self.skips = skips
        s1, s0 = (nf, 1) if skips else (0, 0)  # extra input channels brought by each skip
        self.down1 = nn.Sequential(conv(1, nf, k, stride=2), *bn_relu(nf))            # (N, NF, 16, 16)
        self.down2 = nn.Sequential(conv(nf, 2 * nf, k, stride=2), *bn_relu(2 * nf))   # (N, 2NF, 8, 8)
        self.up1 = nn.Sequential(Up(2 * nf, nf, k), *bn_relu(nf))                     # (N, NF, 16, 16)
        self.up2 = nn.Sequential(Up(nf + s1, nc, k), *bn_relu(nc))                    # (N, NC, 32, 32)
        self.final = conv(nc + s0, nc, k)                                             # (N, NC, 32, 32)

    def forward(self, x):
        d1 = self.down1(x)
        u1 = self.up1(self.down2(d1))
        u2 = self.up2(torch.cat([u1, d1], 1) if self.skips else u1)
        return self.final(torch.cat([u2, x], 1) if self.skips else u2)


class ResBlock(nn.Module):
    """Two k x k convolutions with BN added to a shortcut (He et al. 2016): identity when the shape
    is kept, else a 1x1 (strided) projection with BN. Optional channel dropout between the two
    convolutions, as in wide residual networks (Zagoruyko & Komodakis 2016)."""

    def __init__(self, cin, cout, k, stride=1, dropout=0.0):
        super().__init__()
        self.body = nn.Sequential(conv(cin, cout, k, stride), *bn_relu(cout), nn.Dropout2d(dropout),
                                  conv(cout, cout, k), nn.BatchNorm2d(cout))
        self.shortcut = (nn.Identity() if cin == cout and stride == 1 else
                         nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride), nn.BatchNorm2d(cout)))

    def forward(self, x):
        return torch.relu(self.body(x) + self.shortcut(x))


DROPOUT = 0.2  # ResUNet's channel dropout: 25 epochs, NF 32, seed 0: val acc 64.6 %, val loss 0.884


class ResUNet(nn.Module):
    """The residual network: a U-Net whose every stage is a residual block.

    stem   Conv(1->NF), BN, ReLU                               (N, NF, 32, 32)
    down1  ResBlock(NF->NF, stride 2)                          (N, NF, 16, 16)
    down2  ResBlock(NF->2NF, stride 2)                         (N, 2NF, 8, 8)
    up1    ConvT(2NF->NF), BN, ReLU; cat down1; ResBlock(2NF->NF)   (N, NF, 16, 16)
    up2    ConvT(NF->NF), BN, ReLU;  cat stem;  ResBlock(2NF->NF)   (N, NF, 32, 32)
    head   Conv1x1(NF->NC)                                     (N, NC, 32, 32)

    Unlike the U-Net, it keeps NF feature channels at full resolution from the first layer on
    and refines them with residual blocks, where the U-Net's only full-resolution layer is its
    final convolution; identity paths keep this deeper net as easy to train as the shallow ones.
    Every block has Dropout2d(DROPOUT) between its convolutions: without it the net overfits the
    5,000 horses after ~15 epochs (25 epochs, NF 32: train loss 0.78, val loss 1.01, val acc
    61.6 % against the U-Net's 60.4 %); with it, see DROPOUT.
    """

    def __init__(self, k, nf, nc):
        super().__init__()
        d = DROPOUT
        self.stem = nn.Sequential(conv(1, nf, k), *bn_relu(nf))
        self.down1 = ResBlock(nf, nf, k, stride=2, dropout=d)
        self.down2 = ResBlock(nf, 2 * nf, k, stride=2, dropout=d)
        self.up1 = nn.Sequential(Up(2 * nf, nf, k), *bn_relu(nf))
        self.res1 = ResBlock(2 * nf, nf, k, dropout=d)
        self.up2 = nn.Sequential(Up(nf, nf, k), *bn_relu(nf))
        self.res2 = ResBlock(2 * nf, nf, k, dropout=d)
        self.head = nn.Conv2d(nf, nc, 1)

    def forward(self, x):
        s = self.stem(x)
        d1 = self.down1(s)
        u1 = self.res1(torch.cat([self.up1(self.down2(d1)), d1], 1))
        u2 = self.res2(torch.cat([self.up2(u1), s], 1))
        return self.head(u2)


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


def build_model(name, kernel=3, num_filters=32, num_colours=24):
    if name not in ARCHITECTURES:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(ARCHITECTURES)}")
    check_shape_params(kernel, num_filters, num_colours)
    k, nf, nc = kernel, num_filters, num_colours
    if name == "cnn":
        return CNN(k, nf, nc)
    if name == "resnet":
        return ResUNet(k, nf, nc)
    return UNet(k, nf, nc, skips=name == "unet")
