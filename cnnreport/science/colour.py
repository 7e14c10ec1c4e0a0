"""Colour science for judging colourizations: sRGB to CIELAB, colourfulness and PSNR.

CIELAB is written out here (a dozen lines, tested against reference values) rather than taken
from a library, so that it runs on torch tensors, on any device, and adds no dependency. Every
function takes colours on the last dimension or as (N, 3, H, W) images, as its docstring says.
"""
import torch

# sRGB (D65) linear RGB -> XYZ, and the D65 white point (IEC 61966-2-1; CIE 15)
RGB_TO_XYZ = torch.tensor([[0.4124564, 0.3575761, 0.1804375],
                           [0.2126729, 0.7151522, 0.0721750],
                           [0.0193339, 0.1191920, 0.9503041]])
WHITE = torch.tensor([0.95047, 1.0, 1.08883])
DELTA = 6 / 29  # CIELAB's f(t) switches from a cube root to a line below DELTA ** 3


def srgb_to_lab(rgb):
    """(..., 3) sRGB in [0, 1] -> (..., 3) CIELAB (L in [0, 100], a and b roughly in [-128, 127]),
    D65 white."""
    rgb = rgb.float()
    linear = torch.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = linear @ RGB_TO_XYZ.to(rgb.device).T / WHITE.to(rgb.device)
    f = torch.where(xyz > DELTA ** 3, xyz.clamp(min=DELTA ** 3) ** (1 / 3), xyz / (3 * DELTA ** 2) + 4 / 29)
    fx, fy, fz = f.unbind(-1)
    return torch.stack([116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)], -1)


def image_lab(images):
    """(N, 3, H, W) sRGB in [0, 1] -> (N, H, W, 3) CIELAB."""
    return srgb_to_lab(images.permute(0, 2, 3, 1))


def colourfulness(images):
    """(N, 3, H, W) sRGB in [0, 1] -> (N,) colourfulness M of each image (Hasler & Suesstrunk
    2003: sigma_rgyb + 0.3 mu_rgyb over the pixels, RGB in [0, 255]); a grey image scores 0."""
    r, g, b = (255 * images.double()).flatten(2).unbind(1)   # (N, H*W) each
    rg, yb = r - g, (r + g) / 2 - b
    sigma = (rg.var(1, unbiased=False) + yb.var(1, unbiased=False)).sqrt()
    mu = (rg.mean(1) ** 2 + yb.mean(1) ** 2).sqrt()
    return (sigma + 0.3 * mu).float()


def psnr(pred, true):
    """(N, 3, H, W) predicted and true RGB in [0, 1] -> (N,) PSNR in dB of each image (peak 1);
    infinite for a perfect image."""
    mse = ((pred.double() - true.double()) ** 2).flatten(1).mean(1)
    return (10 * torch.log10(1 / mse)).float()
