"""The report's tables and figures read as a paper's: display names, no empty columns, numbered captions."""
import math
import re

import pandas as pd

from cnnreport.analysis import claims
from cnnreport.report import plots, present, tables
from cnnreport.report.names import MODELS

from conftest import fake_sweep


def cells(captioned):
    """A table's header and rows as text, as a reader sees them."""
    text = lambda s: re.sub(r"<[^>]+>", "", s).replace("\u00a0", " ")
    head = [text(h) for h in re.findall(r"<th[^>]*>(.*?)</th>", captioned.html)]
    rows = [[text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", r)] for r in re.findall(r"<tr>(.*?)</tr>", captioned.html)]
    return head, [r for r in rows if r]


def lr_summary(original):
    against = [None if math.isnan(original[0]) else claims.against_single(45.25, 0.4, 3, original[0]), None]
    table = pd.DataFrame(dict(model=["cnn", "cnn"], value=[0.001, 1e30], acc=["45.3 ± 0.4", "diverged"],
                              best=[True, False], original=original, diff=[45.25 - original[0], math.nan],
                              interval=against, verdict=[a and a.verdict for a in against], seconds=[12.118, 3.9]))
    return tables.summary_table(table, "lr", "tab:lr", "Accuracy by learning rate.", runs=())


def test_sweep_tables_read_like_a_paper():
    head, rows = cells(lr_summary([44.0, math.nan]))
    assert head == ["network", "learning rate", "val acc (%)", "original report (%)", "ours − original (points)",
                    "95 % interval", "verdict", "time per run (s)"]
    assert rows == [["CNN", "0.001", "45.3 ± 0.4 ★", "44.0", "+1.2", "[-0.7, 3.2]", "within noise", "12"],
                    ["CNN", "1e+30", "diverged", "–", "–", "–", "–", "4"]]


def test_a_column_the_original_report_gave_no_number_for_is_left_out():
    head, _ = cells(lr_summary([math.nan, math.nan]))
    assert not {"original report (%)", "ours − original (points)", "95 % interval", "verdict"} & set(head)


def test_runs_table_shows_seed_and_status_only_where_they_differ():
    grid = fake_sweep("kernel", [("unet", 3, 0, "finished", 50.0, 50.5), ("unet", 5, 0, "finished", 51.0, 51.0)])
    head, rows = cells(tables.runs_table(grid, "tab:runs", "Runs."))
    assert head[:2] == ["network", "kernel size"] and not {"seed", "status", "epochs"} & set(head)
    assert rows[1][:4] == ["U-Net", "5", "51.0", "51.0"]


def test_captions_are_numbered_in_order_and_keep_their_number():
    first = present.table(pd.DataFrame(dict(a=[1])), "tab:first-test", "One.", runs=())
    second = present.table(pd.DataFrame(dict(a=[1])), "tab:second-test", "Two.", runs=())
    again = present.table(pd.DataFrame(dict(a=[2])), "tab:first-test", "One, shown again.", runs=())
    n = int(re.search(r"Table (\d+)", repr(first)).group(1))
    assert repr(second).startswith(f"Table {n + 1}:") and repr(again).startswith(f"Table {n}:")
    assert 'data-label="tab:first-test"' in first.html and "<figcaption>" in first.html


def test_settings_show_every_parameter_readably():
    shown = present.settings(dict(lr=0.0001, values=[0.01, 1e30], train_images=0, models=["cnn", "unet"]), "smoke")
    text = re.sub(r"<[^>]+>", " ", shown.html)
    for words in ("learning rate", "0.0001", "0.01, 1e+30", "training images", "all", "cnn, unet", "smoke"):
        assert words in text


def test_tables_and_legends_take_network_names_from_the_one_map(monkeypatch):
    """Rename a network in report.names: every table, legend and tick label follows."""
    monkeypatch.setitem(MODELS, "unet", "Skip-Net")
    grid = fake_sweep("num_filters", [("unet", nf, s, "finished", 50.0 + nf / 10 + s, 51.0) for nf in (8, 16) for s in (0, 1)])
    _, rows = cells(tables.runs_table(grid, "tab:names-runs", "Runs."))
    assert {r[0] for r in rows} == {"Skip-Net"}
    from cnnreport.analysis.stats import summary
    _, rows = cells(tables.summary_table(summary(grid), "num_filters", "tab:names-summary", "Summary.", runs=grid))
    assert {r[0] for r in rows} == {"Skip-Net"}
    legend = [t.get_text() for t in plots.sweep_plot(grid).axes[0].get_legend().get_texts()]
    assert {"Skip-Net (ours)", "Skip-Net (original report)"} <= set(legend)
    panels = [ax.get_title() for ax in plots.loss_curves(grid, label="{model}, NF {value}").axes]
    assert panels == ["Skip-Net, NF 8", "Skip-Net, NF 16"]
    assert plots.loss_caption(grid, "NF").startswith("The Skip-Net's cross-entropy per pixel per epoch, one panel per NF")
    quality = pd.DataFrame([dict(model="unet", value=False, runs=2, **{m: 50.0 for m in tables.QUALITY},
                                 **{f"{m}_std": 0.1 for m in tables.QUALITY})])
    _, rows = cells(tables.quality_table(quality, "tab:names-quality", "Quality.", runs=()))
    assert rows[0][0] == "Skip-Net"
