#!/usr/bin/python3
"""Tests the Python results module (tools/python/gpuslice) and `gpuslice plot` end to end.

A quickstart compare (with the per-request table) is loaded and its DataFrames checked
against facts that hold whatever the numbers are (conservation, sums over intervals, models
and requests, the histogram against the summary's counts and quantiles); sweeps built here
by hand check the module's means and confidence intervals against a computation written in
this file; every plot kind is drawn and each image checked; every kind of bad input must give
exit 2, one line naming the file, and no file.

Usage: plot_results_test.py GPUSLICE_BINARY SOURCE_DIR
"""
import csv
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

import h5py
import numpy as np

BINARY, SOURCE = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(SOURCE, "tools", "python"))
import gpuslice  # noqa: E402

# Student-t 0.975 quantiles from a printed table (e.g. NIST/SEMATECH e-Handbook, 1.3.6.7.2):
# df 1: 12.706205, df 2: 4.302653, df 4: 2.776445, df 9: 2.262157, df 29: 2.045230.
T975 = {1: 12.706205, 2: 4.302653, 4: 2.776445, 9: 2.262157, 29: 2.045230}
COUNTS = ["arrived", "completed", "dropped_queue_timeout", "dropped_no_capacity", "dropped_admission",
          "dropped_total", "in_flight_at_end", "violations", "cold_starts"]


def plot(*args, env=None, expect=0):
    p = subprocess.run([BINARY, "plot", *args], capture_output=True, text=True,
                       env=None if env is None else {**os.environ, **env})
    assert p.returncode == expect, (args, p.returncode, p.stderr)
    return p


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n", path
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def check_png(path, size):
    assert png_size(path) == size, (path, png_size(path), size)
    import matplotlib.image
    pixels = matplotlib.image.imread(path)[..., :3]
    # Not blank: a figure with axes, lines and text has many non-white pixels of several colours.
    ink = (pixels < 0.9).any(axis=2).mean()
    assert 0.01 < ink < 0.6, (path, ink)
    colours = {tuple(c) for c in (pixels.reshape(-1, 3)[::97] * 8).astype(int)}
    assert len(colours) >= 4, (path, len(colours))


def bad(args, needle, env=None):
    """A bad invocation: exit 2, one line 'gpuslice: error: ... needle ...'."""
    p = plot(*args, env=env, expect=2)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gpuslice: error: ") and needle in lines[0], (args, p.stderr)


# ---------------------------------------------------------------- the compare result

def check_result(path):
    r = gpuslice.load(path)
    assert isinstance(r, gpuslice.Result)
    s = r.summary
    assert list(s.columns[:4]) == ["run", "policy", "seed", "model"]
    with h5py.File(path, "r") as f:
        assert sorted(r.runs) == sorted(f["runs"].keys())
        for run in r.runs:
            assert r.scenario(run) == json.loads(f["runs"][run]["scenario_json"][()].tobytes().decode())
    for run in r.runs:
        rows = s[s["run"] == run]
        models = rows[rows["model"] != "all"]
        overall = rows[rows["model"] == "all"].iloc[0]
        assert rows["model"].iloc[-1] == "all"
        assert set(rows["policy"]) == {r.scenario(run)["policies"][run]["policy"]}
        for _, row in rows.iterrows():  # conservation
            assert row["arrived"] == row["completed"] + row["dropped_total"] + row["in_flight_at_end"], (run, row)
        for c in COUNTS:
            assert overall[c] == models[c].sum(), (run, c)
        assert overall["arrived"] > 100, (run, overall["arrived"])

        ts = r.timeseries[r.timeseries["run"] == run]
        assert ts["arrivals"].sum() == overall["arrived"]
        assert np.all(np.diff(ts["t_s"]) > 0)
        pm = r.per_model_timeseries[r.per_model_timeseries["run"] == run]
        for _, m in models.iterrows():
            assert pm[pm["model"] == m["model"]]["arrivals"].sum() == m["arrived"], (run, m["model"])

        check_histogram(r, run, rows)

        # The action log's ragged detail decodes to one string per action: each cold start
        # the summary counts is a `start` action whose detail is `cold` (docs/hdf5.md).
        a = r.actions[r.actions["run"] == run]
        assert all(isinstance(d, str) for d in a["detail"])
        assert ((a["kind"] == "start") & (a["detail"] == "cold")).sum() == overall["cold_starts"], run

        req = r.requests[r.requests["run"] == run]
        assert len(req) == overall["completed"] + overall["dropped_total"]
        assert (req["status_name"] == "completed").sum() == overall["completed"]
        for _, m in models.iterrows():
            assert (req["model"] == m["model"]).sum() == m["completed"] + m["dropped_total"], (run, m["model"])
    for frame in (s, r.actions, r.timeseries, r.latency_histogram, r.requests):
        for column in frame.columns:
            assert not any(isinstance(v, bytes) for v in frame[column]), column
    return r


def check_histogram(r, run, rows):
    h = r.latency_histogram[r.latency_histogram["run"] == run]
    every = h[h["model"] == "all"]
    low, high, count = every["low_ms"].to_numpy(), every["high_ms"].to_numpy(), every["count"].to_numpy()
    assert every["count"].dtype == np.uint64
    # Buckets are 1% wide from 1 µs: each bound is 1e-3 ms × 1.01^k for an integer k.
    assert np.allclose(high[:-1], low[1:], rtol=0, atol=0)
    k = np.log(low / 1e-3) / np.log(1.01)
    assert np.allclose(k, np.round(k), atol=1e-6)
    assert np.allclose(high / low, 1.01, rtol=1e-9)
    assert count[0] > 0 and count[-1] > 0, "trimmed to the first and last non-empty bucket"
    per_model = sum(h[h["model"] == m]["count"].to_numpy() for m in rows["model"] if m != "all")
    assert np.array_equal(per_model, count)
    for _, row in rows.iterrows():
        c = h[h["model"] == row["model"]]["count"].to_numpy()
        n = int(c.sum())
        assert n == row["completed"], (run, row["model"], n, row["completed"])
        if n == 0:
            continue
        cumulative = np.cumsum(c)
        for q, column in ((0.5, "latency_p50_ms"), (0.9, "latency_p90_ms"), (0.99, "latency_p99_ms")):
            # Nearest rank: the ceil(q n)-th smallest latency; its bucket is the first whose
            # cumulative count reaches that rank.
            i = int(np.searchsorted(cumulative, math.ceil(q * n)))
            assert low[i] * (1 - 1e-9) <= row[column] < high[i] * (1 + 1e-9), (run, row["model"], column, i)
        last = int(np.nonzero(c)[0][-1])
        assert low[last] * (1 - 1e-9) <= row["latency_max_ms"] < high[last] * (1 + 1e-9)
        # The exact mean lies between the means of the buckets' lower and upper bounds.
        assert (c * low).sum() / n <= row["latency_mean_ms"] * (1 + 1e-9)
        assert row["latency_mean_ms"] <= (c * high).sum() / n * (1 + 1e-9)
    cdf = r.latency_cdf(run)
    assert cdf["cdf"].iloc[0] == 0 and abs(cdf["cdf"].iloc[-1] - 1) < 1e-12 and np.all(np.diff(cdf["cdf"]) >= 0)


def check_docs_snippet(path, expected):
    """The first Python block of docs/hdf5.md, run from the source tree on this result."""
    text = open(os.path.join(SOURCE, "docs", "hdf5.md")).read()
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    assert code.count("gpuslice.load(") == 1, code
    code = re.sub(r'"results/quickstart-compare[^"]*\.h5"', lambda m: repr(path), code)
    assert repr(path) in code, code
    names = {}
    here = os.getcwd()
    saved_path = list(sys.path)
    try:
        os.chdir(SOURCE)
        exec(code, names)
    finally:
        os.chdir(here)
        sys.path[:] = saved_path
    assert names["summary"].equals(expected)


# ---------------------------------------------------------------- sweeps built by hand

METRICS = ["violation_rate", "latency_p99_ms", "fractional_usd", "whole_usd"]


def sweep_rows():
    """2 policies × load_scale 0.5, 1, 2 × seeds 1-3; values from a formula with a per-seed wobble."""
    rows = []
    for policy, base in (("has-gpu", 0.01), ("kserve", 0.05)):
        for scale in (0.5, 1.0, 2.0):
            for seed in (1, 2, 3):
                wobble = (seed - 2) * 0.004 + (seed == 3) * 0.003
                rows.append({"load_scale": scale, "policy": policy, "seed": seed, "key": f"{policy}-{scale}-{seed}",
                             "violation_rate": base * scale + wobble,
                             "latency_p99_ms": 100 * scale + 10 * seed * seed,
                             "fractional_usd": 0.2 * scale + 0.01 * seed,
                             "whole_usd": 0.5 + 0.0 * seed})
    return rows


def expected_summary(rows):
    """Mean and 95% CI over the 3 seeds: mean ± t_{0.975,2} s / √3, s with n − 1 = 2."""
    out = {}
    for row in rows:
        out.setdefault((row["load_scale"], row["policy"]), []).append(row)
    result = {}
    for key, group in out.items():
        assert len(group) == 3
        entry = {"seeds": 3}
        for m in METRICS:
            x = [g[m] for g in group]
            mean = sum(x) / 3
            s = math.sqrt(sum((v - mean) ** 2 for v in x) / 2)
            half = T975[2] * s / math.sqrt(3)
            entry[m] = (mean, mean - half, mean + half)
        result[key] = entry
    return result


def write_csv(path, rows, columns):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns)
        w.writeheader()
        w.writerows(rows)


def summary_rows(expected):
    rows = []
    for (scale, policy), e in expected.items():
        row = {"load_scale": scale, "policy": policy, "seeds": e["seeds"]}
        for m in METRICS:
            row[f"{m}_mean"], row[f"{m}_ci95_low"], row[f"{m}_ci95_high"] = e[m]
        rows.append(row)
    return rows


def write_sweep_h5(path, runs, summary, parameters):
    utf8 = h5py.string_dtype("utf-8")
    with h5py.File(path, "w") as f:
        f.attrs["spec"] = json.dumps({"scenario": "quickstart.json", "seeds": 3})
        f.attrs["parameters"] = json.dumps(parameters)
        f.attrs["metrics"] = json.dumps(METRICS)
        for name, rows in (("runs", runs), ("summary", summary)):
            g = f.create_group(name)
            for column in rows[0]:
                values = [r[column] for r in rows]
                if isinstance(values[0], str):
                    g.create_dataset(column, data=values, dtype=utf8)
                else:
                    g.create_dataset(column, data=np.array(values))


def check_summary(sweep, expected):
    s = sweep.summary
    assert len(s) == len(expected) == 6
    for _, row in s.iterrows():
        e = expected[(float(row["load_scale"]), row["policy"])]
        assert row["seeds"] == 3
        for m in METRICS:
            mean, low, high = row[f"{m}_mean"], row[f"{m}_ci95_low"], row[f"{m}_ci95_high"]
            assert math.isclose(mean, e[m][0], rel_tol=1e-12, abs_tol=1e-15), (m, mean, e[m])
            # Symmetric about the mean; the half-width agrees to the table's 7 digits of t.
            for got, want in ((mean - low, e[m][0] - e[m][1]), (high - mean, e[m][2] - e[m][0])):
                assert math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-12), (m, got, want)


def build_sweeps(tmp):
    rows = sweep_rows()
    expected = expected_summary(rows)
    columns = ["load_scale", "policy", "seed", "key"] + METRICS
    # A: only runs.csv; the module computes the summary itself.
    a = os.path.join(tmp, "sweep-a")
    os.makedirs(os.path.join(a, "runs"))
    write_csv(os.path.join(a, "runs.csv"), rows, columns)
    sweep = gpuslice.load(a)
    assert isinstance(sweep, gpuslice.Sweep)
    assert sweep.parameters == ["load_scale"] and sweep.metrics == METRICS
    assert sweep.policies == ["has-gpu", "kserve"] and len(sweep.runs) == 18
    check_summary(sweep, expected)
    # B: sweep.h5 (strings as variable-length UTF-8) beside CSVs that disagree: the h5 wins.
    b = os.path.join(tmp, "sweep-b")
    os.makedirs(os.path.join(b, "runs"))
    write_sweep_h5(os.path.join(b, "sweep.h5"), rows, summary_rows(expected), ["load_scale"])
    write_csv(os.path.join(b, "runs.csv"), rows[:3], columns)
    for target in (b, os.path.join(b, "sweep.h5")):
        sweep = gpuslice.load(target)
        assert len(sweep.runs) == 18 and sweep.spec["seeds"] == 3
        assert all(isinstance(p, str) for p in sweep.runs["policy"])
        check_summary(sweep, expected)
        check_summary(type("S", (), {"summary": gpuslice.summarize(sweep.runs, ["load_scale"], METRICS)}), expected)
    # C: two parameters, one of them strings, one seed (the interval collapses to the mean).
    c = os.path.join(tmp, "sweep-c")
    os.makedirs(os.path.join(c, "runs"))
    rows_c = [dict(r, seed=1, **{"executor.noise.kind": kind}) for kind in ("lognormal", "none")
              for r in rows if r["seed"] == 1]
    write_csv(os.path.join(c, "runs.csv"), rows_c, ["load_scale", "executor.noise.kind"] + columns[1:])
    sweep = gpuslice.load(c)
    assert sweep.parameters == ["load_scale", "executor.noise.kind"]
    s = sweep.summary
    assert len(s) == 12 and (s["seeds"] == 1).all()
    assert (s["violation_rate_ci95_low"] == s["violation_rate_mean"]).all()
    assert (s["violation_rate_ci95_high"] == s["violation_rate_mean"]).all()
    return a, b, c


def main():
    for df, t in T975.items():
        assert abs(gpuslice.t_quantile(0.975, df) - t) < 5e-6 * t, (df, gpuslice.t_quantile(0.975, df))
    with tempfile.TemporaryDirectory() as tmp:
        result = os.path.join(tmp, "q.h5")
        subprocess.run([BINARY, "compare", os.path.join(SOURCE, "scenarios", "quickstart.json"), "-o", result,
                        "--per-request"], check=True, capture_output=True)
        r = check_result(result)
        check_docs_snippet(result, r.summary)
        a, b, c = build_sweeps(tmp)

        figures = os.path.join(tmp, "figures")
        os.mkdir(figures)
        fig = lambda name: os.path.join(figures, name)
        for kind in ("compare", "cdf", "timeseries"):
            plot(result, "-o", fig(f"{kind}.png"), "--kind", kind, "--size", "6x4", "--dpi", "100")
            check_png(fig(f"{kind}.png"), (600, 400))
        plot(result, "-o", fig("default.png"), "--size", "6x4", "--dpi", "100")
        assert open(fig("default.png"), "rb").read() == open(fig("compare.png"), "rb").read(), "default: compare"
        plot(result, "-o", fig("compare-150.png"))
        check_png(fig("compare-150.png"), (1500, 630))  # the default 10 × 4.2 in at 150 dpi
        plot(result, "-o", fig("two.png"), "--kind", "timeseries", "--runs", "kserve,has-gpu", "--metric", "instances")
        check_png(fig("two.png"), (1350, 1275))
        for sweep in (a, b, c):
            name = os.path.basename(sweep)
            plot(sweep, "-o", fig(f"{name}.png"), "--size", "6x4", "--dpi", "100")
            check_png(fig(f"{name}.png"), (600, 400))
            plot(sweep, "-o", fig(f"{name}-compare.png"), "--kind", "compare", "--size", "6x4", "--dpi", "100")
            check_png(fig(f"{name}-compare.png"), (600, 400))
        plot(c, "-o", fig("c-x.png"), "--x", "executor.noise.kind", "--metric", "latency_p99_ms", "--size", "6x4",
             "--dpi", "100")
        check_png(fig("c-x.png"), (600, 400))
        plot(a, "-o", fig("a-sweep.png"), "--kind", "sweep", "--size", "6x4", "--dpi", "100")
        assert open(fig("a-sweep.png"), "rb").read() == open(fig("sweep-a.png"), "rb").read(), "default: sweep"
        plot(result, "-o", fig("cdf.pdf"), "--kind", "cdf")
        pdf = open(fig("cdf.pdf"), "rb").read()
        assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF") and len(pdf) > 5000
        plot(a, "-o", fig("sweep.svg"))
        assert ET.parse(fig("sweep.svg")).getroot().tag.endswith("svg")

        # Bad input: exit 2, one line naming the file, and nothing written.
        before = sorted(os.listdir(figures))
        not_result = os.path.join(tmp, "other.h5")
        with h5py.File(not_result, "w") as f:
            f.create_dataset("x", data=[1, 2])
        text = os.path.join(tmp, "notes.txt")
        open(text, "w").write("not a result\n")
        bad([os.path.join(tmp, "missing.h5"), "-o", fig("x.png")], "missing.h5: no such file")
        bad([not_result, "-o", fig("x.png")], "other.h5: not a gpuslice result")
        bad([text, "-o", fig("x.png")], "notes.txt: not an HDF5 file")
        bad([tmp, "-o", fig("x.png")], f"{tmp}: not a gpuslice result")
        bad([result, "-o", fig("x.png"), "--kind", "violin"], "unknown kind 'violin'")
        bad([result, "-o", fig("x.png"), "--metric", "happiness"], "unknown metric 'happiness'")
        bad([result, "-o", fig("x.png"), "--kind", "timeseries", "--metric", "happiness"], "unknown metric")
        bad([result, "-o", fig("x.png"), "--runs", "kserve,nope"], "no run nope")
        bad([result, "-o", fig("x.png"), "--kind", "sweep"], "needs a sweep")
        bad([a, "-o", fig("x.png"), "--kind", "cdf"], "needs a run/compare result")
        bad([a, "-o", fig("x.png"), "--x", "batch_size"], "unknown parameter 'batch_size'")
        bad([a, "-o", fig("x.png"), "--metric", "happiness"], "unknown metric 'happiness'")
        bad([result, "-o", fig("x.jpg")], "x.jpg: unknown extension '.jpg'")
        bad([result, "-o", os.path.join(tmp, "no", "such", "x.png")], "does not exist")
        bad([result, "-o", fig("x.png"), "--size", "big"], "--size")
        readonly = os.path.join(tmp, "readonly")
        os.mkdir(readonly, 0o555)
        if not os.access(readonly, os.W_OK):  # root can write anyway
            bad([result, "-o", os.path.join(readonly, "x.png")], "cannot write")
        original = open(fig("cdf.png"), "rb").read()
        bad([result, "-o", fig("cdf.png")], "cdf.png: exists (use --force")
        assert open(fig("cdf.png"), "rb").read() == original
        bad([result, "-o", fig("x.png")], "no gpuslice/plot.py", env={"GPUSLICE_PYTHONPATH": os.path.join(tmp, "nope")})
        bad([result, "-o", fig("x.png")], "no such interpreter", env={"GPUSLICE_PYTHON": os.path.join(tmp, "python9")})
        assert sorted(os.listdir(figures)) == before, sorted(set(os.listdir(figures)) ^ set(before))
        plot(result, "-o", fig("cdf.png"), "--force", "--kind", "compare", "--size", "6x4", "--dpi", "100")
        assert open(fig("cdf.png"), "rb").read() == open(fig("compare.png"), "rb").read()
        assert sorted(os.listdir(figures)) == before
    print("ok")


if __name__ == "__main__":
    main()
