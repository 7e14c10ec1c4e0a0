"""What a network is made of, layer by kind, and what differs between two networks as trained:
read off their layers (science.layers) and the settings that act on them, never typed, so that a
comparison says all that changes between its neighbours."""
from collections import Counter

from torch import nn

from cnnreport.analysis.compute import mult_adds
from cnnreport.science.layers import layer_table
from cnnreport.science.models import build_model

# The settings that change what a run computes, beside its network's layers, in words.
SETTINGS = {"epochs": "epochs", "lr": "learning rate", "batch_size": "batch size", "num_filters": "NF",
            "kernel": "kernel", "amp": "bf16", "rebalance": "rebalanced loss"}


def kinds(config):
    """{kind of layer: how many} of a run's network (Config), e.g. {"max-pooling": 2, ...}; channel
    dropout counts only where it drops anything (its probability > 0)."""
    net = build_model(config.model, config.kernel, config.num_filters, config.num_colours, config.dropout)
    counts = Counter()
    for row in layer_table(net):
        op, strided = row["op"], "stride" in row["op"]
        kind = ("transposed convolution" if "transposed convolution" in op else
                f"{'strided ' if strided else ''}{op.split()[0]} convolution" if " convolution," in op else
                "max-pooling" if "max-pooling" in op else "nearest upsampling" if "nearest upsampling" in op else
                "concatenated skip" if row["layer"] == "cat" else "residual sum" if row["layer"] == "add" else None)
        if kind:
            counts[kind] += 1
    dropped = [m.p for m in net.modules() if isinstance(m, nn.Dropout2d) and m.p > 0]
    if dropped:
        counts[f"channel dropout {max(dropped):g}"] = len(dropped)
    return counts


def differences(a, b):
    """Everything that differs from run settings `a` to `b` (Configs), in words: the layers by kind,
    the settings that act on them, then the parameters and multiply-adds per image as ratios."""
    ka, kb = kinds(a), kinds(b)
    layers = [f"{k} {ka[k]} → {kb[k]}" for k in dict.fromkeys([*ka, *kb]) if ka[k] != kb[k]]
    settings = [f"{name} {getattr(a, f):g} → {getattr(b, f):g}" for f, name in SETTINGS.items() if getattr(a, f) != getattr(b, f)]
    weights = [sum(p.numel() for p in build_model(c.model, c.kernel, c.num_filters, c.num_colours).parameters())
               for c in (a, b)]
    sizes = (f"weights x{weights[1] / weights[0]:.2f}, multiply-adds x{mult_adds(b) / mult_adds(a):.2f}"
             if (weights[0], mult_adds(a)) != (weights[1], mult_adds(b)) else "")
    return "; ".join(x for x in (", ".join(layers), ", ".join(settings), sizes) if x) or "nothing"
