import pytest

from cnnreport import params as params_module
from cnnreport.params import load_params


@pytest.fixture
def params_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(params_module, "PARAMS_DIR", tmp_path)
    (tmp_path / "smoke").mkdir()
    return tmp_path / "smoke"


def test_a_valid_file_loads(params_dir):
    (params_dir / "nb.yaml").write_text("epochs: 2\nvalues: [16, 32]\nlr: 0.001\n")
    assert load_params("nb", "smoke", epochs=int, values=list, lr=float) == dict(epochs=2, values=[16, 32], lr=0.001)


@pytest.mark.parametrize("text, message", [
    ("epochs: 2\nvalus: [1]\n", "unknown parameter 'valus' \\(did you mean 'values'\\?\\)"),
    ("epochs: 2\n", "missing parameter 'values'"),
    ("epochs: '2'\nvalues: [1]\n", "parameter 'epochs' must be int, got '2'"),
    ("epochs: true\nvalues: [1]\n", "parameter 'epochs' must be int, got True"),
    ("- 1\n", "must hold a mapping"),
])
def test_bad_files_name_the_file_and_the_key(params_dir, text, message):
    (params_dir / "nb.yaml").write_text(text)
    with pytest.raises(ValueError, match=message) as e:
        load_params("nb", "smoke", epochs=int, values=list)
    assert "nb.yaml" in str(e.value)


def test_unknown_profile_and_missing_file(params_dir):
    with pytest.raises(ValueError, match="unknown profile 'fast'"):
        load_params("nb", "fast")
    with pytest.raises(ValueError, match="no parameter file .*smoke/nb.yaml"):
        load_params("nb", "smoke")
