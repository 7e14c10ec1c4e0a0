"""What `make lab` adds to JupyterLab: notebooks are saved as they are committed, without outputs,
so that running them leaves the git tree clean (the runs store keeps every result: running a
notebook again loads them in seconds). `make setup` also installs a git filter (nbstripout) that
strips outputs from notebooks saved elsewhere before they are committed. And a button to pick a
file, so that a reader's input need not be typed into a tracked notebook (`pick_image`)."""
import io

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


def pick_image(show, image=None):
    """Display show(image, name) for the path `image` (None: show's default), in the cell's outputs
    (papermill and nbval keep it); then, in Jupyter, a button to pick an image file, whose figure
    show() draws under it: nothing is typed into the notebook, which stays as committed. Returns
    the button and the area its figures go to."""
    import ipywidgets as widgets
    from IPython.display import display

    display(show(image, image))
    button = widgets.FileUpload(accept="image/*", multiple=False, description="Pick an image")
    shown = widgets.Output()

    def picked(change):
        for upload in change["new"]:   # ipywidgets 8: (name, type, size, content, ...) per file
            shown.clear_output(wait=True)
            with shown:
                display(show(io.BytesIO(upload["content"]), upload["name"]))
    button.observe(picked, names="value")
    return widgets.VBox([button, shown])
