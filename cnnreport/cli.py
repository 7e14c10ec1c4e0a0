"""Command line: `python -m cnnreport train ...`, `... colourize ...`, `... evaluate ...` and `... diff ...`."""
import argparse
import sys
from pathlib import Path

from cnnreport.science.data import greyscale, load_image
from cnnreport.science.metrics import DECODINGS
from cnnreport.science.models import ARCHITECTURES
from cnnreport.training.evaluate import evaluate, on_data
from cnnreport.training.train import Config, colourize, find_run, load_run, train

CELL = 256  # pixels a side of each picture in the colourize grid, enlarged so a person can judge colours


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
    t.add_argument("--rebalance", action="store_true", help="weight each pixel's loss by its colour's rarity")
    t.add_argument("--rebalance-mix", type=float, default=d.rebalance_mix, help="uniform share in the rebalancing weights")
    t.add_argument("--rebalance-sigma", type=float, default=d.rebalance_sigma,
                   help="smoothing of the colour frequencies for rebalancing (CIELAB ab units)")
    t.add_argument("--dropout", type=float, default=d.dropout, help="channel dropout in the residual network's blocks")
    t.add_argument("--data", help="image folder or CIFAR-10 root (default: $CNNREPORT_DATA, else download)")
    t.add_argument("--runs-dir", help="runs store (default: $CNNREPORT_RUNS, else <repository>/runs)")
    t.add_argument("--device", help="cpu or cuda (default: cuda when available)")
    t.add_argument("--threads", type=int, help="CPU threads (default: every core this process may use)")
    t.add_argument("--quiet", action="store_true", help="no epoch lines or progress bar")

    c = sub.add_parser("colourize", help="colourize greyscale versions of images with a trained run")
    c.add_argument("images", nargs="+", type=Path,
                   help="image files of any size: each is resized to 32x32, the size the networks learned on")
    c.add_argument("--run", required=True, type=Path, help="a run directory printed by `train`")
    c.add_argument("--decoding", choices=DECODINGS, default="argmax",
                   help="colour per pixel: most probable, mean, or annealed mean (Zhang et al.)")
    c.add_argument("-o", "--output", required=True, type=Path,
                   help=f"PNG grid, one row per image: grey input | prediction | original, {CELL} px each")
    e = sub.add_parser("evaluate", help="add a stored run's pictures and measurements on test images to its record "
                       "(cnnreport.training.evaluate), from its weights and the data it trained on")
    e.add_argument("runs", nargs="+", type=Path, help="run directories")
    e.add_argument("--data", help="the data the runs trained on (default: $CNNREPORT_DATA, else download)")
    e.add_argument("--on", nargs="*", default=[], metavar="FOLDER",
                   help="also measure the pixel accuracy, per image, on the test images of these data")
    d = sub.add_parser("diff", help="what differs between two runs, or the runs of stores paired by one setting "
                       "(cnnreport.diff; needs the report extra)")
    d.add_argument("a", type=Path, help="a run folder, or a runs store")
    d.add_argument("b", type=Path, nargs="?", help="another run folder, or runs store (optional with --by)")
    d.add_argument("--by", help="pair the stores' runs that differ only in this setting (a Config field, precision or data)")
    d.add_argument("--html", type=Path, help="also write the comparison to this HTML page")
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        if args.command == "train":
            config = Config(**{k: getattr(args, k) for k in Config.names()})
            if args.threads is not None and args.threads < 1:
                raise ValueError(f"--threads must be >= 1, got {args.threads}")
            stored = find_run(config, data=args.data, runs_dir=args.runs_dir, device=args.device) is not None
            run = train(config, data=args.data, runs_dir=args.runs_dir, device=args.device, verbose=not args.quiet,
                        threads=args.threads)
            f = run.final
            print(f"{run.status}{' (loaded from the store)' if stored else ''}: val acc {f['val_acc']:.1f}%, "
                  f"val loss {f['val_loss']:.4f} after {f['epoch']} epochs", file=sys.stderr)
            print(run.path)
        elif args.command == "diff":
            from cnnreport import diff
            parts = diff.diff(args.a, args.b, args.by)
            print(diff.text(parts))
            if args.html:
                args.html.write_text(diff.page(parts, args.a, args.b), encoding="utf-8")
                print(f"wrote {args.html}")
        elif args.command == "evaluate":
            for path in args.runs:
                print(on_data(evaluate(path, args.data).path, args.on).path)
        else:
            write_colourized(load_run(args.run), args.images, args.output, args.decoding)
            print(args.output)
    except (ValueError, OSError, RuntimeError) as e:  # DataError is a ValueError; a bad --device a RuntimeError: one line
        sys.exit(f"error: {e}")
    except KeyboardInterrupt:
        sys.exit("stopped: the run keeps its last finished epoch and resumes from it when the same command runs again")


def write_colourized(run, images, output, decoding="argmax"):
    """One row per image file: its greyscale version, the run's colourization and the original,
    at 32x32 each (what the network sees), enlarged to CELL pixels without smoothing."""
    import torch
    import torch.nn.functional as F
    from torchvision.utils import save_image

    rgb = torch.cat([load_image(path) for path in images]).float() / 255      # (N, 3, 32, 32)
    grey = greyscale(rgb * 255)
    cells = torch.stack([grey.expand(-1, 3, -1, -1), colourize(run, grey, decoding), rgb], 1).flatten(0, 1)
    save_image(F.interpolate(cells, size=CELL, mode="nearest"), output, nrow=3, padding=4, pad_value=1.0)
