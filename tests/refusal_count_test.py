#!/usr/bin/python3
"""output.refusals "count" against "log" on a starved cluster (2,000 functions on 500 GPUs,
the scale scenario's first 20 s), and "log" without output (where nothing is recorded): the
same simulation, so the same summaries; the count of
each model's refusals is the number of refused actions the log holds for it; the action
log is the full one less its refusals (and, under whole-gpu, less each scale-up whose
first pod found no free GPU: the "scale" action logged just before that refusal).

Usage: refusal_count_test.py GPUSLICE_BINARY SOURCE_DIR
"""
import collections
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(sys.argv[2], "tools", "python"))
import gpuslice  # noqa: E402


def run(binary, scenario, policy, mode, tmp, output=True):
    out = os.path.join(tmp, "%s-%s.h5" % (policy, mode))
    summary = os.path.join(tmp, "%s-%s%s.json" % (policy, mode, "" if output else "-no-output"))
    subprocess.run([binary, "run", scenario, "--policy", policy, "--set", "duration_s=20",
                    "--set", "output.refusals=" + mode, "--quiet", "--summary-json", summary] +
                   (["-o", out] if output else ["--no-output"]),
                   check=True, stdout=subprocess.DEVNULL)
    actions = gpuslice.load(out).actions if output else None
    return json.load(open(summary))["runs"][0], actions


def rows(actions):
    return [tuple(r) for r in actions[["model", "t_s", "kind", "gpu", "instance", "quota", "sm_count",
                                       "detail"]].itertuples(index=False)]


def main():
    binary, source = sys.argv[1], sys.argv[2]
    scenario = os.path.join(source, "scenarios", "scale", "azure-population-2000.json")
    with tempfile.TemporaryDirectory() as tmp:
        for policy in ["whole-gpu", "has-gpu", "fast-gshare", "gpulet"]:
            logged, log_actions = run(binary, scenario, policy, "log", tmp)
            counted, count_actions = run(binary, scenario, policy, "count", tmp)
            # Without output nothing is recorded, so the policies skip the tries they know
            # would be refused, as in the "count" mode; the summary is the log mode's.
            unrecorded, _ = run(binary, scenario, policy, "log", tmp, output=False)
            assert "refusals_counted" not in logged, policy
            assert unrecorded == logged, policy
            # The same simulation: every summary but the refusal count.
            for key in ["overall", "models", "simulated_s", "checks"]:
                assert logged[key] == counted[key], (policy, key)
            refused = log_actions[log_actions.kind == "refused"]
            total = counted["refusals_counted"]["total"]
            assert total == len(refused), (policy, total, len(refused))
            by_model = collections.Counter(refused[refused.model != ""].model)
            assert counted["refusals_counted"]["by_model"] == dict(by_model), policy
            if policy == "has-gpu":
                assert total > 1000, total  # 2,000 models on 500 GPUs: the test must see refusals
            expected = []
            full = rows(log_actions)
            for i, row in enumerate(full):
                if row[2] == "refused":
                    continue
                following = full[i + 1] if i + 1 < len(full) else None
                if (policy == "whole-gpu" and row[2] == "scale" and following is not None and
                        following[2] == "refused" and following[:2] == row[:2] and
                        following[7] == "scale up: no free GPU"):
                    continue
                expected.append(row)
            assert rows(count_actions) == expected, policy
            print("%s: %d refusals counted, %d actions kept of %d" % (policy, total, len(expected), len(full)))
        # A bad value names the file and the JSON path (exit 2).
        quickstart = os.path.join(source, "scenarios", "quickstart.json")
        p = subprocess.run([binary, "validate", quickstart, "--set", "output.refusals=some"],
                           capture_output=True, text=True)
        assert p.returncode == 2 and "quickstart.json" in p.stderr and "/output/refusals" in p.stderr, p.stderr


if __name__ == "__main__":
    main()
