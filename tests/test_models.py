import pytest
import torch
from torch import nn

from cnnreport import models
from cnnreport.models import ARCHITECTURES, Down, Up, build_model


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
    """models.Down or models.Up, and the torch.nn layer it stands for, with the same weights."""
    p = kernel // 2
    ours = (Down if kind == "down" else Up)(cin, cout, kernel)
    theirs = (nn.Conv2d(cin, cout, kernel, stride=2, padding=p) if kind == "down" else
              nn.ConvTranspose2d(cin, cout, kernel, stride=2, padding=p, output_padding=1))
    theirs.load_state_dict(ours.state_dict())
    return ours, theirs


@pytest.mark.parametrize("kernel", [1, 3, 5])
@pytest.mark.parametrize("channels_last", [True, False])
@pytest.mark.parametrize("by_matmul", [True, False])
@pytest.mark.parametrize("kind", ["down", "up"])
def test_down_and_up_compute_what_torch_nn_layers_do(kind, by_matmul, channels_last, kernel, monkeypatch):
    """Down and Up have a backward of their own (see models.py), whose weight gradient is a matmul
    for wide layers; by either route, their output and all three gradients must be those of the
    torch.nn layer, in either memory format, also for odd sizes."""
    monkeypatch.setattr(models, "WIDE", 1 if by_matmul else 10 ** 9)
    torch.manual_seed(0)
    ours, theirs = (net.double() for net in pair(kind, 6, 5, kernel))
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    x = torch.randn(3, 6, 7, 8, dtype=torch.double).contiguous(memory_format=fmt)
    results = []
    for net in (ours, theirs):
        xi = x.clone().requires_grad_()
        y = net.to(memory_format=fmt)(xi)
        (y * torch.linspace(-1, 1, y.numel(), dtype=torch.double).view_as(y)).sum().backward()
        results.append((y, xi.grad, net.weight.grad, net.bias.grad))
    assert results[0][0].shape == ((3, 5, 4, 4) if kind == "down" else (3, 5, 14, 16))
    for a, b in zip(*results):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("by_matmul", [True, False])
@pytest.mark.parametrize("kind", ["down", "up"])
def test_down_and_up_under_bf16_autocast_compute_in_bf16_and_return_float32_gradients(kind, by_matmul, monkeypatch):
    """The trainer's mixed precision: bf16 activations, float32 weights and gradients."""
    monkeypatch.setattr(models, "WIDE", 1 if by_matmul else 10 ** 9)
    torch.manual_seed(0)
    ours, theirs = pair(kind, 8, 4, 3)
    x = torch.randn(2, 8, 8, 8).to(torch.bfloat16).contiguous(memory_format=torch.channels_last)
    outs = []
    for net in (ours, theirs):
        with torch.autocast("cpu", torch.bfloat16):
            y = net(x)
        y.float().square().sum().backward()
        outs.append(y)
    assert outs[0].dtype == torch.bfloat16 and torch.equal(outs[0], outs[1])
    for a, b in ((ours.weight.grad, theirs.weight.grad), (ours.bias.grad, theirs.bias.grad)):
        assert a.dtype == torch.float32
        torch.testing.assert_close(a, b, rtol=2e-2, atol=1e-2)
