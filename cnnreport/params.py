"""Notebook parameters: params/<notebook>.yaml (what every profile shares) updated by
params/<profile>/<notebook>.yaml (what one profile sets), checked before any training starts;
and where each profile's results come from: params/<profile>/profile.yaml (`profile_store`).

Each notebook's `parameters` cell holds one variable, `profile` (default: $CNNREPORT_PROFILE,
else "quick"); papermill sets it with `-p profile paper`, nbval gets it from the environment. The
notebook then calls `load_params(<its name>, profile)`. A key that is a field of
cnnreport.training.config.Config takes that field's type: one value, a list of values (the one
setting a sweep varies), or {model: value or list} where networks differ. Every other key is typed
by EXTRA. A mistyped name or a wrong type fails at once, naming the file, the key and what was expected.
"""
import difflib
import functools
import os
from dataclasses import fields
from pathlib import Path

import yaml

PROFILES = ("smoke", "quick", "paper")
ROOT = Path(__file__).resolve().parent.parent
PARAMS_DIR = ROOT / "params"

# The keys a notebook's params may hold beside Config's fields, and their types.
EXTRA = {
    "models": list,               # the networks a sweep trains, one of science.models.ARCHITECTURES each
    "rows": dict,                 # or its rows, {name: {model: ..., and settings of the row's own}}
    "seeds": list,                # the seeds every setting of a sweep trains with
    "samples": int,               # test images a sweep shows as pictures: its first seed's runs keep their weights
    "arms": dict,                 # {arm: data fingerprint}: the sweep trains on each of these data sets instead
    "kernels": list,              # kernel sizes whose receptive fields are compared
    "depth": int, "width": int, "size": int, "batch": int,   # the gradient demonstration's stack of convolutions
}


@functools.cache
def known_data():
    """{fingerprint: the data in words} of the data sets committed results were trained on (params/data.yaml)."""
    return yaml.safe_load((PARAMS_DIR / "data.yaml").read_text())


def profile_settings(profile):
    """params/<profile>/profile.yaml, checked: `store` (a folder of the repository, or null for the
    default runs store), `trains` (whether missing runs train), `data` (the fingerprint of the
    data the store's committed results were trained on, or null) and `pending` (notebooks whose
    committed runs are still arriving: left out of the report and of the profile's runs)."""
    path = _check_profile(profile) / "profile.yaml"
    settings = _read(path)
    types = dict(store=(str, type(None)), trains=bool, data=(str, type(None)), pending=list)
    for name, value in settings.items():
        _check(path, name, value, types)
    for name in types:
        if name not in settings:
            raise ValueError(f"{path}: missing parameter {name!r}")
    return settings


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


def has_params(notebook, profile):
    """Whether `notebook` has parameters under `profile` (a file of its own in params/ or params/<profile>/)."""
    return (PARAMS_DIR / f"{notebook}.yaml").exists() or (_check_profile(profile) / f"{notebook}.yaml").exists()


def load_params(notebook, profile):
    """The parameters of `notebook` under `profile`, as a dict: params/<notebook>.yaml updated by
    params/<profile>/<notebook>.yaml, every key and type checked (see the module docstring)."""
    shared, own = PARAMS_DIR / f"{notebook}.yaml", _check_profile(profile) / f"{notebook}.yaml"
    if not shared.exists() and not own.exists():
        raise ValueError(f"no parameter file for {notebook}: neither {shared} nor {own}")
    params = {}
    for path in (shared, own):
        if path.exists():
            for name, value in _read(path).items():
                _check(path, name, value, _types())
                params[name] = value
    return params


def swept(params):
    """The Config field the params sweep: the one given as a list of values (or as {model: list});
    None for a comparison of networks."""
    from cnnreport.training.config import Config
    lists = [k for k, v in params.items() if k in Config.names()
             and (isinstance(v, list) or isinstance(v, dict) and any(isinstance(x, list) for x in v.values()))]
    if len(lists) > 1:
        raise ValueError(f"a sweep varies one setting, but {' and '.join(lists)} are both given as lists of values")
    return lists[0] if lists else None


def _check_profile(profile):
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    return PARAMS_DIR / profile


def _read(path):
    params = yaml.safe_load(Path(path).read_text()) or {}
    if not isinstance(params, dict):
        raise ValueError(f"{path} must hold a mapping of parameter names to values")
    return params


@functools.cache
def _types():
    """{key: type(s)} of every key a notebook's params may hold: Config's fields, then EXTRA."""
    from cnnreport.training.config import Config
    return {f.name: (int, float) if f.type is float else f.type for f in fields(Config)} | EXTRA


def _check(path, name, value, types):
    """Raise a ValueError naming the file and the key unless `value` fits types[name]: for a Config
    field also a list of such values, or {model: a value or a list}."""
    if name not in types:
        close = difflib.get_close_matches(str(name), types, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"{path}: unknown parameter {name!r}{hint}")
    kind = types[name]

    def one(v):
        return not (isinstance(v, bool) and kind is not bool) and isinstance(v, kind)

    def values(v):
        return one(v) or isinstance(v, list) and len(v) > 0 and all(map(one, v))
    config_field = name in _types() and name not in EXTRA
    if not (values(value) or isinstance(value, dict) and all(isinstance(k, str) and values(v) for k, v in value.items())
            if config_field else one(value)):
        want = " or ".join("null" if k is type(None) else k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        forms = " (or a list of them, or {model: ...})" if config_field else ""
        raise ValueError(f"{path}: parameter {name!r} must be {want}{forms}, got {value!r}")
