"""Command line: `python -m cnnreport train ...` and `python -m cnnreport colourize ...`."""
import argparse
import sys
from pathlib import Path

from .data import DataError, greyscale
from .models import ARCHITECTURES
from .train import Config, colourize, load_run, train


def parser():
    d = Config()
    p = argparse.ArgumentParser(prog="python -m cnnreport", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train one run (or load it from the runs store) and print its directory")
    t.add_argument("--model", choices=ARCHITECTURES, default=d.model)
    t.add_argument("--num-filters", type=int, default=d.num_filters, help="NF, base number of filters")
    t.add_argument("--kernel", type=int, default=d.kernel, help="odd kernel size")
    t.add_argument("--num-colours", type=int, default=d.num_colours, help="palette size")
    t.add_argument("--lr", type=float, default=d.lr, help="Adam learning rate")
    t.add_argument("--epochs", type=int, default=d.epochs)
    t.add_argument("--batch-size", type=int, default=d.batch_size)
    t.add_argument("--seed", type=int, default=d.seed)
    t.add_argument("--category", default=d.category, help="CIFAR-10 class")
    t.add_argument("--train-images", type=int, default=d.train_images, help="first N training images only (0: all)")
    t.add_argument("--test-images", type=int, default=d.test_images, help="first N test images only (0: all)")
    t.add_argument("--no-amp", dest="amp", action="store_false", help="float32 even where bf16 is native")
    t.add_argument("--data", help="image folder or CIFAR-10 root (default: $CNNREPORT_DATA, else download)")
    t.add_argument("--runs-dir", help="runs store (default: $CNNREPORT_RUNS, else ./runs)")
    t.add_argument("--device", help="cpu or cuda (default: cuda when available)")
    t.add_argument("--quiet", action="store_true", help="no epoch lines or progress bar")

    c = sub.add_parser("colourize", help="colourize greyscale versions of images with a trained run")
    c.add_argument("images", nargs="+", type=Path, help="image files; sides must be multiples of 4")
    c.add_argument("--run", required=True, type=Path, help="a run directory printed by `train`")
    c.add_argument("-o", "--output", required=True, type=Path, help="PNG grid: input grey | prediction per row")
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        if args.command == "train":
            config = Config(**{k: getattr(args, k) for k in Config.names()})
            run = train(config, data=args.data, runs_dir=args.runs_dir, device=args.device, verbose=not args.quiet)
            f = run.final
            print(f"{run.status}: val acc {f['val_acc']:.1f}%, val loss {f['val_loss']:.4f} after "
                  f"{f['epoch']} epochs", file=sys.stderr)
            print(run.path)
        else:
            write_colourized(load_run(args.run), args.images, args.output)
            print(args.output)
    except (ValueError, OSError) as e:  # DataError is a ValueError: one line, no traceback
        sys.exit(f"error: {e}")


def write_colourized(run, images, output):
    import torch
    from PIL import Image, UnidentifiedImageError
    from torchvision.transforms.functional import pil_to_tensor
    from torchvision.utils import save_image

    rows = []
    for path in images:
        try:
            rgb = pil_to_tensor(Image.open(path).convert("RGB"))[None]
        except (UnidentifiedImageError, OSError) as e:
            raise DataError(f"cannot read image {path}: {e}") from None
        if rgb.shape[2] % 4 or rgb.shape[3] % 4:
            raise DataError(f"image {path} is {rgb.shape[3]}x{rgb.shape[2]}; sides must be multiples of 4")
        grey = greyscale(rgb)
        rows += [grey.expand(-1, 3, -1, -1), colourize(run, grey)]
    if len({r.shape for r in rows}) > 1:
        raise DataError("images must all have the same size to share one grid")
    save_image(torch.cat(rows), output, nrow=2, padding=1, pad_value=1.0)
