"""One CIFAR-10 category, train and test, as uint8 tensors in memory.

Sources, in order of precedence: the `data` argument, else the CNNREPORT_DATA variable, else
torchvision's CIFAR-10 download into ~/.cache/cnnreport/cifar10. A given path may be either
- an image folder laid out as <root>/{train,test}/<category>/*.{png,jpg,jpeg}, or
- a torchvision CIFAR-10 root (a folder holding cifar-10-batches-py/).
Images are decoded once per process (`load_category` is cached), never per epoch; `prepare`
turns them into what training needs (grey inputs, colour labels), also once per process.
"""
import functools
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from cnnreport.science.palette import labels, load_palette

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
DEFAULT_ROOT = Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")).expanduser() / "cnnreport" / "cifar10"
HOW_TO_GET_DATA = (
    "get CIFAR-10 with internet access (torchvision downloads it to {root}), or point --data / "
    "CNNREPORT_DATA at an image folder <root>/{{train,test}}/<category>/*.png or at a folder "
    "holding cifar-10-batches-py/")


class DataError(ValueError):
    """Data that is missing or unusable; the message says which file or folder and what to do."""

    def _render_traceback_(self):   # IPython shows this instead of a traceback: the line says it all
        return [f"DataError: {self}"]


@dataclass(frozen=True)
class CategoryData:
    train: torch.Tensor   # (N_train, 3, 32, 32) uint8 RGB
    test: torch.Tensor    # (N_test, 3, 32, 32) uint8 RGB
    kind: str             # "image folder" or "torchvision CIFAR-10"
    folder: str           # the folder's name only: records and reports hold no path of this machine
    fingerprint: str      # hash of the pixels: runs on different data never share a store entry

    @property
    def identity(self):
        """What a run records of its data (see describe)."""
        return dict(kind=self.kind, folder=self.folder, fingerprint=self.fingerprint,
                    train_images=len(self.train), test_images=len(self.test))


def describe(identity, known=()):
    """Data identity (CategoryData.identity) in words, e.g. "CIFAR-10 horses, JPEG re-encoded copy"
    for a fingerprint that `known` ({fingerprint: words}, as params.known_data gives them) names."""
    if identity["fingerprint"] in known:
        return known[identity["fingerprint"]]
    return f"{identity['kind']} {identity['folder']}"


def check_category(category):
    if category not in CLASSES:
        raise ValueError(f"category {category!r} is not a CIFAR-10 class; choose one of {', '.join(CLASSES)}")


def greyscale(rgb):
    """uint8 RGB (N, 3, H, W) -> float grey (N, 1, H, W) in [0, 1]: the mean of R, G and B, as in the assignment."""
    return rgb.float().mean(1, keepdim=True) / 255


def load_image(path, size=32, name=None):
    """Any image file (a path, or a file object such as the bytes of an upload, called `name`) ->
    (1, 3, size, size) uint8 RGB, resized (Lanczos, aspect ratio not kept) to the size the networks
    were trained on; DataError naming the file if it cannot be read."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im = im.convert("RGB").resize((size, size), Image.Resampling.LANCZOS)
    except (UnidentifiedImageError, OSError) as e:
        raise DataError(f"cannot read image {name or path}: {e}") from None
    return torch.from_numpy(np.asarray(im).copy()).permute(2, 0, 1)[None]


def resolve_data(data=None):
    """The data location actually used: the argument, else $CNNREPORT_DATA, else None (download)."""
    data = data or os.environ.get("CNNREPORT_DATA") or None
    return None if data is None else str(Path(data).expanduser().resolve())


def load_category(category="horse", data=None):
    """Load `category` from `data` (see the module docstring); raise DataError with a remedy if impossible."""
    check_category(category)
    return _load(category, resolve_data(data))


_prepared = {}  # per process: sweeps load and label the data once


def prepare(category, data, num_colours, cache_dir, palette=None):
    """Everything training needs, as tensors: grey inputs, colour labels, palette, data identity.
    palette: (NC, 3) colours to label with instead of the data's own k-means palette (e.g. the
    palette of another copy of the same images, so that both are labelled alike)."""
    key = (category, resolve_data(data), num_colours, str(cache_dir), None if palette is None else str(palette.tolist()))
    if key not in _prepared:
        ds = load_category(category, key[1])
        palette = load_palette(ds, num_colours, cache_dir) if palette is None else palette.float()
        _prepared[key] = dict(
            x_train=greyscale(ds.train), y_train=labels(ds.train, palette),   # (N, 1, 32, 32), (N, 32, 32)
            x_test=greyscale(ds.test), y_test=labels(ds.test, palette), rgb_test=ds.test,
            palette=palette, data=ds.identity)
    return _prepared[key]


@functools.lru_cache(maxsize=4)
def _load(category, data):
    if data is None:
        train, test = _from_torchvision(DEFAULT_ROOT, category, download=True)
        kind, root = "torchvision CIFAR-10", DEFAULT_ROOT
    else:
        root = Path(data)
        if not root.is_dir():
            raise DataError(f"data folder {root} does not exist; " + HOW_TO_GET_DATA.format(root=DEFAULT_ROOT))
        if (root / "cifar-10-batches-py").is_dir():
            train, test = _from_torchvision(root, category, download=False)
            kind = "torchvision CIFAR-10"
        elif (root / "train").is_dir():
            train, test = (_from_folder(root / split / category) for split in ("train", "test"))
            kind = "image folder"
        else:
            raise DataError(f"{root} holds neither train/{category}/ images nor cifar-10-batches-py/; "
                            + HOW_TO_GET_DATA.format(root=DEFAULT_ROOT))
    digest = hashlib.sha256(train.numpy().tobytes() + test.numpy().tobytes()).hexdigest()[:16]
    return CategoryData(train, test, kind, Path(root).name, digest)


def _from_folder(folder):
    from PIL import Image, UnidentifiedImageError

    if not folder.is_dir():
        raise DataError(f"missing split folder {folder}: an image folder needs both train/ and test/ splits")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DataError(f"no .png or .jpg images in {folder}")
    images = np.empty((len(files), 32, 32, 3), np.uint8)
    for i, path in enumerate(files):
        try:
            with Image.open(path) as im:
                if im.size != (32, 32):
                    raise DataError(f"image {path} is {im.size[0]}x{im.size[1]}, not 32x32")
                images[i] = np.asarray(im.convert("RGB"))
        except (UnidentifiedImageError, OSError, SyntaxError) as e:
            raise DataError(f"cannot read image {path}: {e}") from None
    return torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()


def _from_torchvision(root, category, download):
    from torchvision.datasets import CIFAR10

    label = CLASSES.index(category)
    splits = []
    for train in (True, False):
        try:
            ds = CIFAR10(str(root), train=train, download=download)
        except Exception as e:  # offline download (URLError), corrupt archive, ... : say what to do instead
            raise DataError(f"CIFAR-10 is not available ({type(e).__name__}: {e}); "
                            + HOW_TO_GET_DATA.format(root=DEFAULT_ROOT)) from None
        keep = np.asarray(ds.targets) == label
        splits.append(torch.from_numpy(ds.data[keep]).permute(0, 3, 1, 2).contiguous())
    return splits
