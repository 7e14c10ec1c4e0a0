"""Build the report: `python -m cnnreport.report --profile quick` (what `make report` runs).

1. Executes every notebook that notebooks/contents.yaml lists with papermill (`-p profile <profile>`)
   into build/report/<profile>/<notebook>.ipynb, unless nothing it depends on changed since it was
   last executed there (cnnreport.report.cache: then its executed copy is reused, with the current
   markdown; --force executes all). A failing notebook stops the build, showing the failing
   cell and its error; it is kept as <notebook>.failed.ipynb, and the last good output and the
   runs store (every finished training run) stay as they were, so a rerun continues from there.
2. Joins their sections (notebooks, or parts of them) into one notebook in the order of
   notebooks/contents.yaml, after a title page and contents and before a closing section on data,
   hardware, versions and build time; numbers its figures and tables across the whole report,
   resolves the notebooks' references to them (`@fig:name`, `@tab:name`; see
   cnnreport.report.present) and exports build/report/<profile>/report.html with the code hidden.
3. Headless Chromium typesets the maths with MathJax, as SVG, and the HTML is saved as typeset,
   without MathJax: it shows the same maths on any machine, offline (Debian: chromium and
   libjs-mathjax; without a local MathJax, Chromium loads it from a CDN once, at build time).
4. Chromium prints that HTML to build/report/<profile>/report.pdf; the page of every heading, read
   back from the PDF (pdfinfo, Debian: poppler-utils), goes into the contents, and it prints again.
"""
import argparse
import contextlib
import hashlib
import json
import os
import re
import sys
import time
from dataclasses import replace
from pathlib import Path

from cnnreport import contents
from cnnreport.params import PROFILES, ROOT, default_profile, known_data, profile_settings, profile_store
from cnnreport.report import cache
from cnnreport.report.html import NotebookFailed, combine, export_html, versions_note
from cnnreport.report.pdf import CDN_MATHJAX, LOCAL_MATHJAX, find_chromium, print_pdf, typeset
from cnnreport.science.data import describe
from cnnreport.training.executor import stop_on_signals
from cnnreport.training.store import DamagedRun

PAPER_RUNS = ROOT / profile_settings("paper")["store"]   # the paper profile's runs, committed (records; few weights)
BUILD = ROOT / "build" / "report"   # where `make report` builds: ignored by git (`make paper` updates reports/paper)


def kernel_environment(profile):
    """The variables kernels inherit: the profile, no progress bars, and the kernelspec `python3`
    of this interpreter's environment first (not one the user installed elsewhere)."""
    here = str(Path(sys.prefix) / "share" / "jupyter")
    paths = [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p]
    return {"CNNREPORT_PROFILE": profile, "TQDM_DISABLE": "1",
            "PYTHONWARNINGS": os.environ.get("PYTHONWARNINGS", "ignore::DeprecationWarning"),
            "JUPYTER_PATH": os.pathsep.join([here] + [p for p in paths if p != here])}


@contextlib.contextmanager
def environment(variables):
    """os.environ with `variables` set while the block runs (kernels started in it inherit them), as
    it was before once the block ends."""
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


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


def check_runs(profile, log):
    """Say before executing what the notebooks will train: which of the profile's runs its store
    lacks (all on a first build; none when it holds them). A store that never trains (the paper's
    committed results) must hold every one, and every record in it must be intact (store.verify: the
    JPEG copy's too): NotebookFailed names those missing, DamagedRun the first damaged one, before
    any notebook runs. With CNNREPORT_DATA set, say whether those data are the data of the committed results."""
    from cnnreport.analysis.sweeps import profile_configs
    from cnnreport.science.data import DataError, load_category
    from cnnreport.training.config import tell_apart
    from cnnreport.training.executor import lookup
    from cnnreport.training.store import records, shown, verify
    store, configs = profile_store(profile), profile_configs(profile)
    if not store.trains:   # committed results: every record checked before any notebook reads one
        for path in records(store.root):
            try:
                verify(path, committed=True)
            except DamagedRun as e:
                raise e.advise(f"restore it from git: git checkout -- {shown(path)}") from None
    try:
        found = lookup(configs, store)
    except DataError:   # no data to train on: the first notebook that needs them stops and says why
        return
    missing = [c for c, run in zip(configs, found) if run is None]
    label = dict(zip(configs, tell_apart(configs)))
    names = ", ".join(label[c] for c in missing[:5]) + (", ..." if len(missing) > 5 else "")
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
        theirs = f"{describe(found[0].data, known_data())}, fingerprint {store.data}"
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
    """The stored runs of the profile's sweeps (those its notebooks read), for the title page and the provenance:
    found by what they record, so without loading any data ([] where a setting is stored on several data)."""
    from cnnreport.analysis.sweeps import profile_configs
    from cnnreport.training.executor import lookup
    try:
        found = lookup(profile_configs(profile), replace(profile_store(profile), trains=False))
    except ValueError:
        return []
    return [run for run in found if run is not None]


def build(profile="quick", out_dir=None, allow_missing=False, pdf=True, execute_notebooks=True, force=False, log=print):
    started = time.time()
    out_dir = (Path(out_dir) if out_dir else BUILD / profile).resolve()   # absolute: the kernels run in notebooks/
    out_dir.mkdir(parents=True, exist_ok=True)
    pending = profile_settings(profile)["pending"]
    if pending:
        log(f"left out, their runs still arriving: {', '.join(pending)}")
    placed = [s for s in contents.sections(ROOT / "notebooks" / "contents.yaml") if s.notebook not in pending]
    missing = [nb for nb in dict.fromkeys(s.notebook for s in placed) if not (ROOT / "notebooks" / f"{nb}.ipynb").exists()]
    if missing and not allow_missing:
        raise NotebookFailed(f"notebooks/contents.yaml lists notebooks that do not exist: {', '.join(missing)} "
                             "(--allow-missing builds without them)")
    placed = [s for s in placed if s.notebook not in missing]
    with environment(kernel_environment(profile)):
        return _build(profile, out_dir, placed, pdf, execute_notebooks, force, log, started)


def _build(profile, out_dir, placed, pdf, execute_notebooks, force, log, started):
    """build(), once the notebooks are known and the kernels' environment is set: each notebook
    executed again only where something it depends on changed (cnnreport.report.cache) or `force`,
    else its last executed copy reused; none executed without `execute_notebooks`."""
    present = list(dict.fromkeys(s.notebook for s in placed))
    manifest_path = out_dir / "build.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    entries = manifest.get("notebooks", {}) if manifest.get("profile") == profile else {}
    if execute_notebooks:
        check_runs(profile, log)
    shared, executed = cache.shared_inputs(), []
    for n, stem in enumerate(present, 1):
        path = out_dir / f"{stem}.ipynb"
        if not execute_notebooks:   # re-assemble the notebooks executed last time
            if not path.exists():
                raise NotebookFailed(f"{path} is missing: build once without --no-execute")
            executed.append((stem, path))
            continue
        source = ROOT / "notebooks" / f"{stem}.ipynb"
        now = cache.inputs(source, profile, shared)
        why = "--force" if force else "no executed copy" if not path.exists() else cache.stale(entries.get(stem), now)
        if why is None:
            log(f"[{n}/{len(present)}] {stem} ({profile}): reused, nothing it depends on changed")
            executed.append((stem, cache.with_current_markdown(path, source)))
            continue
        t = time.time()
        log(f"[{n}/{len(present)}] {stem} ({profile}): executing, {why} ...", end=" ", flush=True)
        listing = out_dir / f"{stem}.reads"
        listing.unlink(missing_ok=True)
        with environment({"CNNREPORT_READS": str(listing)}):
            executed.append((stem, execute(stem, profile, out_dir)))
        entries[stem] = dict(inputs=now, reads=cache.reads(listing))
        listing.unlink(missing_ok=True)
        manifest_path.write_text(json.dumps(dict(manifest, profile=profile, notebooks=entries), indent=1))
        log(f"{time.time() - t:.0f} s")
    local = LOCAL_MATHJAX.exists() and find_chromium() is not None   # else the page loads MathJax from the web
    author = contents.author(ROOT / "notebooks" / "contents.yaml")
    page = export_html(combine(executed, placed, profile, profile_runs(profile), author),
                       LOCAL_MATHJAX.as_uri() if local else CDN_MATHJAX)
    html, pdf_path = out_dir / "report.html", out_dir / "report.pdf"
    digest = hashlib.sha256(f"{page}{pdf}".encode()).hexdigest()
    if digest == manifest.get("html") and html.exists() and (pdf_path.exists() or not pdf):
        log(f"{html} and its PDF are as the last build left them")
    else:
        html.write_text(page, encoding="utf-8")
        if pdf or find_chromium() is not None:
            typeset(html)
        log(f"wrote {html}")
        if pdf:
            log(f"wrote {print_pdf(html, pdf_path, log)}")
    manifest_path.write_text(json.dumps(dict(profile=profile, notebooks=entries, html=digest), indent=1))
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
    ap.add_argument("--force", action="store_true",
                    help="execute every notebook, even those whose code, params, package and runs read are unchanged")
    args = ap.parse_args(argv)
    stop_on_signals()
    try:
        build(args.profile, args.out, args.allow_missing, pdf=not args.no_pdf, execute_notebooks=not args.no_execute,
              force=args.force)
    except (NotebookFailed, RuntimeError, DamagedRun) as e:
        print(f"\nreport: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as e:
        print(f"\nreport: {e or 'stopped; every finished run is stored, an unfinished one resumes next time'}",
              file=sys.stderr)
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


