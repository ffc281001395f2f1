"""gpuslice's results in Python: `gpuslice.load(path)` reads a run/compare HDF5 file or a
sweep folder into tidy pandas DataFrames (see results.py); `python3 -m gpuslice.plot` draws
them (see plot.py). Needs Debian's python3-h5py, python3-pandas and python3-matplotlib.

Names are imported when first used, so that `python3 -m gpuslice.plot` can report a missing
package in one line.
"""

__all__ = ["load", "summarize", "Result", "Sweep", "ResultError", "t_quantile"]


def __getattr__(name):
    if name in ("load", "summarize", "Result", "Sweep", "ResultError"):
        from . import results
        return getattr(results, name)
    if name == "t_quantile":
        from .stats import t_quantile
        return t_quantile
    raise AttributeError(f"module 'gpuslice' has no attribute {name!r}")
