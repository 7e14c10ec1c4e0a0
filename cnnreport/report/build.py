"""Build the report: `python -m cnnreport.report --profile quick` (what `make report` runs).

1. Executes every notebook of notebooks/ with papermill (`-p profile <profile>`) into
   reports/<profile>/<notebook>.ipynb. A failing notebook stops the build, showing the failing
   cell and its error; it is kept as <notebook>.failed.ipynb, and the last good output and the
   runs store (every finished training run) stay as they were, so a rerun continues from there.
2. Joins them into one notebook (title page, contents, one section per notebook, a closing
   section on data, hardware, versions and build time), numbers its figures and tables across
   the whole report and resolves the notebooks' references to them (`@fig:name`, `@tab:name`;
   see cnnreport.report.present), and exports reports/<profile>/report.html with the code hidden.
3. Headless Chromium typesets the maths with MathJax, as SVG, and the HTML is saved as typeset,
   without MathJax: it shows the same maths on any machine, offline (Debian: chromium and
   libjs-mathjax; without a local MathJax, Chromium loads it from a CDN once, at build time).
4. Chromium prints that HTML to reports/<profile>/report.pdf; the page of every heading, read
   back from the PDF (pdfinfo, Debian: poppler-utils), goes into the contents, and it prints again.
"""
import argparse
import datetime
import html as html_text
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from cnnreport import __version__
from cnnreport.params import (
    PROFILES,
    ROOT,
    default_profile,
    profile_settings,
    profile_store,
)
from cnnreport.report.present import KINDS
from cnnreport.science.data import describe
from cnnreport.training.executor import stop_on_signals

NOTEBOOKS = ("00_findings", "01_theory", "02_feature_maps", "03_num_filters", "04_learning_rate", "05_kernel_size",
             "06_architectures", "07_colour_quality", "08_jpeg_copy", "09_precision", "10_size", "11_reproduction")
PAPER_RUNS = ROOT / profile_settings("paper")["store"]   # the paper profile's runs, committed (records; few weights)
BUILD = ROOT / "build" / "report"   # where `make report` builds: ignored by git (`make paper` updates reports/paper)
LOCAL_MATHJAX = Path("/usr/share/javascript/mathjax/MathJax.js")   # Debian libjs-mathjax
CDN_MATHJAX = "https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/MathJax.js"
PROFILE_NOTES = {
    "smoke": "the smoke profile: tiny runs that only prove the pipeline works; its numbers mean nothing",
    "quick": "the quick profile: the real data, few epochs; trends are real, absolute numbers below the paper's",
    "paper": "the paper profile: the seed report's settings (30 epochs, full data), three seeds each",
}
PRINT_CSS = """
<style>
  body { max-width: 48rem; margin: 0 auto; }
  .jp-Notebook { padding: 0 1rem; }
  .report-title { text-align: center; margin-top: 30vh; }
  .report-section { break-before: page; }
  .report-contents ul { list-style: none; padding-left: 0; }
  .report-contents li { display: flex; align-items: baseline; margin: 0.15em 0; }
  .report-contents li a { flex: 1; color: inherit; text-decoration: none; border-bottom: 1px dotted #aaa; }
  .report-contents .toc-2 { padding-left: 1.5em; }
  .report-contents .toc-1 { font-weight: bold; margin-top: 0.6em; }
  .toc-page { min-width: 2.5em; text-align: right; }
  figure { margin: 1em 0; }
  figure img { max-width: 100%; max-height: 225mm; object-fit: contain; display: block; margin: 0 auto; }
  figcaption { font-size: 0.9em; margin: 0.4em 0; }
  /* tables as papers set them: rules above, below and under the header, no stripes, numbers unbroken */
  .jp-RenderedHTMLCommon figure table, .jp-RenderedHTMLCommon table.report-settings {
    table-layout: auto; border-collapse: collapse; margin: 0 auto; font-size: 0.85em; }
  .jp-RenderedHTMLCommon figure table { border-top: 1.5px solid #000; border-bottom: 1.5px solid #000; }
  .jp-RenderedHTMLCommon figure table thead th { border-bottom: 1px solid #000; vertical-align: bottom; }
  .jp-RenderedHTMLCommon figure table tr, .jp-RenderedHTMLCommon table.report-settings tr { background: none !important; }
  .jp-RenderedHTMLCommon figure table td, .jp-RenderedHTMLCommon figure table th,
  .jp-RenderedHTMLCommon table.report-settings td, .jp-RenderedHTMLCommon table.report-settings th {
    padding: 0.2em 0.5em; white-space: normal; }
  .jp-RenderedHTMLCommon figure table td[style*="right"] { white-space: nowrap; }
  .jp-RenderedHTMLCommon table.report-settings { margin: 0.5em 0; }
  .jp-RenderedHTMLCommon table.report-settings caption { text-align: left; font-weight: bold; padding-bottom: 0.2em; }
  .jp-RenderedHTMLCommon table.report-settings th { text-align: left; font-weight: normal; color: #555; }
  .jp-RenderedHTMLCommon table.report-settings td { text-align: left; padding-right: 1.5em; }
  @page { size: A4; margin: 14mm 12mm 16mm;
          @bottom-center { content: counter(page); font-size: 9pt; color: #555; } }
  @page :first { @bottom-center { content: none; } }
  @media screen { .toc-page { display: none; } }
  @media print {
    body { max-width: none; }
    .jp-OutputArea-output, .jp-RenderedHTMLCommon, .jp-RenderedHTML { overflow: visible !important; }
    .jp-Cell, figure, table, tr { break-inside: avoid; }
    .jp-Cell:has(.report-long), .jp-OutputArea-child:has(.report-long), figure.report-long, .report-long table {
      break-inside: auto; }
    h1, h2, h3, .report-tab figcaption { break-after: avoid; }
    a { color: inherit; }
  }
</style>
"""


class NotebookFailed(RuntimeError):
    pass


def kernel_environment(profile):
    """The environment kernels inherit: the profile, no progress bars, and the kernelspec
    `python3` of this interpreter's environment first (not one the user installed elsewhere)."""
    os.environ["CNNREPORT_PROFILE"] = profile
    os.environ["TQDM_DISABLE"] = "1"
    os.environ["PYTHONWARNINGS"] = os.environ.get("PYTHONWARNINGS", "ignore::DeprecationWarning")
    here = str(Path(sys.prefix) / "share" / "jupyter")
    paths = [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p]
    os.environ["JUPYTER_PATH"] = os.pathsep.join([here] + [p for p in paths if p != here])


def execute(stem, profile, out_dir):
    """Run notebooks/<stem>.ipynb into out_dir/<stem>.ipynb; NotebookFailed names the bad cell."""
    import papermill as pm
    from traitlets.config import Config
    running, final, failed = (out_dir / f"{stem}{suffix}.ipynb" for suffix in (".running", "", ".failed"))
    try:
        # A quiet console: the kernel talks over IPC, not TCP (no warning about unencrypted traffic),
        # and its own log stays silent (at shutdown it logs the SIGINT that jupyter_client always
        # sends first); errors in cells still arrive with the cell's outputs.
        pm.execute_notebook(str(ROOT / "notebooks" / f"{stem}.ipynb"), str(running),
                            parameters={"profile": profile}, kernel_name="python3",
                            cwd=str(ROOT / "notebooks"), progress_bar=False,
                            config=Config(KernelManager=dict(transport="ipc")),
                            extra_arguments=["--IPKernelApp.log_level=CRITICAL"])
    except pm.PapermillExecutionError as e:
        running.replace(failed)
        trace = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(e.traceback))
        raise NotebookFailed(f"notebook {stem} failed in cell {e.exec_count} (kept as {failed}):\n"
                             f"---- cell source ----\n{e.source}\n---- error ----\n{trace}") from None
    running.replace(final)
    failed.unlink(missing_ok=True)
    return final


def _md(text):
    return nbformat.v4.new_markdown_cell(text.strip())


LABELLED = re.compile(r'data-label="((fig|tab):[\w-]+)"')
NUMBER = re.compile(r'(<span class="report-number">)\d+(</span>)')
REFERENCE = re.compile(r"@((fig|tab):[\w-]+)")


def number_figures(sections):
    """Number the figures and tables of every section, in order across the report, and replace
    each reference `@fig:name` / `@tab:name` in markdown (cells and Markdown outputs) by a link
    reading "Figure 3" / "Table 2". sections: [(notebook, cells)], changed in place. A label
    used twice, or a reference to no label, stops the build naming the notebook."""
    numbers, counts = {}, {"fig": 0, "tab": 0}
    for stem, cells in sections:
        for out in (o for c in cells if c.cell_type == "code" for o in c.outputs):
            found = LABELLED.search(out.get("data", {}).get("text/html", ""))
            if found:
                label, kind = found.groups()
                if label in numbers:
                    raise NotebookFailed(f"notebook {stem}: the label {label} is used twice in the report")
                counts[kind] += 1
                numbers[label] = counts[kind]
                out.data["text/html"] = NUMBER.sub(rf"\g<1>{counts[kind]}\g<2>", out.data["text/html"], count=1)

    for stem, cells in sections:
        def link(m):
            label, kind = m.groups()
            if label not in numbers:
                raise NotebookFailed(f"notebook {stem} refers to @{label}, which no figure or table carries")
            return f"[{KINDS[kind]} {numbers[label]}](#{label.replace(':', '-')})"
        for cell in cells:
            if cell.cell_type == "markdown":
                cell.source = REFERENCE.sub(link, cell.source)
            for out in cell.get("outputs", []):
                if "text/markdown" in out.get("data", {}):
                    out.data["text/markdown"] = REFERENCE.sub(link, out.data["text/markdown"])


def _inline(text):
    """A heading's markdown as HTML for the contents: escaped, `code` kept as code."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html_text.escape(text))


def combine(executed, profile, timings, started, runs):
    """One notebook: title page, contents, each notebook as a section, build information.
    runs: the profile's runs, whose data and versions the title and the build information name."""
    sections, contents = [], []
    for i, (stem, path) in enumerate(executed, 1):
        nb = nbformat.read(path, as_version=4)
        cells, counter = [], iter(range(1, 10**6))

        def anchor(m):
            level, text = m.group(1), m.group(2).strip()
            ident = f"s{i}" if level == "#" else f"s{i}-{next(counter)}"
            contents.append((len(level), text, ident))
            cls = ' class="report-section"' if level == "#" else ""
            return f'<div id="{ident}"{cls}></div>\n\n{level} {text}'

        for cell in nb.cells:
            tags = cell.metadata.get("tags", [])
            if "parameters" in tags or "injected-parameters" in tags:
                continue
            if cell.cell_type == "code":
                # progress, warnings (stderr) and outputs tagged remove-output stay in the executed notebooks
                outputs = [] if "remove-output" in tags else [
                    o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")]
                if not outputs:
                    continue   # assert cells: they passed, nothing to show
                cell = nbformat.from_dict(dict(cell, outputs=outputs))
            if cell.cell_type == "markdown":
                source = re.sub(r"^(#{1,2})\s+(.+)$", anchor, cell.source, flags=re.M)
                cell = nbformat.from_dict(dict(cell, source=source))
            cells.append(cell)
        sections.append((stem, cells))
    number_figures(sections)

    contents.append((1, "Build information", "build-information"))
    toc = "\n".join(f'<li class="toc-{level}"><a href="#{ident}">{_inline(text)}</a>'
                     f'<span class="toc-page" data-for="{ident}"></span></li>' for level, text, ident in contents)
    data = data_sets(runs)
    trained_on = f" Trained on {describe(data[0][0])}." if data else ""
    title = (f'<div class="report-title">\n\n# Colourization as classification on CIFAR-10 horses\n\n'
             f"### An experiment report, reproducing and extending a student's CSC321/CSC413 homework\n\n"
             f"cnnreport {__version__}, built {datetime.date.today().isoformat()} with "
             f"{PROFILE_NOTES[profile]}.{trained_on}\n\n</div>")
    cells = [_md(title), _md(f'<nav class="report-contents report-section">\n<h2>Contents</h2>\n<ul>\n{toc}\n</ul>\n</nav>')]
    for _, body in sections:
        cells += body
    total = time.time() - started
    cells.append(_md(build_information(profile, timings, total, runs)))
    for n, cell in enumerate(cells):
        cell.id = f"r{n:04d}"   # the notebooks' own ids collide across notebooks
    combined = nbformat.v4.new_notebook(cells=cells)
    combined.metadata.update(kernelspec={"name": "python3", "display_name": "Python 3", "language": "python"},
                             title="Colourization as classification: report")
    return combined


def data_sets(runs):
    """[(data identity, runs on it)], the most used first: what the runs record of their data."""
    counts = {}
    for run in runs:
        key = json.dumps(run.data, sort_keys=True)
        counts[key] = counts.get(key, 0) + 1
    return [(json.loads(k), n) for k, n in sorted(counts.items(), key=lambda kv: -kv[1])]


def describe_data(runs):
    """The data the runs trained on, in words, with image counts, fingerprints and, for several, how many runs each."""
    sets = data_sets(runs)
    return "; ".join(f"{describe(d)}: {d['train_images']:,} training and {d['test_images']:,} test images "
                     f"({d['kind']} {d['folder']}, fingerprint {d['fingerprint']}{f', {n} runs' if len(sets) > 1 else ''})"
                     for d, n in sets) or "no runs"


def versions_note(runs):
    """One line when the runs trained on another torch than this one's ("" otherwise): rendering is
    unaffected, a retrain may differ in the last bits."""
    import torch
    theirs = sorted({run.info["torch"] for run in runs} - {torch.__version__})
    if not theirs:
        return ""
    return (f"the runs trained with torch {', '.join(theirs)}, this machine has {torch.__version__}: the report shows "
            "their numbers as recorded; retrained here, they may differ in the last bits")


def build_information(profile, timings, total, runs):
    import torch
    import torchvision

    from cnnreport.training.speed import cpu_name, usable_cores
    cpu, cores = cpu_name(), usable_cores()
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none (ran on the CPU)"
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                                capture_output=True, text=True, timeout=10).stdout.strip() or "unknown"
    except OSError:
        commit = "unknown"
    rows = "\n".join(f"| {stem} | {seconds:,.0f} |" for stem, seconds in timings.items())
    store = profile_store(profile)
    rebuild = (f"`make report PROFILE={profile}` (from the committed runs: no data needed, nothing trains)"
               if not store.trains else f"`make report PROFILE={profile} DATA=<the folder of the data named above>`")
    trained = sorted({run.info["torch"] for run in runs})
    return f"""
<div id="build-information" class="report-section"></div>

# Build information

| | |
|:--|:--|
| Profile | {profile} ({PROFILE_NOTES[profile]}) |
| Data | {describe_data(runs)} |
| CPU | {cpu}, {cores} cores available |
| GPU | {gpu} |
| Python | {platform.python_version()} ({platform.platform()}) |
| torch / torchvision | {torch.__version__} / {torchvision.__version__} (the runs trained with torch {", ".join(trained) or "-"}) |
| cnnreport | {__version__} (git {commit}) |
| Built | {datetime.datetime.now().strftime("%Y-%m-%d %H:%M")} |
| Total build time | {total:,.0f} s (executing the notebooks and assembling this document) |

Time per notebook (training runs already in the runs store are loaded, not trained again):

| notebook | time (s) |
|:--|--:|
{rows}

Rebuild with {rebuild}; the executed notebooks, with their code, are in the build folder
(`build/report/{profile}/`). `make reproduce PROFILE={profile}` retrains runs on your data and machine and
compares them with these.
"""


def export_html(nb, path, mathjax):
    """The report as HTML, code hidden, loading MathJax from `mathjax` (typeset() then removes it)."""
    from nbconvert import HTMLExporter
    exporter = HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True, mathjax_url=mathjax + "?config=TeX-AMS_SVG-full,Safe",
                            exclude_anchor_links=True)
    html, _ = exporter.from_notebook_node(nb)
    html = re.sub(r'<script src="[^"]*require[^"]*"></script>', "", html)   # no widgets: not needed
    html = html.replace("</head>", PRINT_CSS + "</head>", 1)
    path.write_text(html, encoding="utf-8")
    return path


def find_chromium():
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def chromium(*args, timeout=600):
    """Run headless Chromium on a throwaway profile; virtual time lets MathJax finish first."""
    exe = find_chromium()
    if exe is None:
        raise RuntimeError("no Chromium found to typeset the maths and print the PDF: install it (Debian/Ubuntu: "
                           "apt-get install chromium) or set CHROMIUM=/path/to/chrome; report.html is written, "
                           "its maths loads MathJax from the web")
    with tempfile.TemporaryDirectory() as profile_dir:
        return subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                               "--disable-background-networking", "--disable-component-update", "--disable-sync",
                               "--disable-dev-shm-usage", f"--user-data-dir={profile_dir}",
                               "--run-all-compositor-stages-before-draw", "--virtual-time-budget=60000", *args],
                              capture_output=True, text=True, timeout=timeout)


def typeset(html):
    """Save the HTML as Chromium shows it once MathJax has typeset the maths as SVG, and without
    MathJax: the file then needs no script, font or network to show its maths."""
    # an A4 page's text width (210 mm less 2 x 12 mm margins), so equation numbers sit where printed
    done = chromium("--window-size=700,1000", "--dump-dom", html.resolve().as_uri())
    page = done.stdout
    if "MathJax_SVG" not in page:
        raise RuntimeError(f"MathJax typeset nothing (Chromium exit {done.returncode}):\n{done.stderr[-3000:]}")
    page = re.sub(r'<script[^>]*src="[^"]*MathJax[^"]*"[^>]*>\s*</script>', "", page)
    page = re.sub(r'<script type="text/x-mathjax-config[^"]*">.*?</script>', "", page, flags=re.S)
    html.write_text("<!DOCTYPE html>\n" + page, encoding="utf-8")
    return html


def destinations(pdf):
    """{element id: page} for the PDF's named destinations (Chromium writes one per link target)."""
    listing = subprocess.run(["pdfinfo", "-dests", str(pdf)], capture_output=True, text=True, check=True).stdout
    return {m.group(2): int(m.group(1)) for m in re.finditer(r'^\s*(\d+)\s+\[.*\]\s+"(.*)"$', listing, re.M)}


def print_pdf(html, pdf, log=print):
    """Print the HTML with Chromium, then write each heading's page into the contents and print
    again, until the pages stay put (twice, unless the numbers move a page break)."""
    for _ in range(3):
        pdf.unlink(missing_ok=True)
        done = chromium("--no-pdf-header-footer", f"--print-to-pdf={pdf}", html.resolve().as_uri())
        if not pdf.exists() or pdf.stat().st_size == 0:
            raise RuntimeError(f"Chromium wrote no PDF (exit {done.returncode}):\n{done.stderr[-3000:]}")
        if shutil.which("pdfinfo") is None:
            log("no pdfinfo (Debian: poppler-utils): the contents have no page numbers")
            return pdf
        pages = destinations(pdf)
        text = html.read_text(encoding="utf-8")
        numbered = re.sub(r'(<span class="toc-page" data-for="([^"]+)">)[^<]*(</span>)',
                          lambda m: f"{m.group(1)}{pages.get(m.group(2), '')}{m.group(3)}", text)
        if numbered == text:
            return pdf
        html.write_text(numbered, encoding="utf-8")
    return pdf


def check_runs(profile, log):
    """Say before executing what the notebooks will train: which of the profile's runs its store
    lacks (all on a first build; none when it holds them). A store that never trains (the paper's
    committed results) must hold every one: NotebookFailed names those missing before any notebook
    runs. With CNNREPORT_DATA set, say whether those data are the data of the committed results."""
    from cnnreport.analysis.experiments import profile_configs
    from cnnreport.science.data import DataError, load_category
    from cnnreport.training.executor import lookup
    store, configs = profile_store(profile), profile_configs(profile)
    try:
        found = lookup(configs, store)
    except DataError:   # no data to train on: the first notebook that needs them stops and says why
        return
    missing = [c for c, run in zip(configs, found) if run is None]
    names = ", ".join(f"{c.model} NF {c.num_filters} kernel {c.kernel} lr {c.lr:g} seed {c.seed}"
                      + (" rebalanced" if c.rebalance else "") for c in missing[:5]) + (", ..." if len(missing) > 5 else "")
    if missing and not store.trains:
        raise NotebookFailed(f"{len(missing)} of {len(configs)} runs of the {profile} profile are not in {store.root}, "
                             f"which holds committed results and never trains ({names}); `make reproduce PROFILE={profile}` "
                             "trains them into a store of its own")
    if missing:
        log(f"{len(missing)} of {len(configs)} runs of the {profile} profile are not in {store.root}; the notebooks "
            f"will train them ({names})")
    else:
        log(f"all {len(configs)} runs of the {profile} profile are in {store.root}: nothing trains")
    if not store.trains and store.data and os.environ.get("CNNREPORT_DATA"):
        theirs = f"{describe(found[0].data)}, fingerprint {store.data}"
        try:
            yours = load_category(configs[0].category, os.environ["CNNREPORT_DATA"]).fingerprint
        except DataError as e:
            yours = f"unreadable: {str(e).split(';')[0]}"
        log(f"DATA holds the data of the committed results ({theirs})" if yours == store.data else
            f"DATA ({yours if yours.startswith('unreadable') else 'fingerprint ' + yours}) is not the data of the "
            f"committed results ({theirs}): the report shows the committed results; `make reproduce` retrains them on yours")
    note = versions_note([run for run in found if run is not None])
    if note:
        log(note[0].upper() + note[1:])


def profile_runs(profile):
    """The stored runs of the profile's sweeps (those its notebooks read), for the build information."""
    from cnnreport.analysis.experiments import profile_configs
    from cnnreport.training.executor import lookup
    return [run for run in lookup(profile_configs(profile), profile_store(profile)) if run is not None]


def build(profile="quick", out_dir=None, allow_missing=False, pdf=True, execute_notebooks=True, log=print):
    started = time.time()
    out_dir = Path(out_dir) if out_dir else BUILD / profile
    out_dir.mkdir(parents=True, exist_ok=True)
    pending = profile_settings(profile)["pending"]
    if pending:
        log(f"left out, their runs still arriving: {', '.join(pending)}")
    present = [s for s in NOTEBOOKS if (ROOT / "notebooks" / f"{s}.ipynb").exists() and s not in pending]
    missing = sorted(set(NOTEBOOKS) - set(present) - set(pending))
    if missing and not allow_missing:
        raise NotebookFailed(f"missing notebooks: {', '.join(missing)} (--allow-missing builds without them)")
    kernel_environment(profile)
    timings, executed = {}, []
    if not execute_notebooks:   # re-assemble the notebooks executed last time
        stored = json.loads((out_dir / "build.json").read_text())["seconds"] if (out_dir / "build.json").exists() else {}
        for stem in present:
            if not (out_dir / f"{stem}.ipynb").exists():
                raise NotebookFailed(f"{out_dir / stem}.ipynb is missing: build once without --no-execute")
            executed.append((stem, out_dir / f"{stem}.ipynb"))
            timings[stem] = stored.get(stem, 0.0)
        started -= sum(timings.values())   # the total counts the stored execution times
    if execute_notebooks:
        check_runs(profile, log)
    for n, stem in enumerate(present if execute_notebooks else [], 1):
        t = time.time()
        log(f"[{n}/{len(present)}] {stem} ({profile}) ...", end=" ", flush=True)
        executed.append((stem, execute(stem, profile, out_dir)))
        timings[stem] = time.time() - t
        log(f"{timings[stem]:.0f} s")
    local = LOCAL_MATHJAX.exists() and find_chromium() is not None   # else the page loads MathJax from the web
    html = export_html(combine(executed, profile, timings, started, profile_runs(profile)), out_dir / "report.html",
                       LOCAL_MATHJAX.as_uri() if local else CDN_MATHJAX)
    if pdf or find_chromium() is not None:
        typeset(html)
    log(f"wrote {html}")
    if pdf:
        log(f"wrote {print_pdf(html, out_dir / 'report.pdf', log)}")
    (out_dir / "build.json").write_text(json.dumps(dict(profile=profile, seconds=timings,
                                                        total_seconds=time.time() - started), indent=1))
    log(f"report built in {time.time() - started:.0f} s")
    return out_dir


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m cnnreport.report", description=__doc__.split("\n")[0])
    ap.add_argument("--profile", choices=PROFILES, default=default_profile())
    ap.add_argument("--out", help="output folder (default: build/report/<profile>)")
    ap.add_argument("--allow-missing", action="store_true", help="build from the notebooks that exist")
    ap.add_argument("--no-pdf", action="store_true", help="stop after report.html")
    ap.add_argument("--no-execute", action="store_true",
                    help="re-assemble the notebooks executed last time (after a change of layout)")
    args = ap.parse_args(argv)
    stop_on_signals()
    try:
        build(args.profile, args.out, args.allow_missing, pdf=not args.no_pdf, execute_notebooks=not args.no_execute)
    except (NotebookFailed, RuntimeError) as e:
        print(f"\nreport: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nreport: stopped; every finished run is stored, an unfinished one resumes next time", file=sys.stderr)
        return 130
    finally:
        stop_children()
    return 0


def stop_children(grace=3):
    """Terminate every process this one started, and theirs (a kernel and its training workers),
    killing those still alive after `grace` seconds."""
    import psutil
    children = psutil.Process().children(recursive=True)
    for child in children:
        try:
            child.terminate()
        except psutil.NoSuchProcess:
            pass
    for child in psutil.wait_procs(children, timeout=grace)[1]:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass


