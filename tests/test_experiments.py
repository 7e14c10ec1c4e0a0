import math

import pandas as pd
import pytest
import torch

from cnnreport.analysis import experiments

from cnnreport.report import gallery

from cnnreport.report import plots

from cnnreport.training import speed
from cnnreport.training import train as train_module
from cnnreport.analysis.experiments import SEED_REPORT, best_values, summary, sweep
from cnnreport.science.data import load_category
from conftest import numbers

FAST = dict(num_colours=4, num_filters=8, batch_size=64, lr=0.01, epochs=1, train_images=128, test_images=32)


def run_sweep(data_dir, field="num_filters", values=(4, 8), models=("cnn", "unet"), seeds=(0,), **base):
    return sweep({**FAST, **base}, field, list(values), list(models), list(seeds), data=str(data_dir), verbose=False)


def test_one_row_per_model_value_and_seed(data_dir):
    runs = run_sweep(data_dir, seeds=(0, 1))
    assert len(runs) == 2 * 2 * 2
    assert set(zip(runs.model, runs.value, runs.seed)) == {(m, v, s) for m in ("cnn", "unet") for v in (4, 8) for s in (0, 1)}
    assert (runs.status == "finished").all() and runs.val_acc.between(0, 100).all()
    assert runs.path.nunique() == len(runs) and (runs.epochs == 1).all()


def test_a_bad_value_fails_before_any_run_trains(data_dir, monkeypatch):
    monkeypatch.setattr(train_module, "_train", lambda *a, **k: pytest.fail("trained before checking the grid"))
    with pytest.raises(ValueError, match="kernel must be odd"):
        run_sweep(data_dir, "kernel", [3, 4])


def test_a_second_identical_sweep_trains_nothing(data_dir, monkeypatch):
    first = run_sweep(data_dir)
    monkeypatch.setattr(train_module, "_train", lambda *a, **k: pytest.fail("trained twice"))
    again = run_sweep(data_dir)
    assert again.drop(columns="seconds").equals(first.drop(columns="seconds"))


def test_diverged_runs_show_as_diverged_and_count_in_no_mean(data_dir):
    runs = run_sweep(data_dir, "lr", [0.01, 1e30], models=("cnn",), seeds=(0, 1))
    assert (runs[runs.value == 1e30].status == "diverged").all()
    assert runs[runs.value == 1e30].val_acc.isna().all()
    table = summary(runs)
    bad = table[table.value == 1e30].iloc[0]
    assert bad.acc == "diverged" and bad.runs == 0 and bad.diverged == 2 and math.isnan(bad["mean"])
    good = table[table.value == 0.01].iloc[0]
    assert good.best and not bad.best and good["mean"] == pytest.approx(runs[runs.value == 0.01].val_acc.mean())
    assert best_values(table).iloc[0].best == 0.01
    plots.sweep_plot(runs)  # the diverged point is drawn, not a crash
    plots.loss_curves(runs)


def test_a_partly_diverged_value_averages_the_finished_seeds_only(data_dir):
    ok = run_sweep(data_dir, "lr", [0.01], models=("cnn",), seeds=(0, 1))
    bad = run_sweep(data_dir, "lr", [1e30], models=("cnn",), seeds=(2,))
    runs = pd.concat([ok, bad.assign(value=0.01)], ignore_index=True)  # three seeds of one setting, one diverged
    row = summary(runs, seed_report={}).iloc[0]
    assert row.runs == 2 and row.diverged == 1 and row["mean"] == pytest.approx(ok.val_acc.mean())
    assert row.acc.endswith("(1 of 3 diverged)")


def test_mean_and_std_over_seeds(data_dir):
    runs = run_sweep(data_dir, "num_filters", [8], models=("cnn",), seeds=(0, 1, 2))
    row = summary(runs).iloc[0]
    accs = runs.val_acc
    assert row.runs == 3 and row["mean"] == pytest.approx(accs.mean()) and row["std"] == pytest.approx(accs.std())
    assert row.acc == f"{accs.mean():.1f} ± {accs.std():.1f}"
    single = summary(run_sweep(data_dir, "num_filters", [8], models=("cnn",))).iloc[0]
    assert math.isnan(single["std"]) and "±" not in single.acc


def test_the_seed_reports_number_and_the_difference(data_dir):
    runs = run_sweep(data_dir, "num_filters", [16, 8], models=("unet",))
    table = summary(runs)
    at16, at8 = table.iloc[0], table.iloc[1]
    assert at16.seed_report == SEED_REPORT["num_filters"]["unet"][16]
    assert at16["diff"] == pytest.approx(at16["mean"] - 55.0)
    assert math.isnan(at8.seed_report) and math.isnan(at8["diff"])


def test_architecture_table_and_figures(data_dir):
    runs = sweep(FAST, None, [None], ["cnn", "unet", "convtranspose", "resnet"], [0],
                 per_model={"resnet": {"epochs": 2}}, data=str(data_dir), verbose=False)
    table = experiments.architecture_table(runs)
    assert list(table.model) == ["cnn", "unet", "convtranspose", "resnet"]
    assert list(table.epochs) == [1, 1, 1, 2] and (table.parameters > 0).all()
    assert table.set_index("model").seed_report["resnet"] == 70.5
    assert len(experiments.steps(table)) == 3
    steps = experiments.steps(table)
    assert set(steps.verdict) <= {"clear", "within seed noise", "one seed: spread unknown"}
    plots.accuracy_curves(runs)
    named = dict(zip(runs.model, runs.path))
    rows = gallery.sample_rows(named, n=3)   # from the pictures the runs stored: no data, no weights
    assert list(rows)[:3] == ["grey input", "truth", "truth in the palette's colours"] and list(rows)[3:] == list(runs.model)
    assert all(r.shape == (3, 3, 32, 32) and 0 <= r.min() and r.max() <= 1 for r in rows.values())
    assert len(plots.samples(rows).axes) == (3 + 4) * 3
    live = gallery.sample_rows(named, images=load_category("horse", str(data_dir)).test[:3])   # the weights, now
    assert all(torch.allclose(rows[k], live[k], atol=1 / 255) for k in list(rows)[:3])
    assert all((rows[m] - live[m]).abs().amax(1).le(1 / 255).float().mean() > 0.95 for m in runs.model)


def test_architecture_table_marks_the_single_best_model(data_dir):
    table = experiments.architecture_table(run_sweep(data_dir, field=None, values=[None]))
    assert table.best.sum() == 1
    assert table.loc[table.best, "mean"].item() == table["mean"].max()


def test_two_local_workers_train_what_one_process_on_their_share_of_threads_trains(data_dir, tmp_path):
    share = max(1, speed.usable_cores() // 2)
    pooled = sweep(FAST, "num_filters", [4, 8], ["cnn", "resnet"], [0], data=str(data_dir),
                   store=tmp_path / "pool", verbose=False, workers=2)
    assert list(zip(pooled.model, pooled.value)) == [("cnn", 4), ("cnn", 8), ("resnet", 4), ("resnet", 8)]
    for r in pooled.itertuples():
        alone = train_module.train(train_module.Config(**{**FAST, "model": r.model, "num_filters": r.value}),
                                   data=str(data_dir), runs_dir=tmp_path / "alone", verbose=False, threads=share)
        assert numbers(train_module.load_run(r.path).history) == numbers(alone.history)
        assert train_module.load_run(r.path).info["threads"] == share


def test_a_failing_run_names_its_configuration(data_dir, monkeypatch):
    def broken(*args, **kwargs):
        raise MemoryError("out of memory")
    monkeypatch.setattr(train_module, "_train", broken)
    with pytest.raises(RuntimeError, match=r"run unet nf=8 seed 0 failed: MemoryError: out of memory"):
        run_sweep(data_dir, values=(8,), models=("unet",))


def test_colour_metrics_per_architecture_and_what_rebalancing_changes(data_dir):
    runs = run_sweep(data_dir, "rebalance", [False, True], seeds=(0, 1))
    table = experiments.metric_table(runs)
    assert len(table) == 4 and (table.runs == 2).all()
    assert table.pixel_acc.tolist() == pytest.approx(
        runs.groupby(["model", "value"], sort=False).val_acc.mean().tolist())   # the same network, the same split
    effect = experiments.rebalancing_effect(table)
    assert len(effect) == 2 * 6 and set(effect.model) == {"cnn", "unet"}
    row = effect[(effect.model == "cnn") & (effect.metric == "balanced_acc")].iloc[0]
    assert row.change == pytest.approx(row.rebalanced - row.plain)


def test_each_run_records_its_metrics_under_every_decoding_as_its_stored_weights_give_them(data_dir):
    from cnnreport.science.data import prepare
    from cnnreport.science.metrics import quality
    from cnnreport.training.store import resolve_store
    from cnnreport.training.speed import mixed_precision, on_device
    runs = run_sweep(data_dir, values=(8,), models=("unet",))
    table = experiments.decodings(runs.path)
    assert list(table.decoding) == ["argmax", "mean", "annealed"]
    run = train_module.load_run(runs.path[0])
    t = prepare("horse", str(data_dir), run.config.num_colours, resolve_store() / "palettes")
    p, cpu, n = run.info["precision"], torch.device("cpu"), run.config.test_images
    for row in table.itertuples():   # the weights, measured again now, give the recorded numbers
        again, _ = quality(run.model(), on_device(t["x_test"][:n], cpu, p), t["y_test"][:n], t["rgb_test"][:n],
                           run.palette, mixed_precision(p, cpu), row.decoding)
        assert again == pytest.approx({m: getattr(row, m) for m in again}, abs=0.05)
