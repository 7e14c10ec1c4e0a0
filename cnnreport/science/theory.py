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
