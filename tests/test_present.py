import math
import re

import pandas as pd

from cnnreport.report import present


def cells(captioned):
    """A table's header and rows as text, as a reader sees them."""
    text = lambda s: re.sub(r"<[^>]+>", "", s).replace("\u00a0", " ")
    head = [text(h) for h in re.findall(r"<th[^>]*>(.*?)</th>", captioned.html)]
    rows = [[text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", r)] for r in re.findall(r"<tr>(.*?)</tr>", captioned.html)]
    return head, [r for r in rows if r]


def lr_summary(seed_report):
    table = pd.DataFrame(dict(model=["cnn", "cnn"], value=[0.001, 1e30], acc=["45.3 ± 0.4", "diverged"],
                              best=[True, False], seed_report=seed_report, diff=[45.25 - seed_report[0], math.nan],
                              seconds=[12.118, 3.9]))
    table.attrs["field"] = "lr"
    return present.summary_table(table, "tab:lr", "Accuracy by learning rate.")


def test_sweep_tables_read_like_a_paper():
    head, rows = cells(lr_summary([44.0, math.nan]))
    assert head == ["model", "learning rate", "val acc (%)", "seed report (%)", "ours − seed (points)", "time per run (s)"]
    assert rows == [["cnn", "0.001", "45.3 ± 0.4 ★", "44.0", "+1.2", "12"], ["cnn", "1e+30", "diverged", "–", "–", "4"]]


def test_a_column_the_seed_report_gave_no_number_for_is_left_out():
    head, _ = cells(lr_summary([math.nan, math.nan]))
    assert "seed report (%)" not in head and "ours − seed (points)" not in head


def test_runs_table_shows_seed_and_status_only_where_they_differ():
    runs = pd.DataFrame(dict(model=["unet"] * 2, value=[3, 5], seed=[0, 0], status=["finished"] * 2, epochs=[2, 2],
                             val_acc=[50.0, 51.0], best_val_acc=[50.5, 51.0], train_loss=[1.0, 1.1],
                             val_loss=[1.2, 1.3], seconds=[10.4, 20.6]))
    runs.attrs["field"] = "kernel"
    head, rows = cells(present.runs_table(runs, "tab:runs", "Runs."))
    assert head[:2] == ["model", "kernel size"] and not {"seed", "status", "epochs"} & set(head)
    assert rows[1][-1] == "21"


def test_captions_are_numbered_in_order_and_keep_their_number():
    first = present.table(pd.DataFrame(dict(a=[1])), "tab:first-test", "One.")
    second = present.table(pd.DataFrame(dict(a=[1])), "tab:second-test", "Two.")
    again = present.table(pd.DataFrame(dict(a=[2])), "tab:first-test", "One, shown again.")
    n = int(re.search(r"Table (\d+)", repr(first)).group(1))
    assert repr(second).startswith(f"Table {n + 1}:") and repr(again).startswith(f"Table {n}:")
    assert 'data-label="tab:first-test"' in first.html and "<figcaption>" in first.html


def test_settings_show_every_parameter_readably():
    shown = present.settings(dict(lr=0.0001, values=[0.01, 1e30], train_images=0, models=["cnn", "unet"]), "smoke")
    text = re.sub(r"<[^>]+>", " ", shown.html)
    for words in ("learning rate", "0.0001", "0.01, 1e+30", "train images", "all", "cnn, unet", "smoke"):
        assert words in text
