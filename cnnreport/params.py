"""Notebook parameters: `params/<profile>/<notebook>.yaml`, checked before any training starts.

Each notebook's `parameters` cell holds one variable, `profile` (default: $CNNREPORT_PROFILE,
else "quick"); papermill sets it with `-p profile paper`, nbval gets it from the environment.
The notebook then calls `load_params(<its name>, profile, name=type, ...)`, declaring the
parameters it takes, so a mistyped name or a wrong type in a params file fails at once, naming
the file, the key and what was expected.
"""
import difflib
import os
from pathlib import Path

import yaml

PROFILES = ("smoke", "quick", "paper")
PARAMS_DIR = Path(__file__).resolve().parent.parent / "params"


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
