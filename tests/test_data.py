import urllib.error

import pytest
import torch
from PIL import Image

from cnnreport.science import data as data_module
from cnnreport.science.data import DataError, greyscale, load_category


def test_image_folder_loads_whole_splits_as_tensors(data_dir):
    d = load_category("horse", str(data_dir))
    assert d.train.shape == (512, 3, 32, 32) and d.test.shape == (64, 3, 32, 32)
    assert d.train.dtype == torch.uint8
    assert d.identity == dict(kind="image folder", folder="data", fingerprint=d.fingerprint, train_images=512, test_images=64)
    assert load_category("horse", str(data_dir)) is d  # decoded once per process


def test_greyscale_is_the_mean_of_rgb_in_unit_range():
    rgb = torch.tensor([[[[255]], [[0]], [[90]]]], dtype=torch.uint8)
    assert greyscale(rgb).shape == (1, 1, 1, 1)
    assert greyscale(rgb).item() == pytest.approx(115 / 255)


def test_data_variable_is_used(data_dir, monkeypatch):
    monkeypatch.setenv("CNNREPORT_DATA", str(data_dir))
    assert load_category("horse").train.shape[0] == 512


def test_different_pixels_give_different_fingerprints(data_dir):
    before = load_category("horse", str(data_dir)).fingerprint
    copy = data_dir.parent / "copy"
    copy.mkdir()
    for split in ("train", "test"):
        (copy / split / "horse").mkdir(parents=True)
        for f in (data_dir / split / "horse").iterdir():
            (copy / split / "horse" / f.name).write_bytes(f.read_bytes())
    Image.new("RGB", (32, 32), "white").save(copy / "test" / "horse" / "0000.png")
    assert load_category("horse", str(copy)).fingerprint != before


@pytest.mark.parametrize("category", ["horses", "Horse", "zebra"])
def test_unknown_category(category, data_dir):
    with pytest.raises(ValueError, match=repr(category)):
        load_category(category, str(data_dir))


def test_missing_folder_says_how_to_get_data(tmp_path):
    with pytest.raises(DataError, match=r"does not exist.*CNNREPORT_DATA"):
        load_category("horse", str(tmp_path / "nowhere"))


def test_folder_of_the_wrong_layout(tmp_path):
    (tmp_path / "stuff").mkdir()
    with pytest.raises(DataError, match="neither train/horse/"):
        load_category("horse", str(tmp_path / "stuff"))


def test_empty_split(tmp_path):
    (tmp_path / "d" / "train" / "horse").mkdir(parents=True)
    with pytest.raises(DataError, match="no .png or .jpg images in .*train/horse"):
        load_category("horse", str(tmp_path / "d"))


def test_train_split_without_test_split(data_dir):
    for f in (data_dir / "test" / "horse").iterdir():
        f.unlink()
    (data_dir / "test" / "horse").rmdir()
    with pytest.raises(DataError, match="missing split folder .*test/horse"):
        load_category("horse", str(data_dir))


def test_corrupt_image_is_named(data_dir):
    (data_dir / "train" / "horse" / "0003.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match="0003.png"):
        load_category("horse", str(data_dir))


def test_wrong_size_image_is_named(data_dir):
    Image.new("RGB", (64, 32)).save(data_dir / "test" / "horse" / "0005.png")
    with pytest.raises(DataError, match=r"0005.png is 64x32, not 32x32"):
        load_category("horse", str(data_dir))


def test_no_data_and_no_internet_gives_one_clear_message(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(data_module, "DEFAULT_ROOT", tmp_path / "cifar")
    monkeypatch.setattr("torchvision.datasets.CIFAR10", offline)
    with pytest.raises(DataError, match=r"CIFAR-10 is not available .*no network.*--data / CNNREPORT_DATA"):
        load_category("horse")
