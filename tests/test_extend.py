"""The README's "Adding an experiment", done as it says in a copy of the repository: a batch-size
sweep as one notebook, its params and one line of notebooks/contents.yaml, no change under
cnnreport/; the smoke report then holds its section, table and figure, and the analyses that read
every sweep (the causes table, the appendix) stay right."""
import os
import re
import subprocess
import sys

import nbformat
import pytest

from cnnreport.params import ROOT

NOTEBOOK = [   # (cell type, source, tags): what the guide's example notebook holds
    ("markdown", "# Batch size\n\nThe CNN and the U-Net at several batch sizes, everything else at the original "
                 "report's settings. @tab:bs gives the final accuracy, @fig:bs draws it.", []),
    ("code", "from cnnreport.analysis import stats\nfrom cnnreport.analysis.sweeps import check_sweep, sweep, sweep_args\n"
             "from cnnreport.params import default_profile, load_params, profile_store\n"
             "from cnnreport.report import plots, present, tables", []),
    ("code", "profile = default_profile()", ["parameters"]),
    ("code", 'p = load_params("batch_size", profile)\ngrid = sweep(**sweep_args(p), store=profile_store(profile))',
     ["remove-output"]),
    ("code", 'table = stats.summary(grid)\n'
             'tables.summary_table(table, grid.field, "tab:bs", "Final validation accuracy by batch size.", runs=grid)', []),
    ("code", 'present.figure(plots.sweep_plot(grid), "fig:bs", plots.sweep_caption(grid, "batch size"), runs=grid)', []),
    ("code", "check_sweep(grid, table, p)", []),
]
PARAMS = {   # params/<file>: what the profiles share, then what each sets
    "batch_size.yaml": "# Batch size against accuracy\nmodels: [cnn, unet]\nnum_filters: 32\nkernel: 3\nlr: 0.001\n",
    "paper/batch_size.yaml": "batch_size: [25, 50, 100, 200]\nseeds: [0, 1, 2]\nepochs: 30\n",
    "quick/batch_size.yaml": "batch_size: [50, 100]\nseeds: [0]\nepochs: 3\n",
    "smoke/batch_size.yaml": "batch_size: [25, 50]\nseeds: [0]\nepochs: 1\nnum_filters: 8\ntrain_images: 200\ntest_images: 50\n",
}


def add_family(root):
    """The guide's steps in the checkout at `root`: the notebook, its params, its place in the
    report (after the kernel size) and, until its paper runs are committed, the paper's pending list."""
    nb = nbformat.v4.new_notebook()
    for kind, source, tags in NOTEBOOK:
        cell = nbformat.v4.new_markdown_cell(source) if kind == "markdown" else nbformat.v4.new_code_cell(source)
        cell.metadata["tags"] = tags
        nb.cells.append(cell)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, root / "notebooks" / "batch_size.ipynb")
    for name, text in PARAMS.items():
        (root / "params" / name).write_text(text)
    contents = root / "notebooks" / "contents.yaml"
    contents.write_text(contents.read_text().replace("  - 06_kernel_size\n", "  - 06_kernel_size\n  - batch_size\n"))
    profile = root / "params" / "paper" / "profile.yaml"
    profile.write_text(re.sub(r"^pending: \[", "pending: [batch_size, ", profile.read_text(), flags=re.M).replace(", ]", "]"))


@pytest.mark.slow
def test_a_new_family_is_one_notebook_its_params_and_one_line(shared_horses, tmp_path):
    copy = tmp_path / "repo"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(copy)], check=True)
    tracked = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-m", "-o", "--exclude-standard"], capture_output=True,
                             text=True, check=True).stdout.split()
    for name in tracked:   # this checkout's changes not committed yet, so that the test tries the code as it is
        target = copy / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((ROOT / name).read_bytes()) if (ROOT / name).exists() else target.unlink(missing_ok=True)
    subprocess.run(["git", "-C", str(copy), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(copy), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "as it is",
                    "--allow-empty", "--no-verify"], check=True)
    add_family(copy)
    changed = subprocess.run(["git", "-C", str(copy), "status", "--porcelain"], capture_output=True, text=True).stdout
    assert not [line for line in changed.splitlines() if "cnnreport/" in line] and len(changed.splitlines()) == 7

    env = dict(os.environ, PYTHONPATH=str(copy), CNNREPORT_DATA=str(shared_horses),   # the copy's package and params,
               CNNREPORT_RUNS=str(tmp_path / "runs"), CNNREPORT_WORKERS="2")      # in its notebooks' kernels too
    probe = subprocess.run([sys.executable, "-c", "import cnnreport; print(cnnreport.__file__)"], env=env,
                           cwd=copy / "notebooks", capture_output=True, text=True, check=True).stdout   # as its kernels do
    assert probe.startswith(str(copy)), probe
    out = tmp_path / "report"
    done = subprocess.run([sys.executable, "-m", "cnnreport.report", "--profile", "smoke", "--out", str(out), "--no-pdf"],
                          cwd=copy, env=env, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    page = (out / "report.html").read_text()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert 'data-label="tab:bs"' in page and 'data-label="fig:bs"' in page
    headings = [re.sub(r"<[^>]+>", "", h) for h in re.findall(r"<h1[^>]*>(.*?)</h1>", page, re.S)]
    where = {name: next(i for i, h in enumerate(headings) if name in h) for name in
             ("Kernel size", "Batch size", "Architectures: curves")}
    assert where["Kernel size"] < where["Batch size"] < where["Architectures: curves"]   # where the list puts it
    cause = re.search(r"the batch size ours − the original's \(100 images\) (\S+) .{0,60}?(not a cause|not measured|no run "
                      r"compared with the original)", text)   # the smoke profile compares no run: its epochs differ
    assert cause and cause.groups() == ("–", "no run compared with the original"), "the causes table reads the compared runs only"
    assert "Every run of the experiment “Batch size”" in text and re.search(r"Batch size CNN batch size: 25, 50", text)
