"""`pytest --nbval notebooks`: run every notebook under the smoke profile, with its assert cells.

Set here, before nbval starts any kernel (kernels inherit the environment): what `make report`
gives its kernels (cnnreport.report.kernel_environment: the smoke profile here, no progress bars,
this environment's `python3` kernel first), a temporary runs store (removed at the end), and the
workplace's copy of the horses when CNNREPORT_DATA is not set.
"""
import os
import shutil
import tempfile
from pathlib import Path

from cnnreport.report.build import kernel_environment

os.environ.update(kernel_environment("smoke"))
_runs = tempfile.mkdtemp(prefix="cnnreport-nbval-runs-")
os.environ["CNNREPORT_RUNS"] = _runs
_horses = Path(__file__).resolve().parents[2] / "shared" / "data" / "cifar10-horse"
if not os.environ.get("CNNREPORT_DATA") and (_horses / "train").is_dir():
    os.environ["CNNREPORT_DATA"] = str(_horses)


def pytest_unconfigure(config):
    shutil.rmtree(_runs, ignore_errors=True)
