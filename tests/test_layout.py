"""The report's print layout: headings kept with what follows them, unique anchors, no machine paths
(fast, no browser), and tools/table_rows.py measuring rows in Chromium (slow, skipped without it)."""
import importlib.util
import re

import nbformat
import pytest

from cnnreport.contents import Section
from cnnreport.params import ROOT
from cnnreport.report import html
from cnnreport.report.pdf import find_chromium
from cnnreport.report.present import figure


def anchors():
    """An anchor() as combine() passes it: ids in order, `#` headings starting a section."""
    given = []

    def anchor(level, text):
        given.append((level, text))
        return (f"a{len(given)}", ("report-section",) if level == 1 else (), text) if level < 3 else (None, (), text)
    return anchor, given


def test_a_heading_and_the_block_after_it_share_one_wrapper():
    anchor, given = anchors()
    source = "# Title\n## Sub\nFirst line\nsecond line\n\nNot kept.\n\n### Small\n\n$$\na\n\nb\n$$\n\nafter"
    out, tail = html.keep_headings(source, anchor)
    assert tail == "" and given == [(1, "Title"), (2, "Sub"), (3, "Small")]
    kept = re.findall(r'<div class="([^"]+)">\n\n(.*?)\n\n</div>', out, re.S)
    assert [k[0] for k in kept] == ["report-keep report-section", "report-keep"]
    assert "# Title" in kept[0][1] and "## Sub" in kept[0][1] and "second line" in kept[0][1]
    assert "Not kept" not in kept[0][1] and "Not kept." in out
    assert "$$\na\n\nb\n$$" in kept[1][1] and "after" not in kept[1][1]   # a display equation is one block


def test_headings_that_end_a_cell_come_back_for_what_follows_them():
    anchor, given = anchors()
    out, tail = html.keep_headings("Text.\n\n## Results\n", anchor)
    assert (out, tail, given) == ("Text.", "## Results", [])
    kept = html.keep_html(tail, anchor, "<figure>plot</figure>")
    assert kept == '<div class="report-keep"><div id="a1"></div><h2>Results</h2><figure>plot</figure></div>'


def test_hyphenated_heading_words_do_not_break_but_code_and_maths_stay_as_written():
    assert html.unbroken("U-Net without skips") == '<span class="report-nobreak">U-Net</span> without skips'
    assert html.unbroken("the `conv-t` net, $a-b$") == "the `conv-t` net, $a-b$"
    assert html._inline("U-Net (`unet`)") == '<span class="report-nobreak">U-Net</span> (<code>unet</code>)'


def test_section_ids_are_unique():
    ids = [html.section_id(n, k) for n in range(1, 13) for k in range(30)]
    assert len(set(ids)) == len(ids) and html.section_id(3, 0) == "s3" and html.section_id(3, 1) == "s3b"


def test_combine_gives_unique_ids_and_keeps_a_heading_with_the_figure_below_it(tmp_path, monkeypatch):
    from matplotlib.figure import Figure
    monkeypatch.setattr(html, "git_commit", lambda: "abc1234")
    fig = Figure()
    fig.subplots().plot([1, 2])
    shown = figure(fig, "fig:layout-test", "A line.", runs=())
    out = nbformat.v4.new_output("display_data", data={"text/html": shown.html, "text/plain": repr(shown)})
    cells = [nbformat.v4.new_markdown_cell("# Abstract\n\nShort.\n\n# Findings\n\nSee @fig:layout-test.\n\n## U-Net"),
             nbformat.v4.new_code_cell("", outputs=[out]),
             nbformat.v4.new_markdown_cell("## Next\n\nMore.")]
    path = tmp_path / "00_one.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    nb = html.combine([("00_one", path)], [Section("00_one")], "paper", [])
    text = "\n".join(c.source if c.cell_type == "markdown" else c.outputs[0].data["text/html"] for c in nb.cells)
    ids = re.findall(r'<div id="([^"]+)"', text)
    assert ids == ["s1", "s1b", "s1-1", "s1-2", "sources"]
    assert re.findall(r'href="#([^"]+)"', nb.cells[1].source) == ["s1", "s1b", "s1-1", "s1-2", "sources"]
    assert nb.cells[3].cell_type == "code"
    kept = nb.cells[3].outputs[0].data["text/html"]   # the heading that ended the cell, now above the figure
    assert kept.startswith('<div class="report-keep"><div id="s1-1"></div><h2>') and "U-Net" in kept
    assert 'data-label="fig:layout-test"' in kept and "## U-Net" not in nb.cells[2].source
    assert "/tmp" not in text and str(ROOT) not in text


def table_rows():
    spec = importlib.util.spec_from_file_location("table_rows", ROOT / "tools" / "table_rows.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def page(table_style):
    cells = "".join(f"<td>a rather long cell of words, number {n}</td>" for n in range(6))
    return (f"<!DOCTYPE html><html><head><style>body {{ margin: 0; }} td {{ {table_style} }}</style></head><body>"
            f'<figure id="tab-wide"><figcaption>Table 1: Wide.</figcaption><table><tr><td>short</td></tr>'
            f"<tr>{cells}</tr></table></figure></body></html>")


@pytest.mark.slow
@pytest.mark.skipif(find_chromium() is None, reason="no Chromium to lay the page out")
def test_table_rows_finds_wrapped_rows_tables_wider_than_the_text_and_tables_shrunk_to_fit(tmp_path):
    tool = table_rows()
    wrapping, wide, tiny, legible = (tmp_path / f"{n}.html" for n in ("wrapping", "wide", "tiny", "legible"))
    wrapping.write_text(page("white-space: normal"))
    wide.write_text(page("white-space: nowrap"))
    tiny.write_text(page("white-space: nowrap; font-size: 5px"))      # fits the text only at 3.75 pt
    legible.write_text(page("white-space: nowrap; font-size: 11px").replace("a rather long cell of words, ", ""))
    found = tool.measure(wrapping)
    assert found["tables"] == 1 and found["wide"] == [] and len(found["rows"]) == 1
    assert found["rows"][0]["table"].startswith("#tab-wide Table 1") and found["rows"][0]["lines"] >= 2
    found = tool.measure(wide)
    assert found["rows"] == [] and found["wide"][0]["width"] > found["wide"][0]["room"]
    found = tool.measure(tiny)
    assert found["rows"] == found["wide"] == [] and found["small"][0]["pt"] < tool.BODY_PT
    assert tool.measure(legible) == {"rows": [], "wide": [], "small": [], "tables": 1}
    assert tool.main([str(wrapping)]) == tool.main([str(tiny)]) == 1 and tool.main([str(legible)]) == 0


@pytest.mark.slow
@pytest.mark.skipif(find_chromium() is None, reason="no Chromium to lay the page out")
def test_no_row_of_the_committed_paper_report_is_taller_than_one_line():
    found = table_rows().measure(ROOT / "reports" / "paper" / "report.html")
    assert found["tables"] > 30 and found["rows"] == [] and found["wide"] == [] and found["small"] == []
