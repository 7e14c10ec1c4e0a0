"""Notebook parameters: `params/<profile>/<notebook>.yaml`, checked before any training starts,
and where each profile's results come from: `params/<profile>/profile.yaml` (`profile_store`).

Each notebook's `parameters` cell holds one variable, `profile` (default: $CNNREPORT_PROFILE,
else "quick"); papermill sets it with `-p profile paper`, nbval gets it from the environment.
The notebook then calls `load_params(<its name>, profile, name=type, ...)`, declaring the
parameters it takes, so a mistyped name or a wrong type in a params file fails at once, naming
the file, the key and what was expected.
"""
import difflib
import functools
import os
from pathlib import Path

import yaml

PROFILES = ("smoke", "quick", "paper")
ROOT = Path(__file__).resolve().parent.parent
PARAMS_DIR = ROOT / "params"


@functools.cache
def known_data():
    """{fingerprint: the data in words} of the data sets committed results were trained on (params/data.yaml)."""
    return yaml.safe_load((PARAMS_DIR / "data.yaml").read_text())


def profile_settings(profile):
    """params/<profile>/profile.yaml, checked: `store` (a folder of the repository, or null for the
    default runs store), `trains` (whether missing runs train), `data` (the fingerprint of the
    data the store's committed results were trained on, or null) and `pending` (notebooks whose
    committed runs are still arriving: left out of the report and of the profile's runs)."""
    return load_params("profile", profile, store=(str, type(None)), trains=bool, data=(str, type(None)), pending=list)


def profile_store(profile):
    """The runs store `profile`'s notebooks read (a runs.Store): its committed_store, unless
    CNNREPORT_RUNS names another, which keeps the profile's `trains` and may hold runs on any data
    (a reproduction's store, for instance)."""
    from cnnreport.training.store import Store, resolve_store
    if os.environ.get("CNNREPORT_RUNS"):
        return Store(resolve_store(), trains=profile_settings(profile)["trains"])
    return committed_store(profile)


def committed_store(profile):
    """The store params/<profile>/profile.yaml names: for the paper profile, its committed results,
    found without loading any data and never trained (`make reproduce` retrains them elsewhere);
    for the others, the default runs store, where what it lacks trains on the data at hand."""
    from cnnreport.training.store import Store, resolve_store
    s = profile_settings(profile)
    if s["store"] is None:
        return Store(resolve_store(), trains=s["trains"])
    return Store(ROOT / s["store"], trains=s["trains"], data=s["data"])


def default_profile():
    return os.environ.get("CNNREPORT_PROFILE") or "quick"


def load_params(notebook, profile, **expected):
    """The parameters of `notebook` under `profile`, as a dict, after checking every key and type.

    expected: name=type (or a tuple of types); every name must be in the file and nothing else may.
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    path = PARAMS_DIR / profile / f"{notebook}.yaml"
    if not path.exists():
        raise ValueError(f"no parameter file {path}")
    params = yaml.safe_load(path.read_text()) or {}
    if not isinstance(params, dict):
        raise ValueError(f"{path} must hold a mapping of parameter names to values")
    for name in params:
        if name not in expected:
            close = difflib.get_close_matches(str(name), expected, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f"; expected {', '.join(expected)}"
            raise ValueError(f"{path}: unknown parameter {name!r}{hint}")
    for name, kind in expected.items():
        if name not in params:
            raise ValueError(f"{path}: missing parameter {name!r}")
        value = params[name]
        if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
            want = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
            raise ValueError(f"{path}: parameter {name!r} must be {want}, got {value!r}")
    return params
