"""Which notebooks a build must execute again: each execution is keyed by what it depends on, and a
notebook whose key and records are unchanged keeps its executed copy, its markdown taken from the
current source (a typo fixed in prose re-executes nothing).

A notebook depends on its code cells (and the order and kind of all its cells), its params files,
the profile's settings, the package's code and the measurements it may read, the data and store
it points at, and the records of the runs it read (their digests: a record retrained or migrated
changes them). The kernel says which runs it read: record.load_run lists each in the file that
$CNNREPORT_READS names (`reads`).

Not jupyter-cache: it keys an execution on the notebook's code cells alone (as Quarto's freeze keys
on the source file), and would miss a changed package, params file or run record, which is the
failure to avoid.
"""
import hashlib
import json
import os
from pathlib import Path

import nbformat

from cnnreport.params import PARAMS_DIR, ROOT
from cnnreport.training.store import record_digest

PACKAGE = ROOT / "cnnreport"
MEASUREMENTS = ROOT / "reports" / "paper" / "measurements"   # read by the notebooks beside the runs


def _hash(*parts):
    h = hashlib.sha256()
    for part in parts:
        h.update(part if isinstance(part, bytes) else str(part).encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


def _files(*folders, suffixes=(".py", ".css", ".json")):
    return _hash(*(x for folder in folders if folder.is_dir() for path in sorted(folder.rglob("*"))
                   if path.suffix in suffixes and "__pycache__" not in path.parts
                   for x in (path.relative_to(ROOT).as_posix(), path.read_bytes())))


def shared_inputs():
    """What every notebook depends on alike: the package's code and the measurements, the data and
    the store the kernels point at ({part: hash})."""
    where = [os.environ.get(name, "") for name in ("CNNREPORT_DATA", "CNNREPORT_RUNS")]
    return {"the package's code or measurements": _files(PACKAGE, MEASUREMENTS), "the data or runs store": _hash(*where),
            "params/data.yaml": _hash((PARAMS_DIR / "data.yaml").read_bytes())}


def inputs(notebook, profile, shared):
    """{part: hash} of what the notebook at `notebook` (a path) depends on under `profile`, beside the
    runs it reads; shared: shared_inputs()."""
    nb, stem = nbformat.read(notebook, as_version=4), Path(notebook).stem
    code = _hash(*(json.dumps([c.get("id"), c.cell_type, c.metadata.get("tags", []),
                               c.source if c.cell_type == "code" else None]) for c in nb.cells))
    params = [PARAMS_DIR / f"{stem}.yaml", PARAMS_DIR / profile / f"{stem}.yaml"]
    return {**shared, "its code cells": code, "its params": _hash(*(p.read_bytes() if p.exists() else b"" for p in params)),
            "the profile's settings": _hash((PARAMS_DIR / profile / "profile.yaml").read_bytes())}


def reads(listing):
    """{run folder (relative to the repository where inside): its record's digest} of the runs a
    kernel listed in the file `listing` (see the module docstring)."""
    found = {}
    for line in Path(listing).read_text().splitlines() if Path(listing).exists() else []:
        path = Path(line)
        found[path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else line] = record_digest(path)
    return found


def stale(entry, now):
    """Why a notebook must execute again, given its last execution's manifest entry ({"inputs":
    {part: hash}, "reads": {run: digest}} or None) and its inputs now; None if it need not."""
    if entry is None:
        return "not executed before"
    changed = [part for part, h in now.items() if entry["inputs"].get(part) != h]
    if changed:
        return f"{changed[0]} changed"
    for run, digest in entry["reads"].items():
        path = Path(run) if Path(run).is_absolute() else ROOT / run
        if record_digest(path) != digest:
            return f"the record of a run it read changed ({Path(run).name})"
    return None


def with_current_markdown(executed, notebook):
    """The executed notebook at `executed`, its markdown cells replaced by those of the notebook at
    `notebook` (its source, now), by cell id."""
    source = {c.id: c.source for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "markdown"}
    nb = nbformat.read(executed, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.get("id") in source:
            cell.source = source[cell.id]
    nbformat.write(nb, executed)
    return executed
