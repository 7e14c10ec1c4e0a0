"""Guarantees that need real processes: SIGKILL at any moment, two processes on one store."""
import signal
import subprocess
import sys
import time

import pytest

from cnnreport.training.train import Config, train

from conftest import FAST, numbers


def cli_train(data_dir, runs_dir, epochs, *extra):
    args = [sys.executable, "-m", "cnnreport", "train", "--model", "cnn", "--epochs", str(epochs),
            "--num-colours", "4", "--num-filters", "8", "--batch-size", "32", "--lr", "0.01",
            "--data", str(data_dir), "--runs-dir", str(runs_dir), *extra]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_sigkill_midway_leaves_no_finished_run_and_resumes_to_the_same_numbers(data_dir, tmp_path):
    config = Config(model="cnn", epochs=6, **FAST)
    whole = train(config, data=str(data_dir), runs_dir=tmp_path / "whole", verbose=False)
    cut = tmp_path / "cut" / whole.path.name
    process = cli_train(data_dir, tmp_path / "cut", 6)
    deadline = time.monotonic() + 120
    while not (cut / "checkpoint.pt").exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()
    if (cut / "result.json").exists():
        pytest.skip("the run finished before it could be killed")
    # a fresh process sees an unfinished run: it resumes and ends where the uninterrupted run did
    resumed = train(config, data=str(data_dir), runs_dir=tmp_path / "cut", verbose=False)
    assert numbers(resumed.history) == numbers(whole.history)
    assert not (cut / "checkpoint.pt").exists()


@pytest.mark.slow
def test_two_processes_asking_for_one_run_train_it_once(data_dir, tmp_path):
    processes = [cli_train(data_dir, tmp_path / "store", 3) for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    trained = [out for out, _ in outputs if "Epoch [1/3]" in out]
    assert len(trained) == 1, "the run was trained twice"
    assert len({out.strip().splitlines()[-1] for out, _ in outputs}) == 1  # the same run directory
    assert len([p for p in (tmp_path / "store").iterdir() if p.name != "palettes"]) == 1


def test_one_default_runs_store_per_checkout_whatever_the_working_directory(tmp_path, monkeypatch):
    from cnnreport.training import store
    monkeypatch.delenv("CNNREPORT_RUNS")
    monkeypatch.chdir(tmp_path)
    assert store.resolve_store() == store.CHECKOUT / "runs"                  # notebooks/ and the repository root alike
    monkeypatch.setenv("CNNREPORT_RUNS", str(tmp_path / "mine"))
    assert store.resolve_store() == tmp_path / "mine"
    monkeypatch.delenv("CNNREPORT_RUNS")
    monkeypatch.setattr(store, "CHECKOUT", tmp_path / "site-packages")   # an installed cnnreport: the user's cache
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert store.resolve_store() == tmp_path / "cache" / "cnnreport" / "runs"
