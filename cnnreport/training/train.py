"""Training: `train(Config(model="unet")) -> Run`, stored in the runs store and never done twice.

An epoch is `train_epoch` (shuffled batches, Adam, the per-pixel loss `pixel_loss`) then
`evaluate`; `setup` builds what they use and makes it fast with cnnreport.training.speed (what each
technique gives: benchmarks/RESULTS.md). Both splits live on the device as tensors, a batch is one
index_select, and losses accumulate on the device: one host synchronisation per epoch.

The numbers are deterministic on the CPU: same config, seed and threads, same history, bit for
bit, also across an interruption (shuffles are seeded per epoch, checkpoints hold the weights, the
optimizer and the random state that dropout draws from). cuDNN does not promise as much.
"""
import math
import platform
import socket
import sys
import time
from dataclasses import asdict

import torch
import torch.nn.functional as F
import torchvision
from tqdm.auto import tqdm

from cnnreport import __version__
from cnnreport.science.data import prepare
from cnnreport.science.files import atomic_write
from cnnreport.science.metrics import quality
from cnnreport.science.models import build_model
from cnnreport.science.palette import rebalance_weights
from cnnreport.training.config import Config
from cnnreport.training.evaluate import decodings, samples_png
from cnnreport.training.progress import bar
from cnnreport.training.record import Run, colourize, load_run
from cnnreport.training.speed import (
    accelerate,
    cpu_name,
    cuda_graphed,
    default_device,
    mixed_precision,
    on_device,
    precision,
    tune_process,
)
from cnnreport.training.store import (
    DamagedRun,
    history_csv,
    identity,
    load_result,
    lock,
    matrix_csv,
    quarantine,
    read_history,
    resolve_store,
    run_path,
    save_torch,
    sha256,
    write_json,
    write_result,
)

# The public API, here in one place: from cnnreport.training.train import Config, train, load_run, colourize
__all__ = ["Config", "Run", "colourize", "dask_worker", "evaluate", "find_run", "load_run", "pixel_loss", "setup",
           "train", "train_epoch"]


def train(config, data=None, runs_dir=None, device=None, verbose=True, threads=None, palette=None, on_epoch=None):
    """The stored run for `config`, training it first if it is not stored (or resuming it if it
    was interrupted). `data`: see science.data; `runs_dir`: see store.resolve_store; `threads`: CPU
    threads to train on (default: every core this process may use); `palette`: colours to label
    with instead of the data's own (see data.prepare); on_epoch(epoch): called after each epoch stored."""
    path, tensors, device = locate(config, data, runs_dir, device, palette)
    with lock(path):
        try:
            finished = load_result(path) is not None
        except DamagedRun as e:   # moved aside, its lock with it: trained afresh in its place
            print(f"{e}: moved to {quarantine(path)}; it will retrain", file=sys.stderr)
            path.mkdir()
            finished = False
        if not finished:
            _train(config, tensors, path, device, verbose, threads, on_epoch or (lambda epoch: None))
    return load_run(path)


def locate(config, data=None, runs_dir=None, device=None, palette=None):
    """(store directory of `config`'s run, the tensors it trains on, the device it trains on)."""
    root = resolve_store(runs_dir)
    device = torch.device(device) if device else default_device()
    tensors = prepare(config.category, data, config.num_colours, root / "palettes", palette)
    ident = identity(config, precision(config, device), tensors["data"]["fingerprint"], tensors["palette"].tolist())
    return run_path(root, ident), tensors, device


def find_run(config, data=None, runs_dir=None, device=None, palette=None):
    """The finished run of `config` on the data at hand in the store, or None if it still has to be
    trained (DamagedRun where its record is damaged)."""
    path = locate(config, data, runs_dir, device, palette)[0]
    return load_run(path) if load_result(path) is not None else None


def setup(config, t, device, threads=None):
    """What every epoch of `config` uses: the model, its optimizer, the autocast context and the
    (x, y) train and test tensors on `device`, all made fast by cnnreport.training.speed. Shared with the benchmark."""
    c, p = config, precision(config, device)
    tune_process(threads)
    torch.manual_seed(c.seed)  # the initial weights; nothing else here draws random numbers on the CPU
    model = accelerate(build_model(c.model, c.kernel, c.num_filters, c.num_colours, c.dropout), device)
    opt = torch.optim.Adam(model.parameters(), lr=c.lr)
    autocast = mixed_precision(p, device)
    train_part, test_part = slice(c.train_images or None), slice(c.test_images or None)
    x, xv = on_device(t["x_train"][train_part], device, p), on_device(t["x_test"][test_part], device, p)
    y, yv = t["y_train"][train_part].to(device), t["y_test"][test_part].to(device)
    if device.type == "cuda" and len(x) % c.batch_size == 0:  # a graph replays one batch shape
        model = cuda_graphed(model, autocast, x[:c.batch_size])
    return model, opt, autocast, (x, y), (xv, yv)


def pixel_loss(logits, y, reduction="mean", weights=None):
    """Cross-entropy over every pixel, in float32, each pixel weighted by weights[its colour] if
    given. The class dim goes last first: a free view of channels_last logits (N, NC, H, W) ->
    (N*H*W, NC), whose log-softmax the CPU computes faster than over dim 1."""
    flat, y = logits.permute(0, 2, 3, 1).reshape(-1, logits.shape[1]).float(), y.reshape(-1)
    if weights is None:
        return F.cross_entropy(flat, y, reduction=reduction)
    loss = F.cross_entropy(flat, y, reduction="none") * weights[y]
    return loss.mean() if reduction == "mean" else loss.sum()


def train_epoch(model, opt, x, y, batch_size, generator, autocast, progress, weights=None):
    """One pass over (x, y) in shuffled batches; returns the mean per-pixel loss as a device tensor."""
    model.train()
    total = torch.zeros((), device=x.device)
    order = torch.randperm(len(x), generator=generator).to(x.device)
    for idx in order.split(batch_size):
        with autocast:
            logits = model(x[idx])
        loss = pixel_loss(logits, y[idx], weights=weights)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        total += loss.detach() * len(idx)
        progress.update()
    return total / len(x)


@torch.inference_mode()
def evaluate(model, x, y, autocast, batch_size=250):
    """(mean per-pixel cross-entropy, per-pixel accuracy in %) over (x, y)."""
    model.eval()
    loss = torch.zeros((), device=x.device)
    correct = torch.zeros((), device=x.device, dtype=torch.long)
    for xb, yb in zip(x.split(batch_size), y.split(batch_size)):
        with autocast:
            out = model(xb)
        loss += pixel_loss(out, yb, reduction="sum")
        correct += (out.argmax(1) == yb).sum()
    return loss.item() / y.numel(), 100 * correct.item() / y.numel()


def dask_worker():
    """The name of the dask worker running this training, recorded as info.worker; None outside one."""
    distributed = sys.modules.get("distributed")  # imported by a dask worker; never imported here
    try:
        return str(distributed.get_worker().name) if distributed else None
    except ValueError:  # dask imported, but this is no worker's task
        return None


def _train(config, t, path, device, verbose, threads, on_epoch):
    """Train `config`'s run into `path`, from its checkpoint if there is one."""
    c = config
    model, opt, autocast, (x, y), (xv, yv) = setup(c, t, device, threads)
    weights = rebalance_weights(y, t["palette"], c.rebalance_mix, c.rebalance_sigma).to(device) if c.rebalance else None
    info = dict(device=str(device), precision=precision(c, device), threads=torch.get_num_threads(),
                cpu=cpu_name(), host=socket.gethostname(), worker=dask_worker(), data=t["data"], **versions())
    write_json(path / "config.json", dict(config=asdict(c), palette=t["palette"].tolist(), **info))
    history = _resume(path, model, opt, device, verbose)
    batches = math.ceil(len(x) / c.batch_size)
    status = "finished"
    with bar(c.epochs * batches, "batch", f"{c.model} nf{c.num_filters} k{c.kernel}", initial=len(history) * batches,
             verbose=verbose, leave=False) as progress:
        for epoch in range(len(history) + 1, c.epochs + 1):
            start = time.perf_counter() - (history[-1]["seconds"] if history else 0.0)
            generator = torch.Generator().manual_seed(c.seed * 100_003 + epoch)
            train_loss = train_epoch(model, opt, x, y, c.batch_size, generator, autocast, progress, weights).item()
            train_time = time.perf_counter() - start
            val_loss, val_acc = evaluate(model, xv, yv, autocast)
            history.append(dict(epoch=epoch, train_loss=train_loss, val_loss=val_loss, val_acc=val_acc,
                                seconds=time.perf_counter() - start))
            if verbose:
                tqdm.write(f"Epoch [{epoch}/{c.epochs}], Loss: {train_loss:.4f}, Time (s): {train_time:.0f}")
                tqdm.write(f"Epoch [{epoch}/{c.epochs}], Val Loss: {val_loss:.4f}, Val Acc: {val_acc:.1f}%, "
                           f"Time(s): {history[-1]['seconds']:.0f}")
            atomic_write(path / "history.csv", history_csv(history))
            on_epoch(epoch)
            if not (math.isfinite(train_loss) and math.isfinite(val_loss)):
                status = "diverged"
                if verbose:
                    tqdm.write(f"Diverged at epoch {epoch} (loss {train_loss}); stopping this run")
                break
            if epoch < c.epochs:
                save_torch(path / "checkpoint.pt", dict(
                    model=model.state_dict(), opt=opt.state_dict(), epoch=epoch, rng=torch.get_rng_state(),
                    cuda_rng=torch.cuda.get_rng_state(device) if device.type == "cuda" else None))
    _finish(c, t, path, model, (xv, yv), autocast, status, history, info)


def versions():
    """The versions a run records: torch's decide its bits (see BIT_IDENTICAL); the others for the record."""
    import numpy
    return dict(torch=torch.__version__, torchvision=torchvision.__version__, numpy=numpy.__version__,
                python=platform.python_version(), cnnreport=__version__)


BIT_IDENTICAL = ("torch",)   # versions that must match (with data, precision, CPU and threads) for the same bits


def _resume(path, model, opt, device, verbose):
    """The history so far of an interrupted run, its model, optimizer and random state restored
    from its checkpoint (so that it goes on as if never stopped); [] for a fresh run."""
    checkpoint = path / "checkpoint.pt"
    if not checkpoint.exists():
        return []
    state = torch.load(checkpoint, map_location=device, weights_only=True)
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["opt"])
    torch.set_rng_state(state["rng"].cpu())  # dropout draws from it
    if state.get("cuda_rng") is not None:    # ... from this one on CUDA
        torch.cuda.set_rng_state(state["cuda_rng"].cpu(), device)
    if verbose:
        tqdm.write(f"Resuming {path.name} after epoch {state['epoch']}")
    return read_history(path / "history.csv")[:state["epoch"]]


def _finish(c, t, path, model, test, autocast, status, history, info):
    """Write the run's weights, colour metrics and confusion matrix (unless it diverged), then
    result.json, which marks it finished."""
    save_torch(path / "model.pt", model.state_dict())
    files, metrics = ["config.json", "history.csv", "model.pt"], None
    if status == "finished":  # a diverged net's outputs are not numbers: nothing to measure
        rgb = t["rgb_test"][slice(c.test_images or None)]
        metrics, confusion = quality(model, *test, rgb, t["palette"], autocast)
        atomic_write(path / "confusion.csv", matrix_csv(confusion.tolist()))
        atomic_write(path / "samples.png", samples_png(model, test[0], rgb, t["palette"], autocast))
        write_json(path / "evaluations.json", dict(decodings=decodings(model, *test, rgb, t["palette"], autocast)))
        files += ["confusion.csv", "samples.png", "evaluations.json"]
    final = history[-1]
    write_result(path, dict(
        status=status, epochs_run=len(history), info=info, parameters=sum(p.numel() for p in model.parameters()),
        final=dict(train_loss=final["train_loss"], val_loss=final["val_loss"], val_acc=final["val_acc"]),
        best_val_acc=max(h["val_acc"] for h in history), seconds=final["seconds"], metrics=metrics,
        checksums={name: sha256(path / name) for name in files}))
    (path / "checkpoint.pt").unlink(missing_ok=True)
