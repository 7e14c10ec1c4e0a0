"""Compare any two runs, or runs stores: `python -m cnnreport diff A B [--by FIELD] [--html PAGE]`
(`make diff A=... B=... [BY=...]`). What is the same is left out.

Two runs (run folders): the settings and identity parts (data, precision, palette) that differ, the
provenance that differs (versions, CPU, device, threads, host, dask worker), then every metric side
by side with its difference.

Stores (one, or two pooled): --by FIELD pairs the runs that differ only in FIELD (a Config field,
or `precision`, which takes Config.amp and the precision a run recorded together, or `data`), seed
by seed. Per setting it averages over seeds and gives the difference (the other value minus the
reference: False, float32 or the smaller value) its 95 % interval and verdict by the report's own
rule (analysis.claims: paired by seed where both sides have the same seeds, else Welch's).
"""
import html
import json
import math
import statistics
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from cnnreport.analysis import claims
from cnnreport.report.names import METRICS, field_name
from cnnreport.training.config import Config, tell_apart
from cnnreport.training.record import load_run
from cnnreport.training.store import palette_hash, records

PROVENANCE = ("torch", "torchvision", "numpy", "python", "cnnreport", "cpu", "device", "threads", "host", "worker")
NUMBERS = ("train_loss", "val_loss", "val_acc")   # the final epoch's, beside best_val_acc, seconds and the colour metrics


def identity(run):
    """What a run's numbers follow from beyond its Config, in words."""
    return {"data": run.data["fingerprint"], "precision": run.info["precision"], "palette": palette_hash(run.palette.tolist())}


def runs_diff(a, b):
    """(what differs between two Runs: [(what, a's, b's)], the provenance that differs: [(what, a's, b's)],
    every metric: [(metric, a's, b's, b - a)])."""
    settings = [(field_name(f), getattr(a.config, f), getattr(b.config, f)) for f in Config.names()
                if getattr(a.config, f) != getattr(b.config, f)]
    settings += [(k, v, identity(b)[k]) for k, v in identity(a).items() if v != identity(b)[k]]
    provenance = [(k, a.info.get(k), b.info.get(k)) for k in PROVENANCE if a.info.get(k) != b.info.get(k)]
    values = lambda run: {**{k: run.final[k] for k in NUMBERS}, "best_val_acc": max(h["val_acc"] for h in run.history),
                          "seconds": run.final["seconds"], "epochs": len(run.history), "parameters": run.parameters,
                          **(run.metrics or {})}
    va, vb = values(a), values(b)
    metrics = [(METRICS.get(k, k.replace("_", " ")), va[k], vb.get(k, math.nan), vb.get(k, math.nan) - va[k]) for k in va]
    return settings, provenance, metrics


def side(run, by):
    """The value of `by` in a run (precision: the one it recorded, which its amp setting chose)."""
    return identity(run)[by] if by in ("precision", "data") else getattr(run.config, by)


def setting(run, by):
    """What two runs must share to pair under `by`: every setting but `by` (and amp, under precision), the seed
    included, and their data and palette (unless `by` is the data)."""
    config = {k: v for k, v in asdict(run.config).items() if k != by and not (by == "precision" and k == "amp")}
    rest = {k: v for k, v in identity(run).items() if k != by and not (by == "data" and k == "palette")}
    return json.dumps({**config, **rest}, sort_keys=True, default=str)


REFERENCE = {"precision": "float32"}   # the side a difference is measured from, where not the smaller value


def by_field(runs, by, metric="val_acc"):
    """One row per setting whose runs differ in `by` (see the module docstring): its model, what
    varies among the settings, the two values, the seeds, mean ± std of `metric` on each side,
    the difference (other - reference), its interval and verdict."""
    if by not in (*Config.names(), "precision", "data"):
        raise ValueError(f"--by must be a setting ({', '.join(Config.names())}), precision or data; got {by!r}")
    groups = {}
    for run in (r for r in runs if r.status == "finished"):
        groups.setdefault(setting(run, by), {})[side(run, by)] = run
    pairs = {}
    for group in (g for g in groups.values() if len(g) == 2):
        ref, other = sorted(group, key=lambda v: (v != REFERENCE.get(by), v))
        config = group[ref].config
        key = (json.dumps({k: v for k, v in asdict(config).items() if k != "seed"}, sort_keys=True, default=str), ref, other)
        pairs.setdefault(key, []).append((group[ref], group[other]))
    if not pairs:
        raise ValueError(f"no two runs differ only in {by}")
    configs = [p[0][0].config for p in pairs.values()]
    names = tell_apart(configs)
    rows = []
    for name, ((_, ref, other), found) in zip(names, pairs.items()):
        a = [(r.metrics or {}).get(metric, r.final.get(metric)) for r, _ in found]
        b = [(r.metrics or {}).get(metric, r.final.get(metric)) for _, r in found]
        digits = claims.DIGITS.get(metric, 3)
        change = claims.paired_seeds(a, b, digits) if len(found) > 1 else claims.welch(a[0], math.nan, 1, b[0], math.nan, 1)
        rows.append({"setting": name.rsplit(" seed ", 1)[0], by: f"{ref} → {other}", "seeds": len(found),
                     "reference": _mean_std(a, digits), "other": _mean_std(b, digits),
                     "other − reference": round(change.diff, digits), "95 % interval": str(change), "verdict": change.verdict})
    return pd.DataFrame(rows)


def _mean_std(values, digits):
    return f"{statistics.fmean(values):.{digits}f}" + (f" ± {statistics.stdev(values):.{digits}f}" if len(values) > 1 else "")


def load(path):
    """The Runs at `path`: a run folder, or every record of a runs store."""
    path = Path(path)
    if (path / "result.json").exists() or (path / "config.json").exists():
        return [load_run(path)]
    found = records(path)
    if not found:
        raise ValueError(f"{path} is neither a run folder nor a runs store holding runs")
    return [load_run(p) for p in found]


def diff(a, b=None, by=None):
    """The comparison (see the module docstring) as [(title, DataFrame)]."""
    runs_a, runs_b = load(a), load(b) if b else []
    if not by:
        if len(runs_a) != 1 or len(runs_b) != 1:
            raise ValueError("give two run folders, or --by FIELD to pair the runs of a store (or of two)")
        settings, provenance, metrics = runs_diff(runs_a[0], runs_b[0])
        what = lambda rows: pd.DataFrame(rows, columns=["", "A", "B"])
        return [("settings and identity that differ", what(settings) if settings else None),
                ("provenance that differs", what(provenance) if provenance else None),
                ("metrics", pd.DataFrame(metrics, columns=["", "A", "B", "B − A"]))]
    return [(f"runs paired by {by}: final validation accuracy (%)", by_field(runs_a + runs_b, by))]


def text(parts):
    """The comparison as printable text."""
    out = []
    for title, table in parts:
        out.append(f"{title}: the same" if table is None else
                   f"{title}:\n{table.to_string(index=False, float_format=lambda v: f'{v:.6g}')}")
    return "\n\n".join(out)


def page(parts, a, b):
    """The comparison as one HTML page."""
    body = "".join(f"<h2>{html.escape(title)}</h2>" + ("<p>the same</p>" if table is None else table.to_html(index=False))
                   for title, table in parts)
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>cnnreport diff</title><style>body{{font-family:"
            f"sans-serif;max-width:70rem;margin:2rem auto}}td,th{{padding:0.2em 0.6em}}table{{border-collapse:collapse}}"
            f"</style></head><body><h1>{html.escape(str(a))} against {html.escape(str(b or a))}</h1>{body}</body></html>")

