import json
import math
import shutil
import sys

import pytest
import torch

from cnnreport.training import train as train_module
from cnnreport.training.train import Config, colourize, load_run, train

from conftest import FAST, numbers, write_folder


def test_loss_falls_and_accuracy_rises_well_above_chance(data_dir):
    run = train(Config(model="unet", epochs=4, **FAST), data=str(data_dir), verbose=False)
    h = run.history
    assert [r["epoch"] for r in h] == [1, 2, 3, 4] and run.status == "finished"
    assert h[-1]["train_loss"] < h[0]["train_loss"] and h[-1]["val_loss"] < h[0]["val_loss"]
    assert h[-1]["val_acc"] > 60  # chance is 25 % with four colours


def test_epoch_lines_in_the_original_reports_format(data_dir, capsys):
    train(Config(model="cnn", epochs=1, **FAST), data=str(data_dir))
    out = capsys.readouterr().out
    assert "Epoch [1/1], Loss: " in out and ", Time (s): " in out
    assert "Epoch [1/1], Val Loss: " in out and "%, Time(s): " in out


def test_a_second_identical_request_reuses_the_stored_run(data_dir, monkeypatch):
    config = Config(model="cnn", epochs=2, **FAST)
    first = train(config, data=str(data_dir), verbose=False)
    monkeypatch.setattr(train_module, "_train", lambda *a, **k: pytest.fail("trained twice"))
    again = train(config, data=str(data_dir), verbose=False)
    assert again.path == first.path and again.history == first.history
    assert first.path.name.startswith("cnn-nf8-k3-")
    assert {"config.json", "history.csv", "model.pt", "result.json"} <= {p.name for p in first.path.iterdir()}


def test_different_configs_and_data_get_different_runs(data_dir, tmp_path):
    other_data = write_folder(tmp_path / "other", seed=1)
    paths = {train(c, data=str(d), verbose=False).path for c, d in [
        (Config(model="cnn", epochs=1, **FAST), data_dir),
        (Config(model="cnn", epochs=1, seed=1, **FAST), data_dir),
        (Config(model="cnn", epochs=1, **FAST), other_data)]}
    assert len(paths) == 3


def test_same_config_and_seed_give_identical_numbers(data_dir, tmp_path):
    config = Config(model="resnet", epochs=2, **FAST)
    a = train(config, data=str(data_dir), runs_dir=tmp_path / "a", verbose=False)
    b = train(config, data=str(data_dir), runs_dir=tmp_path / "b", verbose=False)
    assert numbers(a.history) == numbers(b.history)
    assert all(torch.equal(x, y) for x, y in zip(a.model().state_dict().values(), b.model().state_dict().values()))


def interrupt_at_epoch(monkeypatch, epoch):
    """Make the next training die in the middle of `epoch` as a Ctrl-C would."""
    real, calls = train_module.train_epoch, []

    def dying(*args, **kwargs):
        calls.append(1)
        if len(calls) == epoch:
            raise KeyboardInterrupt
        return real(*args, **kwargs)
    monkeypatch.setattr(train_module, "train_epoch", dying)


@pytest.mark.parametrize("model", ["cnn", "resnet"])  # resnet: dropout's random state must resume too
def test_an_interrupted_run_is_not_reused_and_resumes_to_the_same_numbers(data_dir, tmp_path, monkeypatch, model):
    config = Config(model=model, epochs=3, **FAST)
    whole = train(config, data=str(data_dir), runs_dir=tmp_path / "whole", verbose=False)
    interrupt_at_epoch(monkeypatch, 3)
    with pytest.raises(KeyboardInterrupt):
        train(config, data=str(data_dir), runs_dir=tmp_path / "cut", verbose=False)
    monkeypatch.undo()
    cut = whole.path.parent.parent / "cut" / whole.path.name
    assert not (cut / "result.json").exists() and (cut / "checkpoint.pt").exists()
    with pytest.raises(ValueError, match="no finished run"):
        load_run(cut)
    resumed = train(config, data=str(data_dir), runs_dir=tmp_path / "cut", verbose=False)
    assert numbers(resumed.history) == numbers(whole.history)
    assert not (cut / "checkpoint.pt").exists()


def test_a_diverging_run_is_stored_as_diverged(data_dir):
    run = train(Config(model="cnn", epochs=5, **{**FAST, "lr": 1e30}), data=str(data_dir), verbose=False)
    assert run.status == "diverged" and len(run.history) < 5
    assert not math.isfinite(run.final["train_loss"]) or not math.isfinite(run.final["val_loss"])
    assert json.loads((run.path / "result.json").read_text())["status"] == "diverged"


def test_colourize_returns_rgb_from_the_palette(data_dir):
    run = train(Config(model="unet", epochs=1, **FAST), data=str(data_dir), verbose=False)
    rgb = colourize(run, torch.rand(3, 1, 32, 32))
    assert rgb.shape == (3, 3, 32, 32)
    colours = set(map(tuple, rgb.permute(0, 2, 3, 1).reshape(-1, 3).tolist()))
    assert colours <= set(map(tuple, run.palette.tolist()))


@pytest.mark.parametrize("field, value, message", [
    ("lr", 0, "lr must be a positive number, got 0"),
    ("lr", -1e-3, "lr must be a positive number"),
    ("epochs", 0, "epochs must be >= 1, got 0"),
    ("batch_size", 0, "batch_size must be >= 1, got 0"),
    ("num_filters", 0, "num_filters must be >= 1, got 0"),
    ("kernel", 2, "kernel must be odd"),
    ("kernel", -1, "kernel must be >= 1"),
    ("model", "vgg", "unknown model 'vgg'"),
    ("category", "unicorn", "'unicorn' is not a CIFAR-10 class"),
    ("epochs", "30", "epochs must be an integer, got '30'"),
])
def test_bad_settings_are_refused_up_front(field, value, message):
    with pytest.raises(ValueError, match=message):
        Config(**{field: value})


@pytest.mark.slow
def test_one_epoch_on_the_shared_horses(shared_horses):
    run = train(Config(model="unet", epochs=1), data=str(shared_horses), verbose=False)
    assert run.history[0]["val_acc"] > 30  # 24 colours: chance is about 4 %
    assert run.data == dict(kind="image folder", folder=shared_horses.name, fingerprint=run.data["fingerprint"],
                            train_images=5000, test_images=1000)


def test_cli_trains_prints_the_run_directory_then_colourizes(data_dir, tmp_path, capsys):
    from cnnreport.cli import main
    main(["train", "--model", "cnn", "--epochs", "1", "--num-colours", "4", "--num-filters", "8",
          "--data", str(data_dir), "--runs-dir", str(tmp_path / "store"), "--quiet"])
    run_dir = capsys.readouterr().out.strip().splitlines()[-1]
    assert (tmp_path / "store") in __import__("pathlib").Path(run_dir).parents
    from PIL import Image

    from cnnreport.cli import CELL
    image, photo = next((data_dir / "test" / "horse").iterdir()), tmp_path / "photo.jpg"
    Image.new("RGB", (640, 427), (120, 90, 60)).save(photo)   # any size: resized to 32x32
    main(["colourize", str(image), str(photo), "--run", run_dir, "-o", str(tmp_path / "out.png"), "--decoding", "annealed"])
    with Image.open(tmp_path / "out.png") as grid:  # 2 rows: grey | colour | original, CELL pixels each
        assert grid.size == (3 * (CELL + 4) + 4, 2 * (CELL + 4) + 4)


@pytest.mark.parametrize("args, message", [
    (["train", "--lr", "0"], "error: lr must be a positive number, got 0.0"),
    (["train", "--kernel", "4"], "error: kernel must be odd"),
    (["train", "--category", "unicorn"], "error: category 'unicorn' is not a CIFAR-10 class"),
    (["train", "--data", "/no/such/folder"], "error: data folder /no/such/folder does not exist"),
    (["colourize", "x.png", "--run", "/no/such/run", "-o", "o.png"], "error: /no/such/run holds no finished run"),
    (["train", "--threads", "0"], "error: --threads must be >= 1, got 0"),
    (["train", "--device", "tpu9"], "error: Invalid device string"),
])
def test_cli_bad_input_exits_non_zero_with_one_line(args, message):
    from cnnreport.cli import main
    with pytest.raises(SystemExit) as exit_:
        main(args)
    assert str(exit_.value).startswith(message) and "\n" not in str(exit_.value)


def test_image_limits_use_the_first_images_only(data_dir, tmp_path):
    limited = train(Config(model="cnn", epochs=2, train_images=64, test_images=16, **FAST), data=str(data_dir), verbose=False)
    first = tmp_path / "first"   # a folder holding only those images
    for split, n in (("train", 64), ("test", 16)):
        (first / split / "horse").mkdir(parents=True)
        for image in sorted((data_dir / split / "horse").iterdir())[:n]:
            shutil.copy(image, first / split / "horse")
    alone = train(Config(model="cnn", epochs=2, **FAST), data=str(first), verbose=False,
                  palette=limited.palette)   # the full folder's palette labels both
    assert numbers(limited.history) == numbers(alone.history)
    assert limited.confusion().sum() == 16 * 32 * 32


def test_amp_off_trains_in_float32_and_the_precision_is_recorded(data_dir, monkeypatch):
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: True, raising=False)   # a CPU with bf16, here or not
    bf16 = train(Config(model="cnn", epochs=1, **FAST), data=str(data_dir), verbose=False)
    fp32 = train(Config(model="cnn", epochs=1, amp=False, **FAST), data=str(data_dir), verbose=False)
    assert (bf16.info["precision"], fp32.info["precision"]) == ("bf16", "float32") and bf16.path != fp32.path
    assert numbers(bf16.history) != numbers(fp32.history)   # two precisions, two sets of numbers
    assert {"torch", "torchvision", "numpy", "python", "cnnreport", "device", "threads", "cpu", "host", "data"} <= set(fp32.info)


def test_a_run_records_its_colour_metrics_confusion_and_parameter_count(data_dir):
    run = train(Config(model="unet", epochs=2, **FAST), data=str(data_dir), verbose=False)
    assert run.parameters == sum(p.numel() for p in run.model().parameters())
    assert run.metrics["pixel_acc"] == pytest.approx(run.final["val_acc"])   # one network, one test split
    assert 0 <= run.metrics["balanced_acc"] <= 100 and 0 <= run.metrics["auc"] <= 100
    confusion = run.confusion()
    assert confusion.shape == (4, 4) and confusion.sum() == 64 * 32 * 32   # every test pixel once
    assert 100 * confusion.trace() / confusion.sum() == pytest.approx(run.metrics["pixel_acc"])


def test_a_record_kept_without_its_weights_loads_and_says_so(data_dir, monkeypatch):
    config = Config(model="cnn", epochs=1, **FAST)
    run = train(config, data=str(data_dir), verbose=False)
    (run.path / "model.pt").unlink()
    monkeypatch.setattr(train_module, "_train", lambda *a, **k: pytest.fail("trained again"))
    again = train(config, data=str(data_dir), verbose=False)
    assert again.history == run.history and again.metrics == run.metrics
    with pytest.raises(ValueError, match="keeps only the record"):
        again.model()


def test_rebalancing_is_its_own_run_and_weights_the_training_loss(data_dir):
    plain = train(Config(model="cnn", epochs=1, **FAST), data=str(data_dir), verbose=False)
    balanced = train(Config(model="cnn", epochs=1, rebalance=True, **FAST), data=str(data_dir), verbose=False)
    assert balanced.path != plain.path and balanced.config.rebalance
    assert balanced.final["train_loss"] != plain.final["train_loss"]


@pytest.mark.parametrize("weights", [None, torch.tensor([1.0, 2.0, 0.5])])
def test_weighted_pixel_loss_is_the_weighted_mean_over_pixels(weights):
    logits, y = torch.randn(2, 3, 4, 4), torch.randint(0, 3, (2, 4, 4))
    per_pixel = -torch.log_softmax(logits, 1).gather(1, y[:, None])[:, 0]
    w = torch.ones(3) if weights is None else weights
    assert train_module.pixel_loss(logits, y, weights=weights) == pytest.approx((per_pixel * w[y]).mean().item(), rel=1e-5)


@pytest.mark.parametrize("layout", [torch.channels_last, torch.contiguous_format])
def test_pixel_loss_is_the_mean_cross_entropy_over_pixels(layout):
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 5, 4, 6, generator=g).to(memory_format=layout)
    y = torch.randint(0, 5, (3, 4, 6), generator=g)
    assert torch.allclose(train_module.pixel_loss(logits, y), torch.nn.functional.cross_entropy(logits, y))
    assert torch.allclose(train_module.pixel_loss(logits.bfloat16(), y, reduction="sum"),
                          torch.nn.functional.cross_entropy(logits.bfloat16().float(), y, reduction="sum"))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_graphs_train_as_eager_code_does(data_dir, tmp_path, monkeypatch):
    config = Config(model="resnet", epochs=2, **FAST)  # BN statistics and dropout: what capturing disturbs
    graphed = train(config, data=str(data_dir), runs_dir=tmp_path / "graphed", verbose=False)
    monkeypatch.setattr(train_module, "cuda_graphed", lambda model, autocast, sample: model)
    eager = train(config, data=str(data_dir), runs_dir=tmp_path / "eager", verbose=False)
    for a, b in zip(graphed.history, eager.history):
        for key in ("train_loss", "val_loss", "val_acc"):
            assert a[key] == pytest.approx(b[key], rel=0.01), (key, a, b)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_training_keeps_freed_memory_for_reuse_instead_of_faulting_it_in_again(data_dir):
    import resource  # Unix only

    def faults():
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    train(Config(epochs=1, **FAST), data=str(data_dir), verbose=False)  # sets up the whole process
    for _ in range(3):  # 40 MB, freed at once, as a step's activations are; the heap settles
        torch.ones(10_000_000)
    before = faults()
    for _ in range(2):
        torch.ones(10_000_000)
    assert faults() - before < 1000  # glibc's defaults map such a block afresh each time: 9,766 faults
