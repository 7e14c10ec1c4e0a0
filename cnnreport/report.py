"""Build the report: `python -m cnnreport.report --profile quick` (what `make report` runs).

1. Executes every notebook of notebooks/ with papermill (`-p profile <profile>`) into
   reports/<profile>/<notebook>.ipynb. A failing notebook stops the build, showing the failing
   cell and its error; it is kept as <notebook>.failed.ipynb, and the last good output and the
   runs store (every finished training run) stay as they were, so a rerun continues from there.
2. Joins them into one notebook (title page, contents, one section per notebook, a closing
   section on data, hardware, versions and build time) and exports reports/<profile>/report.html,
   code hidden, maths by a local MathJax when there is one (Debian: libjs-mathjax).
3. Prints that HTML to reports/<profile>/report.pdf with headless Chromium, which renders maths,
   tables and figures exactly as the browser shows them (Debian: chromium).
"""
import argparse
import datetime
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

from . import __version__
from .params import PROFILES, default_profile

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ("01_theory", "02_feature_maps", "03_num_filters", "04_learning_rate", "05_kernel_size",
             "06_architectures")
PAPER_RUNS = ROOT / "reports" / "paper" / "runs"   # the paper profile's runs, committed (records; few weights)
LOCAL_MATHJAX = Path("/usr/share/javascript/mathjax/MathJax.js")   # Debian libjs-mathjax
CDN_MATHJAX = "https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/latest.js"
PROFILE_NOTES = {
    "smoke": "the smoke profile: tiny runs that only prove the pipeline works; its numbers mean nothing",
    "quick": "the quick profile: the real data, few epochs; trends are real, absolute numbers below the paper's",
    "paper": "the paper profile: the seed report's settings (30 epochs, full data)",
}
PRINT_CSS = """
<style>
  body { max-width: 48rem; margin: 0 auto; }
  .jp-Notebook { padding: 0 1rem; }
  .report-title { text-align: center; margin-top: 30vh; }
  .report-section { break-before: page; }
  .jp-RenderedHTMLCommon table { font-size: 0.85em; }
  @page { size: A4; margin: 14mm 12mm; }
  @media print {
    body { max-width: none; }
    .jp-OutputArea-output, .jp-RenderedHTMLCommon, .jp-RenderedHTML { overflow: visible !important; }
    .jp-Cell, .jp-OutputArea-output img, table { break-inside: avoid; }
    h1, h2, h3 { break-after: avoid; }
    .jp-RenderedHTMLCommon table { font-size: 0.7em; }
    .jp-RenderedHTMLCommon td, .jp-RenderedHTMLCommon th { padding: 0.15em 0.35em !important; }
    a { color: inherit; }
  }
</style>
<script>
  // Wide tables shrink to fit an A4 page (and the screen column alike) instead of being cut off.
  window.addEventListener("load", () => {
    document.querySelectorAll(".jp-RenderedHTMLCommon table").forEach(t => {
      const room = Math.min(t.parentElement.clientWidth || 680, 680);
      if (t.scrollWidth > room) t.style.zoom = (room / t.scrollWidth).toFixed(3);
    });
  });
</script>
"""


class NotebookFailed(RuntimeError):
    pass


def kernel_environment(profile):
    """The environment kernels inherit: the profile, no progress bars, the paper's committed runs
    store for the paper profile (unless CNNREPORT_RUNS says otherwise), and the kernelspec
    `python3` of this interpreter's environment first (not one the user installed elsewhere)."""
    os.environ["CNNREPORT_PROFILE"] = profile
    if profile == "paper":
        os.environ.setdefault("CNNREPORT_RUNS", str(PAPER_RUNS))
    os.environ["TQDM_DISABLE"] = "1"
    os.environ["PYTHONWARNINGS"] = os.environ.get("PYTHONWARNINGS", "ignore::DeprecationWarning")
    here = str(Path(sys.prefix) / "share" / "jupyter")
    paths = [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p]
    os.environ["JUPYTER_PATH"] = os.pathsep.join([here] + [p for p in paths if p != here])


def execute(stem, profile, out_dir):
    """Run notebooks/<stem>.ipynb into out_dir/<stem>.ipynb; NotebookFailed names the bad cell."""
    import papermill as pm
    running, final, failed = (out_dir / f"{stem}{suffix}.ipynb" for suffix in (".running", "", ".failed"))
    try:
        pm.execute_notebook(str(ROOT / "notebooks" / f"{stem}.ipynb"), str(running),
                            parameters={"profile": profile}, kernel_name="python3",
                            cwd=str(ROOT / "notebooks"), progress_bar=False)
    except pm.PapermillExecutionError as e:
        running.replace(failed)
        trace = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(e.traceback))
        raise NotebookFailed(f"notebook {stem} failed in cell {e.exec_count} (kept as {failed}):\n"
                             f"---- cell source ----\n{e.source}\n---- error ----\n{trace}") from None
    running.replace(final)
    failed.unlink(missing_ok=True)
    return final


def _title(nb, fallback):
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = re.search(r"^#\s+(.+)$", cell.source, re.M)
            if m:
                return m.group(1).strip()
    return fallback


def _md(text):
    return nbformat.v4.new_markdown_cell(text.strip())


def combine(executed, profile, timings, started):
    """One notebook: title page, contents, each notebook as a section, build information."""
    sections = []
    for i, (stem, path) in enumerate(executed, 1):
        nb = nbformat.read(path, as_version=4)
        cells, contents, counter = [], [], iter(range(1, 10**6))

        def anchor(m):
            level, text = m.group(1), m.group(2).strip()
            ident = f"s{i}" if level == "#" else f"s{i}-{next(counter)}"
            contents.append((level, text, ident))
            cls = ' class="report-section"' if level == "#" else ""
            return f'<div id="{ident}"{cls}></div>\n\n{level} {text}'

        for cell in nb.cells:
            tags = cell.metadata.get("tags", [])
            if "parameters" in tags or "injected-parameters" in tags:
                continue
            if cell.cell_type == "code":
                # progress bars and warnings (stderr) stay in the executed notebooks, not the report
                outputs = [o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")]
                if not outputs:
                    continue   # assert cells: they passed, nothing to show
                cell = nbformat.from_dict(dict(cell, outputs=outputs))
            if cell.cell_type == "markdown":
                source = re.sub(r"^(#{1,2})\s+(.+)$", anchor, cell.source, flags=re.M)
                cell = nbformat.from_dict(dict(cell, source=source))
            cells.append(cell)
        sections.append((_title(nb, stem), contents, cells))

    toc = ["## Contents", ""]
    for title, contents, _ in sections:
        for level, text, ident in contents:
            toc.append(f"{'' if level == '#' else '    '}- [{text}](#{ident})")
    toc.append("- [Build information](#build-information)")
    title = (f'<div class="report-title">\n\n# Colourization as classification on CIFAR-10 horses\n\n'
             f"### An experiment report, reproducing and extending a student's CSC321/CSC413 homework\n\n"
             f"cnnreport {__version__}, built {datetime.date.today().isoformat()} with "
             f"{PROFILE_NOTES[profile]}.\n\n</div>")
    cells = [_md(title), _md("\n".join(toc))]
    for _, _, body in sections:
        cells += body
    total = time.time() - started
    cells.append(_md(build_information(profile, timings, total)))
    for n, cell in enumerate(cells):
        cell.id = f"r{n:04d}"   # the notebooks' own ids collide across notebooks
    combined = nbformat.v4.new_notebook(cells=cells)
    combined.metadata.update(kernelspec={"name": "python3", "display_name": "Python 3", "language": "python"},
                             title="Colourization as classification: report")
    return combined


def build_information(profile, timings, total):
    import torch
    import torchvision

    from .speed import usable_cores
    try:
        from .data import load_category
        ds = load_category("horse")
        data = f"{ds.source}: {len(ds.train):,} training and {len(ds.test):,} test images (fingerprint {ds.fingerprint[:12]})"
    except Exception as e:   # noqa: BLE001 - the notebooks ran; say why the data could not be described
        data = f"not described ({e})"
    cpu = platform.processor() or platform.machine()
    if Path("/proc/cpuinfo").exists():
        m = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        cpu = m.group(1) if m else cpu
    cores = usable_cores()
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none (ran on the CPU)"
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                                capture_output=True, text=True, timeout=10).stdout.strip() or "unknown"
    except OSError:
        commit = "unknown"
    rows = "\n".join(f"| {stem} | {seconds:,.1f} |" for stem, seconds in timings.items())
    return f"""
<div id="build-information" class="report-section"></div>

# Build information

| | |
|:--|:--|
| Profile | {profile} ({PROFILE_NOTES[profile]}) |
| Data | {data} |
| CPU | {cpu}, {cores} cores available |
| GPU | {gpu} |
| Python | {platform.python_version()} ({platform.platform()}) |
| torch / torchvision | {torch.__version__} / {torchvision.__version__} |
| cnnreport | {__version__} (git {commit}) |
| Built | {datetime.datetime.now().strftime("%Y-%m-%d %H:%M")} |
| Total build time | {total:,.1f} s (executing the notebooks and assembling this document) |

Time per notebook (seconds; training runs already in the runs store are loaded, not trained again):

| notebook | seconds |
|:--|--:|
{rows}

Rebuild with `make report PROFILE={profile}`; the executed notebooks, with their code, are next to
this file in `reports/{profile}/`.
"""


def export_html(nb, path):
    from nbconvert import HTMLExporter
    mathjax = (LOCAL_MATHJAX.as_uri() if LOCAL_MATHJAX.exists() else CDN_MATHJAX) + "?config=TeX-AMS_CHTML-full,Safe"
    exporter = HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True, mathjax_url=mathjax, exclude_anchor_links=True)
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


def print_pdf(html, pdf, timeout=600):
    """Headless Chromium prints the HTML once MathJax has typeset (virtual time runs ahead)."""
    chromium = find_chromium()
    if chromium is None:
        raise RuntimeError("no Chromium found for the PDF: install it (Debian/Ubuntu: apt-get install chromium) "
                           "or set CHROMIUM=/path/to/chrome; the HTML report is written")
    with tempfile.TemporaryDirectory() as profile_dir:
        cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-dev-shm-usage", f"--user-data-dir={profile_dir}", "--run-all-compositor-stages-before-draw",
               "--virtual-time-budget=60000", "--no-pdf-header-footer", f"--print-to-pdf={pdf}", html.resolve().as_uri()]
        pdf.unlink(missing_ok=True)
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if not pdf.exists() or pdf.stat().st_size == 0:
        raise RuntimeError(f"Chromium wrote no PDF (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return pdf


def build(profile="quick", out_dir=None, allow_missing=False, pdf=True, execute_notebooks=True, log=print):
    started = time.time()
    out_dir = Path(out_dir) if out_dir else ROOT / "reports" / profile
    out_dir.mkdir(parents=True, exist_ok=True)
    present = [s for s in NOTEBOOKS if (ROOT / "notebooks" / f"{s}.ipynb").exists()]
    missing = sorted(set(NOTEBOOKS) - set(present))
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
    for n, stem in enumerate(present if execute_notebooks else [], 1):
        t = time.time()
        log(f"[{n}/{len(present)}] {stem} ({profile}) ...", end=" ", flush=True)
        executed.append((stem, execute(stem, profile, out_dir)))
        timings[stem] = time.time() - t
        log(f"{timings[stem]:.1f} s")
    html = export_html(combine(executed, profile, timings, started), out_dir / "report.html")
    log(f"wrote {html}")
    if pdf:
        log(f"wrote {print_pdf(html, out_dir / 'report.pdf')}")
    (out_dir / "build.json").write_text(json.dumps(dict(profile=profile, seconds=timings,
                                                        total_seconds=time.time() - started), indent=1))
    log(f"report built in {time.time() - started:.0f} s")
    return out_dir


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m cnnreport.report", description=__doc__.split("\n")[0])
    ap.add_argument("--profile", choices=PROFILES, default=default_profile())
    ap.add_argument("--out", help="output folder (default: reports/<profile>)")
    ap.add_argument("--allow-missing", action="store_true", help="build from the notebooks that exist")
    ap.add_argument("--no-pdf", action="store_true", help="stop after report.html")
    ap.add_argument("--no-execute", action="store_true",
                    help="re-assemble the notebooks executed last time (after a change of layout)")
    args = ap.parse_args(argv)
    try:
        build(args.profile, args.out, args.allow_missing, pdf=not args.no_pdf, execute_notebooks=not args.no_execute)
    except (NotebookFailed, RuntimeError) as e:
        print(f"\nreport: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
