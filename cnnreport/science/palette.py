"""The colour categories: k-means over all training pixels of the category, as the course made
its palette file; each pixel's label is its nearest palette colour.

The palette depends only on the data and k (the k-means seed is fixed), so every run on the same
data classifies into the same categories and accuracies stay comparable across seeds.
"""
import json
from pathlib import Path

import torch

from cnnreport.science.colour import srgb_to_lab
from cnnreport.science.files import atomic_write

SEED = 0        # k-means++ seeding; fixed on purpose (see above)
ITERATIONS = 50  # Lloyd steps at most; it stops earlier when no pixel changes cluster
MIX = 0.5       # class rebalancing: weight of the uniform distribution mixed in (Zhang et al.'s lambda)
SIGMA = 5.0     # class rebalancing: Gaussian smoothing of the colour frequencies, in CIELAB ab units


def nearest(pixels, palette):
    """(M, 3) float pixels, (K, 3) palette -> (M,) index of the nearest colour (squared distance)."""
    return torch.argmin((palette * palette).sum(1) - 2 * pixels @ palette.T, dim=1)


def labels(rgb, palette):
    """uint8 RGB (N, 3, H, W) -> (N, H, W) int64 colour categories."""
    n, _, h, w = rgb.shape
    pixels = rgb.permute(0, 2, 3, 1).reshape(-1, 3).float() / 255
    return torch.cat([nearest(chunk, palette) for chunk in pixels.split(1 << 20)]).view(n, h, w)


def to_rgb(labels, palette):
    """(N, H, W) colour categories -> (N, 3, H, W) float RGB in [0, 1], for pictures."""
    return palette.to(labels.device)[labels].permute(0, 3, 1, 2)


def kmeans(rgb, k=24, seed=SEED):
    """k-means++ seeding on a sample, then Lloyd's algorithm over every pixel (run on the distinct
    colours weighted by their counts: the same result, 8x less work). Colours are sorted by
    luminance so that category numbers read dark to light. Returns (k, 3) float in [0, 1]."""
    codes = rgb.permute(0, 2, 3, 1).reshape(-1, 3).int() @ torch.tensor([65536, 256, 1], dtype=torch.int32)
    codes, counts = torch.unique(codes, return_counts=True)                 # (U,) distinct colours
    colours = torch.stack([codes // 65536, codes // 256 % 256, codes % 256], 1).float() / 255  # (U, 3)
    g = torch.Generator().manual_seed(seed)
    sample = colours[torch.multinomial(counts.double(), 20000, replacement=True, generator=g)]
    centres = sample[torch.randint(len(sample), (1,), generator=g)]
    for _ in range(k - 1):                                                  # k-means++: far points first
        d2 = torch.cdist(sample, centres).min(1).values ** 2
        centres = torch.cat([centres, sample[torch.multinomial(d2, 1, generator=g)]])
    weights, assign = counts.double(), None
    for _ in range(ITERATIONS):
        new = nearest(colours, centres)
        if assign is not None and torch.equal(new, assign):
            break
        assign = new
        mass = torch.bincount(assign, weights, minlength=k)
        sums = torch.stack([torch.bincount(assign, weights * colours[:, c], minlength=k) for c in range(3)], 1)
        filled = mass > 0                                                   # an empty cluster keeps its centre
        centres[filled] = (sums[filled] / mass[filled, None]).float()
    luminance = centres @ torch.tensor([0.299, 0.587, 0.114])
    return centres[torch.argsort(luminance)].contiguous()


def cache_path(cache_dir, fingerprint, k):
    """Where load_palette caches the k-colour palette of the data with this fingerprint."""
    return Path(cache_dir) / f"palette-{fingerprint}-k{k}-s{SEED}.json"


def load_palette(data, k, cache_dir):
    """The palette of `data` (a CategoryData), computed once and cached as JSON under cache_dir."""
    path = cache_path(cache_dir, data.fingerprint, k)
    if path.exists():
        return torch.tensor(json.loads(path.read_text()), dtype=torch.float32)
    palette = kmeans(data.train, k)
    atomic_write(path, json.dumps(palette.tolist()))
    return palette


def rebalance_weights(labels, palette, mix=MIX, sigma=SIGMA):
    """(NC,) per-colour loss weights of Zhang et al.'s class rebalancing: w proportional to
    1 / ((1 - mix) p + mix / NC), scaled so that the mean weight under p is 1, where p is
    the colours' frequency in `labels` smoothed by a Gaussian of `sigma` over the palette colours'
    ab distances. Rare colours weigh more, so the loss stops favouring the dull common ones."""
    q = len(palette)
    freq = torch.bincount(labels.flatten(), minlength=q).double()
    freq /= freq.sum()
    ab = srgb_to_lab(palette)[:, 1:].double()                                   # (NC, 2)
    kernel = torch.exp(-torch.cdist(ab, ab) ** 2 / (2 * sigma ** 2))            # (NC, NC)
    smoothed = (kernel / kernel.sum(0)) @ freq   # each colour spreads its share over its neighbours
    weights = 1 / ((1 - mix) * smoothed + mix / q)
    return (weights / (smoothed @ weights)).float()


def compare_palettes(a, b, k, palette=None):
    """What fitting the palette on one copy of a set of images rather than on another changes (a, b:
    data.CategoryData of the same training images in the same order, e.g. originals and their JPEG
    re-encodings): the k-means palette of each, its centres paired greedily nearest first, how far
    each pair lies apart in CIELAB (Delta E), and the share of pixels whose category differs
    between the two copies, each labelled with its own palette (paired categories) and, if given,
    both with one `palette`."""
    pa, pb = kmeans(a.train, k), kmeans(b.train, k)
    distance = torch.cdist(srgb_to_lab(pa), srgb_to_lab(pb))                 # (k, k) Delta E
    pairs, free = {}, torch.ones_like(distance, dtype=torch.bool)
    for _ in range(k):                                                      # the closest free pair first
        i, j = divmod(int(torch.where(free, distance, torch.inf).argmin()), k)
        pairs[i] = j
        free[i, :], free[:, j] = False, False
    match = torch.tensor([pairs[i] for i in range(k)])
    moved = distance[torch.arange(k), match]
    own = 100 * (match[labels(a.train, pa)] != labels(b.train, pb)).double().mean().item()
    out = dict(palettes=dict(a=pa.tolist(), b=pb.tolist()), pairs=match.tolist(), delta_e=moved.tolist(),
               summary=dict(median_delta_e=moved.median().item(), max_delta_e=moved.max().item(),
                            labels_changed_own_palettes=own),
               data=dict(a=a.identity, b=b.identity))
    if palette is not None:
        out["summary"]["labels_changed_one_palette"] = 100 * (labels(a.train, palette) != labels(b.train, palette)).double().mean().item()
    return out
