"""The report as one HTML page: the executed notebooks joined (title page, contents, one section per
notebook, the code hidden, a closing section of build information), their figures and tables
numbered across the whole report and the notebooks' references to them resolved (`@fig:name`,
`@tab:name`; see cnnreport.report.present), exported with nbconvert and styled by report.css."""
import html as html_text
import json
import platform
import re
import subprocess
from pathlib import Path

import nbformat

from cnnreport.contents import Section, split, title_of
from cnnreport.params import ROOT, known_data
from cnnreport.report.citations import cite, references
from cnnreport.report.present import KINDS
from cnnreport.science.data import describe

STYLE = Path(__file__).with_name("report.css")   # the print style: pages, tables as papers set them, the contents


PROFILE_NOTES = {
    "smoke": "the smoke profile: tiny runs that only prove the pipeline works; its numbers mean nothing",
    "quick": "the quick profile: the real data, few epochs; trends are real, absolute numbers below the paper's",
    "paper": "every experiment at the original report's settings, on the full data, with several seeds",
}


class NotebookFailed(RuntimeError):
    pass


def _md(text):
    return nbformat.v4.new_markdown_cell(text.strip())


LABELLED = re.compile(r'data-label="((fig|tab):[\w-]+)"')


NUMBER = re.compile(r'(<span class="report-number">)\d+(</span>)')


REFERENCE = re.compile(r"@((fig|tab):[\w-]+)")


RUNS = re.compile(r'data-runs="([^"]*)"')


def number_figures(sections):
    """Number the figures and tables of every section, in order across the report, and replace
    each reference `@fig:name` / `@tab:name` in markdown (cells and Markdown outputs) by a link
    reading "Figure 3" / "Table 2". sections: [(notebook, cells)], changed in place. A label
    used twice, or a reference to no label, stops the build naming the notebook. Returns
    {label: number}."""
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
    return numbers


LETTERS = [chr(c) for c in range(ord("A"), ord("Z") + 1)]


SECTION_REFERENCE = re.compile(r"@sec:([\w/-]+)")


def refer_to_sections(sections, targets):
    """Replace each reference `@sec:<notebook>` or `@sec:<notebook>/<part>` (an entry of
    notebooks/contents.yaml) in markdown by a link to that section: "Appendix C" for an appendix, the
    section's title in italics for the body. targets: {entry: (text, anchor)}. A reference to a
    section the report does not hold stops the build naming the notebook."""
    for stem, cells in sections:
        def link(m):
            if m.group(1) not in targets:
                raise NotebookFailed(f"notebook {stem} refers to @sec:{m.group(1)}, which is no section of the report "
                                     "(notebooks/contents.yaml)")
            text, ident = targets[m.group(1)]
            return f"[{text}](#{ident})"
        for cell in cells:
            if cell.cell_type == "markdown":
                cell.source = SECTION_REFERENCE.sub(link, cell.source)
            for out in cell.get("outputs", []):
                if "text/markdown" in out.get("data", {}):
                    out.data["text/markdown"] = SECTION_REFERENCE.sub(link, "".join(out.data["text/markdown"]))


def add_sources(sections, titles):
    """Give each figure's and table's Source element (present._captioned: the runs it was computed
    from) the notebook that made it, by title (titles: {notebook: title}) and file name, and the code
    of the cell: the report stays one self-contained file, with no link into build/. Returns
    [(label, the notebook's title, its file, the runs in words)] in order, for sources_table."""
    found = []
    for section, cells in sections:
        notebook = section.split("/")[0]
        for cell in cells:
            for out in cell.get("outputs", []):
                page = out.get("data", {}).get("text/html", "")
                label, runs = LABELLED.search(page), RUNS.search(page)
                if label and runs:
                    code = (f'<p class="report-code">Made in <em>{html_text.escape(titles[notebook])}</em> '
                            f"({notebook}.ipynb) by the cell</p><pre>{html_text.escape(cell.source)}</pre>")
                    out.data["text/html"] = page.replace("</details>", code + "</details>", 1)
                    found.append((label.group(1), titles[notebook], f"{notebook}.ipynb", html_text.unescape(runs.group(1))))
    return found


def sources_and_provenance(found, numbers, runs):
    """The last appendix, as markdown: a table of where each figure and table comes from (its number,
    its section's title, its notebook's file, its runs by count and settings: add_sources), and the
    provenance, the build facts that matter for reproducing the report, in one paragraph."""
    rows = "".join(f'<tr><td>{KINDS[label[:3]]}&nbsp;{numbers[label]}</td><td class="report-prose">{html_text.escape(title)}</td>'
                   f'<td>{file}</td><td class="report-prose">{html_text.escape(runs_said)}</td></tr>'
                   for label, title, file, runs_said in found)
    table = ("Each figure and table of this report, the notebook whose cell made it and the runs it was computed "
             "from; in the HTML report, its Source (under its caption) also holds the cell's code and the runs' keys.\n\n"
             '<table class="report-sources"><thead><tr><th>figure or table</th><th>section</th>'
             f"<th>notebook</th><th>runs</th></tr></thead><tbody>{rows}</tbody></table>") if found else ""
    return ('<div id="sources" class="report-section"></div>\n\n# Sources and provenance\n\n'
            f"## Where each figure and table comes from\n\n{table}\n\n## Provenance\n\n{provenance(runs)}")


def provenance(runs):
    """The data, the code, the software and the hardware of the runs and of this build, in one paragraph."""
    import torch
    machines = sorted({f"{r.info['cpu']} ({r.info['device'].upper() if r.info['device'] == 'cpu' else r.info['device']}, "
                       f"{r.info['precision']})" for r in runs})
    pythons = sorted({r.info["python"] for r in runs if r.info.get("python")})
    versions = f"torch {', '.join(sorted({r.info['torch'] for r in runs}))}" + (f" and Python {', '.join(pythons)}" if pythons else "")
    trained = (f"The runs trained on {describe_data(runs)}, with {versions}, on {' and '.join(machines)}. "
               if runs else "")
    return (trained + f"This report was built from commit {git_commit()} of the cnnreport repository, with torch "
            f"{torch.__version__} and Python {platform.python_version()}.")


def cite_all(sections):
    """Render every citation of the sections' markdown and outputs (citations.cite), in place; the
    keys cited, in order of first citation."""
    cited = {}
    for stem, cells in sections:
        for cell in cells:
            if cell.cell_type == "markdown":
                cell.source = cite(cell.source, f"notebook {stem}", cited)
            for out in cell.get("outputs", []):
                for mime in ("text/markdown", "text/html"):
                    if mime in out.get("data", {}):
                        out.data[mime] = cite("".join(out.data[mime]), f"notebook {stem}", cited)
    return cited


def _inline(text):
    """A heading's markdown as HTML (for the contents, or a heading moved into an output): escaped,
    `code` kept as code, hyphenated words unbroken."""
    return unbroken(re.sub(r"`([^`]+)`", r"<code>\1</code>", html_text.escape(text)))


HYPHENATED = re.compile(r"(?<![\w-])(\w+(?:-\w+)+)(?![\w-])")


def unbroken(text):
    """Heading text with each hyphenated word ("U-Net") in a span that print never breaks after its
    hyphen (report.css: .report-nobreak), leaving `code`, <tags> and $maths$ as they are."""
    parts = re.split(r"(<code>.*?</code>|`[^`]*`|<[^>]*>|\$[^$]*\$)", text)
    return "".join(part if n % 2 else HYPHENATED.sub(r'<span class="report-nobreak">\1</span>', part)
                   for n, part in enumerate(parts))


HEADING = re.compile(r"^(#{1,3})\s+(.+?)\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")
ITEM = re.compile(r"^(?:[-*+]|\d+\.)\s")   # a list item: a list is kept with its heading item by item


def _block_end(lines, j):
    """The index after the markdown block that starts at lines[j]: a fenced code block or $$ maths
    to its closing line, a list item to the next item, anything else to the next blank line or heading."""
    fence = FENCE.match(lines[j]) or (lines[j].strip().startswith("$$") and lines[j].strip().count("$$") == 1)
    if fence:
        close = FENCE if FENCE.match(lines[j]) else re.compile(r".*\$\$")
        k = j + 1
        while k < len(lines) and not close.match(lines[k]):
            k += 1
        return min(k + 1, len(lines))
    k = j
    while k < len(lines) and lines[k].strip() and not (k > j and (HEADING.match(lines[k]) or ITEM.match(lines[k]))):
        k += 1
    return k


def keep_headings(source, anchor, last=False):
    """Markdown in which every heading (levels 1-3, with any headings right after it) and the first
    block after it are wrapped in one <div class="report-keep"> that print never splits
    (report.css), so that no heading is left at the foot of a page; anchor(level, text) gives the
    heading's id (None: no anchor), the wrapper's classes and the heading's text as printed. Returns (markdown, tail): headings
    that end the source are left out and returned as markdown, for the caller to keep with
    whatever comes next, unless `last` (then they stay, unwrapped)."""
    lines, out, fence = source.split("\n"), [], None
    i = 0
    while i < len(lines):
        if FENCE.match(lines[i]):
            fence = None if fence else FENCE.match(lines[i]).group(1)
        if fence or not HEADING.match(lines[i]):
            out.append(lines[i])
            i += 1
            continue
        headings, j = [], i   # the heading, and the headings right after it
        while j < len(lines) and (not lines[j].strip() or HEADING.match(lines[j])):
            if lines[j].strip():
                headings.append(lines[j])
            j += 1
        if j == len(lines) and not last:
            return "\n".join(out).strip(), "\n".join(headings)
        k = _block_end(lines, j) if j < len(lines) else j
        marked, classes = [], set()
        for line in headings:
            level, text = HEADING.match(line).groups()
            ident, more, text = anchor(len(level), text)
            classes |= set(more)
            marked += ([f'<div id="{ident}"></div>', ""] if ident else []) + [f"{level} {unbroken(text)}", ""]
        out += [f'<div class="{" ".join(["report-keep", *sorted(classes)])}">', "", *marked, *lines[j:k], "", "</div>", ""]
        i = k
    return "\n".join(out).strip(), ""


def keep_html(tail, anchor, html):
    """`html` (an output's, say a figure) with the markdown headings `tail` above it, the two wrapped in
    one <div class="report-keep">, as keep_headings does in markdown."""
    marked, classes = [], set()
    for line in tail.split("\n"):
        level, text = HEADING.match(line).groups()
        ident, more, text = anchor(len(level), text)
        classes |= set(more)
        marked.append((f'<div id="{ident}"></div>' if ident else "") + f"<h{len(level)}>{_inline(text)}</h{len(level)}>")
    return f'<div class="{" ".join(["report-keep", *sorted(classes)])}">{"".join(marked)}{html}</div>'


def section_id(notebook, n):
    """The anchor of the notebook's n-th `#` heading (n from 0): s3 for the first of notebook 3, then
    s3b, s3c, ...; `##` headings are s3-1, s3-2, ..., so every id is unique."""
    return f"s{notebook}" if n == 0 else f"s{notebook}{chr(ord('a') + n)}" if n < 26 else f"s{notebook}z{n}"


def shown(cell):
    """The cell as the report shows it, or None: parameters, cells tagged remove-cell (for the
    notebook's reader only, e.g. colourizing one's own image) and code cells with nothing to show
    (imports, assert cells that passed) are left out; so are outputs tagged remove-output, progress
    and warnings (stderr), which stay in the executed notebooks."""
    tags = cell.metadata.get("tags", [])
    if "parameters" in tags or "injected-parameters" in tags or "remove-cell" in tags:
        return None
    if cell.cell_type != "code":
        return cell
    outputs = [] if "remove-output" in tags else [o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")]
    return nbformat.from_dict(dict(cell, outputs=[nbformat.from_dict(o) for o in outputs])) if outputs else None


def combine(executed, placed, profile, runs, author=None):
    """One notebook: title page, contents, the sections in order, then the sources of the figures
    and tables and the provenance. executed: [(notebook, its executed file)]; placed: the sections
    (cnnreport.contents.Section), in order, each a notebook or a part of one; a part that shows
    anything must be placed. runs: the profile's runs, whose data, versions and machines the title
    and the provenance name. author: the title page's author line, if any."""
    parts = {stem: split(stem, nbformat.read(path, as_version=4).cells) for stem, path in executed}
    where = {(s.notebook, s.part) for s in placed}
    unplaced = [str(Section(stem, part)) for stem, p in parts.items() for part, cells in p.items()
                if (stem, part) not in where and any(map(shown, cells))]
    if unplaced:
        raise NotebookFailed(f"notebooks/contents.yaml places no section {', '.join(unplaced)}, which the report would show")
    sections, contents, body_ends, targets, letters = [], [], None, {}, iter(LETTERS)
    for i, section in enumerate((s for s in placed if s.notebook in parts), 1):
        if section.appendix and body_ends is None:
            body_ends = (len(sections), len(contents))   # where the references go
        cells, counter, tops = [], iter(range(1, 10**6)), iter(range(10**6))

        def anchor(level, text):
            if level > 2:
                return None, (), text
            n = next(tops) if level == 1 else None
            ident = section_id(i, n) if level == 1 else f"s{i}-{next(counter)}"
            if level == 1 and section.appendix:   # every appendix gets its letter: "Appendix C. Precision"
                letter = next(letters)
                targets.setdefault(str(section), (f"Appendix {letter}", ident))
                text = f"Appendix {letter}. {text}"
            elif level == 1:
                targets.setdefault(str(section), (f"*{text.split(':')[0]}*", ident))
            contents.append((level, text, ident))
            # a page starts the body (after the contents) and each appendix, not each section of the body
            return ident, ("report-section",) if n == 0 and (section.appendix or i == 1) else (), text

        tail = ""   # headings that ended the last markdown cell, kept with what follows them
        for cell in filter(None, map(shown, parts[section.notebook][section.part])):
            if cell.cell_type == "code":
                data = cell.outputs[0].get("data", {})
                if tail and "text/html" in data:
                    data["text/html"] = keep_html(tail, anchor, "".join(data["text/html"]))
                    tail = ""
                elif tail and "text/markdown" in data:
                    data["text/markdown"], _ = keep_headings(tail + "\n\n" + "".join(data["text/markdown"]),
                                                             anchor, last=True)
                    tail = ""
                elif tail:   # an output headings cannot join: they stand above it
                    cells.append(_md(keep_headings(tail, anchor, last=True)[0]))
                    tail = ""
            if cell.cell_type == "markdown":
                source, tail = keep_headings((tail + "\n\n" if tail else "") + cell.source, anchor)
                if not source:
                    continue
                cell = nbformat.from_dict(dict(cell, source=source))
            cells.append(cell)
        if tail:
            cells.append(_md(keep_headings(tail, anchor, last=True)[0]))
        sections.append((str(section), cells))
    numbers = number_figures(sections)
    refer_to_sections(sections, targets)
    found = add_sources(sections, {stem: title_of([c for cells in p.values() for c in cells]) or stem
                                   for stem, p in parts.items()})
    cited = cite_all(sections)
    if cited:   # the References, between the body and the appendix
        at, entry = body_ends or (len(sections), len(contents))
        sections.insert(at, ("references", [_md(f'<div id="references" class="report-section"></div>\n\n# References'
                                                 f"\n\n{references(cited)}")]))
        contents.insert(entry, (1, "References", "references"))

    sections.append(("sources", [_md(sources_and_provenance(found, numbers, runs))]))   # after the appendix
    contents.append((1, "Sources and provenance", "sources"))
    toc = "\n".join(f'<li class="toc-{level}"><a href="#{ident}">{_inline(text)}</a>'
                     f'<span class="toc-page" data-for="{ident}"></span></li>' for level, text, ident in contents)
    data = data_sets(runs)
    trained_on = f" Trained on {describe(data[0][0], known_data())}." if data else ""
    front = ('<div class="report-title">\n\n# Colourization as classification on CIFAR-10 horses\n\n'
             "### An experiment report, reproducing and extending a student's CSC321/CSC413 homework\n\n"
             + (f"**{html_text.escape(author)}**\n\n" if author else "")
             + f"{PROFILE_NOTES[profile][0].upper()}{PROFILE_NOTES[profile][1:]}.{trained_on}\n\n</div>")
    cells = [_md(front), _md(f'<nav id="contents" class="report-contents report-section">\n<h2>Contents</h2>\n<ul>\n{toc}\n</ul>\n</nav>')]
    for _, body in sections:
        cells += body
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
    return "; ".join(f"{describe(d, known_data())}: {d['train_images']:,} training and {d['test_images']:,} test images "
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


def git_commit():
    """The checkout's commit and whether its tree was clean, in words: "abc1234, a clean tree",
    "abc1234, with uncommitted changes", or "unknown" outside git. The check may run the
    notebooks' git filter (nbstripout) on each changed notebook: given a minute, else said to be unchecked."""
    def git(*args, timeout):
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=timeout)
    try:
        commit = git("rev-parse", "--short", "HEAD", timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    if not commit:
        return "unknown"
    try:
        dirty = git("diff-index", "--quiet", "HEAD", "--", timeout=60).returncode
    except subprocess.TimeoutExpired:
        return f"{commit}, changes not checked"
    return f"{commit}, {'with uncommitted changes' if dirty else 'a clean tree'}"


def export_html(nb, mathjax):
    """The report as HTML text, code hidden, loading MathJax from `mathjax` (typeset() then removes it)."""
    from nbconvert import HTMLExporter
    exporter = HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True, mathjax_url=mathjax + "?config=TeX-AMS_SVG-full,Safe",
                            exclude_anchor_links=True)
    html, _ = exporter.from_notebook_node(nb)
    html = re.sub(r'<script src="[^"]*require[^"]*"></script>', "", html)   # no widgets: not needed
    return html.replace("</head>", f"<style>\n{STYLE.read_text()}</style>\n</head>", 1)


