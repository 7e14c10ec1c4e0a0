"""Notebooks run in `make lab` are saved as committed: outputs and session metadata stripped."""
import json

import nbformat

from cnnreport.params import ROOT
from cnnreport.report.lab import strip_outputs


def test_a_notebook_run_and_saved_in_lab_is_byte_identical_to_the_committed_one():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        stem = path.stem
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="trained\n")]
                cell.execution_count = 7
            cell.metadata["execution"] = {"iopub.status.idle": "2026-12-06T07:00:00.000Z"}
        nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
        nb.metadata["language_info"] = {"name": "python", "version": "3.11.7", "mimetype": "text/x-python"}
        model = {"type": "notebook", "content": json.loads(nbformat.writes(nb))}
        strip_outputs(model)
        saved = nbformat.writes(nbformat.from_dict(model["content"])) + "\n"   # as jupyter_server writes it
        assert saved == path.read_text(), f"{stem} would be saved differently from its committed version"
