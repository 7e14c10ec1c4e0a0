import math

import pytest
import torch

from cnnreport.science.colour import colourfulness, psnr, srgb_to_lab
from cnnreport.science.metrics import decode, quality
from cnnreport.science.palette import rebalance_weights


@pytest.mark.parametrize("rgb, lab", [
    ((1, 1, 1), (100.00, 0.00, 0.00)),
    ((0, 0, 0), (0.00, 0.00, 0.00)),
    ((1, 0, 0), (53.24, 80.09, 67.20)),
    ((0, 1, 0), (87.73, -86.18, 83.18)),
    ((0, 0, 1), (32.30, 79.19, -107.86)),
    ((0.5, 0.5, 0.5), (53.39, 0.00, 0.00)),
])
def test_cielab_of_reference_colours(rgb, lab):
    assert srgb_to_lab(torch.tensor(rgb, dtype=torch.float32)).tolist() == pytest.approx(lab, abs=0.01)


def test_colourfulness_is_zero_for_grey_and_grows_with_saturation():
    grey = torch.rand(1, 1, 8, 8).expand(-1, 3, -1, -1)
    dull, vivid = (torch.tensor([0.5 + s, 0.5, 0.5 - s]).view(1, 3, 1, 1).expand(-1, -1, 8, 8) for s in (0.1, 0.4))
    assert colourfulness(grey).item() == pytest.approx(0, abs=1e-6)
    assert 0 < colourfulness(dull).item() < colourfulness(vivid).item()
    assert colourfulness(vivid).item() == pytest.approx(0.3 * math.hypot(0.4 * 255, 0.6 * 255), rel=1e-5)  # uniform: sigma 0


def test_psnr_of_a_known_error():
    true = torch.zeros(2, 3, 4, 4)
    assert psnr(true + 0.1, true).tolist() == pytest.approx([20, 20], rel=1e-5)   # 10 log10(1 / 0.01)
    assert math.isinf(psnr(true, true)[0])


PALETTE = torch.tensor([[0.8, 0.1, 0.1], [0.1, 0.6, 0.2], [0.2, 0.2, 0.9], [0.9, 0.9, 0.2]])


class Fixed(torch.nn.Module):
    """A 'network' whose logits are given, to measure the metrics on predictions we choose."""

    def __init__(self, logits):
        super().__init__()
        self.logits = logits

    def forward(self, x):
        return self.logits


def case(predicted):
    """Inputs, true categories and true images (exactly the palette's colours), and a model predicting `predicted`."""
    y = torch.arange(4).repeat_interleave(16).view(1, 8, 8)           # each colour on a quarter of the pixels
    palette = (255 * PALETTE).round() / 255                            # colours that uint8 images hold exactly
    rgb = (255 * palette[y].permute(0, 3, 1, 2)).round().to(torch.uint8)
    logits = 10 * torch.nn.functional.one_hot(predicted, 4).permute(0, 3, 1, 2).float()
    return Fixed(logits), torch.zeros(1, 1, 8, 8), y, rgb, palette


def test_a_perfect_prediction_scores_full_marks():
    model, x, y, rgb, palette = case(torch.arange(4).repeat_interleave(16).view(1, 8, 8))
    m, confusion = quality(model, x, y, rgb, palette)
    assert m["pixel_acc"] == m["balanced_acc"] == m["auc"] == 100
    assert math.isinf(m["psnr"]) and m["colourfulness"] == pytest.approx(m["colourfulness_true"])
    assert torch.equal(confusion, torch.diag(torch.full((4,), 16)))


def test_a_constant_prediction_scores_its_share_and_one_colour_in_balanced_accuracy():
    model, x, y, rgb, palette = case(torch.zeros(1, 8, 8, dtype=torch.long))
    m, confusion = quality(model, x, y, rgb, palette)
    assert m["pixel_acc"] == 25 and m["balanced_acc"] == 25   # right on colour 0 only
    assert m["colourfulness"] < m["colourfulness_true"]        # one colour everywhere: no spread
    assert confusion[:, 0].sum() == 64 and confusion[:, 1:].sum() == 0


def test_one_colour_off_scores_zero_accuracy_and_an_auc_from_the_colour_distances():
    model, x, y, rgb, palette = case((torch.arange(4).repeat_interleave(16).view(1, 8, 8) + 1) % 4)
    m, _ = quality(model, x, y, rgb, palette)
    assert m["pixel_acc"] == 0 and m["balanced_acc"] == 0
    ab = srgb_to_lab(palette)[:, 1:]
    errors = (ab - ab.roll(-1, 0)).norm(dim=1)                   # each colour's error, a quarter of the pixels each
    share = torch.stack([(errors <= t).double().mean() for t in range(151)])
    assert m["auc"] == pytest.approx(100 * (share.sum() - (share[0] + share[-1]) / 2).item() / 150, rel=1e-4)


def test_decodings_argmax_mean_and_annealed_mean():
    logits = torch.tensor([2.0, 1.0, 0.0, -1.0]).view(1, 4, 1, 1)
    probs = torch.softmax(logits, 1)[0, :, 0, 0]
    assert decode(logits, PALETTE, "argmax")[0, :, 0, 0].tolist() == PALETTE[0].tolist()
    assert decode(logits, PALETTE, "mean")[0, :, 0, 0].tolist() == pytest.approx((probs @ PALETTE).tolist())
    sharp = probs ** (1 / 0.38) / (probs ** (1 / 0.38)).sum()   # Zhang et al.: z^(1/T), renormalised
    assert decode(logits, PALETTE, "annealed")[0, :, 0, 0].tolist() == pytest.approx((sharp @ PALETTE).tolist())
    with pytest.raises(ValueError, match="unknown decoding 'median'"):
        decode(logits, PALETTE, "median")


def test_rebalancing_weights_favour_rare_colours_and_average_one():
    labels = torch.tensor([0] * 70 + [1] * 20 + [2] * 9 + [3] * 1)
    w = rebalance_weights(labels, PALETTE, sigma=1e-3)           # colours far apart: smoothing does nothing
    freq = torch.bincount(labels, minlength=4).float() / len(labels)
    assert w.shape == (4,) and (freq @ w).item() == pytest.approx(1)
    assert w[0] < w[1] < w[2] < w[3]
    assert w.tolist() == pytest.approx((1 / (0.5 * freq + 0.5 / 4) / (freq @ (1 / (0.5 * freq + 0.5 / 4)))).tolist())
    assert rebalance_weights(torch.arange(4).repeat(5), PALETTE).tolist() == pytest.approx([1.0] * 4)


def test_baselines_without_a_network_chance_the_majority_colour_and_a_colour_per_grey_level():
    """Grey level 0 is colour 0 three times in four on the training pixels, level 1 always colour 1: the
    lookup gives each level its most frequent colour, the majority colour is the training pixels' own."""
    from cnnreport.science.metrics import baselines
    x_train = torch.tensor([0, 0, 0, 0, 1, 1], dtype=torch.float).view(1, 1, 2, 3) / 765
    y_train = torch.tensor([0, 0, 0, 2, 1, 1]).view(1, 2, 3)
    x_test = torch.tensor([0, 1, 1, 2], dtype=torch.float).view(1, 1, 2, 2) / 765     # level 2: never seen, the majority
    y_test = torch.tensor([0, 1, 2, 0]).view(1, 2, 2)
    b = baselines(x_train, y_train, x_test, y_test, 4)
    assert b["chance"] == 25 and b["majority"] == 50 and b["majority_of_test"] == 50
    assert b["grey_lookup"] == 75   # 0 -> 0 right, 1 -> 1 right and wrong, 2 -> the majority 0 right
