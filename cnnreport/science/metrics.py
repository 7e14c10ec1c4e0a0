"""How good are the colours? Decoding the network's per-pixel distribution into colours, and the
metrics of the colourization literature (Zhang, Isola & Efros, "Colorful Image Colorization",
ECCV 2016) beside the assignment's per-pixel accuracy.

`quality(model, x, y, rgb, palette)` over a test split returns:
    pixel_acc           % of pixels whose predicted colour category is the true one
    balanced_acc        mean over the colours present of each colour's recall (%): low for a
                        network that never predicts the rare colours
    auc                 area under the curve of the share of pixels whose colour error (CIELAB
                        ab distance, prediction against the true, unquantised colour) is within a
                        threshold, thresholds 0 to 150 ab units, as a % of the best possible area
    psnr                PSNR (dB) of predicted against true RGB in [0, 1], per image, then averaged
    colourfulness       Hasler & Suesstrunk's M of the predictions, mean over images ...
    colourfulness_true  ... and of the true images
    confusion           (NC, NC) pixel counts, rows the true category, columns the predicted one
"""
from contextlib import nullcontext

import torch

from cnnreport.science.colour import colourfulness, image_lab, psnr
from cnnreport.science.palette import nearest

DECODINGS = ("argmax", "mean", "annealed")
TEMPERATURE = 0.38              # the annealed mean's temperature (Zhang et al.)
AUC_MAX = 150                   # AuC thresholds 0, 1, ..., 150 in ab units (Zhang et al.)
METRICS = ("pixel_acc", "balanced_acc", "auc", "psnr", "colourfulness", "colourfulness_true")


def decode(logits, palette, decoding="argmax", temperature=TEMPERATURE):
    """(N, NC, H, W) logits -> (N, 3, H, W) RGB in [0, 1].
    argmax: the most probable palette colour (sharp, but a near tie flips the whole colour);
    mean: the expected colour under the softmax (smooth, but pulled towards grey-brown);
    annealed: the expected colour under the softmax sharpened to temperature T (z^(1/T),
    renormalised), Zhang et al.'s compromise; T = 1 is the mean, T -> 0 the argmax."""
    palette = palette.to(logits.device)
    if decoding == "argmax":
        return palette[logits.argmax(1)].permute(0, 3, 1, 2)
    if decoding not in DECODINGS:
        raise ValueError(f"unknown decoding {decoding!r}; choose one of {', '.join(DECODINGS)}")
    t = 1.0 if decoding == "mean" else temperature
    probs = torch.softmax(logits.float() / t, 1)   # exp(log z / T) / sum: the same as logits / T
    return torch.einsum("nqhw,qc->nchw", probs, palette)


def categories(logits, colours, palette, decoding):
    """(N, H, W) predicted categories: the argmax, or the palette colour nearest a decoded one."""
    if decoding == "argmax":
        return logits.argmax(1)
    n, _, h, w = colours.shape
    return nearest(colours.permute(0, 2, 3, 1).reshape(-1, 3), palette.to(colours.device)).view(n, h, w)


def _summarise(confusion, within, psnrs, colourful, colourful_true):
    """The metrics (see the module docstring) from their accumulated parts."""
    pixels = confusion.sum()
    per_colour = confusion.sum(1)
    recall = confusion.diag()[per_colour > 0] / per_colour[per_colour > 0]
    share = within.double() / pixels                                   # share within 0, 1, ..., 150
    area = share.sum() - (share[0] + share[-1]) / 2                    # trapezoids of width 1
    return dict(pixel_acc=100 * confusion.diag().sum().item() / pixels.item(),
                balanced_acc=100 * recall.double().mean().item(),
                auc=100 * area.item() / AUC_MAX,
                psnr=torch.cat(psnrs).double().mean().item(),
                colourfulness=torch.cat(colourful).double().mean().item(),
                colourfulness_true=torch.cat(colourful_true).double().mean().item())


@torch.inference_mode()
def quality(model, x, y, rgb, palette, autocast=None, decoding="argmax", temperature=TEMPERATURE, batch_size=250):
    """(metrics dict, confusion matrix) of `model` on inputs x (N, 1, H, W), true categories
    y (N, H, W) and true uint8 RGB images rgb (N, 3, H, W), decoded as `decoding` (see decode);
    see the module docstring for the metrics."""
    model.eval()
    nc = len(palette)
    confusion = torch.zeros(nc * nc, dtype=torch.long, device=x.device)
    within = torch.zeros(AUC_MAX + 2, dtype=torch.long, device=x.device)
    psnrs, colourful, colourful_true = [], [], []
    for xb, yb, rb in zip(x.split(batch_size), y.split(batch_size), rgb.to(x.device).split(batch_size)):
        with autocast or nullcontext():
            logits = model(xb)
        pred = decode(logits, palette, decoding, temperature)                 # (B, 3, H, W)
        cls = categories(logits, pred, palette, decoding)                      # (B, H, W)
        confusion += torch.bincount((yb * nc + cls).flatten(), minlength=nc * nc)
        true = rb.float() / 255
        error = (image_lab(pred)[..., 1:] - image_lab(true)[..., 1:]).norm(dim=-1)   # (B, H, W) ab units
        # error <= t for an integer t exactly when ceil(error) <= t: count per ceiling, then sum up
        within += torch.bincount(error.ceil().clamp(max=AUC_MAX + 1).long().flatten(), minlength=AUC_MAX + 2)
        psnrs.append(psnr(pred, true).cpu())
        colourful.append(colourfulness(pred).cpu())
        colourful_true.append(colourfulness(true).cpu())
    confusion = confusion.view(nc, nc).cpu()
    return _summarise(confusion, within.cumsum(0)[:AUC_MAX + 1].cpu(), psnrs, colourful, colourful_true), confusion


def baselines(x_train, y_train, x_test, y_test, num_colours):
    """Pixel accuracy (%) on the test pixels of predictors without a network: chance (1/NC); the
    majority colour, the most frequent colour of the training pixels; its ceiling, the most frequent
    colour of the test pixels themselves; and the per-grey-level lookup, each grey level's most
    frequent colour on the training pixels (the majority colour where a level never occurs there):
    what a network that sees one pixel and no context can do. x: grey (N, 1, H, W) in [0, 1], the
    mean of R, G and B, so 766 levels; y: (N, H, W) colour categories."""
    level_train, level_test = ((x * 765).round().long().flatten() for x in (x_train, x_test))   # 0..765
    y_train, y_test = y_train.flatten(), y_test.flatten()
    majority = torch.bincount(y_train, minlength=num_colours).argmax()
    counts = torch.bincount(level_train * num_colours + y_train, minlength=766 * num_colours).view(766, num_colours)
    lookup = torch.where(counts.sum(1) > 0, counts.argmax(1), majority)     # (766,) a colour per grey level
    def acc(predicted):
        return 100 * (predicted == y_test).double().mean().item()
    return dict(chance=100 / num_colours, majority=acc(majority),
                majority_of_test=acc(torch.bincount(y_test, minlength=num_colours).argmax()),
                grey_lookup=acc(lookup[level_test]))
