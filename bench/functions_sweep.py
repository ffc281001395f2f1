#!/usr/bin/python3
"""How the cost of a request grows with the number of functions, at the same load per GPU.

Each point is the Azure-like population of tools/scenarios/make_scale.py (each function its
own model, ResNet-50 and MobileNet-V3 V100 profiles, Zipf popularity) with N functions on
N/4 V100s at 10 rps per function: the 2,000-function scale scenario's ratios. Every point
replays about the same number of requests (--requests), so the runs differ in the number of
models, instances and GPUs they touch, not in their length. For each run it reports the
requests, the engine's events, user CPU time, requests per CPU second, events per request
and peak RSS.

If events per request stay flat while the time per request grows with N, the extra time is
not more simulation work but the same work on state that no longer fits in the caches.

Usage: bench/functions_sweep.py [-b BINARY] [-n N,N,...] [-p POLICY,...] [-r REPEATS]
                                [--requests R]
Speed is measured, never asserted (bench/README.md).
"""
import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_make_scale():
    spec = importlib.util.spec_from_file_location("make_scale", os.path.join(ROOT, "tools/scenarios/make_scale.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def scenario(make_scale, functions, requests, policies):
    rps = 10.0 * functions
    s = make_scale.population("functions-%d" % functions, functions, max(1, functions // 16), rps,
                              requests / rps, policies)
    for m in s["models"].values():  # the file is written elsewhere: profile paths made absolute
        m["profile"] = os.path.normpath(os.path.join(ROOT, "scenarios/scale", m["profile"]))
    return s


def run(binary, path, policy):
    """One run: (requests, events, user CPU s, peak RSS MB)."""
    proc = subprocess.Popen([binary, "run", path, "--policy", policy, "--force", "--no-output"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit("%s failed (exit %d):\n%s" % (path, proc.returncode, err))
    m = re.search(r"(\d+) requests, (\d+) events in", err)
    if m is None:
        sys.exit("no 'requests, events' line in the output of %s:\n%s" % (path, err))
    return int(m.group(1)), int(m.group(2)), usage.ru_utime, usage.ru_maxrss / 1024.0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-b", "--binary", default=os.path.join(ROOT, "build/release/gpuslice"))
    p.add_argument("-n", "--functions", default="16,64,256,1024,2048")
    p.add_argument("-p", "--policies", default="has-gpu,fast-gshare")
    p.add_argument("-r", "--repeats", type=int, default=1, help="runs per point; the least CPU time is kept")
    p.add_argument("--requests", type=float, default=3e6, help="requests per run (about)")
    a = p.parse_args()
    make_scale = load_make_scale()
    policies = a.policies.split(",")
    print("functions\tgpus\tpolicy\trequests\tevents\tuser_s\trequests_per_cpu_s\tevents_per_request\t"
          "us_per_request\tpeak_rss_mb")
    with tempfile.TemporaryDirectory() as tmp:
        for n in [int(x) for x in a.functions.split(",")]:
            path = os.path.join(tmp, "functions-%d.json" % n)
            s = scenario(make_scale, n, a.requests, policies)
            with open(path, "w") as f:
                json.dump(s, f)
            gpus = s["cluster"]["nodes"][0]["count"] * s["cluster"]["nodes"][0]["gpus_per_node"]
            for policy in policies:
                best = min((run(a.binary, path, policy) for _ in range(a.repeats)), key=lambda r: r[2])
                requests, events, user_s, rss = best
                print("%d\t%d\t%s\t%d\t%d\t%.2f\t%.3f M\t%.2f\t%.2f\t%.0f" %
                      (n, gpus, policy, requests, events, user_s, requests / user_s / 1e6, events / requests,
                       1e6 * user_s / requests, rss), flush=True)


if __name__ == "__main__":
    main()
