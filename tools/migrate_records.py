"""One-off: move the paper's committed run records from store format 4 to 5 without retraining.

Format 5 records the data by kind, folder name, fingerprint and image counts (no path of the
training machine), the palette in the run's identity, and the settings format 4 kept outside the
Config (the residual network's dropout, the rebalancing's mix and sigma) at the values they had.
Histories, metrics, confusion matrices and weights are copied byte for byte; before moving, the
numbers are written to tests/data/paper-numbers.json, which tests/test_paper.py holds the records to.

    python tools/migrate_records.py reports/paper/runs --data ../shared/data/cifar10-horse
"""
import argparse
import hashlib
import json
import shutil
from dataclasses import asdict
from pathlib import Path

from cnnreport.science.data import load_category
from cnnreport.training.config import Config
from cnnreport.training.store import identity, run_path, sha256, write_json

NUMBERS = Path(__file__).resolve().parent.parent / "tests" / "data" / "paper-numbers.json"
FORMAT_4_DEFAULTS = dict(dropout=0.2, rebalance_mix=0.5, rebalance_sigma=5.0)   # models.DROPOUT, palette.MIX, SIGMA at format 4
NUMBER_FIELDS = ("status", "epochs_run", "final", "best_val_acc", "seconds", "metrics", "parameters")


def numbers(path):
    """The numbers of a record, as digests: what no migration may change."""
    result = json.loads((path / "result.json").read_text())
    out = {name: sha256(path / name) for name in ("history.csv", "confusion.csv", "model.pt") if (path / name).exists()}
    out["result"] = hashlib.sha256(json.dumps({k: result[k] for k in NUMBER_FIELDS}, sort_keys=True).encode()).hexdigest()
    return out


def setting(config):
    """A run's settings as text, the same before and after the migration."""
    return json.dumps({k: v for k, v in config.items() if k not in FORMAT_4_DEFAULTS}, sort_keys=True)


def migrate(path, data):
    stored = json.loads((path / "config.json").read_text())
    result = json.loads((path / "result.json").read_text())
    config = Config(**stored["config"], **FORMAT_4_DEFAULTS)
    old = result["info"]
    assert old["data_fingerprint"] == data["fingerprint"], f"{path} was trained on other data"
    info = {k: v for k, v in old.items() if k not in ("data_source", "data_fingerprint")}
    info["data"] = data
    info.setdefault("worker", None)   # records from before dask workers were recorded ran outside one
    config_json = dict(config=asdict(config), palette=stored["palette"], **info)
    new = run_path(path.parent, identity(config, info["precision"], data["fingerprint"], stored["palette"]))
    write_json(path / "config.json", config_json)
    result["info"] = info
    result["checksums"]["config.json"] = sha256(path / "config.json")
    write_json(path / "result.json", result)
    (path / "lock").unlink(missing_ok=True)
    if new != path:
        shutil.move(path, new)
    return new


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("store", type=Path)
    ap.add_argument("--data", required=True, help="the data the records were trained on (for their image counts)")
    args = ap.parse_args()
    records = sorted(p.parent for p in args.store.glob("*/result.json"))
    NUMBERS.write_text(json.dumps({setting(json.loads((p / "config.json").read_text())["config"]): numbers(p)
                                   for p in records}, indent=1, sort_keys=True) + "\n")
    data = load_category("horse", args.data).identity
    for path in records:
        print(migrate(path, data).name)


if __name__ == "__main__":
    main()
