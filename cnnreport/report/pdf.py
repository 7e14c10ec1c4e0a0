"""Typeset the report's maths and print it: headless Chromium runs MathJax (as SVG) and saves the
HTML as typeset, without MathJax, so it shows its maths on any machine offline (tables are set at
their size, never shrunk: tools/table_rows.py finds one too wide for the page); it then prints the HTML to PDF, and the page of every
heading, read back from the PDF (pdfinfo), goes into the contents."""
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

LOCAL_MATHJAX = Path("/usr/share/javascript/mathjax/MathJax.js")   # Debian libjs-mathjax


CDN_MATHJAX = "https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/MathJax.js"


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


TEXT_WIDTH = 703   # CSS pixels: an A4 page's text width, 210 mm less report.css's 2 x 12 mm @page margins


def typeset(html):
    """Save the HTML as Chromium shows it once MathJax has typeset the maths as SVG, and without
    MathJax: the file then needs no script, font or network to show its maths."""
    # at an A4 page's text width, so that equation numbers sit where printed and tables fit the page
    done = chromium(f"--window-size={TEXT_WIDTH},1000", "--dump-dom", html.resolve().as_uri())
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
