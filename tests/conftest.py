import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REAL_DATA = os.environ.get("CNNREPORT_DATA")
WORKPLACE_HORSES = Path(__file__).resolve().parents[2] / "shared" / "data" / "cifar10-horse"

# Four colours of clearly different brightness: a pixel's grey level tells its colour, so the
# task is learnable in a few epochs, and k-means with k=4 finds these colours exactly.
COLOURS = np.array([[200, 30, 30], [30, 160, 40], [40, 60, 220], [250, 240, 60]], np.uint8)

# Training settings small enough for tests on that data, and for a sweep's runs (seconds each).
FAST = dict(num_colours=4, num_filters=8, batch_size=32, lr=0.01)
QUICK = dict(FAST, batch_size=64, epochs=1, train_images=128, test_images=32)


def run_sweep(data_dir, field="num_filters", values=(4, 8), models=("cnn", "unet"), seeds=(0,), **base):
    """A small sweep of plain networks on the test data (analysis.sweeps.sweep), quietly."""
    from cnnreport.analysis.sweeps import by_model, sweep
    return sweep({**QUICK, **base}, field, list(values), by_model(models), list(seeds), data=str(data_dir), verbose=False)


def fake_sweep(field, rows):
    """A Sweep of in-memory runs of 30 epochs (as the original report's: their two epochs of history
    stand for them), from (model, value, seed, status, final val acc, best val acc) rows, each
    optionally with a dict of colour metrics that differ from the defaults below: what the analysis
    reads of runs, without training any."""
    from pathlib import Path

    from cnnreport.analysis.sweeps import Sweep
    from cnnreport.training.config import Config
    from cnnreport.training.record import Run
    runs = []
    for i, (model, value, seed, status, final, best, *more) in enumerate(rows):
        config = Config(model=model, seed=seed, epochs=30, **({field: value} if field else {}))   # as the original's runs
        history = [dict(epoch=1, train_loss=2.0, val_loss=2.0, val_acc=best, seconds=1.0),
                   dict(epoch=2, train_loss=1.5, val_loss=1.5 if status == "finished" else float("nan"),
                        val_acc=final if status == "finished" else 0.0, seconds=2.0)]
        metrics = None if status == "diverged" else {**dict(pixel_acc=final, balanced_acc=final / 2, auc=90.0, psnr=20.0,
                                                            colourfulness=20.0, colourfulness_true=30.0), **(more[0] if more else {})}
        runs.append(Run(config, Path(f"/fake/run{i}"), status, history, dict(precision="bf16", data=dict(fingerprint="fake")),
                        None, 1000, metrics))
    return Sweep(field, tuple(runs))


def numbers(history):
    """A history without its timings, which differ from run to run."""
    return [{k: v for k, v in row.items() if k != "seconds"} for row in history]


def make_images(n, rng):
    """(n, 32, 32, 3) uint8 images made of 8x8 blocks of the four colours."""
    blocks = rng.integers(0, len(COLOURS), (n, 4, 4))
    return COLOURS[blocks.repeat(8, 1).repeat(8, 2)]


def write_folder(root, n_train=512, n_test=64, category="horse", seed=0):
    rng = np.random.default_rng(seed)
    for split, n in (("train", n_train), ("test", n_test)):
        folder = root / split / category
        folder.mkdir(parents=True)
        for i, image in enumerate(make_images(n, rng)):
            Image.fromarray(image).save(folder / f"{i:04d}.png")
    return root


@pytest.fixture
def data_dir(tmp_path):
    """A small learnable image folder, in the layout of ../shared/data/cifar10-horse."""
    return write_folder(tmp_path / "data")


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Every test gets its own runs store, no progress bars and sweeps in its own process (tests of
    the pools ask for them); user settings never leak in."""
    monkeypatch.setenv("CNNREPORT_RUNS", str(tmp_path / "runs"))
    monkeypatch.delenv("CNNREPORT_DATA", raising=False)
    monkeypatch.setenv("CNNREPORT_WORKERS", "1")
    monkeypatch.delenv("CNNREPORT_SCHEDULER", raising=False)
    monkeypatch.setenv("TQDM_DISABLE", "1")


@pytest.fixture
def shared_horses():
    """The real CIFAR-10 horses, as the README says: $CNNREPORT_DATA when set (read when this file
    is imported, before `isolated` removes it), else the workplace's copy (CI has it)."""
    root = Path(REAL_DATA) if REAL_DATA else WORKPLACE_HORSES
    if not ((root / "train" / "horse").is_dir() or (root / "cifar-10-batches-py").is_dir()):
        where = "CNNREPORT_DATA" if REAL_DATA else "CNNREPORT_DATA is not set and the workplace copy"
        pytest.skip(f"no real horses: {where} ({root}) holds neither train/horse/ nor cifar-10-batches-py/")
    return root
