#!/usr/bin/python3
"""Reads a gpuslice result file back with h5py, as users do, and checks its layout and that
it agrees with the summary JSON of the same invocation.

Usage: hdf5_readback_test.py GPUSLICE_BINARY SOURCE_DIR
"""
import json
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np


def main():
    binary, source = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "q.h5")
        summary_path = os.path.join(tmp, "q.json")
        subprocess.run([binary, "compare", os.path.join(source, "scenarios", "quickstart.json"), "-o", out,
                        "--per-request", "--summary-json", summary_path], check=True, capture_output=True)
        assert sorted(os.listdir(tmp)) == ["q.h5", "q.json"], os.listdir(tmp)
        summary = json.load(open(summary_path))
        with h5py.File(out, "r") as f:
            assert f.attrs["scenario"] == "quickstart"
            runs = f["runs"]
            assert sorted(runs.keys()) == sorted(r["name"] for r in summary["runs"])
            for run in summary["runs"]:
                g = runs[run["name"]]
                assert g.attrs["policy"] == run["policy"]
                scenario = json.loads(g["scenario_json"][()].tobytes().decode())  # bytes (docs/hdf5.md)
                assert run["name"] in scenario["policies"]

                s = g["summary"]
                names = [m.decode() for m in s["model"][()]]
                assert names[-1] == "all"
                for i, name in enumerate(names):
                    expected = run["overall"] if name == "all" else run["models"][name]
                    assert s["arrived"][i] == expected["arrived"]
                    assert s["completed"][i] == expected["completed"]
                    assert s["violations"][i] == expected["violations"]
                    assert np.isclose(s["latency_p99_ms"][i], expected["latency_ms"]["p99"])
                    assert np.isclose(s["whole_gpu_s"][i], expected["cost"]["whole_gpu_s"])

                ts = g["timeseries"]
                n = len(ts["t_s"])
                for column in ts:
                    if column != "per_model":
                        assert len(ts[column]) == n, column
                assert ts["arrivals"][()].sum() == run["overall"]["arrived"]
                assert ts["completions"][()].sum() == run["overall"]["completed"]
                assert np.isclose(ts["cost_whole_usd"][()].sum(), run["overall"]["cost"]["whole_usd"])
                # Time averages over each interval; the last one may be partial.
                durations = np.minimum(ts.attrs["interval_s"], g.attrs["simulated_s"] - ts["t_s"][()])
                assert np.isclose((ts["gpus_held"][()] * durations).sum(),
                                  run["overall"]["cost"]["whole_gpu_s"], rtol=1e-6)
                pm = ts["per_model"]
                assert pm["arrivals"].shape == (n, len(names) - 1)
                assert (pm["arrivals"][()].sum(axis=1) == ts["arrivals"][()]).all()

                a = g["actions"]
                kinds = [k.decode() for k in a["kind"][()]]
                # detail: a ragged array (docs/hdf5.md), split here by hand
                lengths = a["detail_length"][()]
                text = a["detail_text"][()].tobytes()
                assert len(text) == lengths.sum()
                starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(int)
                details = [text[s:s + n].decode() for s, n in zip(starts, lengths)]
                cold = sum(1 for k, d in zip(kinds, details) if k == "start" and d == "cold")
                assert cold == run["overall"]["cold_starts"]
                assert (np.diff(a["t_s"][()]) >= 0).all()

                r = g["requests"]
                assert len(r["id"]) == run["overall"]["arrived"]
                done = r["status"][()] == 0
                assert done.sum() == run["overall"]["completed"]
                latency = r["latency_ms"][()][done]
                assert np.isclose(latency.mean(), run["overall"]["latency_ms"]["mean"])
                assert np.isclose(latency.max(), run["overall"]["latency_ms"]["max"])
                # Nearest-rank p99 within the histogram's stated 0.5%.
                p99 = np.sort(latency)[int(np.ceil(0.99 * len(latency))) - 1]
                assert abs(run["overall"]["latency_ms"]["p99"] / p99 - 1) <= 0.005
                slo = {m: scenario["models"][m]["slo_ms"] for m in scenario["models"]}
                model_names = json.loads(r.attrs["model_names"])
                late = sum(1 for m, lat in zip(r["model"][()][done], latency) if lat > slo[model_names[m]])
                assert late + (~done).sum() == run["overall"]["violations"]
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
