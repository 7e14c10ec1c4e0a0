"""The runs store: one directory per finished (or interrupted) training run.

    <runs_dir>/<model>-nf<NF>-k<K>-<hash>/
        config.json      what was asked for, plus the data's source and fingerprint
        checkpoint.pt    model + optimizer after the last completed epoch (only while unfinished)
        history.csv      one row per completed epoch (readable, diffable)
        model.pt         final weights (a record without them still loads: see load_result)
        confusion.csv    test-pixel confusion matrix of the final network (not for diverged runs)
        result.json      written last: status, final and colour metrics, parameter count,
                         versions, device, threads, file checksums
        lock             held while a process trains this run

The hash covers every setting that changes the numbers and the data fingerprint, so a finished
run is found again by its config and runs on different data never share an entry. A run counts
as finished only once result.json exists and the checksums it records still match its files;
model.pt alone may be absent, so that a run's record can be kept (and committed) without its
weights.
Every file is written atomically (temporary file + rename), so a killed process leaves either the
old file or the new one, never half of one. A run trained on another machine comes back as its
files and is written in the same way, result.json last (`install`).

Hand-written rather than joblib.Memory: the store must keep readable CSV/JSON, resume from epoch
checkpoints and lock per run, none of which a function-call cache gives.
"""
import csv
import hashlib
import io
import json
import os
import tempfile
from pathlib import Path

import torch
from filelock import FileLock

FORMAT = 4  # bump when stored runs stop being comparable (numerics of training, loss or palette, or what a run records)
HISTORY_FIELDS = ("epoch", "train_loss", "val_loss", "val_acc", "seconds")


def runs_dir(path=None):
    """The store location: the argument, else $CNNREPORT_RUNS, else ./runs."""
    return Path(path or os.environ.get("CNNREPORT_RUNS") or "runs").expanduser()


def key(config_dict, fingerprint):
    blob = json.dumps({"config": config_dict, "data": fingerprint, "format": FORMAT}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def run_path(root, config_dict, fingerprint):
    c = config_dict
    return Path(root) / f"{c['model']}-nf{c['num_filters']}-k{c['kernel']}-{key(c, fingerprint)}"


def atomic_write(path, data):
    """Write bytes or text to path so that readers see the old content or the new, never a mix."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def save_torch(path, obj):
    """torch.save, atomically (checkpoints and weights)."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    atomic_write(path, buf.getvalue())


def write_json(path, obj):
    atomic_write(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def history_csv(history):
    out = io.StringIO()
    writer = csv.DictWriter(out, HISTORY_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(history)
    return out.getvalue()


def matrix_csv(rows):
    return "".join(",".join(map(str, row)) + "\n" for row in rows)


def read_matrix(path):
    return [[int(v) for v in line.split(",")] for line in Path(path).read_text().splitlines()]


def read_history(path):
    with open(path, newline="") as f:
        return [{k: (int(v) if k == "epoch" else float(v)) for k, v in row.items()} for row in csv.DictReader(f)]


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def lock(path):
    """An inter-process lock for one run: a second process asking for it waits, then finds it finished."""
    Path(path).mkdir(parents=True, exist_ok=True)
    return FileLock(str(Path(path) / "lock"))


def load_result(path):
    """result.json of a finished, untampered run, or None. Raises ValueError naming the damaged file."""
    path = Path(path)
    if not (path / "result.json").exists():
        return None
    try:
        result = json.loads((path / "result.json").read_text())
        sums = result["checksums"]
    except (ValueError, KeyError) as e:
        raise ValueError(f"{path / 'result.json'} is damaged ({e})") from None
    for name, digest in sums.items():
        if name == "model.pt" and not (path / name).exists():
            continue   # a record kept without its weights
        if not (path / name).exists() or sha256(path / name) != digest:
            raise ValueError(f"{path / name} was modified or truncated after the run finished")
    return result


def install(path, files):
    """Store a run trained elsewhere (a dask worker's scratch store): its files, {name: bytes},
    written atomically into `path`, result.json last, so that the run counts as finished only once
    every file is there. Returns the verified result (ValueError naming the file whose checksum
    fails, and nothing left finished). A run already finished at `path` is kept as it is."""
    path = Path(path)
    if "result.json" not in files or any(Path(name).name != name for name in files):
        raise ValueError(f"not a run's files: {sorted(files)}")
    with lock(path):
        try:
            existing = load_result(path)
        except ValueError:
            existing = None  # damaged: replaced below
        if existing is not None:
            return existing
        clear(path)
        for name in sorted(files, key=lambda name: name == "result.json"):
            atomic_write(path / name, files[name])
        try:
            return load_result(path)
        except ValueError:
            clear(path)
            raise


def clear(path):
    """Forget a damaged or stale run (its config.json stays, the rest goes)."""
    for name in ("result.json", "history.csv", "model.pt", "confusion.csv", "checkpoint.pt"):
        (Path(path) / name).unlink(missing_ok=True)
