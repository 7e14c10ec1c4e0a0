"""What a finished run's network gives on test images beyond its recorded metrics, computed once
and stored with the run (add_files), so that the report renders from the runs store alone,
without data or weights: pictures of the first test images (samples.png) and measurements
(evaluations.json): the colour metrics under the other decodings, and the accuracy on the test
images of other data (another copy of the same images, say).

A run computes its pictures and decodings when it finishes (cnnreport.training.train); `evaluate` adds
them to a stored run that has its weights, on the data it trained on, and `on_data` measures it on
the test images of other data:

    python -m cnnreport evaluate RUN_DIR... [--data PATH] [--on FOLDER ...]
"""
import io
import json

import numpy as np
import torch

from cnnreport.science.data import greyscale, prepare
from cnnreport.science.metrics import DECODINGS, TEMPERATURE, decode, quality
from cnnreport.science.palette import labels, to_rgb
from cnnreport.training.speed import mixed_precision, on_device
from cnnreport.training.store import add_files, resolve_store

SAMPLES = 8   # the first test images kept as pictures with each run
ROWS = ("grey input", "truth", "truth in the palette's colours", *DECODINGS)   # samples.png, top to bottom


@torch.inference_mode()
def samples_png(model, x, rgb, palette, autocast):
    """samples.png: the first SAMPLES test images (inputs x (N, 1, 32, 32), true uint8 RGB rgb),
    one row each of ROWS, the network's prediction under every decoding (see metrics.decode)."""
    model.eval()
    x, rgb = x[:SAMPLES], rgb[:SAMPLES].to(x.device)
    with autocast:
        logits = model(x)
    truth = rgb.float() / 255
    rows = [greyscale(rgb).expand(-1, 3, -1, -1), truth, to_rgb(labels(rgb.cpu(), palette.cpu()), palette).to(x.device)]
    rows += [decode(logits, palette, d) for d in DECODINGS]
    grid = torch.cat([torch.cat(list(row.float().cpu()), 2) for row in rows], 1)     # (3, 6 * 32, N * 32)
    buf = io.BytesIO()
    from PIL import Image
    Image.fromarray((grid.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()).save(buf, format="PNG")
    return buf.getvalue()


def read_samples(path):
    """{row name (ROWS): (N, 3, 32, 32) RGB in [0, 1]} from a run's samples.png."""
    from PIL import Image
    with Image.open(path) as im:
        grid = torch.from_numpy(np.asarray(im.convert("RGB")).copy()).permute(2, 0, 1).float() / 255
    tiles = grid.unflatten(1, (len(ROWS), 32)).unflatten(3, (-1, 32))   # (3, rows, 32, N, 32)
    return {name: tiles[:, i].permute(2, 0, 1, 3) for i, name in enumerate(ROWS)}


def decodings(model, x, y, rgb, palette, autocast):
    """{decoding: colour metrics} under the mean and the annealed mean (T = metrics.TEMPERATURE);
    the argmax's are the run's own metrics."""
    return {d: quality(model, x, y, rgb, palette, autocast, d)[0] for d in DECODINGS if d != "argmax"} | {
        "temperature": TEMPERATURE}


@torch.inference_mode()
def per_image_accuracy(model, x, y, autocast, batch_size=250):
    """(N,) share of each image's pixels (%) whose predicted colour category is y's."""
    model.eval()
    out = []
    for xb, yb in zip(x.split(batch_size), y.split(batch_size)):
        with autocast:
            out.append((model(xb).argmax(1) == yb.to(xb.device)).double().mean((1, 2)).cpu() * 100)
    return torch.cat(out)


def on_data(path, others):
    """Add to the stored run at `path` its pixel accuracy, per image and over all, on the test images
    of each of `others` (data folders), each image labelled with the run's palette from its own
    pixels, computed from its weights in training's precision: evaluations.json["test_sets"], by
    fingerprint. Images are in name order, so two copies of the same images pair image by image."""
    from cnnreport.science.data import load_category
    from cnnreport.training.record import load_run
    run = load_run(path)
    stored, c, p, cpu = run.evaluations(), run.config, run.info["precision"], torch.device("cpu")
    model, autocast = run.model().to(memory_format=torch.channels_last), mixed_precision(p, cpu)
    todo = [ds for ds in (load_category(c.category, other) for other in others)
            if ds.fingerprint not in stored.get("test_sets", {})]
    for ds in todo:
        acc = per_image_accuracy(model, on_device(greyscale(ds.test), cpu, p), labels(ds.test, run.palette), autocast)
        stored.setdefault("test_sets", {})[ds.fingerprint] = dict(data=ds.identity, pixel_acc=acc.mean().item(),
                                                                  per_image=acc.tolist())
    if todo:
        add_files(run.path, {"evaluations.json": json.dumps(stored, indent=2, sort_keys=True) + "\n"})
    return load_run(run.path)


def evaluate(path, data=None):
    """Add to the stored run at `path` what it lacks of its samples.png and its decodings, computed
    from its weights in training's precision on the test split of the data it trained on
    (ValueError if `data` are other data, or the weights were not kept)."""
    from cnnreport.training.record import load_run
    run = load_run(path)
    path = run.path
    stored = run.evaluations()
    if (path / "samples.png").exists() and "decodings" in stored:
        return run
    c, p, cpu = run.config, run.info["precision"], torch.device("cpu")
    t = prepare(c.category, data, c.num_colours, resolve_store() / "palettes", palette=run.palette)
    if t["data"]["fingerprint"] != run.data["fingerprint"]:
        raise ValueError(f"{path} was trained on data {run.data['fingerprint']}, not on these "
                         f"({t['data']['fingerprint']}): point CNNREPORT_DATA at the data it was trained on")
    model, autocast = run.model().to(memory_format=torch.channels_last), mixed_precision(p, cpu)
    test = slice(c.test_images or None)
    to_input = lambda grey: on_device(grey, cpu, p)   # noqa: E731 - training's precision and layout
    x, y, rgb = to_input(t["x_test"][test]), t["y_test"][test], t["rgb_test"][test]
    files = {}
    if not (path / "samples.png").exists():
        files["samples.png"] = samples_png(model, x, rgb, run.palette, autocast)
    if "decodings" not in stored:
        stored["decodings"] = decodings(model, x, y, rgb, run.palette, autocast)
    files["evaluations.json"] = json.dumps(stored, indent=2, sort_keys=True) + "\n"
    add_files(path, files)
    return load_run(path)
