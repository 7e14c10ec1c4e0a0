"""Layer by layer: output shape, parameters and receptive field of each network, from formulas.

`layer_table` walks a network's computation graph (torch.fx, so concatenations and residual
additions are seen too) and derives every layer's numbers from its hyper-parameters alone,
without running it:

    convolution, pooling:      out = floor((in + 2p - k) / s) + 1
    transposed convolution:    out = (in - 1) s - 2p + k + output_padding
    receptive field (exact):   follow, for every output position, the interval of input pixels
                               it reads through each layer's index map (the union at a concat/add)
    textbook recursion:        r' = r + (k - 1) j, j' = j s (conv, pool); j' = j / f (upsample)

The recursion assumes every layer treats all positions alike; nearest upsampling and strided
transposed convolutions do not, so the table shows both and the report explains the gap.
`hook_shapes` and `measured_receptive_fields` then run the real modules, so the numbers are
checked rather than trusted: shapes by forward hooks, fields by which input pixels get a
gradient. `count_formula` turns totals into exact polynomials in NF and NC.
"""
import copy
import functools
import math
import operator
from fractions import Fraction

import numpy as np
import torch
from torch import nn
from torch.fx import Tracer

from cnnreport.science.models import build_model


def conv_out(size, k, s=1, p=0):
    return (size + 2 * p - k) // s + 1


def conv_transpose_out(size, k, s=1, p=0, output_padding=0):
    return (size - 1) * s - 2 * p + k + output_padding


def _one(v):
    return v[0] if isinstance(v, tuple) else v


def _step(m, shape, rf, jump):
    """(out shape, textbook receptive field, jump) of module m; None if m keeps its input's."""
    c, h, w = shape
    if isinstance(m, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
        k, s, p = _one(m.kernel_size), _one(m.stride), _one(m.padding)
        c = m.out_channels if isinstance(m, nn.Conv2d) else c
        return (c, conv_out(h, k, s, p), conv_out(w, k, s, p)), rf + (k - 1) * jump, jump * s
    if isinstance(m, nn.ConvTranspose2d):
        k, s, p, op = _one(m.kernel_size), _one(m.stride), _one(m.padding), _one(m.output_padding)
        size = conv_transpose_out(h, k, s, p, op), conv_transpose_out(w, k, s, p, op)
        return (m.out_channels, *size), rf + (math.ceil(k / s) - 1) * jump, jump / s
    if isinstance(m, nn.Upsample):
        f = int(m.scale_factor)
        return (c, h * f, w * f), rf, jump / f   # nearest: each output copies one input
    if isinstance(m, (nn.BatchNorm2d, nn.ReLU, nn.Identity, nn.Dropout2d)):
        return None
    raise TypeError(f"no formula for {type(m).__name__}")


def _taps(m, n_in, n_out):
    """(n_out, taps) indices of the inputs each output reads along one axis (-1: padding)."""
    o = np.arange(n_out)[:, None]
    if isinstance(m, nn.Upsample):
        return o // int(m.scale_factor)
    k, s, p = _one(m.kernel_size), _one(m.stride), _one(m.padding)
    t = np.arange(k)[None, :]
    if isinstance(m, nn.ConvTranspose2d):   # output o = i*s - p + t
        num = o + p - t
        idx = np.where(num % s == 0, num // s, -1)
    else:
        idx = o * s - p + t
    return np.where((idx >= 0) & (idx < n_in), idx, -1)


def _fields(m, field, n_out):
    """Exact per-output receptive intervals [lo, hi] (input pixels) along one axis, from the
    intervals of m's inputs: the union over the inputs each output reads."""
    lo, hi = field
    idx = _taps(m, len(lo), n_out)
    valid = idx >= 0
    return (np.where(valid, lo[idx], np.inf).min(1), np.where(valid, hi[idx], -np.inf).max(1))


def _width(field):
    """Largest receptive field side over the outputs near the centre (4 phases on each side)."""
    lo, hi = field
    c = len(lo) // 2
    return int((hi - lo)[c - 4:c + 4].max() + 1)


def describe(m):
    """A layer in words, e.g. "3x3 convolution, 32 → 64, stride 2", "2x2 max-pooling"."""
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        k, s = _one(m.kernel_size), _one(m.stride)
        kind = "transposed convolution" if isinstance(m, nn.ConvTranspose2d) else "convolution"
        return f"{k}x{k} {kind}, {m.in_channels} → {m.out_channels}" + (f", stride {s}" if s > 1 else "")
    if isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
        kind = "max-pooling" if isinstance(m, nn.MaxPool2d) else "average pooling"
        return f"{_one(m.kernel_size)}x{_one(m.kernel_size)} {kind}"
    if isinstance(m, nn.Upsample):
        return f"x{int(m.scale_factor)} {m.mode} upsampling"
    if isinstance(m, nn.BatchNorm2d):
        return f"batch normalisation, {m.num_features} channels"
    return type(m).__name__


def layer_table(model, size=32):
    """One row per layer that computes something (ReLU and identities left out), in order.

    Row: layer (module name, or cat/add), op, shape (C, H, W) of its output at a size x size
    input, params (its own trainable parameters), rf (receptive field side in input pixels, exact),
    rf_textbook (the r' = r + (k-1) j recursion, which assumes every layer is shift invariant:
    nearest upsampling and transposed convolutions are not, so it can fall short), outputs
    (C*H*W) and mult_adds (multiply-adds per image).
    model: a module, or an architecture name (built with kernel 3, NF 32, NC 24).
    """
    model = build_model(model) if isinstance(model, str) else model
    line = 128
    while True:   # fields are measured on a line long enough that none reaches its ends
        rows = _walk(model, size, line)
        if max(r["rf"] for r in rows) < line // 2 - 16:
            return rows
        line *= 2


def _walk(model, size, line):
    graph = Tracer().trace(model)   # torch.nn layers stay one node each
    modules = dict(model.named_modules())
    state, rows = {}, []
    for node in graph.nodes:
        if node.op == "placeholder":
            pixels = np.arange(line, dtype=float)
            state[node] = dict(shape=(1, size, size), r=1, j=1, field=(pixels, pixels), n=line)
            continue
        if node.op == "output":
            break
        ins = [state[a] for a in node.args if isinstance(a, torch.fx.Node)]
        if node.op == "call_function" and node.target in (torch.cat, operator.add, torch.add):
            parts = [state[a] for a in node.args[0]] if node.target is torch.cat else ins
            if node.target is torch.cat:
                shape = (sum(s["shape"][0] for s in parts), *parts[0]["shape"][1:])
                row = dict(layer="cat", op="concatenate channels", params=0, mult_adds=0)
            else:
                assert parts[0]["shape"] == parts[1]["shape"], "adding different shapes"
                shape = parts[0]["shape"]
                row = dict(layer="add", op="residual sum", params=0, mult_adds=0)
            field = (np.minimum(*[s["field"][0] for s in parts]), np.maximum(*[s["field"][1] for s in parts]))
            state[node] = dict(shape=shape, r=max(s["r"] for s in parts), j=min(s["j"] for s in parts),
                               field=field, n=parts[0]["n"])
        elif node.op == "call_function" and node.target in (torch.relu, nn.functional.relu):
            state[node] = ins[0]
            continue
        elif node.op == "call_module":
            m, x = modules[node.target], ins[0]
            step = _step(m, x["shape"], x["r"], x["j"])
            if step is None:
                state[node] = x
                if not isinstance(m, nn.BatchNorm2d):
                    continue
            else:
                shape, r, j = step
                n = shape[1] * x["n"] // x["shape"][1]   # the line is resampled like the image
                state[node] = dict(shape=shape, r=r, j=j, field=_fields(m, x["field"], n), n=n)
            row = dict(layer=node.target, op=describe(m), params=sum(p.numel() for p in m.parameters()),
                       mult_adds=_mult_adds(m, x["shape"], state[node]["shape"]))
        else:
            raise TypeError(f"no formula for graph node {node.format_node()}")
        s = state[node]
        rows.append(dict(row, shape=s["shape"], rf=_width(s["field"]), rf_textbook=int(s["r"]),
                         outputs=math.prod(s["shape"])))
    return rows


def _mult_adds(m, shape_in, shape_out):
    """Multiply-adds of one image: every output of a convolution sums k*k*C_in products; a
    transposed convolution scatters every input to k*k*C_out outputs."""
    if isinstance(m, nn.Conv2d):
        return math.prod(shape_out) * m.in_channels * _one(m.kernel_size) ** 2
    if isinstance(m, nn.ConvTranspose2d):
        return math.prod(shape_in) * m.out_channels * _one(m.kernel_size) ** 2
    return 0


def hook_shapes(model, size=32):
    """{module name: output shape (C, H, W)} from a real forward pass, recorded by forward hooks."""
    shapes, handles = {}, []
    for name, m in model.named_modules():
        if not list(m.children()):
            handles.append(m.register_forward_hook(
                lambda mod, inp, out, name=name: shapes.__setitem__(name, tuple(out.shape[1:]))))
    try:
        with torch.no_grad():
            model.eval()(torch.zeros(1, 1, size, size))
    finally:
        for h in handles:
            h.remove()
    return shapes


@torch.no_grad()
def _positive_copy(model):
    """A copy in which every path carries a positive signal: all weights positive, BN an
    identity, max-pools swapped for average pools of the same geometry (a max-pool's gradient
    reaches only the argmax). Then an input pixel gets a gradient iff it is in the field."""
    net = copy.deepcopy(model).float().eval()
    for name, m in list(net.named_modules()):
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            m.weight.fill_(1.0 / m.weight[0].numel())
            if m.bias is not None:
                m.bias.zero_()
        elif isinstance(m, nn.BatchNorm2d):
            m.reset_parameters()  # running mean 0, var 1, gamma 1, beta 0
        elif isinstance(m, nn.MaxPool2d):
            parent, _, attr = name.rpartition(".")
            setattr(net.get_submodule(parent), attr, nn.AvgPool2d(m.kernel_size, m.stride, m.padding))
    return net


def measured_receptive_fields(model, names, size=None):
    """{module name: receptive field side} measured on the real modules: the largest extent, along
    the height, of the input pixels with a nonzero gradient, over four neighbouring output pixels
    near the centre (all phases of the 4x down/up-sampling). Fields are separable, so a narrow
    input (16 columns) suffices; each of the four pixels gets its own image in the batch.
    size: input height, big enough that no field reaches the border (default: from `layer_table`)."""
    if size is None:
        size = 8 * math.ceil((2 * max(r["rf"] for r in layer_table(model)) + 16) / 8)
    net, outs = _positive_copy(model), {}
    handles = [net.get_submodule(n).register_forward_hook(
        lambda mod, inp, out, n=n: outs.__setitem__(n, out)) for n in names]
    x = torch.ones(4, 1, size, 16, requires_grad=True)
    net(x)
    for h in handles:
        h.remove()
    fields = {}
    for n in names:
        y = outs[n]
        ch, cw = y.shape[-2] // 2 - 2, y.shape[-1] // 2 - 2
        picked = sum(y[b, 0, ch + b, cw + b] for b in range(4))
        (g,) = torch.autograd.grad(picked, x, retain_graph=True)
        best = 0
        for b in range(4):
            rows = torch.nonzero(g[b, 0].abs().sum(1)).flatten()
            if len(rows):   # some outputs of a 1x1 transposed convolution read no input at all
                best = max(best, int(rows.max() - rows.min() + 1))
        fields[n] = best
    return fields


MONOMIALS = ("NF²", "NF·NC", "NC²", "NF", "NC", "1")


def _monomials(nf, nc):
    return [nf * nf, nf * nc, nc * nc, nf, nc, 1]


def total(rows, quantity):
    """Sum of a `layer_table` column: "params", "mult_adds", or "outputs", which counts the values
    the (transposed) convolutions output, as the assignment does (BN, ReLU, pools and
    concatenations only transform or regroup them)."""
    return sum(r[quantity] for r in rows if quantity != "outputs" or r["mult_adds"])


@functools.lru_cache(maxsize=None)
def count_formula(name, quantity, kernel=3, size=32):
    """`total(rows, quantity)` as an exact polynomial in NF and NC, {monomial: coefficient}. Each
    layer's count is a product of at most two channel numbers (each a multiple of NF or NC, or 1),
    so the total is such a polynomial: solve for its six coefficients from six networks, then
    check it on four more."""
    def count(nf, nc):
        return total(layer_table(build_model(name, kernel, nf, nc), size), quantity)
    points = [(1, 2), (2, 2), (3, 2), (1, 3), (2, 3), (1, 4)]
    a = np.array([_monomials(*p) for p in points], dtype=float)
    b = np.array([count(*p) for p in points], dtype=float)
    coefs = [Fraction(c).limit_denominator(16) for c in np.linalg.solve(a, b)]
    poly = {m: c for m, c in zip(MONOMIALS, coefs) if c}
    for nf, nc in [(4, 5), (7, 3), (16, 24), (32, 24)]:
        assert evaluate_formula(poly, nf, nc) == count(nf, nc), (name, quantity)
    return poly


def evaluate_formula(poly, nf, nc):
    """The value of a `count_formula` polynomial at NF = nf, NC = nc."""
    terms = dict(zip(MONOMIALS, _monomials(nf, nc)))
    return sum(c * terms[m] for m, c in poly.items())


def format_formula(poly):
    """{'NF²': 9, 'NF': 32} -> '9·NF² + 32·NF'."""
    terms = []
    for m, c in poly.items():
        c = int(c) if c.denominator == 1 else c
        terms.append(f"{c}" if m == "1" else (m if c == 1 else f"{c}·{m}"))
    return " + ".join(terms).replace("+ -", "- ")
