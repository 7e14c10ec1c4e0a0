"""Give run records their digest without changing a number: result.json gains `digest`, the hash
of its own content (store.digest), which covers the other files through the checksums it holds, so
that an edited number is caught like a truncated file. Histories, weights, confusion matrices and
every number of result.json stay byte for byte as they were (tests/test_paper.py holds the committed
records to tests/data/paper-numbers.json). Idempotent: a record that has its digest is left alone,
so it can run again on records that arrive later.

    python tools/migrate_records.py [STORE ...]     (default: reports/paper/runs)

A record that fails its checksums is named and left as it is: restore it first.
"""
import argparse
import sys
from pathlib import Path

from cnnreport.training.store import DamagedRun, load_result, number_digests, records, write_result

ROOT = Path(__file__).resolve().parent.parent


def migrate(path):
    """Add the digest to the record at `path`; False if it had one."""
    result = load_result(path)   # checksums verified first: a damaged record is not blessed
    if "digest" in result:
        return False
    before = number_digests(path)
    write_result(path, result)
    assert number_digests(path) == before and "digest" in load_result(path), f"{path}: the migration changed a number"
    return True


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("stores", nargs="*", type=Path, default=[ROOT / "reports" / "paper" / "runs"])
    args = ap.parse_args(argv)
    damaged = 0
    for store in args.stores:
        done = []
        for path in records(store):
            try:
                done.append(migrate(path))
            except DamagedRun as e:
                print(f"left alone: {e}", file=sys.stderr)
                damaged += 1
        print(f"{store}: {sum(done)} of {len(done)} records given their digest, {len(done) - sum(done)} had it")
    return 1 if damaged else 0


if __name__ == "__main__":
    sys.exit(main())
