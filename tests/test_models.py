import copy
import subprocess
import sys

import pytest
import torch
from torch import nn

from cnnreport.science.models import ARCHITECTURES, build_model
from cnnreport.training import speed


@pytest.mark.parametrize("name", ARCHITECTURES)
@pytest.mark.parametrize("kernel", [1, 3, 5, 7])
@pytest.mark.parametrize("nf", [1, 8, 32])
def test_every_model_keeps_32x32_for_every_odd_kernel(name, kernel, nf):
    model = build_model(name, kernel=kernel, num_filters=nf, num_colours=24)
    assert model(torch.rand(2, 1, 32, 32)).shape == (2, 24, 32, 32)


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_models_are_fully_convolutional(name):
    assert build_model(name, num_colours=5)(torch.rand(1, 1, 64, 48)).shape == (1, 5, 64, 48)


def test_convtranspose_is_the_unet_without_skips():
    unet, plain = build_model("unet"), build_model("convtranspose")
    # the skips only widen the inputs of the last two layers: NF and 1 extra input channels
    diff = sum(p.numel() for p in unet.parameters()) - sum(p.numel() for p in plain.parameters())
    assert diff == 32 * 24 * 3 * 3 + 1 * 24 * 3 * 3


@pytest.mark.parametrize("kwargs, bad", [
    (dict(name="vgg"), "'vgg'"),
    (dict(name="cnn", kernel=4), "4"),
    (dict(name="cnn", kernel=0), "0"),
    (dict(name="unet", num_filters=0), "num_filters"),
    (dict(name="unet", num_filters=2.5), "2.5"),
    (dict(name="resnet", num_colours=1), "num_colours"),
])
def test_bad_model_settings_name_the_bad_value(kwargs, bad):
    with pytest.raises(ValueError, match=bad):
        build_model(**kwargs)


def pair(kind, cin, cout, kernel):
    """The torch.nn layer a U-Net builds for `kind`, and the same layer after speed.accelerate: the
    same parameters, the backward of speed._Conv."""
    p = kernel // 2
    plain = (nn.Conv2d(cin, cout, kernel, stride=2, padding=p) if kind == "down" else
             nn.ConvTranspose2d(cin, cout, kernel, stride=2, padding=p, output_padding=1))
    fast = speed.accelerate(nn.Sequential(copy.deepcopy(plain)), torch.device("cpu"))[0]
    return fast, plain


def test_accelerate_swaps_in_fast_layers_keeping_parameters_and_state_dict():
    """A model's weights load into a plain model (Run.model()), and making it fast draws no random numbers."""
    torch.manual_seed(0)
    plain = build_model("resnet")
    fast = copy.deepcopy(plain)
    rng = torch.get_rng_state()
    params = list(fast.parameters())
    speed.accelerate(fast, torch.device("cpu"))
    assert torch.equal(torch.get_rng_state(), rng)
    assert all(a is b for a, b in zip(fast.parameters(), params))
    state = fast.state_dict()
    assert list(state) == list(plain.state_dict()) and all(torch.equal(state[k], v) for k, v in plain.state_dict().items())
    swapped = {name for name, m in fast.named_modules() if isinstance(m, (speed.FastConv2d, speed.FastConvTranspose2d))}
    assert swapped == {"down1.body.0", "down2.body.0", "up1.0", "up2.0"}  # strided and transposed, not the shortcuts


@pytest.mark.parametrize("kernel", [1, 3, 5])
@pytest.mark.parametrize("channels_last", [True, False])
@pytest.mark.parametrize("by_matmul", [True, False])
@pytest.mark.parametrize("kind", ["down", "up"])
def test_fast_layers_compute_what_torch_nn_layers_do(kind, by_matmul, channels_last, kernel, monkeypatch):
    """The fast layers have a backward of their own (see speed.py), whose weight gradient is a
    matmul for wide layers; by either route, their output and all three gradients must be those
    of the torch.nn layer, in either memory format, also for odd sizes."""
    monkeypatch.setattr(speed, "WIDE", 1 if by_matmul else 10 ** 9)
    torch.manual_seed(0)
    fast, plain = (net.double() for net in pair(kind, 6, 5, kernel))
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    x = torch.randn(3, 6, 7, 8, dtype=torch.double).contiguous(memory_format=fmt)
    results = []
    for net in (fast, plain):
        xi = x.clone().requires_grad_()
        y = net.to(memory_format=fmt)(xi)
        (y * torch.linspace(-1, 1, y.numel(), dtype=torch.double).view_as(y)).sum().backward()
        results.append((y, xi.grad, net.weight.grad, net.bias.grad))
    assert results[0][0].shape == ((3, 5, 4, 4) if kind == "down" else (3, 5, 14, 16))
    for a, b in zip(*results):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("by_matmul", [True, False])
@pytest.mark.parametrize("kind", ["down", "up"])
def test_fast_layers_under_bf16_autocast_compute_in_bf16_and_return_float32_gradients(kind, by_matmul, monkeypatch):
    """The trainer's mixed precision: bf16 activations, float32 weights and gradients."""
    monkeypatch.setattr(speed, "WIDE", 1 if by_matmul else 10 ** 9)
    torch.manual_seed(0)
    fast, plain = pair(kind, 8, 4, 3)
    x = torch.randn(2, 8, 8, 8).to(torch.bfloat16).contiguous(memory_format=torch.channels_last)
    outs = []
    for net in (fast, plain):
        with torch.autocast("cpu", torch.bfloat16):
            y = net(x)
        y.float().square().sum().backward()
        outs.append(y)
    assert outs[0].dtype == torch.bfloat16 and torch.equal(outs[0], outs[1])
    for a, b in ((fast.weight.grad, plain.weight.grad), (fast.bias.grad, plain.bias.grad)):
        assert a.dtype == torch.float32   # equal up to bf16 rounding, which scales with the gradient's size
        torch.testing.assert_close(a, b, rtol=0, atol=2e-2 * b.abs().max().item())


@pytest.mark.parametrize("name, kernel, nf", [("unet", 1, 32), ("convtranspose", 1, 8), ("resnet", 3, 4), ("resnet", 1, 4)])
def test_narrow_strided_1x1_layers_train_in_channels_last(name, kernel, nf):
    """Their weight gradients crash oneDNN's AVX2 kernels (speed._avx2_bug): a step trains, and its
    weight gradients are the plain network's up to rounding (biases just before a BatchNorm have none)."""
    torch.manual_seed(0)
    fast = speed.accelerate(build_model(name, kernel, nf, 4, dropout=0.0), torch.device("cpu"))
    plain = build_model(name, kernel, nf, 4, dropout=0.0)
    plain.load_state_dict(fast.state_dict())
    x = torch.rand(8, 1, 32, 32)
    for net, xi in ((fast, x.contiguous(memory_format=torch.channels_last)), (plain, x)):
        net(xi).square().mean().backward()
    for (n, a), b in zip(fast.named_parameters(), plain.parameters()):
        if n.endswith("weight"):
            torch.testing.assert_close(a.grad, b.grad, rtol=0, atol=1e-3 * b.grad.abs().max().item(), msg=n)


def test_training_imports_nothing_of_the_report():
    """A dask worker or `python -m cnnreport train` needs the core install only: no pandas, matplotlib or IPython."""
    script = ("import sys, cnnreport.training.train, cnnreport.training.executor, cnnreport.cli; "
              "print(sorted(m for m in ('pandas', 'matplotlib', 'IPython', 'nbformat') if m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.strip() == "[]"
