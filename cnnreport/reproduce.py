"""Reproduce committed runs: retrain the chosen runs of a profile on your data and machine, into a
store of their own (never the committed one), and compare each with its committed record.

    python -m cnnreport.reproduce [--profile paper] [--notebook 07_architectures ...] [--model cnn ...]
        [--seeds 0 1 ...] [--data PATH] [--runs DIR] [--out DIR] [--workers N] [--scheduler ADDRESS]

(`make reproduce PROFILE= DATA= NOTEBOOK= MODEL= SEEDS=`.) It says first how long the committed
runs took, trains with a progress bar, then prints and writes, per run, the committed and the
reproduced final validation accuracy and loss, their difference and a verdict, to
<out>/comparison.csv and <out>/comparison.html:
- bit-identical: every number of the history but the seconds is the same (expected on the same
  data, precision, CPU, thread count and torch version; the `expected` column says whether they are);
- within noise: the reproduced accuracy lies within the prediction interval of one more committed
  seed of the same setting (analysis.claims.reproduced, the report's own rule); outside noise:
  beyond it; borderline: on its edge; one seed: the committed setting has one seed, so no interval.
The whole report on the reproduced runs is then `make report PROFILE=<profile> RUNS=<out>/runs`.
"""
import argparse
import math
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

from cnnreport.analysis import claims
from cnnreport.params import PROFILES, ROOT, committed_store, profile_settings
from cnnreport.training.executor import (
    default_workers,
    lookup,
    stop_on_signals,
    train_all,
)
from cnnreport.training.progress import duration
from cnnreport.training.speed import cpu_name, default_device, precision
from cnnreport.training.store import HISTORY_FIELDS, MissingRuns
from cnnreport.training.train import BIT_IDENTICAL, Config, versions

OUT = ROOT / "build" / "reproduce"   # <profile>/runs and <profile>/comparison.* (ignored by git)
RESULTS = ["committed_acc", "reproduced_acc", "diff", "spread", "committed_loss", "reproduced_loss", "verdict", "expected"]


def choose(profile, notebooks=(), models=(), seeds=()):
    """The configs of `profile`'s sweeps (all, or those of `notebooks`), narrowed to `models` and `seeds`."""
    from cnnreport.analysis.sweeps import profile_notebook_configs
    arriving = [nb for nb in notebooks if nb in profile_settings(profile)["pending"]]
    if arriving:
        raise ValueError(f"the runs of {', '.join(arriving)} are not committed yet (pending in params/{profile}/profile.yaml): "
                         f"`make paper-runs NOTEBOOK={arriving[0]}` makes them")
    chosen = []
    for notebook, configs in profile_notebook_configs(profile).items():
        if notebooks and notebook not in notebooks:
            continue
        chosen += [c for c in configs if c not in chosen and (not models or c.model in models)
                   and (not seeds or c.seed in seeds)]
    if not chosen:
        raise ValueError(f"no run of the {profile} profile matches notebooks {list(notebooks) or 'all'}, "
                         f"models {list(models) or 'all'}, seeds {list(seeds) or 'all'}")
    return chosen


def committed_seeds(configs, committed):
    """Per config, the final val accs of the committed seeds of its setting (its finished siblings)."""
    seeds = range(max(c.seed for c in configs) + 10)
    siblings = {c: [replace(c, seed=s) for s in seeds] for c in configs}
    everyone = list({s: None for group in siblings.values() for s in group})
    found = dict(zip(everyone, lookup(everyone, committed)))
    return [[found[s].final["val_acc"] for s in siblings[c] if found[s] is not None and found[s].status == "finished"]
            for c in configs]


def verdict(committed_run, reproduced_run, seeds):
    """bit-identical where the histories' numbers are, else claims.reproduced of the reproduced
    accuracy against the committed seeds' (`seeds`)."""
    numbers = [[row[k] for k in HISTORY_FIELDS if k != "seconds"] for row in committed_run.history]
    again = [[row[k] for k in HISTORY_FIELDS if k != "seconds"] for row in reproduced_run.history]
    if numbers == again:
        return "bit-identical"
    return claims.reproduced(seeds, reproduced_run.final["val_acc"])


def bit_identity_expected(committed_run, reproduced_run):
    """Whether the two ran where the same bits can come out: data, precision, CPU, threads, versions."""
    a, b = committed_run.info, reproduced_run.info
    return (a["data"]["fingerprint"] == b["data"]["fingerprint"] and a["precision"] == b["precision"]
            and a["device"] == b["device"] == "cpu" and a["cpu"] == b["cpu"] and a["threads"] == b["threads"]
            and all(a.get(k) == b.get(k) for k in BIT_IDENTICAL))


def compare(configs, old, new, committed):
    """One row per config: its model, every setting that varies among the configs, its seed, then its
    committed run (of `old`) beside its reproduced one (of `new`), see RESULTS; the spread (std) and
    the verdict come from the committed seeds of its setting in `committed`."""
    import pandas as pd
    varying = [f for f in Config.names() if f not in ("model", "seed") and len({getattr(c, f) for c in configs}) > 1]
    rows = []
    for c, a, b, seeds in zip(configs, old, new, committed_seeds(configs, committed)):
        rows.append(dict(model=c.model, **{f: getattr(c, f) for f in varying}, seed=c.seed, committed_acc=a.final["val_acc"],
                         reproduced_acc=b.final["val_acc"], diff=b.final["val_acc"] - a.final["val_acc"],
                         spread=statistics.stdev(seeds) if len(seeds) > 1 else math.nan,
                         committed_loss=a.final["val_loss"], reproduced_loss=b.final["val_loss"],
                         verdict=verdict(a, b, seeds), expected=bit_identity_expected(a, b)))
    return pd.DataFrame(rows, columns=["model", *varying, "seed", *RESULTS])


def reproduce(configs, committed, data=None, store=None, workers=None, scheduler=None, log=print):
    """Retrain `configs` on `data` into `store` (a folder; runs already there are reused) and compare
    them with their runs in `committed` (a Store that holds them all): a DataFrame (see compare)."""
    old = lookup(configs, committed)
    if any(run is None for run in old):
        missing = [c for c, run in zip(configs, old) if run is None]
        raise MissingRuns(f"{len(missing)} of the chosen runs are not in {committed.root}: nothing to compare with")
    seconds = [run.final["seconds"] for run in old]
    n = workers or default_workers()
    log(f"{len(configs)} run{'s' if len(configs) > 1 else ''} to reproduce into {store}; the committed ones took "
        f"{duration(sum(seconds))} of training on {old[0].info['cpu']} ({old[0].info['device']}, {old[0].info['threads']} "
        f"thread(s) per run), so expect about {duration(max(sum(seconds) / n, max(seconds)))} here on {n} worker(s) "
        "if this machine is as fast (minutes on a GPU)")
    mine, theirs = versions(), old[0].info
    if precision(configs[0], default_device()) != theirs["precision"] or any(mine[k] != theirs.get(k) for k in BIT_IDENTICAL):
        log(f"here: {precision(configs[0], default_device())} on {cpu_name()}, torch {mine['torch']}; the committed runs: "
            f"{theirs['precision']} on {theirs['cpu']}, torch {theirs.get('torch')}: expect other bits, a difference "
            "within the seed spread")
    new = train_all(configs, data=data, store=store, workers=workers, scheduler=scheduler, log=log)
    return compare(configs, old, new, committed)


def number(value):
    """Three decimals, never a negative zero (a difference of -0.0001 reads 0.000)."""
    return f"{round(value, 3) + 0.0:.3f}"


def write(table, out, profile, committed):
    """comparison.csv and comparison.html in `out`; returns the HTML's path."""
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "comparison.csv", index=False)
    counts = table.verdict.value_counts()
    summary = ", ".join(f"{n} {v}" for v, n in counts.items())
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>cnnreport: reproduction of the {profile} "
            f"profile</title><style>body{{font-family:sans-serif;max-width:70rem;margin:2rem auto}}"
            f"td,th{{padding:0.2em 0.6em;text-align:right}}table{{border-collapse:collapse}}"
            f"thead th{{border-bottom:1px solid #000}}</style></head><body>"
            f"<h1>Reproduction of the {profile} profile's runs</h1>"
            f"<p>{len(table)} runs retrained on this machine and compared with the committed ones in "
            f"<code>{committed.relative_to(ROOT) if committed.is_relative_to(ROOT) else committed.name}</code>: {summary}. "
            "Accuracies are final validation accuracies per pixel (%), losses final validation cross-entropies. "
            "<em>bit-identical</em>: every number of the history is the same; <em>within noise</em>: the accuracy "
            "lies within the prediction interval of one more committed seed of the setting (the report's rule); "
            "<em>expected</em>: whether data, precision, CPU, threads and torch are the committed runs' own.</p>"
            + table.to_html(index=False, float_format=number, na_rep="–") + "</body></html>")
    (out / "comparison.html").write_text(page, encoding="utf-8")
    return out / "comparison.html"


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m cnnreport.reproduce", description=__doc__.split("\n")[0])
    ap.add_argument("--profile", choices=PROFILES, default="paper")
    ap.add_argument("--notebook", nargs="*", default=[], help="only these notebooks' sweeps (default: all)")
    ap.add_argument("--model", nargs="*", default=[], help="only these models (default: all)")
    ap.add_argument("--seeds", nargs="*", type=int, default=[], help="only these seeds (default: all)")
    ap.add_argument("--data", help="the data to train on (default: $CNNREPORT_DATA, else torchvision's download)")
    ap.add_argument("--runs", type=Path, help="the store to train into (default: build/reproduce/<profile>/runs)")
    ap.add_argument("--out", type=Path, help="where the comparison goes (default: beside the runs, build/reproduce/<profile>)")
    ap.add_argument("--workers", type=int, help="runs trained at once in local processes")
    ap.add_argument("--scheduler", help="train on the workers of the dask cluster at this address")
    args = ap.parse_args(argv)
    stop_on_signals()
    out = args.out or (args.runs.parent if args.runs else OUT / args.profile)
    store, committed = args.runs or out / "runs", committed_store(args.profile)
    started = time.time()
    try:
        configs = choose(args.profile, args.notebook, args.model, args.seeds)
        table = reproduce(configs, committed, args.data, store, args.workers, args.scheduler)
    except KeyboardInterrupt as e:
        print(f"\nreproduce: {e or 'stopped; finished runs are stored, an unfinished one resumes next time'}",
              file=sys.stderr)
        return 130
    except (ValueError, RuntimeError, LookupError) as e:   # DataError and MissingRuns included: one line
        print(f"reproduce: {e}", file=sys.stderr)
        return 1
    print(table.to_string(index=False, float_format=number))
    page = write(table, out, args.profile, committed.root)
    print(f"wrote {out / 'comparison.csv'} and {page} ({time.time() - started:.0f} s); the report on these runs: "
          f"make report PROFILE={args.profile} RUNS={store}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
