"""The paper's committed run records (reports/paper/runs): each is valid and filed under its own
identity, together they are exactly the paper profile's runs, each sweep's runs come from one kind
of machine and one data set, their numbers are those they were committed with (tests/data/paper-numbers.json,
by run folder, kept through every change of record form; `make paper-runs` adds those of new runs),
each carries its digest, and the code on main retrains them bit for bit."""
import json
import math
import re
import shutil
import subprocess
from dataclasses import asdict, replace
from pathlib import Path

import pytest
import torch

from cnnreport.analysis import measurements
from cnnreport.analysis.sweeps import profile_configs, profile_notebook_configs, sweep_args, sweep_configs
from cnnreport.params import committed_store, load_params, profile_settings, swept
from cnnreport.report.build import PAPER_RUNS
from cnnreport.training.executor import lookup
from cnnreport.training.speed import cpu_name, precision
from cnnreport.training.store import identity, number_digests, records, run_path, verify
from cnnreport.training.train import load_run, train

from conftest import numbers

RECORDS = records(PAPER_RUNS)
JPEG = load_params("09_jpeg_copy", "paper")["arms"]   # runs on the originals and their twins
JPEG_CONFIGS = sweep_configs(**sweep_args(load_params("09_jpeg_copy", "paper")))
NUMBERS = json.loads((Path(__file__).parent / "data" / "paper-numbers.json").read_text())


def test_every_committed_record_is_a_finished_paper_run_under_its_own_identity():
    wanted = profile_configs("paper", pending=True)   # runs of notebooks still arriving are paper runs too
    assert RECORDS, f"no records in {PAPER_RUNS}"
    for path in RECORDS:
        run = load_run(path)                      # checksums verified; ValueError if damaged
        on_pairs = run.config in JPEG_CONFIGS and run.data["fingerprint"] in (JPEG["originals"], JPEG["twins"])
        assert run.config in wanted or on_pairs, f"{path.name} is not a configuration of params/paper"
        ident = identity(run.config, run.info["precision"], run.data["fingerprint"], run.palette.tolist())
        assert run_path(PAPER_RUNS, ident) == path, f"{path.name} is filed under another identity"
        assert "/" not in json.dumps(run.data) and "data_source" not in run.info, "no path of the training machine"


def test_the_committed_records_cover_the_paper_profile():
    found = lookup(profile_configs("paper"), committed_store("paper"))   # without data: the report's own lookup
    missing = [c for c, run in zip(profile_configs("paper"), found) if run is None]
    assert not missing, f"{len(missing)} paper runs have no record, e.g. {missing[0]}"


@pytest.mark.skipif("09_jpeg_copy" in profile_settings("paper")["pending"], reason="09_jpeg_copy's runs are still arriving")
def test_the_jpeg_copy_measurements_are_complete_and_of_one_machine():
    store = committed_store("paper")
    arms = {arm: lookup(JPEG_CONFIGS, replace(store, data=JPEG[arm])) for arm in ("originals", "twins")}
    first = lookup([c for c in profile_notebook_configs("paper")["07_architectures"] if c.seed == 0], store)
    every = [run for runs in arms.values() for run in runs] + first
    assert all(run is not None for run in every), "a run of 09_jpeg_copy has no record"
    assert all({JPEG["originals"], JPEG["twins"]} <= set(run.evaluations()["test_sets"]) for run in every), \
        "every run is measured on both versions of the test images"
    assert len({(r.info["device"], r.info["cpu"], r.info["precision"]) for r in every}) == 1
    assert {"median_delta_e", "labels_changed_one_palette"} <= set(measurements.palette_effect())


@pytest.mark.parametrize("notebook", list(profile_notebook_configs("paper")))   # those complete (not pending)
def test_each_sweep_compares_runs_of_one_machine_and_data(notebook):
    found = lookup(profile_notebook_configs("paper")[notebook], committed_store("paper"))
    swept_precision = swept(load_params(notebook, "paper")) == "amp"
    kinds = {(r.info["device"], r.info["cpu"], r.data["fingerprint"]) + (() if swept_precision else (r.info["precision"],))
             for r in found}
    assert len(kinds) == 1, f"{notebook} compares runs from more than one kind of machine, data or precision: {kinds}"


def test_the_records_hold_the_numbers_they_were_committed_with_and_their_digest():
    assert {path.name for path in RECORDS} == set(NUMBERS), "every committed record has its numbers, and no more"
    for path in RECORDS:
        assert number_digests(path) == NUMBERS[path.name], f"{path.name}: numbers changed since they were committed"
        verify(path, committed=True)   # its digest, its checksums, its config.json


@pytest.mark.slow
def test_a_committed_run_retrains_bit_identically_on_a_matching_machine(shared_horses, tmp_path):
    stored = {p: json.loads((p / "config.json").read_text())["config"] for p in RECORDS}
    cheapest = min(RECORDS, key=lambda p: (stored[p]["model"] != "cnn", stored[p]["num_filters"]))
    run = load_run(cheapest)
    if run.info["device"] != "cpu" or run.info["cpu"] != cpu_name() or precision(run.config, torch.device("cpu")) != run.info["precision"]:
        pytest.skip(f"{cheapest.name} was trained on {run.info['cpu']} ({run.info['device']}, {run.info['precision']})")
    first = train(replace(run.config, epochs=2), data=str(shared_horses), runs_dir=tmp_path, verbose=False,
                  threads=run.info["threads"])
    assert first.data["fingerprint"] == run.data["fingerprint"], "not the data the records were trained on"
    assert numbers(first.history) == numbers(run.history[:2])
    assert asdict(first.config) == dict(asdict(run.config), epochs=2)


# What only developers understand: module and test paths, code identifiers, profile jargon, the
# networks' code names, and the old name of the original report (reproducing commands belong in
# the appendix's last part, which the body check stops before).
DEVELOPER_ONLY = [r"cnnreport\.", r"numel", r"tests/", r"count_formula", r"ORIGINAL\[", r"SEED_REPORT", r"\bex\.",
                  r"notebook \d", r"smoke", r"Set the parameter", r"paper profile", r"data's README", r"seed report",
                  r"\bcnn\b", r"\bunet\b", r"convtranspose", r"\bresnet\b", r"ResBlock", r"Residual U-Net"]


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs pdftotext (Debian: poppler-utils)")
def test_the_committed_paper_report_shows_no_developer_only_text_and_no_machine_path():
    text = subprocess.run(["pdftotext", "-layout", str(PAPER_RUNS.parent / "report.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    body = text[:text.rindex("Reproducing this report")]   # the appendix of reproducing commands, and what follows it
    found = {p: re.findall(rf".{{0,40}}{p}.{{0,40}}", body) for p in DEVELOPER_ONLY}
    assert not {p: hits for p, hits in found.items() if hits}
    assert not re.findall(r"(?:^|[\s(])/(?:home|work|tmp|root|opt|var|usr|mnt|Users)/\S*", text, re.M)


def test_no_panel_of_a_figure_of_curves_or_sweeps_is_flattened_by_its_axis(monkeypatch):
    """In every loss-curve figure of the paper report and in the sweeps' figure, each panel's data span
    at least a third of its y axis (on the log axes, a third of its decades): no axis shared with a
    panel of much larger numbers flattens it."""
    from cnnreport.analysis.sweeps import profile_sweeps
    from cnnreport.report import plots
    monkeypatch.delenv("CNNREPORT_RUNS")   # the committed runs
    sweeps = profile_sweeps("paper", verbose=False)
    figures = [plots.loss_curves(grid) for grid in sweeps.values()]
    figures.append(plots.sweeps_plot({what: sweeps[nb] for what, nb in (("NF", "04_num_filters"),
                                      ("learning rate", "05_learning_rate"), ("kernel size", "06_kernel_size"))}))
    for fig in figures:
        for ax in fig.axes:
            ys = [y for line in ax.get_lines() for y in line.get_ydata() if math.isfinite(y)]
            if len(ys) < 2:
                continue
            log = ax.get_yscale() == "log"
            scale = (lambda v: math.log10(v)) if log else (lambda v: v)
            low, high = map(scale, ax.get_ylim())
            assert scale(max(ys)) - scale(min(ys)) >= (high - low) / 3, ax.get_title()


def body_pages(pdf):
    """[(page number, [(font size in pt, word)])] of a report PDF's main body: from the page with the
    Abstract heading (after the contents) to the page before the References heading; a word's size is
    its box height / 1.164, DejaVu's ascent plus descent (the report's fonts)."""
    xml = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = []
    for n, page in enumerate(re.findall(r"<page[^>]*>(.*?)</page>", xml, re.S), 1):
        pages.append((n, [((float(b) - float(a)) / 1.164, w) for a, b, w in
                          re.findall(r'<word xMin="[^"]+" yMin="([^"]+)" xMax="[^"]+" yMax="([^"]+)">(.*?)</word>', page)]))
    first = next(n for n, words in pages if n > 1 and words and words[0][1] == "Abstract")
    last = next(n for n, words in pages if n > first and words and words[0][1] == "References") - 1
    return pages[first - 1:last]


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs pdftotext (Debian: poppler-utils)")
def test_the_committed_paper_reads_in_twenty_minutes():
    """A main body of at most 14 pages set at a median of at least 10 pt, at most 2 % of its words
    below 7.5 pt; an abstract of at most 200 words; no software as author, no build information, and
    no sentence that does not apply (one seed per value, where every setting has several)."""
    body = body_pages(PAPER_RUNS.parent / "report.pdf")
    sizes = sorted(size for _, words in body for size, _ in words)
    assert len(body) <= 14 and sizes[len(sizes) // 2] >= 10
    assert sum(size < 7.5 for size in sizes) <= 0.02 * len(sizes)
    text = " ".join(w for _, words in body for _, w in words)
    abstract = text[len("Abstract "):text.index(" Setup ")]
    assert len(abstract.split()) <= 200
    assert not [s for s in ("one seed per value", "The cnnreport project", "Build information") if s in text]
