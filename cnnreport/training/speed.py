"""Everything that makes training fast, and the device it runs on: it changes how the networks
compute, not what (up to rounding; bf16 is a precision each run records). The trainer applies it
to a plain model from cnnreport.science.models and to its own process. What each technique gives, measured
against a plain textbook loop by benchmarks/bench.py: benchmarks/RESULTS.md.

- bf16 autocast where the hardware computes bfloat16 natively (`precision`), inputs stored in
  bf16 too (`on_device`): half the memory traffic, and native bf16 matmuls
- channels_last activations and weights (`accelerate`, `on_device`): the layout of oneDNN's (CPU)
  and cuDNN's fast convolution kernels
- strided and transposed convolutions with a backward of their own (`accelerate`, `_Conv`):
  bias gradients as a plain sum and wide layers' weight gradients as one matmul, where oneDNN's
  kernels are slow (or, for narrow strided 1x1 layers on AVX2, crash: `_avx2_bug`)
- as many threads as the cores this process may use (`set_threads`): torch sizes its pool by the host
- freed memory kept by the process (`keep_freed_memory`): glibc would hand each step's
  activations back to the OS, then page-fault them in again at the next step
- on CUDA, cuDNN autotuning, and the training step replayed as CUDA graphs (`cuda_graphed`): at
  batch 100 these nets are bound by kernel-launch latency, not by the GPU
The trainer's loop (cnnreport.training.train) adds the rest: both splits on the device, no host sync inside
an epoch, the loss over (N*H*W, NC) rows, evaluation under inference_mode in batches of 250.
Tried and left out: fused Adam (no gain) and torch.compile (a run saves about what it spends
compiling; on CUDA the graphs give as much without compiling).
"""
import ctypes
import os
import platform
import re
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

# ----------------------------------------------------------------------------- the device


def default_device():
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def cpu_name():
    """The processor's model name (recorded with each run: bf16 numerics depend on the CPU)."""
    info = Path("/proc/cpuinfo")
    found = re.search(r"model name\s*:\s*(.+)", info.read_text()) if info.exists() else None
    return found.group(1).strip() if found else platform.processor() or platform.machine()


def precision(config, device):
    """"bf16" where the device computes bfloat16 natively and config.amp allows it, else "float32".
    Part of a run's identity: runs in different precisions never share a store entry."""
    if not config.amp:
        return "float32"
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "float32"
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")  # torch.cpu helpers, torch >= 2.3
    native = device.type == "cpu" and any(getattr(torch.cpu, name, lambda: False)() for name in checks)
    return "bf16" if native else "float32"


def mixed_precision(precision, device):
    """The autocast context of a run in `precision` (see precision()). No cast cache: CUDA graphs
    need that, and it never hits here (each weight is cast once a step)."""
    return torch.autocast(device.type, torch.bfloat16, enabled=precision == "bf16", cache_enabled=False)


def on_device(x, device, precision):
    """Input images on `device`, channels_last, in the dtype the first convolution computes in:
    the same values reach every layer, but the U-Net's cat([activations, input]) stays bf16
    instead of promoting to float32."""
    return x.to(device, torch.bfloat16 if precision == "bf16" else torch.float32, memory_format=torch.channels_last)

# ----------------------------------------------------------------------------- the process


def usable_cores():
    """The cores this process may run on (a container's or taskset's share, not the host's)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def set_threads(threads=None):
    """Torch sizes its pool from the host; use `threads`, else exactly the cores this process may
    run on. The count changes the last bits of the numbers, so every run records it."""
    torch.set_num_threads(threads or usable_cores())


def keep_freed_memory():
    """Stop glibc from handing freed activations back to the OS between training steps. By default
    it returns big blocks (mmap'd ones, and the heap's free top beyond a threshold) and then
    page-faults them in afresh at the next step. The process keeps its peak memory instead.
    Process-wide; a no-op where the C library has no mallopt (macOS, Windows)."""
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None) if sys.platform.startswith("linux") else None
    if mallopt:
        M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4  # glibc's <malloc.h>
        mallopt(M_TRIM_THRESHOLD, 2 ** 30)      # return free heap top only beyond 1 GiB
        mallopt(M_MMAP_MAX, 0)                  # big blocks from the heap too, so they are reused


def tune_process(threads=None):
    """The process-wide settings training runs under: its threads (see set_threads), freed memory
    kept, cuDNN autotuning."""
    set_threads(threads)
    keep_freed_memory()
    torch.backends.cudnn.benchmark = True

# ----------------------------------------------------------------------------- the model


def accelerate(model, device):
    """`model`, a plain network from cnnreport.science.models, on `device` in channels_last, its stride-2
    convolutions and transposed convolutions turned into FastConv2d and FastConvTranspose2d: the
    same modules, parameters and state_dict, with `_Conv`'s backward. Residual shortcuts' 1x1
    projections keep torch's (but where `_avx2_bug`): oneDNN computes them as plain matmuls already,
    and runs recorded so far trained them so. Draws no random numbers."""
    model = model.to(device, memory_format=torch.channels_last)
    for name, m in model.named_modules():
        if type(m) in FAST and m.stride == (2, 2) and ("shortcut" not in name.split(".") or _avx2_bug(m)):
            m.__class__ = FAST[type(m)]  # in place: nothing is rebuilt, so nothing is re-initialised
    return model


class FastConv2d(nn.Conv2d):
    """nn.Conv2d with the backward of `_Conv`."""

    def forward(self, x):
        return _Conv.apply(x, self.weight, self.bias, self)


class FastConvTranspose2d(nn.ConvTranspose2d):
    """nn.ConvTranspose2d with the backward of `_Conv`."""

    def forward(self, x):
        return _Conv.apply(x, self.weight, self.bias, self)


FAST = {nn.Conv2d: FastConv2d, nn.ConvTranspose2d: FastConvTranspose2d}
WIDE = 4096  # in x out channels from which a weight gradient is one matmul on the CPU (see _Conv)


class _Conv(torch.autograd.Function):
    """The forward of module m (a FastConv2d or FastConvTranspose2d: square kernel, no dilation or
    groups), and a backward that mends two slow spots of oneDNN, the CPU backend (gradients equal
    up to rounding):
    - bias gradients as a plain sum: oneDNN computes a transposed convolution's in a slow loop of its own;
    - on the CPU, the weight gradient of wide layers (in x out channels >= WIDE) as one matmul
      over im2col columns (`_weight_grad`), which runs near the matmul peak where oneDNN's
      jit_bf16 kernels do not; narrower layers gain nothing from it."""

    @staticmethod
    def forward(ctx, x, weight, bias, m):
        ctx.save_for_backward(x, weight)
        ctx.m = m
        if m.transposed:  # autocast applies to both
            return F.conv_transpose2d(x, weight, bias, m.stride, m.padding, m.output_padding, m.groups, m.dilation)
        return F.conv2d(x, weight, bias, m.stride, m.padding, m.dilation, m.groups)

    @staticmethod
    def backward(ctx, gy):
        m, dt = ctx.m, gy.dtype   # gy's dtype is the one the forward computed in (bf16 under autocast)
        x, weight = ctx.saved_tensors
        x, w = x.to(dt), weight.to(dt)
        by_matmul = gy.device.type == "cpu" and (m.in_channels * m.out_channels >= WIDE or _avx2_bug(m))
        gx = gw = None
        if ctx.needs_input_grad[0] or not by_matmul:
            gx, gw, _ = torch.ops.aten.convolution_backward(
                gy, x, w, None, m.stride, m.padding, m.dilation, m.transposed, m.output_padding, m.groups,
                [ctx.needs_input_grad[0], not by_matmul, False])
        if by_matmul:  # the low-resolution side first: a convolution's output, a transposed one's input
            gw = _weight_grad(x, gy, m) if m.transposed else _weight_grad(gy, x, m)
        return gx, gw.to(weight.dtype), gy.sum((0, 2, 3)).to(weight.dtype), None


def _avx2_bug(m):
    """Whether oneDNN's AVX2 kernels (torch 2.14) would corrupt the heap computing m's weight gradient
    in channels_last: a strided 1x1 convolution whose high-resolution side has fewer than 8 channels
    (the kernel-1 U-Net's first layer, a narrow residual network's shortcuts). There the weight
    gradient is a matmul; CPUs with AVX512 keep oneDNN's, with which the committed runs trained."""
    high = m.out_channels if m.transposed else m.in_channels
    return (m.kernel_size == (1, 1) and m.stride != (1, 1) and high < 8
            and torch.backends.cpu.get_cpu_capability() == "AVX2")


def _weight_grad(low, high, m):
    """The weight gradient of m (square kernel, stride s, no dilation or groups) as one
    (A, N*h*w) @ (N*h*w, k*k*B) matmul: every position of the low-resolution side low (N, A, h, w)
    times the k x k taps, stride s, of the padded high-resolution side high (N, B, H, W) that it
    meets; returns (A, B, k, k)."""
    (k, _), (s, _), (p, _) = m.kernel_size, m.stride, m.padding
    n, a, h, w = low.shape
    high = F.pad(high, (p, p, p, p)).permute(0, 2, 3, 1)                           # (N, H+2p, W+2p, B)
    taps = [high[:, i:i + s * (h - 1) + 1:s, j:j + s * (w - 1) + 1:s] for i in range(k) for j in range(k)]
    cols = torch.stack(taps, 3).view(n * h * w, -1)                                 # (N*h*w, k*k*B)
    return (low.permute(0, 2, 3, 1).reshape(-1, a).t() @ cols).view(a, k, k, -1).permute(0, 3, 1, 2)


def cuda_graphed(model, autocast, sample):
    """`model` with its training forward and backward replayed as two CUDA graphs: two launches a
    step instead of ~100, whose latency is what bounds these small nets at batch 100 on a GPU.
    Capturing runs 3 warm-up passes on `sample`; the BN statistics and random state they moved are
    put back, so training starts where it would have. Evaluation (eval mode) runs eagerly."""
    state = {k: v.clone() for k, v in model.state_dict().items()}
    rng = torch.cuda.get_rng_state(sample.device)
    # The weights' gradient accumulators are made on the capture's side stream; newer torch warns
    # about that at each backward after the first, which is expected here and harmless.
    getattr(torch.autograd.graph, "set_warn_on_accumulate_grad_stream_mismatch", lambda on: None)(False)
    with autocast:  # the clone becomes the graph's input buffer, into which each batch is copied
        model = torch.cuda.make_graphed_callables(model, (sample.clone(),))
    model.load_state_dict(state)  # copies into the same tensors, which the graphs read
    torch.cuda.set_rng_state(rng, sample.device)
    return model
