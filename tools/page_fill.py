"""How full each page of a PDF is: `python tools/page_fill.py report.pdf [--limit 0.333]`.

Renders every page with poppler's pdftoppm at a low resolution and measures the share of the
page's height that is blank below its last content (the page number in the footer margin does
not count as content). Lists every page whose blank foot exceeds the limit (a third by default)
and exits 1 when there is one, unless the next page starts a section (--sections lists the pages
that do, e.g. from the contents; the report's own check passes them via `section_starts`).
"""
import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

FOOTER = 16 / 297   # the @page bottom margin of report.css (16 mm of A4's 297 mm): the page number lives there


def read_pnm(path):
    """(width, height, rows) of a binary PGM (P5) file: rows as bytes, one per pixel row."""
    data = path.read_bytes()
    fields, pos = [], 0
    while len(fields) < 4:   # magic, width, height, maxval, separated by whitespace (no comments from pdftoppm)
        m = re.compile(rb"\s*(\S+)").match(data, pos)
        fields.append(m.group(1))
        pos = m.end()
    pos += 1   # the single whitespace after maxval
    width, height = int(fields[1]), int(fields[2])
    return width, height, [data[pos + y * width: pos + (y + 1) * width] for y in range(height)]


def empty_share(path, white=245):
    """The share of the page's height below its last non-white pixel row, the footer margin not counted as content."""
    width, height, rows = read_pnm(path)
    body = int(height * (1 - FOOTER))   # rows below belong to the footer (page number)
    last = -1
    for y in range(body):
        if min(rows[y]) < white:
            last = y
    return (height - 1 - last) / height if last >= 0 else 1.0


def page_fill(pdf, dpi=20):
    """[(page, share of the page blank at its foot)] for every page of the PDF."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", str(pdf), f"{tmp}/p"], check=True)
        files = sorted(Path(tmp).glob("p-*.pgm"), key=lambda p: int(p.stem.split("-")[-1]))
        return [(int(f.stem.split("-")[-1]), empty_share(f)) for f in files]


def section_starts(pdf):
    """The pages on which a report section starts: named destinations of its section anchors
    (s1, s2, ..., s1-b for a second `#` heading, references, sources), read with pdfinfo."""
    listing = subprocess.run(["pdfinfo", "-dests", str(pdf)], capture_output=True, text=True, check=True).stdout
    return {int(m.group(1)) for m in re.finditer(r'^\s*(\d+)\s+\[.*\]\s+"(s\d+[a-z]?|contents|references|sources)"$', listing, re.M)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("pdf", type=Path)
    ap.add_argument("--limit", type=float, default=1 / 3, help="the largest blank share allowed (default 1/3)")
    ap.add_argument("--sections", help="pages that start a section, comma-separated (default: read from the "
                                       "report's section anchors)")
    ap.add_argument("--all", action="store_true", help="print every page's blank share")
    args = ap.parse_args(argv)
    fill = page_fill(args.pdf)
    starts = {int(p) for p in args.sections.split(",")} if args.sections else section_starts(args.pdf)
    bad = []
    for page, share in fill:
        ends_section = page + 1 in starts or page in (1, len(fill))   # the title page stands alone
        if args.all:
            print(f"page {page:3d}: {share:5.0%} blank{' (section ends)' if ends_section else ''}")
        if share > args.limit:
            if not ends_section:
                bad.append((page, share))
            if not args.all:
                print(f"page {page:3d}: {share:5.0%} blank{' (section ends: allowed)' if ends_section else ''}")
    print(f"{len(fill)} pages; {sum(s > args.limit for _, s in fill)} more than {args.limit:.0%} blank, "
          f"{len(bad)} of them not before a section start")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
