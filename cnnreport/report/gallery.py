"""Test images beside the colourizations of trained runs: the rows of the report's sample figures
(drawn by plots.samples), read from the pictures each run stored when it finished (samples.png),
so that a report renders without data or weights; only images of the reader's own need weights."""
from cnnreport.report.names import MODELS, network
from cnnreport.science.data import greyscale
from cnnreport.science.palette import labels, to_rgb
from cnnreport.training.evaluate import ROWS, SAMPLES
from cnnreport.training.record import colourize, load_run


def sample_rows(named_runs, n=SAMPLES, images=None):
    """{row name: (n, 3, H, W) RGB in [0, 1]}: the first n test images (n <= evaluate.SAMPLES) as grey
    input, truth and truth in the palette's colours (the best any network can do), then each run's
    colourization, as the runs stored them; or uint8 `images` (n, 3, H, W) of one's own, colourized
    now by each run's weights. named_runs: {label: Run or run directory, or (that, decoding)}
    (see metrics.decode)."""
    runs = {k: v if isinstance(v, tuple) else (v, "argmax") for k, v in named_runs.items()}
    runs = {k: (r if hasattr(r, "palette") else load_run(r), d) for k, (r, d) in runs.items()}
    first = next(iter(runs.values()))[0]
    if images is None:
        if n > SAMPLES:
            raise ValueError(f"runs keep pictures of their first {SAMPLES} test images, not {n}")
        stored = {name: run.samples() for name, (run, _) in runs.items()}
        rows = {row: picture[:n] for row, picture in stored[next(iter(runs))].items() if row in ROWS[:3]}
        rows.update({name: stored[name][decoding][:n] for name, (_, decoding) in runs.items()})
        return rows
    grey = greyscale(images)
    rows = {ROWS[0]: grey.expand(-1, 3, -1, -1), ROWS[1]: images.float() / 255,
            ROWS[2]: to_rgb(labels(images, first.palette), first.palette)}
    rows.update({name: colourize(run, grey, decoding) for name, (run, decoding) in runs.items()})
    return rows


def networks(runs, decoding="argmax"):
    """{network's display name: (run, decoding)} of `runs`, for sample_rows: Runs (one per network),
    or a Sweep's, each then named by its row (one run per row)."""
    if hasattr(runs, "row"):
        return {network(runs.row(run)): (run, decoding) for run in runs.runs}
    return {MODELS[run.config.model]: (run, decoding) for run in runs}


def decodings(plain, rebalanced):
    """{row name: (run, decoding)}: a network's plain-loss run under every decoding, and its
    rebalanced run under the argmax and the annealed mean, for sample_rows."""
    return {"argmax": (plain, "argmax"), "mean": (plain, "mean"), "annealed": (plain, "annealed"),
            "argmax, rebalanced": (rebalanced, "argmax"), "annealed, rebalanced": (rebalanced, "annealed")}


def own_image(runs, image=None, name=None):
    """A figure of an image of one's own (a path or file object, called `name`; None: the first test
    horse) resized to 32x32 and colourized by each of `runs` (one per network, with weights)."""
    from cnnreport.report import plots, present
    from cnnreport.science.data import load_image
    rows = sample_rows(networks(runs), n=1, images=None if image is None else load_image(image, name=name))
    return present.figure(plots.samples(rows), "fig:own", f"{name or 'The first test horse'}: grey input, truth, "
                          "truth in the palette's colours and each network's colourization (argmax).", runs=runs)
