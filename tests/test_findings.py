"""The findings and the comparison with the original report: every number they state is the sweeps' own."""
import math
from pathlib import Path

import pandas as pd
import pytest

from cnnreport.analysis import stats
from cnnreport.analysis.original import ORIGINAL, seed_repeats
from cnnreport.analysis.stats import reproduction, summary
from cnnreport.analysis.sweeps import Sweep, by_model, sweep
from cnnreport.report import findings, sentences, setup
from cnnreport.report.names import MODELS
from cnnreport.training.config import Config
from cnnreport.training.record import Run

from conftest import QUICK, fake_sweep, run_sweep


def test_reproduction_sets_each_seed_number_beside_our_mean_of_the_same_epoch():
    nf = fake_sweep("num_filters", [("cnn", 32, s, "finished", a, a + 1) for s, a in enumerate((41.0, 41.2, 41.4))]
                   + [("cnn", 24, 0, "finished", 40.0, 40.0)])   # a value the original report did not run: no row
    lr = fake_sweep("lr", [("unet", 10.0, s, "diverged", math.nan, math.nan) for s in range(3)])
    r = reproduction({"04_num_filters": nf, "05_learning_rate": lr})
    final, best, diverged = r.iloc[0], r.iloc[1], r.iloc[2]
    assert len(r) == 3 and list(r.epoch) == ["final", "best", "final"]
    assert final.original == ORIGINAL["num_filters"]["cnn"][32] and final["mean"] == pytest.approx(41.2)
    assert final["diff"] == pytest.approx(41.2 - 45.2) and final.best_diff == pytest.approx(42.2 - 45.2)
    assert final.verdict == "ours lower"   # 4 points, beyond one more run's prediction interval (about ±1.0)
    assert best.original == ORIGINAL["num_filters_best"]["cnn"][32] and best["mean"] == pytest.approx(42.2)
    assert diverged.verdict == "every seed diverged" and math.isnan(diverged["mean"])


def test_a_difference_within_the_prediction_interval_of_one_more_run_is_noise():
    nf = fake_sweep("num_filters", [("unet", 16, s, "finished", a, a) for s, a in enumerate((53.0, 55.0, 57.0))])
    assert reproduction({"04_num_filters": nf}).verdict.tolist() == ["within noise"]


def test_the_comparison_with_the_original_report_counts_every_number_in_one_class():
    one_seed = fake_sweep("num_filters", [("cnn", nf, 0, "finished", 44.0, 44.0) for nf in (16, 32, 48)]
                         + [("unet", 16, s, "finished", a, a) for s, a in enumerate((53.0, 55.0, 57.0))]     # within noise
                         + [("unet", 32, s, "finished", a, a) for s, a in enumerate((60.0, 60.1, 60.2))])    # ours higher
    lr = fake_sweep("lr", [("unet", 10.0, s, "diverged", math.nan, math.nan) for s in range(3)])
    text = findings.reproduction({"04_num_filters": one_seed, "05_learning_rate": lr})
    assert ("** Of its 6 final accuracies that we reran, 1 lies within the prediction interval of one more run of ours, "
            "1 is below it, 3 rest on one seed of ours (no interval) and 1 has every seed of ours diverged;") in text


def test_the_medians_against_the_original_report_are_per_network_and_count_a_shared_setting_once():
    """NF 32 and learning rate 0.001 are one setting: its runs meet the original's two numbers for it once,
    against their mean, and the CNN's median does not pool the U-Net's."""
    shared = [("cnn", 32, s, "finished", 41.0, 41.0) for s in range(3)]
    nf = fake_sweep("num_filters", shared + [("cnn", 16, s, "finished", 40.0, 40.0) for s in range(3)]
                    + [("unet", 32, s, "finished", 60.0, 60.0) for s in range(3)])
    lr = Sweep("lr", tuple(r for r in nf.runs if r.config.num_filters == 32 and r.config.model == "cnn"))   # the same runs
    repro = reproduction({"04_num_filters": nf, "05_learning_rate": lr})
    assert len(repro[repro.epoch == "final"]) == 4             # the original report's numbers: three NF, one lr
    medians = stats.per_network(repro).set_index("model")
    theirs = (ORIGINAL["num_filters"]["cnn"][32] + ORIGINAL["lr"]["cnn"][0.001]) / 2
    assert medians.settings["cnn"] == 2 and medians.numbers["cnn"] == 3
    assert medians["median"]["cnn"] == pytest.approx(((41.0 - theirs) + (40.0 - ORIGINAL["num_filters"]["cnn"][16])) / 2)
    assert medians["median"]["unet"] == pytest.approx(60.0 - ORIGINAL["num_filters"]["unet"][32])


def test_still_rising_and_overfitting_read_off_the_mean_curves():
    """Still rising: the least-squares slope of the last five epochs, times four, above the std of the
    epoch-to-epoch changes there; overfitting: validation loss lowest before them while training loss falls."""
    def run(seed, acc, val_loss):
        history = [dict(epoch=e + 1, train_loss=2.0 - 0.05 * e, val_loss=v, val_acc=a, seconds=1.0)
                   for e, (a, v) in enumerate(zip(acc, val_loss))]
        return Run(Config(model="cnn", seed=seed, epochs=len(acc)), Path(f"/fake/{seed}"), "finished", history, {}, None, 1, {})
    steady = [40 + e for e in range(10)]                  # +1 a epoch: rising
    noisy = [50, 50, 50, 50, 50, 49, 52, 48, 51, 50]       # flat within its noise: not rising
    falling = [1.0 - 0.01 * e for e in range(10)]
    turning = [1.0 - 0.05 * e for e in range(4)] + [0.85 + 0.02 * e for e in range(6)]   # lowest at epoch 4
    facts = stats.curves(Sweep("kernel", (run(0, steady, falling), ))).iloc[0]
    assert facts.rising and facts.lowest_epoch == 10 and facts.rise == 0
    facts = stats.curves(Sweep("kernel", (run(0, noisy, turning), ))).iloc[0]
    assert not facts.rising and facts.lowest_epoch == 4 and facts.rise == pytest.approx(0.1) and facts.train_change < 0
    assert "overfitting, for the CNN at kernel size 3 (lowest at epoch 4" in sentences.curves_sentence(
        stats.curves(Sweep("kernel", (run(0, noisy, turning), ))), "kernel size")


def test_prose_numbers_are_never_in_e_notation():
    from cnnreport.report.present import number
    assert [number(x) for x in (1e-5, 0.001, 12345.0, 1 / 3, 1e-9)] == ["0.00001", "0.001", "12,345", "0.333333", "1e-09"]


def test_differences_that_round_to_zero_read_without_a_minus_sign():
    from cnnreport.report import present
    assert [present.signed(x) for x in (-0.04, 0.04, -0.06, 1.25)] == ["+0.0", "+0.0", "-0.1", "+1.2"]
    assert present.fixed(1)(-0.04) == "0.0" and present.fixed(2, signed=True)(-0.004) == "+0.00"
    grid = fake_sweep("rebalance", [("cnn", v, s, "finished", a, a)
                                    for v, s, a in ((False, 0, 50.0), (False, 1, 50.1), (True, 0, 50.02), (True, 1, 50.04))])
    text = findings.rebalancing(grid)
    assert "-0.0" not in text and "+0.0" in text


def test_the_original_reports_own_repeats_of_one_setting():
    repeats = seed_repeats()
    assert repeats["cnn"] == [45.2, 45.5, 44.7] and repeats["unet"] == [56.4, 56.4, 56.4]


def test_the_top_network_is_called_best_only_beyond_seed_noise():
    def table(resnet):
        return pd.DataFrame([dict(row="resnet", model="resnet", mean=resnet, std=1.5, acc=f"{resnet} ± 1.5", epochs=25, runs=3),
                             dict(row="unet", model="unet", mean=60.3, std=0.3, acc="60.3 ± 0.3", epochs=30, runs=3)])
    assert findings.architectures(table(63.2)).startswith(   # 2.9 points, Welch's interval [-0.7, 6.5]
        "**The residual network scores highest, within noise against the U-Net.** It gives 63.2 ± 1.5 %")
    clear = findings.architectures(table(66.0))   # 5.7 points, Welch's interval [2.1, 9.3]
    assert clear.startswith("**The residual network colours best.**")
    assert "after 25 epochs, against 60.3 ± 0.3 % for the U-Net after 30 (final epoch" in clear


def test_findings_state_the_sweeps_numbers(data_dir):
    arch = sweep(QUICK, None, [None], by_model(["cnn", "convtranspose", "unet", "resnet"]), [0, 1], data=str(data_dir),
                 verbose=False)
    nf = run_sweep(data_dir, "num_filters", [4, 8, 16], models=("cnn",), seeds=(0, 1))
    text = findings.findings({"07_architectures": arch, "04_num_filters": nf}, jpeg=False).data
    table = stats.architecture_table(arch).sort_values("mean", ascending=False)
    best = table.iloc[0]
    assert text.startswith(f"1. **The {MODELS[best.model]} ") and f"** It gives {best.acc} %" in text
    assert all(f"{acc} % for the {MODELS[m]}" in text for m, acc in zip(table.model[1:], table.acc[1:]))
    by = table.set_index("model")
    residual = f"{by.loc['resnet', 'seconds'] / by.loc['unet', 'seconds']:.1f}x the time per run"
    assert f"residual blocks {by.loc['resnet', 'mean'] - by.loc['unet', 'mean']:+.1f} points" in text and residual in text
    top = stats.best_values(summary(nf)).iloc[0]
    assert f"CNN: best NF {top.best:g} ({top['mean']:.1f} %)" in text and "the original report chose NF 96" in text
    assert "Learning rate" not in text and "rebalancing" not in text   # sweeps not given: no finding
    assert text.count("\n") + 1 == 3   # architectures, their effects, width; 1-epoch runs meet no number of the original's
    note = setup.hardware_text([*arch.runs, *nf.runs])
    assert note.startswith("The experiments that follow rest on 12 training runs")   # the CNN at NF 8 counts once, not twice
    assert f"{arch.table.epochs.sum() + nf.table.epochs.sum() - 2:,} epochs" in note and "thread" in note




def quality_rows(pixel, pixel_std, runs):
    """stats.metric_table rows of four networks (plain loss) with these pixel accuracies; every other metric tied."""
    models = ["cnn", "convtranspose", "unet", "resnet"]
    rows = pd.DataFrame({"model": models, "value": False, "runs": runs, "pixel_acc": pixel, "pixel_acc_std": pixel_std})
    for m in ("balanced_acc", "auc", "psnr", "colourfulness"):
        rows[m], rows[f"{m}_std"] = 50.0, 1.0
    rows["colourfulness_true"], rows["colourfulness_true_std"] = 60.0, 0.0
    return rows


def test_a_metric_on_which_the_networks_tie_names_no_best_and_stars_none():
    from cnnreport.report import sentences, tables
    tied = quality_rows([41.0, 56.0, 60.0, 60.3], [0.3, 0.3, 0.3, 1.5], [3, 3, 3, 3])
    text = sentences.quality_sentence(tied)
    assert "by pixel accuracy is no network clearly (41.0 to 60.3 %; the residual network leads the U-Net by 0.3" in text
    assert "by AuC no network clearly" in text
    saturated = tied.assign(psnr=[17.6, 20.61, 20.64, 20.62], psnr_std=0.05)   # judged in dB, at its printed 2 decimals
    assert "by PSNR no network clearly (17.60 to 20.64 dB; the U-Net leads the residual network by 0.02, within noise" \
        in sentences.quality_sentence(saturated)
    html = tables.quality_table(tied, "tab:q", "Quality.", runs=())._repr_html_()
    assert "★" not in html
    apart = quality_rows([41.0, 56.0, 60.0, 66.0], [0.3, 0.3, 0.3, 0.5], [3, 3, 3, 3])
    assert ("by pixel accuracy is the **residual network** (66.0 %, clearly: 6.0 above the U-Net, 95 % interval [5.0, 7.0])"
            in sentences.quality_sentence(apart))
    assert tables.quality_table(apart, "tab:q", "Quality.", runs=())._repr_html_().count("★") == 1
    one_seed = quality_rows([41.0, 56.0, 60.0, 66.0], [math.nan] * 4, [1, 1, 1, 1])
    assert "one seed each, no ranking" in sentences.quality_sentence(one_seed)


def test_rebalancing_is_judged_network_by_network_and_seed_by_seed():
    from cnnreport.report import sentences
    plain = {"cnn": (41.0, 41.3, 40.7), "unet": (60.0, 61.3, 58.7)}
    rebalanced = {"cnn": (39.0, 39.4, 38.6), "unet": (59.5, 58.1, 58.0)}   # the CNN loses 2 points at every seed
    grid = fake_sweep("rebalance", [(m, v, s, "finished", acc[s], acc[s], {"colourfulness": 20.0 + 5 * v + s / 10})
                                    for m in plain for v, arm in ((False, plain), (True, rebalanced)) for s, acc in
                                    enumerate([arm[m]] * 3)])
    effect = stats.rebalancing_effect(grid)
    pixel = effect[effect.metric == "pixel_acc"].set_index("model")
    assert pixel.verdict.to_dict() == {"cnn": "clear", "unet": "within noise"}
    assert str(pixel.interval["cnn"]) == "[-2.2, -1.8]" and pixel.seeds["cnn"] == 3
    text = sentences.rebalancing_sentence(effect)
    assert "the U-Net: pixel accuracy -1.5 points (within noise, 95 % interval [-5.2, 2.3])" in text
    assert "Its colour gain is clear for 2 of 2 networks, its balanced-accuracy gain for 0 and its pixel-accuracy cost for 1" in text


def test_with_one_seed_the_findings_rank_no_network(data_dir):
    arch = run_sweep(data_dir, None, [None], models=("cnn", "unet"), seeds=(0,))
    text = findings.findings({"07_architectures": arch}, jpeg=False).data
    assert "on one seed per network: no ranking" in text and "colours best" not in text
