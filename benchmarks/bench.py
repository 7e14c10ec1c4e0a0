"""Training throughput of cnnreport's trainer against a plain textbook loop, in one run.

    python benchmarks/bench.py [--models cnn,unet,resnet] [--nf 32,128] [--repeats 3] [--data PATH]
                               [--device cuda] [--compile MODE] [--results FILE]

For each model and NF (kernel 3, batch 100) it times full epochs (5,000 training images, then
evaluation on 1,000) after one warm-up epoch each, alternating the two loops `--repeats` times and
keeping each one's fastest epoch, so that a burst of load on a shared host hits both alike:
- reference: eager PyTorch, NCHW float32, DataLoader over a TensorDataset, per-batch .item(),
  torch.no_grad evaluation: the usual textbook loop, in a process of its own that runs an epoch
  when the benchmark asks, so that it runs as in a user's script, untouched by what cnnreport's
  setup() sets for its whole process (threads aside, which both loops set alike);
- cnnreport: cnnreport.training.train.setup + train_epoch + evaluate, the code `train` runs;
and prints images/s of both (training images over the epoch's time, evaluation included) as each
model finishes, then a table with their ratio and our achieved GFLOP/s (the FLOPs of the epoch's
training steps and evaluation, counted by torch.utils.flop_counter) as a share of the matmul peak
of the precision our trainer used (bf16 where native, see cnnreport.training.speed.precision), measured
just before and just after each of our epochs: `% peak` is the best of our epochs' shares of the
higher of their two measurements, `% best peak` the fastest epoch's share of the run's best
measurement. A single measurement on a shared host can come out low, which would pass a busy
moment off as efficiency; so can a peak measured minutes away from the epoch it is compared with.
`--compile MODE` wraps our model in torch.compile(mode=MODE), to measure whether compiling pays
(it is timed after the warm-up epoch has compiled it).
Data: the shared horses when --data / CNNREPORT_DATA point at them, else same-sized random data.

It appends a dated section with its table to benchmarks/RESULTS.md (`--results FILE` to write
elsewhere), which also keeps the evidence behind each of the trainer's techniques.
"""
import argparse
import contextlib
import multiprocessing
import os
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.flop_counter import FlopCounterMode

from cnnreport.params import known_data
from cnnreport.science.data import describe, prepare
from cnnreport.science.models import build_model
from cnnreport.training.speed import cpu_name, precision, set_threads
from cnnreport.training.store import resolve_store
from cnnreport.training.train import Config, evaluate, setup, train_epoch


class NoBar:
    def update(self):
        pass


def reference_epoch(model, opt, loader, test, device):
    """The textbook loop: host batches copied to the device, a sync per batch for the loss."""
    model.train()
    losses = []
    for xb, yb in loader:
        xb, yb = xb.to(device), yb.to(device)
        opt.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    model.eval()
    correct = 0
    with torch.no_grad():
        for xb, yb in zip(*(t.split(100) for t in test)):
            out = model(xb.to(device))
            F.cross_entropy(out, yb.to(device)).item()
            correct += (out.argmax(1) == yb.to(device)).sum().item()
    return sum(losses) / len(losses)


def reference_worker(conn, name, nf, device, t):
    """The reference loop's own process, which runs an epoch whenever `conn` receives True. It gets
    what a fresh training script gets, not what cnnreport's setup() does to the benchmark's process
    (keep_freed_memory is process-wide): the textbook loop page-faults its activations back in
    every step, as it would in a user's script.
    It exits as soon as the benchmark does, even mid-epoch: a killed benchmark must not leave an
    epoch of NF 128 running (minutes of both cores) under whatever is timed next."""
    parent = multiprocessing.parent_process()
    threading.Thread(target=lambda: (parent.join(), os._exit(1)), daemon=True).start()
    set_threads()
    t = {k: torch.from_numpy(v) for k, v in t.items()}  # sent as arrays: copied, not in shared memory
    torch.manual_seed(0)
    model = build_model(name, 3, nf).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=Config().lr)
    loader = DataLoader(TensorDataset(t["x_train"], t["y_train"]), batch_size=100, shuffle=True)
    while conn.recv():
        reference_epoch(model, opt, loader, (t["x_test"], t["y_test"]), device)
        conn.send(None)


def seconds(fn, device):
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def timed_epochs(reference, ours, repeats, device, peak):
    """Seconds of each loop's epochs, calls alternating, after one warm-up call each (allocator,
    oneDNN primitive caches, cuDNN autotuning, compiling); and the matmul peak around each of our
    epochs: the higher of the measurements just before and just after it."""
    seconds(reference, device)
    seconds(ours, device)
    ref_s, our_s, our_peaks = [], [], []
    for _ in range(repeats):
        ref_s.append(seconds(reference, device))
        before = peak()
        our_s.append(seconds(ours, device))
        our_peaks.append(max(before, peak()))
    return ref_s, our_s, our_peaks


def matmul_peak(device, dtype, reps=20):
    n = 8192 if device.type == "cuda" else 2048  # big enough to reach the peak, small enough to be quick
    a, b = (torch.randn(n, n, device=device).to(dtype) for _ in range(2))

    def products(count):
        for _ in range(count):
            a @ b
    seconds(lambda: products(3), device)  # warm-up
    return 2 * n ** 3 * reps / seconds(lambda: products(reps), device) / 1e9


def image_flops(config, device):
    """FLOPs per image of a training step (forward + backward) and of evaluation (forward)."""
    model = build_model(config.model, config.kernel, config.num_filters, config.num_colours).to(device)
    x = torch.rand(100, 1, 32, 32, device=device)
    y = torch.randint(0, config.num_colours, (100, 32, 32), device=device)
    with FlopCounterMode(display=False) as train_step:
        F.cross_entropy(model(x), y).backward()
    with FlopCounterMode(display=False) as forward, torch.no_grad():
        model(x)
    return train_step.get_total_flops() / 100, forward.get_total_flops() / 100


def tensors(data):
    """The real horses when available, else random data of the same size."""
    try:
        return prepare("horse", data, 24, resolve_store() / "palettes")
    except ValueError as e:
        print(f"(random data: {e})")
        g = torch.Generator().manual_seed(0)
        return dict(x_train=torch.rand(5000, 1, 32, 32, generator=g), y_train=torch.randint(0, 24, (5000, 32, 32), generator=g),
                    x_test=torch.rand(1000, 1, 32, 32, generator=g), y_test=torch.randint(0, 24, (1000, 32, 32), generator=g))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="cnn,unet,resnet")
    ap.add_argument("--nf", default="32,128")
    ap.add_argument("--repeats", type=int, default=3, help="timed epochs of each loop (the fastest counts)")
    ap.add_argument("--data", default=None)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--compile", metavar="MODE", help="torch.compile our model with this mode (default, reduce-overhead, ...)")
    ap.add_argument("--results", default=Path(__file__).with_name("RESULTS.md"), type=Path, metavar="FILE",
                    help="file to append the dated table to (default: %(default)s)")
    args = ap.parse_args()
    device = torch.device(args.device)
    spawn = multiprocessing.get_context("spawn")  # a fresh interpreter for the reference loop, on any OS
    set_threads()
    t = tensors(args.data)
    data_source = describe(t["data"], known_data()) if "data" in t else "same-sized random data"
    images, tests = len(t["x_train"]), len(t["x_test"])
    trained_in = precision(Config(), device)
    peak_dtype = torch.bfloat16 if trained_in == "bf16" else torch.float32
    peaks = []  # every matmul peak measured, in the precision our trainer computes in

    def peak():
        peaks.append(matmul_peak(device, peak_dtype))
        return peaks[-1]
    setting = (f"{cpu_name()}, {device}{', ' + torch.cuda.get_device_name(device) if device.type == 'cuda' else ''}, "
               f"{torch.get_num_threads()} threads, torch {torch.__version__}; cnnreport trains in {trained_in}"
               f"{', compiled (' + args.compile + ')' if args.compile else ''}; {data_source}")
    print(setting, flush=True)
    rows = []
    for name in args.models.split(","):
        for nf in map(int, args.nf.split(",")):
            config = Config(model=name, num_filters=nf)
            conn, child_conn = spawn.Pipe()
            worker = spawn.Process(target=reference_worker, daemon=True, args=(
                child_conn, name, nf, device, {k: t[k].numpy() for k in ("x_train", "y_train", "x_test", "y_test")}))
            worker.start()
            model, opt, autocast, (x, y), (xv, yv) = setup(config, t, device)
            if args.compile:
                model = torch.compile(model, mode=args.compile)
            g = torch.Generator().manual_seed(0)

            def reference():
                conn.send(True)
                conn.recv()

            def ours():
                train_epoch(model, opt, x, y, 100, g, autocast, NoBar()).item()
                evaluate(model, xv, yv, autocast)
            ref_s, our_s, our_peaks = timed_epochs(reference, ours, args.repeats, device, peak)
            conn.send(False)
            worker.join()
            train_flops, eval_flops = image_flops(config, device)
            gflop = (train_flops * images + eval_flops * tests) / 1e9  # one epoch of ours
            ref, fast = images / min(ref_s), images / min(our_s)
            rows.append((name, nf, ref, fast, gflop / min(our_s), max(gflop / s / p for s, p in zip(our_s, our_peaks))))
            print(f"  {name} NF {nf}: reference {ref:.0f} img/s, cnnreport {fast:.0f} img/s", flush=True)
    table = [f"matmul peak in {trained_in}: {max(peaks):.0f} GFLOP/s at best, {min(peaks):.0f} at worst "
             f"({len(peaks)} measurements, just before and after each of cnnreport's epochs)", "",
             "| model | NF | reference img/s | cnnreport img/s | ratio | GFLOP/s | % peak | % best peak |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    table += [f"| {name} | {nf} | {ref:.0f} | {ours:.0f} | {ours / ref:.2f}x | {gflops:.1f} | {100 * share:.0f} % "
              f"| {100 * gflops / max(peaks):.0f} % |" for name, nf, ref, ours, gflops, share in rows]
    print("\n" + "\n".join(table))
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    with open(args.results, "a") as f:
        f.write(f"\n### {when}: `bench.py {' '.join(sys.argv[1:])}`\n\n{setting}\n\n" + "\n".join(table) + "\n")
    print(f"\nappended to {args.results}")


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
