"""Small live demonstrations for the theory notebook.

`gradient_norms` shows, at initialisation, how the gradient reaching each depth of a deep stack
of 3x3 convolutions depends on the identity path x + F(x) and on the initialisation: a
demonstration of the argument in He et al. (2016), not a training experiment.
"""
import torch
from torch import nn


def gradient_norms(depth=50, width=16, residual=False, init="default", seed=0, size=16, batch=8):
    """||dL/dx_l|| for l = 1..depth, where x_{l+1} = F_l(x_l) (plain) or x_l + F_l(x_l) (residual),
    F_l(x) = conv3x3(relu(x)), and L = <x_depth, t> / batch for a fixed random t.

    init: "default" (PyTorch's, weight variance 1/(3 fan_in): each plain layer shrinks the signal)
    or "he" (variance 2/fan_in, He et al. 2015: keeps the plain stack's scale at initialisation).
    """
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    convs = [nn.Conv2d(width, width, 3, padding=1) for _ in range(depth)]
    if init == "he":
        for c in convs:
            nn.init.kaiming_normal_(c.weight, nonlinearity="relu", generator=g)
            nn.init.zeros_(c.bias)
    elif init != "default":
        raise ValueError(f"init must be 'default' or 'he', got {init!r}")
    x = torch.randn(batch, width, size, size, generator=g)
    acts = []
    for conv in convs:
        x = x + conv(torch.relu(x)) if residual else conv(torch.relu(x))
        x.retain_grad()
        acts.append(x)
    target = torch.randn(x.shape, generator=g)
    ((x * target).sum() / batch).backward()
    return [a.grad.norm().item() for a in acts]


VARIANTS = {"plain, PyTorch init": dict(residual=False, init="default"), "plain, He init": dict(residual=False, init="he"),
            "residual, PyTorch init": dict(residual=True, init="default"), "residual, He init": dict(residual=True, init="he")}


def gradient_table(depth=50, width=16, size=16, batch=8, seed=0):
    """gradient_norms of every variant (plain or residual, PyTorch's or He's initialisation), one
    column each, indexed by layer 1..depth."""
    import pandas as pd
    return pd.DataFrame({name: gradient_norms(depth, width, size=size, batch=batch, seed=seed, **v)
                         for name, v in VARIANTS.items()}, index=range(1, depth + 1))


def batchnorm_by_hand():
    """BatchNorm2d's equations (1)-(4), its running statistics, its parameter gradients and its
    inference output, computed by hand on a random batch (drawn from torch's global generator) and
    set against PyTorch's: {quantity: largest absolute difference}."""
    bn = nn.BatchNorm2d(3)
    with torch.no_grad():
        bn.weight.copy_(torch.tensor([0.5, 1.0, 2.0]))
        bn.bias.copy_(torch.tensor([-1.0, 0.0, 1.0]))
    z = 3 * torch.randn(8, 3, 4, 4) + 2                           # a batch: N=8, C=3, 4x4
    y = bn.train()(z)                                             # training mode: batch statistics
    mu = z.mean(dim=(0, 2, 3), keepdim=True)                      # (1)
    var = z.var(dim=(0, 2, 3), unbiased=False, keepdim=True)      # (2)
    z_hat = (z - mu) / torch.sqrt(var + bn.eps)                   # (3)
    y_hand = bn.weight.view(1, -1, 1, 1) * z_hat + bn.bias.view(1, -1, 1, 1)   # (4)
    m = z.numel() // z.shape[1]
    run_mean = 0.9 * torch.zeros(3) + 0.1 * mu.flatten()          # momentum 0.1 from the initial 0 and 1
    run_var = 0.9 * torch.ones(3) + 0.1 * var.flatten() * m / (m - 1)
    upstream = torch.randn_like(y)                                # some dL/dy
    y.backward(upstream)
    grad_gamma, grad_beta = (upstream * z_hat).sum(dim=(0, 2, 3)), upstream.sum(dim=(0, 2, 3))
    y_eval = bn.eval()(z)                                         # inference: running statistics
    y_eval_hand = (bn.weight.view(1, -1, 1, 1) * (z - run_mean.view(1, -1, 1, 1))
                   / torch.sqrt(run_var.view(1, -1, 1, 1) + bn.eps) + bn.bias.view(1, -1, 1, 1))
    pairs = {"training output, eqs. (1)-(4)": (y, y_hand), "running mean": (bn.running_mean, run_mean),
             "running variance (unbiased)": (bn.running_var, run_var), "∂L/∂γ": (bn.weight.grad, grad_gamma),
             "∂L/∂β": (bn.bias.grad, grad_beta), "inference output (running statistics)": (y_eval, y_eval_hand)}
    return {name: (a - b).abs().max().item() for name, (a, b) in pairs.items()}, (y - y_eval).abs().max().item()


def short_paths(blocks=54, shortest=5, longest=17):
    """The share of the 2**blocks paths through `blocks` residual blocks that pass through
    shortest..longest of them (Veit et al. 2016: the paths that carry almost all the gradient)."""
    import math
    return sum(math.comb(blocks, k) for k in range(shortest, longest + 1)) / 2 ** blocks
