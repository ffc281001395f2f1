#!/usr/bin/python3
"""Writes the scale scenarios of issue 15 into scenarios/scale/ (run from anywhere).

  azure-population-2000.json   2,000 functions, each its own model, on 500 V100s
                               (125 nodes x 4), 20,000 rps for one hour;
  azure-population-10000.json  10,000 functions on 2,000 V100s (500 nodes x 4), 5,000 rps
                               for 24 h (written, not committed when over ~3 MB);
  azure-functions-2019-day.json  the 10-function Azure Functions 2019 sample, the whole day
                               at its published rate, under the same policies: the
                               per-request speed the scale runs are compared with.

Models alternate the ResNet-50 and MobileNet-V3 V100 profiles with the SLOs, memory and
load times of scenarios/azure-population-64.json; the workload is the `population` source
(docs/workloads.md). Policies: whole-gpu (KServe), fast-gshare, has-gpu, gpulet.
Usage: tools/scenarios/make_scale.py [--only NAME] [--out DIR]
"""
import argparse
import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

RESNET = {"profile": "../../gpu/profiles/v100/resnet50.csv", "slo_ms": 200, "memory_mb": 2700,
          "load_time_s": 4.0, "network_ms": 10, "preprocess_ms": 52, "postprocess_ms": 2,
          "max_batch": 4, "queue_timeout_s": 30}
MOBILENET = dict(RESNET, profile="../../gpu/profiles/v100/mobilenet_v3_large.csv", slo_ms=150,
                 load_time_s=3.0)

# The policies of azure-population-64.json, plus gpulet with its defaults.
POLICIES = {
    "whole-gpu": {"policy": "whole-gpu", "container_concurrency": 15, "initial_replicas": 0,
                  "max_replicas": 2},
    "fast-gshare": {"policy": "fast-gshare", "warm_start": True},
    "has-gpu": {"policy": "has-gpu"},
    "gpulet": {"policy": "gpulet"},
}


def population(name, functions, nodes, total_rps, end_s, policies, count_refusals=False):
    width = max(4, len(str(functions - 1)))
    models = {}
    for i in range(functions):
        models["fn%0*d" % (width, i)] = dict(RESNET if i % 2 == 0 else MOBILENET)
    return {
        "name": name,
        "seed": 1,
        "cluster": {"nodes": [{"count": nodes, "gpus_per_node": 4, "gpu": "V100-16GB"}],
                    "container_start_s": 2.0},
        "models": models,
        "workload": [{"type": "population", "functions": functions, "total_rps": total_rps,
                      "zipf_s": 1.0, "end_s": end_s}],
        "executor": {"noise": {"kind": "lognormal", "cv": 0.05}},
        "output": dict({"interval_s": 10, "per_model_timeseries": False},
                       **({"refusals": "count"} if count_refusals else {})),
        "policies": {k: POLICIES[k] for k in policies},
    }


def azure_day():
    with open(os.path.join(ROOT, "scenarios/traces/azure-functions-2019.json")) as f:
        s = json.load(f)
    s["name"] = "azure-functions-2019-day"
    for w in s["workload"]:  # paths stay valid: scenarios/scale/ is as deep as scenarios/traces/
        w.pop("window_s", None)   # the whole day
        w.pop("rate_scale", None)  # at the published rate
    s["policies"] = {
        "whole-gpu": dict(s["policies"]["kserve"]),
        "fast-gshare": POLICIES["fast-gshare"],
        "has-gpu": POLICIES["has-gpu"],
        "gpulet": POLICIES["gpulet"],
    }
    return s


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=os.path.join(ROOT, "scenarios/scale"))
    p.add_argument("--only", help="write only this file name")
    a = p.parse_args()
    all_policies = ["whole-gpu", "fast-gshare", "has-gpu", "gpulet"]
    files = {
        "azure-population-2000.json": lambda: population("azure-population-2000", 2000, 125, 20000, 3600,
                                                         all_policies),
        # At 10,000 functions on 2,000 GPUs most functions never get a GPU and are refused on
        # every control tick: counted, not logged (docs/scenarios.md, output.refusals).
        "azure-population-10000.json": lambda: population("azure-population-10000", 10000, 500, 5000, 86400,
                                                          all_policies, count_refusals=True),
        "azure-functions-2019-day.json": azure_day,
    }
    os.makedirs(a.out, exist_ok=True)
    for name, make in files.items():
        if a.only and a.only != name:
            continue
        path = os.path.join(a.out, name)
        with open(path + ".tmp", "w") as f:
            json.dump(make(), f, indent=1)
            f.write("\n")
        os.replace(path + ".tmp", path)
        print("%s (%.1f MB)" % (os.path.relpath(path), os.path.getsize(path) / 1e6))


if __name__ == "__main__":
    main()
