"""What `make lab` adds to JupyterLab: notebooks are saved as they are committed, without outputs,
so that running them leaves the git tree clean (the runs store keeps every result: running a
notebook again loads them in seconds). `make setup` also installs a git filter (nbstripout) that
strips outputs from notebooks saved elsewhere before they are committed."""

VOLATILE = ("outputs", "execution_count")


def strip_outputs(model, **kwargs):
    """A Jupyter pre-save hook: a notebook's outputs and execution counts emptied, and the metadata
    a session adds (widget state, the kernel's language details, timings) dropped, keeping tags."""
    if model.get("type") != "notebook":
        return
    nb = model["content"]
    nb["metadata"].pop("widgets", None)
    if "language_info" in nb["metadata"]:
        nb["metadata"]["language_info"] = {"name": nb["metadata"]["language_info"].get("name", "python")}
    for cell in nb["cells"]:
        cell["metadata"] = {k: v for k, v in cell["metadata"].items() if k == "tags"}
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
