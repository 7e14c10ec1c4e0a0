"""Citations from references.bib: markdown and computed text cite by key, the build renders them in
author-year form and lists the works cited, and only those, under References (pybtex parses the
.bib and formats the list, DOIs and URLs as links).

    [@zhang2016]                -> (Zhang et al. 2016), linked to its entry
    [@ioffe2015; @santurkar2018] -> (Ioffe & Szegedy 2015; Santurkar et al. 2018)
    @ioffe2015 computes          -> Ioffe & Szegedy (2015) computes

In Jupyter the keys show as written; only the report resolves them (like @fig: and @tab:). A key
missing from the .bib, or a citation typed by hand ("Zhang et al. 2016"), stops the build naming
the notebook: the .bib is the one place a work is named.
"""
import functools
import html
import re

from cnnreport.params import ROOT

BIB = ROOT / "references.bib"
BRACKETED = re.compile(r"\[(@[\w-]+(?:\s*;\s*@[\w-]+)*)\]")
NARRATIVE = re.compile(r"(?<![\w@\[/.-])@([a-z][\w-]*)(?![\w:-])")   # not an e-mail, a path, @fig:name or @tab:name
TYPED = re.compile(r"\b[A-Z][\w'-]+(?:\s+et\s+al\.|\s+(?:&|and)\s+[A-Z][\w'-]+),?\s+\(?(?:19|20)\d\d\b"
                   r"|\([A-Z][\w'-]+,?\s+(?:19|20)\d\d\)")


class CitationError(RuntimeError):
    pass


@functools.cache
def library(path=None):
    """The parsed .bib (pybtex's BibliographyData)."""
    from pybtex.database import parse_file
    return parse_file(str(path or BIB))


def label(key, bib=None):
    """(authors, year) of an entry as the text names it: "Zhang et al.", "Ioffe & Szegedy", "Krizhevsky"."""
    from pybtex.richtext import Text
    entry = (bib or library()).entries[key]
    names = [Text.from_latex(" ".join(p.last_names)).render_as("text")   # S{\"u}sstrunk: Süsstrunk
             for p in entry.persons.get("author", [])]
    authors = names[0] if len(names) == 1 else " & ".join(names) if len(names) == 2 else f"{names[0]} et al."
    return authors, entry.fields.get("year", "n.d.")


def cite(text, where, cited, bib=None):
    """`text` (markdown) with its citations rendered as links to their entries, and their keys added
    to `cited` (a dict used as an ordered set); CitationError naming `where` for a key the .bib
    lacks or a citation typed by hand."""
    bib = bib or library()
    typed = TYPED.search(BRACKETED.sub("", text))
    if typed:
        raise CitationError(f"{where} types the citation {' '.join(typed.group(0).split())!r}: cite the work by its key from "
                            f"references.bib, as [@key]")

    def known(key):
        if key not in bib.entries:
            raise CitationError(f"{where} cites @{key}, which references.bib does not hold")
        cited[key] = None
        return key

    def link(key, text):
        return f'<a class="report-cite" href="#ref-{key}">{html.escape(text)}</a>'

    def bracketed(m):
        keys = [known(k.strip().lstrip("@")) for k in m.group(1).split(";")]
        return "(" + "; ".join(link(k, " ".join(label(k, bib))) for k in keys) + ")"

    def narrative(m):
        if m.group(1) not in bib.entries:
            return m.group(0)   # not a key: an @ in prose
        authors, year = label(known(m.group(1)), bib)
        return link(m.group(1), f"{authors} ({year})")
    return NARRATIVE.sub(narrative, BRACKETED.sub(bracketed, text))


def references(cited, bib=None):
    """The References list of the keys cited (as markdown holding HTML), formatted by pybtex's plain
    style: sorted by author, each entry anchored as #ref-<key>, with its DOI or URL as a link."""
    from pybtex.plugin import find_plugin
    bib = bib or library()
    style = find_plugin("pybtex.style.formatting", "plain")()
    backend = find_plugin("pybtex.backends", "html")()
    entries = style.format_bibliography(bib, citations=list(cited))
    items = "".join(f'<li id="ref-{e.key}">{e.text.render(backend)}</li>' for e in entries)
    return f'<ul class="report-references">{items}</ul>'
