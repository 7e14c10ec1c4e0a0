"""Training throughput of cnnreport's trainer against a plain textbook loop, in one run.

    python benchmarks/bench.py [--models cnn,unet,resnet] [--nf 32,128] [--repeats 3] [--data PATH]
                               [--device cuda] [--compile MODE]

For each model and NF (kernel 3, batch 100) it times full epochs (5,000 training images, then
evaluation on 1,000) after one warm-up epoch each, alternating the two loops `--repeats` times and
keeping each one's fastest epoch, so that a burst of load on a shared host hits both alike:
- reference: eager PyTorch, NCHW float32, DataLoader over a TensorDataset, per-batch .item(),
  torch.no_grad evaluation: the usual textbook loop, in a process of its own that runs an epoch
  when the benchmark asks, so that it runs as in a user's script, untouched by what cnnreport's
  setup() sets for its whole process (threads aside, which both loops set alike);
- cnnreport: cnnreport.train.setup + train_epoch + evaluate, the code `train` runs;
and prints images/s of both (training images over the epoch's time, evaluation included) as each
model finishes, then a table with their ratio and our achieved GFLOP/s (the FLOPs of the epoch's
training steps and evaluation, counted by torch.utils.flop_counter) as a share of the matmul peak
of the precision our trainer used (bf16 where native, see cnnreport.speed.precision), measured
just before and just after each of our epochs: `% peak` is the best of our epochs' shares of the
higher of their two measurements, `% best peak` the fastest epoch's share of the run's best
measurement. A single measurement on a shared host can come out a fifth low (333 against 398-424
GFLOP/s in bf16 here), which would pass a busy moment off as efficiency; so can a peak measured
minutes away from the epoch it is compared with.
`--compile MODE` wraps our model in torch.compile(mode=MODE), to measure whether compiling pays
(it is timed after the warm-up epoch has compiled it).
Data: the shared horses when --data / CNNREPORT_DATA point at them, else same-sized random data.

Evidence behind the trainer's choices (2-core AMD EPYC with AVX512-BF16, img/s, batch 100,
min of 3 repeats, everything else on the machine paused):

    model  NF   NCHW fp32  channels_last  +fused Adam  +bf16 autocast
    cnn    32        879           1388         1270            1967
    cnn   128        217            286          274             535
    unet   32       1281           1418         1447            1913
    unet  128        356            430          430             691
    resnet 32        335            430          423             677
    resnet128         26             34           34              75

torch.compile on top of channels_last + bf16: cnn 32 2147 -> 2041 img/s after 25 s of
compiling, unet 32 1931 -> 2095 after 8 s; later, unet 32 87.0 -> 75.0 ms a step after 10.5 s:
a 30-epoch run saves about what it spends compiling, so not used. Nor at NF 128, where the
memory-bound layers weigh less: U-Net epochs (5,000 + 1,000 images) alternating eager and compiled
in one process, fastest of 6 each, two processes: 7.48 and 7.85 s eager, 7.64 and 7.58 s compiled,
whose first epoch took 4.5-10.6 s longer (Inductor's on-disk cache already warm).
Then, U-Net NF 32, ms a training step (min of 4 alternating epochs): 57.0 as above; 53.7 with the
loss over (N*H*W, NC) rows; 52.3 with bf16 inputs too. Evaluating 1,000 images in batches of 250
instead of 1000: 204-258 ms instead of 315-351, and no page faults instead of ~100,000 (with
keep_freed_memory, below, batches of 100 to 1000 take the same time: 164-173 ms).
Then glibc's habit of handing freed activations back to the OS, only to page-fault them in again
at the next step (ms a step, page faults a step; min of 3 epochs, separate processes):

    U-Net NF 32    cnnreport  55-58 (6,500)          with keep_freed_memory  48-50 (0)
    U-Net NF 128   cnnreport  167-178 (13,000-20,000)                        141-148 (0)
    ResNet NF 128  cnnreport  1355-1408                                      1304-1319
    U-Net NF 32    reference  100-122 (13,000-15,500)                        88-94 (0)
    U-Net NF 128   reference  305-322 (24,000-27,000)                        233-248 (0)

The setting is process-wide, hence the reference loop's own process. torch.compile on the model
and loss after that: 50 against 52 ms a step (U-Net NF 32), after 11 s of compiling.
Then the transposed convolutions' bias gradient, which oneDNN computes in a loop of its own when
asked for it with the other gradients (ms, bf16; input and weight gradients with the bias
gradient, then without it plus a plain sum for the bias):

    ConvT 64->32,   8->16 (U-Net NF 32, up1)     3.29    2.01 + 0.04
    ConvT 64->24,  16->32 (U-Net NF 32, up2)     8.82    4.67 + 0.15
    ConvT 256->128, 8->16 (U-Net NF 128, up1)   27.86   22.01 + 0.10
    ConvT 256->24, 16->32 (U-Net NF 128, up2)   19.60   15.48 + 0.15

speed.FastConvTranspose2d takes the second way: a U-Net step at NF 32 went from 49-50 to 45-46 ms, at NF 128
from 136 to 130-132 (alternating processes). Then the weight gradients of the strided and
transposed convolutions, which oneDNN's jit_bf16 kernels compute at ~225 GFLOP/s (NF 128,
128->256: 16.6 ms, where the forward takes 8.8). One matmul per kernel tap: 139 against 144 ms a
step at NF 128, slower below 64 channels. One matmul over im2col columns for one layer: 129
against 133. The same for all three of the U-Net's wide layers (speed.accelerate's layers, from
in x out channels >= 4096), epochs alternating in one process, ms a step, min of 6:

    U-Net NF 128    138.0, 135.5, 142.2 against 156.1, 157.1, 152.0 (three processes)
    U-Net NF 64     97.6 against 100.9 (down2 and up1 only: up2 is 128 x 24 channels)
    U-Net NF 48     74.3 against 78.7
    ResNet NF 128   1295 against 1284 (every Down and Up: no gain, no loss)
    U-Net NF 32     47.5 against 43.7 with all three layers by matmul, hence the threshold

Tried after that and not kept:
- a cross-entropy backward of our own (softmax minus one-hot, straight to bf16): 4.2-4.7 ms
  against 4.1-4.4 for the loss's forward and backward with cold caches.
- OMP_WAIT_POLICY=ACTIVE or PASSIVE: 51-53 ms a step against 46-49 with libgomp's default.
- batch norm at 24 channels over wide (N*H, W*C) views of channels_last activations, in eager
  PyTorch ops: 13.5-17.7 ms forward and backward against 4.2-4.9 for the native kernel.
- the U-Net's final convolution as two (24 and 1 input channels) summed instead of one over
  cat([u2, x]): 145 against 140 ms a step at NF 128; a cat whose backward hands on dense instead
  of sliced gradients: ReLU's backward 2.6 -> 0.4 ms at 24 channels, but batch norm's 3.0 -> 4.8.

On CUDA (NVIDIA H200, torch 2.11, bf16; `--repeats 3`), eager, then with the training step
replayed as CUDA graphs (cnnreport.speed.cuda_graphed), ratios to the plain loop in the same run:

    model  NF   eager  graphs   graphs img/s
    cnn    32   1.11x   2.53x   59,785
    cnn   128   1.20x   2.59x   59,600
    unet   32   1.11x   2.56x   62,739
    unet  128   1.15x   2.88x   63,036
    resnet 32   1.00x   3.03x   32,873
    resnet128   1.06x   2.19x   20,981

The same throughput at NF 32 and 128 shows that launch latency, not the GPU, bounds a step of
100 images. torch.compile(mode="reduce-overhead") on the eager trainer: unet 32 1.91x, resnet 32
2.38x, after 10-15 s of compiling per model: the graphs give as much without compiling.
"""
import argparse
import contextlib
import multiprocessing
import os
import platform
import threading
import time

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.flop_counter import FlopCounterMode

from cnnreport.data import prepare
from cnnreport.models import build_model
from cnnreport.runs import runs_dir
from cnnreport.speed import precision, set_threads
from cnnreport.train import Config, evaluate, setup, train_epoch


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
    every step (13,000 faults a step for the U-Net at NF 32), as it would in a user's script.
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
        return prepare("horse", data, 24, runs_dir() / "palettes")
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
    args = ap.parse_args()
    device = torch.device(args.device)
    spawn = multiprocessing.get_context("spawn")  # a fresh interpreter for the reference loop, on any OS
    set_threads()
    t = tensors(args.data)
    images, tests = len(t["x_train"]), len(t["x_test"])
    trained_in = precision(Config(), device)
    peak_dtype = torch.bfloat16 if trained_in == "bf16" else torch.float32
    peaks = []  # every matmul peak measured, in the precision our trainer computes in

    def peak():
        peaks.append(matmul_peak(device, peak_dtype))
        return peaks[-1]
    print(f"{platform.processor() or platform.machine()}, {device}, {torch.get_num_threads()} threads, torch {torch.__version__}"
          f"{', ' + torch.cuda.get_device_name(device) if device.type == 'cuda' else ''}; "
          f"cnnreport trains in {trained_in}{', compiled (' + args.compile + ')' if args.compile else ''}", flush=True)
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
    print(f"\nmatmul peak in {trained_in}: {max(peaks):.0f} GFLOP/s at best, {min(peaks):.0f} at worst "
          f"({len(peaks)} measurements, just before and after each of cnnreport's epochs)\n")
    print(f"{'model':8} {'NF':>4} {'reference img/s':>16} {'cnnreport img/s':>16} {'ratio':>6} {'GFLOP/s':>8} "
          f"{'% peak':>7} {'% best peak':>12}")
    for name, nf, ref, ours, gflops, share in rows:
        print(f"{name:8} {nf:>4} {ref:>16.0f} {ours:>16.0f} {ours / ref:>5.2f}x {gflops:>8.1f} {100 * share:>6.0f}% "
              f"{100 * gflops / max(peaks):>11.0f}%")


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
