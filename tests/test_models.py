import pytest
import torch

from cnnreport.models import ARCHITECTURES, build_model


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
