"""How results read in the report: numbered, captioned figures and tables, formatted for reading.

A notebook shows a figure with `figure(fig, "fig:lr-sweep", "caption", runs=grid)` and a table with
`table(df, "tab:lr", "caption", runs=grid)` (or one of the report's tables built on it), naming
the runs it was computed from (a Sweep, Runs, or () for none); its markdown refers to them as
`@fig:lr-sweep` and `@tab:lr`. Numbers given here count within one notebook;
`cnnreport.report` numbers every figure and table again across the whole report, in order, and
replaces each reference by its "Figure 3" or "Table 2", linked to it.
"""
import base64
import html
import io
import math
import numbers
import re

import numpy as np
import pandas as pd

from cnnreport.report.names import field_name

KINDS = {"fig": "Figure", "tab": "Table"}
LABEL = re.compile(r"^(fig|tab):[A-Za-z0-9_-]+$")
LONG_TABLE = 25   # rows beyond which a table may break across pages (rows themselves never do)
_numbers = {"fig": {}, "tab": {}}   # label -> number, in the order this kernel first showed them


class Captioned:
    """A numbered figure or table: HTML in Jupyter and the report, its caption as plain text."""

    def __init__(self, html_text, text):
        self.html, self.text = html_text, text

    def _repr_html_(self):
        return self.html

    def __repr__(self):
        return self.text


def _captioned(label, caption, body, runs, long=False):
    """`body` in a <figure> carrying the label (the report build finds and renumbers it), its
    caption (above a table, below a figure, as papers place them) and under the caption a collapsed
    "Source" naming the runs it was computed from (runs_summary; the build adds the cell's code).
    A long table may break across pages (the report's print style, report.css), so that it starts
    under its caption rather than on a new page."""
    if not LABEL.match(label):
        raise ValueError(f"label {label!r} must look like fig:name or tab:name (letters, digits, - and _)")
    kind = label[:3]
    n = _numbers[kind].setdefault(label, len(_numbers[kind]) + 1)
    summary, keys = runs_summary(runs)
    cap = f'<figcaption><b>{KINDS[kind]} <span class="report-number">{n}</span>:</b> {caption}</figcaption>'
    source = (f'<details class="report-source"><summary>Source</summary><p class="report-runs">{html.escape(summary)}'
              + (f': <code>{" ".join(keys)}</code>' if keys else "") + "</p></details>")
    inner = cap + source + body if kind == "tab" else body + cap + source
    classes = f"report-{kind}" + (" report-long" if long else "")
    return Captioned(f'<figure class="{classes}" id="{label.replace(":", "-")}" data-label="{label}" '
                     f'data-runs="{html.escape(summary)}">{inner}</figure>',
                     f"{KINDS[kind]} {n}: {re.sub(r'<[^>]+>', '', caption)}")


def runs_summary(runs):
    """(what a figure or table was computed from, in words: how many runs and their settings; the
    run keys, their folders' names). runs: a Sweep, Runs, one Run, or () for none (computed from the
    networks' definitions or other measurements, said so)."""
    from cnnreport.analysis.sweeps import distinct
    from cnnreport.report.names import MODELS
    from cnnreport.training.config import Config
    runs = [runs] if hasattr(runs, "config") else list(getattr(runs, "runs", runs))
    if not runs:
        return "computed from no run", []
    runs = distinct(runs)
    configs = [r.config for r in runs]

    def values(name):
        seen = sorted({getattr(c, name) for c in configs}, key=lambda v: (str(type(v)), v))
        return ", ".join(MODELS.get(v, v) if name == "model" else setting(v) for v in seen)
    defaults = Config()
    shown = [f for f in Config.names() if f == "model" or len({getattr(c, f) for c in configs}) > 1
             or getattr(configs[0], f) != getattr(defaults, f)]
    precision = ", ".join(sorted({r.info["precision"] for r in runs}))
    data = ", ".join(sorted({r.data["fingerprint"] for r in runs}))
    settings = "; ".join(f"{field_name(f) if f != 'model' else 'network'} {values(f)}" for f in shown)
    return (f"{len(runs)} run{'s' if len(runs) > 1 else ''}: {settings}; {precision}; data {data}",
            [r.path.name for r in runs])


def figure(fig, label, caption, *, runs, dpi=130):
    """A matplotlib Figure as a numbered figure with a caption (HTML allowed in captions), made from
    `runs` (see runs_summary)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    png = base64.b64encode(buf.getvalue()).decode()
    return _captioned(label, caption, f'<img src="data:image/png;base64,{png}" alt="{html.escape(label)}">', runs)

# ----------------------------------------------------------------------------- cells


def number(x):
    """A plain number as people write it: 0.001, 0.00001, 12,345 for integers; 1e+30 and 1e-09 only
    beyond a million or below a millionth."""
    if isinstance(x, numbers.Integral) and not isinstance(x, bool):
        return f"{x:,}"
    if x is None or isinstance(x, float) and math.isnan(x):
        return "–"
    if float(x).is_integer() and abs(x) < 1e6:
        return f"{int(x):,}"
    if 1e-6 <= abs(x) < 1e6:
        return np.format_float_positional(float(f"{x:.6g}"), trim="-")
    return f"{x:g}"


def setting(v):
    """A setting's value as people write it: yes or no, a plain number (`number`), or its text."""
    return ("yes" if v else "no") if isinstance(v, (bool, np.bool_)) else number(v) if isinstance(v, numbers.Number) \
        else str(v)


def fixed(digits, signed=False):
    """A formatter with `digits` decimals (a sign always shown when `signed`); NaN reads "–", and
    a value that rounds to zero reads 0.0, never -0.0."""
    spec = f"{'+' if signed else ''},.{digits}f"
    return lambda x: "–" if x is None or isinstance(x, float) and math.isnan(x) else format(round(x, digits) + 0.0, spec)


SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def powers(digits=2):
    """A formatter for numbers far from 1 in powers of ten, e.g. 3.2 × 10⁻⁷ (never e-notation); numbers
    between 0.01 and 1,000 as plain decimals with `digits` significant digits, zero as 0."""
    def show(x):
        if x == 0 or 0.01 <= abs(x) < 1000:
            return f"{x:.{digits}g}"
        mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
        return f"{mantissa} × 10{str(int(exponent)).translate(SUPERSCRIPT)}"
    return show


def signed(x, digits=1):
    """A difference with its sign, e.g. +1.2 or -0.5; one that rounds to zero reads +0.0, never -0.0."""
    return fixed(digits, signed=True)(x)


def _text(value):
    return "–" if value is None or isinstance(value, float) and math.isnan(value) else str(value)


def table(df, label, caption, formats=None, *, runs, prose=()):
    """A DataFrame as a numbered table made from `runs` (see runs_summary): no index column, each
    column through formats[column] (a function of the value; default `number` for numbers, str
    otherwise, "–" for a missing text), numbers right-aligned; the cells of the `prose` columns may
    wrap (no other cell does: report.css)."""
    formats = formats or {}
    columns = list(df.columns)
    numeric = {c: pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]) for c in columns}
    fmt = {c: formats.get(c, number if numeric[c] else _text) for c in columns}
    cell = {c: ' class="report-prose" style="text-align:left"' if c in prose else
            f' style="text-align:{"right" if numeric[c] else "left"}"' for c in columns}
    head = "".join(f"<th{cell[c]}>{html.escape(str(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td{cell[c]}>{html.escape(fmt[c](v))}</td>" for c, v in zip(columns, values))
                   + "</tr>" for values in df.itertuples(index=False))
    return _captioned(label, caption, f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>", runs,
                      long=len(df) > LONG_TABLE)


def known(df, columns):
    """`columns` without those that hold no value at all (an original-report column where it gave none)."""
    return [c for c in columns if df[c].notna().any()]


# ----------------------------------------------------------------------------- a notebook's settings


def settings(p, profile):
    """A notebook's parameters (from load_params) as one compact table, three settings a row: for
    the notebook's reader (the report's cells hide it; its appendix lists every experiment's settings)."""
    def value(name, v):
        if isinstance(v, dict):
            return "; ".join(f"{k}: {value(name, x)}" for k, x in v.items())
        if isinstance(v, list):
            return ", ".join(value(name, x) for x in v)
        return "all" if name.endswith("_images") and v == 0 else number(v) if isinstance(v, (int, float)) else str(v)
    cells = [f"<th>{html.escape(field_name(k))}</th><td>{html.escape(value(k, v))}</td>"
             for k, v in p.items()]
    rows = "".join("<tr>" + "".join(cells[i:i + 3]) + "</tr>" for i in range(0, len(cells), 3))
    return Captioned(f'<table class="report-settings"><caption>Settings ({html.escape(profile)} profile)</caption>'
                     f"{rows}</table>", f"Settings ({profile} profile): {p}")
