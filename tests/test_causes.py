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


def test_welch_interval_between_settings_narrows_with_seeds_and_is_read_from_its_printed_bounds():
    three = claims.welch(50.0, 1.0, 3, 53.0, 1.0, 3)   # half-width t(4) sqrt(2/3) = 2.27 std
    assert three.high - three.diff == pytest.approx(2.2669, abs=1e-3) and three.verdict == "clear"
    five = claims.welch(50.0, 1.0, 5, 51.6, 1.0, 5)    # half-width t(8) sqrt(2/5) = 1.46 std: more seeds settle it
    assert five.high - five.diff == pytest.approx(1.4584, abs=1e-3) and five.verdict == "clear"
    assert claims.welch(50.0, 1.0, 5, 51.5, 1.0, 5).verdict == "borderline"   # its low bound, 0.04, prints as 0.0
    assert claims.welch(50.0, 1.0, 3, 51.5, 1.0, 3).verdict == "within noise"
    assert claims.welch(50.0, 1.0, 3, 48.0, 0.5, 3).diff == -2.0 and str(claims.welch(50.0, 1.0, 3, 48.0, 0.5, 3)) == "[-4.1, 0.1]"
    unequal = claims.welch(50.0, 0.1, 3, 53.0, 2.0, 4)                  # Welch's fractional degrees of freedom
    assert unequal.high - unequal.diff == pytest.approx(3.1758, abs=1e-3)


def test_a_verdict_never_contradicts_the_bounds_printed_beside_it():
    # a bound of -0.00035 prints as -0.0 at one decimal: borderline, neither clear nor within noise
    edge = claims.Interval(1.0, -0.00035, 2.0, 1, claims.decide(-0.00035, 2.0, 1))
    assert str(edge) == "[0.0, 2.0]" and edge.verdict == "borderline" and not edge.clear
    # a margin of 0.0007 beyond zero, as rebalancing's cost once was: printed, both bounds read -1.3 and -0.0
    assert claims.decide(-1.2693, -0.0007, 1) == "borderline"
    # rounding flips what the unrounded bounds would say: 0.04 prints as 0.0, -0.06 as -0.1
    assert claims.decide(0.04, 1.0, 1) == "borderline" and claims.decide(-0.06, 1.0, 1) == "within noise"
    assert claims.decide(0.05, 1.0, 1) == "clear" and claims.decide(0.05, 1.0, 2) == "clear"
    assert claims.decide(-0.004, 1.0, 2) == "borderline" and claims.decide(-0.006, 1.0, 2) == "within noise"


def test_one_seed_gives_no_interval_and_no_verdict():
    for interval in (claims.welch(50.0, math.nan, 1, 60.0, 1.0, 3), claims.paired_seeds([50.0], [60.0]),
                     claims.against_single(60.0, math.nan, 1, 50.0)):
        assert interval.verdict == claims.ONE_SEED and str(interval) == "–" and not interval.clear
    assert claims.against_single(math.nan, math.nan, 0, 50.0).verdict == "every seed diverged"
    assert claims.welch(math.nan, 0.1, 3, 50.0, 0.1, 3).verdict.startswith("no difference")


def test_runs_that_share_their_seeds_are_compared_seed_by_seed():
    plain, rebalanced = [60.0, 62.0, 64.0], [58.9, 60.8, 63.0]   # each seed loses about 1.1: clear paired
    paired = claims.paired_seeds(plain, rebalanced)
    assert paired.diff == pytest.approx(-1.1) and paired.verdict == "clear" and paired.high < 0
    assert claims.welch(62.0, 2.0, 3, 60.9, 2.05, 3).verdict == "within noise"   # the same numbers, unpaired


def test_against_a_single_number_the_prediction_interval_of_one_more_run_decides():
    # three seeds, std 1: t(2) * sqrt(1 + 1/3) = 4.97 std either side
    assert claims.against_single(50.0, 1.0, 3, 55.5).verdict == "ours lower"
    assert claims.against_single(50.0, 1.0, 3, 54.0).verdict == "within noise"
    assert claims.against_single(50.0, 1.0, 3, 44.5).verdict == "ours higher"
    assert claims.reproduced([50.0, 51.0, 49.0], 50.4) == "within noise" and claims.reproduced([50.0, 51.0, 49.0], 58.0) == "outside noise"
    assert claims.reproduced([50.0], 50.4) == claims.ONE_SEED


def test_a_best_setting_is_clearly_best_only_above_its_runner_up_with_seeds_to_tell():
    nan = math.nan
    first, second, gap, verdict = claims.ranking([60.0, 55.0, 40.0], [0.5, 0.4, 0.3], [3, 3, 3])
    assert (first, second, verdict) == (0, 1, "clear") and gap.diff == pytest.approx(5.0)
    assert claims.ranking([91.6, 91.1, 91.3], [0.0, 0.0, 0.0], [3, 3, 3])[3] == "clear"   # apart, and no spread at all
    assert claims.ranking([91.6, 91.5], [0.1, 0.1], [3, 3])[3] == "within noise"          # nobody is best
    assert claims.ranking([60.0, 40.0], [nan, nan], [1, 1])[3] == claims.ONE_SEED          # one seed: no ranking
    assert claims.ranking([nan, 40.0], [nan, 0.1], [0, 3])[:2] == (1, None)                 # what diverged is left out
    assert claims.ranking([nan], [nan], [0])[3] == "every run diverged"


def test_a_paired_difference_over_images_is_clear_when_its_interval_excludes_zero():
    rng = np.random.default_rng(0)
    a = rng.normal(50, 5, 100)
    change = claims.paired(a, a + 1 + rng.normal(0, 0.5, 100))
    assert change.low < change.diff < change.high and change.low > 0 and change.verdict == "clear"
    assert claims.paired(a, a + rng.normal(0, 0.5, 100)).verdict == "within noise"
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
    assert row.interval.low <= row["diff"] <= row.interval.high and row.images == 64


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
    effect = pd.DataFrame(dict(diff=[0.5], verdict=["within noise"], matched=[0.5], matched_verdict=["within noise"]))
    sizes = pd.DataFrame(dict(model=["resnet"], num_filters=[32], mean=[62.0], std=[0.5], seeds=[3]))
    pairs = pd.DataFrame(dict(distance=[1.0], verdict=["on the relation"]))
    table = causes.weighed(repro, effect, effect, effect, sizes, pairs).set_index("cause")
    assert table.verdict["the batch size"] == "the same batch size: not a cause"
