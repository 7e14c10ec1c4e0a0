"""Table rows taller than one line, tables too wide or too small: `python tools/table_rows.py report.html
[--width-mm 186]`.

Opens the report's HTML in headless Chromium at print width (an A4 page's text width: 210 mm less
the 2 x 12 mm side margins of report.css's @page, 186 mm) with print media, and measures every
body row's height against one line of its own text (the cells' line height). Prints each row
taller than one line outside its prose columns (report-prose, which wrap by design, as headers may), with the
table's caption or id and the row's text; each table wider than the text (which would print
clipped or overflow the page); and each table set below 8 pt in the body or 7.5 pt in the
appendix (after the references), or shrunk to fit by a font size of its own. Exits 1 when there
is one.

Uses Playwright for Python with the system's Chromium when installed (no browser download);
otherwise `chromium --headless --dump-dom` on a copy of the page with the measuring script
injected and its print styles made unconditional.
"""
import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # cnnreport, from a checkout

from cnnreport.report.pdf import find_chromium  # noqa: E402

A4_TEXT_MM = 210 - 2 * 12   # A4 less report.css's @page side margins
TOLERANCE = 1.4             # a row up to 1.4 lines tall still counts as one line (inline maths, sub- and superscripts)
BODY_PT, APPENDIX_PT = 8, 7.5   # the smallest type a table may be set in: in the body, and after the references

# Returns {rows: [{table, row, lines, cells}], wide: [{table, width, room}], small: [{table, pt, least, shrunk}],
# tables: n}.
MEASURE = r"""
(() => {
  const tolerance = %(tolerance)s;
  const name = (t, i) => {
    const fig = t.closest('figure');
    const cap = t.caption || (fig && fig.querySelector('figcaption'));
    const text = cap ? cap.textContent.replace(/\s+/g, ' ').trim().slice(0, 90) : '';
    const id = t.id || (fig && fig.id) || '';
    if (text || id) return (id ? '#' + id + ' ' : '') + text;
    const h = document.evaluate('preceding::*[self::h1 or self::h2 or self::h3][1]', t, null,
                                XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue;
    return `table ${i + 1} of the page` + (h ? ` (under "${h.textContent.trim()}")` : '');
  };
  const px = (v) => parseFloat(v) || 0;
  const oneLine = (cell) => {   // one line of the cell's own text: a hidden unwrapped probe in the cell
    const probe = document.createElement('span');
    probe.textContent = 'Hg';
    probe.style.cssText = 'position:absolute;visibility:hidden;white-space:nowrap;display:block;';
    cell.appendChild(probe);
    const h = probe.getBoundingClientRect().height;
    probe.remove();
    return h;
  };
  const rows = [], wide = [], small = [];
  const tables = [...document.querySelectorAll('table')];
  const refs = document.getElementById('references');   // the appendix follows the references
  tables.forEach((t, i) => {
    const appendix = !!refs && !!(refs.compareDocumentPosition(t) & Node.DOCUMENT_POSITION_FOLLOWING);
    const sizes = [t, ...t.querySelectorAll('td, th')].map((e) => px(getComputedStyle(e).fontSize));
    const pt = 0.75 * Math.min(...sizes), least = appendix ? %(appendix_pt)s : %(body_pt)s;   // its smallest cell
    if (pt < least - 0.01 || t.style.fontSize)   // too small, or shrunk to fit (an inline font size)
      small.push({table: name(t, i), pt: Math.round(100 * pt) / 100, least, shrunk: !!t.style.fontSize});
    const box = (t.closest('figure') || t).parentElement;
    const cs = getComputedStyle(box);
    const room = box.clientWidth - px(cs.paddingLeft) - px(cs.paddingRight);
    const width = t.getBoundingClientRect().width;
    if (width > room + 1) wide.push({table: name(t, i), width: Math.round(width), room: Math.round(room)});
    for (const tr of t.tBodies.length ? [...t.tBodies].flatMap((b) => [...b.rows]) : t.rows) {   // a header may wrap
      const cells = [...tr.cells];
      if (!cells.length) continue;
      let line = 0, inset = 0;
      for (const c of cells) {
        const s = getComputedStyle(c);
        line = Math.max(line, oneLine(c));
        inset = Math.max(inset, px(s.paddingTop) + px(s.paddingBottom) + px(s.borderTopWidth) + px(s.borderBottomWidth));
      }
      const height = tr.getBoundingClientRect().height - inset;
      if (height > tolerance * line) {
        const wrapped = cells.filter((c) => {
          const r = document.createRange(); r.selectNodeContents(c);
          return r.getBoundingClientRect().height > tolerance * oneLine(c);
        });
        if (wrapped.some((c) => !c.classList.contains('report-prose')))   // a column of prose may wrap
          rows.push({table: name(t, i), row: tr.textContent.replace(/\s+/g, ' ').trim().slice(0, 160),
                     lines: Math.round(10 * height / line) / 10,
                     cells: wrapped.map((c) => c.textContent.replace(/\s+/g, ' ').trim())});
      }
    }
  });
  return {rows, wide, small, tables: tables.length};
})()
"""


PARAMETERS = {"tolerance": TOLERANCE, "body_pt": BODY_PT, "appendix_pt": APPENDIX_PT}


def px(mm):
    return round(mm / 25.4 * 96)


def measure_playwright(html, width):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_chromium(), args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": width, "height": 1100})
            page.emulate_media(media="print")
            page.goto(Path(html).resolve().as_uri(), wait_until="load", timeout=120_000)
            return page.evaluate(MEASURE % PARAMETERS)
        finally:
            browser.close()


def measure_dump_dom(html, width):
    """Without Playwright: the page with its print styles made unconditional and the measurement
    injected, its result written into the DOM that `chromium --dump-dom` prints."""
    text = Path(html).read_text(encoding="utf-8")
    text = re.sub(r"@media\s+print\b", "@media all", text)
    text = re.sub(r"@media\s+screen\b", "@media not all", text)
    script = ("<script>window.addEventListener('load', () => { const r = " + MEASURE % PARAMETERS +
              "; const pre = document.createElement('pre'); pre.id = 'table-rows-result';"
              " pre.textContent = JSON.stringify(r); document.body.appendChild(pre); });</script>")
    text = text.replace("</body>", script + "</body>", 1) if "</body>" in text else text + script
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(html).resolve().parent / f".table-rows-{Path(tmp).name}.html"   # beside it: relative links work
        copy.write_text(text, encoding="utf-8")
        try:
            done = subprocess.run([find_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                                   f"--user-data-dir={tmp}", f"--window-size={width},1100",
                                   "--virtual-time-budget=30000", "--dump-dom", copy.as_uri()],
                                  capture_output=True, text=True, timeout=300)
        finally:
            copy.unlink(missing_ok=True)
    found = re.search(r'<pre id="table-rows-result">(.*?)</pre>', done.stdout, re.S)
    if not found:
        raise RuntimeError(f"Chromium returned no measurement (exit {done.returncode}):\n{done.stderr[-2000:]}")
    import html as html_text
    return json.loads(html_text.unescape(found.group(1)))


def measure(html, width_mm=A4_TEXT_MM):
    """{rows, wide, tables} for the HTML laid out at width_mm (see MEASURE)."""
    if find_chromium() is None:
        raise RuntimeError("no Chromium found (install chromium or set CHROMIUM)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        return measure_dump_dom(html, px(width_mm))
    return measure_playwright(html, px(width_mm))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("html", type=Path)
    ap.add_argument("--width-mm", type=float, default=A4_TEXT_MM, help=f"the text width (default {A4_TEXT_MM} mm)")
    args = ap.parse_args(argv)
    found = measure(args.html, args.width_mm)
    for row in found["rows"]:
        print(f"{row['table']}: {row['lines']} lines: {row['row']}"
              + (f"\n    wrapped: {' | '.join(row['cells'])}" if row["cells"] else ""))
    for t in found["wide"]:
        print(f"{t['table']}: {t['width']} px wide, the text {t['room']} px")
    for t in found["small"]:
        print(f"{t['table']}: set in {t['pt']} pt" + (", shrunk to fit" if t["shrunk"] else "") + f" (at least {t['least']} pt)")
    print(f"{found['tables']} tables; {len(found['rows'])} rows taller than one line, "
          f"{len(found['wide'])} tables wider than the text ({args.width_mm:g} mm), {len(found['small'])} set too small "
          f"(below {BODY_PT} pt in the body, {APPENDIX_PT} pt in the appendix) or shrunk to fit")
    return 1 if found["rows"] or found["wide"] or found["small"] else 0


if __name__ == "__main__":
    sys.exit(main())
