import pytest

from cnnreport import params as params_module
from cnnreport.analysis.sweeps import sweep_args, sweep_configs
from cnnreport.params import load_params, swept


@pytest.fixture
def params_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(params_module, "PARAMS_DIR", tmp_path)
    (tmp_path / "smoke").mkdir()
    return tmp_path


def test_a_profile_updates_what_the_profiles_share(params_dir):
    (params_dir / "nb.yaml").write_text("models: [cnn, unet]\nlr: 0.001\nepochs: 30\n")
    (params_dir / "smoke" / "nb.yaml").write_text("epochs: 2\nnum_filters: [16, 32]\nseeds: [0]\n")
    p = load_params("nb", "smoke")
    assert p == dict(models=["cnn", "unet"], lr=0.001, epochs=2, num_filters=[16, 32], seeds=[0])
    assert swept(p) == "num_filters"
    assert len(sweep_configs(**sweep_args(p))) == 4


def test_types_come_from_the_config_and_one_schema_without_a_list_per_notebook(params_dir):
    text = ("models: [resnet, unet]\nseeds: [0]\nsamples: 4\n"
            "num_filters: {resnet: [16, 32], unet: [40, 120]}\nepochs: {resnet: 25, unet: 30}\nbatch_size: 50\n")
    (params_dir / "nb.yaml").write_text(text)
    p = load_params("nb", "smoke")
    assert swept(p) == "num_filters"
    configs = sweep_configs(**sweep_args(p))
    assert [(c.model, c.num_filters, c.epochs, c.batch_size) for c in configs] == [
        ("resnet", 16, 25, 50), ("resnet", 32, 25, 50), ("unet", 40, 30, 50), ("unet", 120, 30, 50)]


@pytest.mark.parametrize("text, message", [
    ("epochs: 2\nseds: [1]\n", "unknown parameter 'seds' \\(did you mean 'seeds'\\?\\)"),
    ("epochs: '2'\n", "parameter 'epochs' must be int \\(or a list of them, or {model: ...}\\), got '2'"),
    ("epochs: true\n", "parameter 'epochs' must be int .*got True"),
    ("lr: 1e-5\n", "parameter 'lr' must be int or float .*got '1e-5'"),
    ("seeds: 0\n", "parameter 'seeds' must be list, got 0"),
    ("samples: [4]\n", "parameter 'samples' must be int, got \\[4\\]"),
    ("- 1\n", "must hold a mapping"),
])
def test_bad_files_name_the_file_and_the_key(params_dir, text, message):
    (params_dir / "smoke" / "nb.yaml").write_text(text)
    with pytest.raises(ValueError, match=message) as e:
        load_params("nb", "smoke")
    assert "nb.yaml" in str(e.value)


@pytest.mark.parametrize("text, message", [
    ("models: [cnn]\nseeds: [0]\nkernel: [3, 5]\nlr: [0.1, 0.01]\n", "a sweep varies one setting, but kernel and lr"),
    ("models: [cnn, unet]\nseeds: [0]\nepochs: {cnn: 3}\n", "epochs is given per network for cnn, but the sweep trains cnn, unet"),
])
def test_a_sweep_that_cannot_be_read_one_way_fails_naming_why(params_dir, text, message):
    (params_dir / "nb.yaml").write_text(text)
    with pytest.raises(ValueError, match=message):
        sweep_args(load_params("nb", "smoke"))


def test_unknown_profile_and_missing_file(params_dir):
    with pytest.raises(ValueError, match="unknown profile 'fast'"):
        load_params("nb", "fast")
    with pytest.raises(ValueError, match="no parameter file for nb: neither .*nb.yaml nor .*smoke/nb.yaml"):
        load_params("nb", "smoke")
