"""Check a sweep notebook as a user meets it, in a real browser: `make lab PROFILE=smoke` on an
empty runs store of its own (in a temporary folder, so that the first Run All trains), then Run All
twice, with screenshots. Not part of the tests (it needs a browser and a few minutes):

    .venv/bin/pip install playwright      # the Python package only: the system Chromium is used
    .venv/bin/python tools/lab_check.py [--notebook 04_num_filters] [--data ../shared/data/cifar10-horse] [--out build/lab-check]

It fails unless the first Run All trains every run of the sweep ("0 of N runs loaded", then
"trained now") while one widget bar counts their epochs with the runs finished and training beside
it; the second trains nothing, shows no bar and says the runs were loaded; the saved notebook is
byte for byte as it was and `git status` shows no notebook changed; and the command line
finds a run Lab trained in the same store. Screenshots go to --out: 1-training.png (the bar mid-run),
2-trained.png, 3-loaded.png.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from cnnreport.analysis.sweeps import sweep_args, sweep_configs
from cnnreport.params import load_params
from cnnreport.training.config import Config

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "cnnreport-lab-check"
BAR = re.compile(r"epochs:.*?(\d+)/(\d+) \[.*?\d+/\d+ runs finished, (\d+) training", re.S)   # progress.Epochs' widget


def run_all(page):
    """Run All Cells from the Run menu."""
    page.get_by_text("Run", exact=True).first.click()
    page.get_by_text("Run All Cells", exact=True).first.click()


def running(page):
    """Whether a code cell still runs or waits to (a [*] prompt)."""
    return page.locator(".jp-InputPrompt", has_text="[*]").count() > 0


def wait_idle(page, timeout=900):
    """Until the kernel is idle and every code cell has run."""
    deadline = time.monotonic() + timeout
    time.sleep(2)
    while time.monotonic() < deadline:
        if not running(page) and page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").count():
            return
        time.sleep(1)
    raise TimeoutError("the notebook did not finish running")


def text(locator):
    """A locator's text, Jupyter's figure spaces (tqdm's widget) as plain ones."""
    return locator.inner_text().replace("\u2007", " ")


def follow_training(page, cell, shot):
    """While `cell` (the sweep) runs: the text of its widget bar, which must come to count epochs
    with the runs finished and training beside it, and a screenshot `shot` of it, retaken as it
    gets closer to mid-run (a run training, then some epochs counted but not all). Returns the
    last such text; fails if no bar showed, or none said that."""
    widget, seen, best = cell.locator(".widget-hprogress"), None, 0
    while running(page):
        if widget.count():
            bar = text(cell.locator(".jp-OutputArea-output:has(.widget-hprogress)"))
            match = BAR.search(bar)
            if match:   # (the bar's first moment has no runs beside it yet)
                n, total, training = map(int, match.groups())
                rank = 1 + (training > 0) + (0 < n < total)
                if rank > best:
                    best = rank
                    widget.scroll_into_view_if_needed()
                    page.screenshot(path=shot)
            seen = bar
        time.sleep(0.2)
    assert seen, "the sweep trained without showing a progress widget"
    assert BAR.search(seen), f"the sweep's progress bar does not count epochs with the runs beside it: {seen!r}"
    return seen


def cli_args(config):
    """`python -m cnnreport train` options naming `config`."""
    args = [f"--{name.replace('_', '-')}={getattr(config, name)}" for name in Config.names()
            if not isinstance(getattr(config, name), bool)]
    return args + ["--no-amp"] * (not config.amp) + ["--rebalance"] * config.rebalance


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--notebook", default="04_num_filters")
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "cifar10-horse"))
    ap.add_argument("--port", default="8899")
    ap.add_argument("--out", type=Path, default=ROOT / "build" / "lab-check")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    path = ROOT / "notebooks" / f"{args.notebook}.ipynb"
    before = path.read_bytes()
    scratch = tempfile.TemporaryDirectory(prefix="lab-check-")   # the runs store, and a workspace without others' tabs
    env = dict(os.environ, JUPYTER_TOKEN=TOKEN, CNNREPORT_DATA=str(Path(args.data).resolve()),
               CNNREPORT_RUNS=str(Path(scratch.name) / "runs"),
               JUPYTERLAB_WORKSPACES_DIR=str(Path(scratch.name) / "workspaces"))
    lab = subprocess.Popen(["make", "lab", "PROFILE=smoke", "NO_BROWSER=1", f"PORT={args.port}"], cwd=ROOT, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            url = f"http://localhost:{args.port}/lab/tree/{args.notebook}.ipynb?token={TOKEN}"
            for _ in range(60):   # the server takes a few seconds to start
                try:
                    page.goto(url)
                    break
                except Exception:   # noqa: BLE001 - connection refused until it listens
                    time.sleep(1)
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000)
            time.sleep(3)
            if page.get_by_role("button", name="No", exact=True).count():       # Jupyter's news: no
                page.get_by_role("button", name="No", exact=True).click()

            run_all(page)
            loads = page.locator(".jp-OutputArea-output", has_text="runs loaded from")   # the sweep's first line
            sweep = page.locator(".jp-CodeCell", has=loads).first
            sweep.wait_for(timeout=300_000)
            head = next(line for line in text(sweep.locator(".jp-Cell-outputArea")).splitlines() if "loaded" in line)
            assert re.match(r"0 of (\d+) runs loaded from .*; \1 to train", head), \
                f"the first Run All does not train every run: {head}"
            print(f"first Run All: {head}", flush=True)
            bar = follow_training(page, sweep, args.out / "1-training.png")
            print(f"progress while training: {' '.join(bar.split())}", flush=True)
            wait_idle(page)
            page.keyboard.press("Control+s")
            time.sleep(2)
            page.screenshot(path=args.out / "2-trained.png")
            first = text(sweep.locator(".jp-Cell-outputArea"))
            assert "trained now" in first, f"nothing trained in the first Run All: {first}"
            epochs = sum(map(int, re.findall(r"(\d+) epochs ", first)))
            assert BAR.search(bar).group(2) == str(epochs), f"the bar counts {bar}, the runs trained {epochs} epochs"

            run_all(page)
            wait_idle(page)
            page.keyboard.press("Control+s")
            time.sleep(2)
            assert not page.locator(".lm-TabBar-tab.jp-mod-dirty").count(), "the notebook was not saved"
            sweep.scroll_into_view_if_needed()
            time.sleep(1)
            page.screenshot(path=args.out / "3-loaded.png")
            second = text(sweep.locator(".jp-Cell-outputArea"))
            assert "trained now" not in second, f"the second Run All trained again: {second}"
            assert not sweep.locator(".widget-hprogress").count(), f"the second Run All showed a bar: {second}"
            loaded = next((line for line in second.splitlines() if "runs loaded from" in line), None)
            assert loaded and re.match(r"(\d+) of \1 runs loaded", loaded), \
                f"the second Run All did not load every run: {second}"
            print(f"second Run All: {loaded}", flush=True)
            browser.close()
        assert path.read_bytes() == before, f"Lab saved {path.name} otherwise than it was"
        status = subprocess.run(["git", "status", "--porcelain", "notebooks"], cwd=ROOT, capture_output=True,
                                text=True).stdout
        assert not status.strip(), f"notebooks changed in git:\n{status}"
        print("saved byte for byte as it was; git status: no notebook changed", flush=True)
        config = sweep_configs(**sweep_args(load_params(args.notebook, "smoke")))[0]   # a run Lab trained
        cli = subprocess.run([sys.executable, "-m", "cnnreport", "train", *cli_args(config), "--quiet"], cwd=ROOT,
                             env=env, capture_output=True, text=True)
        assert "(loaded from the store)" in cli.stderr, cli.stderr
        print(f"command line: {cli.stderr.strip()}", flush=True)
    finally:
        os.killpg(lab.pid, 15)
        lab.wait()
        scratch.cleanup()


if __name__ == "__main__":
    main()
