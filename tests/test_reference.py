"""Refactors keep the numbers: histories recorded before a change of the code's structure must
come out bit for bit the same after it (same config, seed, thread count and CPU)."""
import json
from pathlib import Path

import pytest

from cnnreport.training.train import Config, cpu_name, train

from conftest import numbers

RECORDED = json.loads((Path(__file__).parent / "data" / "reference_histories.json").read_text())


def same_cpu():
    return "avx512_bf16" in Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else False


@pytest.mark.skipif(not same_cpu(), reason=f"recorded on an {RECORDED['cpu']} with avx512_bf16; this is {cpu_name()}")
@pytest.mark.parametrize("entry", RECORDED["runs"], ids=lambda e: f"{e['config']['model']}-nf{e['config']['num_filters']}-"
                         f"{'bf16' if e['config']['amp'] else 'fp32'}-{e['threads']}t")
def test_histories_recorded_before_a_refactor_come_out_bit_identical(entry, data_dir, tmp_path):
    run = train(Config(**entry["config"]), data=str(data_dir), runs_dir=tmp_path, verbose=False, threads=entry["threads"])
    assert run.info["precision"] == entry["precision"] and run.info["threads"] == entry["threads"]
    assert numbers(run.history) == entry["history"]
