"""The paper's committed run records (reports/paper/runs): each is valid, each is a configuration
of params/paper, together they cover the profile, and the code on main retrains them bit for bit."""
import json
from dataclasses import asdict, replace

import pytest
import torch

from cnnreport import runs
from cnnreport.experiments import profile_configs
from cnnreport.report import PAPER_RUNS
from cnnreport.speed import cpu_name, precision
from cnnreport.train import load_run, train
from conftest import numbers

RECORDS = sorted(p.parent for p in PAPER_RUNS.glob("*-nf*-k*-*/result.json"))   # finished runs (others are training)


def stored(path):
    return json.loads((path / "config.json").read_text())


def test_every_committed_record_is_a_finished_paper_run_under_its_own_key():
    wanted = profile_configs("paper")
    assert RECORDS, f"no records in {PAPER_RUNS}"
    machines = set()
    for path in RECORDS:
        run = load_run(path)                      # checksums verified; ValueError if damaged
        assert run.config in wanted, f"{path.name} is not a configuration of params/paper"
        key = dict(asdict(run.config), precision=run.info["precision"])
        assert runs.run_path(PAPER_RUNS, key, run.info["data_fingerprint"]) == path, f"{path.name} is filed under another key"
        machines.add((run.info["device"], run.info["precision"], run.info["cpu"], run.info["data_fingerprint"]))
    assert len(machines) == 1, f"records from more than one kind of machine or data: {machines}"


def test_the_committed_records_cover_the_paper_profile():
    missing = set(profile_configs("paper")) - {load_run(p).config for p in RECORDS}
    if missing:
        pytest.skip(f"{len(missing)} of {len(profile_configs('paper'))} paper runs are not committed yet")


@pytest.mark.slow
def test_a_committed_run_retrains_bit_identically_on_a_matching_machine(shared_horses, tmp_path):
    cheapest = min(RECORDS, key=lambda p: (stored(p)["config"]["model"] != "cnn", stored(p)["config"]["num_filters"]))
    run = load_run(cheapest)
    if run.info["device"] != "cpu" or run.info["cpu"] != cpu_name() or precision(run.config, torch.device("cpu")) != run.info["precision"]:
        pytest.skip(f"{cheapest.name} was trained on {run.info['cpu']} ({run.info['device']}, {run.info['precision']})")
    first = train(replace(run.config, epochs=2), data=str(shared_horses), runs_dir=tmp_path, verbose=False,
                  threads=run.info["threads"])
    assert first.info["data_fingerprint"] == run.info["data_fingerprint"], "not the data the records were trained on"
    assert numbers(first.history) == numbers(run.history[:2])
