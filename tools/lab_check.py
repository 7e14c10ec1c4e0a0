"""Check the notebooks as a user meets them, in a real browser: `make lab PROFILE=smoke`, then Run All
on a sweep notebook twice, with screenshots. Not part of the tests (it needs a browser and minutes):

    .venv/bin/pip install playwright      # the Python package only: the system Chromium is used
    .venv/bin/python tools/lab_check.py [--notebook 04_num_filters] [--data ../shared/data/cifar10-horse] [--out build/lab-check]

It asserts that the first Run All shows a progress widget while runs train, that the second trains
nothing and says the runs were loaded, that `git status` shows no notebook changed, and that the
command line finds the runs Lab trained in the same store; the screenshots go to --out.
"""
import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "cnnreport-lab-check"


def run_all(page):
    """Run All Cells from the Run menu."""
    page.get_by_text("Run", exact=True).first.click()
    page.get_by_text("Run All Cells", exact=True).first.click()


def wait_idle(page, timeout=900):
    """Until the kernel is idle and every code cell has run (no [*] prompt left)."""
    deadline = time.monotonic() + timeout
    time.sleep(2)
    while time.monotonic() < deadline:
        busy = page.locator(".jp-InputPrompt", has_text="[*]").count()
        if busy == 0 and page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").count():
            return
        time.sleep(1)
    raise TimeoutError("the notebook did not finish running")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--notebook", default="04_num_filters")
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "cifar10-horse"))
    ap.add_argument("--port", default="8899")
    ap.add_argument("--out", type=Path, default=ROOT / "build" / "lab-check")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, JUPYTER_TOKEN=TOKEN, CNNREPORT_DATA=str(Path(args.data).resolve()))
    env.pop("CNNREPORT_RUNS", None)   # the default store of this checkout, which the command line shares
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
            if page.get_by_role("button", name="Select", exact=True).count():   # Lab asks which kernel once
                page.get_by_role("button", name="Select", exact=True).click()
            run_all(page)
            time.sleep(2)
            if page.get_by_role("button", name="Select", exact=True).count():
                page.get_by_role("button", name="Select", exact=True).click()
            widget = page.wait_for_selector(".jp-OutputArea-output .widget-hprogress", timeout=300_000)
            widget.scroll_into_view_if_needed()
            page.screenshot(path=args.out / "1-training.png")
            print("progress widget shown while training", flush=True)
            wait_idle(page)
            page.keyboard.press("Control+s")
            time.sleep(2)
            page.screenshot(path=args.out / "2-trained.png")
            run_all(page)
            wait_idle(page)
            page.keyboard.press("Control+s")
            time.sleep(2)
            sweep = page.locator(".jp-CodeCell", has_text="ex.sweep(").first   # the cell that trains or loads
            sweep.scroll_into_view_if_needed()
            time.sleep(1)
            page.screenshot(path=args.out / "3-loaded.png")
            text = sweep.locator(".jp-OutputArea").inner_text()
            assert "trained now" not in text, f"the second Run All trained again: {text}"
            loaded = next(line for line in text.splitlines() if "runs loaded from" in line)
            print(f"second Run All: {loaded}", flush=True)
            browser.close()
        status = subprocess.run(["git", "status", "--porcelain", "notebooks"], cwd=ROOT, capture_output=True, text=True).stdout
        assert not status.strip(), f"notebooks changed in git:\n{status}"
        print("git status: no notebook changed", flush=True)
        cli = subprocess.run([sys.executable, "-m", "cnnreport", "train", "--model", "cnn", "--num-filters", "8", "--epochs", "1",
                              "--train-images", "200", "--test-images", "50", "--quiet"], cwd=ROOT, env=env,
                             capture_output=True, text=True)
        assert "(loaded from the store)" in cli.stderr, cli.stderr
        print(f"command line: {cli.stderr.strip()}", flush=True)
    finally:
        os.killpg(lab.pid, 15)


if __name__ == "__main__":
    main()
