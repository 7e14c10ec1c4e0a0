"""What the report holds, in reading order: notebooks/contents.yaml, the one list that places each
section, in the body or in the appendix (the build puts the references between them). Nothing
derives order from file names, so a section goes anywhere without renaming others.

A section is a notebook, or a part of one: the cells from a markdown cell tagged `part:<name>` up
to the next such tag, listed as `<notebook>/<name>`; a notebook's cells before its first part tag
are listed by its name alone. A notebook always runs whole (its parts share its variables); the
report places its parts where the list says, and every part must be placed once.
"""
import functools
import re
from dataclasses import dataclass

import yaml

from cnnreport.params import ROOT

NOTEBOOKS = ROOT / "notebooks"
CONTENTS = NOTEBOOKS / "contents.yaml"
PART = "part:"   # the cell tag that starts a part of a notebook


@dataclass(frozen=True)
class Section:
    notebook: str
    part: str = None        # None: the notebook's cells before its first part tag (all of them, if it has none)
    appendix: bool = False  # placed in the appendix, after the body and the references

    def __str__(self):
        return self.notebook + (f"/{self.part}" if self.part else "")


def sections(path=None):
    """The report's sections, in order (notebooks/contents.yaml): the body's, then the appendix's."""
    path = path or CONTENTS
    listed = yaml.safe_load(path.read_text())
    parts = {k: listed.get(k) for k in ("body", "appendix")} if isinstance(listed, dict) else {}
    if set(listed or {}) - {"author", "body", "appendix"} or not all(
            isinstance(v, list) and all(isinstance(e, str) for e in v) for v in parts.values() if v is not None):
        raise ValueError(f"{path} must hold `body:` and `appendix:`, each a list of notebook names (or notebook/part)")
    out = [Section(*e.split("/", 1), appendix=where == "appendix") for where in ("body", "appendix")
           for e in parts.get(where) or []]
    names = [str(s) for s in out]
    doubles = sorted({n for n in names if names.count(n) > 1})
    if doubles:
        raise ValueError(f"{path} places {', '.join(doubles)} more than once")
    return out


def author(path=None):
    """The title page's author line (`author:` in notebooks/contents.yaml), or None for none."""
    return (yaml.safe_load((path or CONTENTS).read_text()) or {}).get("author") or None


def notebooks(path=None):
    """The report's notebooks, in the order their first section comes."""
    return list(dict.fromkeys(s.notebook for s in sections(path)))


def part_of(cell):
    """The part a cell starts (its `part:<name>` tag), or None."""
    return next((tag[len(PART):] for tag in cell.metadata.get("tags", []) if tag.startswith(PART)), None)


def split(notebook, cells):
    """{part: its cells} of a notebook's cells (part None: those before the first part tag)."""
    parts, current = {None: []}, None
    for cell in cells:
        if part_of(cell) is not None:
            current = part_of(cell)
            if current in parts:
                raise ValueError(f"notebook {notebook} tags two cells part:{current}")
            parts[current] = []
        parts[current].append(cell)
    return parts


@functools.cache
def title(notebook):
    """A notebook's title (title_of its cells), or its name where it has none."""
    import nbformat
    return title_of(nbformat.read(NOTEBOOKS / f"{notebook}.ipynb", as_version=4).cells) or notebook


def title_of(cells):
    """The title of a notebook's cells: its first `# ` heading, up to a colon ("Colour quality: beyond
    pixel accuracy" reads "Colour quality"); None where it has none."""
    for cell in cells:
        found = re.search(r"^#\s+(.+?)\s*$", cell.source, re.M) if cell.cell_type == "markdown" else None
        if found:
            return found.group(1).split(":")[0].strip()
    return None
