"""Test images beside the colourizations of trained runs: the rows of the report's sample figure
(drawn by plots.samples), so that plotting never loads data or runs a model."""
from .data import greyscale, load_category
from .palette import labels, to_rgb
from .train import colourize, load_run


def sample_rows(named_runs, n=8, data=None, start=0, images=None):
    """{row name: (n, 3, 32, 32) RGB in [0, 1]}: test images `start`..`start + n` of the runs'
    category (or the given uint8 `images`, (n, 3, 32, 32)) as grey input, truth, truth in the
    palette's colours (the best any network can do), then each run's colourization.
    named_runs: {label: Run or run directory, or (that, decoding)} (see metrics.decode)."""
    runs = {k: v if isinstance(v, tuple) else (v, "argmax") for k, v in named_runs.items()}
    runs = {k: (r if hasattr(r, "palette") else load_run(r), d) for k, (r, d) in runs.items()}
    first = next(iter(runs.values()))[0]
    rgb = load_category(first.config.category, data).test[start:start + n] if images is None else images
    grey = greyscale(rgb)
    rows = {"grey input": grey.expand(-1, 3, -1, -1), "truth": rgb.float() / 255,
            f"truth, {len(first.palette)} colours": to_rgb(labels(rgb, first.palette), first.palette)}
    rows.update({name: colourize(run, grey, decoding) for name, (run, decoding) in runs.items()})
    return rows
