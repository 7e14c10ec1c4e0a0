"""`make reproduce`: committed runs retrained into a store of their own and compared run by run."""
import shutil

import numpy as np
import pytest
from PIL import Image

from cnnreport.reproduce import choose, reproduce, write
from cnnreport.training.executor import train_all
from cnnreport.training.store import MissingRuns, Store
from cnnreport.training.train import Config

from conftest import FAST


@pytest.fixture
def committed(data_dir, tmp_path):
    """Two seeds of a tiny run, trained into a store that, like the paper's, never trains."""
    configs = [Config(model="cnn", epochs=2, seed=seed, **FAST) for seed in (0, 1)]
    train_all(configs, data=str(data_dir), store=tmp_path / "committed")
    return configs, Store(tmp_path / "committed", trains=False)


def test_on_the_same_data_a_reproduction_is_bit_identical(committed, data_dir, tmp_path):
    configs, store = committed
    lines = []
    table = reproduce(configs[:1], store, data=str(data_dir), store=tmp_path / "again", log=lines.append)
    assert table.verdict.tolist() == ["bit-identical"] and table.expected.tolist() == [True]
    assert table["diff"].tolist() == [0.0] and table.spread.iloc[0] > 0   # the spread of the two committed seeds
    assert lines[0].startswith("1 run to reproduce into") and " of training on " in lines[0]
    assert not (tmp_path / "committed" / "again").exists() and len(list((tmp_path / "committed").glob("cnn-*"))) == 2
    page = write(table, tmp_path / "out", "smoke", store.root)
    assert "bit-identical" in page.read_text() and (tmp_path / "out" / "comparison.csv").read_text().count("\n") == 2


def test_on_changed_data_the_verdict_follows_the_spread_rule(committed, data_dir, tmp_path):
    configs, store = committed
    changed = shutil.copytree(data_dir, tmp_path / "changed")
    image = changed / "test" / "horse" / "0000.png"
    Image.fromarray(255 - np.asarray(Image.open(image))).save(image)   # one test image of 64 inverted
    table = reproduce(configs[:1], store, data=str(changed), store=tmp_path / "changed-runs", log=lambda line: None)
    row = table.iloc[0]
    assert row.verdict != "bit-identical" and not row.expected   # other data: other bits are expected
    assert row.verdict == ("within noise" if abs(row["diff"]) <= 2 * row.spread else "outside noise")


def test_a_run_the_committed_store_lacks_is_named_before_anything_trains(committed, data_dir, tmp_path):
    configs, store = committed
    with pytest.raises(MissingRuns, match="1 of the chosen runs are not in"):
        reproduce([Config(model="unet", epochs=2, **FAST)], store, data=str(data_dir), store=tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_the_runs_are_chosen_by_notebook_model_and_seed():
    chosen = choose("paper", ["07_architectures"], ["cnn"], [0])
    assert [(c.model, c.seed, c.epochs) for c in chosen] == [("cnn", 0, 30)]
    assert len(choose("paper")) == len(set(choose("paper"))) > 100
    with pytest.raises(ValueError, match="no run of the paper profile matches"):
        choose("paper", ["07_architectures"], ["nonet"])
