"""Citations by key from references.bib: rendered author-year, the References listing exactly the
works cited, and a missing key or a citation typed by hand stopping the build."""
import re

import pytest

from cnnreport.report import citations


def test_keys_render_as_author_year_links_and_are_collected_in_order():
    cited = {}
    text = citations.cite("As [@zhang2016] and [@ioffe2015; @santurkar2018] show, @ioffe2015 compute; "
                          "see @fig:lr, @tab:x, a@b.org.", "notebook nb", cited)
    plain = re.sub(r"<[^>]+>", "", text)
    assert plain == ("As (Zhang et al. 2016) and (Ioffe &amp; Szegedy 2015; Santurkar et al. 2018) show, "
                     "Ioffe &amp; Szegedy (2015) compute; see @fig:lr, @tab:x, a@b.org.")
    assert 'href="#ref-zhang2016"' in text and list(cited) == ["zhang2016", "ioffe2015", "santurkar2018"]


def test_a_name_with_a_latex_accent_reads_as_printed():
    assert citations.label("hasler2003") == ("Hasler & Süsstrunk", "2003")   # S{\"u}sstrunk in references.bib


@pytest.mark.parametrize("text, message", [
    ("As [@zhang2017] shows.", "notebook nb cites @zhang2017, which references.bib does not hold"),
    ("As Zhang et al. 2016 show.", "notebook nb types the citation 'Zhang et al. 2016'"),
    ("As Ioffe & Szegedy\n(2015) compute.", "notebook nb types the citation 'Ioffe & Szegedy \\(2015'"),
    ("Horses (Krizhevsky 2009).", "notebook nb types the citation '\\(Krizhevsky 2009\\)'"),
])
def test_a_key_missing_from_the_bib_or_a_typed_citation_stops_naming_the_notebook(text, message):
    with pytest.raises(citations.CitationError, match=message):
        citations.cite(text, "notebook nb", {})


def test_the_references_list_exactly_the_works_cited_with_their_dois_as_links():
    listed = citations.references({"zhang2016": None, "krizhevsky2009": None})
    assert re.findall(r'<li id="ref-([\w-]+)"', listed) == ["krizhevsky2009", "zhang2016"]   # by author
    assert '<a href="https://doi.org/10.1007/978-3-319-46487-9_40">' in listed
    every = set(citations.library().entries)
    assert {"original", "zhang2016", "he2016"} <= every
