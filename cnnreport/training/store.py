"""The runs store: one directory per finished (or interrupted) training run.

    <runs_dir>/<model>-nf<NF>-k<K>-<hash>/
        config.json       the run's identity (settings, precision, data, palette) and where it trained
        checkpoint.pt     model + optimizer after the last completed epoch (only while unfinished)
        history.csv       one row per completed epoch (readable, diffable)
        model.pt          final weights (a record without them still loads: see load_result)
        confusion.csv     test-pixel confusion matrix of the final network (not for diverged runs)
        samples.png       the first test images as the final network colours them (cnnreport.training.evaluate)
        evaluations.json  what the final network gives on test images beyond the metrics (cnnreport.training.evaluate)
        result.json       written last: status, final and colour metrics, parameter count,
                          versions, device, threads, file checksums
        lock              held while a process trains this run

A run's identity is everything that changes its numbers: its Config, the precision it computes
in, the fingerprint of the data's pixels and the palette that labels them. The directory's hash
is made of it, so training finds a run again without a search; `find` looks a run up by the
identity its config.json records, so that committed results are found without loading any data.
A run counts as finished only once result.json exists, the checksums it records still match its
files and its digest still matches its own content (so an edited number is caught like a truncated
file); model.pt and samples.png may be absent, so that a run's record can be kept (and committed)
without its weights and pictures. A damaged run is refused naming the file and what is wrong
(DamagedRun); a store that trains moves it aside to <store>/damaged/, where no lookup reads, and trains
it again (`quarantine`).
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
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from filelock import FileLock

from cnnreport.science.files import atomic_write

FORMAT = 5  # bump when the numbers of a run stop following from its identity (a change to how it trains)
HISTORY_FIELDS = ("epoch", "train_loss", "val_loss", "val_acc", "seconds")
OPTIONAL = ("model.pt", "samples.png")   # a committed record keeps these only where the report needs them


class MissingRuns(LookupError):
    """Runs a store that never trains (committed results) does not hold; the message says how to get them."""


class DamagedRun(ValueError):
    """A run whose record is damaged: its folder, the file and what is wrong, in one line, with what to do."""

    def __init__(self, run, file, problem, advice=""):
        self.run, self.file, self.problem, self.advice = Path(run), file, problem, advice
        super().__init__(f"{shown(self.run)}: {file} {problem}" + (f"; {advice}" if advice else ""))

    def advise(self, advice):
        return DamagedRun(self.run, self.file, self.problem, advice)

    def _render_traceback_(self):   # IPython shows this instead of a traceback: the line says it all
        return [f"DamagedRun: {self}"]


CHECKOUT = Path(__file__).resolve().parents[2]   # the repository, when cnnreport runs from a checkout


def shown(path):
    """A path as messages give it: relative to the repository where it lies inside."""
    path = Path(path)
    return str(path.relative_to(CHECKOUT)) if path.is_absolute() and path.is_relative_to(CHECKOUT) else str(path)


def resolve_store(path=None):
    """The store location: the argument, else $CNNREPORT_RUNS, else one store per checkout,
    <repository>/runs, whatever the working directory (the command line and Jupyter share it), or,
    for an installed cnnreport, ~/.cache/cnnreport/runs."""
    if path or os.environ.get("CNNREPORT_RUNS"):
        return Path(path or os.environ["CNNREPORT_RUNS"]).expanduser()
    if (CHECKOUT / "pyproject.toml").exists():
        return CHECKOUT / "runs"
    return Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")).expanduser() / "cnnreport" / "runs"


@dataclass(frozen=True)
class Store:
    """A runs store and how a sweep may use it: train what it lacks, on the data at hand, or only
    render what it holds (committed results), trained on the data with fingerprint `data`
    (None: whatever data its runs record, as long as each setting has one run)."""
    root: Path
    trains: bool = True
    data: str = None


def palette_hash(palette):
    """A short hash of a palette's colours (a list of [r, g, b]): part of a run's identity."""
    return hashlib.sha256(json.dumps(palette).encode()).hexdigest()[:12]


def identity(config, precision, data, palette):
    """What a run's numbers follow from: its Config, precision, data fingerprint and palette."""
    return dict(config=asdict(config), precision=precision, data=data, palette=palette_hash(palette))


def key(ident):
    blob = json.dumps({**ident, "format": FORMAT}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def run_path(root, ident):
    c = ident["config"]
    return Path(root) / f"{c['model']}-nf{c['num_filters']}-k{c['kernel']}-{key(ident)}"


def recorded_identity(stored):
    """The identity a run's config.json records."""
    return dict(config=stored["config"], precision=stored["precision"], data=stored["data"]["fingerprint"],
                palette=palette_hash(stored["palette"]))


def read_json(run, name):
    """A run's JSON file (config.json, result.json), or DamagedRun where it does not parse."""
    try:
        return json.loads((Path(run) / name).read_text())
    except FileNotFoundError:
        raise DamagedRun(run, name, "is missing") from None
    except ValueError as e:
        raise DamagedRun(run, name, f"is not valid JSON ({e})") from None


def find(store, configs):
    """The directory of each config's finished run in `store` (a Store), or None where it has none,
    looked up by the identity each run's config.json records, without loading any data. A setting
    stored on several data or in several precisions, the data not pinned, raises ValueError naming
    them; a config.json that does not parse, DamagedRun."""
    index = {}
    for path in sorted(Path(store.root).glob("*/result.json")):
        ident = recorded_identity(read_json(path.parent, "config.json"))
        if store.data is None or ident["data"] == store.data:
            index.setdefault(json.dumps(ident["config"], sort_keys=True), []).append((path.parent, ident))
    found = []
    for config in configs:
        matches = index.get(json.dumps(asdict(config), sort_keys=True), [])
        if len(matches) > 1:
            raise ValueError(f"{store.root} holds {len(matches)} runs of {config}, on other data or in other "
                             "precisions: " + ", ".join(f"{p.name} (data {i['data']}, {i['precision']})" for p, i in matches))
        found.append(matches[0][0] if matches else None)
    return found


def save_torch(path, obj):
    """torch.save, atomically (checkpoints and weights)."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    atomic_write(path, buf.getvalue())


def write_json(path, obj):
    atomic_write(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def digest(result):
    """The digest of a result (result.json's content) without its own digest: a hash of its
    canonical JSON, which covers the other files through the checksums it holds."""
    content = {k: v for k, v in result.items() if k != "digest"}
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def write_result(path, result):
    """result.json of the run at `path`, with its digest."""
    write_json(Path(path) / "result.json", {**result, "digest": digest(result)})


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


def resumes_from(path):
    """The epochs an unfinished run has kept (its checkpoint's), from which it resumes; 0 if none."""
    checkpoint = Path(path) / "checkpoint.pt"
    if not checkpoint.exists():
        return 0
    try:
        return int(torch.load(checkpoint, map_location="cpu", weights_only=True)["epoch"])
    except (OSError, RuntimeError, KeyError, EOFError):   # half written when its process was killed: not kept
        return 0


def epochs_stored(path):
    """The epochs a run's history.csv holds (its progress while it trains; 0 before the first)."""
    try:
        return max(0, (Path(path) / "history.csv").read_text().count("\n") - 1)
    except FileNotFoundError:
        return 0


def lock(path):
    """An inter-process lock for one run: a second process asking for it waits, then finds it finished."""
    Path(path).mkdir(parents=True, exist_ok=True)
    return FileLock(str(Path(path) / "lock"))


def load_result(path):
    """result.json of a finished, untampered run, or None where the run has not finished. DamagedRun
    names the file and what is wrong: JSON that does not parse, a number edited (the digest), a file
    missing, modified or truncated (its checksum). A result written before results carried a digest
    is checked by its files' checksums only (tools/migrate_records.py adds the digest)."""
    path = Path(path)
    if not (path / "result.json").exists():
        return None
    result = read_json(path, "result.json")
    if not isinstance(result, dict) or not isinstance(result.get("checksums"), dict):
        raise DamagedRun(path, "result.json", "holds no checksums")
    if "digest" in result and result["digest"] != digest(result):
        raise DamagedRun(path, "result.json", "was edited after the run finished: its content does not match its digest")
    for name, checksum in result["checksums"].items():
        if not (path / name).exists():
            if name in OPTIONAL:
                continue   # a record kept without its weights or pictures
            raise DamagedRun(path, name, "is missing")
        if sha256(path / name) != checksum:
            raise DamagedRun(path, name, "was modified or truncated after the run finished")
    return result


def record_digest(path):
    """What identifies a run's record as it is now: its result's digest (the hash of result.json
    where it has none), None where the run has no result."""
    try:
        text = (Path(path) / "result.json").read_bytes()
    except FileNotFoundError:
        return None
    try:
        return json.loads(text).get("digest") or hashlib.sha256(text).hexdigest()
    except ValueError:
        return hashlib.sha256(text).hexdigest()


def verify(path, committed=False):
    """Check a run folder as load_result does, its config.json too (DamagedRun). `committed`: a
    record of committed results, which must carry its digest."""
    result = load_result(path)
    if result is None:
        raise DamagedRun(path, "result.json", "is missing: the run never finished")
    read_json(path, "config.json")
    if committed and "digest" not in result:
        raise DamagedRun(path, "result.json", "carries no digest (tools/migrate_records.py adds it)")
    return result


def records(root):
    """The run folders of a store: those holding a config.json or a result.json."""
    root = Path(root)
    return sorted(p for p in root.iterdir() if (p / "result.json").exists() or (p / "config.json").exists()) \
        if root.is_dir() else []


NUMBER_FIELDS = ("status", "epochs_run", "final", "best_val_acc", "seconds", "metrics", "parameters")


def number_digests(path):
    """A record's numbers, as digests: its history, confusion matrix and weights (where kept) and the
    numbers of its result.json. No change of record form may change them (tests/data/paper-numbers.json
    holds the committed runs')."""
    result = json.loads((Path(path) / "result.json").read_text())
    out = {name: sha256(Path(path) / name) for name in ("history.csv", "confusion.csv", "model.pt") if (Path(path) / name).exists()}
    out["result"] = hashlib.sha256(json.dumps({k: result[k] for k in NUMBER_FIELDS}, sort_keys=True).encode()).hexdigest()
    return out


def quarantine(path):
    """Move a damaged run aside, to <store>/damaged/<run> (a name not taken yet), where no lookup
    reads it: never deleted, so its files can be looked at. Returns where it went."""
    path = Path(path)
    aside = path.parent / "damaged" / path.name
    for n in range(1, 1000):
        if not aside.exists():
            break
        aside = path.parent / "damaged" / f"{path.name}.{n}"
    aside.parent.mkdir(exist_ok=True)
    path.rename(aside)
    return aside


def install(path, files):
    """Store a run trained elsewhere (a dask worker's scratch store): its files, {name: bytes},
    written atomically into `path`, result.json last, so that the run counts as finished only once
    every file is there. Returns the verified result (DamagedRun naming the file whose checksum
    fails, and nothing left finished). A run already finished at `path` is kept as it is; a damaged
    one is moved aside (quarantine)."""
    path = Path(path)
    if "result.json" not in files or any(Path(name).name != name for name in files):
        raise ValueError(f"not a run's files: {sorted(files)}")
    with lock(path):
        try:
            existing = load_result(path)
        except DamagedRun as e:   # moved aside (its lock with it): the new files take its place
            print(f"{e}: moved to {quarantine(path)}", file=sys.stderr)
            path.mkdir()
            existing = None
        if existing is not None:
            return existing
        clear(path)
        for name in sorted(files, key=lambda name: name == "result.json"):
            atomic_write(path / name, files[name])
        try:
            return load_result(path)
        except DamagedRun:
            clear(path)
            raise


def add_files(path, files):
    """Add files ({name: bytes}) to a finished run, such as evaluations made after it finished,
    under the checksums of its result.json (rewritten atomically, after the files)."""
    path = Path(path)
    with lock(path):
        result = load_result(path)
        if result is None:
            raise ValueError(f"{path} holds no finished run to add {', '.join(files)} to")
        for name, data in files.items():
            atomic_write(path / name, data)
            result["checksums"][name] = sha256(path / name)
        write_result(path, result)


def clear(path):
    """Forget a damaged or stale run (its config.json stays, the rest goes)."""
    for name in ("result.json", "history.csv", "model.pt", "confusion.csv", "samples.png", "evaluations.json",
                 "checkpoint.pt"):
        (Path(path) / name).unlink(missing_ok=True)
