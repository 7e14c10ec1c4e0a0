"""The paper's measurements of what our JPEG copy of the horses changes (params/09_jpeg_copy.yaml),
made where both the JPEG copy and the lossless originals are at hand:

    python tools/jpeg_copy.py --jpeg ../shared/data/cifar10-horse --originals ../shared/data/cifar10-horse-original \
        [--store reports/paper/runs] [--workers 2]

1. The twins: an image folder of the JPEG copies of exactly the originals' images (links, same names),
   in build/data/<jpeg folder>-twins.
2. The committed networks (first seed of 07_architectures, which keep their weights) on the original
   test horses and on their JPEG twins, image by image (evaluate.on_data).
3. Each network of params/09_jpeg_copy.yaml trained on the original training horses and on their
   JPEG twins, both labelled with the committed palette (the JPEG copy's), each evaluated on both test
   versions. Runs train into --store (weights and pictures stay out of git: .gitignore).
4. The palette: k-means on the originals against on their twins (reports/paper/measurements/palette.json).
"""
import argparse
import json
from pathlib import Path

from cnnreport.analysis.sweeps import (
    profile_notebook_configs,
    sweep_args,
    sweep_configs,
)
from cnnreport.params import ROOT, committed_store, load_params
from cnnreport.science.data import load_category
from cnnreport.science.palette import compare_palettes, load_palette
from cnnreport.training.evaluate import on_data
from cnnreport.training.executor import lookup, train_all
from cnnreport.training.store import write_json

NOTEBOOK = "09_jpeg_copy"


def twins(jpeg, originals, out):
    """An image folder `out` of links to the images of `jpeg` that `originals` holds under the same names."""
    for split in ("train", "test"):
        folder = out / split / "horse"
        folder.mkdir(parents=True, exist_ok=True)
        for original in sorted((originals / split / "horse").iterdir()):
            twin = jpeg / split / "horse" / f"{original.stem}.jpg"
            link = folder / twin.name
            if not link.exists():
                link.symlink_to(twin.resolve())
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jpeg", type=Path, required=True)
    ap.add_argument("--originals", type=Path, required=True)
    ap.add_argument("--store", type=Path, default=ROOT / "reports" / "paper" / "runs")
    ap.add_argument("--workers", type=int)
    args = ap.parse_args()
    pairs = twins(args.jpeg, args.originals, ROOT / "build" / "data" / f"{args.jpeg.resolve().name}-twins")
    arms = {"originals": str(args.originals), "twins": str(pairs)}
    jpeg = load_category("horse", str(args.jpeg))
    palette = load_palette(jpeg, 24, args.store / "palettes")
    # 2. the committed networks on both test versions
    first = [c for c in profile_notebook_configs("paper")["07_architectures"] if c.seed == 0]
    for run in lookup(first, committed_store("paper")):
        print(on_data(run.path, arms.values()).path.name, flush=True)
    # 3. each network trained on each version
    configs = sweep_configs(**sweep_args(load_params(NOTEBOOK, "paper")))
    for arm, folder in arms.items():
        done = train_all(configs, data=folder, store=args.store, workers=args.workers, palette=palette,
                         done=lambda c, r: print(f"{arm}: {c.model} seed {c.seed}: {r.final['val_acc']:.2f} %", flush=True))
        for run in done:
            on_data(run.path, arms.values())
    # 4. the palette
    out = ROOT / "reports" / "paper" / "measurements" / "palette.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    fitted = {arm: load_category("horse", folder) for arm, folder in arms.items()}
    write_json(out, compare_palettes(fitted["originals"], fitted["twins"], 24, palette))
    print(json.dumps(json.loads(out.read_text())["summary"], indent=1))


if __name__ == "__main__":
    main()
