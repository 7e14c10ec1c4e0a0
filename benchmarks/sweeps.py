"""Wall time of a profile's sweeps trained in this process against the same runs on worker
processes of one thread each (cnnreport.training.executor), in one run.

    python benchmarks/sweeps.py [--profile quick] [--workers 2] [--dask] [--data PATH]

Every run of the profile's sweep notebooks (analysis.sweeps.profile_configs) is trained into a fresh
temporary store, so nothing is loaded instead of trained: first in this process on every core it
may use, then in `--workers` local processes of one thread each (`make report WORKERS=N`), and
with --dask also on a dask LocalCluster of as many one-thread workers on 127.0.0.1 (what
`dask worker --nworkers N --nthreads 1` gives; its start timed apart). Small nets leave cores
idle, which is where the workers gain; the numbers differ in their last bits (1 thread against
all), not beyond. Run it on an otherwise idle machine: a shared host's load hits the sweeps
unequally. Data: --data, else CNNREPORT_DATA, else torchvision's download.
"""
import argparse
import tempfile
import time

from cnnreport.analysis.sweeps import profile_configs
from cnnreport.science.data import prepare
from cnnreport.training.executor import train_all
from cnnreport.training.speed import usable_cores


def timed(label, configs, data, **where):
    """Train every config into a fresh store; seconds of wall time."""
    with tempfile.TemporaryDirectory(prefix="cnnreport-bench-") as store:
        prepare(configs[0].category, data, configs[0].num_colours, f"{store}/palettes")  # palette: not timed
        start = time.perf_counter()
        train_all(configs, data=data, store=store, **where)
        seconds = time.perf_counter() - start
    print(f"{label}: {len(configs)} runs in {seconds:.1f} s", flush=True)
    return seconds


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="quick", help="whose sweeps to train (smoke, quick or paper)")
    ap.add_argument("--workers", type=int, default=2, help="worker processes, one thread each")
    ap.add_argument("--dask", action="store_true", help="also on a dask LocalCluster of --workers workers")
    ap.add_argument("--data", default=None)
    args = ap.parse_args()
    configs = profile_configs(args.profile)
    print(f"{args.profile} profile: {len(configs)} runs, {sum(c.epochs for c in configs)} epochs", flush=True)

    rows = [(f"in this process, {usable_cores()} threads", timed("in this process", configs, args.data, workers=1))]
    rows.append((f"{args.workers} local workers x 1 thread",
                 timed(f"{args.workers} local workers", configs, args.data, workers=args.workers)))
    if args.dask:
        from distributed import LocalCluster
        start = time.perf_counter()
        with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None) as cluster:
            started = time.perf_counter() - start
            rows.append((f"{args.workers} dask workers x 1 thread (+{started:.0f} s to start them)",
                         timed("dask", configs, args.data, scheduler=cluster.scheduler_address)))
    print(f"\n| {args.profile} profile's sweeps ({len(configs)} runs) | wall s | speed-up |\n|---|---:|---:|")
    for label, seconds in rows:
        print(f"| {label} | {seconds:.0f} | {rows[0][1] / seconds:.2f}x |")


if __name__ == "__main__":
    main()
