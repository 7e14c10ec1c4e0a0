"""How runs are made, once, and kept: the settings, the training loop and its fast paths, the runs store, and
where runs train (local processes or a dask cluster)."""
