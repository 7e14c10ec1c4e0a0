import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import nbformat
import pandas as pd
import pytest

from cnnreport import contents
from cnnreport.analysis.sweeps import profile_configs
from cnnreport.params import profile_settings
from cnnreport.report.build import PAPER_RUNS, ROOT


def shown(profile):
    """The notebooks a build of `profile` executes: those whose runs are not still arriving."""
    return [stem for stem in contents.notebooks() if stem not in profile_settings(profile)["pending"]]


def report_sources(profile, cell_type):
    """The sources of the `cell_type` cells a build of `profile` shows (remove-cell: the notebook's only)."""
    return [c.source for stem in shown(profile) for c in nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4).cells
            if c.cell_type == cell_type and "remove-cell" not in c.metadata.get("tags", [])]


def section_titles():
    """Every notebook's title (its first '# ' heading) and its '## ' headings, in a smoke build."""
    titles = [t.strip() for text in report_sources("smoke", "markdown") for t in re.findall(r"^#{1,2}\s+(.+)$", text, re.M)]
    return titles + ["Contents", "Sources and provenance", "Provenance"]


def plain(text):
    """Markdown or PDF text reduced to words, so line breaks and code marks do not matter."""
    return " ".join(re.sub(r"[`*$\\]|<[^>]+>", " ", text).split())


@pytest.mark.slow
def test_smoke_report_has_every_section(shared_horses, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNREPORT_DATA", str(shared_horses))
    monkeypatch.setenv("CNNREPORT_RUNS", str(tmp_path / "runs"))   # empty: every run trains, and the build says so first
    out = tmp_path / "report"
    done = subprocess.run([sys.executable, "-m", "cnnreport.report", "--profile", "smoke", "--out", str(out)],
                          capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    n = len(profile_configs("smoke"))
    assert done.stdout.startswith(f"{n} of {n} runs of the smoke profile are not in {tmp_path / 'runs'}; the notebooks will train")
    html, pdf = out / "report.html", out / "report.pdf"
    assert html.stat().st_size > 10_000 and pdf.stat().st_size > 10_000
    assert all((out / f"{stem}.ipynb").exists() for stem in shown("smoke"))
    page = html.read_text()
    loader = re.search(r'<script[^>]*(src="[^"]*MathJax|x-mathjax-config)', page)   # not its typeset math/tex sources
    assert "MathJax_SVG" in page and not loader, "maths typeset, MathJax itself gone"
    assert "data:image/png;base64" in page
    pages = [int(n) for n in re.findall(r'class="toc-page"[^>]*>(\d+)<', page)]   # the contents, read back from the PDF
    assert len(pages) == len(re.findall(r'class="toc-page"', page)) > 10 and pages == sorted(pages) and pages[0] > 1
    inline = re.sub(r"</?span[^>]*>", "", page)   # spans sit inside words and before commas ("<span>U-Net</span>,")
    body = plain(re.sub(r"<[^>]+>", " ", inline.replace("&amp;", "&")))
    titles = [plain(t) for t in section_titles()]
    assert [t for t in titles if t not in body] == []
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed: PDF text not checked")
    text = plain(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout)
    assert [t for t in titles if t not in text] == []


def labels(kind, profile, page):
    """The figure or table labels of a built `page` that the notebooks of `profile` declare: literally
    (`"fig:name"` in a call to present), or as an f-string (f"tab:runs-{notebook}", each then shown at
    least once); AssertionError where the page holds a label no notebook declares, or lacks one."""
    sources = report_sources(profile, "code")
    literal = {m for source in sources for m in re.findall(rf'(?<!f)"({kind}:[\w-]+)"', source)}
    patterns = {m for source in sources for m in re.findall(rf'f"({kind}:[\w-]*)\{{', source)}
    shown = set(re.findall(rf'data-label="({kind}:[\w-]+)"', page))
    assert literal <= shown, f"not shown: {literal - shown}"
    assert all(any(label.startswith(p) for label in shown) for p in patterns), f"none shown of {patterns}"
    assert all(label in literal or any(label.startswith(p) for p in patterns) for label in shown)
    return shown


@pytest.mark.slow
def test_the_paper_report_renders_from_the_committed_runs_without_data_or_network(tmp_path):
    """No data (CNNREPORT_DATA names a folder that does not exist, so reading any image would fail), no
    network (every connection goes to a closed port), and a CPU of whatever precision: every figure and
    table is there, and nothing trains or changes in the committed store."""
    before = sorted(str(p.relative_to(PAPER_RUNS)) for p in PAPER_RUNS.rglob("*"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CNNREPORT_")}
    env.update(CNNREPORT_DATA=str(tmp_path / "no-such-data"), http_proxy="http://127.0.0.1:9",
               https_proxy="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9")
    out = tmp_path / "report"
    done = subprocess.run([sys.executable, "-m", "cnnreport.report", "--profile", "paper", "--out", str(out), "--no-pdf"],
                          capture_output=True, text=True, timeout=1200, env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    n, pending = len(profile_configs("paper")), profile_settings("paper")["pending"]
    first = [f"left out, their runs still arriving: {', '.join(pending)}"] if pending else []
    assert done.stdout.splitlines()[:len(first) + 1] == first + [
        f"all {n} runs of the paper profile are in {PAPER_RUNS}: nothing trains"]
    assert "is not the data of the committed results" in done.stdout   # said in one line, and nothing else changes
    page = (out / "report.html").read_text()
    assert labels("fig", "paper", page) and labels("tab", "paper", page)   # every figure and table, and only those
    assert "Trained on CIFAR-10 horses, JPEG re-encoded copy." in page and "/work/" not in page
    assert sorted(str(p.relative_to(PAPER_RUNS)) for p in PAPER_RUNS.rglob("*")) == before


def descendants(pid):
    import psutil
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


@pytest.mark.slow
def test_sigterm_stops_the_build_and_every_process_it_started(shared_horses, tmp_path):
    """While a sweep trains in the notebooks' kernel (in local workers), SIGTERM to the report process
    leaves no process of it within 60 s, and the run cut off is not taken for a finished one."""
    import psutil
    env = dict(os.environ, CNNREPORT_DATA=str(shared_horses), CNNREPORT_RUNS=str(tmp_path / "runs"), CNNREPORT_WORKERS="2")
    build = subprocess.Popen([sys.executable, "-m", "cnnreport.report", "--profile", "quick", "--out", str(tmp_path / "out"),
                              "--no-pdf"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 600
    while not list((tmp_path / "runs").glob("*/checkpoint.pt")) and time.monotonic() < deadline:
        time.sleep(0.5)
    started = descendants(build.pid)
    assert list((tmp_path / "runs").glob("*/checkpoint.pt")) and len(started) >= 3, "no run was caught training"
    sent = time.monotonic()
    build.send_signal(signal.SIGTERM)
    while time.monotonic() < sent + 60 and (build.poll() is None or any(p.is_running() for p in started)):
        time.sleep(0.2)
    alive = [p for p in started if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert build.poll() == 130 and not alive, f"still running after {time.monotonic() - sent:.0f} s: {alive}"
    print(f"stopped {len(started) + 1} processes in {time.monotonic() - sent:.1f} s")
    cut = [p.parent for p in (tmp_path / "runs").glob("*/checkpoint.pt")]
    assert cut and not any((path / "result.json").exists() for path in cut)


def one_notebook(root, code):
    """notebooks/02_theory.ipynb under `root`: a parameters cell, then one code cell."""
    nb_dir = root / "notebooks"
    nb_dir.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# A section\n\nSome words."),
                                         nbformat.v4.new_code_cell("profile = 'x'", metadata={"tags": ["parameters"]}),
                                         nbformat.v4.new_code_cell(code)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, nb_dir / "02_theory.ipynb")
    (nb_dir / "contents.yaml").write_text("body: [02_theory]\n")


def test_a_build_leaves_the_environment_as_it_found_it_and_reassembles_without_executing(tmp_path, monkeypatch):
    from cnnreport.report import build as report
    one_notebook(tmp_path, "print(6 * 7)")
    monkeypatch.setattr(report, "ROOT", tmp_path)
    before = dict(os.environ)
    out = report.build("smoke", tmp_path / "out", pdf=False, log=lambda *a, **k: None)
    assert dict(os.environ) == before, "the kernels' variables leaked into this process"
    assert "42" in (out / "02_theory.ipynb").read_text()
    (out / "02_theory.ipynb").write_text((out / "02_theory.ipynb").read_text().replace("Some words.", "Other words."))
    monkeypatch.setattr(report, "execute", lambda *a, **k: pytest.fail("--no-execute executed a notebook"))
    report.build("smoke", out, pdf=False, execute_notebooks=False, log=lambda *a, **k: None)   # --no-execute
    page = (out / "report.html").read_text()
    assert "Other words." in page and "42" in page   # the notebooks executed last time, as they are now


def test_a_failing_notebook_stops_the_build_showing_the_cell(tmp_path, monkeypatch):
    from cnnreport.report import build as report
    nb_dir = tmp_path / "notebooks"
    nb_dir.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("profile = 'x'", metadata={"tags": ["parameters"]}),
                                         nbformat.v4.new_code_cell("assert 1 + 1 == 3, 'arithmetic broke'")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, nb_dir / "02_theory.ipynb")
    (nb_dir / "contents.yaml").write_text("body: [02_theory]\n")
    monkeypatch.setattr(report, "ROOT", tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "02_theory.ipynb").write_text("earlier good result")
    with pytest.raises(report.NotebookFailed, match="arithmetic broke") as e:
        report.build("smoke", out, pdf=False, log=lambda *a, **k: None)
    assert "assert 1 + 1 == 3" in str(e.value)
    assert (out / "02_theory.failed.ipynb").exists()
    assert (out / "02_theory.ipynb").read_text() == "earlier good result"


def report_sections():
    """Two notebooks as combine() sees them: a figure and a table, and markdown referring to them."""
    from matplotlib.figure import Figure

    from cnnreport.report import present
    fig = Figure()
    fig.subplots().plot([1, 2])
    shown = [present.figure(fig, "fig:curve", "A curve.", runs=()),
             present.table(pd.DataFrame(dict(a=[1])), "tab:one", "One.", runs=())]
    outputs = [nbformat.v4.new_output("display_data", data={"text/html": s.html, "text/plain": repr(s)}) for s in shown]
    first = [nbformat.v4.new_markdown_cell("See @tab:one."), nbformat.v4.new_code_cell("", outputs=outputs[1:])]
    second = [nbformat.v4.new_code_cell("", outputs=outputs[:1]),
              nbformat.v4.new_markdown_cell("As @fig:curve shows, and @tab:one said.")]
    return [("01_one", first), ("02_two", second)]


def test_figures_and_tables_are_numbered_across_the_report_and_references_resolved():
    from cnnreport.report.html import number_figures
    sections = report_sections()
    number_figures(sections)
    (_, first), (_, second) = sections
    assert first[0].source == "See [Table 1](#tab-one)."
    assert second[1].source == "As [Figure 1](#fig-curve) shows, and [Table 1](#tab-one) said."
    assert 'Figure <span class="report-number">1</span>' in second[0].outputs[0].data["text/html"]


def test_a_reference_to_no_figure_stops_the_build_naming_the_notebook():
    from cnnreport.report.html import NotebookFailed, number_figures
    sections = report_sections()
    sections[1][1][1].source = "See @fig:nothing."
    with pytest.raises(NotebookFailed, match="02_two refers to @fig:nothing"):
        number_figures(sections)


def test_every_figure_and_table_leads_back_to_its_cell_notebook_and_runs(tmp_path):
    """Its Source, under the caption: the runs (count, settings, keys), the notebook's title and file
    and the cell's code; the appendix's table maps its number to the same, by count and settings."""
    from html import escape

    from matplotlib.figure import Figure

    from cnnreport.contents import Section
    from cnnreport.report import html, present

    from conftest import fake_sweep
    grid = fake_sweep("num_filters", [("cnn", nf, s, "finished", 40.0, 41.0) for nf in (16, 32) for s in (0, 1)])
    fig = Figure()
    fig.subplots().plot([1, 2])
    code = 'present.figure(fig, "fig:made", "Made.", runs=grid)'
    shown = present.figure(fig, "fig:made", "Made.", runs=grid)
    out = nbformat.v4.new_output("display_data", data={"text/html": shown.html, "text/plain": repr(shown)})
    cells = [nbformat.v4.new_markdown_cell("# Width\n\nSee @fig:made."), nbformat.v4.new_code_cell(code, outputs=[out])]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), tmp_path / "nf.ipynb")
    nb = html.combine([("nf", tmp_path / "nf.ipynb")], [Section("nf")], "smoke", [])
    page = "\n".join(c.source if c.cell_type == "markdown" else c.outputs[0].data["text/html"] for c in nb.cells)
    source = re.search(r'<details class="report-source">(.*?)</details>', page, re.S).group(1)
    assert "4 runs: network CNN; NF 16, 32; seed 0, 1; bf16; data fake: <code>run0 run1 run2 run3</code>" in source
    assert "Made in <em>Width</em> (nf.ipynb) by the cell" in source and escape(code) in source
    sources = next(c.source for c in nb.cells if c.cell_type == "markdown" and 'id="sources"' in c.source)
    assert ('<td>Figure&nbsp;1</td><td class="report-prose">Width</td><td>nf.ipynb</td>'
            '<td class="report-prose">4 runs: network CNN; NF 16, 32') in sources
    assert "run0" not in sources and str(tmp_path) not in page


def test_a_rebuild_executes_only_what_changed_and_says_why(tmp_path, monkeypatch, data_dir):
    """Prose edited: nothing executes, the new words appear; code edited: that notebook; a record it
    read replaced by another valid one: that notebook; --force: all."""
    from cnnreport.report import build as report
    from cnnreport.training.train import Config, train

    from conftest import FAST
    run = train(Config(model="cnn", epochs=1, **FAST), data=str(data_dir), runs_dir=tmp_path / "runs", verbose=False)
    one_notebook(tmp_path, f"from cnnreport.training.record import load_run\nprint(load_run({str(run.path)!r}).status)")
    monkeypatch.setattr(report, "ROOT", tmp_path)
    source = tmp_path / "notebooks" / "02_theory.ipynb"

    def rebuild(**kwargs):
        lines = []
        report.build("smoke", tmp_path / "out", pdf=False, log=lambda *a, **k: lines.append(a[0]), **kwargs)
        return [line for line in lines if "02_theory" in line][0]
    assert rebuild().endswith("executing, no executed copy ...")
    assert rebuild().endswith("reused, nothing it depends on changed")
    nb = nbformat.read(source, as_version=4)
    nb.cells[0].source = "# A section\n\nOther words."
    nbformat.write(nb, source)
    assert rebuild().endswith("reused, nothing it depends on changed")
    assert "Other words." in (tmp_path / "out" / "report.html").read_text()
    result = json.loads((run.path / "result.json").read_text())
    del result["digest"]   # another valid record of the same run, as before records had a digest
    (run.path / "result.json").write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    assert rebuild().endswith(f"executing, the record of a run it read changed ({run.path.name}) ...")
    nb.cells[2].source = nb.cells[2].source.replace(".status", ".config.seed")
    nbformat.write(nb, source)
    assert rebuild().endswith("executing, its code cells changed ...")
    assert rebuild(force=True).endswith("executing, --force ...")
