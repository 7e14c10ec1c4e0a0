"""The paper's baselines: what predictors without a network score on the test pixels of the data the
committed runs trained on, labelled with their palette (measurements.measure_baselines), stored so
that the report renders without data:

    python tools/baselines.py [--data ../shared/data/cifar10-horse]    # writes reports/paper/measurements/baselines.json
"""
import argparse

from cnnreport.analysis.measurements import BASELINES, measure_baselines
from cnnreport.params import committed_store
from cnnreport.science.data import DataError
from cnnreport.training.record import load_run
from cnnreport.training.store import write_json


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", help="the committed runs' data (default: $CNNREPORT_DATA)")
    args = ap.parse_args()
    run = next(committed_store("paper").root.glob("*/result.json")).parent
    out = measure_baselines(load_run(run), args.data)
    if out is None:
        raise DataError("no data here is the committed runs' data: give --data (their folder)")
    write_json(BASELINES, out)
    print({k: v for k, v in out.items() if k != "data"})


if __name__ == "__main__":
    main()
