"""`pytest --nbval notebooks`: run every notebook under the smoke profile, with its assert cells.

Set here, before nbval starts any kernel (kernels inherit the environment): the smoke profile,
no progress bars, a temporary runs store (removed at the end), this environment's `python3`
kernel first, and the workplace's copy of the horses when CNNREPORT_DATA is not set.
"""
import os
import shutil
import sys
import tempfile
from pathlib import Path

_runs = tempfile.mkdtemp(prefix="cnnreport-nbval-runs-")
os.environ["CNNREPORT_PROFILE"] = "smoke"
os.environ["TQDM_DISABLE"] = "1"
os.environ["CNNREPORT_RUNS"] = _runs
os.environ["JUPYTER_PATH"] = os.pathsep.join(
    [str(Path(sys.prefix) / "share" / "jupyter")] + [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p])
_horses = Path(__file__).resolve().parents[2] / "shared" / "data" / "cifar10-horse"
if not os.environ.get("CNNREPORT_DATA") and (_horses / "train").is_dir():
    os.environ["CNNREPORT_DATA"] = str(_horses)


def pytest_unconfigure(config):
    shutil.rmtree(_runs, ignore_errors=True)
