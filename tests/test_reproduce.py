"""`make reproduce`: committed runs retrained into a store of their own and compared run by run;
`make paper-runs`: a notebook's missing paper runs made."""
import json
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


@pytest.fixture
def paper_params(tmp_path, data_dir, monkeypatch):
    """A params tree whose paper profile keeps its committed runs in tmp_path/committed, trained on
    data_dir, with one notebook `nb` still pending: two seeds of a tiny CNN, showing pictures."""
    from cnnreport import paper_runs, params
    from cnnreport.science.data import load_category
    root = tmp_path / "params"
    (root / "paper").mkdir(parents=True)
    fingerprint = load_category("horse", str(data_dir)).fingerprint
    (root / "paper" / "profile.yaml").write_text(
        f"store: {tmp_path / 'committed'}   # the committed runs\ntrains: false\ndata: {fingerprint}\n"
        "pending: [other, nb]   # notebooks whose runs are still arriving\n")
    (root / "data.yaml").write_text("{}\n")
    (root / "nb.yaml").write_text("models: [cnn]\nseeds: [0, 1]\nepochs: 2\nsamples: 2\n" + "".join(
        f"{k}: {v}\n" for k, v in FAST.items()))
    monkeypatch.setattr(params, "PARAMS_DIR", root)
    monkeypatch.setattr(paper_runs, "NUMBERS", tmp_path / "numbers.json")
    (tmp_path / "numbers.json").write_text("{}\n")
    return root


def test_paper_runs_trains_what_the_committed_store_lacks_and_takes_the_notebook_out_of_pending(paper_params, data_dir, tmp_path):
    from cnnreport.paper_runs import paper_runs
    train_all([Config(model="cnn", epochs=2, seed=0, **FAST)], data=str(data_dir), store=tmp_path / "committed")
    lines = []
    runs = paper_runs("nb", data=str(data_dir), workers=1, log=lines.append)
    assert [r.config.seed for r in runs] == [0, 1] and all((r.path / "result.json").exists() for r in runs)
    assert lines[0] == f"nb: 1 of 2 paper runs are committed in {tmp_path / 'committed'}"
    assert lines[1] == "to train: cnn seed 1" and "1 to train on 1 worker(s)" in lines[2]
    shown = next(line for line in lines if "git add -f" in line)
    assert shown.count("model.pt") == shown.count("samples.png") == 1 and runs[0].path.name in shown   # seed 0 only
    profile = (paper_params / "paper" / "profile.yaml").read_text()
    assert "pending: [other]   # notebooks whose runs are still arriving" in profile and "# the committed runs" in profile
    assert lines[-1].startswith("taken nb out of `pending`")
    assert set(json.loads((tmp_path / "numbers.json").read_text())) == {r.path.name for r in runs}   # held to them now


def test_paper_runs_refuses_to_mix_machines_or_data_in_one_sweep(paper_params, data_dir, tmp_path, monkeypatch):
    from cnnreport import paper_runs as module
    train_all([Config(model="cnn", epochs=2, seed=0, **FAST)], data=str(data_dir), store=tmp_path / "committed")
    ours = module.precision(Config(), module.default_device())
    with monkeypatch.context() as m, pytest.raises(ValueError, match=f"computed in {ours} on .* one machine kind"):
        m.setattr(module, "precision", lambda config, device: "bf16" if ours == "float32" else "float32")
        module.paper_runs("nb", data=str(data_dir), workers=1, log=lambda line: None)
    other = shutil.copytree(data_dir, tmp_path / "other")
    Image.fromarray(255 - np.asarray(Image.open(other / "train" / "horse" / "0000.png"))).save(other / "train" / "horse" / "0000.png")
    with pytest.raises(ValueError, match="the data at hand .* are not the paper's"):
        module.paper_runs("nb", data=str(other), workers=1, log=lambda line: None)
    assert len(list((tmp_path / "committed").glob("cnn-*"))) == 1   # nothing trained


def test_a_pending_notebook_is_not_reproduced_but_made_by_paper_runs(paper_params):
    with pytest.raises(ValueError, match="not committed yet .* `make paper-runs NOTEBOOK=nb` makes them"):
        choose("paper", ["nb"])
