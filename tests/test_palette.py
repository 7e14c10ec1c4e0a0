import torch

from cnnreport.science.data import load_category
from cnnreport.science.palette import kmeans, labels, load_palette, to_rgb

from conftest import COLOURS


def test_kmeans_is_deterministic_and_finds_the_colours(data_dir):
    rgb = load_category("horse", str(data_dir)).train
    a, b = kmeans(rgb, k=4), kmeans(rgb, k=4)
    assert torch.equal(a, b)
    found = sorted(map(tuple, (a * 255).round().int().tolist()))
    assert found == sorted(map(tuple, COLOURS.tolist()))


def test_labels_are_the_nearest_palette_colour():
    g = torch.Generator().manual_seed(0)
    rgb = torch.randint(0, 256, (3, 3, 8, 8), dtype=torch.uint8, generator=g)
    palette = torch.rand(24, 3, generator=g)
    pixels = rgb.permute(0, 2, 3, 1).reshape(-1, 3).float() / 255
    expected = torch.cdist(pixels, palette).argmin(1).view(3, 8, 8)
    assert torch.equal(labels(rgb, palette), expected)


def test_to_rgb_maps_labels_back_to_colours():
    palette = torch.rand(24, 3)
    lab = torch.randint(0, 24, (2, 32, 32))
    rgb = to_rgb(lab, palette)
    assert rgb.shape == (2, 3, 32, 32)
    assert torch.equal(rgb[1, :, 5, 7], palette[lab[1, 5, 7]])


def test_palette_is_cached_on_disk_per_data(data_dir, tmp_path):
    data = load_category("horse", str(data_dir))
    first = load_palette(data, 4, tmp_path / "cache")
    files = list((tmp_path / "cache").iterdir())
    assert len(files) == 1 and data.fingerprint in files[0].name
    assert torch.equal(load_palette(data, 4, tmp_path / "cache"), first)
