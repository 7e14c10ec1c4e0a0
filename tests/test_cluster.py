"""Sweeps on a dask cluster: a LocalCluster of two worker processes of one thread each, on
127.0.0.1, started once for this module (each worker imports torch: seconds on a busy host)."""
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from cnnreport.analysis.sweeps import by_model, sweep
from cnnreport.science.data import load_category
from cnnreport.training import train as train_module
from cnnreport.training.executor import train_all
from cnnreport.training.store import install

from conftest import QUICK as FAST
from conftest import numbers, write_folder

distributed = pytest.importorskip("distributed", reason="the cluster extra (pip install -e '.[cluster]') is not installed")
Client, LocalCluster = distributed.Client, distributed.LocalCluster


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """Where the workers' scratch stores (their TMPDIR) and dask's own files go."""
    return tmp_path_factory.mktemp("scratch")


@pytest.fixture(scope="module")
def cluster(scratch):
    # CNNREPORT_DATA unset on the workers, whatever this shell says: they use the client's path
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None,
                      local_directory=str(scratch), env={"CNNREPORT_DATA": "", "TMPDIR": str(scratch)}) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def client(cluster):
    with Client(cluster.scheduler_address, set_as_default=False) as client:
        yield client


def alone(config, data_dir, tmp_path):
    """The same run trained in this process on one thread, in a store of its own."""
    return train_module.train(config, data=str(data_dir), runs_dir=tmp_path / "alone", verbose=False, threads=1)


def test_a_cluster_sweep_stores_what_one_thread_in_this_process_trains(cluster, client, data_dir, tmp_path):
    grid = sweep(FAST, "num_filters", [4, 8], by_model(["cnn", "unet"]), [0], data=str(data_dir), store=tmp_path / "runs",
                 verbose=False, scheduler=cluster.scheduler_address)
    names = {str(w["name"]) for w in client.scheduler_info()["workers"].values()}
    for run in grid.runs:
        here = alone(run.config, data_dir, tmp_path)
        assert numbers(run.history) == numbers(here.history)
        assert (run.status, run.metrics, run.parameters) == (here.status, here.metrics, here.parameters)
        assert (run.path / "confusion.csv").read_bytes() == (here.path / "confusion.csv").read_bytes()
        assert all(a.equal(b) for a, b in zip(run.model().state_dict().values(), here.model().state_dict().values()))
        assert run.path.name == here.path.name and run.palette.equal(here.palette)
        assert run.info["threads"] == 1 and run.info["worker"] in names and here.info["worker"] is None
    again = sweep(FAST, "num_filters", [4, 8], by_model(["cnn", "unet"]), [0], data=str(data_dir), store=tmp_path / "runs",
                  verbose=False, scheduler="tcp://127.0.0.1:9")  # all stored: no connection to this (nowhere)
    assert again.table.drop(columns="seconds").equals(grid.table.drop(columns="seconds"))


def test_a_worker_killed_mid_run_loses_only_that_run(cluster, scratch, data_dir, tmp_path):
    killed = []

    def kill_at_first_checkpoint():
        """SIGKILL the worker process whose scratch store first holds a checkpoint (mid-run)."""
        deadline = time.monotonic() + 60
        while not killed and time.monotonic() < deadline:
            for checkpoint in scratch.glob("cnnreport-scratch-*/*/checkpoint.pt"):
                pid = int(checkpoint.parent.parent.name.split("-")[2])
                os.kill(pid, signal.SIGKILL)
                killed.append(checkpoint.parent.name)
                break
            time.sleep(0.005)

    watcher = threading.Thread(target=kill_at_first_checkpoint)
    watcher.start()
    grid = sweep({**FAST, "epochs": 3, "train_images": 256}, "num_filters", [4, 8], by_model(["cnn"]), [0], data=str(data_dir),
                 store=tmp_path / "runs", verbose=False, scheduler=cluster.scheduler_address)
    watcher.join()
    assert killed, "no run was caught mid-way"
    assert killed[0] in {run.path.name for run in grid.runs}
    assert (grid.table.status == "finished").all() and (grid.table.epochs == 3).all()
    for run in grid.runs:
        assert numbers(run.history) == numbers(alone(run.config, data_dir, tmp_path).history)
    left = sorted(f.name for run in (tmp_path / "runs").glob("cnn-*") for f in run.iterdir())
    assert left == sorted(["config.json", "confusion.csv", "evaluations.json", "history.csv", "lock", "model.pt", "result.json",
                           "samples.png"] * 2)


def test_configuration_errors_come_before_anything_is_submitted(data_dir, tmp_path, monkeypatch):
    nowhere = "tcp://127.0.0.1:9"  # nothing listens: connecting would fail with another error, after seconds
    with pytest.raises(ValueError, match="kernel must be odd"):
        sweep(FAST, "kernel", [3, 4], by_model(["cnn"]), data=str(data_dir), verbose=False, scheduler=nowhere)
    with pytest.raises(ValueError, match="does not exist"):
        sweep(FAST, "kernel", [3], by_model(["cnn"]), data=str(tmp_path / "missing"), verbose=False, scheduler=nowhere)
    config = train_module.Config(model="cnn", **FAST)
    with pytest.raises(ValueError, match="both workers=2 and a dask scheduler"):
        train_all([config], data=str(data_dir), workers=2, scheduler=nowhere)
    monkeypatch.setenv("CNNREPORT_SCHEDULER", nowhere)
    monkeypatch.setenv("CNNREPORT_WORKERS", "two")
    with pytest.raises(ValueError, match="must be a whole number >= 1, got 'two'"):
        train_all([config], data=str(data_dir))


def set_data(path):
    os.environ["CNNREPORT_DATA"] = path


def test_a_worker_with_other_data_fails_the_run_naming_both_fingerprints(cluster, client, data_dir, tmp_path):
    other = write_folder(tmp_path / "other", seed=1)
    ours, theirs = (load_category("horse", str(d)).fingerprint for d in (data_dir, other))
    client.run(set_data, str(other))
    try:
        expected = (rf"run cnn nf=8 seed 0 failed: DataError: dask worker .* has other data than the client: "
                    rf".* fingerprint {theirs}, the client's data {ours}")
        with pytest.raises(RuntimeError, match=expected):
            sweep(FAST, "num_filters", [8], by_model(["cnn"]), data=str(data_dir), store=tmp_path / "runs", verbose=False,
                  scheduler=cluster.scheduler_address)
    finally:
        client.run(set_data, "")
    assert not list((tmp_path / "runs").glob("*/result.json"))


def test_with_nothing_set_runs_train_without_importing_dask(data_dir, tmp_path):
    script = ("import sys; from cnnreport.training.executor import train_all; from cnnreport.training.train import Config; "
              f"[run] = train_all([Config(model='cnn', **{FAST!r})], data={str(data_dir)!r}, "
              f"store={str(tmp_path)!r}); assert run.info['worker'] is None; "
              "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))")
    env = {k: v for k, v in os.environ.items() if k not in ("CNNREPORT_WORKERS", "CNNREPORT_SCHEDULER")}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_install_writes_a_run_from_its_files_and_refuses_damaged_ones(data_dir, tmp_path):
    run = train_module.train(train_module.Config(model="cnn", **FAST), data=str(data_dir), runs_dir=tmp_path / "a",
                             verbose=False)
    files = {f.name: f.read_bytes() for f in run.path.iterdir() if f.name != "lock"}
    damaged = {**files, "history.csv": files["history.csv"].replace(b"1,", b"2,", 1)}
    with pytest.raises(ValueError, match="history.csv was modified or truncated"):
        install(tmp_path / "b" / run.path.name, damaged)
    assert not (tmp_path / "b" / run.path.name / "result.json").exists()
    install(tmp_path / "b" / run.path.name, files)
    assert train_module.load_run(tmp_path / "b" / run.path.name).history == run.history


def test_sweeps_default_to_two_workers_on_a_cpu_of_two_or_more_cores_and_one_on_a_gpu(monkeypatch):
    import torch

    from cnnreport.training import executor
    for cores, device, expected in ((2, "cpu", 2), (16, "cpu", 2), (1, "cpu", 1), (2, "cuda", 1)):
        monkeypatch.setattr(executor, "usable_cores", lambda: cores)
        monkeypatch.setattr(executor, "default_device", lambda: torch.device(device))
        assert executor.default_workers() == expected
