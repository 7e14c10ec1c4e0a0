"""The measurements of the causes of our differences from the original report, and the rules they are judged by."""
import math
import shutil

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from cnnreport.analysis import claims, compute, consistency, measurements
from cnnreport.training.evaluate import on_data
from cnnreport.training.train import Config, load_run, train

from conftest import FAST, fake_sweep


def test_a_difference_between_settings_is_clear_only_beyond_twice_the_larger_spread_with_two_seeds_a_side():
    assert claims.between(1.0, 0.5, 0.2) == "within seed noise" and claims.between(1.0, 0.4, 0.6, 3, 3) == "within seed noise"
    assert claims.between(1.0, 0.4, 0.3) == "clear" and claims.between(-1.0, 0.4, 0.3) == "clear"
    assert claims.between(5.0, math.nan, math.nan, 1, 1) == "one seed: spread unknown"
    assert claims.between(5.0, 0.1, math.nan, 3, 1) == "one seed: spread unknown"
    assert claims.between(math.nan, 0.1, 0.1).startswith("no difference")


def test_a_best_setting_is_clearly_best_only_above_its_runner_up_with_seeds_to_tell():
    nan = math.nan
    assert claims.ranking([60.0, 55.0, 40.0], [0.5, 0.4, 0.3], [3, 3, 3]) == (0, 1, 5.0, 0.5, "clear")
    assert claims.ranking([91.6, 91.1, 91.3], [0.0, 0.0, 0.0], [3, 3, 3])[4] == "clear"   # apart by the spread alone
    assert claims.ranking([91.6, 91.1, 91.3], [0.0, 0.0, 0.0], [3, 3, 3], tie=claims.TIE)[4] == "a tie"   # saturated
    assert claims.ranking([91.6, 91.5], [0.1, 0.1], [3, 3])[4] == "within seed noise"        # a tie: nobody is best
    assert claims.ranking([60.0, 40.0], [nan, nan], [1, 1])[4] == "one seed: spread unknown"  # one seed: no ranking
    assert claims.ranking([nan, 40.0], [nan, 0.1], [0, 3])[:2] == (1, None)                  # what diverged is left out
    assert claims.ranking([nan], [nan], [0])[4] == "every run diverged"


def test_against_a_single_number_our_spread_and_its_own_allowance_decide():
    assert claims.against_single(-3.0, 1.0, 3) == "ours lower" and claims.against_single(3.0, 1.0, 3) == "ours higher"
    assert claims.against_single(-3.0, 1.0, 3, allowance=1.5) == "within noise"
    assert claims.against_single(-3.0, math.nan, 1) == "one seed: spread unknown"


def test_a_paired_difference_is_clear_when_its_interval_excludes_zero():
    rng = np.random.default_rng(0)
    a = rng.normal(50, 5, 100)
    mean, low, high, verdict = claims.paired(a, a + 1 + rng.normal(0, 0.5, 100))
    assert low < mean < high and low > 0 and verdict == "clear"
    assert claims.paired(a, a + rng.normal(0, 0.5, 100))[3] == "within noise"
    assert claims.off_relation(2.1, 1.0) == "off the relation" and claims.off_relation(-1.9, 1.0) == "on the relation"


def test_a_run_measured_on_another_copy_of_its_test_images_pairs_them_image_by_image(data_dir, tmp_path):
    run = train(Config(model="cnn", epochs=2, **FAST), data=str(data_dir), verbose=False)
    copy = shutil.copytree(data_dir, tmp_path / "copy")
    for image in sorted((copy / "test" / "horse").iterdir())[:8]:   # 8 of 64 test images darkened
        Image.fromarray((np.asarray(Image.open(image)) * 0.5).astype(np.uint8)).save(image)
    run = on_data(run.path, [str(data_dir), str(copy)])
    run = load_run(run.path)                                            # still under its checksums
    sets = run.evaluations()["test_sets"]
    own = sets[run.data["fingerprint"]]
    other = next(measured for fingerprint, measured in sets.items() if fingerprint != run.data["fingerprint"])
    assert len(own["per_image"]) == len(other["per_image"]) == 64
    assert own["pixel_acc"] == pytest.approx(run.metrics["pixel_acc"], abs=1e-9)   # its own test split: its recorded accuracy
    assert own["per_image"][8:] == other["per_image"][8:]                           # the images left alone score alike
    effect = measurements.originals_effect([run], run.data["fingerprint"], other["data"]["fingerprint"])
    row = effect.iloc[0]
    assert row["diff"] == pytest.approx(np.mean(own["per_image"]) - np.mean(other["per_image"]))
    assert row.low <= row["diff"] <= row.high and row.images == 64


def test_the_efficient_frontier_keeps_the_settings_no_cheaper_one_beats():
    table = pd.DataFrame(dict(compute=[1, 2, 3, 4, 5], mean=[10.0, 9.0, 20.0, 20.0, 25.0]))
    assert compute.frontier(table).tolist() == [True, False, True, False, True]


def test_the_original_pairs_are_placed_against_the_relation_of_our_runs_of_their_family(monkeypatch):
    loss = np.linspace(1.2, 1.8, 12)
    runs = list(fake_sweep("num_filters", [("cnn", 8, i, "finished", 100 - 30 * l + (0.3 if i == 0 else 0), 0) for i, l in enumerate(loss)]).runs)
    for run, l in zip(runs, loss):
        run.history[-1]["val_loss"] = l
    monkeypatch.setattr(consistency, "seed_pairs", lambda: pd.DataFrame([dict(model="cnn", what="NF 32", val_loss=1.5, val_acc=60.0)]))
    row = consistency.consistency(runs).iloc[0]
    assert row.expected == pytest.approx(55.0, abs=0.1) and row.distance == pytest.approx(5.0, abs=0.1)
    assert row.verdict == "off the relation" and row.within_range


def test_the_causes_weigh_the_batch_size_of_the_runs_compared_with_the_original_whatever_else_is_swept():
    """A new family that sweeps the batch size leaves the causes table as it was: the batch-size row
    reads the runs the reproduction compares with the original report, not every sweep's."""
    from cnnreport.analysis import causes, stats
    sweeps = {"04_num_filters": fake_sweep("num_filters", [("cnn", 32, s, "finished", 45.0 + s, 46.0) for s in range(3)]),
              "batch_size": fake_sweep("batch_size", [("cnn", b, s, "finished", 40.0, 40.0) for b in (25, 200) for s in (0, 1)])}
    repro = stats.reproduction(sweeps)
    assert set(repro.experiment) == {"NF sweep"} and set(repro.batch_size) == {100}
    effect = pd.DataFrame(dict(diff=[0.5], verdict=["within noise"]))
    sizes = pd.DataFrame(dict(model=["resnet"], num_filters=[32], mean=[62.0], std=[0.5], seeds=[3]))
    pairs = pd.DataFrame(dict(distance=[1.0], verdict=["on the relation"]))
    table = causes.weighed(repro, effect, effect, effect, sizes, pairs).set_index("cause")
    assert table.verdict["the batch size"] == "the same batch size: not a cause"
