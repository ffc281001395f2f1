"""Loads gpuslice results into tidy pandas DataFrames.

`load(path)` takes a result of `gpuslice run`/`compare` (one HDF5 file, layout in
docs/hdf5.md) and gives a `Result`, or a sweep folder of `gpuslice sweep` (or its `sweep.h5`)
and gives a `Sweep`. Strings come back as `str`, never `bytes`; every table has the run (or
the sweep's parameters and policy) as columns, one observation per row. Bad input raises
`ResultError`, whose message names the file and the problem.
"""
import json
import math
import os
from functools import cached_property

import h5py
import numpy as np
import pandas as pd

from .stats import t_quantile


class ResultError(Exception):
    """A path that is not a readable gpuslice result; str() is '<path>: <problem>'."""


def load(path):
    """A `Result` for a run/compare HDF5 file, a `Sweep` for a sweep folder or its sweep.h5."""
    path = os.fspath(path)
    if os.path.isdir(path):
        return Sweep(path)
    if not os.path.exists(path):
        raise ResultError(f"{path}: no such file or folder")
    if not h5py.is_hdf5(path):
        raise ResultError(f"{path}: not an HDF5 file")
    with h5py.File(path, "r") as f:
        is_sweep = "parameters" in f.attrs and "summary" in f and "runs" in f
        is_result = "runs" in f and isinstance(f["runs"], h5py.Group) and "parameters" not in f.attrs
    if is_sweep:
        return Sweep(os.path.dirname(os.path.abspath(path)), h5_path=path)
    if not is_result:
        raise ResultError(f"{path}: not a gpuslice result (no 'runs' group)")
    return Result(path)


def _text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.ndarray) and value.shape == ():
        return _text(value[()])
    return value


def _column(dataset):
    """A 1-D dataset as a numpy array, strings decoded."""
    if h5py.check_string_dtype(dataset.dtype) is not None:
        return np.array(dataset.asstr()[()], dtype=object)
    return dataset[()]


_KEY_COLUMNS = ("model", "t_s", "kind", "id")


def _table(group, skip=()):
    """A group of equal-length 1-D datasets (but those in `skip`) as a DataFrame, key columns first."""
    names = [k for k in group if k not in skip and isinstance(group[k], h5py.Dataset) and group[k].ndim == 1]
    names = [k for k in _KEY_COLUMNS if k in names] + [k for k in names if k not in _KEY_COLUMNS]
    return pd.DataFrame({k: _column(group[k]) for k in names})


# Texts a run stores as datasets of UTF-8 bytes (schema 3); schema 2 kept them as attributes.
_TEXT_DATASETS = ("scenario_json", "summary_json")


def _run_attrs(group):
    """A run group's attributes, with its stored texts, as one dict of decoded values."""
    attrs = {k: _text(v) for k, v in group.attrs.items()}
    for key in _TEXT_DATASETS:
        if key in group and isinstance(group[key], h5py.Dataset):
            attrs[key] = group[key][()].tobytes().decode("utf-8")
    return attrs


def _ragged_text(lengths, text):
    """Splits UTF-8 bytes stored back to back into strings of the given byte lengths."""
    ends = np.cumsum(lengths.astype(np.uint64))
    if len(ends) and int(ends[-1]) != len(text):
        raise ResultError(f"ragged text: lengths sum to {int(ends[-1])} bytes, the text has {len(text)}")
    return np.array([text[int(e) - int(n):int(e)].decode("utf-8") for e, n in zip(ends, lengths)], dtype=object)


def _actions(group):
    """The action log as a DataFrame. Schema 3 stores `detail` as a ragged array
    (`detail_length`, `detail_text`, docs/hdf5.md); schema 2 as a string column."""
    if "detail_length" not in group:
        return _table(group)
    df = _table(group, skip=("detail_length", "detail_text"))
    df["detail"] = _ragged_text(group["detail_length"][()], group["detail_text"][()].tobytes())
    return df


class Result:
    """One HDF5 file of `gpuslice run` or `compare`: its runs as DataFrames.

    Runs come in the order the invocation ran them (the root attribute `run_order`; by name in
    files written before it), a table's key columns (`model`, `t_s`) first. Each table is read when first asked
    for and kept.
    """

    def __init__(self, path):
        self.path = path
        try:
            with h5py.File(path, "r") as f:
                self.attrs = {k: _text(v) for k, v in f.attrs.items()}
                names = list(f["runs"].keys())
                if "run_order" in f.attrs:  # schema 2: the scenario's order
                    order = [n for n in json.loads(_text(f.attrs["run_order"])) if n in names]
                    names = order + [n for n in names if n not in order]
                self._run_attrs = {n: _run_attrs(f["runs"][n]) for n in names}
        except OSError as e:
            raise ResultError(f"{path}: cannot read ({e})") from e
        self.runs = names

    def __repr__(self):
        return f"Result({self.path!r}, runs={self.runs})"

    def scenario(self, run):
        """The run's fully resolved scenario (its stored `scenario_json`) as a dict."""
        return json.loads(self._attrs_of(run)["scenario_json"])

    def run_attrs(self, run):
        return dict(self._attrs_of(run))

    def _attrs_of(self, run):
        if run not in self._run_attrs:
            raise ResultError(f"{self.path}: no run '{run}' (runs: {', '.join(self.runs)})")
        return self._run_attrs[run]

    def _per_run(self, read):
        """Concatenates read(group, run) over the runs that have the table, with `run` in front."""
        frames = []
        with h5py.File(self.path, "r") as f:
            for run in self.runs:
                df = read(f["runs"][run], run)
                if df is None:
                    continue
                df.insert(0, "run", run)
                frames.append(df)
        if not frames:
            return pd.DataFrame({"run": pd.Series(dtype=object)})
        return pd.concat(frames, ignore_index=True)

    def _with_policy_seed(self, df):
        attrs = [self._run_attrs[r] for r in df["run"]]
        df.insert(1, "policy", [a.get("policy") for a in attrs])
        df.insert(2, "seed", [int(a["seed"]) if "seed" in a else None for a in attrs])
        return df

    @cached_property
    def summary(self):
        """One row per run and model (the models, then 'all'): run, policy, seed, model, metrics."""
        return self._with_policy_seed(self._per_run(lambda g, run: _table(g["summary"]) if "summary" in g else None))

    @cached_property
    def timeseries(self):
        """One row per run and interval: run, t_s, then the columns of docs/hdf5.md."""
        return self._per_run(lambda g, run: _table(g["timeseries"]) if "timeseries" in g else None)

    def interval_s(self, run):
        with h5py.File(self.path, "r") as f:
            return float(f["runs"][run]["timeseries"].attrs["interval_s"])

    @cached_property
    def per_model_timeseries(self):
        """One row per run, interval and model: run, t_s, model, then the [interval × model] matrices."""
        def read(g, run):
            if "timeseries" not in g or "per_model" not in g["timeseries"]:
                return None
            pm = g["timeseries"]["per_model"]
            models = list(_column(pm["model"]))
            t = g["timeseries"]["t_s"][()]
            df = pd.DataFrame({"t_s": np.repeat(t, len(models)), "model": np.tile(models, len(t))})
            for k in pm:
                if k != "model" and pm[k].ndim == 2:
                    df[k] = pm[k][()].reshape(-1)
            return df
        return self._per_run(read)

    @cached_property
    def actions(self):
        """One row per run and action, in time order within a run; `detail` as text."""
        return self._per_run(lambda g, run: _actions(g["actions"]) if "actions" in g else None)

    @cached_property
    def requests(self):
        """One row per request of the runs written with --per-request (empty when none was):
        `function` and `model` as names, `status` as its code and `status_name`."""
        def read(g, run):
            if "requests" not in g:
                return None
            r = g["requests"]
            df = _table(r)
            functions = json.loads(_text(r.attrs["function_names"]))
            models = json.loads(_text(r.attrs["model_names"]))
            codes = {int(k): v for k, v in json.loads(_text(r.attrs["status_codes"])).items()}
            df["function"] = [functions[i] for i in df["function"]]
            df["model"] = [models[i] for i in df["model"]]
            df.insert(df.columns.get_loc("status") + 1, "status_name", [codes[int(s)] for s in df["status"]])
            return df
        return self._per_run(read)

    @cached_property
    def latency_histogram(self):
        """One row per run, model (each model, then 'all') and non-empty-range bucket:
        run, model, low_ms, high_ms, count. Empty for files written before the histogram."""
        def read(g, run):
            if "latency_histogram" not in g:
                return None
            h = g["latency_histogram"]
            low, high = h["low_ms"][()], h["high_ms"][()]
            models = list(_column(h["per_model"]["model"]))
            counts = h["per_model"]["count"][()].reshape(len(low), len(models))
            frames = [pd.DataFrame({"model": m, "low_ms": low, "high_ms": high, "count": counts[:, k]})
                      for k, m in enumerate(models)]
            frames.append(pd.DataFrame({"model": "all", "low_ms": low, "high_ms": high, "count": h["count"][()]}))
            return pd.concat(frames, ignore_index=True)
        return self._per_run(read)

    def latency_cdf(self, run, model="all"):
        """The run's latency CDF from its histogram: latency_ms (a bucket's upper bound) and cdf
        (the share of completed requests at or below it), starting at (first bucket's low, 0)."""
        h = self.latency_histogram
        if "model" not in h.columns:
            raise ResultError(f"{self.path}: no latency_histogram (written before gpuslice stored it)")
        rows = h[(h["run"] == run) & (h["model"] == model)]
        total = rows["count"].sum()
        if total == 0:
            return pd.DataFrame({"latency_ms": [], "cdf": []})
        return pd.DataFrame({
            "latency_ms": np.concatenate([[rows["low_ms"].iloc[0]], rows["high_ms"].to_numpy()]),
            "cdf": np.concatenate([[0.0], rows["count"].cumsum().to_numpy() / total]),
        })


class Sweep:
    """A folder of `gpuslice sweep`: `runs` (one row per point, policy run and seed) and
    `summary` (one row per point and policy run: seeds, then per metric its mean and 95% CI).

    Read from sweep.h5 when present, else from runs.csv and summary.csv; with no summary.csv
    the summary is computed from the runs by `summarize`.
    """

    def __init__(self, folder, h5_path=None):
        self.path = folder
        h5_path = h5_path or os.path.join(folder, "sweep.h5")
        self.spec = None
        spec_path = os.path.join(folder, "spec.json")
        if os.path.exists(h5_path):
            self._read_h5(h5_path)
        elif os.path.exists(os.path.join(folder, "runs.csv")):
            self._read_csv(folder)
        else:
            raise ResultError(f"{folder}: not a gpuslice result (no sweep.h5 or runs.csv)")
        if self.spec is None and os.path.exists(spec_path):
            with open(spec_path) as f:
                self.spec = json.load(f)

    def __repr__(self):
        return f"Sweep({self.path!r}, parameters={self.parameters}, policies={self.policies})"

    def _read_h5(self, path):
        self.source = path
        try:
            with h5py.File(path, "r") as f:
                self.parameters = json.loads(_text(f.attrs["parameters"]))
                self.metrics = json.loads(_text(f.attrs["metrics"]))
                self.spec = json.loads(_text(f.attrs["spec"])) if "spec" in f.attrs else None
                self.runs = _table(f["runs"])
                self.summary = _table(f["summary"])
        except (OSError, KeyError, ValueError) as e:
            raise ResultError(f"{path}: not a readable sweep ({e})") from e
        self._check(path)

    def _read_csv(self, folder):
        runs_path = os.path.join(folder, "runs.csv")
        self.source = runs_path
        try:
            self.runs = pd.read_csv(runs_path)
        except (OSError, ValueError) as e:
            raise ResultError(f"{runs_path}: not a readable CSV ({e})") from e
        columns = list(self.runs.columns)
        if not {"policy", "seed", "key"} <= set(columns):
            raise ResultError(f"{runs_path}: not a sweep's runs.csv (needs columns policy, seed and key)")
        self.parameters = columns[:columns.index("policy")]
        self.metrics = columns[columns.index("key") + 1:]
        summary_path = os.path.join(folder, "summary.csv")
        if os.path.exists(summary_path):
            try:
                self.summary = pd.read_csv(summary_path)
            except (OSError, ValueError) as e:
                raise ResultError(f"{summary_path}: not a readable CSV ({e})") from e
        else:
            self.summary = summarize(self.runs, self.parameters, self.metrics)
        self._check(runs_path)

    def _check(self, path):
        missing = [c for c in self.parameters + ["policy", "seed"] + self.metrics if c not in self.runs.columns]
        missing += [c for c in self.parameters + ["policy", "seeds"] if c not in self.summary.columns]
        if missing:
            raise ResultError(f"{path}: sweep table lacks column(s) {', '.join(missing)}")

    @property
    def policies(self):
        return list(dict.fromkeys(self.runs["policy"]))


def summarize(runs, parameters, metrics, confidence=0.95):
    """Per point (the `parameters`' values) and policy, in order of first appearance: `seeds`
    and, per metric, `<metric>_mean`, `<metric>_ci95_low`, `<metric>_ci95_high`: the mean over
    seeds ± the Student-t quantile × the standard error (sample standard deviation); with
    one seed the bounds equal the mean."""
    keys = list(parameters) + ["policy"]
    rows = []
    for key, group in runs.groupby(keys, sort=False, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(keys, key))
        row["seeds"] = len(group)
        for m in metrics:
            values = group[m].to_numpy(dtype=float)
            values = values[~np.isnan(values)]
            n = len(values)
            mean = values.mean() if n else math.nan
            half = 0.0
            if n > 1:
                half = t_quantile(0.5 + confidence / 2, n - 1) * values.std(ddof=1) / math.sqrt(n)
            row[f"{m}_mean"], row[f"{m}_ci95_low"], row[f"{m}_ci95_high"] = mean, mean - half, mean + half
        rows.append(row)
    return pd.DataFrame(rows)
