"""`python -m cnnreport diff`: what differs between two runs, and the runs of stores paired by one
setting, judged by the report's own rule."""
import json
import subprocess
import sys

import pytest

from cnnreport import diff
from cnnreport.analysis.measurements import precision_effect
from cnnreport.analysis.sweeps import profile_sweeps
from cnnreport.report.build import PAPER_RUNS
from cnnreport.training.train import Config, train

from conftest import FAST


def two_seeds_of_one_committed_run():
    by_setting = {}
    for path in sorted(PAPER_RUNS.glob("cnn-nf32-k3-*")):
        config = json.loads((path / "config.json").read_text())["config"]
        setting = json.dumps({k: v for k, v in config.items() if k != "seed"}, sort_keys=True)
        by_setting.setdefault(setting, {})[config["seed"]] = path
    return next((seeds[0], seeds[1]) for seeds in by_setting.values() if {0, 1} <= set(seeds))


def test_two_seeds_of_one_run_differ_in_the_seed_and_their_metrics_only():
    a, b = two_seeds_of_one_committed_run()
    out = subprocess.run([sys.executable, "-m", "cnnreport", "diff", str(a), str(b)], capture_output=True, text=True,
                         check=True).stdout
    settings, provenance, metrics = out.split("\n\n")
    assert settings.splitlines()[1:] == ["      A  B", "seed  0  1"]
    assert provenance == "provenance that differs: the same"
    assert metrics.startswith("metrics:") and "final val acc" not in metrics and "pixel accuracy (%)" in metrics


def test_by_precision_the_committed_store_gives_the_precision_sections_differences_and_verdicts(monkeypatch):
    monkeypatch.delenv("CNNREPORT_RUNS")   # the paper profile's own store: the committed runs
    table = diff.by_field(diff.load(PAPER_RUNS), "precision").set_index("setting")
    section = precision_effect(profile_sweeps("paper", verbose=False)["10_precision"]).set_index("model")
    assert len(table) == len(section) == 3
    for model, row in section.iterrows():
        mine = table.loc[next(s for s in table.index if s.startswith(model + " "))]
        assert mine["other − reference"] == round(row["diff"], 1) and mine.verdict == row.verdict
        assert mine["95 % interval"] == str(row.interval) and mine.precision == "float32 → bf16"


def test_stores_pair_only_runs_that_differ_in_the_one_setting(data_dir, tmp_path):
    for seed in (0, 1):
        for lr in (0.01, 0.02):
            train(Config(model="cnn", epochs=1, seed=seed, **{**FAST, "lr": lr}), data=str(data_dir),
                  runs_dir=tmp_path / ("a" if lr == 0.01 else "b"), verbose=False)
    table = diff.by_field(diff.load(tmp_path / "a") + diff.load(tmp_path / "b"), "lr")   # two stores, pooled
    assert len(table) == 1 and table.seeds[0] == 2 and table.lr[0] == "0.01 → 0.02"
    with pytest.raises(ValueError, match="no two runs differ only in kernel"):
        diff.by_field(diff.load(tmp_path / "a"), "kernel")
    with pytest.raises(ValueError, match="--by must be a setting"):
        diff.by_field([], "colour")
    with pytest.raises(ValueError, match="neither a run folder nor a runs store"):
        diff.load(tmp_path / "nothing")
