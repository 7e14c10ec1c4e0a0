"""A damaged or edited record is caught when it is read: refused in one line naming the run, the
file, what is wrong and what to do; in a store that trains, moved aside (never deleted) and trained
again; in a store of committed results, the build stops before any notebook runs."""
import json

import pytest

from cnnreport.training.executor import lookup, train_all
from cnnreport.training.store import DamagedRun, Store, verify
from cnnreport.training.train import Config, load_run, train

from conftest import FAST, numbers

CONFIG = Config(model="cnn", epochs=1, **FAST)


def truncate(run):
    (run / "history.csv").write_bytes((run / "history.csv").read_bytes()[:30])


def edit_number(run):
    result = json.loads((run / "result.json").read_text())
    result["final"]["val_acc"] += 10   # an accuracy that was never measured
    (run / "result.json").write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")


def remove_confusion(run):
    (run / "confusion.csv").unlink()


def cut_config(run):
    (run / "config.json").write_text((run / "config.json").read_text()[:200])


def cut_result(run):
    (run / "result.json").write_text((run / "result.json").read_text()[:200])


DAMAGES = [(truncate, "history.csv", "was modified or truncated after the run finished"),
           (edit_number, "result.json", "was edited after the run finished"),
           (remove_confusion, "confusion.csv", "is missing"),
           (cut_config, "config.json", "was modified or truncated"),   # its checksum fails first
           (cut_result, "result.json", "is not valid JSON")]


@pytest.fixture
def stored(data_dir, tmp_path):
    return train(CONFIG, data=str(data_dir), runs_dir=tmp_path / "runs", verbose=False).path


@pytest.mark.parametrize("damage, file, problem", DAMAGES)
def test_a_damaged_record_is_refused_naming_the_run_the_file_and_what_is_wrong(stored, damage, file, problem):
    damage(stored)
    with pytest.raises(DamagedRun, match=f"{stored.name}: {file} {problem}") as e:
        load_run(stored)
    assert e.value.file == file and "\n" not in str(e.value)


def test_a_record_with_an_extra_unknown_file_is_accepted(stored):
    (stored / "notes.txt").write_text("looked at it on Monday\n")
    assert verify(stored)["digest"] and load_run(stored).final["val_acc"] > 0


def test_malformed_json_in_a_config_is_refused_by_the_lookup_of_committed_results(stored):
    (stored / "config.json").write_text('{"config": {"model": "cnn", "num_f')
    (stored / "result.json").write_text((stored / "result.json").read_text())   # its checksum aside: the parse fails first
    with pytest.raises(DamagedRun, match=f"{stored.name}: config.json is not valid JSON .*; restore it from git"):
        lookup([CONFIG], Store(stored.parent, trains=False))


@pytest.mark.parametrize("damage, file, problem", DAMAGES)
def test_in_a_store_that_trains_a_damaged_run_is_moved_aside_said_and_trained_again(stored, data_dir, capfd, damage,
                                                                                    file, problem):
    before = load_run(stored)
    damage(stored)
    again = train_all([CONFIG], data=str(data_dir), store=stored.parent)[0]
    said = capfd.readouterr().err.strip().splitlines()
    aside = stored.parent / "damaged" / stored.name
    assert len(said) == 1 and said[0].startswith(f"{stored}: {file} {problem}")
    assert said[0].endswith(f"moved to {aside}; it will retrain")
    assert (aside / "config.json").exists(), "moved aside with its files, not deleted"
    assert numbers(again.history) == numbers(before.history) and again.path == stored
    assert lookup([CONFIG], Store(stored.parent, trains=False))[0].path == stored   # the lookup reads past damaged/


def test_the_build_checks_every_committed_record_before_any_notebook_runs(stored, monkeypatch):
    """Also a record that no sweep of the profile reads (the JPEG copy's runs): the first notebook to
    read it would stop the build halfway, with a traceback."""
    from cnnreport.analysis import sweeps
    from cnnreport.report import build
    monkeypatch.setattr(build, "profile_store", lambda profile: Store(stored.parent, trains=False))
    monkeypatch.setattr(sweeps, "profile_configs", lambda profile: [])   # the profile reads no run of this store
    truncate(stored)
    with pytest.raises(DamagedRun, match=f"{stored.name}: history.csv was modified or truncated .*; restore it from git"):
        build.check_runs("paper", log=print)
