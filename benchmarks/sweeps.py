"""Wall time of one sweep trained in this process against the same sweep on a dask LocalCluster of
worker processes of one thread each (cnnreport.executor), in one run.

    python benchmarks/sweeps.py [--models cnn,unet] [--nf 16,32] [--seeds 0,1] [--epochs 5]
                                [--train-images 0] [--test-images 0] [--workers 2] [--data PATH]

Both sides train every run of the grid (kernel 3, lr 0.001, batch 100) into a fresh temporary
store, so nothing is loaded instead of trained (each computes the palette anew; the images are
decoded before the clock starts here, and by each worker on its first run): first in this
process, on every core it may use (what a sweep does by default), then on a LocalCluster of
`--workers` processes of one thread each on 127.0.0.1 (what `dask worker --nworkers N --nthreads 1`
gives). The cluster's start (its workers import torch) is timed apart from its sweep. Small nets
leave cores idle, which is where the workers should gain; the numbers differ in their last bits
(1 thread against all), not beyond. Run it on an otherwise idle machine: a shared host's load
hits the two sweeps unequally.
Data: --data, else CNNREPORT_DATA, else torchvision's download.
"""
import argparse
import tempfile
import time

from cnnreport.data import load_category
from cnnreport.experiments import sweep
from cnnreport.train import load_run, usable_cores


def timed(label, **kwargs):
    """Run the sweep of `kwargs` into a fresh store; (seconds, runs, the workers that trained them)."""
    with tempfile.TemporaryDirectory(prefix="cnnreport-bench-") as store:
        start = time.perf_counter()
        table = sweep(runs_dir=store, verbose=False, **kwargs)
        seconds = time.perf_counter() - start
        workers = {load_run(path).info["worker"] for path in table.path}
    print(f"{label}: {len(table)} runs in {seconds:.1f} s, trained by {sorted(map(str, workers))}", flush=True)
    return seconds, len(table), workers


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="cnn,unet")
    ap.add_argument("--nf", default="16,32")
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--train-images", type=int, default=0, help="first N training images (0: all)")
    ap.add_argument("--test-images", type=int, default=0, help="first N test images (0: all)")
    ap.add_argument("--workers", type=int, default=2, help="worker processes of the cluster, one thread each")
    ap.add_argument("--data", default=None)
    args = ap.parse_args()
    grid = dict(base=dict(epochs=args.epochs, train_images=args.train_images, test_images=args.test_images),
                field="num_filters", values=[int(v) for v in args.nf.split(",")], models=args.models.split(","),
                seeds=[int(s) for s in args.seeds.split(",")], data=args.data)

    load_category("horse", args.data)  # decoded once per process: not part of either sweep's time here
    here, n, _ = timed(f"in this process, {usable_cores()} threads", workers=1, **grid)

    from distributed import LocalCluster
    start = time.perf_counter()
    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        started = time.perf_counter() - start
        print(f"cluster of {args.workers} workers started in {started:.1f} s", flush=True)
        there, _, workers = timed(f"{args.workers} workers x 1 thread", scheduler=cluster.scheduler_address, **grid)
    assert None not in workers, "a run of the cluster's sweep was not trained on a worker"

    print(f"\n| sweep | runs | wall s | speed-up |\n|---|---:|---:|---:|\n"
          f"| in this process, {usable_cores()} threads | {n} | {here:.1f} | 1.00x |\n"
          f"| {args.workers} dask workers x 1 thread | {n} | {there:.1f} | {here / there:.2f}x |\n"
          f"| the same, with the cluster's start ({started:.1f} s) | {n} | {there + started:.1f} | "
          f"{here / (there + started):.2f}x |")


if __name__ == "__main__":
    main()
