"""A finished run as read back from the runs store (`load_run`), and colourizing with it."""
import json
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from cnnreport.science.metrics import decode
from cnnreport.science.models import build_model
from cnnreport.training.config import Config
from cnnreport.training.store import load_result, read_history, read_matrix


@dataclass
class Run:
    """A finished run as stored: its settings, per-epoch history, final metrics and where its files are."""
    config: Config
    path: Path
    status: str          # "finished", or "diverged" when the loss stopped being finite
    history: list        # one dict per epoch: epoch, train_loss, val_loss, val_acc, seconds
    info: dict           # versions, device, precision, threads, host, dask worker, data identity
    palette: torch.Tensor  # (NC, 3) colours in [0, 1]
    parameters: int      # trainable parameters of the network
    metrics: dict        # colour quality on the test split after the last epoch (cnnreport.science.metrics); None if diverged

    @property
    def final(self):
        return self.history[-1]

    @property
    def data(self):
        """The data it trained on: kind, folder name, fingerprint, image counts (data.CategoryData.identity)."""
        return self.info["data"]

    def evaluations(self):
        """What its final network gave on test images beyond the metrics (cnnreport.training.evaluate): {} if none."""
        path = self.path / "evaluations.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def samples(self):
        """{row: (N, 3, 32, 32) RGB} of its samples.png: the first test images, grey, true and as it
        colours them under each decoding (ValueError if the picture was not kept)."""
        if not (self.path / "samples.png").exists():
            raise ValueError(f"{self.path} keeps no samples.png (pictures are kept only for the runs a report shows)")
        from cnnreport.training.evaluate import read_samples
        return read_samples(self.path / "samples.png")

    def model(self):
        """The trained network, in eval mode on the CPU (ValueError if its weights were not kept)."""
        c = self.config
        if not (self.path / "model.pt").exists():
            raise ValueError(f"{self.path} keeps only the record of its run, not its weights (model.pt)")
        net = build_model(c.model, c.kernel, c.num_filters, c.num_colours, c.dropout)
        net.load_state_dict(torch.load(self.path / "model.pt", map_location="cpu", weights_only=True))
        return net.eval()

    def confusion(self):
        """(NC, NC) test-pixel counts of the final network, rows true, columns predicted colour."""
        return torch.tensor(read_matrix(self.path / "confusion.csv"))


def load_run(path):
    """Load a finished run from its directory (ValueError if unfinished or damaged). Where
    $CNNREPORT_READS names a file, the run's folder is added to it: the report build learns which
    runs a notebook read (cnnreport.report.cache)."""
    path = Path(path)
    if os.environ.get("CNNREPORT_READS"):
        with open(os.environ["CNNREPORT_READS"], "a") as listing:
            listing.write(f"{path.resolve()}\n")
    result = load_result(path)
    if result is None:
        raise ValueError(f"{path} holds no finished run (no result.json)")
    stored = json.loads((path / "config.json").read_text())
    return Run(Config(**stored["config"]), path, result["status"], read_history(path / "history.csv"),
               result["info"], torch.tensor(stored["palette"]), result["parameters"], result["metrics"])


@torch.inference_mode()
def colourize(run, grey, decoding="argmax"):
    """RGB predictions (N, 3, H, W) in [0, 1] of a Run for greyscale images (N, 1, H, W) in [0, 1];
    decoding: see metrics.decode."""
    return decode(run.model()(grey), run.palette, decoding)
