"""Sweeps and their statistics: a grid of runs trained once, read as a Sweep, summarised over seeds."""
import math

import pytest
import torch

from cnnreport.analysis import stats
from cnnreport.analysis.original import ORIGINAL
from cnnreport.analysis.stats import best_values, summary
from cnnreport.analysis.sweeps import by_model, sweep
from cnnreport.report import gallery, plots, sentences
from cnnreport.science.data import load_category
from cnnreport.training import speed
from cnnreport.training import train as train_module
from cnnreport.training.config import Config
from cnnreport.training.executor import train_all

from conftest import FAST, QUICK, fake_sweep, numbers, run_sweep


def test_one_run_per_model_value_and_seed(data_dir):
    grid = run_sweep(data_dir, seeds=(0, 1))
    runs = grid.table
    assert len(runs) == 2 * 2 * 2 and grid.field == "num_filters"
    assert set(zip(runs.model, runs.value, runs.seed)) == {(m, v, s) for m in ("cnn", "unet") for v in (4, 8) for s in (0, 1)}
    assert (runs.status == "finished").all() and runs.val_acc.between(0, 100).all() and (runs.epochs == 1).all()
    assert len({run.path for run in grid.runs}) == len(runs)
    assert [r.config.seed for r in grid.where(model="unet", value=8).runs] == [0, 1]


def test_a_bad_value_fails_before_any_run_trains(data_dir, monkeypatch):
    monkeypatch.setattr(train_module, "_train", lambda *a, **k: pytest.fail("trained before checking the grid"))
    with pytest.raises(ValueError, match="kernel must be odd"):
        run_sweep(data_dir, "kernel", [3, 4])


def test_a_second_identical_sweep_trains_nothing(data_dir, monkeypatch):
    first = run_sweep(data_dir)
    monkeypatch.setattr(train_module, "_train", lambda *a, **k: pytest.fail("trained twice"))
    again = run_sweep(data_dir)
    assert again.table.equals(first.table)


def test_diverged_runs_show_as_diverged_and_count_in_no_mean(data_dir):
    grid = run_sweep(data_dir, "lr", [0.01, 1e30], models=("cnn",), seeds=(0, 1))
    bad_runs = grid.where(value=1e30).table
    assert (bad_runs.status == "diverged").all() and bad_runs.val_acc.isna().all()
    table = summary(grid)
    bad = table[table.value == 1e30].iloc[0]
    assert bad.acc == "diverged" and bad.runs == 0 and bad.diverged == 2 and math.isnan(bad["mean"])
    good = table[table.value == 0.01].iloc[0]
    assert good.best and not bad.best and good["mean"] == pytest.approx(grid.where(value=0.01).table.val_acc.mean())
    assert best_values(table).iloc[0].best == 0.01
    assert plots.sweep_plot(grid).axes[0].texts[0].get_text() == "CNN diverged"   # drawn on the bottom edge, named
    assert plots.sweep_caption(grid, "learning rate").endswith(", diverged settings as an x on the bottom edge.")
    curves = plots.loss_curves(grid, label="{model}, learning rate {value}")
    assert [ax.get_title() for ax in curves.axes] == ["CNN, learning rate 0.01"]      # a panel for the finished value only
    assert [t.get_text() for t in curves.legends[0].get_texts()] == ["training", "validation"]
    assert plots.loss_caption(grid, "learning rate").endswith("left out: CNN at learning rate 1e+30 (2 of 2 seeds, no panel).")


def test_a_partly_diverged_value_averages_the_finished_seeds_only():
    grid = fake_sweep("lr", [("cnn", 0.01, 0, "finished", 40.0, 41.0), ("cnn", 0.01, 1, "finished", 42.0, 42.0),
                             ("cnn", 0.01, 2, "diverged", math.nan, 10.0)])
    row = summary(grid, original={}).iloc[0]
    assert row.runs == 2 and row.diverged == 1 and row["mean"] == pytest.approx(41.0)
    assert row.acc.endswith("(1 of 3 diverged)")


def test_a_run_that_paints_one_colour_everywhere_reads_collapsed(tmp_path):
    """From its confusion matrix: 90 % or more of the test pixels given one colour (sweeps.COLLAPSED)."""
    from cnnreport.report import tables
    from cnnreport.training.store import matrix_csv
    grid = fake_sweep("lr", [("cnn", 1.0, s, "finished", 7.0, 7.0) for s in range(2)]
                      + [("cnn", 0.001, s, "finished", 41.0, 41.0) for s in range(2)])
    for i, (run, one) in enumerate(zip(grid.runs, (95, 100, 44, 30))):
        run.path = tmp_path / str(i)
        run.path.mkdir()
        (run.path / "confusion.csv").write_text(matrix_csv([[one, 0], [100 - one, 0]] if one > 50 else [[one, 100 - one], [0, 0]]))
    assert grid.table.collapsed.tolist() == [True, True, False, False]
    assert summary(grid).acc.tolist() == ["7.0 ± 0.0 (collapsed)", "41.0 ± 0.0"]
    assert ">collapsed<" in tables.runs_table(grid, "tab:x", "c").html


def test_mean_and_std_over_seeds():
    accs = [40.0, 41.0, 43.0]
    row = summary(fake_sweep("num_filters", [("cnn", 8, s, "finished", a, a) for s, a in enumerate(accs)])).iloc[0]
    assert row.runs == 3 and row["mean"] == pytest.approx(41.333, abs=1e-3) and row["std"] == pytest.approx(1.5275, abs=1e-4)
    assert row.acc == "41.3 ± 1.5"
    single = summary(fake_sweep("num_filters", [("cnn", 8, 0, "finished", 40.0, 40.0)])).iloc[0]
    assert math.isnan(single["std"]) and "±" not in single.acc


def test_the_original_reports_number_and_the_difference():
    table = summary(fake_sweep("num_filters", [("unet", 16, 0, "finished", 50.0, 50.0), ("unet", 8, 0, "finished", 45.0, 45.0)]))
    at16, at8 = table.iloc[0], table.iloc[1]
    assert at16.original == ORIGINAL["num_filters"]["unet"][16] and at16["diff"] == pytest.approx(50.0 - 55.0)
    assert math.isnan(at8.original) and math.isnan(at8["diff"])


def test_architecture_table_and_figures(data_dir, monkeypatch):
    monkeypatch.setitem(ORIGINAL["final"]["resnet"], "epochs", 2)   # the original report's residual network: 2 epochs
    rows = {**by_model(["cnn", "unet", "convtranspose"]), "residual network, 2 epochs": {"model": "resnet", "epochs": 2}}
    grid = sweep(QUICK, None, [None], rows, [0], data=str(data_dir), verbose=False)
    table = stats.architecture_table(grid)
    assert list(table.row) == list(rows) and list(table.model) == ["cnn", "unet", "convtranspose", "resnet"]
    assert list(table.epochs) == [1, 1, 1, 2] and (table.parameters > 0).all()
    compared = table.set_index("row").original   # beside the rows trained as long as the original's runs only
    assert compared["residual network, 2 epochs"] == 70.5 and compared.drop("residual network, 2 epochs").isna().all()
    effects = stats.effects(table)
    assert list(effects.change) == ["learned down/up-sampling, without skips", "skips, with learned down/up-sampling",
                                    "residual blocks"] and set(effects.verdict) == {"one seed: no interval"}
    assert "residual sum 0 → 4" in effects.differs[2] and "; epochs 1 → 2; weights x" in effects.differs[2]   # all that differs
    assert effects.differs[1].startswith("concatenated skip 0 → 2")
    unmeasured = stats.unmeasured(table)   # said under the table, so no reader takes residual blocks' +x for theirs alone
    assert unmeasured == ["learned down/up-sampling, with skips", "skips, with fixed down/up-sampling",
                          "the residual network's channel dropout", "30 epochs instead of 25", "their interaction"]
    assert "measure learned down/up-sampling with skips, skips with fixed" in sentences.unmeasured_sentence(unmeasured)
    legend = [t.get_text() for t in plots.accuracy_curves(grid).axes[0].get_legend().get_texts()]
    assert legend == ["CNN", "U-Net", "U-Net without skips", "residual network, 2 epochs"]   # names from report.names
    rows = gallery.sample_rows(gallery.networks(grid), n=3)   # from the pictures the runs stored: no data, no weights
    assert list(rows) == ["grey input", "truth", "truth in the palette's colours", *legend]
    assert all(r.shape == (3, 3, 32, 32) and 0 <= r.min() and r.max() <= 1 for r in rows.values())
    assert len(plots.samples(rows).axes) == (3 + 4) * 3
    live = gallery.sample_rows(gallery.networks(grid), images=load_category("horse", str(data_dir)).test[:3])
    assert all(torch.allclose(rows[k], live[k], atol=1 / 255) for k in list(rows)[:3])   # the weights, now
    assert all((rows[m] - live[m]).abs().amax(1).le(1 / 255).float().mean() > 0.95 for m in legend)


def test_architecture_table_marks_the_best_model_only_when_it_is_clearly_best():
    one_seed = fake_sweep(None, [("cnn", None, 0, "finished", 40.0, 40.0), ("unet", None, 0, "finished", 55.0, 56.0)])
    assert stats.architecture_table(one_seed).best.tolist() == [False, False]   # one seed: nothing ranked
    two = fake_sweep(None, [("cnn", None, s, "finished", 40.0 + s, 40.0) for s in (0, 1)]
                     + [("unet", None, s, "finished", 55.0 + s, 56.0) for s in (0, 1)])
    assert stats.architecture_table(two).best.tolist() == [False, True]
    close = fake_sweep(None, [("cnn", None, s, "finished", 54.0 + s, 40.0) for s in (0, 1)]
                       + [("unet", None, s, "finished", 55.0 + s, 56.0) for s in (0, 1)])
    assert stats.architecture_table(close).best.tolist() == [False, False]      # within seed noise: no star


def test_two_local_workers_train_what_one_process_on_their_share_of_threads_trains(data_dir, tmp_path):
    share = max(1, speed.usable_cores() // 2)
    pooled = sweep(QUICK, "num_filters", [4, 8], by_model(["cnn", "resnet"]), [0], data=str(data_dir),
                   store=tmp_path / "pool", verbose=False, workers=2)
    assert [(r.config.model, r.config.num_filters) for r in pooled.runs] == [("cnn", 4), ("cnn", 8), ("resnet", 4), ("resnet", 8)]
    for run in pooled.runs:
        alone = train_module.train(run.config, data=str(data_dir), runs_dir=tmp_path / "alone", verbose=False, threads=share)
        assert numbers(run.history) == numbers(alone.history) and run.info["threads"] == share


def test_a_failing_run_names_its_configuration(data_dir, monkeypatch):
    def broken(*args, **kwargs):
        raise MemoryError("out of memory")
    monkeypatch.setattr(train_module, "_train", broken)
    with pytest.raises(RuntimeError, match=r"run unet nf=8 seed 0 failed: MemoryError: out of memory"):
        run_sweep(data_dir, values=(8,), models=("unet",))


def test_colour_metrics_per_architecture_and_what_rebalancing_changes(data_dir):
    grid = run_sweep(data_dir, "rebalance", [False, True], seeds=(0, 1))
    table = stats.metric_table(grid)
    assert len(table) == 4 and (table.runs == 2).all()
    assert table.pixel_acc.tolist() == pytest.approx(
        grid.table.groupby(["model", "value"], sort=False).val_acc.mean().tolist())   # the same network, the same split
    effect = stats.rebalancing_effect(grid)
    assert len(effect) == 2 * 6 and set(effect.model) == {"cnn", "unet"} and (effect.seeds == 2).all()
    row = effect[(effect.model == "cnn") & (effect.metric == "balanced_acc")].iloc[0]
    assert row.change == pytest.approx(row.rebalanced - row.plain)


def test_each_run_records_its_metrics_under_every_decoding_as_its_stored_weights_give_them(data_dir):
    from cnnreport.science.data import prepare
    from cnnreport.science.metrics import quality
    from cnnreport.training.speed import mixed_precision, on_device
    from cnnreport.training.store import resolve_store
    grid = run_sweep(data_dir, values=(8,), models=("unet",))
    table = stats.decodings(grid.runs)
    assert list(table.decoding) == ["argmax", "mean", "annealed"]
    run = grid.runs[0]
    t = prepare("horse", str(data_dir), run.config.num_colours, resolve_store() / "palettes")
    p, cpu, n = run.info["precision"], torch.device("cpu"), run.config.test_images
    for row in table.itertuples():   # the weights, measured again now, give the recorded numbers
        again, _ = quality(run.model(), on_device(t["x_test"][:n], cpu, p), t["y_test"][:n], t["rgb_test"][:n],
                           run.palette, mixed_precision(p, cpu), row.decoding)
        assert again == pytest.approx({m: getattr(row, m) for m in again}, abs=0.05)


def test_an_interrupted_sweep_says_what_is_stored_and_what_resumes_and_counts_the_kept_epochs(data_dir, tmp_path,
                                                                                             monkeypatch):
    from cnnreport.training import executor
    from cnnreport.training.progress import Epochs
    configs = [Config(model="cnn", epochs=3, seed=s, **FAST) for s in (0, 1, 2)]
    train_all(configs[:1], data=str(data_dir), store=tmp_path)
    real, calls = train_module.train_epoch, []

    def dying(*args, **kwargs):   # Ctrl-C in the second epoch of the second run
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)
    with monkeypatch.context() as m, pytest.raises(executor.Interrupted) as e:
        m.setattr(train_module, "train_epoch", dying)
        train_all(configs, data=str(data_dir), store=tmp_path, name=lambda c: f"seed {c.seed}")
    said = ("Interrupted: 1 of 3 runs are finished and stored. At the next run, 1 resumes from its last epoch: "
            "seed 1 (epoch 1 of 3); 1 starts from the beginning.")
    assert str(e.value) == said and e.value._render_traceback_() == [said] and isinstance(e.value, KeyboardInterrupt)
    paths = {i: train_module.locate(c, str(data_dir), tmp_path)[0] for i, c in enumerate(configs) if i}
    assert Epochs(configs, paths, verbose=False).bar.n == 3 + 1 + 0   # the stored run whole, the cut one's kept epoch
    lines = []
    train_all(configs, data=str(data_dir), store=tmp_path, log=lines.append)
    assert lines[0].startswith(f"1 of 3 runs loaded from {tmp_path}; 2 to train (1 resumes from its last epoch) on 1 worker")


def test_the_bar_of_a_pooled_sweep_counts_every_epoch_as_it_is_stored(data_dir, tmp_path, monkeypatch):
    from cnnreport.training import executor
    seen = []

    class Spy(executor.Epochs):
        def update(self, *args):
            super().update(*args)
            seen.append(self.bar.n)
    monkeypatch.setattr(executor, "Epochs", Spy)
    configs = [Config(model="cnn", epochs=3, seed=s, **FAST) for s in (0, 1)]
    train_all(configs, data=str(data_dir), store=tmp_path, workers=2, log=lambda line: None)
    assert seen[-1] == 6 and seen == sorted(seen) and len(set(seen)) > 2   # epoch by epoch, never backwards


def test_committed_runs_load_in_one_line_and_no_bar(data_dir, tmp_path, monkeypatch, capsys):
    from cnnreport.training import executor
    configs = [Config(model="cnn", epochs=1, seed=s, **FAST) for s in (0, 1)]
    train_all(configs, data=str(data_dir), store=tmp_path)
    monkeypatch.setattr(executor, "Epochs", lambda *a, **k: pytest.fail("a bar with nothing to train"))
    lines = []
    train_all(configs, data=str(data_dir), store=tmp_path, log=lines.append)
    assert lines == [f"2 of 2 runs loaded from {tmp_path}"]
